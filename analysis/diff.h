/*
 * diff.h - `vmxlab diff`: the handling times of two handler builds compared
 * per exit reason and sub-key: medians with confidence intervals, and tests
 * of the median, the mean, p95, p99, the upper tail and the whole
 * distribution, Holm-corrected (analysis/diff.c and diff_dist.c,
 * statistics in analysis/stats.c; the sides in diff_side.c, read by
 * diff_load.c and diff_xentrace.c; the output in diff_report.c and
 * diff_svg.c).
 * The inputs are result files of `vmxlab replay --json` or `vmxlab run
 * --json`, or replays made in the same process (cli/cmd_diff.c, one-shot).
 * What the numbers mean and assume: docs/diff.md.
 */
#ifndef VMXLAB_ANALYSIS_DIFF_H
#define VMXLAB_ANALYSIS_DIFF_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <vmxlab/replay.h>

#include "stats.h"

#define DIFF_KEY_LEN 40
/* Fewer values than this per side: no 95% interval for a median, the line
 * does not count for --fail-over, and with exits as the unit it is not
 * tested. */
#define DIFF_MIN_SAMPLES 6

/* The exits of one reason, or of one of its sub-keys, on one side. */
struct diff_group {
	uint32_t reason;
	char key[DIFF_KEY_LEN];      /* "" for the reason's own line, else "port 0x0020 out" ... */
	uint64_t count;              /* exits per replay (in the run, for run results) */
	double *samples;             /* ns per exit, every replay pooled; sorted by diff_side_finish */
	size_t nsamples;
	double *runs;                /* one value per replay, in replay order; NAN: none */
	size_t nruns;
	/* Per replay, parallel to runs (nrun_stats entries; NULL when the
	 * exits of each replay cannot be told apart): the mean, and the
	 * Harrell-Davis p95 and p99 (NAN with too few exits in the replay). */
	double *run_mean, *run_p95, *run_p99;
	size_t nrun_stats;
	double p50, mean;            /* run results only: the run's native p50 and mean ns */
	double total;                /* run results only: native ns summed over the run's exits */
};

/* DIFF_TRACE: a captured xentrace file, its recorded handling times
 * (VMENTRY - VMEXIT per exit, as `vmxlab summary` counts them). */
enum diff_kind { DIFF_REPLAY, DIFF_RUN, DIFF_TRACE };

struct diff_side {
	char label[1024];            /* the file, or the handler build (one-shot) */
	enum diff_kind kind;
	char source[1024];           /* replay: the trace file; run: the scenario file */
	char handler[256];           /* replay: the handler build's name; run: the scenario's name */
	bool have_id;                /* the trace's identity is known */
	uint64_t trace_size, trace_hash;
	uint64_t exits;              /* per replay */
	unsigned repeat;             /* replays behind the samples */
	char digest[24];
	bool runs_are_avg;           /* per-replay values are averages (no repeat_median_ns in the file) */
	struct diff_group *g;
	size_t ng, capg;
};

/* Read a result file.  0, or -1 with err naming the file and what is wrong. */
int diff_load(const char *path, struct diff_side *s, char *err, size_t errlen);
/* Read a xentrace file's recorded exits: per reason and sub-key the
 * handling time of every exit, cycles converted at cpu_hz.  0, or -1 with
 * err naming the file and the offset. */
int diff_load_trace(const char *path, double cpu_hz, struct diff_side *s, char *err, size_t errlen);
/* Whether a file looks like JSON (its first non-blank byte is '{'), else
 * it is taken for a xentrace file. */
bool diff_is_json(const char *path);
/* One-shot: add the exits of one replay (repeat 1) to a side. */
int diff_side_add_replay(struct diff_side *s, const struct replay_result *r);
/* Append one replay's mean, p95 and p99 (v: its n values, sorted) to the
 * group's per-replay statistics; n = 0 appends NANs.  0, or -1 when out of
 * memory. */
int diff_group_add_run_stats(struct diff_group *g, const double *v, size_t n);
/* Sort the pooled samples (diff_load does it itself). */
void diff_side_finish(struct diff_side *s);
void diff_side_free(struct diff_side *s);

/* Whether both sides came from the same input: the same trace (its size and
 * the hash of its first MiB when both files carry them, else its path) and
 * the same exits per reason; for run results the same scenario.  0 when
 * they did, else 1 with why. */
int diff_same_input(const struct diff_side *a, const struct diff_side *b, char *why, size_t len);

/* FNV-1a (64 bits) of the first MiB of a file, and its size. */
int diff_trace_identity(const char *path, uint64_t *size, uint64_t *hash, char *err, size_t errlen);

struct diff_opts {
	double alpha;                /* significance level, default 0.05 */
	bool fail_over_set;
	double fail_over;            /* percent */
	unsigned boot;               /* bootstrap replicates (exits as the unit: the total and the quantile
				      * tests); 0: DIFF_BOOT */
	uint64_t seed;               /* 0: a fixed seed (the output is reproducible) */
	bool force;                  /* the inputs differ and the user knows */
	bool paired;                 /* one-shot: replay k of each side was made in round k, side by side;
				      * lines are tested on the per-round ratios (docs/diff.md) */
};

/* What the test is applied to. */
enum diff_unit {
	DIFF_UNIT_REPLAYS,           /* one value per replay: its median ns (benchstat's shape) */
	DIFF_UNIT_EXITS,             /* every exit's ns (only one replay per side) */
	DIFF_UNIT_NONE,              /* run results: no samples, no test */
};

/* What a line tests, in the order the output names them. */
enum diff_aspect {
	DIFF_A_MEDIAN,
	DIFF_A_MEAN,
	DIFF_A_P95,
	DIFF_A_P99,
	DIFF_A_TAIL,                 /* the slowest 5% (exits as the unit) */
	DIFF_A_DIST,                 /* the whole distribution (exits as the unit) */
	DIFF_NASPECTS
};
const char *diff_aspect_name(enum diff_aspect a);

/* Exits as the unit: the smallest number of exits a side for each test
 * (docs/diff.md, "Validated", says where these come from). */
#define DIFF_MIN_MEDIAN_N 20         /* Harrell-Davis median, bootstrap */
#define DIFF_MIN_TAIL_VALUES 10      /* p95 and p99: at least this many exits above them a side */
#define DIFF_MIN_TAIL_N 200          /* the tail scan: the top 5% of 2 x 200 exits holds 20 */
#define DIFF_BOOT 2000               /* bootstrap replicates (Wilcox et al. 2014 use 2000) */
#define DIFF_PERMS 2000              /* permutations of the tail scan and of Anderson-Darling */
#define DIFF_TAIL_FRAC 0.05

/* One test of a line. */
struct diff_test {
	bool tested;
	double old_v, new_v;         /* the estimate a side, ns (median, mean, p95, p99); tail: the share of
				      * the side's exits in the band; NAN for dist */
	double change;               /* new / old - 1 (paired: the Hodges-Lehmann estimate of the per-round
				      * ratio); tail: the share of exits that moved, |new_v - old_v|; dist:
				      * the Kolmogorov-Smirnov distance D */
	double lo, hi;               /* 95% interval of the change; NAN: none */
	double p;                    /* two-sided p of the test */
	double p_holm;               /* Holm-adjusted over the line's tests */
	double p_fw;                 /* Holm-adjusted over every test of every line */
	bool exact;                  /* p exact or by permutation, not asymptotic or bootstrap */
	bool significant;            /* p_holm < alpha */
	double q_lo, q_hi;           /* tail: the band of pooled quantile levels that moved most */
};

struct diff_row {
	uint32_t reason;
	char key[DIFF_KEY_LEN];
	bool in_old, in_new;
	uint64_t count_old, count_new;
	size_t n_old, n_new;         /* values in the unit */
	double old_med, new_med;     /* NAN: none */
	struct stats_ci old_ci, new_ci;
	struct diff_test t[DIFF_NASPECTS];
	int shown;                   /* the aspect the change column shows (diff_row_verdict says which);
				      * -1: none flagged */
	double change;               /* that aspect's change (none flagged: the median's); NAN: not computable */
	bool tested;                 /* any test */
	double p;                    /* the smallest Holm-adjusted p of the line's tests */
	bool exact;                  /* of the shown (else the median's) test */
	bool significant;            /* any test with p_holm < alpha */
	bool significant_fw;         /* any test with p_fw < alpha */
	bool enough;                 /* n >= DIFF_MIN_SAMPLES on both sides */
	double old_mean, new_mean;   /* run results */
};

struct diff_total {
	bool valid;
	double old_ns, new_ns;       /* handling time of the trace: the sum over every exit of its ns, as
				      * sum over reasons of exits x mean (replays unit: the median of the
				      * per-replay sums) */
	double old_lo, old_hi, new_lo, new_hi; /* each side's 95% interval; NAN: none */
	bool side_ci_ok;             /* false: too few replays for 95% (the range) */
	double change, lo, hi;       /* new / old - 1 and its 95% interval */
	bool moses;                  /* replays unit: the interval is Moses' (stats_shift_ci) on the logs of the
				      * per-replay totals; else a bootstrap of boot resamples */
	bool walsh;                  /* paired: the signed-rank test's interval (stats_walsh_ci) on the logs of the
				      * per-round ratios of the totals */
	bool ci_ok;                  /* false: too few replays for 95%; [lo, hi] is the range, ci_level its level */
	double ci_level;
	bool has_p;
	double p;                    /* replays unit: Mann-Whitney U on the per-replay totals (paired: signed-rank
				      * on the per-round ratios); exits unit: the bootstrap's */
	bool exact;
	bool significant, enough;
	size_t n_old, n_new;
	unsigned boot;
};

struct diff_result {
	enum diff_unit unit;
	bool paired;                 /* replays unit, tested round by round */
	struct diff_row *rows;
	size_t nrows;
	struct diff_total total;
	char **notes;                /* warnings and remarks, printed under the table */
	size_t nnotes;
	double alpha;
	size_t ntests;               /* tests over every line (the family of p_fw) */
};

/* 0, or -1 when out of memory. */
int diff_compute(const struct diff_side *old, const struct diff_side *new_, const struct diff_opts *o,
		 struct diff_result *r);
void diff_result_free(struct diff_result *r);
/* Add a remark to the result (printf-style). */
void diff_note(struct diff_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void diff_print(FILE *out, const struct diff_side *old, const struct diff_side *new_, const struct diff_result *r);
/* The same as JSON (one object: old, new, unit, lines, total, notes) and as
 * CSV (a header, one row per line, then the total). */
void diff_write_json(FILE *out, const struct diff_side *old, const struct diff_side *new_, const struct diff_result *r,
		     const struct diff_opts *o);
void diff_write_csv(FILE *out, const struct diff_result *r);
/* --plot: per reason the change of the median with its interval, and the
 * total, as an SVG picture (analysis/diff_svg.c).  0, or -1 on a write
 * error. */
int diff_write_svg(FILE *out, const struct diff_side *old, const struct diff_side *new_, const struct diff_result *r);
/* --fail-over: 1 (with the lines that fail printed to out) when the total,
 * or a flagged aspect (median, mean, p95, p99) of a reason with enough
 * values, is slower by more than o->fail_over percent, else 0. */
int diff_fail_over(FILE *out, const struct diff_result *r, const struct diff_opts *o);

#endif
