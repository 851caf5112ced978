/*
 * vmxlab run SCENARIO [--record TRACE] [--json FILE] [--hv LIB.so] [--quiet]
 * vmxlab compare A.yaml B.yaml
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static struct machine *running;

static void on_signal(int sig)
{
	(void)sig;
	if (running)
		machine_interrupt(running);
}

/* The guest's console: kept for expectations and result lines, and shown
 * live unless --quiet. */
struct console_tee {
	char *buf;
	size_t len;
	FILE *mem;
	bool echo;
};

static ssize_t tee_write(void *cookie, const char *data, size_t len)
{
	struct console_tee *t = cookie;

	fwrite(data, 1, len, t->mem);
	if (t->echo)
		fwrite(data, 1, len, stdout);
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

/* Run one scenario to its end; fills the summary.  2 on input errors,
 * 1 when the run failed, else 0. */
static int run_one(struct scenario *sc, bool echo, struct run_summary *sum)
{
	char err[1024];
	struct console_tee tee = { .echo = echo };
	cookie_io_functions_t io = { .write = tee_write };

	scenario_resolve_workload(sc);
	if (access(sc->mc.image, R_OK)) {
		fprintf(stderr, "vmxlab run: %s: guest image %s is missing (is the workload '%s' built? run make)\n",
			sc->path, sc->mc.image, sc->workload);
		return EXIT_USAGE;
	}
	tee.mem = open_memstream(&tee.buf, &tee.len);
	FILE *console = tee.mem ? fopencookie(&tee, "w", io) : NULL;
	if (!console) {
		fprintf(stderr, "vmxlab run: out of memory\n");
		return EXIT_USAGE;
	}
	setvbuf(console, NULL, _IONBF, 0);
	sc->mc.console = console;
	struct machine *m = machine_create(&sc->mc, err, sizeof(err));
	if (!m) {
		fprintf(stderr, "vmxlab run: %s: %s\n", sc->path, err);
		fclose(console);
		fclose(tee.mem);
		free(tee.buf);
		return EXIT_USAGE;
	}
	struct machine_result r;
	running = m;
	struct sigaction sa = { .sa_handler = on_signal }, old_int, old_term;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
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
	return rc ? EXIT_CHECK_FAILED : EXIT_OK;
}

int cmd_run(int argc, char **argv)
{
	const char *path = NULL, *record = NULL, *json = NULL, *hv = NULL, *screenshot = NULL;
	bool quiet = false;
	static struct scenario sc;
	static struct run_summary sum;
	char err[1024];

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--record") && i + 1 < argc)
			record = argv[++i];
		else if (!strcmp(argv[i], "--json") && i + 1 < argc)
			json = argv[++i];
		else if (!strcmp(argv[i], "--hv") && i + 1 < argc)
			hv = argv[++i];
		else if (!strcmp(argv[i], "--quiet"))
			quiet = true;
		else if (!strcmp(argv[i], "--screenshot") && i + 1 < argc)
			screenshot = argv[++i];
		else if (argv[i][0] == '-' || path)
			return cli_usage_error("run", "unknown option or extra argument");
		else
			path = argv[i];
	}
	if (!path)
		return cli_usage_error("run", "needs a scenario file");
	if (scenario_load(path, &sc, err, sizeof(err))) {
		fprintf(stderr, "vmxlab run: %s\n", err);
		return EXIT_USAGE;
	}
	if (record)
		snprintf(sc.mc.trace_path, sizeof(sc.mc.trace_path), "%s", record);
	if (hv)
		snprintf(sc.mc.hv_path, sizeof(sc.mc.hv_path), "%s", hv);
	if (screenshot) {
		if (sc.mc.nscreenshots == MACHINE_MAX_SCREENSHOTS || strlen(screenshot) >= sizeof(sc.mc.screenshots[0].path))
			return cli_usage_error("run", "too many screenshots or too long a path");
		sc.mc.screenshots[sc.mc.nscreenshots].at = VTIME_NEVER;
		snprintf(sc.mc.screenshots[sc.mc.nscreenshots].path, sizeof(sc.mc.screenshots[0].path), "%s", screenshot);
		sc.mc.nscreenshots++;
	}
	int rc = run_one(&sc, !quiet, &sum);
	if (rc == EXIT_USAGE)
		return rc;
	fflush(stdout);
	report_print(stdout, &sc, &sum);
	if (json && report_json(json, &sc, &sum, err, sizeof(err))) {
		fprintf(stderr, "vmxlab run: %s\n", err);
		run_summary_free(&sum);
		return EXIT_USAGE;
	}
	unsigned failed = report_expectations(stdout, &sc.expect, &sum);
	run_summary_free(&sum);
	return failed || rc ? EXIT_CHECK_FAILED : EXIT_OK;
}

/* The vga workload's line "vga: frames=N cycles=C fps=F" in a run's console. */
static bool vga_figures(const struct run_summary *s, uint64_t *frames, uint64_t *cycles, double *fps)
{
	for (const char *p = s->console; p && (p = strstr(p, "vga: frames=")); p++) {
		unsigned long long f, c;
		if (sscanf(p, "vga: frames=%llu cycles=%llu fps=%lf", &f, &c, fps) == 3) {
			*frames = f;
			*cycles = c;
			return true;
		}
	}
	return false;
}

/* With the vga workload on both sides: the per-frame view of the seed's
 * X11 figure (exits per frame, their handling time, frames per virtual
 * second, as the guest measured them with RDTSC). */
static void vga_compare(FILE *out, const struct run_summary *a, const struct run_summary *b)
{
	uint64_t fa, fb, ca, cb;
	double pa, pb;

	(void)ca;
	(void)cb;
	if (!vga_figures(a, &fa, &ca, &pa) || !vga_figures(b, &fb, &cb, &pb) || !fa || !fb)
		return;
	fprintf(out, "\nper frame (vga workload)   %14s %14s\n", a->name, b->name);
	fprintf(out, "%-26s %14" PRIu64 " %14" PRIu64 "\n", "frames", fa, fb);
	fprintf(out, "%-26s %14.1f %14.1f\n", "exits per frame (run)", (double)a->res.exits / (double)fa,
		(double)b->res.exits / (double)fb);
	fprintf(out, "%-26s %14.4f %14.4f\n", "exit handling ms per frame", (double)a->exits_modelled_ns / 1e6 / (double)fa,
		(double)b->exits_modelled_ns / 1e6 / (double)fb);
	fprintf(out, "%-26s %14.3f %14.3f\n", "frames per virtual second", pa, pb);
	if (pa > 0)
		fprintf(out, "frame rate of %s over %s: %.1fx (the seed's X11 figure: 51000x)\n", b->name, a->name, pb / pa);
}

/* The net workload's result line "result: workload=net ... get_bytes_per_s=G
 * put_bytes_per_s=P bytes_per_s=B" in a run's console. */
static bool net_figures(const struct run_summary *s, uint64_t rate[3])
{
	static const char *const keys[3] = { "get_bytes_per_s=", "put_bytes_per_s=", " bytes_per_s=" };
	const char *line = s->console ? strstr(s->console, "result: workload=net ") : NULL;

	if (!line)
		return false;
	const char *end = strchr(line, '\n');
	for (unsigned i = 0; i < 3; i++) {
		const char *p = strstr(line, keys[i]);
		unsigned long long v;
		if (!p || (end && p > end) || sscanf(p + strlen(keys[i]), "%llu", &v) != 1)
			return false;
		rate[i] = v;
	}
	return true;
}

/* With the net workload on both sides: the guest's throughput, the seed's
 * SCP figure. */
static void net_compare(FILE *out, const struct run_summary *a, const struct run_summary *b)
{
	static const char *const rows[3] = { "download bytes/s", "upload bytes/s", "transfer bytes/s" };
	uint64_t ra[3], rb[3];

	if (!net_figures(a, ra) || !net_figures(b, rb))
		return;
	fprintf(out, "\nthroughput (net workload)  %14s %14s\n", a->name, b->name);
	for (unsigned i = 0; i < 3; i++)
		fprintf(out, "%-26s %14" PRIu64 " %14" PRIu64 "\n", rows[i], ra[i], rb[i]);
	if (ra[2])
		fprintf(out, "throughput of %s over %s: %.2fx (the seed's SCP figure: 1040x)\n", b->name, a->name,
			(double)rb[2] / (double)ra[2]);
}

int cmd_compare(int argc, char **argv)
{
	static struct scenario a, b;
	static struct run_summary sa, sb;
	char err[1024];

	if (argc != 3)
		return cli_usage_error("compare", "needs two scenario files");
	if (scenario_load(argv[1], &a, err, sizeof(err)) || scenario_load(argv[2], &b, err, sizeof(err))) {
		fprintf(stderr, "vmxlab compare: %s\n", err);
		return EXIT_USAGE;
	}
	int ra = run_one(&a, false, &sa);
	if (ra == EXIT_USAGE)
		return ra;
	int rb = run_one(&b, false, &sb);
	if (rb == EXIT_USAGE) {
		run_summary_free(&sa);
		return rb;
	}
	report_compare(stdout, &sa, &sb);
	vga_compare(stdout, &sa, &sb);
	net_compare(stdout, &sa, &sb);
	run_summary_free(&sa);
	run_summary_free(&sb);
	return ra || rb ? EXIT_CHECK_FAILED : EXIT_OK;
}
