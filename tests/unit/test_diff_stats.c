/* The statistics of `vmxlab diff` (analysis/stats.c) against known values.
 *
 * The expected p-values were checked by hand where small and recomputed by
 * brute force - every one of the C(nx+ny, nx) ways to give x its ranks,
 * midranks for ties - and, for the normal approximation, from the formulas
 * of Hollander & Wolfe (1999) eq. 4.11, with Python's math.erfc:
 *
 *   x = 1 2 3        y = 4 5 6          U 0    p = 2/20  = 0.1
 *   x = 1 2 3 4      y = 5 6 7 8        U 0    p = 2/70  = 0.0285714
 *   x = 1 .. 5       y = 6 .. 10        U 0    p = 2/252 = 0.0079365 (R: wilcox.test, 0.007937)
 *   x = 1 2 2 3      y = 2 3 3 4        U 3    p = 2*10/70 = 0.2857143 (ties)
 *   x = 1.1 .. 5.5   y = 2 6 7 8 9      U 4    p = 2*12/252 = 0.0952381
 *   x = 10 20 20 30 30 30  y = 20 30 40 40 50   U 5.5  p = 2*26/462 = 0.1125541 (ties)
 *   x = 1 .. 30      y = 21 .. 50       U 50   z -5.9071987  p 3.4797e-9 (normal, ties)
 *   x = 10x20 20x15 30x5  y = 10x10 20x15 30x15   U 525  z -2.8172492  p 0.0048437
 *
 * Signed-rank (paired) tests, W+ and p from the 2^n sign patterns, checked
 * by hand and by brute force below:
 *   d = 1 .. 5                W+ 15   p = 2/32   = 0.0625
 *   d = 1 .. 10               W+ 55   p = 2/1024 = 0.001953125
 *   d = -1 2 3 4 5 6          W+ 20   p = 2*2/64 = 0.0625
 *   d = 1 1 -1 2 (ties)       W+ 8    p = 2*4/16 = 0.5
 *   d = -1 .. -20, 21 .. 70   W+ 2275 z 6.0394525  p 1.5463806e-9 (normal)
 * Walsh interval of d = 1 .. 10: k 9 (P(W+ <= 8) = 25/1024), [3, 8] of the
 * 55 averages, level 1 - 50/1024 = 0.951171875.
 *
 * Median intervals: the largest k with P(Binomial(n, 1/2) <= k-1) <= 0.025
 * (Hollander & Wolfe 1999, table A.4 gives the same ranks):
 *   n 5: none (the range has 93.75%), n 6: k 1 (96.875%), n 10: k 2
 *   (97.85%), n 100: k 40 (96.48%), n 1000: k 469 (95.37%).
 *
 * The tests of distributions (checked by hand or by numerical
 * integration of the densities, Simpson's rule, in Python):
 *   I_0.5(2, 3) = 11/16 (the binomial sum); P(|T_10| >= 2) = 0.0733880348
 *   Welch, x = 1..5, y = 2 4 6 8 10: t 1.8973666, df 5.8823529,
 *     p 0.1075312 (R's t.test gives the same)
 *   Harrell-Davis weights, n 5, q 0.5 (Beta(3, 3) over fifths):
 *     .05792 .25952 .36512 .25952 .05792
 *   Anderson-Darling limit, upper tail (Stephens 1974; D'Agostino &
 *     Stephens 1986, table 4.7): 1.248 -> 0.25, 1.933 -> 0.10,
 *     2.492 -> 0.05, 3.070 -> 0.025, 3.857 -> 0.01 (Marsaglia's adinf
 *     gives 0.2500, 0.1000, 0.0500, 0.0252, 0.0102)
 *   Holm: p .01 .04 .03 .005 -> .03 .06 .06 .02
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>

#include "../../analysis/stats.h"

static void mwu_case(const double *x, size_t nx, const double *y, size_t ny, double u, double p, bool exact)
{
	struct stats_mwu r;
	assert_int_equal(stats_mann_whitney(x, nx, y, ny, &r), 0);
	assert_true(fabs(r.u - u) < 1e-9);
	if (fabs(r.p - p) > 1e-7 * (p > 1e-6 ? 1 : 1e-3))
		fail_msg("p %.12g, expected %.12g", r.p, p);
	assert_int_equal(r.exact, exact);
	/* Swapping the sides mirrors U and keeps p. */
	struct stats_mwu s;
	assert_int_equal(stats_mann_whitney(y, ny, x, nx, &s), 0);
	assert_true(fabs(s.u - ((double)nx * (double)ny - u)) < 1e-9);
	assert_true(fabs(s.p - r.p) < 1e-12);
}

static void mwu_exact_without_ties(void **state)
{
	(void)state;
	const double a[] = { 1, 2, 3 }, b[] = { 4, 5, 6 };
	mwu_case(a, 3, b, 3, 0, 0.1, true);
	const double c[] = { 1, 2, 3, 4 }, d[] = { 5, 6, 7, 8 };
	mwu_case(c, 4, d, 4, 0, 2.0 / 70, true);
	const double e[] = { 3, 1, 5, 2, 4 }, f[] = { 10, 6, 8, 7, 9 }; /* unsorted on purpose */
	mwu_case(e, 5, f, 5, 0, 2.0 / 252, true);
	const double g[] = { 1.1, 2.2, 3.3, 4.4, 5.5 }, h[] = { 2.0, 6.0, 7.0, 8.0, 9.0 };
	mwu_case(g, 5, h, 5, 4, 24.0 / 252, true);
}

static void mwu_exact_with_ties(void **state)
{
	(void)state;
	const double a[] = { 1, 2, 2, 3 }, b[] = { 2, 3, 3, 4 };
	mwu_case(a, 4, b, 4, 3, 20.0 / 70, true);
	const double c[] = { 10, 20, 20, 30, 30, 30 }, d[] = { 20, 30, 40, 40, 50 };
	mwu_case(c, 6, d, 5, 5.5, 52.0 / 462, true);
	/* Identical samples: U in the middle, p 1. */
	const double e[] = { 5, 7, 7, 9, 12, 12 };
	mwu_case(e, 6, e, 6, 18, 1, true);
	/* Everything tied: no evidence either way. */
	const double f[] = { 4, 4, 4 }, g[] = { 4, 4 };
	mwu_case(f, 3, g, 2, 3, 1, true);
}

static void mwu_normal_approximation(void **state)
{
	(void)state;
	double x[40], y[40];
	for (int i = 0; i < 30; i++) {
		x[i] = i + 1;
		y[i] = i + 21;
	}
	mwu_case(x, 30, y, 30, 50, 3.479739872462869e-09, false);
	struct stats_mwu r;
	stats_mann_whitney(x, 30, y, 30, &r);
	assert_true(fabs(r.z - -5.907198684168118) < 1e-9);

	for (int i = 0; i < 40; i++) {
		x[i] = i < 20 ? 10 : i < 35 ? 20 : 30;
		y[i] = i < 10 ? 10 : i < 25 ? 20 : 30;
	}
	mwu_case(x, 40, y, 40, 525, 0.004843692902752535, false);
	stats_mann_whitney(x, 40, y, 40, &r);
	assert_true(fabs(r.z - -2.8172491902563395) < 1e-9);
}

static void mwu_min_p_and_errors(void **state)
{
	(void)state;
	assert_true(fabs(stats_mwu_min_p(3, 3) - 0.1) < 1e-12);
	assert_true(fabs(stats_mwu_min_p(5, 5) - 2.0 / 252) < 1e-12);
	assert_true(stats_mwu_min_p(1, 1) == 1);
	struct stats_mwu r;
	const double a[] = { 1 };
	assert_int_equal(stats_mann_whitney(a, 1, a, 0, &r), -1);
	assert_true(r.p == 1);
}

static void median_and_quantile(void **state)
{
	(void)state;
	const double odd[] = { 1, 2, 9 }, even[] = { 1, 2, 4, 9 };
	assert_true(stats_median(odd, 3) == 2);
	assert_true(stats_median(even, 4) == 3);
	assert_true(isnan(stats_median(odd, 0)));
	assert_true(stats_quantile(even, 4, 0.5) == 3);
	assert_true(stats_quantile(even, 4, 0) == 1);
	assert_true(stats_quantile(even, 4, 1) == 9);
	assert_true(fabs(stats_quantile(even, 4, 0.25) - 1.75) < 1e-12);
	double v[] = { 3, 1, 2 };
	stats_sort(v, 3);
	assert_true(v[0] == 1 && v[1] == 2 && v[2] == 3);
}

static void median_ci_ranks(void **state)
{
	(void)state;
	static double v[1000];
	for (int i = 0; i < 1000; i++)
		v[i] = i + 1; /* x_(k) = k */
	struct stats_ci ci;
	stats_median_ci(v, 5, 0.95, &ci);
	assert_false(ci.ok);
	assert_true(ci.lo == 1 && ci.hi == 5);
	assert_true(fabs(ci.level - 0.9375) < 1e-12);
	stats_median_ci(v, 6, 0.95, &ci);
	assert_true(ci.ok && ci.lo == 1 && ci.hi == 6);
	assert_true(fabs(ci.level - 0.96875) < 1e-12);
	stats_median_ci(v, 10, 0.95, &ci);
	assert_true(ci.ok && ci.lo == 2 && ci.hi == 9);
	assert_true(fabs(ci.level - 0.978515625) < 1e-12);
	stats_median_ci(v, 100, 0.95, &ci);
	assert_true(ci.ok && ci.lo == 40 && ci.hi == 61);
	assert_true(fabs(ci.level - 0.9647997997822952) < 1e-9);
	stats_median_ci(v, 1000, 0.95, &ci);
	assert_true(ci.ok && ci.lo == 469 && ci.hi == 532);
	assert_true(fabs(ci.level - 0.9537088026395019) < 1e-9);
	stats_median_ci(v, 1, 0.95, &ci);
	assert_false(ci.ok);
	assert_true(ci.lo == 1 && ci.hi == 1);
}

/* Moses' interval for a shift, checked by brute force over the C(20, 10)
 * arrangements (the null distribution of U) and the sorted differences:
 * 10 + 10: k 24 (Hollander & Wolfe 1999, table A.6: 24, 95.7%), 5 + 5: k 3
 * (96.8%), 4 + 4: k 1 (97.1%), 3 + 3: none. */
static void shift_interval(void **state)
{
	(void)state;
	const double x[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	const double y[] = { 3.5, 6.1, 7.2, 8.4, 9.0, 11.3, 12.8, 13.1, 15.5, 16.2 };
	struct stats_ci ci;
	assert_int_equal(stats_shift_ci(x, 10, y, 10, 0.95, &ci), 0);
	assert_true(ci.ok);
	assert_true(fabs(ci.lo - 1.1) < 1e-9 && fabs(ci.hi - 8.5) < 1e-9);
	assert_true(fabs(ci.level - 0.9567429474550218) < 1e-9);
	const double x5[] = { 2, 3, 5, 7, 11 }, y5[] = { 4, 9, 10, 12, 15 };
	assert_int_equal(stats_shift_ci(x5, 5, y5, 5, 0.95, &ci), 0);
	assert_true(ci.ok && ci.lo == -2 && ci.hi == 10);
	assert_true(fabs(ci.level - 0.9682539682539683) < 1e-9);
	assert_int_equal(stats_shift_ci(x5, 4, y5, 4, 0.95, &ci), 0);
	assert_true(ci.ok && fabs(ci.level - 0.9714285714285714) < 1e-9);
	assert_int_equal(stats_shift_ci(x5, 3, y5, 3, 0.95, &ci), 0);
	assert_false(ci.ok);
	assert_true(ci.lo == 4 - 5 && ci.hi == 10 - 2);
	assert_int_equal(stats_shift_ci(x5, 0, y5, 3, 0.95, &ci), -1);

	/* Interval and test agree: it leaves out 0 exactly when p < 0.05. */
	struct stats_rng rng;
	stats_rng_seed(&rng, 99);
	const size_t sizes[][2] = { { 10, 10 }, { 8, 12 }, { 6, 6 }, { 30, 30 } };
	unsigned rejected = 0;
	for (int s = 0; s < 4; s++)
		for (int t = 0; t < 300; t++) {
			double a[30], b[30];
			size_t nx = sizes[s][0], ny = sizes[s][1];
			for (size_t i = 0; i < nx; i++)
				a[i] = stats_rng_uniform(&rng);
			for (size_t i = 0; i < ny; i++)
				b[i] = stats_rng_uniform(&rng) + 0.3 * (t % 3);
			struct stats_mwu m;
			stats_mann_whitney(a, nx, b, ny, &m);
			stats_shift_ci(a, nx, b, ny, 0.95, &ci);
			bool excludes = ci.lo > 0 || ci.hi < 0;
			rejected += m.p < 0.05;
			if (nx + ny <= STATS_MWU_EXACT_MAX && excludes != (m.p < 0.05))
				fail_msg("%zu+%zu: interval [%g, %g], p %g", nx, ny, ci.lo, ci.hi, m.p);
			if (nx + ny > STATS_MWU_EXACT_MAX && fabs(m.p - 0.05) > 0.01 && excludes != (m.p < 0.05))
				fail_msg("%zu+%zu (normal): interval [%g, %g], p %g", nx, ny, ci.lo, ci.hi, m.p);
		}
	assert_true(rejected > 200 && rejected < 1000); /* both cases were seen */
}

/* The O(1) bootstrap median has the exact bootstrap distribution of the
 * median: for 1..7, P(median <= j) = P(Binomial(7, j/7) >= 4). */
static void bootstrap_median_distribution(void **state)
{
	(void)state;
	const double exact[7] = { 0.01015004680994192, 0.09812359524639272, 0.23862627695214447, 0.3062001619830416,
				  0.23862627695214467, 0.0981235952463928, 0.010150046809941804 };
	const double v[7] = { 1, 2, 3, 4, 5, 6, 7 };
	unsigned count[8] = { 0 };
	struct stats_rng rng;
	stats_rng_seed(&rng, 42);
	const unsigned N = 200000;
	for (unsigned i = 0; i < N; i++) {
		double m = stats_boot_median(&rng, v, 7);
		assert_true(m >= 1 && m <= 7 && m == floor(m));
		count[(int)m]++;
	}
	for (int j = 1; j <= 7; j++)
		if (fabs((double)count[j] / N - exact[j - 1]) > 0.004)
			fail_msg("P(median = %d): %.4f, exact %.4f", j, (double)count[j] / N, exact[j - 1]);

	/* Even n against plain resampling: the same distribution of the
	 * midpoint median of 1..6 (mean and a tail). */
	const double w[6] = { 1, 2, 3, 4, 5, 6 };
	double s1 = 0, s2 = 0;
	unsigned t1 = 0, t2 = 0;
	for (unsigned i = 0; i < N; i++) {
		double m = stats_boot_median(&rng, w, 6);
		s1 += m;
		t1 += m <= 2;
		double d[6];
		for (int k = 0; k < 6; k++)
			d[k] = w[stats_rng_next(&rng) % 6];
		stats_sort(d, 6);
		double m2 = stats_median(d, 6);
		s2 += m2;
		t2 += m2 <= 2;
	}
	assert_true(fabs(s1 / N - s2 / N) < 0.01);
	assert_true(fabs((double)t1 / N - (double)t2 / N) < 0.005);
}

static void gamma_and_beta_moments(void **state)
{
	(void)state;
	struct stats_rng rng;
	stats_rng_seed(&rng, 7);
	const double shapes[] = { 0.5, 1, 3.5, 500 };
	for (int s = 0; s < 4; s++) {
		double sum = 0;
		for (int i = 0; i < 100000; i++)
			sum += stats_rng_gamma(&rng, shapes[s]);
		double mean = sum / 100000, se = sqrt(shapes[s] / 100000);
		if (fabs(mean - shapes[s]) > 5 * se)
			fail_msg("Gamma(%g) mean %g", shapes[s], mean);
	}
	double sum = 0;
	for (int i = 0; i < 100000; i++)
		sum += stats_rng_beta(&rng, 2, 6);
	assert_true(fabs(sum / 100000 - 0.25) < 0.003);
}

/* A/A: samples from one distribution - a skewed one on a 10 ns grid, full
 * of ties, like handler timings - must come out significant at most about
 * alpha of the time; a real shift must be found. */
static double timing(struct stats_rng *r, double shift)
{
	double x = 300 * exp(0.3 * sqrt(-2 * log(stats_rng_uniform(r))) * cos(6.283185307179586 * stats_rng_uniform(r)));
	return 10 * floor((x + shift) / 10);
}

static void false_positive_rate_at_most_alpha(void **state)
{
	(void)state;
	struct stats_rng rng;
	stats_rng_seed(&rng, 2024);
	const size_t sizes[][2] = { { 10, 10 }, { 8, 12 }, { 60, 60 }, { 200, 150 } };
	for (int s = 0; s < 4; s++) {
		size_t nx = sizes[s][0], ny = sizes[s][1], hits = 0, found = 0;
		const unsigned trials = 2000;
		double x[200], y[200];
		for (unsigned t = 0; t < trials; t++) {
			for (size_t i = 0; i < nx; i++)
				x[i] = timing(&rng, 0);
			for (size_t i = 0; i < ny; i++)
				y[i] = timing(&rng, 0);
			struct stats_mwu r;
			stats_mann_whitney(x, nx, y, ny, &r);
			hits += r.p < 0.05;
			for (size_t i = 0; i < ny; i++)
				y[i] = timing(&rng, 150); /* +50% */
			stats_mann_whitney(x, nx, y, ny, &r);
			found += r.p < 0.05;
		}
		double rate = (double)hits / trials;
		print_message("A/A %zu+%zu: %.4f significant at 0.05; +50%% shift found in %.4f\n", nx, ny, rate,
			      (double)found / trials);
		/* alpha plus three standard errors of a rate of 0.05 in 2000 trials */
		if (rate > 0.05 + 3 * sqrt(0.05 * 0.95 / trials))
			fail_msg("%zu+%zu: %.3f of A/A comparisons significant at 0.05", nx, ny, rate);
		if ((double)found / trials < 0.8)
			fail_msg("%zu+%zu: a +50%% shift found in only %.3f", nx, ny, (double)found / trials);
	}
}


static void wsr_case(const double *d, size_t n, double w, double p, bool exact)
{
	struct stats_wsr r;
	assert_int_equal(stats_signed_rank(d, n, &r), 0);
	if (fabs(r.w - w) > 1e-9)
		fail_msg("W+ %g, expected %g", r.w, w);
	if (fabs(r.p - p) > 1e-7 * (p > 1e-6 ? 1 : 1e-3))
		fail_msg("p %.12g, expected %.12g", r.p, p);
	assert_int_equal(r.exact, exact);
	/* Negating the differences mirrors W+ and keeps p. */
	double m[80];
	for (size_t i = 0; i < n; i++)
		m[i] = -d[i];
	struct stats_wsr s;
	assert_int_equal(stats_signed_rank(m, n, &s), 0);
	assert_true(fabs(s.w - ((double)r.n * (double)(r.n + 1) / 2 - w)) < 1e-9);
	assert_true(fabs(s.p - r.p) < 1e-12);
}

/* p by enumerating the 2^n sign patterns, midranks for tied |d|. */
static double wsr_brute(const double *d, size_t n)
{
	double a[16], rank[16], w = 0;
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (d[i] != 0)
			a[m++] = d[i];
	for (size_t i = 0; i < m; i++) {
		double below = 0, same = 0;
		for (size_t j = 0; j < m; j++) {
			below += fabs(a[j]) < fabs(a[i]);
			same += fabs(a[j]) == fabs(a[i]);
		}
		rank[i] = below + (same + 1) / 2;
		if (a[i] > 0)
			w += rank[i];
	}
	double le = 0, ge = 0;
	for (unsigned long mask = 0; mask < 1ul << m; mask++) {
		double v = 0;
		for (size_t i = 0; i < m; i++)
			if (mask >> i & 1)
				v += rank[i];
		le += v <= w + 1e-9;
		ge += v >= w - 1e-9;
	}
	double total = (double)(1ul << m);
	return fmin(1, 2 * fmin(le, ge) / total);
}

static void signed_rank_exact_and_normal(void **state)
{
	(void)state;
	const double a[] = { 3, 1, 5, 2, 4 };
	wsr_case(a, 5, 15, 0.0625, true);
	const double b[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	wsr_case(b, 10, 55, 2.0 / 1024, true);
	const double c[] = { -1, 2, 3, 4, 5, 6 };
	wsr_case(c, 6, 20, 0.0625, true);
	const double t[] = { 1, 1, -1, 2 };
	wsr_case(t, 4, 8, 0.5, true);
	const double z[] = { 0, 4, 0, 1, 2, 3, 5 }; /* zeros are dropped */
	wsr_case(z, 7, 15, 0.0625, true);
	struct stats_wsr r;
	assert_int_equal(stats_signed_rank(z, 2, &r), 0);
	assert_true(r.n == 1 && r.p == 1);
	const double zero[] = { 0, 0, 0 };
	assert_int_equal(stats_signed_rank(zero, 3, &r), 0);
	assert_true(r.n == 0 && r.p == 1);
	double big[70];
	for (int i = 0; i < 70; i++)
		big[i] = i < 20 ? -(i + 1) : i + 1;
	wsr_case(big, 70, 2275, 1.5463806e-9, false);

	/* Random small cases with ties against the enumeration. */
	struct stats_rng rng;
	stats_rng_seed(&rng, 7);
	for (int k = 0; k < 300; k++) {
		size_t n = 1 + stats_rng_next(&rng) % 12;
		double d[12];
		for (size_t i = 0; i < n; i++)
			d[i] = (double)((int)(stats_rng_next(&rng) % 9) - 4); /* -4 .. 4: ties and zeros */
		assert_int_equal(stats_signed_rank(d, n, &r), 0);
		double want = wsr_brute(d, n);
		if (fabs(r.p - want) > 1e-12)
			fail_msg("case %d (n %zu): p %.15g, enumeration %.15g", k, n, r.p, want);
	}
}

static void walsh_interval(void **state)
{
	(void)state;
	const double d[] = { 10, 9, 8, 7, 6, 5, 4, 3, 2, 1 };
	struct stats_ci ci;
	double hl;
	assert_int_equal(stats_walsh_ci(d, 10, 0.95, &hl, &ci), 0);
	assert_true(ci.ok && ci.lo == 3 && ci.hi == 8);
	assert_true(fabs(ci.level - 0.951171875) < 1e-12);
	assert_true(hl == 5.5);
	assert_int_equal(stats_walsh_ci(d, 5, 0.95, &hl, &ci), 0);
	assert_false(ci.ok); /* n 5: the range of the averages, 1 - 2/32 */
	assert_true(ci.lo == 6 && ci.hi == 10 && fabs(ci.level - 0.9375) < 1e-12);
	assert_int_equal(stats_walsh_ci(d, 0, 0.95, &hl, &ci), -1);

	/* Interval and test agree: it leaves out 0 exactly when p < 0.05
	 * (continuous values, so no ties). */
	struct stats_rng rng;
	stats_rng_seed(&rng, 11);
	unsigned rejected = 0;
	const size_t sizes[] = { 6, 10, 20, 40, 80 };
	for (int s = 0; s < 5; s++)
		for (int t = 0; t < 300; t++) {
			double x[80];
			size_t n = sizes[s];
			for (size_t i = 0; i < n; i++)
				x[i] = stats_rng_uniform(&rng) - 0.5 + 0.15 * (t % 3);
			struct stats_wsr w;
			stats_signed_rank(x, n, &w);
			stats_walsh_ci(x, n, 0.95, &hl, &ci);
			bool excludes = ci.lo > 0 || ci.hi < 0;
			rejected += w.p < 0.05;
			if (w.exact && excludes != (w.p < 0.05))
				fail_msg("n %zu: interval [%g, %g], p %g", n, ci.lo, ci.hi, w.p);
			if (!w.exact && fabs(w.p - 0.05) > 0.01 && excludes != (w.p < 0.05))
				fail_msg("n %zu (normal): interval [%g, %g], p %g", n, ci.lo, ci.hi, w.p);
		}
	assert_true(rejected > 300 && rejected < 1200);
}

/* One round's median handler time: `base` ns slowed by the machine's speed
 * in that round, 3% of noise left after the median of a few thousand
 * exits, on the timer's 10 ns grid. */
static double round_median(struct stats_rng *r, double speed, double base)
{
	double z = sqrt(-2 * log(stats_rng_uniform(r))) * cos(6.283185307179586 * stats_rng_uniform(r));
	return 10 * floor(speed * base * exp(0.03 * z) / 10);
}

/* Paired rounds as diff's one-shot mode makes them: each round's machine
 * speed multiplies both sides (a 2x spread, as seen on a shared machine),
 * the test sees log(new/old).  At alpha 0.05 the A/A rate stays at or below
 * alpha; a +10% change is found in nearly every comparison. */
static void paired_false_positive_rate(void **state)
{
	(void)state;
	struct stats_rng rng;
	stats_rng_seed(&rng, 4242);
	const size_t sizes[] = { 10, 20 };
	for (int s = 0; s < 2; s++) {
		size_t n = sizes[s], hits = 0, found = 0;
		const unsigned trials = 4000;
		for (unsigned t = 0; t < trials; t++) {
			double d[20], e[20];
			for (size_t i = 0; i < n; i++) {
				double speed = 1 + stats_rng_uniform(&rng);
				double old = round_median(&rng, speed, 300);
				d[i] = log(round_median(&rng, speed, 300) / old);
				e[i] = log(round_median(&rng, speed, 330) / old); /* +10% */
			}
			struct stats_wsr r;
			stats_signed_rank(d, n, &r);
			hits += r.p < 0.05;
			stats_signed_rank(e, n, &r);
			found += r.p < 0.05;
		}
		double rate = (double)hits / trials;
		print_message("paired A/A n %zu: %.4f significant at 0.05; +10%% found in %.4f\n", n, rate,
			      (double)found / trials);
		if (rate > 0.05 + 3 * sqrt(0.05 * 0.95 / trials))
			fail_msg("n %zu: %.3f of paired A/A comparisons significant at 0.05", n, rate);
		if ((double)found / trials < 0.8)
			fail_msg("n %zu: a +10%% change found in only %.3f", n, (double)found / trials);
	}
}

/* ------------------------------------------------------------ distributions */

static void beta_t_and_welch(void **state)
{
	(void)state;
	assert_true(fabs(stats_betai(2, 3, 0.5) - 0.6875) < 1e-12);
	assert_true(stats_betai(2, 3, 0) == 0 && stats_betai(2, 3, 1) == 1);
	/* Symmetry I_x(a, b) = 1 - I_{1-x}(b, a), with large parameters. */
	assert_true(fabs(stats_betai(5000.5, 50.5, 0.99) + stats_betai(50.5, 5000.5, 0.01) - 1) < 1e-9);
	assert_true(fabs(stats_t_two_sided_p(2, 10) - 0.0733880348) < 1e-8);
	assert_true(fabs(stats_t_quantile(0.975, 10) - 2.2281389) < 1e-6);
	const double x[] = { 1, 2, 3, 4, 5 }, y[] = { 2, 4, 6, 8, 10 };
	struct stats_welch w;
	assert_int_equal(stats_welch(x, 5, y, 5, 0.95, &w), 0);
	assert_true(fabs(w.t - 1.8973666) < 1e-6);
	assert_true(fabs(w.df - 5.8823529) < 1e-6);
	assert_true(fabs(w.p - 0.1075312) < 1e-6);
	assert_true(w.lo < 0 && w.hi > 0 && fabs((w.lo + w.hi) / 2 - 3) < 1e-9);
	/* Constant sides: no spread to test against. */
	const double c1[] = { 7, 7, 7 }, c2[] = { 7, 7, 7, 7 }, c3[] = { 9, 9 };
	assert_int_equal(stats_welch(c1, 3, c2, 4, 0.95, &w), 0);
	assert_true(w.p == 1);
	assert_int_equal(stats_welch(c1, 3, c3, 2, 0.95, &w), 0);
	assert_true(w.p == 0);
	assert_int_equal(stats_welch(c1, 1, c3, 2, 0.95, &w), -1);
}

static void harrell_davis_weights(void **state)
{
	(void)state;
	struct stats_hd h;
	const double want[5] = { .05792, .25952, .36512, .25952, .05792 };
	assert_int_equal(stats_hd_init(&h, 5, 0.5), 0);
	assert_true(h.lo == 1 && h.hi == 5);
	for (int i = 0; i < 5; i++)
		assert_true(fabs(h.w[i] - want[i]) < 1e-9);
	const double a[5] = { 1, 2, 3, 4, 5 }, b[5] = { 1, 2, 3, 4, 10 }, c[5] = { 3, 3, 3, 3, 3 };
	assert_true(fabs(stats_hd_estimate(&h, a) - 3) < 1e-12);
	assert_true(fabs(stats_hd_estimate(&h, b) - (3 + 5 * .05792)) < 1e-9);
	assert_true(stats_hd_estimate(&h, c) == 3); /* exactly: ties give their value */
	stats_hd_free(&h);
	/* A large n keeps a window of ranks around n q, and its weights sum
	 * to 1 and centre on the rank. */
	assert_int_equal(stats_hd_init(&h, 100000, 0.99), 0);
	assert_true(h.lo > 98500 && h.hi < 99500 && h.hi - h.lo < 500); /* +-6.4 sd of 31.5 ranks */
	double sum = 0, mean = 0;
	for (size_t i = h.lo; i <= h.hi; i++) {
		sum += h.w[i - h.lo];
		mean += h.w[i - h.lo] * (double)i;
	}
	assert_true(fabs(sum - 1) < 1e-12);
	assert_true(fabs(mean - 99000.5) < 1.5);
	stats_hd_free(&h);
	assert_int_equal(stats_hd_init(&h, 0, 0.5), -1);
	stats_hd_free(&h);
}

/* A bootstrap replicate drawn from uniform order statistics has the
 * distribution of the Harrell-Davis estimate of a plain resample. */
static void harrell_davis_bootstrap_distribution(void **state)
{
	(void)state;
	struct stats_rng rng;
	stats_rng_seed(&rng, 11);
	double x[40];
	for (int i = 0; i < 40; i++)
		x[i] = 10 * floor(30 * exp(0.5 * sqrt(-2 * log(stats_rng_uniform(&rng))) *
					   cos(6.283185307179586 * stats_rng_uniform(&rng))));
	stats_sort(x, 40);
	const double qs[3] = { 0.5, 0.9, 0.99 };
	struct stats_hd h[3];
	for (int j = 0; j < 3; j++)
		assert_int_equal(stats_hd_init(&h[j], 40, qs[j]), 0);
	const unsigned B = 40000;
	double *fast = malloc(B * 3 * sizeof(double));
	assert_non_null(fast);
	assert_int_equal(stats_hd_boot(&rng, x, 40, h, 3, B, fast), 0);
	for (int j = 0; j < 3; j++) {
		double m1 = 0, s1 = 0, m2 = 0, s2 = 0;
		for (unsigned b = 0; b < B; b++) {
			double d[40];
			for (int i = 0; i < 40; i++)
				d[i] = x[stats_rng_next(&rng) % 40];
			stats_sort(d, 40);
			double e = stats_hd_estimate(&h[j], d);
			m2 += e;
			s2 += e * e;
			m1 += fast[b * 3 + j];
			s1 += fast[b * 3 + j] * fast[b * 3 + j];
		}
		m1 /= B;
		m2 /= B;
		double sd1 = sqrt(s1 / B - m1 * m1), sd2 = sqrt(s2 / B - m2 * m2);
		if (fabs(m1 - m2) > 0.02 * sd2 + 1e-9 * m2 || fabs(sd1 / sd2 - 1) > 0.03)
			fail_msg("q %g: mean %g sd %g by order statistics, %g %g by resampling", qs[j], m1, sd1, m2, sd2);
	}
	for (int j = 0; j < 3; j++)
		stats_hd_free(&h[j]);
	free(fast);
}

/* Anderson-Darling's A2_akN (Scholz & Stephens 1987, eq. 7), written
 * directly from the definition: for every distinct pooled value, counts
 * taken over the raw arrays. */
static double ad_naive(const double *x, size_t nx, const double *y, size_t ny)
{
	double N = (double)(nx + ny), a2 = 0;
	const double *s[2] = { x, y };
	const size_t n[2] = { nx, ny };
	double z[200];
	size_t L = 0;
	for (int k = 0; k < 2; k++)
		for (size_t i = 0; i < n[k]; i++) {
			bool seen = false;
			for (size_t j = 0; j < L; j++)
				seen |= z[j] == s[k][i];
			if (!seen)
				z[L++] = s[k][i];
		}
	for (int k = 0; k < 2; k++) {
		double inner = 0;
		for (size_t j = 0; j < L; j++) {
			double l = 0, b = 0, f = 0, m = 0;
			for (int q = 0; q < 2; q++)
				for (size_t i = 0; i < n[q]; i++) {
					l += s[q][i] == z[j];
					b += s[q][i] <= z[j];
					if (q == k) {
						f += s[q][i] == z[j];
						m += s[q][i] <= z[j];
					}
				}
			double ma = m - f / 2, ba = b - l / 2;
			inner += l * (N * ma - (double)n[k] * ba) * (N * ma - (double)n[k] * ba) / (ba * (N - ba) - N * l / 4);
		}
		a2 += inner / (double)n[k];
	}
	return a2 * (N - 1) / (N * N);
}

static void anderson_darling(void **state)
{
	(void)state;
	const double z[] = { 1.248, 1.933, 2.492, 3.070, 3.857 }, p[] = { 0.25, 0.10, 0.05, 0.025, 0.01 };
	/* 3% of slack: the tables' points are older and rounded; adinf is
	 * accurate to 2e-6 (Marsaglia & Marsaglia 2004) and puts 1.02% above
	 * 3.857. */
	for (int i = 0; i < 5; i++)
		if (fabs(stats_ad_inf_sf(z[i]) / p[i] - 1) > 0.03)
			fail_msg("P(A > %g) = %g, table %g", z[i], stats_ad_inf_sf(z[i]), p[i]);
	/* The two pieces of the tail meet at 8.162. */
	assert_true(fabs(stats_ad_inf_sf(8.162 - 1e-9) / stats_ad_inf_sf(8.1621) - 1) < 1e-3);
	for (double z = 0.1; z < 30; z += 0.05)
		assert_true(stats_ad_inf_sf(z + 0.05) < stats_ad_inf_sf(z));
	assert_true(stats_ad_inf_sf(20) > 0 && stats_ad_inf_sf(20) < 1e-8);

	struct stats_rng rng;
	stats_rng_seed(&rng, 3);
	for (int t = 0; t < 50; t++) {
		double x[60], y[70];
		size_t nx = 5 + t % 50, ny = 7 + (t * 7) % 60;
		for (size_t i = 0; i < nx; i++)
			x[i] = floor(8 * stats_rng_uniform(&rng));          /* 8 values: many ties */
		for (size_t i = 0; i < ny; i++)
			y[i] = floor(8 * stats_rng_uniform(&rng) + (t % 3)); /* and sometimes shifted */
		stats_sort(x, nx);
		stats_sort(y, ny);
		struct stats_ad r;
		assert_int_equal(stats_ad2(x, nx, y, ny, 0, 0, NULL, &r), 0);
		if (fabs(r.a2 - ad_naive(x, nx, y, ny)) > 1e-9 * (1 + r.a2))
			fail_msg("A2 %.12g, by the definition %.12g", r.a2, ad_naive(x, nx, y, ny));
		/* The Kolmogorov-Smirnov distance, by the definition. */
		double d = 0;
		for (int v = 0; v < 12; v++) {
			double fx = 0, fy = 0;
			for (size_t i = 0; i < nx; i++)
				fx += x[i] <= v;
			for (size_t i = 0; i < ny; i++)
				fy += y[i] <= v;
			d = fmax(d, fabs(fx / (double)nx - fy / (double)ny));
		}
		assert_true(fabs(r.ks_d - d) < 1e-12);
	}
	/* Identical samples: A2 0, p 1; separated: p small, and by permutation
	 * no smaller than 1 / (perms + 1). */
	const double a[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }, b[] = { 11, 12, 13, 14, 15, 16, 17, 18, 19, 20 };
	struct stats_ad r;
	assert_int_equal(stats_ad2(a, 10, a, 10, 100, 0, &rng, &r), 0);
	assert_true(r.a2 == 0 && r.p == 1 && !r.perm);
	assert_int_equal(stats_ad2(a, 10, b, 10, 0, 0, NULL, &r), 0);
	assert_true(r.p < 1e-3 && !r.perm && r.ks_d == 1);
	assert_int_equal(stats_ad2(a, 10, b, 10, 999, STATS_PERM_STOP, &rng, &r), 0);
	assert_true(r.perm && fabs(r.p - 0.001) < 1e-12);
}

/* The tail scan's Monte Carlo p against its exact permutation p: all
 * C(12, 6) = 924 ways to label 12 tied values. */
static void tail_scan_permutation_p(void **state)
{
	(void)state;
	const double pooled[12] = { 10, 20, 20, 30, 40, 40, 40, 50, 60, 70, 70, 80 };
	const int lab[12] = { 0, 1, 0, 0, 1, 0, 0, 1, 1, 1, 0, 1 }; /* 1: y */
	double x[12], y[12];
	size_t nx = 0, ny = 0;
	for (int i = 0; i < 12; i++) {
		if (lab[i])
			y[ny++] = pooled[i];
		else
			x[nx++] = pooled[i];
	}
	struct stats_rng rng;
	stats_rng_seed(&rng, 5);
	struct stats_tail obs;
	assert_int_equal(stats_tail_test(x, nx, y, ny, 0.5, 20000, 0, &rng, &obs), 0);
	assert_true(obs.tested && obs.k_lo > obs.k_hi && obs.q_lo < obs.q_hi);
	unsigned ge = 0, all = 0;
	for (unsigned m = 0; m < 4096; m++) {
		if (__builtin_popcount(m) != 6)
			continue;
		double px[12], py[12];
		size_t a = 0, b = 0;
		for (int i = 0; i < 12; i++) {
			if (m >> i & 1)
				py[b++] = pooled[i];
			else
				px[a++] = pooled[i];
		}
		struct stats_tail t;
		assert_int_equal(stats_tail_test(px, a, py, b, 0.5, 1, 0, &rng, &t), 0);
		ge += t.stat >= obs.stat * (1 - 1e-12);
		all++;
	}
	assert_int_equal(all, 924);
	double exact = (double)ge / all;
	print_message("tail scan: Monte Carlo p %.4f, exact %.4f\n", obs.p, exact);
	assert_true(fabs(obs.p - exact) < 0.015);
	/* Stopped at 10 permutations that reach it: p = 10 / (drawn). */
	assert_int_equal(stats_tail_test(x, nx, y, ny, 0.5, 20000, STATS_PERM_STOP, &rng, &obs), 0);
	double drawn = 10 / obs.p;
	assert_true(drawn < 20000 && fabs(drawn - round(drawn)) < 1e-9);
	/* One group of tied values in the top: nothing to test. */
	const double c[4] = { 5, 5, 5, 5 };
	assert_int_equal(stats_tail_test(c, 4, c, 4, 0.5, 10, 0, &rng, &obs), 0);
	assert_false(obs.tested);
	assert_true(obs.p == 1);
}

static void holm_adjustment(void **state)
{
	(void)state;
	const double p[4] = { 0.01, 0.04, 0.03, 0.005 }, want[4] = { 0.03, 0.06, 0.06, 0.02 };
	double adj[4];
	stats_holm(p, 4, adj);
	for (int i = 0; i < 4; i++)
		assert_true(fabs(adj[i] - want[i]) < 1e-12);
	const double q[3] = { 0.5, 0.9, 0.7 };
	stats_holm(q, 3, adj);
	assert_true(adj[0] == 1 && adj[1] == 1 && adj[2] == 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mwu_exact_without_ties),
		cmocka_unit_test(mwu_exact_with_ties),
		cmocka_unit_test(mwu_normal_approximation),
		cmocka_unit_test(mwu_min_p_and_errors),
		cmocka_unit_test(median_and_quantile),
		cmocka_unit_test(median_ci_ranks),
		cmocka_unit_test(shift_interval),
		cmocka_unit_test(bootstrap_median_distribution),
		cmocka_unit_test(gamma_and_beta_moments),
		cmocka_unit_test(false_positive_rate_at_most_alpha),
		cmocka_unit_test(signed_rank_exact_and_normal),
		cmocka_unit_test(walsh_interval),
		cmocka_unit_test(paired_false_positive_rate),
		cmocka_unit_test(beta_t_and_welch),
		cmocka_unit_test(harrell_davis_weights),
		cmocka_unit_test(harrell_davis_bootstrap_distribution),
		cmocka_unit_test(anderson_darling),
		cmocka_unit_test(tail_scan_permutation_p),
		cmocka_unit_test(holm_adjustment),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
