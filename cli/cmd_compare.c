/*
 * vmxlab compare A.yaml B.yaml: two scenarios run side by side, B in a child
 * process (two independent machines in virtual time: the figures are those
 * of two runs one after the other, in the longer run's wall time); exits and
 * predicted time side by side, and the figures of the VGA and network
 * workloads where both have them; each scenario's expectations checked, as
 * vmxlab run checks them.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../analysis/progress.h"
#include "cli.h"

/* The vga workload's line in a run's console: "vga: frames=N cycles=C fps=F"
 * from the freestanding guest (guests/vga.c), "vga: frames=N ns=T fps=F" from
 * Linux's (guests/linux/drawfb.c). */
static bool vga_figures(const struct run_summary *s, uint64_t *frames, uint64_t *cycles, double *fps)
{
	for (const char *p = s->console; p && (p = strstr(p, "vga: frames=")); p++) {
		unsigned long long f, c;
		char unit[8];
		if (sscanf(p, "vga: frames=%llu %7[a-z]=%llu fps=%lf", &f, unit, &c, fps) == 4 &&
		    (!strcmp(unit, "cycles") || !strcmp(unit, "ns"))) {
			*frames = f;
			*cycles = c;
			return true;
		}
	}
	return false;
}

/* With the vga workload on both sides: the per-frame view of the seed's
 * X11 figure (exits per frame, their handling time, frames per virtual
 * second, as the guest measured them: RDTSC, or Linux's CLOCK_MONOTONIC). */
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

/* A scenario's failed expectations, each line named by the scenario's
 * file: two scenarios' lines would otherwise read alike. */
static unsigned expectations(FILE *out, const struct scenario *sc, const struct run_summary *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);

	if (!mem)
		return report_expectations(out, &sc->expect, s);
	unsigned failed = report_expectations(mem, &sc->expect, s);
	fclose(mem);
	for (char *p = buf, *eol; p && *p; p = eol ? eol + 1 : NULL) {
		eol = strchr(p, '\n');
		fprintf(out, "%s: %.*s\n", sc->path, eol ? (int)(eol - p) : (int)strlen(p), p);
	}
	free(buf);
	return failed;
}

enum { OPT_QUIET = CLI_LONG };

static const struct cli_opt compare_opts[] = {
	{ "quiet", OPT_QUIET, NULL, "accepted for scripts: compare never echoes the guests' consoles" },
	{ NULL, 0, NULL, NULL },
};

const struct cli_cmd cli_cmd_compare = {
	.name = "compare",
	.args = "A.yaml B.yaml [OPTION]...",
	.summary = "run two scenarios; exits, handling time and predicted time side by side",
	.opts = compare_opts,
	.notes = "exit status: 0 both runs ended normally and every expectation of both scenarios held; 1 an "
		 "expectation failed (named on standard output, after the table) or a run ended badly; 2 a usage "
		 "or scenario error.",
};

static int write_all(int fd, const void *p, size_t n)
{
	for (const char *c = p; n;) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static int read_all(int fd, void *p, size_t n)
{
	for (char *c = p; n;) {
		ssize_t r = read(fd, c, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Run sc in a child that sends back its status and summary (the summary
 * holds no pointer but the console, sent after it).  The child dies with
 * its parent.  Returns the child's pid and the pipe's read end, or -1. */
static pid_t run_in_child(struct scenario *sc, int *rfd)
{
	int p[2];
	pid_t parent = getpid();

	if (pipe(p))
		return -1;
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		static struct run_summary s;
		close(p[0]);
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
			_exit(1);
		progress_enable(false);   /* one progress line: the parent's */
		int rc = scenario_run(sc, false, &s);
		char *console = s.console;
		uint64_t clen = console ? strlen(console) : 0;
		s.console = NULL;
		if (write_all(p[1], &rc, sizeof(rc)) || write_all(p[1], &s, sizeof(s)) ||
		    write_all(p[1], &clen, sizeof(clen)) || write_all(p[1], console ? console : "", clen))
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	*rfd = p[0];
	return pid;
}

/* The child's status and summary; -1 when it ended without sending them. */
static int child_result(pid_t pid, int fd, int *rc, struct run_summary *s)
{
	uint64_t clen = 0;
	int ok = read_all(fd, rc, sizeof(*rc)) == 0 && read_all(fd, s, sizeof(*s)) == 0 &&
		 read_all(fd, &clen, sizeof(clen)) == 0 && clen < (1ull << 32);
	s->console = NULL;
	if (ok) {
		s->console = malloc(clen + 1);
		ok = s->console && read_all(fd, s->console, clen) == 0;
		if (s->console)
			s->console[ok ? clen : 0] = '\0';
	}
	close(fd);
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return ok ? 0 : -1;
}

int cmd_compare(int argc, char **argv)
{
	static struct scenario a, b;
	static struct run_summary sa, sb;
	char err[1024];
	struct cli_args args;
	int k;

	cli_args_init(&args, &cli_cmd_compare, argc, argv);
	while ((k = cli_next(&args)) > 0)
		; /* --quiet: nothing to turn off */
	if (k < 0)
		return args.rc;
	if (cli_want_args(&args, 2, 2, "needs two scenario files"))
		return EXIT_USAGE;
	if (scenario_load(args.pos[0], &a, err, sizeof(err)) || scenario_load(args.pos[1], &b, err, sizeof(err))) {
		fprintf(stderr, "vmxlab compare: %s\n", err);
		return EXIT_USAGE;
	}
	int fd = -1, rb;
	pid_t pid = run_in_child(&b, &fd);
	if (pid < 0) {
		fprintf(stderr, "vmxlab compare: cannot start the run of %s: %s\n", args.pos[1], strerror(errno));
		return EXIT_CHECK_FAILED;
	}
	int ra = scenario_run(&a, false, &sa);
	if (child_result(pid, fd, &rb, &sb)) {
		fprintf(stderr, "vmxlab compare: the run of %s ended without a result (its process died)\n",
			args.pos[1]);
		run_summary_free(&sa);
		run_summary_free(&sb);
		return EXIT_CHECK_FAILED;
	}
	if (ra == EXIT_USAGE || rb == EXIT_USAGE) {
		run_summary_free(&sa);
		run_summary_free(&sb);
		return EXIT_USAGE;
	}
	report_compare(stdout, &sa, &sb);
	vga_compare(stdout, &sa, &sb);
	net_compare(stdout, &sa, &sb);
	unsigned failed = expectations(stdout, &a, &sa);
	failed += expectations(stdout, &b, &sb);
	run_summary_free(&sa);
	run_summary_free(&sb);
	return failed || ra || rb ? EXIT_CHECK_FAILED : EXIT_OK;
}
