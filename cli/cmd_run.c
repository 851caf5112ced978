/*
 * vmxlab run SCENARIO [--record TRACE] [--json FILE] [--hv LIB.so] [--quiet]
 * vmxlab compare A.yaml B.yaml
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "report.h"

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

static void resolve_workload(struct scenario *sc)
{
	char name[128];

	if (!sc->workload[0])
		return;
	snprintf(name, sizeof(name), "guests/%s.elf", sc->workload);
	cli_exe_path(sc->mc.image, sizeof(sc->mc.image), name);
}

/* Run one scenario to its end; fills the summary.  2 on input errors,
 * 1 when the run failed, else 0. */
static int run_one(struct scenario *sc, bool echo, struct run_summary *sum)
{
	char err[1024];
	struct console_tee tee = { .echo = echo };
	cookie_io_functions_t io = { .write = tee_write };

	resolve_workload(sc);
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
	const char *path = NULL, *record = NULL, *json = NULL, *hv = NULL;
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
	unsigned failed = expect_check(stdout, &sc.expect, &sum);
	run_summary_free(&sum);
	return failed || rc ? EXIT_CHECK_FAILED : EXIT_OK;
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
	run_summary_free(&sa);
	run_summary_free(&sb);
	return ra || rb ? EXIT_CHECK_FAILED : EXIT_OK;
}
