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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
