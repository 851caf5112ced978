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

int cmd_diff(int argc, char **argv)
{
	static struct diff_side a, b;
	struct diff_opts o = { .alpha = 0.05 };
	struct oneshot os = { .runs = DEFAULT_RUNS };
	const char *files[2] = { NULL, NULL }, *json = NULL, *csv = NULL, *plot = NULL;
	unsigned nfiles = 0;
	bool runs_set = false;
	double cpu_hz = 2.4e9;    /* xenalyze's default, as vmxlab summary's */
	char err[4096], why[2048];
	uint64_t x;

	for (int i = 1; i < argc; i++) {
		const char *s = argv[i];
		bool more = i + 1 < argc;
		if (!strcmp(s, "--alpha") && more) {
			if (!parse_double(argv[++i], &o.alpha) || o.alpha <= 0 || o.alpha >= 1)
				return cli_usage_error("diff", "--alpha takes a level between 0 and 1, e.g. 0.05");
		} else if (!strcmp(s, "--fail-over") && more) {
			char buf[64];
			snprintf(buf, sizeof(buf), "%s", argv[++i]);
			size_t len = strlen(buf);
			if (len && buf[len - 1] == '%')
				buf[len - 1] = '\0'; /* "5%" as well as "5" */
			if (!parse_double(buf, &o.fail_over) || o.fail_over < 0)
				return cli_usage_error("diff", "--fail-over takes a percentage >= 0, e.g. 5");
			o.fail_over_set = true;
		} else if (!strcmp(s, "--json") && more) {
			json = argv[++i];
		} else if (!strcmp(s, "--csv") && more) {
			csv = argv[++i];
		} else if (!strcmp(s, "--cpu-hz") && more) {
			if (!parse_double(argv[++i], &cpu_hz) || !(cpu_hz >= 1e6 && cpu_hz <= 1e11))
				return cli_usage_error("diff", "--cpu-hz takes the traces' TSC rate in Hz, e.g. 2.4e9");
		} else if (!strcmp(s, "--plot") && more) {
			plot = argv[++i];
		} else if (!strcmp(s, "--force")) {
			o.force = true;
		} else if (!strcmp(s, "--trace") && more) {
			os.trace = argv[++i];
		} else if (!strcmp(s, "--old") && more) {
			os.old_so = argv[++i];
		} else if (!strcmp(s, "--new") && more) {
			os.new_so = argv[++i];
		} else if (!strcmp(s, "--scenario") && more) {
			os.scenario = argv[++i];
		} else if (!strcmp(s, "--runs") && more) {
			if (!parse_u64(argv[++i], &x) || x < 1 || x > 1000)
				return cli_usage_error("diff", "--runs takes 1..1000");
			os.runs = (unsigned)x;
			runs_set = true;
		} else if (s[0] == '-' || nfiles == 2) {
			return cli_usage_error("diff", "unknown option or extra argument");
		} else {
			files[nfiles++] = s;
		}
	}
	bool oneshot = os.trace || os.old_so || os.new_so;
	if (oneshot) {
		if (nfiles)
			return cli_usage_error("diff", "give two result files, or --trace with --old and --new, not both");
		if (!os.trace || !os.old_so || !os.new_so)
			return cli_usage_error("diff", "the one-shot mode needs --trace, --old and --new");
	} else {
		if (nfiles != 2)
			return cli_usage_error("diff", "needs two result files (OLD.json NEW.json) or --trace T --old A.so --new B.so");
		if (runs_set || os.scenario)
			return cli_usage_error("diff", "--runs and --scenario belong to the one-shot mode (--trace --old --new)");
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
