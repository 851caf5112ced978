/*
 * vmxlab diff OLD.json NEW.json [--alpha A] [--fail-over PCT] [--force]
 * vmxlab diff --trace T --old A.so --new B.so [--runs N] [--scenario S]
 *             [--alpha A] [--fail-over PCT]
 * both: [--json FILE] [--csv FILE]  ("-": standard output, instead of the table)
 *       [--plot FILE.svg]  per-reason changes with intervals (analysis/diff_svg.c)
 * vmxlab diff A.xentrace B.xentrace [--cpu-hz HZ] [the options above]
 *       the handling times recorded in two captured traces (VMENTRY - VMEXIT)
 *
 * Compares the handler cost of two handler builds (analysis/diff.c): from
 * two result files of `vmxlab replay --json` (or `vmxlab run --json`), or in
 * one go - both builds replayed side by side, round by round
 * (replay/rounds.c), and compared round by round.  Exit status: 0, 1
 * when --fail-over trips, 2 for usage and input errors (different traces
 * without --force, a malformed file).  docs/diff.md.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmxlab/replay.h>

#include "../analysis/diff.h"
#include "../replay/rounds.h"
#include "cli.h"

#define DEFAULT_RUNS 10

static bool parse_double(const char *s, double *out)
{
	char *end;
	errno = 0;
	*out = strtod(s, &end);
	return s[0] && !*end && !errno && isfinite(*out);
}

/* A result file of replay or run (JSON), or a captured xentrace file. */
static int load_input(const char *path, double cpu_hz, struct diff_side *s, char *err, size_t errlen)
{
	if (diff_is_json(path))
		return diff_load(path, s, err, errlen);
	return diff_load_trace(path, cpu_hz, s, err, errlen);
}

enum {
	OPT_ALPHA = CLI_LONG, OPT_FAIL_OVER, OPT_JSON, OPT_CSV, OPT_CPU_HZ, OPT_PLOT, OPT_FORCE, OPT_TRACE, OPT_OLD,
	OPT_NEW, OPT_SCENARIO, OPT_RUNS, OPT_QUIET
};

static const struct cli_opt diff_opts[] = {
	{ "trace", OPT_TRACE, "T", "one-shot: replay trace T through both builds, side by side in rounds" },
	{ "old", OPT_OLD, "A.so", "one-shot: the old handler build" },
	{ "new", OPT_NEW, "B.so", "one-shot: the new handler build" },
	{ "runs", OPT_RUNS, "N", "one-shot: N rounds, 1..1000 (default 10)" },
	{ "scenario", OPT_SCENARIO, "S.yaml", "one-shot: the devices and their options from a scenario" },
	{ "alpha", OPT_ALPHA, "A", "the significance level of the tests, between 0 and 1 (default 0.05)" },
	{ "fail-over", OPT_FAIL_OVER, "PCT",
	  "exit 1 when a significant regression is larger than PCT percent (\"5\" or \"5%\"); replay "
	  "results or traces only" },
	{ "force", OPT_FORCE, NULL, "compare result files of different traces anyway" },
	{ "cpu-hz", OPT_CPU_HZ, "HZ", "two traces: their TSC rate in Hz, e.g. 2.4e9 (the default)" },
	{ "json", OPT_JSON, "FILE", "write the comparison as JSON; '-': to standard output, and no table on it" },
	{ "csv", OPT_CSV, "FILE", "write the comparison as CSV; '-': to standard output, and no table on it" },
	{ "plot", OPT_PLOT, "FILE.svg", "draw each reason's change with its interval (SVG)" },
	{ "quiet", OPT_QUIET, NULL, "accepted for scripts: diff prints nothing but its table and verdict" },
	{ NULL, 0, NULL, NULL },
};

const struct cli_cmd cli_cmd_diff = {
	.name = "diff",
	.args = "OLD.json NEW.json [OPTION]...\n"
		"A.xentrace B.xentrace [OPTION]...\n"
		"--trace=T --old=A.so --new=B.so [OPTION]...",
	.summary = "compare two handler builds' handling times: medians, intervals, rank tests",
	.opts = diff_opts,
	.notes = "OLD.json and NEW.json are results of vmxlab replay --json (or vmxlab run --json); anything "
		 "that is not JSON is read as a xentrace file.\n"
		 "exit status: 0; 1 --fail-over tripped (the verdict goes to standard error when standard output "
		 "carries JSON or CSV); 2 a usage or input error (results of different traces without --force, a "
		 "malformed file).",
};

int cmd_diff(int argc, char **argv)
{
	static struct diff_side a, b;
	struct diff_opts o = { .alpha = 0.05 };
	struct oneshot os = { .runs = DEFAULT_RUNS };
	const char *json = NULL, *csv = NULL, *plot = NULL;
	bool runs_set = false;
	double cpu_hz = 2.4e9;    /* xenalyze's default, as vmxlab summary's */
	char err[4096], why[2048];
	uint64_t x;
	struct cli_args args;
	int k;

	cli_args_init(&args, &cli_cmd_diff, argc, argv);
	while ((k = cli_next(&args)) > 0) {
		const char *v = args.value;
		switch (k) {
		case OPT_ALPHA:
			if (!parse_double(v, &o.alpha) || o.alpha <= 0 || o.alpha >= 1)
				return cli_bad_value(&args, "a level between 0 and 1, e.g. 0.05");
			break;
		case OPT_FAIL_OVER: {
			char buf[64];
			snprintf(buf, sizeof(buf), "%s", v);
			size_t len = strlen(buf);
			if (len && buf[len - 1] == '%')
				buf[len - 1] = '\0'; /* "5%" as well as "5" */
			if (!parse_double(buf, &o.fail_over) || o.fail_over < 0)
				return cli_bad_value(&args, "a percentage >= 0, e.g. 5");
			o.fail_over_set = true;
			break;
		}
		case OPT_JSON:
			json = v;
			break;
		case OPT_CSV:
			csv = v;
			break;
		case OPT_CPU_HZ:
			if (!parse_double(v, &cpu_hz) || !(cpu_hz >= 1e6 && cpu_hz <= 1e11))
				return cli_bad_value(&args, "a TSC rate in Hz (1e6..1e11), e.g. 2.4e9");
			break;
		case OPT_PLOT:
			plot = v;
			break;
		case OPT_FORCE:
			o.force = true;
			break;
		case OPT_TRACE:
			os.trace = v;
			break;
		case OPT_OLD:
			os.old_so = v;
			break;
		case OPT_NEW:
			os.new_so = v;
			break;
		case OPT_SCENARIO:
			os.scenario = v;
			break;
		case OPT_RUNS:
			if (!cli_value_u64(&args, 1, 1000, &x))
				return EXIT_USAGE;
			os.runs = (unsigned)x;
			runs_set = true;
			break;
		case OPT_QUIET:
			break;
		}
	}
	if (k < 0)
		return args.rc;
	unsigned nfiles = args.npos;
	char *const *files = args.pos;
	bool oneshot = os.trace || os.old_so || os.new_so;
	if (oneshot) {
		if (nfiles)
			return cli_usage_error(&cli_cmd_diff, "give two result files ('%s' ...), or --trace with --old and "
							      "--new, not both", files[0]);
		if (!os.trace || !os.old_so || !os.new_so)
			return cli_usage_error(&cli_cmd_diff, "the one-shot mode needs --trace, --old and --new");
	} else {
		if (nfiles > 2)
			return cli_usage_error(&cli_cmd_diff, "unexpected argument '%s'", files[2]);
		if (nfiles != 2)
			return cli_usage_error(&cli_cmd_diff, "needs two result files (OLD.json NEW.json) or --trace T "
							      "--old A.so --new B.so");
		if (runs_set || os.scenario)
			return cli_usage_error(&cli_cmd_diff, "--runs and --scenario belong to the one-shot mode (--trace "
							      "--old --new)");
	}

	uint64_t mism[2] = { 0, 0 };
	o.paired = oneshot;
	if (oneshot) {
		if (diff_oneshot(&os, &a, &b, mism, err, sizeof(err))) {
			fprintf(stderr, "vmxlab diff: %s\n", err);
			return EXIT_USAGE;
		}
	} else {
		if (load_input(files[0], cpu_hz, &a, err, sizeof(err))) {
			fprintf(stderr, "vmxlab diff: %s\n", err);
			return EXIT_USAGE;
		}
		if (load_input(files[1], cpu_hz, &b, err, sizeof(err))) {
			fprintf(stderr, "vmxlab diff: %s\n", err);
			diff_side_free(&a);
			return EXIT_USAGE;
		}
	}
	int rc = EXIT_OK;
	bool differ = diff_same_input(&a, &b, why, sizeof(why)) != 0;
	if (differ && (!o.force || a.kind != b.kind)) {
		fprintf(stderr, "vmxlab diff: %s%s\n", why,
			a.kind != b.kind ? "" : "; --force compares them anyway");
		rc = EXIT_USAGE;
		goto out;
	}
	if (o.fail_over_set && a.kind == DIFF_RUN) {
		fprintf(stderr, "vmxlab diff: --fail-over needs replay results: run results carry no per-exit samples to "
				"test (vmxlab replay TRACE --repeat 10 --json FILE)\n");
		rc = EXIT_USAGE;
		goto out;
	}
	struct diff_result r;
	if (diff_compute(&a, &b, &o, &r)) {
		fprintf(stderr, "vmxlab diff: out of memory\n");
		rc = EXIT_USAGE;
		goto out;
	}
	if (differ)
		diff_note(&r, "--force: %s", why);
	if (oneshot) {
		diff_note(&r, "one-shot: %u rounds; in each, both builds replay the trace in their own processes on one CPU, "
			      "taking turns every %d exits (old first in rounds 1, 3, ..., new first in 2, 4, ...), after a "
			      "warm-up replay each",
			  os.runs, DIFF_ONESHOT_CHUNK);
		if (strcmp(a.digest, b.digest))
			diff_note(&r, "the builds decide differently on this trace (digests %s and %s)", a.digest, b.digest);
		if (mism[1] && !mism[0])
			diff_note(&r, "the new build's handler records differ from the recorded run's (%" PRIu64 " over all replays)",
				  mism[1]);
	} else if (a.kind == DIFF_REPLAY && a.digest[0] && b.digest[0] && strcmp(a.digest, b.digest)) {
		diff_note(&r, "the builds decide differently on this trace (digests %s and %s)", a.digest, b.digest);
	}
	bool to_stdout = (json && !strcmp(json, "-")) || (csv && !strcmp(csv, "-"));
	if (json && csv && !strcmp(json, "-") && !strcmp(csv, "-")) {
		fprintf(stderr, "vmxlab diff: --json - and --csv - both want standard output\n");
		rc = EXIT_USAGE;
	}
	for (int k = 0; k < 2 && rc == EXIT_OK; k++) {
		const char *path = k ? csv : json;
		if (!path)
			continue;
		FILE *f = strcmp(path, "-") ? fopen(path, "w") : stdout;
		if (!f) {
			fprintf(stderr, "vmxlab diff: cannot write %s: %s\n", path, strerror(errno));
			rc = EXIT_USAGE;
			break;
		}
		if (k)
			diff_write_csv(f, &r);
		else
			diff_write_json(f, &a, &b, &r, &o);
		if (f != stdout && fclose(f)) {
			fprintf(stderr, "vmxlab diff: cannot write %s: %s\n", path, strerror(errno));
			rc = EXIT_USAGE;
		}
	}
	if (plot && rc == EXIT_OK) {
		FILE *f = fopen(plot, "w");
		if (!f || diff_write_svg(f, &a, &b, &r) || fclose(f)) {
			fprintf(stderr, "vmxlab diff: cannot write %s: %s\n", plot, strerror(errno));
			rc = EXIT_USAGE;
		}
	}
	if (!to_stdout && rc == EXIT_OK)
		diff_print(stdout, &a, &b, &r);
	if (o.fail_over_set && rc == EXIT_OK) {
		/* The verdict goes to stderr when stdout carries JSON or CSV. */
		FILE *v = to_stdout ? stderr : stdout;
		if (diff_fail_over(v, &r, &o))
			rc = EXIT_CHECK_FAILED;
		else
			fprintf(v, "fail-over: no significant regression above +%g%%\n", o.fail_over);
	}
	diff_result_free(&r);
out:
	diff_side_free(&a);
	diff_side_free(&b);
	return rc;
}
