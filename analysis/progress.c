/*
 * progress.c - the progress line of progress.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"

static int enabled = -1;   /* -1: not decided, then isatty(stderr) */
static struct progress *drawn;   /* the one whose line is on the terminal */

void progress_enable(bool on)
{
	enabled = on && isatty(STDERR_FILENO);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void progress_begin(struct progress *p, const char *what)
{
	if (enabled < 0)
		enabled = isatty(STDERR_FILENO);
	p->what = what;
	p->on = enabled;
	p->shown = false;
	p->calls = 0;
	p->t0 = p->last = p->on ? mono_ns() : 0;
}

bool progress_due_slow(struct progress *p)
{
	uint64_t now = mono_ns();

	if (now - p->t0 < 1000000000u || now - p->last < 250000000u)
		return false;
	p->last = now;
	return true;
}

void progress_show(struct progress *p, uint64_t done, const char *unit, double frac, const char *fmt, ...)
{
	char text[160];
	va_list ap;

	if (!p->on)
		return;
	double secs = (double)(mono_ns() - p->t0) / 1e9;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	double rate = secs > 0 ? (double)done / secs : 0.0;
	fprintf(stderr, "\r%s: %s, %.*f %s/s", p->what, text, rate < 100 ? 2 : 0, rate, unit);
	if (frac > 0.01 && frac < 1)
		fprintf(stderr, ", %.0f%%, about %.0f s left", 100 * frac, secs * (1 - frac) / frac);
	fputs("\033[K", stderr);
	fflush(stderr);
	p->shown = true;
	drawn = p;
}

void progress_end(struct progress *p)
{
	if (p->shown) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
	p->shown = false;
	if (drawn == p)
		drawn = NULL;
}

void progress_clear(void)
{
	if (drawn)
		progress_end(drawn);
}
