/*
 * `vmxlab diff` (diff.h): the tests of one line - a reason or a sub-key -
 * and the verdict drawn from them.  A median alone hides a change in part
 * of a line's exits or in its tail, so each line is compared on several
 * aspects, each with its own test (docs/diff.md, "The tests of a line"):
 *
 *   exits as the unit (two captured traces, one replay a side): the
 *     Harrell-Davis median, p95 and p99 by the percentile bootstrap of
 *     Wilcox et al. (2014); the mean by Welch's test; the slowest 5% by a
 *     permutation scan of the pooled upper tail; the whole distribution by
 *     the two-sample Anderson-Darling test (Scholz & Stephens 1987);
 *   replays as the unit: each replay's median, mean, p95 and p99 as its
 *     values, compared by the test of the mode (Mann-Whitney U, or the
 *     Wilcoxon signed-rank test on the per-round log ratios when paired),
 *     so that the machine's drift between replays stays in the noise.
 *
 * A line is flagged when any of its tests is significant after Holm's
 * correction over the line's tests (Holm 1979); the family-wise view over
 * every test of every line is kept beside it (p_fw).  Statistics:
 * stats.c.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "diff_priv.h"

#define AD_PERMS 1000

static const char *const aspect_names[DIFF_NASPECTS] = { "median", "mean", "p95", "p99", "tail", "dist" };

const char *diff_aspect_name(enum diff_aspect a)
{
	return (unsigned)a < DIFF_NASPECTS ? aspect_names[a] : "?";
}

/* Each line draws its own random numbers from a seed of its own, so that
 * its result does not depend on which other lines the files hold. */
static uint64_t line_seed(uint64_t seed, uint32_t reason, const char *key)
{
	uint64_t h = 0xcbf29ce484222325ull ^ seed;
	for (int i = 0; i < 4; i++) {
		h ^= (reason >> (8 * i)) & 0xff;
		h *= 0x100000001b3ull;
	}
	for (; *key; key++) {
		h ^= (unsigned char)*key;
		h *= 0x100000001b3ull;
	}
	return h;
}

static void untested(struct diff_test *t)
{
	memset(t, 0, sizeof(*t));
	t->old_v = t->new_v = t->change = t->lo = t->hi = NAN;
	t->p = t->p_holm = t->p_fw = 1;
	t->q_lo = t->q_hi = NAN;
}

void diff_tests_reset(struct diff_row *row)
{
	for (int a = 0; a < DIFF_NASPECTS; a++)
		untested(&row->t[a]);
	row->shown = -1;
}

/* ------------------------------------------------------------ exits as the unit */

void diff_test_exits(struct diff_row *row, const struct diff_group *x, const struct diff_group *y,
		     const struct diff_opts *o)
{
	const double *vx = x->samples, *vy = y->samples;
	size_t nx = x->nsamples, ny = y->nsamples, n = nx < ny ? nx : ny;
	unsigned boot = o->boot ? o->boot : DIFF_BOOT;
	struct stats_rng rng;

	for (int a = 0; a < DIFF_NASPECTS; a++)
		untested(&row->t[a]);
	stats_rng_seed(&rng, line_seed(o->seed ? o->seed : DIFF_DEFAULT_SEED, row->reason, row->key));

	/* Quantiles: the median with at least DIFF_MIN_MEDIAN_N exits a side,
	 * p95 and p99 with DIFF_MIN_TAIL_VALUES exits above them. */
	static const double level[3] = { 0.5, 0.95, 0.99 };
	static const int aspect[3] = { DIFF_A_MEDIAN, DIFF_A_P95, DIFF_A_P99 };
	double qs[3];
	int which[3];
	size_t nq = 0;
	for (int j = 0; j < 3; j++) {
		bool enough = j == 0 ? n >= DIFF_MIN_MEDIAN_N : (double)n * (1 - level[j]) >= DIFF_MIN_TAIL_VALUES - 1e-9;
		if (enough) {
			qs[nq] = level[j];
			which[nq++] = aspect[j];
		}
	}
	struct stats_qcmp qc[3];
	if (nq && !stats_quantile_compare(vx, nx, vy, ny, qs, nq, boot, &rng, 0.95, qc))
		for (size_t j = 0; j < nq; j++) {
			struct diff_test *t = &row->t[which[j]];
			t->tested = true;
			t->old_v = qc[j].est_x;
			t->new_v = qc[j].est_y;
			t->change = qc[j].change;
			t->lo = qc[j].lo;
			t->hi = qc[j].hi;
			t->p = qc[j].p;
		}

	struct stats_welch w;
	if (n >= DIFF_MIN_SAMPLES && !stats_welch(vx, nx, vy, ny, 0.95, &w)) {
		struct diff_test *t = &row->t[DIFF_A_MEAN];
		t->tested = true;
		t->old_v = w.mean_x;
		t->new_v = w.mean_y;
		t->p = w.p;
		if (w.mean_x > 0) {
			t->change = w.mean_y / w.mean_x - 1;
			/* The interval of the difference, relative to the old mean
			 * (its own uncertainty left out): it leaves out 0 exactly
			 * when the test rejects at 0.05. */
			t->lo = w.lo / w.mean_x;
			t->hi = w.hi / w.mean_x;
		}
	}

	struct stats_tail tl;
	if (n >= DIFF_MIN_TAIL_N &&
	    !stats_tail_test(vx, nx, vy, ny, DIFF_TAIL_FRAC, DIFF_PERMS, STATS_PERM_STOP, &rng, &tl) && tl.tested) {
		struct diff_test *t = &row->t[DIFF_A_TAIL];
		t->tested = true;
		t->exact = true;
		t->p = tl.p;
		t->q_lo = tl.q_lo;
		t->q_hi = tl.q_hi;
		/* The size: the share of each side's exits in the band, and how
		 * many moved - the difference of the shares.  The scan says that
		 * the band holds more of one side's exits, not which way they came
		 * from, so the size has no sign (as the distribution's D has
		 * none).  A quantile in the band would be no safer: a few spikes
		 * near the top land there on one side and not the other. */
		t->old_v = (double)tl.band_x / (double)nx;
		t->new_v = (double)tl.band_y / (double)ny;
		t->change = fabs(t->new_v - t->old_v);
	}

	struct stats_ad ad;
	if (n >= DIFF_MIN_SAMPLES && !stats_ad2(vx, nx, vy, ny, AD_PERMS, STATS_PERM_STOP, &rng, &ad)) {
		struct diff_test *t = &row->t[DIFF_A_DIST];
		t->tested = true;
		t->p = ad.p;
		t->exact = ad.perm;
		t->change = ad.ks_d;
	}
}

/* ------------------------------------------------------------ replays as the unit */

static double *values_of(const struct diff_group *g, enum diff_aspect a, size_t *n)
{
	*n = 0;
	switch (a) {
	case DIFF_A_MEDIAN:
		*n = g->nruns;
		return g->runs;
	case DIFF_A_MEAN:
		*n = g->run_mean ? g->nrun_stats : 0;
		return g->run_mean;
	case DIFF_A_P95:
		*n = g->run_p95 ? g->nrun_stats : 0;
		return g->run_p95;
	case DIFF_A_P99:
		*n = g->run_p99 ? g->nrun_stats : 0;
		return g->run_p99;
	default:
		return NULL;
	}
}

/* The values of a side that exist, sorted (malloc'd). */
static double *present(const double *v, size_t n, size_t *m)
{
	double *o = malloc((n ? n : 1) * sizeof(double));
	*m = 0;
	if (!o)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!isnan(v[i]))
			o[(*m)++] = v[i];
	stats_sort(o, *m);
	return o;
}

/* Paired rounds: the Wilcoxon signed-rank test on d_k = log(new_k / old_k),
 * the change exp(Hodges-Lehmann) - 1 and the interval that goes with the
 * test (Walsh averages), exponentiated. */
static void test_rounds(struct diff_test *t, const double *x, size_t nx, const double *y, size_t ny)
{
	size_t m = nx < ny ? nx : ny, n = 0;
	double *d = malloc((m ? m : 1) * sizeof(double));
	struct stats_wsr w;
	struct stats_ci ci;
	double hl;

	if (!d)
		return;
	for (size_t k = 0; k < m; k++)
		if (x[k] > 0 && y[k] > 0)
			d[n++] = log(y[k] / x[k]);
	if (n && !stats_signed_rank(d, n, &w)) {
		t->tested = true;
		t->p = w.p;
		t->exact = w.exact;
		if (!stats_walsh_ci(d, n, 0.95, &hl, &ci)) {
			t->change = exp(hl) - 1;
			t->lo = exp(ci.lo) - 1;
			t->hi = exp(ci.hi) - 1;
		}
	}
	free(d);
}

/* Two sets of replays: the Mann-Whitney U test, the change of the medians
 * of the per-replay values, and Moses' interval for the shift of their
 * logarithms (the interval that goes with the test). */
static void test_replays(struct diff_test *t, const double *x, size_t nx, const double *y, size_t ny)
{
	size_t mx, my;
	double *a = present(x, nx, &mx), *b = present(y, ny, &my);
	struct stats_mwu u;

	if (a && b && mx && my && !stats_mann_whitney(a, mx, b, my, &u)) {
		t->tested = true;
		t->p = u.p;
		t->exact = u.exact;
		double ma = stats_median(a, mx), mb = stats_median(b, my);
		if (ma > 0)
			t->change = mb / ma - 1;
		if (a[0] > 0 && b[0] > 0) {
			for (size_t i = 0; i < mx; i++)
				a[i] = log(a[i]);
			for (size_t i = 0; i < my; i++)
				b[i] = log(b[i]);
			struct stats_ci ci;
			if (!stats_shift_ci(a, mx, b, my, 0.95, &ci)) {
				t->lo = exp(ci.lo) - 1;
				t->hi = exp(ci.hi) - 1;
			}
		}
	}
	free(a);
	free(b);
}

void diff_test_replays(struct diff_row *row, const struct diff_group *x, const struct diff_group *y, bool paired)
{
	for (int a = 0; a < DIFF_NASPECTS; a++)
		untested(&row->t[a]);
	for (int a = DIFF_A_MEDIAN; a <= DIFF_A_P99; a++) {
		size_t nx, ny, m;
		const double *vx = values_of(x, a, &nx), *vy = values_of(y, a, &ny);
		struct diff_test *t = &row->t[a];
		if (!vx || !vy)
			continue;
		double *s = present(vx, nx, &m);
		t->old_v = s ? stats_median(s, m) : NAN;
		free(s);
		s = present(vy, ny, &m);
		t->new_v = s ? stats_median(s, m) : NAN;
		free(s);
		if (isnan(t->old_v) || isnan(t->new_v))
			continue;
		if (paired)
			test_rounds(t, vx, nx, vy, ny);
		else
			test_replays(t, vx, nx, vy, ny);
	}
}

/* ------------------------------------------------------------ verdicts */


void diff_row_verdict(struct diff_row *row, double alpha)
{
	double p[DIFF_NASPECTS], adj[DIFF_NASPECTS];
	int idx[DIFF_NASPECTS];
	size_t m = 0;

	for (int a = 0; a < DIFF_NASPECTS; a++)
		if (row->t[a].tested) {
			idx[m] = a;
			p[m++] = row->t[a].p;
		}
	stats_holm(p, m, adj);
	row->tested = m > 0;
	row->p = 1;
	row->significant = false;
	for (size_t i = 0; i < m; i++) {
		struct diff_test *t = &row->t[idx[i]];
		t->p_holm = adj[i];
		t->significant = adj[i] < alpha;
		row->significant |= t->significant;
		if (adj[i] < row->p)
			row->p = adj[i];
	}
	/* The change column: among the flagged median, mean, p95 and p99 -
	 * relative changes, whose tests also say which way they went - the
	 * first, in that order, that moved by at least a quarter of the most
	 * any of them moved: the median when it tells a fair part of the
	 * story, else what moved more.  Else the tail, else the distribution:
	 * for those the share of exits that moved.  (A choice of what to
	 * print; the tests decide what is flagged.) */
	row->shown = -1;
	double most = 0;
	for (int a = 0; a < DIFF_A_TAIL; a++)
		if (row->t[a].significant && !isnan(row->t[a].change) && fabs(row->t[a].change) > most)
			most = fabs(row->t[a].change);
	for (int a = 0; a < DIFF_A_TAIL && row->shown < 0; a++) {
		const struct diff_test *t = &row->t[a];
		if (t->significant && !isnan(t->change) && fabs(t->change) >= most / 4)
			row->shown = a;
	}
	for (int a = DIFF_A_TAIL; a < DIFF_NASPECTS && row->shown < 0; a++)
		if (row->t[a].significant)
			row->shown = a;
	const struct diff_test *s = &row->t[row->shown >= 0 ? row->shown : DIFF_A_MEDIAN];
	if (row->shown >= 0 || row->t[DIFF_A_MEDIAN].tested)
		row->change = s->change;
	row->exact = s->tested && s->exact;
}

void diff_familywise(struct diff_result *r)
{
	size_t m = 0;
	for (size_t i = 0; i < r->nrows; i++)
		for (int a = 0; a < DIFF_NASPECTS; a++)
			m += r->rows[i].t[a].tested;
	r->ntests = m;
	double *p = malloc((m ? m : 1) * sizeof(double)), *adj = malloc((m ? m : 1) * sizeof(double));
	if (!p || !adj) {
		free(p);
		free(adj);
		return;
	}
	size_t k = 0;
	for (size_t i = 0; i < r->nrows; i++)
		for (int a = 0; a < DIFF_NASPECTS; a++)
			if (r->rows[i].t[a].tested)
				p[k++] = r->rows[i].t[a].p;
	stats_holm(p, m, adj);
	k = 0;
	for (size_t i = 0; i < r->nrows; i++) {
		struct diff_row *w = &r->rows[i];
		w->significant_fw = false;
		for (int a = 0; a < DIFF_NASPECTS; a++)
			if (w->t[a].tested) {
				w->t[a].p_fw = adj[k++];
				w->significant_fw |= w->t[a].p_fw < r->alpha;
			}
	}
	free(p);
	free(adj);
}
