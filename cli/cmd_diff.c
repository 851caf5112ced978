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
 * one go - both builds loaded into this process and replayed alternately
 * (A B A B ...) after one warm-up replay each, so that a drift of the
 * machine falls on both.  Exit status: 0, 1 when --fail-over trips, 2 for
 * usage and input errors (different traces without --force, a malformed
 * file).  docs/diff.md.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmxlab/replay.h>

#include "../analysis/diff.h"
#include "cli.h"
#include "scenario.h"

#define DEFAULT_RUNS 10

static bool parse_double(const char *s, double *out)
{
	char *end;
	errno = 0;
	*out = strtod(s, &end);
	return s[0] && !*end && !errno && isfinite(*out);
}

struct oneshot {
	const char *trace, *old_so, *new_so, *scenario;
	unsigned runs;
};

static int replay_into(const struct replay_config *cfg, struct diff_side *side, uint64_t *record_mismatches,
		       char *err, size_t errlen)
{
	static struct replay_result res;
	int rc = replay_run(cfg, &res, err, errlen);
	if (!rc && side) {
		char digest[24];
		snprintf(digest, sizeof(digest), "%016" PRIx64, res.digest);
		if (side->repeat && strcmp(digest, side->digest)) {
			snprintf(err, errlen, "replays of %s disagree (digest %s, then %s): the build does not repeat itself on %s",
				 side->label, side->digest, digest, cfg->trace_path);
			rc = -1;
		} else if (diff_side_add_replay(side, &res)) {
			snprintf(err, errlen, "out of memory");
			rc = -1;
		}
		if (res.exact)
			*record_mismatches += res.record_mismatches;
	}
	replay_result_free(&res);
	return rc;
}

static int oneshot_run(const struct oneshot *os, struct diff_side *a, struct diff_side *b, uint64_t mism[2], char *err,
		       size_t errlen)
{
	static struct replay_config cfg;
	static struct scenario sc;
	struct hv_build ba, bb;
	int rc = -1;

	memset(&cfg, 0, sizeof(cfg));
	cfg.domain = cfg.vcpu = -1;
	cfg.repeat = 1;
	cfg.trace_path = os->trace;
	if (os->scenario) {
		if (scenario_load(os->scenario, &sc, err, errlen))
			return -1;
		for (unsigned i = 0; i < sc.mc.ndevs; i++) {
			snprintf(cfg.devs[i].name, sizeof(cfg.devs[i].name), "%s", sc.mc.devs[i].name);
			snprintf(cfg.devs[i].options, sizeof(cfg.devs[i].options), "%s", sc.mc.devs[i].options);
		}
		cfg.ndevs = sc.mc.ndevs;
		cfg.hv_options = sc.mc.hv_options[0] ? sc.mc.hv_options : NULL;
	}
	if (hv_load(os->old_so, &ba, err, errlen))
		return -1;
	if (hv_load(os->new_so, &bb, err, errlen)) {
		hv_unload(&ba);
		return -1;
	}
	uint64_t size = 0, hash = 0;
	bool have_id = diff_trace_identity(os->trace, &size, &hash, err, errlen) == 0;
	struct diff_side *sides[2] = { a, b };
	const struct hv_build *builds[2] = { &ba, &bb };
	for (int i = 0; i < 2; i++) {
		struct diff_side *s = sides[i];
		memset(s, 0, sizeof(*s));
		s->kind = DIFF_REPLAY;
		snprintf(s->label, sizeof(s->label), "%s", i ? os->new_so : os->old_so);
		snprintf(s->source, sizeof(s->source), "%s", os->trace);
		snprintf(s->handler, sizeof(s->handler), "%s", builds[i]->hv->name);
		s->have_id = have_id;
		s->trace_size = size;
		s->trace_hash = hash;
	}
	/* One warm-up replay each (caches, page faults, lazy binding; its
	 * messages are shown), then the measured replays in the order
	 * A B, B A, A B, ... - alternating, and balanced so that a drift that
	 * is linear in time falls on both builds alike. */
	uint64_t ignored = 0;
	for (unsigned k = 0; k <= os->runs; k++) {
		cfg.quiet = k > 0;
		for (int j = 0; j < 2; j++) {
			int i = k == 0 || k % 2 ? j : 1 - j;
			cfg.hv = builds[i]->hv;
			if (replay_into(&cfg, k ? sides[i] : NULL, k ? &mism[i] : &ignored, err, errlen))
				goto out;
		}
	}
	diff_side_finish(a);
	diff_side_finish(b);
	rc = 0;
out:
	hv_unload(&bb);
	hv_unload(&ba);
	return rc;
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
			if (!cli_parse_u64(argv[++i], &x) || x < 1 || x > 1000)
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
	if (oneshot) {
		if (oneshot_run(&os, &a, &b, mism, err, sizeof(err))) {
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
		diff_note(&r, "one-shot: %u replays of each build in the order old new, new old, old new ..., after one "
			      "warm-up replay of each",
			  os.runs);
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
