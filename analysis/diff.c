/*
 * `vmxlab diff` (diff.h): the comparison.  Given two sides - result files
 * (diff_load.c), xentrace files (diff_xentrace.c) or replays made in this
 * process (diff_side.c) - pair their exit reasons and sub-keys, and compare
 * the handler cost of each pair:
 *
 *   - the unit: one value per replay - that replay's median (mean, p95,
 *     p99) ns for the line - when both sides have at least two replays
 *     (benchstat's shape: the replay is the unit of repetition, so the
 *     drift of the machine between replays is part of the noise the tests
 *     see); else every exit's ns, which assumes the exits are independent
 *     draws;
 *   - per side the median of those values with a distribution-free 95%
 *     interval (Hollander & Wolfe 1999, sect. 3.6; stats.c);
 *   - the tests of each line - median, mean, p95, p99, and with exits as
 *     the unit the upper tail and the whole distribution - Holm-corrected
 *     over the line, and the aspect that moved (diff_dist.c);
 *   - the total: the handling time of every exit summed, each side's own
 *     exits.  With replays as the unit it is computed per replay; its
 *     change gets the Mann-Whitney p of the per-replay totals and the
 *     interval that goes with that test (Moses 1965) on their logarithms, so
 *     that interval and p never contradict each other; each side's total
 *     the order-statistic interval of its per-replay totals' median.  With
 *     exits as the unit: a percentile bootstrap (Efron & Tibshirani, "An
 *     Introduction to the Bootstrap", 1993, ch. 13) of each reason's exits,
 *     for each side's sum and for their ratio;
 *   - paired (the one-shot mode: replay k of both builds was made in
 *     round k, side by side): each line and the total are tested on the
 *     per-round ratios new / old - the Wilcoxon signed-rank test on their
 *     logarithms, the change their Hodges-Lehmann estimate, the total's
 *     interval the one that goes with that test (Walsh averages) - so that
 *     a change of the machine's speed that lasts longer than a round falls
 *     on both sides of each ratio and cancels.
 *
 * Also the remarks printed under the table, and the --fail-over verdict.
 * The output: diff_report.c, diff_svg.c.
 */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "diff_priv.h"

void diff_note(struct diff_result *r, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	char **n = realloc(r->notes, (r->nnotes + 1) * sizeof(*n));
	if (!n)
		return;
	r->notes = n;
	if ((n[r->nnotes] = strdup(buf)))
		r->nnotes++;
}

void diff_result_free(struct diff_result *r)
{
	for (size_t i = 0; i < r->nnotes; i++)
		free(r->notes[i]);
	free(r->notes);
	free(r->rows);
	memset(r, 0, sizeof(*r));
}

/* The values of a group in the unit, sorted (malloc'd; NANs dropped). */
static double *unit_values(const struct diff_group *g, enum diff_unit unit, size_t *n)
{
	const double *src = unit == DIFF_UNIT_REPLAYS ? g->runs : g->samples;
	size_t ns = unit == DIFF_UNIT_REPLAYS ? g->nruns : g->nsamples;
	double *v = malloc((ns ? ns : 1) * sizeof(double));
	*n = 0;
	if (!v)
		return NULL;
	for (size_t i = 0; i < ns; i++)
		if (!isnan(src[i]))
			v[(*n)++] = src[i];
	stats_sort(v, *n);
	return v;
}

static int cmp_row(const void *a, const void *b)
{
	const struct diff_row *x = a, *y = b;
	if (x->reason != y->reason)
		return x->reason < y->reason ? -1 : 1;
	if (!x->key[0] || !y->key[0])
		return !x->key[0] ? (y->key[0] ? -1 : 0) : 1;
	return strcmp(x->key, y->key);
}

static bool has_runs(const struct diff_side *s)
{
	if (s->repeat < 2)
		return false;
	for (size_t i = 0; i < s->ng; i++)
		if (!s->g[i].key[0] && !s->g[i].runs)
			return false;
	return true;
}

/* log(new / old) of each round where both sides have a value; n rounds. */
static double *round_log_ratios(const double *x, size_t nx, const double *y, size_t ny, size_t *n)
{
	size_t m = nx < ny ? nx : ny;
	double *d = malloc((m ? m : 1) * sizeof(double));
	*n = 0;
	if (!d)
		return NULL;
	for (size_t k = 0; k < m; k++)
		if (x[k] > 0 && y[k] > 0)
			d[(*n)++] = log(y[k] / x[k]);
	return d;
}

/* Rounds where both sides have a value. */
static size_t paired_rounds(const struct diff_group *x, const struct diff_group *y)
{
	size_t n = 0;
	for (size_t k = 0; k < x->nruns && k < y->nruns; k++)
		n += x->runs[k] > 0 && y->runs[k] > 0;
	return n;
}

static void compare_row(struct diff_row *row, const struct diff_group *x, const struct diff_group *y,
			enum diff_unit unit, bool paired, const struct diff_opts *o, double alpha)
{
	row->old_med = row->new_med = row->change = NAN;
	row->old_mean = row->new_mean = NAN;
	diff_tests_reset(row);
	if (unit == DIFF_UNIT_NONE) {
		if (x) {
			row->old_med = x->p50;
			row->old_mean = x->mean;
		}
		if (y) {
			row->new_med = y->p50;
			row->new_mean = y->mean;
		}
		if (x && y && x->p50 > 0)
			row->change = y->p50 / x->p50 - 1;
		return;
	}
	double *vx = NULL, *vy = NULL;
	if (x && (vx = unit_values(x, unit, &row->n_old))) {
		row->old_med = stats_median(vx, row->n_old);
		stats_median_ci(vx, row->n_old, 0.95, &row->old_ci);
	}
	if (y && (vy = unit_values(y, unit, &row->n_new))) {
		row->new_med = stats_median(vy, row->n_new);
		stats_median_ci(vy, row->n_new, 0.95, &row->new_ci);
	}
	if (row->n_old && row->n_new) {
		if (row->old_med > 0)
			row->change = row->new_med / row->old_med - 1;
		if (unit == DIFF_UNIT_EXITS)
			diff_test_exits(row, x, y, o);
		else
			diff_test_replays(row, x, y, paired);
		diff_row_verdict(row, alpha);
		if (paired)
			row->enough = paired_rounds(x, y) >= DIFF_MIN_SAMPLES;
		else
			row->enough = row->n_old >= DIFF_MIN_SAMPLES && row->n_new >= DIFF_MIN_SAMPLES;
	}
	free(vx);
	free(vy);
}

/* A 95% percentile interval for ratio - 1 from replicates. */
static void boot_interval(double *rep, size_t n, double *lo, double *hi)
{
	stats_sort(rep, n);
	*lo = stats_quantile(rep, n, 0.025);
	*hi = stats_quantile(rep, n, 0.975);
}

/* Paired: the per-round ratios of the totals, their Hodges-Lehmann
 * estimate, the signed-rank test and its interval (Walsh averages). */
static void total_rounds(const double *ra, size_t na, const double *rb, size_t nb, struct diff_result *r)
{
	struct diff_total *t = &r->total;
	size_t n;
	double *d = round_log_ratios(ra, na, rb, nb, &n);
	struct stats_wsr w;
	struct stats_ci ci;
	double hl;

	t->walsh = true;
	t->lo = t->hi = NAN;
	if (!d || !n) {
		free(d);
		return;
	}
	if (!stats_walsh_ci(d, n, 0.95, &hl, &ci)) {
		t->change = exp(hl) - 1;
		t->lo = exp(ci.lo) - 1;
		t->hi = exp(ci.hi) - 1;
		t->ci_ok = ci.ok;
		t->ci_level = ci.level;
	}
	if (!stats_signed_rank(d, n, &w)) {
		t->has_p = true;
		t->p = w.p;
		t->exact = w.exact;
		t->significant = w.p < r->alpha;
	}
	t->n_old = t->n_new = n;
	t->enough = n >= DIFF_MIN_SAMPLES;
	free(d);
}

static void total_replays(const struct diff_side *a, const struct diff_side *b, struct diff_result *r)
{
	struct diff_total *t = &r->total;
	double *ta = calloc(a->repeat + 1, sizeof(double)), *tb = calloc(b->repeat + 1, sizeof(double));
	/* The same, in replay order, NAN where left out: the paired rounds. */
	double *ra = calloc(a->repeat + 1, sizeof(double)), *rb = calloc(b->repeat + 1, sizeof(double));
	size_t na = 0, nb = 0;

	if (!ta || !tb || !ra || !rb)
		goto out;
	/* Per replay: the handling time of all its exits, the sum over the
	 * side's reasons of exits x that replay's mean; a replay that lacks a
	 * reason's mean is left out. */
	for (int side = 0; side < 2; side++) {
		const struct diff_side *s = side ? b : a;
		double *tot = side ? tb : ta;
		size_t *nt = side ? &nb : &na;
		for (unsigned k = 0; k < s->repeat; k++) {
			double sum = 0;
			bool ok = true;
			for (size_t i = 0; i < s->ng && ok; i++) {
				const struct diff_group *g = &s->g[i];
				if (g->key[0])
					continue;
				if (!g->run_mean || k >= g->nrun_stats || isnan(g->run_mean[k]))
					ok = false;
				else
					sum += (double)g->count * g->run_mean[k];
			}
			if (ok)
				tot[(*nt)++] = sum;
			(side ? rb : ra)[k] = ok ? sum : NAN;
		}
	}
	if (!na || !nb)
		goto out;
	stats_sort(ta, na);
	stats_sort(tb, nb);
	t->valid = true;
	t->n_old = na;
	t->n_new = nb;
	t->old_ns = stats_median(ta, na);
	t->new_ns = stats_median(tb, nb);
	struct stats_ci ca, cb;
	stats_median_ci(ta, na, 0.95, &ca);
	stats_median_ci(tb, nb, 0.95, &cb);
	t->old_lo = ca.lo;
	t->old_hi = ca.hi;
	t->new_lo = cb.lo;
	t->new_hi = cb.hi;
	t->side_ci_ok = ca.ok && cb.ok;
	t->change = t->old_ns > 0 ? t->new_ns / t->old_ns - 1 : NAN;
	t->enough = na >= DIFF_MIN_SAMPLES && nb >= DIFF_MIN_SAMPLES;
	if (r->paired) {
		total_rounds(ra, a->repeat, rb, b->repeat, r);
		goto out;
	}
	/* The ratio new / old as a shift of the logarithms (Moses 1965). */
	t->moses = true;
	t->lo = t->hi = NAN;
	if (ta[0] > 0 && tb[0] > 0) {
		double *la = malloc(na * sizeof(double)), *lb = malloc(nb * sizeof(double));
		struct stats_ci ci;
		if (la && lb) {
			for (size_t i = 0; i < na; i++)
				la[i] = log(ta[i]);
			for (size_t i = 0; i < nb; i++)
				lb[i] = log(tb[i]);
			if (!stats_shift_ci(la, na, lb, nb, 0.95, &ci)) {
				t->lo = exp(ci.lo) - 1;
				t->hi = exp(ci.hi) - 1;
				t->ci_ok = ci.ok;
				t->ci_level = ci.level;
			}
		}
		free(la);
		free(lb);
	}
	struct stats_mwu m;
	if (!stats_mann_whitney(ta, na, tb, nb, &m)) {
		t->has_p = true;
		t->p = m.p;
		t->exact = m.exact;
		t->significant = m.p < r->alpha;
	}
out:
	free(ta);
	free(tb);
	free(ra);
	free(rb);
}

/* The sum of a side's exits: its reasons' exits x their mean ns. */
static double side_sum(const struct diff_side *s)
{
	double sum = 0;
	for (size_t i = 0; i < s->ng; i++) {
		const struct diff_group *g = &s->g[i];
		if (g->key[0] || !g->nsamples)
			continue;
		double m = 0;
		for (size_t j = 0; j < g->nsamples; j++)
			m += g->samples[j];
		sum += (double)g->count * m / (double)g->nsamples;
	}
	return sum;
}

/* One bootstrap replicate of side_sum: each reason's exits drawn anew,
 * as many as it has, with replacement. */
static double side_sum_boot(const struct diff_side *s, struct stats_rng *rng)
{
	double sum = 0;
	for (size_t i = 0; i < s->ng; i++) {
		const struct diff_group *g = &s->g[i];
		if (g->key[0] || !g->nsamples)
			continue;
		double m = 0;
		for (size_t j = 0; j < g->nsamples; j++) {
			size_t at = (size_t)(stats_rng_uniform(rng) * (double)g->nsamples);
			m += g->samples[at < g->nsamples ? at : g->nsamples - 1];
		}
		sum += (double)g->count * m / (double)g->nsamples;
	}
	return sum;
}

static void total_exits(const struct diff_side *a, const struct diff_side *b, const struct diff_opts *o,
			struct diff_result *r)
{
	struct diff_total *t = &r->total;
	unsigned boot = o->boot ? o->boot : DIFF_BOOT;
	double *ro = malloc(boot * sizeof(double)), *rn = malloc(boot * sizeof(double));
	double *rep = malloc(boot * sizeof(double));
	struct stats_rng rng;

	if (!ro || !rn || !rep)
		goto out;
	t->old_ns = side_sum(a);
	t->new_ns = side_sum(b);
	if (!(t->old_ns > 0) || !(t->new_ns >= 0))
		goto out;
	stats_rng_seed(&rng, o->seed ? o->seed : DIFF_DEFAULT_SEED);
	size_t nrep = 0;
	double below = 0, sum = 0, sum2 = 0;
	for (unsigned k = 0; k < boot; k++) {
		double so = side_sum_boot(a, &rng), sn = side_sum_boot(b, &rng);
		if (!(so > 0))
			continue;
		ro[nrep] = so;
		rn[nrep] = sn;
		rep[nrep] = sn / so - 1;
		below += rep[nrep] < 0 ? 1 : rep[nrep] == 0 ? 0.5 : 0;
		sum += rep[nrep];
		sum2 += rep[nrep] * rep[nrep];
		nrep++;
	}
	t->valid = true;
	t->change = t->new_ns / t->old_ns - 1;
	t->boot = (unsigned)nrep;
	t->ci_ok = t->side_ci_ok = nrep > 0;
	t->ci_level = 0.95;
	t->lo = t->hi = t->old_lo = t->old_hi = t->new_lo = t->new_hi = NAN;
	t->enough = true;
	for (size_t i = 0; i < a->ng; i++)
		t->n_old += a->g[i].key[0] ? 0 : a->g[i].nsamples;
	for (size_t i = 0; i < b->ng; i++)
		t->n_new += b->g[i].key[0] ? 0 : b->g[i].nsamples;
	if (!nrep)
		goto out;
	boot_interval(rep, nrep, &t->lo, &t->hi);
	boot_interval(ro, nrep, &t->old_lo, &t->old_hi);
	boot_interval(rn, nrep, &t->new_lo, &t->new_hi);
	/* The percentile bootstrap's two-sided p, as for the quantiles
	 * (stats_quantile_compare): it is below 0.05 exactly when the 95%
	 * interval leaves out 0. */
	double ps = below / (double)nrep;
	t->p = 2 * fmin(ps, 1 - ps);
	if (t->p == 0) {
		double mean = sum / (double)nrep, var = sum2 / (double)nrep - mean * mean;
		t->p = var > 0 ? fmin(1.0 / (double)nrep, erfc(fabs(mean) / sqrt(var) / sqrt(2.0))) : mean != 0 ? 0 : 1;
	}
	t->has_p = true;
	t->significant = t->p < r->alpha;
out:
	free(ro);
	free(rn);
	free(rep);
}

static void total_run(const struct diff_side *a, const struct diff_side *b, struct diff_result *r)
{
	struct diff_total *t = &r->total;
	for (size_t i = 0; i < a->ng; i++)
		t->old_ns += a->g[i].total;
	for (size_t i = 0; i < b->ng; i++)
		t->new_ns += b->g[i].total;
	t->valid = true;
	t->change = t->old_ns > 0 ? t->new_ns / t->old_ns - 1 : NAN;
	t->lo = t->hi = t->old_lo = t->old_hi = t->new_lo = t->new_hi = NAN;
}

int diff_compute(const struct diff_side *a, const struct diff_side *b, const struct diff_opts *o,
		 struct diff_result *r)
{
	memset(r, 0, sizeof(*r));
	r->alpha = o->alpha > 0 ? o->alpha : 0.05;
	if (a->kind == DIFF_RUN || b->kind == DIFF_RUN)
		r->unit = DIFF_UNIT_NONE;
	else if (has_runs(a) && has_runs(b))
		r->unit = DIFF_UNIT_REPLAYS;
	else
		r->unit = DIFF_UNIT_EXITS;
	r->paired = o->paired && r->unit == DIFF_UNIT_REPLAYS;
	r->rows = calloc(a->ng + b->ng + 1, sizeof(*r->rows));
	if (!r->rows)
		return -1;
	for (int side = 0; side < 2; side++) {
		const struct diff_side *s = side ? b : a;
		for (size_t i = 0; i < s->ng; i++) {
			const struct diff_group *g = &s->g[i];
			const struct diff_group *x = side ? diff_group_find(a, g->reason, g->key) : g;
			const struct diff_group *y = side ? g : diff_group_find(b, g->reason, g->key);
			if (side && x)
				continue; /* paired already */
			struct diff_row *row = &r->rows[r->nrows++];
			row->reason = g->reason;
			snprintf(row->key, sizeof(row->key), "%s", g->key);
			row->in_old = x != NULL;
			row->in_new = y != NULL;
			row->count_old = x ? x->count : 0;
			row->count_new = y ? y->count : 0;
			compare_row(row, x, y, r->unit, r->paired, o, r->alpha);
		}
	}
	qsort(r->rows, r->nrows, sizeof(*r->rows), cmp_row);
	diff_familywise(r);
	r->total.old_lo = r->total.old_hi = r->total.new_lo = r->total.new_hi = NAN;
	if (r->unit == DIFF_UNIT_REPLAYS)
		total_replays(a, b, r);
	else if (r->unit == DIFF_UNIT_EXITS)
		total_exits(a, b, o, r);
	else
		total_run(a, b, r);

	/* Remarks. */
	if (a->kind == DIFF_TRACE)
		diff_note(r, "captured traces: every recorded exit is a sample, so whatever differs between the two "
			     "captures - the machine, its load, the workload's timing - counts as a difference; TSC "
			     "cycles converted at the --cpu-hz rate");
	else if (r->unit == DIFF_UNIT_EXITS)
		diff_note(r, "one replay on a side: the test treats every exit as an independent sample, so a change of "
			     "the machine between the two replays counts as a difference; replay with --repeat 6 or more, "
			     "or use the one-shot mode (--trace --old --new)");
	if (r->unit == DIFF_UNIT_REPLAYS && !r->paired && a->kind == DIFF_REPLAY)
		diff_note(r, "result files keep each replay's median and mean, not its exits: p95 and p99 are tested in the "
			     "one-shot mode (--trace --old --new), the tail and the distribution with exits as the unit");
	if (r->unit == DIFF_UNIT_REPLAYS && (a->runs_are_avg || b->runs_are_avg))
		diff_note(r, "%s has no per-replay medians (repeat_median_ns): its per-replay averages are used",
			  a->runs_are_avg ? a->label : b->label);
	if (r->unit == DIFF_UNIT_NONE)
		diff_note(r, "run results (vmxlab run --json) carry no per-exit samples: the run's native p50 and mean "
			     "are compared as they are, without intervals or a test; replay the run's trace for those");
	/* Lines with too few values, grouped by their sizes. */
	size_t few_sub = 0;
	bool *done = calloc(r->nrows + 1, sizeof(bool));
	for (size_t i = 0; done && i < r->nrows; i++) {
		const struct diff_row *w = &r->rows[i];
		if (!w->in_old || !w->in_new) {
			if (!w->key[0])
				diff_note(r, "%s: only in the %s result", diff_reason_name(w->reason), w->in_old ? "old" : "new");
			continue;
		}
		if (r->unit == DIFF_UNIT_NONE || w->enough || done[i])
			continue;
		if (w->key[0]) {
			few_sub++;
			continue;
		}
		char names[400] = "";
		size_t used = 0;
		for (size_t k = i; k < r->nrows; k++) {
			const struct diff_row *v = &r->rows[k];
			if (v->key[0] || done[k] || !v->in_old || !v->in_new || v->enough || v->n_old != w->n_old ||
			    v->n_new != w->n_new)
				continue;
			done[k] = true;
			int m = snprintf(names + used, sizeof(names) - used, "%s%s", used ? ", " : "", diff_reason_name(v->reason));
			if (m > 0 && used + (size_t)m < sizeof(names))
				used += (size_t)m;
		}
		const char *unit = r->unit == DIFF_UNIT_REPLAYS ? "replays" : "samples";
		/* The smallest p the line's tests can give, Holm-adjusted. */
		size_t ntests = 0;
		for (int a = 0; a < DIFF_NASPECTS; a++)
			ntests += w->t[a].tested;
		double min_p = r->paired ? ldexp(2, -(int)w->n_old) : stats_mwu_min_p(w->n_old, w->n_new);
		diff_note(r, "%s: %zu+%zu %s, fewer than %d a side: the intervals in ( ) are [min, max] (confidence "
			     "%.1f%% / %.1f%%, not 95%%)%s; not counted for --fail-over",
			  names, w->n_old, w->n_new, unit, DIFF_MIN_SAMPLES, 100 * w->old_ci.level, 100 * w->new_ci.level,
			  r->unit == DIFF_UNIT_EXITS ? "; not tested"
			  : min_p * (double)(ntests ? ntests : 1) >= r->alpha ? "; no p-value below alpha is possible"
									 : "");
	}
	free(done);
	if (few_sub)
		diff_note(r, "%zu sub-key line%s with fewer than %d values a side (intervals in ( ) are [min, max]%s)", few_sub,
			  few_sub == 1 ? "" : "s", DIFF_MIN_SAMPLES, r->unit == DIFF_UNIT_EXITS ? "; not tested" : "");
	size_t flagged = 0, flagged_fw = 0;
	for (size_t i = 0; i < r->nrows; i++) {
		flagged += r->rows[i].significant;
		flagged_fw += r->rows[i].significant_fw;
	}
	if (flagged)
		diff_note(r, "each line is tested at alpha %g on its own (Holm over its tests); with Holm over all %zu tests of "
			     "all %zu lines, %zu of the %zu flagged lines stay flagged",
			  r->alpha, r->ntests, r->nrows, flagged_fw, flagged);
	return 0;
}

/* ------------------------------------------------------------ --fail-over */

int diff_fail_over(FILE *out, const struct diff_result *r, const struct diff_opts *o)
{
	int fail = 0;
	double lim = o->fail_over / 100;

	if (r->unit == DIFF_UNIT_NONE)
		return 0;
	for (size_t i = 0; i < r->nrows; i++) {
		const struct diff_row *w = &r->rows[i];
		if (w->key[0] || !w->enough || !w->significant)
			continue;
		/* Every flagged aspect whose test says which way it moved: the
		 * tail scan and the distribution test say that something moved,
		 * not that it got slower. */
		for (int a = 0; a < DIFF_A_TAIL; a++) {
			const struct diff_test *t = &w->t[a];
			if (!t->significant || isnan(t->change) || !(t->change > lim))
				continue;
			fprintf(out, "fail-over: %s %s %+.1f%% > +%g%% (p %.2g Holm-adjusted, n %zu+%zu)\n",
				diff_reason_name(w->reason), diff_aspect_name(a), 100 * t->change, o->fail_over, t->p_holm,
				w->n_old, w->n_new);
			fail = 1;
		}
	}
	const struct diff_total *t = &r->total;
	if (t->valid && t->enough && t->significant && t->change > lim) {
		fprintf(out, "fail-over: total %+.1f%% > +%g%% (95%% interval %+.1f%% .. %+.1f%%)\n", 100 * t->change,
			o->fail_over, 100 * t->lo, 100 * t->hi);
		fail = 1;
	}
	return fail;
}
