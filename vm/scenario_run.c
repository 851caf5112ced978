/*
 * A scenario run from start to end (vm.h, scenario_run): the guest's
 * console kept for the expectations and the result lines (and shown live),
 * SIGINT and SIGTERM ending the run with its trace intact, the end-of-run
 * screenshots, and the summary the report is made of.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../analysis/progress.h"
#include "vm.h"

static struct machine *running;
static volatile sig_atomic_t early_signal;   /* before the machine existed */

static void on_signal(int sig)
{
	(void)sig;
	if (running)
		machine_interrupt(running);
	else
		early_signal = 1;
}

/* The guest's console: kept for expectations and result lines, and shown
 * live unless --quiet.  Lines end in '\n' only: a serial console's "\r\n"
 * (Linux's 8250 console writes one) and a lone '\r' each become one '\n',
 * so no line a script reads carries a carriage return. */
struct console_tee {
	char *buf;
	size_t len;
	FILE *mem;
	bool echo;
	bool after_cr;    /* the last byte was a '\r', already written as '\n' */
};

static void tee_put(struct console_tee *t, const char *data, size_t len)
{
	fwrite(data, 1, len, t->mem);
	if (t->echo && len) {
		progress_clear();
		fwrite(data, 1, len, stdout);
		fflush(stdout);
	}
}

static ssize_t tee_write(void *cookie, const char *data, size_t len)
{
	struct console_tee *t = cookie;
	size_t from = 0;

	for (size_t i = 0; i < len; i++) {
		if (data[i] != '\r' && !(data[i] == '\n' && t->after_cr)) {
			t->after_cr = false;
			continue;
		}
		tee_put(t, data + from, i - from);
		if (data[i] == '\r')
			tee_put(t, "\n", 1);
		t->after_cr = data[i] == '\r';
		from = i + 1;
	}
	tee_put(t, data + from, len - from);
	return (ssize_t)len;
}


/* The scenario's end-of-run screenshots (screenshots: entries without
 * `at`, and --screenshot).  0, or -1 after printing why one failed. */
static int vga_end_screenshots(const struct scenario *sc, struct machine *m)
{
	char err[1200];
	int rc = 0;

	for (unsigned i = 0; i < sc->mc.nscreenshots; i++)
		if (sc->mc.screenshots[i].at == VTIME_NEVER && machine_screenshot(m, sc->mc.screenshots[i].path, err, sizeof(err))) {
			fprintf(stderr, "vmxlab run: %s: %s\n", sc->path, err);
			rc = -1;
		}
	return rc;
}

int scenario_run(struct scenario *sc, bool echo, struct run_summary *sum)
{
	char err[1024];
	struct console_tee tee = { .echo = echo };
	cookie_io_functions_t io = { .write = tee_write };

	if (scenario_resolve_workload(sc, err, sizeof(err))) {
		fprintf(stderr, "vmxlab run: %s: %s\n", sc->path, err);
		return 2;
	}
	/* From here on a signal ends the run through the machine, which closes
	 * the trace: one that comes while the machine is built stops it at once. */
	struct sigaction sa = { .sa_handler = on_signal }, old_int, old_term;
	early_signal = 0;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	tee.mem = open_memstream(&tee.buf, &tee.len);
	FILE *console = tee.mem ? fopencookie(&tee, "w", io) : NULL;
	if (!console) {
		fprintf(stderr, "vmxlab run: out of memory\n");
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
		return 2;
	}
	setvbuf(console, NULL, _IONBF, 0);
	sc->mc.console = console;
	struct machine *m = machine_create(&sc->mc, err, sizeof(err));
	if (!m) {
		char where[sizeof(err) + 4200];
		scenario_locate_error(sc, err, where, sizeof(where));
		fprintf(stderr, "vmxlab run: %s\n", where);
		fclose(console);
		fclose(tee.mem);
		free(tee.buf);
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
		return 2;
	}
	struct machine_result r;
	running = m;
	if (early_signal)
		machine_interrupt(m);
	int rc = machine_run(m, &r);
	if (vga_end_screenshots(sc, m))
		rc = rc ? rc : -1;
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	running = NULL;
	fclose(console);
	fflush(tee.mem);
	run_summary_take(sum, sc, m, &r, tee.buf ? tee.buf : "", tee.len);
	fclose(tee.mem);
	free(tee.buf);
	machine_destroy(m);
	if (rc)
		fprintf(stderr, "vmxlab run: %s: %s\n", sc->path, r.message);
	if (r.trace_failed)
		fprintf(stderr, "vmxlab run: %s: the trace %s is not whole (above)\n", sc->path, sc->mc.trace_path);
	return rc || r.trace_failed ? 1 : 0;
}
