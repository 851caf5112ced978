/*
 * stats.h - the statistics of `vmxlab diff` (analysis/stats.c): medians with
 * distribution-free confidence intervals, the Mann-Whitney U and signed-rank
 * tests, a bootstrap of medians; and for whole distributions Welch's test,
 * Harrell-Davis quantiles compared by the bootstrap, the two-sample
 * Anderson-Darling test, a permutation scan of the upper tail, and Holm's
 * correction.  Pure functions on arrays of doubles; no I/O.  The methods
 * and their assumptions: docs/diff.md.
 */
#ifndef VMXLAB_ANALYSIS_STATS_H
#define VMXLAB_ANALYSIS_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Sort ascending (NaNs are not allowed in any function here). */
void stats_sort(double *v, size_t n);

/* The sample median of n sorted values: the middle value, or the mean of the
 * two middle values when n is even.  NAN when n is 0. */
double stats_median(const double *sorted, size_t n);

/* A confidence interval for the population median from order statistics
 * (Hollander & Wolfe, "Nonparametric Statistical Methods", 2nd ed. 1999,
 * sect. 3.6; Conover 1999, sect. 3.2): [x_(k), x_(n+1-k)] with k the largest
 * rank such that P(B <= k-1) <= (1-conf)/2 for B ~ Binomial(n, 1/2),
 * computed exactly.  Assumes independent samples from one continuous
 * distribution; no shape is assumed.  `level` is the confidence the interval
 * actually has (>= conf; it is discrete).  When n is too small for any
 * interval to reach conf (n < 6 for 95%), ok is false and the interval is
 * [min, max] with its own, lower, level. */
struct stats_ci {
	double lo, hi;
	double level;
	bool ok;
};
void stats_median_ci(const double *sorted, size_t n, double conf, struct stats_ci *ci);

/* The two-sided Mann-Whitney U test (Mann & Whitney 1947; the Wilcoxon
 * rank-sum test) of "x and y come from the same distribution" against a
 * shift.  u is U for x: the number of pairs (x_i, y_j) with x_i > y_j plus
 * half the tied pairs, so u = nx*ny/2 when neither side tends to be larger.
 *
 * exact (nx + ny <= STATS_MWU_EXACT_MAX): p from the permutation distribution
 * of the rank sum, ties included (every one of the C(nx+ny, nx) ways to pick
 * x's ranks from the midranks is equally likely under H0; counted by dynamic
 * programming over the groups of tied values, as in Cheung & Klotz 1997),
 * p = min(1, 2 * min(P(W <= w), P(W >= w))).
 * Otherwise the normal approximation with the tie correction of the variance
 * (Hollander & Wolfe 1999, sect. 4.1, eq. 4.11) and a continuity correction
 * of 0.5; z is reported.  When every value is tied, p = 1. */
#define STATS_MWU_EXACT_MAX 50
struct stats_mwu {
	double u;
	double p;
	double z;       /* normal approximation only, else 0 */
	bool exact;
};
/* 0, or -1 when a side is empty or memory runs out. */
int stats_mann_whitney(const double *x, size_t nx, const double *y, size_t ny, struct stats_mwu *r);

/* The smallest two-sided p-value the test can give for these sizes (no
 * ties): 2 / C(nx+ny, nx), capped at 1. */
double stats_mwu_min_p(size_t nx, size_t ny);

/* The distribution-free confidence interval for a shift d (y = x + d) that
 * goes with the Mann-Whitney test (Moses 1965; Hollander & Wolfe 1999,
 * sect. 4.3): [D_(k), D_(nx ny + 1 - k)] of the sorted nx ny differences
 * y_j - x_i, with k the largest such that P(U <= k-1) <= (1-conf)/2 under
 * H0 - exact (U's distribution without ties) for nx + ny <= STATS_MWU_EXACT_MAX,
 * else from the normal approximation.  The interval leaves out 0 exactly
 * when the exact two-sided test rejects at 1-conf (save ties and the edge
 * of the discrete distribution).  ok false (the range of the differences,
 * with its level) when no k exists, e.g. for 3 + 3.  -1 when a side is
 * empty or memory runs out. */
int stats_shift_ci(const double *x, size_t nx, const double *y, size_t ny, double conf, struct stats_ci *ci);

/* Paired values (old and new measured side by side, round by round): the
 * two-sided Wilcoxon signed-rank test (Wilcoxon 1945; Hollander & Wolfe
 * 1999, sect. 3.1) of "the differences d_i are symmetric about 0".  Zero
 * differences are dropped; ties of |d| get midranks.  w is W+, the sum of
 * the ranks of the positive differences, over the n that are left.  Exact
 * (n <= STATS_WSR_EXACT_MAX): p from the 2^n equally likely sign patterns
 * given the ranks, ties included; else the normal approximation with the
 * tie correction of the variance and a continuity correction of 0.5.
 * With no difference left, p = 1. */
#define STATS_WSR_EXACT_MAX 60
struct stats_wsr {
	double w;
	double p;
	double z;       /* normal approximation only */
	size_t n;       /* non-zero differences */
	bool exact;
};
/* 0, or -1 when memory runs out. */
int stats_signed_rank(const double *d, size_t n, struct stats_wsr *r);

/* The Hodges-Lehmann estimate of the centre of the differences (the median
 * of the n(n+1)/2 Walsh averages (d_i + d_j)/2, i <= j) and the
 * distribution-free interval that goes with the signed-rank test
 * (Hollander & Wolfe 1999, sect. 3.3): [W_(k), W_(M+1-k)] of the sorted
 * Walsh averages, k from W+'s exact null distribution (normal for large n).
 * ok false (the range, with its level) when n is too small (n < 6 for 95%).
 * -1 when n is 0 or memory runs out. */
int stats_walsh_ci(const double *d, size_t n, double conf, double *estimate, struct stats_ci *ci);

/* Standard normal distribution function. */
double stats_normal_cdf(double z);

/* A small, fast, reproducible generator (xoshiro256**, Blackman & Vigna
 * 2018, seeded through splitmix64). */
struct stats_rng {
	uint64_t s[4];
};
void stats_rng_seed(struct stats_rng *r, uint64_t seed);
uint64_t stats_rng_next(struct stats_rng *r);
/* Uniform on the open interval (0, 1). */
double stats_rng_uniform(struct stats_rng *r);
/* Gamma(shape, 1) (Marsaglia & Tsang 2000) and Beta(a, b) = Ga/(Ga+Gb). */
double stats_rng_gamma(struct stats_rng *r, double shape);
double stats_rng_beta(struct stats_rng *r, double a, double b);

/* One bootstrap replicate (Efron 1979) of the median of n sorted values:
 * the median of n values drawn from them with replacement, drawn in O(1)
 * instead of O(n).  A draw is x[floor(n U)] with U uniform, and floor(n U)
 * is monotone in U, so the k-th smallest draw is x[floor(n U_(k))] where
 * U_(k), the k-th of n uniform order statistics, is Beta(k, n+1-k); the
 * next one is U_(k) + (1 - U_(k)) Beta(1, n-k) (David & Nagaraja, "Order
 * Statistics", 3rd ed. 2003, sect. 2.2 and 2.5). */
double stats_boot_median(struct stats_rng *r, const double *sorted, size_t n);

/* A percentile of n sorted values with linear interpolation between order
 * statistics (Hyndman & Fan 1996, definition 7); p in [0, 1]. */
double stats_quantile(const double *sorted, size_t n, double p);

/* ------------------------------------------------------------ distributions
 * (what `vmxlab diff` tests beside the median: the mean, upper quantiles
 * and the whole distribution; docs/diff.md says why these) */

/* The regularised incomplete beta function I_x(a, b) (Press et al.,
 * "Numerical Recipes", 3rd ed. 2007, sect. 6.4). */
double stats_betai(double a, double b, double x);
/* Student's t with df degrees of freedom: P(|T| >= |t|), and the quantile
 * t with P(T <= t) = p (p > 0.5). */
double stats_t_two_sided_p(double t, double df);
double stats_t_quantile(double p, double df);

/* Welch's test of equal means (Welch 1947; Satterthwaite's degrees of
 * freedom): t, df, the two-sided p and the conf interval of mean_y -
 * mean_x.  Assumes independent values and a t-distributed statistic, which
 * the central limit theorem gives for large samples of any distribution of
 * finite variance; heavy tails cost power, not level, there.  -1 when a
 * side has fewer than 2 values. */
struct stats_welch {
	double mean_x, mean_y, diff;
	double t, df, p;
	double lo, hi;
};
int stats_welch(const double *x, size_t nx, const double *y, size_t ny, double conf, struct stats_welch *r);

/* The Harrell-Davis estimator of the q-quantile (Harrell & Davis,
 * Biometrika 69, 1982): sum_i W_i x_(i) with W_i = I_{i/n}(a, b) -
 * I_{(i-1)/n}(a, b), a = (n+1) q, b = (n+1)(1-q) - a weighted mean of the
 * order statistics near rank n q rather than one of them, so that ties and
 * the 10 ns grid move it smoothly.  Weights are kept for the ranks lo..hi
 * (1-based) outside which they sum to less than 2e-10, renormalised. */
struct stats_hd {
	size_t n, lo, hi;
	double q;
	double *w;      /* w[i - lo] for rank i */
};
int stats_hd_init(struct stats_hd *h, size_t n, double q);
void stats_hd_free(struct stats_hd *h);
double stats_hd_estimate(const struct stats_hd *h, const double *sorted);
/* boot bootstrap replicates of nq Harrell-Davis estimates of the n sorted
 * values (out[b * nq + j]), each drawn in O(window) rather than O(n) from
 * uniform order statistics (stats.c).  -1 on bad sizes or out of memory. */
#define STATS_QCMP_MAX 4
int stats_hd_boot(struct stats_rng *r, const double *sorted, size_t n, const struct stats_hd *h, size_t nq,
		  unsigned boot, double *out);

/* Two independent samples compared at nq quantiles (Wilcox, Erceg-Hurn,
 * Clark & Carlson, J. Statist. Comput. Simul. 84, 2014): per quantile the
 * Harrell-Davis estimates, the change est_y / est_x - 1 with its conf
 * percentile-bootstrap interval, and the two-sided bootstrap p.  x and y
 * sorted.  -1 on bad sizes or out of memory. */
struct stats_qcmp {
	double q;
	double est_x, est_y;
	double change, lo, hi;
	double p;
};
int stats_quantile_compare(const double *x, size_t nx, const double *y, size_t ny, const double *qs, size_t nq,
			   unsigned boot, struct stats_rng *rng, double conf, struct stats_qcmp *out);

/* The two-sample Anderson-Darling test (Scholz & Stephens, JASA 82, 1987),
 * in its version for tied values (midranks): the statistic A2, its
 * standardised T, and p - from T's asymptotic null distribution, or, when
 * that is below 0.2 and perms > 0, from up to perms random permutations,
 * sequentially: they stop once `stop` of them reach A2 (Besag & Clifford
 * 1991; 0: never; perm true; stats.c says why); and the Kolmogorov-Smirnov
 * distance
 * max |F_x - F_y| (how far apart the two empirical distribution functions
 * get: the share of values that moved past some point).  x and y sorted.
 * -1 when a side has fewer than 2 values or memory runs out. */
struct stats_ad {
	double a2, t, p;
	bool perm;
	double ks_d;
};
int stats_ad2(const double *x, size_t nx, const double *y, size_t ny, unsigned perms, unsigned stop,
	      struct stats_rng *rng, struct stats_ad *r);
/* P(A > z) for the limit A of the Anderson-Darling statistic. */
double stats_ad_inf_sf(double z);

/* The upper tail of two samples compared: is one side over- or
 * under-represented in some band of the slowest values, within the top
 * frac of the pooled sample?  A permutation test of a scan statistic
 * (stats.c), with up to perms permutations, stopped as stats_ad2's are.
 * The band where the departure is largest: between the k_hi
 * and the k_lo largest pooled values (pooled quantile levels q_lo .. q_hi);
 * sign +1 when y has more values there than expected.  x and y sorted.
 * tested false when the top frac of the pooled values lies in one group of
 * tied values (there is no band inside it to compare). */
struct stats_tail {
	bool tested;
	double stat, p;
	size_t k_lo, k_hi;
	double q_lo, q_hi;
	size_t band_x, band_y;  /* each side's values in the band */
	int sign;
};
int stats_tail_test(const double *x, size_t nx, const double *y, size_t ny, double frac, unsigned perms,
		    unsigned stop, struct stats_rng *rng, struct stats_tail *r);

/* Permutations drawn until this many reach the observed statistic
 * (Besag & Clifford 1991), for stats_ad2 and stats_tail_test. */
#define STATS_PERM_STOP 10

/* Holm's step-down adjustment (Holm 1979) of m p-values: adj[i] < alpha
 * exactly for the hypotheses Holm's procedure rejects at alpha. */
void stats_holm(const double *p, size_t m, double *adj);

#endif
