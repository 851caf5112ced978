/*
 * progress.h - one line of progress on stderr while a run, a replay, a diff
 * or a profile goes on for more than a second: what it has done, its rate
 * and, where the end is known, an ETA.  Only when stderr is a terminal
 * (and not --quiet): a script or a log file sees nothing of it.  The line
 * is redrawn in place at most four times a second and erased at the end.
 */
#ifndef VMXLAB_ANALYSIS_PROGRESS_H
#define VMXLAB_ANALYSIS_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

/* Off for --quiet; on by default when stderr is a terminal. */
void progress_enable(bool on);

struct progress {
	const char *what;        /* "replay", "run", ... */
	uint64_t t0, last;       /* CLOCK_MONOTONIC ns: begin, last drawn */
	uint32_t calls;
	bool on, shown;
};

void progress_begin(struct progress *p, const char *what);
/* Cheap enough for every exit: true about every 1,024 calls when a line is
 * due (a second after begin, a quarter second after the last). */
bool progress_due_slow(struct progress *p);
static inline bool progress_due(struct progress *p)
{
	return p->on && (++p->calls & 1023) == 0 && progress_due_slow(p);
}
/* Draw "WHAT: TEXT, N/s[, ETA]".  done: the count the rate is of (exits,
 * rounds); frac: the share done, 0..1, or negative when the end is unknown. */
void progress_show(struct progress *p, uint64_t done, const char *unit, double frac, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* Erase the line, if one was drawn. */
void progress_end(struct progress *p);
/* Erase the line being drawn, if any, before other output to the terminal
 * (a guest's console); the next progress_show draws it again. */
void progress_clear(void);

#endif
