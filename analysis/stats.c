/*
 * The statistics of `vmxlab diff` (stats.h): order-statistic confidence
 * intervals for medians, the Mann-Whitney U test (exact with ties for small
 * samples, else the normal approximation with tie correction), the
 * signed-rank test, an O(1) bootstrap replicate of a median; Welch's test,
 * Harrell-Davis quantiles and their bootstrap, the Anderson-Darling and
 * tail-scan tests with permutation p-values, Holm's correction.
 * References at each function.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

void stats_sort(double *v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_double);
}

double stats_median(const double *v, size_t n)
{
	if (!n)
		return NAN;
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double stats_quantile(const double *v, size_t n, double p)
{
	if (!n)
		return NAN;
	if (p <= 0)
		return v[0];
	if (p >= 1)
		return v[n - 1];
	double h = (double)(n - 1) * p;
	size_t lo = (size_t)floor(h);
	if (lo + 1 >= n)
		return v[n - 1];
	return v[lo] + (h - (double)lo) * (v[lo + 1] - v[lo]);
}

/* Hollander & Wolfe (1999) sect. 3.6, the distribution-free interval for
 * the median (the sign-test interval): the number of samples below the
 * median is Binomial(n, 1/2), so [x_(k), x_(n+1-k)] (1-based) covers it with
 * probability 1 - 2 P(B <= k-1).  The binomial terms are summed exactly by
 * the recurrence P(B=j) = P(B=j-1) (n-j+1)/j, in logs so that large n does
 * not underflow the first term. */
void stats_median_ci(const double *v, size_t n, double conf, struct stats_ci *ci)
{
	memset(ci, 0, sizeof(*ci));
	if (!n) {
		ci->lo = ci->hi = NAN;
		return;
	}
	double tail = (1 - conf) / 2;
	double logp = -(double)n * log(2.0), cum = 0;
	size_t k = 0; /* the largest k with P(B <= k-1) <= tail; 0: none */
	for (size_t j = 0; j < n / 2 + 1; j++) {
		if (j > 0)
			logp += log((double)(n - j + 1)) - log((double)j);
		cum += exp(logp); /* P(B <= j) */
		if (cum <= tail * (1 + 1e-12))
			k = j + 1;
		else
			break;
	}
	if (k == 0) {
		/* Too few samples: the widest interval, with what it achieves. */
		ci->lo = v[0];
		ci->hi = v[n - 1];
		ci->level = n >= 2 ? 1 - 2 * exp(-(double)n * log(2.0)) : 0;
		ci->ok = false;
		return;
	}
	double below = 0; /* P(B <= k-1) */
	logp = -(double)n * log(2.0);
	for (size_t j = 0; j + 1 <= k; j++) {
		if (j > 0)
			logp += log((double)(n - j + 1)) - log((double)j);
		below += exp(logp);
	}
	ci->lo = v[k - 1];
	ci->hi = v[n - k];
	ci->level = 1 - 2 * below;
	ci->ok = true;
}

double stats_normal_cdf(double z)
{
	return 0.5 * erfc(-z / sqrt(2.0));
}

double stats_mwu_min_p(size_t nx, size_t ny)
{
	if (!nx || !ny)
		return 1;
	/* log C(nx+ny, nx) */
	double lc = lgamma((double)(nx + ny + 1)) - lgamma((double)(nx + 1)) - lgamma((double)(ny + 1));
	double p = 2 * exp(-lc);
	return p > 1 ? 1 : p;
}

struct labelled {
	double v;
	int from_x;
};

static int cmp_labelled(const void *a, const void *b)
{
	const struct labelled *x = a, *y = b;
	return (x->v > y->v) - (x->v < y->v);
}

/* The exact null distribution of the doubled rank sum 2W of x, given the
 * tie groups: each group g (size t_g, doubled midrank m_g) contributes
 * c * m_g when c of x's values fall into it, in C(t_g, c) ways; a dynamic
 * programme over the groups counts the ways for every (values taken, 2W).
 * Cheung & Klotz, "The Mann Whitney Wilcoxon distribution using linked
 * lists", Statistica Sinica 7 (1997) - done here with a dense table, which
 * the size limit keeps small.  Returns -1 when out of memory. */
static int exact_p(const size_t *tsize, const long *m2, size_t ngroups, size_t nx, size_t n, long w2, double *p)
{
	long wmax = (long)(nx * (2 * n - nx + 1)); /* 2 * the largest possible rank sum */
	size_t cols = (size_t)wmax + 1, cells = (nx + 1) * cols;
	double *cur = calloc(cells, sizeof(double)), *nxt = calloc(cells, sizeof(double));

	if (!cur || !nxt) {
		free(cur);
		free(nxt);
		return -1;
	}
	cur[0] = 1;
	for (size_t g = 0; g < ngroups; g++) {
		memset(nxt, 0, cells * sizeof(double));
		double binom[STATS_MWU_EXACT_MAX + 1];
		binom[0] = 1;
		for (size_t c = 1; c <= tsize[g]; c++)
			binom[c] = binom[c - 1] * (double)(tsize[g] - c + 1) / (double)c;
		for (size_t a = 0; a <= nx; a++)
			for (long w = 0; w <= wmax; w++) {
				double ways = cur[a * cols + (size_t)w];
				if (ways == 0)
					continue;
				for (size_t c = 0; c <= tsize[g] && a + c <= nx; c++) {
					long w_new = w + (long)c * m2[g];
					if (w_new > wmax)
						break;
					nxt[(a + c) * cols + (size_t)w_new] += ways * binom[c];
				}
			}
		double *t = cur;
		cur = nxt;
		nxt = t;
	}
	double total = 0, le = 0, ge = 0;
	for (long w = 0; w <= wmax; w++) {
		double ways = cur[nx * cols + (size_t)w];
		total += ways;
		if (w <= w2)
			le += ways;
		if (w >= w2)
			ge += ways;
	}
	free(cur);
	free(nxt);
	double q = 2 * (le < ge ? le : ge) / total;
	*p = q > 1 ? 1 : q;
	return 0;
}

/* Mann & Whitney, "On a test of whether one of two random variables is
 * stochastically larger than the other", Ann. Math. Statist. 18 (1947).
 * Midranks for ties; U = R_x - nx (nx+1) / 2. */
int stats_mann_whitney(const double *x, size_t nx, const double *y, size_t ny, struct stats_mwu *r)
{
	size_t n = nx + ny;

	memset(r, 0, sizeof(*r));
	r->p = 1;
	if (!nx || !ny)
		return -1;
	struct labelled *all = malloc(n * sizeof(*all));
	size_t *tsize = malloc(n * sizeof(*tsize));
	long *m2 = malloc(n * sizeof(*m2));
	if (!all || !tsize || !m2) {
		free(all);
		free(tsize);
		free(m2);
		return -1;
	}
	for (size_t i = 0; i < nx; i++)
		all[i] = (struct labelled){ x[i], 1 };
	for (size_t i = 0; i < ny; i++)
		all[nx + i] = (struct labelled){ y[i], 0 };
	qsort(all, n, sizeof(*all), cmp_labelled);
	/* Tie groups: size, doubled midrank 2s + t + 1 for ranks s+1 .. s+t. */
	size_t ngroups = 0;
	long w2 = 0;            /* twice x's rank sum */
	double ties = 0;        /* sum of t^3 - t */
	for (size_t s = 0; s < n;) {
		size_t e = s;
		while (e < n && all[e].v == all[s].v)
			e++;
		size_t t = e - s;
		long mid2 = (long)(2 * s + t + 1);
		for (size_t i = s; i < e; i++)
			if (all[i].from_x)
				w2 += mid2;
		tsize[ngroups] = t;
		m2[ngroups++] = mid2;
		ties += (double)t * (double)t * (double)t - (double)t;
		s = e;
	}
	r->u = (double)w2 / 2 - (double)nx * (double)(nx + 1) / 2;
	int rc = 0;
	if (ngroups == 1) {
		r->p = 1; /* every value tied: no evidence either way */
		r->exact = n <= STATS_MWU_EXACT_MAX;
	} else if (n <= STATS_MWU_EXACT_MAX) {
		r->exact = true;
		rc = exact_p(tsize, m2, ngroups, nx, n, w2, &r->p);
	} else {
		/* Hollander & Wolfe (1999) eq. 4.11: the variance of U under H0
		 * with ties, nx ny / 12 * ((n+1) - sum(t^3 - t) / (n (n-1))). */
		double mu = (double)nx * (double)ny / 2;
		double var = (double)nx * (double)ny / 12 * ((double)(n + 1) - ties / ((double)n * (double)(n - 1)));
		double d = fabs(r->u - mu) - 0.5;
		if (var <= 0) {
			r->p = 1;
		} else {
			if (d < 0)
				d = 0;
			r->z = (r->u >= mu ? d : -d) / sqrt(var);
			r->p = erfc(fabs(r->z) / sqrt(2.0));
			if (r->p > 1)
				r->p = 1;
		}
	}
	free(all);
	free(tsize);
	free(m2);
	return rc;
}

/* The number of arrangements giving each U = 0 .. nx ny when there are no
 * ties: the sorted values are taken one by one; an x placed after i values,
 * a of them x, adds the i - a y's before it to U (the counts Mann & Whitney
 * 1947 tabulate by their recurrence).  Returns NULL when out of memory. */
static double *u_null_counts(size_t nx, size_t ny)
{
	size_t umax = nx * ny, cols = umax + 1;
	double *cur = calloc((nx + 1) * cols, sizeof(double)), *nxt = calloc((nx + 1) * cols, sizeof(double));

	if (!cur || !nxt) {
		free(cur);
		free(nxt);
		return NULL;
	}
	cur[0] = 1;
	for (size_t i = 0; i < nx + ny; i++) {
		memset(nxt, 0, (nx + 1) * cols * sizeof(double));
		for (size_t a = 0; a <= nx && a <= i; a++) {
			if (i - a > ny)
				continue;
			for (size_t u = 0; u <= umax; u++) {
				double w = cur[a * cols + u];
				if (w == 0)
					continue;
				if (i - a < ny)
					nxt[a * cols + u] += w;                    /* a y */
				if (a < nx && u + (i - a) <= umax)
					nxt[(a + 1) * cols + u + (i - a)] += w;    /* an x after i - a y's */
			}
		}
		double *t = cur;
		cur = nxt;
		nxt = t;
	}
	double *counts = malloc(cols * sizeof(double));
	if (counts)
		memcpy(counts, cur + nx * cols, cols * sizeof(double));
	free(cur);
	free(nxt);
	return counts;
}

/* z with P(Z > z) = tail for a standard normal Z: 1.96 for 0.025, other
 * tails by bisection. */
static double upper_normal_quantile(double tail)
{
	if (fabs(tail - 0.025) < 1e-12)
		return 1.959963984540054;
	double lo = 0, hi = 10;
	for (int it = 0; it < 100; it++) {
		double mid = (lo + hi) / 2;
		if (1 - stats_normal_cdf(mid) > tail)
			lo = mid;
		else
			hi = mid;
	}
	return (lo + hi) / 2;
}

int stats_shift_ci(const double *x, size_t nx, const double *y, size_t ny, double conf, struct stats_ci *ci)
{
	size_t nd = nx * ny;
	double tail = (1 - conf) / 2;

	memset(ci, 0, sizeof(*ci));
	ci->lo = ci->hi = NAN;
	if (!nx || !ny)
		return -1;
	double *d = malloc(nd * sizeof(double));
	if (!d)
		return -1;
	for (size_t i = 0; i < nx; i++)
		for (size_t j = 0; j < ny; j++)
			d[i * ny + j] = y[j] - x[i];
	stats_sort(d, nd);
	size_t k = 0;          /* the largest k with P(U <= k-1) <= tail */
	double below = 0;      /* P(U <= k-1) */
	if (nx + ny <= STATS_MWU_EXACT_MAX) {
		double *c = u_null_counts(nx, ny);
		if (!c) {
			free(d);
			return -1;
		}
		double total = 0, cum = 0;
		for (size_t u = 0; u <= nd; u++)
			total += c[u];
		for (size_t u = 0; u <= nd / 2; u++) {
			cum += c[u];
			if (cum / total > tail * (1 + 1e-12))
				break;
			k = u + 1;
			below = cum / total;
		}
		free(c);
	} else {
		/* Hollander & Wolfe (1999) eq. 4.41: k = nx ny / 2 - z sqrt(nx ny (n+1) / 12). */
		double z = upper_normal_quantile(tail);
		double kk = floor((double)nd / 2 - z * sqrt((double)nd * (double)(nx + ny + 1) / 12));
		k = kk >= 1 ? (size_t)kk : 0;
		below = k ? stats_normal_cdf(((double)k - 0.5 - (double)nd / 2) / sqrt((double)nd * (double)(nx + ny + 1) / 12))
			  : 0;
	}
	if (!k) {
		ci->lo = d[0];
		ci->hi = d[nd - 1];
		ci->level = 1 - 2 / exp(lgamma((double)(nx + ny + 1)) - lgamma((double)(nx + 1)) - lgamma((double)(ny + 1)));
		ci->ok = false;
	} else {
		ci->lo = d[k - 1];
		ci->hi = d[nd - k];
		ci->level = 1 - 2 * below;
		ci->ok = true;
	}
	free(d);
	return 0;
}

/* ------------------------------------------------------------ paired values */

/* The null distribution of W+ for n differences with doubled ranks r2[]
 * (integers; midranks of ties are halves): each difference is positive or
 * negative with probability 1/2, independently.  prob[s] = P(2 W+ = s) for
 * s = 0 .. sum(r2).  NULL when out of memory. */
static double *signed_rank_null(const long *r2, size_t n, long *smax)
{
	long total = 0;
	for (size_t i = 0; i < n; i++)
		total += r2[i];
	double *prob = calloc((size_t)total + 1, sizeof(double));
	if (!prob)
		return NULL;
	prob[0] = 1;
	long reach = 0;
	for (size_t i = 0; i < n; i++) {
		reach += r2[i];
		for (long s = reach; s >= 0; s--)
			prob[s] = (prob[s] + (s >= r2[i] ? prob[s - r2[i]] : 0)) / 2;
	}
	*smax = total;
	return prob;
}

int stats_signed_rank(const double *d, size_t n, struct stats_wsr *r)
{
	memset(r, 0, sizeof(*r));
	r->p = 1;
	/* |d| with its sign; zero differences carry no sign and are dropped
	 * (Wilcoxon 1945). */
	struct labelled *all = malloc((n ? n : 1) * sizeof(*all));
	long *r2 = malloc((n ? n : 1) * sizeof(long));
	if (!all || !r2) {
		free(all);
		free(r2);
		return -1;
	}
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (d[i] != 0)
			all[m++] = (struct labelled){ fabs(d[i]), d[i] > 0 };
	r->n = m;
	qsort(all, m, sizeof(*all), cmp_labelled);
	long w2 = 0;
	double ties = 0;
	for (size_t s = 0; s < m;) {
		size_t e = s;
		while (e < m && all[e].v == all[s].v)
			e++;
		size_t t = e - s;
		long mid2 = (long)(2 * s + t + 1);
		for (size_t i = s; i < e; i++) {
			r2[i] = mid2;
			if (all[i].from_x)
				w2 += mid2;
		}
		ties += (double)t * (double)t * (double)t - (double)t;
		s = e;
	}
	r->w = (double)w2 / 2;
	int rc = 0;
	if (m == 0) {
		r->p = 1;
		r->exact = true;
	} else if (m <= STATS_WSR_EXACT_MAX) {
		long smax;
		double *prob = signed_rank_null(r2, m, &smax);
		if (!prob) {
			rc = -1;
		} else {
			double lo = 0, hi = 0;
			for (long s = 0; s <= smax; s++) {
				if (s <= w2)
					lo += prob[s];
				if (s >= w2)
					hi += prob[s];
			}
			r->p = fmin(1, 2 * fmin(lo, hi));
			r->exact = true;
			free(prob);
		}
	} else {
		/* Hollander & Wolfe (1999) sect. 3.1: E W+ = m(m+1)/4,
		 * var W+ = m(m+1)(2m+1)/24 - sum(t^3 - t)/48. */
		double mu = (double)m * (double)(m + 1) / 4;
		double var = (double)m * (double)(m + 1) * (double)(2 * m + 1) / 24 - ties / 48;
		double dd = fabs(r->w - mu) - 0.5;
		if (var <= 0) {
			r->p = 1;
		} else {
			if (dd < 0)
				dd = 0;
			r->z = (r->w >= mu ? dd : -dd) / sqrt(var);
			r->p = fmin(1, erfc(fabs(r->z) / sqrt(2.0)));
		}
	}
	free(all);
	free(r2);
	return rc;
}

int stats_walsh_ci(const double *d, size_t n, double conf, double *estimate, struct stats_ci *ci)
{
	size_t nw = n * (n + 1) / 2;
	double tail = (1 - conf) / 2;

	memset(ci, 0, sizeof(*ci));
	ci->lo = ci->hi = *estimate = NAN;
	if (!n)
		return -1;
	double *w = malloc(nw * sizeof(double));
	long *r2 = malloc(n * sizeof(long));
	if (!w || !r2) {
		free(w);
		free(r2);
		return -1;
	}
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t j = i; j < n; j++)
			w[k++] = (d[i] + d[j]) / 2;
	stats_sort(w, nw);
	*estimate = stats_median(w, nw);
	/* k: the largest with P(W+ <= k-1) <= tail, W+ without ties
	 * (Hollander & Wolfe 1999, sect. 3.3, eq. 3.24). */
	k = 0;
	double below = 0;
	if (n <= STATS_WSR_EXACT_MAX) {
		for (size_t i = 0; i < n; i++)
			r2[i] = 2 * (long)(i + 1);
		long smax;
		double *prob = signed_rank_null(r2, n, &smax);
		if (!prob) {
			free(w);
			free(r2);
			return -1;
		}
		double cum = 0;
		for (size_t u = 0; 2 * u <= (size_t)smax / 2; u++) {
			cum += prob[2 * u];
			if (cum > tail * (1 + 1e-12))
				break;
			k = u + 1;
			below = cum;
		}
		free(prob);
	} else {
		double z = upper_normal_quantile(tail);
		double mu = (double)nw / 2, sd = sqrt((double)n * (double)(n + 1) * (double)(2 * n + 1) / 24);
		double kk = floor(mu - z * sd);
		k = kk >= 1 ? (size_t)kk : 0;
		below = k ? stats_normal_cdf(((double)k - 0.5 - mu) / sd) : 0;
	}
	if (!k) {
		ci->lo = w[0];
		ci->hi = w[nw - 1];
		ci->level = 1 - 2 * ldexp(1, -(int)n);
		ci->ok = false;
	} else {
		ci->lo = w[k - 1];
		ci->hi = w[nw - k];
		ci->level = 1 - 2 * below;
		ci->ok = true;
	}
	free(w);
	free(r2);
	return 0;
}

/* ------------------------------------------------------------ bootstrap */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void stats_rng_seed(struct stats_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t stats_rng_next(struct stats_rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

double stats_rng_uniform(struct stats_rng *r)
{
	/* 53 random bits, shifted off zero: (k + 0.5) / 2^53. */
	return ((double)(stats_rng_next(r) >> 11) + 0.5) * 0x1.0p-53;
}

static double rng_normal(struct stats_rng *r)
{
	/* Box-Muller. */
	double u = stats_rng_uniform(r), v = stats_rng_uniform(r);
	return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

/* Marsaglia & Tsang, "A simple method for generating gamma variables", ACM
 * TOMS 26 (2000); shape < 1 through Gamma(a+1) U^(1/a). */
double stats_rng_gamma(struct stats_rng *r, double a)
{
	if (a < 1)
		return stats_rng_gamma(r, a + 1) * pow(stats_rng_uniform(r), 1 / a);
	double d = a - 1.0 / 3, c = 1 / sqrt(9 * d);
	for (;;) {
		double x = rng_normal(r), v = 1 + c * x;
		if (v <= 0)
			continue;
		v = v * v * v;
		double u = stats_rng_uniform(r);
		if (log(u) < 0.5 * x * x + d - d * v + d * log(v))
			return d * v;
	}
}

double stats_rng_beta(struct stats_rng *r, double a, double b)
{
	double x = stats_rng_gamma(r, a), y = stats_rng_gamma(r, b);
	return x / (x + y);
}

static size_t index_of(double u, size_t n)
{
	size_t i = (size_t)(u * (double)n);
	return i < n ? i : n - 1;
}

double stats_boot_median(struct stats_rng *r, const double *v, size_t n)
{
	if (!n)
		return NAN;
	if (n == 1)
		return v[0];
	if (n % 2) {
		size_t k = (n + 1) / 2;
		return v[index_of(stats_rng_beta(r, (double)k, (double)(n + 1 - k)), n)];
	}
	size_t k = n / 2;
	double u1 = stats_rng_beta(r, (double)k, (double)(n + 1 - k));
	/* The smallest of the n-k uniforms above u1: Beta(1, n-k) = 1 - U^(1/(n-k)). */
	double u2 = u1 + (1 - u1) * (1 - pow(stats_rng_uniform(r), 1.0 / (double)(n - k)));
	return (v[index_of(u1, n)] + v[index_of(u2, n)]) / 2;
}

/* ------------------------------------------------------------ distributions */

/* The continued fraction of the incomplete beta function, evaluated by the
 * modified Lentz method (Press et al., "Numerical Recipes", 3rd ed. 2007,
 * sect. 6.4 and 5.2).  It converges in O(sqrt(max(a, b))) steps for x below
 * (a+1)/(a+b+2); the limit allows a and b of 10^6. */
static double betacf(double a, double b, double x)
{
	const double tiny = 1e-300, eps = 1e-15;
	double qab = a + b, qap = a + 1, qam = a - 1;
	double c = 1, d = 1 - qab * x / qap;

	if (fabs(d) < tiny)
		d = tiny;
	d = 1 / d;
	double h = d;
	for (int m = 1; m <= 200000; m++) {
		double m2 = 2.0 * m;
		double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
		d = 1 + aa * d;
		if (fabs(d) < tiny)
			d = tiny;
		c = 1 + aa / c;
		if (fabs(c) < tiny)
			c = tiny;
		d = 1 / d;
		h *= d * c;
		aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
		d = 1 + aa * d;
		if (fabs(d) < tiny)
			d = tiny;
		c = 1 + aa / c;
		if (fabs(c) < tiny)
			c = tiny;
		d = 1 / d;
		double del = d * c;
		h *= del;
		if (fabs(del - 1) < eps)
			break;
	}
	return h;
}

double stats_betai(double a, double b, double x)
{
	if (!(x > 0))
		return 0;
	if (x >= 1)
		return 1;
	double lbt = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
	if (x < (a + 1) / (a + b + 2))
		return exp(lbt) * betacf(a, b, x) / a;
	return 1 - exp(lbt) * betacf(b, a, 1 - x) / b;
}

double stats_t_two_sided_p(double t, double df)
{
	if (isnan(t) || !(df > 0))
		return NAN;
	if (isinf(t))
		return 0;
	/* P(|T| >= t) = I_{df/(df+t^2)}(df/2, 1/2) (Abramowitz & Stegun 26.5.27
	 * and 26.7.1). */
	return stats_betai(df / 2, 0.5, df / (df + t * t));
}

double stats_t_quantile(double p, double df)
{
	/* The upper quantile: the t with P(T > t) = 1 - p, p > 0.5, by bisection
	 * on the two-sided tail. */
	double tail = 2 * (1 - p), lo = 0, hi = 1;
	while (stats_t_two_sided_p(hi, df) > tail && hi < 1e12)
		hi *= 2;
	for (int it = 0; it < 200; it++) {
		double mid = (lo + hi) / 2;
		if (stats_t_two_sided_p(mid, df) > tail)
			lo = mid;
		else
			hi = mid;
	}
	return (lo + hi) / 2;
}

/* Welch, "The generalization of 'Student's' problem when several different
 * population variances are involved", Biometrika 34 (1947); the degrees of
 * freedom of Satterthwaite (1946). */
int stats_welch(const double *x, size_t nx, const double *y, size_t ny, double conf, struct stats_welch *r)
{
	memset(r, 0, sizeof(*r));
	r->p = 1;
	r->lo = r->hi = r->t = r->df = NAN;
	if (nx < 2 || ny < 2)
		return -1;
	double mx = 0, my = 0, vx = 0, vy = 0;
	for (size_t i = 0; i < nx; i++)
		mx += x[i];
	for (size_t i = 0; i < ny; i++)
		my += y[i];
	mx /= (double)nx;
	my /= (double)ny;
	for (size_t i = 0; i < nx; i++)
		vx += (x[i] - mx) * (x[i] - mx);
	for (size_t i = 0; i < ny; i++)
		vy += (y[i] - my) * (y[i] - my);
	vx /= (double)(nx - 1);
	vy /= (double)(ny - 1);
	r->mean_x = mx;
	r->mean_y = my;
	r->diff = my - mx;
	double ex = vx / (double)nx, ey = vy / (double)ny, se2 = ex + ey;
	if (!(se2 > 0)) {
		/* Both sides constant: equal or certainly different. */
		r->p = r->diff == 0 ? 1 : 0;
		r->lo = r->hi = r->diff;
		return 0;
	}
	double se = sqrt(se2);
	r->t = r->diff / se;
	r->df = se2 * se2 / (ex * ex / (double)(nx - 1) + ey * ey / (double)(ny - 1));
	r->p = stats_t_two_sided_p(r->t, r->df);
	double q = stats_t_quantile(1 - (1 - conf) / 2, r->df);
	r->lo = r->diff - q * se;
	r->hi = r->diff + q * se;
	return 0;
}

/* ------------------------------------------------------------ Harrell-Davis */

int stats_hd_init(struct stats_hd *h, size_t n, double q)
{
	const double eps = 1e-10;

	memset(h, 0, sizeof(*h));
	h->n = n;
	h->q = q;
	if (!n || !(q > 0 && q < 1))
		return -1;
	double a = (double)(n + 1) * q, b = (double)(n + 1) * (1 - q);
	/* The window of ranks outside which the weights sum to at most 2 eps:
	 * lo the smallest rank i with I_{i/n} > eps, hi the smallest with
	 * I_{i/n} >= 1 - eps (I is monotone: bisection). */
	size_t l = 1, u = n;
	while (l < u) {
		size_t m = l + (u - l) / 2;
		if (stats_betai(a, b, (double)m / (double)n) > eps)
			u = m;
		else
			l = m + 1;
	}
	size_t lo = l;
	l = lo;
	u = n;
	while (l < u) {
		size_t m = l + (u - l) / 2;
		if (stats_betai(a, b, (double)m / (double)n) >= 1 - eps)
			u = m;
		else
			l = m + 1;
	}
	size_t hi = l;
	h->w = malloc((hi - lo + 1) * sizeof(double));
	if (!h->w)
		return -1;
	double prev = stats_betai(a, b, (double)(lo - 1) / (double)n), sum = 0;
	for (size_t i = lo; i <= hi; i++) {
		double cur = i == n ? 1 : stats_betai(a, b, (double)i / (double)n);
		h->w[i - lo] = cur - prev;
		sum += cur - prev;
		prev = cur;
	}
	for (size_t i = lo; i <= hi; i++)
		h->w[i - lo] /= sum;
	h->lo = lo;
	h->hi = hi;
	return 0;
}

void stats_hd_free(struct stats_hd *h)
{
	free(h->w);
	h->w = NULL;
}

/* Summed as x_ref + sum w_i (x_i - x_ref) around a value of the window, so
 * that a window of equal values gives that value exactly, whatever the
 * rounding of the weights' sum. */
double stats_hd_estimate(const struct stats_hd *h, const double *sorted)
{
	double ref = sorted[(h->lo + h->hi) / 2 - 1], s = 0;
	for (size_t i = h->lo; i <= h->hi; i++)
		s += h->w[i - h->lo] * (sorted[i - 1] - ref);
	return ref + s;
}

static int cmp_range(const void *a, const void *b)
{
	const size_t *x = a, *y = b;
	return (x[0] > y[0]) - (x[0] < y[0]);
}

static double rng_exp(struct stats_rng *r)
{
	return -log(stats_rng_uniform(r));
}

/* One bootstrap replicate of the Harrell-Davis estimates of nq quantiles of
 * n sorted values, drawn without drawing the n values.  Drawing n values
 * with replacement is x[floor(n U_i)] for n uniforms, and floor(n U) is
 * monotone in U, so the resample's i-th smallest value is x[floor(n U_(i))]
 * with U_(i) the i-th uniform order statistic.  U_(i) = S_i / S_{n+1} where
 * S_i is a sum of i standard exponentials (Renyi's representation; David &
 * Nagaraja, "Order Statistics", 3rd ed. 2003, sect. 2.5): only the ranks in
 * the estimators' windows are drawn, one exponential each; a gap of g ranks
 * is one Gamma(g).  s: scratch of n + 1 doubles. */
static void hd_boot_one(struct stats_rng *r, const double *x, size_t n, const struct stats_hd *h, size_t nq,
			const size_t (*ranges)[2], size_t nranges, double *s, double *out)
{
	double S = 0;
	size_t at = 0;
	for (size_t k = 0; k < nranges; k++) {
		size_t lo = ranges[k][0], hi = ranges[k][1];
		if (lo > at)
			S += stats_rng_gamma(r, (double)(lo - at));
		s[lo] = S;
		for (size_t i = lo + 1; i <= hi; i++) {
			S += rng_exp(r);
			s[i] = S;
		}
		at = hi;
	}
	double total = S + stats_rng_gamma(r, (double)(n + 1 - at));
	for (size_t j = 0; j < nq; j++) {
		double ref = x[(h[j].lo + h[j].hi) / 2 - 1], e = 0;
		for (size_t i = h[j].lo; i <= h[j].hi; i++)
			e += h[j].w[i - h[j].lo] * (x[index_of(s[i] / total, n)] - ref);
		out[j] = ref + e;
	}
}

/* The windows of the estimators merged into disjoint ranges, ascending. */
static size_t hd_ranges(const struct stats_hd *h, size_t nq, size_t (*ranges)[2])
{
	size_t m = 0;
	for (size_t j = 0; j < nq; j++) {
		ranges[m][0] = h[j].lo;
		ranges[m][1] = h[j].hi;
		m++;
	}
	qsort(ranges, m, sizeof(*ranges), cmp_range);
	size_t k = 0;
	for (size_t j = 1; j < m; j++) {
		if (ranges[j][0] <= ranges[k][1] + 1) {
			if (ranges[j][1] > ranges[k][1])
				ranges[k][1] = ranges[j][1];
		} else {
			k++;
			ranges[k][0] = ranges[j][0];
			ranges[k][1] = ranges[j][1];
		}
	}
	return m ? k + 1 : 0;
}

int stats_hd_boot(struct stats_rng *r, const double *sorted, size_t n, const struct stats_hd *h, size_t nq,
		  unsigned boot, double *out)
{
	if (!n || !nq || nq > STATS_QCMP_MAX)
		return -1;
	size_t ranges[STATS_QCMP_MAX][2];
	size_t nr = hd_ranges(h, nq, ranges);
	double *s = malloc((n + 1) * sizeof(double));
	if (!s)
		return -1;
	for (unsigned b = 0; b < boot; b++)
		hd_boot_one(r, sorted, n, h, nq, (const size_t(*)[2])ranges, nr, s, out + (size_t)b * nq);
	free(s);
	return 0;
}

/* Wilcox, Erceg-Hurn, Clark & Carlson, "Comparing two independent groups
 * via the lower and upper quantiles", J. Statist. Comput. Simul. 84 (2014):
 * the Harrell-Davis estimates (Harrell & Davis, Biometrika 69, 1982) of
 * each group, their difference D, B percentile-bootstrap replicates D*,
 * p = 2 min(p*, 1 - p*) with p* = P(D* < 0) + P(D* = 0) / 2.  Shown there
 * to keep its level with tied values, where methods built on a single
 * order statistic or on an estimated standard error do not.  When every
 * replicate falls on one side (p* = 0 or 1), the bootstrap says no more
 * than p < 1/B; p is then taken from the normal approximation of the
 * replicates (their mean over their standard deviation), capped at 1/B. */
int stats_quantile_compare(const double *x, size_t nx, const double *y, size_t ny, const double *qs, size_t nq,
			   unsigned boot, struct stats_rng *rng, double conf, struct stats_qcmp *out)
{
	struct stats_hd hx[STATS_QCMP_MAX], hy[STATS_QCMP_MAX];
	double *bx = NULL, *by = NULL, *d = NULL;
	int rc = -1;

	if (!nx || !ny || !nq || nq > STATS_QCMP_MAX || !boot)
		return -1;
	memset(hx, 0, sizeof(hx));
	memset(hy, 0, sizeof(hy));
	for (size_t j = 0; j < nq; j++)
		if (stats_hd_init(&hx[j], nx, qs[j]) || stats_hd_init(&hy[j], ny, qs[j]))
			goto out;
	bx = malloc((size_t)boot * nq * sizeof(double));
	by = malloc((size_t)boot * nq * sizeof(double));
	d = malloc((size_t)boot * sizeof(double));
	if (!bx || !by || !d || stats_hd_boot(rng, x, nx, hx, nq, boot, bx) || stats_hd_boot(rng, y, ny, hy, nq, boot, by))
		goto out;
	for (size_t j = 0; j < nq; j++) {
		struct stats_qcmp *o = &out[j];
		memset(o, 0, sizeof(*o));
		o->q = qs[j];
		o->est_x = stats_hd_estimate(&hx[j], x);
		o->est_y = stats_hd_estimate(&hy[j], y);
		double below = 0, sum = 0, sum2 = 0;
		for (unsigned b = 0; b < boot; b++) {
			double dd = by[(size_t)b * nq + j] - bx[(size_t)b * nq + j];
			below += dd < 0 ? 1 : dd == 0 ? 0.5 : 0;
			sum += dd;
			sum2 += dd * dd;
			/* The ratio's replicates, for the interval of the change. */
			d[b] = bx[(size_t)b * nq + j] > 0 ? by[(size_t)b * nq + j] / bx[(size_t)b * nq + j] - 1 : NAN;
		}
		double ps = below / boot;
		o->p = 2 * fmin(ps, 1 - ps);
		if (o->p == 0) {
			double mean = sum / boot, var = sum2 / boot - mean * mean;
			o->p = var > 0 ? fmin(1.0 / boot, erfc(fabs(mean) / sqrt(var) / sqrt(2.0))) : mean != 0 ? 0 : 1;
		}
		o->p = fmin(1, o->p);
		size_t nd = 0;
		for (unsigned b = 0; b < boot; b++)
			if (!isnan(d[b]))
				d[nd++] = d[b];
		stats_sort(d, nd);
		o->change = o->est_x > 0 ? o->est_y / o->est_x - 1 : NAN;
		o->lo = nd ? stats_quantile(d, nd, (1 - conf) / 2) : NAN;
		o->hi = nd ? stats_quantile(d, nd, 1 - (1 - conf) / 2) : NAN;
	}
	rc = 0;
out:
	for (size_t j = 0; j < nq; j++) {
		stats_hd_free(&hx[j]);
		stats_hd_free(&hy[j]);
	}
	free(bx);
	free(by);
	free(d);
	return rc;
}

/* ------------------------------------------------------------ Anderson-Darling */

/* The limiting distribution of the Anderson-Darling statistic, upper tail:
 * P(A > z) for A = sum_j chi2_1,j / (j (j+1)).  Up to z = 8.16 from
 * Marsaglia & Marsaglia, "Evaluating the Anderson-Darling distribution",
 * J. Statist. Software 9(2) (2004), adinf(), absolute error < 2e-6.
 * Above, from the tail of the largest term: P(A > z) ~ prod_{j>=2} (1 -
 * 2/(j(j+1)))^(-1/2) P(chi2_1 / 2 > z) = sqrt(3) erfc(sqrt(z)) (the product
 * telescopes to 1/3), which meets adinf at 8.16 (p 9.2e-5) and becomes
 * exact as z grows, where adinf's polynomial, a fit over moderate z, turns
 * away (at z = 12 it is 85 times smaller). */
#define AD_TAIL_FROM 8.162061950387116
double stats_ad_inf_sf(double z)
{
	if (!(z > 0))
		return 1;
	if (z >= AD_TAIL_FROM)
		return sqrt(3.0) * erfc(sqrt(z));
	if (z < 2)
		return 1 - exp(-1.2337141 / z) / sqrt(z) *
				   (2.00012 + (.247105 - (.0649821 - (.0347962 - (.011672 - .00168691 * z) * z) * z) * z) * z);
	return -expm1(-exp(1.0776 - (2.30695 - (.43424 - (.082433 - (.008056 - .0003146 * z) * z) * z) * z) * z));
}

/* ------------------------------------------------------------ permutation p-values */

/* A Monte Carlo permutation p-value, sequential (Besag & Clifford,
 * "Sequential Monte Carlo p-values", Biometrika 78, 1991): permutations
 * are drawn until `stop` of them reach the observed statistic (0: never
 * stop), or all perms are drawn.  Stopped after `done` with ge = stop: p =
 * ge / done; else p = (ge + 1) / (perms + 1) (Davison & Hinkley,
 * "Bootstrap Methods and their Application", 1997, sect. 4.2).  Either is
 * a valid p-value; a line that is far from significant costs a few dozen
 * permutations instead of all. */
static bool perm_more(size_t ge, unsigned stop)
{
	return !stop || ge < stop;
}

static double perm_p(size_t ge, unsigned done, unsigned perms, unsigned stop)
{
	if (stop && ge >= stop && done < perms)
		return (double)ge / (double)done;
	return (1.0 + (double)ge) / (1.0 + perms);
}

/* A2_akN of Scholz & Stephens (1987), eq. 7 (midranks for ties), k = 2,
 * from the groups of tied pooled values: l[g] values, fx[g] of them x's. */
static double ad_statistic(const double *l, const double *fx, size_t ng, double n1, double n2)
{
	double N = n1 + n2, below = 0, mx = 0, my = 0, s1 = 0, s2 = 0;
	for (size_t g = 0; g < ng; g++) {
		double fy = l[g] - fx[g], b = below + l[g] / 2;
		double ax = mx + fx[g] / 2, ay = my + fy / 2;
		double den = b * (N - b) - N * l[g] / 4;
		if (den > 0) {
			s1 += l[g] / N * (N * ax - n1 * b) * (N * ax - n1 * b) / den;
			s2 += l[g] / N * (N * ay - n2 * b) * (N * ay - n2 * b) / den;
		}
		below += l[g];
		mx += fx[g];
		my += fy;
	}
	return (N - 1) / N * (s1 / n1 + s2 / n2);
}

/* Scholz & Stephens, "K-sample Anderson-Darling tests", JASA 82 (1987):
 * A2_akN, their statistic for samples with ties (eq. 7, midranks), for
 * k = 2; its standardisation T = (A2 - (k-1)) / sigma_N with sigma_N^2 the
 * variance under H0 for continuous samples (their sect. 3); T's null
 * distribution approached by that of the limit (A_inf - 1) / sigma_inf,
 * sigma_inf^2 = 2 (pi^2 - 9) / 3, which is what their table for k - 1 = 1
 * holds (1.960 at 0.05, 6.546 at 0.001).  Without ties that p keeps its
 * level (8000 A/A comparisons of 2000 + 2000 values: 5.1% below 0.05).
 * With ties the tied statistic varies more than sigma_N says (on a 10 ns
 * grid with handler-like spread, 6.4%; with 5 distinct values, 8.8%), so
 * when that p is below STATS_AD_PERM_BELOW it is replaced by the
 * permutation p (Good 2000, ch. 3): random assignments of the labels to
 * the pooled values, A2 recomputed for each, p as perm_p says - exact in
 * level whatever the ties.  Above that bound the
 * asymptotic p is kept: it only decides "not significant" there, and the
 * permutation p is larger still when the asymptotic one errs low.
 * Also the Kolmogorov-Smirnov distance max |F_x - F_y| of the two empirical
 * distribution functions, from the same pass. */
#define STATS_AD_PERM_BELOW 0.2
int stats_ad2(const double *x, size_t nx, const double *y, size_t ny, unsigned perms, unsigned stop,
	      struct stats_rng *rng, struct stats_ad *r)
{
	memset(r, 0, sizeof(*r));
	r->p = 1;
	if (nx < 2 || ny < 2)
		return -1;
	double N = (double)(nx + ny), n1 = (double)nx, n2 = (double)ny;
	double *l = malloc((nx + ny) * sizeof(double)), *fx = malloc((nx + ny) * sizeof(double));
	if (!l || !fx) {
		free(l);
		free(fx);
		return -1;
	}
	size_t i = 0, j = 0, ng = 0;
	double mx = 0, my = 0, dmax = 0;
	while (i < nx || j < ny) {
		double z = i < nx && (j >= ny || x[i] <= y[j]) ? x[i] : y[j];
		double cx = 0, cyy = 0;
		while (i < nx && x[i] == z)
			i++, cx++;
		while (j < ny && y[j] == z)
			j++, cyy++;
		l[ng] = cx + cyy;
		fx[ng++] = cx;
		mx += cx;
		my += cyy;
		double dd = fabs(mx / n1 - my / n2);
		if (dd > dmax)
			dmax = dd;
	}
	r->ks_d = dmax;
	if (ng < 2) {
		r->t = -1 / sqrt(2 * (M_PI * M_PI - 9) / 3);
		free(l);
		free(fx);
		return 0;
	}
	r->a2 = ad_statistic(l, fx, ng, n1, n2);
	/* Scholz & Stephens sect. 3: the variance of A2_kN under H0. */
	double k = 2, H = 1 / n1 + 1 / n2, h = 0, g = 0;
	for (double m = 1; m <= N - 1; m++)
		h += 1 / m;
	/* g = sum_{i=1}^{N-2} sum_{j=i+1}^{N-1} 1 / ((N-i) j) */
	double inner = 0;
	for (double ii = N - 2; ii >= 1; ii--) {
		inner += 1 / (ii + 1);
		g += inner / (N - ii);
	}
	double a = (4 * g - 6) * (k - 1) + (10 - 6 * g) * H;
	double bb = (2 * g - 4) * k * k + 8 * h * k + (2 * g - 14 * h - 4) * H - 8 * h + 4 * g - 6;
	double c = (6 * h + 2 * g - 2) * k * k + (4 * h - 4 * g + 6) * k + (2 * h - 6) * H + 4 * h;
	double d = (2 * h + 6) * k * k - 4 * h * k;
	double var = N > 3 ? (a * N * N * N + bb * N * N + c * N + d) / ((N - 1) * (N - 2) * (N - 3)) : 0;
	if (var > 0) {
		r->t = (r->a2 - (k - 1)) / sqrt(var);
		r->p = fmin(1, stats_ad_inf_sf(1 + sqrt(2 * (M_PI * M_PI - 9) / 3) * r->t));
	}
	if ((r->p < STATS_AD_PERM_BELOW || !(var > 0)) && perms && rng) {
		double *pf = malloc(ng * sizeof(double));
		if (!pf) {
			free(l);
			free(fx);
			return -1;
		}
		size_t ge = 0;
		unsigned done = 0;
		for (unsigned b = 0; b < perms && perm_more(ge, stop); b++, done++) {
			/* The x's among each group's l values, drawn one by one
			 * without replacement from what is left. */
			double rx = n1, left = N;
			for (size_t q = 0; q < ng; q++) {
				double f = 0;
				for (double e = 0; e < l[q]; e++) {
					if (stats_rng_uniform(rng) * left < rx) {
						rx--;
						f++;
					}
					left--;
				}
				pf[q] = f;
			}
			ge += ad_statistic(l, pf, ng, n1, n2) >= r->a2 * (1 - 1e-12);
		}
		free(pf);
		r->p = perm_p(ge, done, perms, stop);
		r->perm = true;
	}
	free(l);
	free(fx);
	return 0;
}

/* ------------------------------------------------------------ Holm */

/* Holm, "A simple sequentially rejective multiple test procedure", Scand.
 * J. Statist. 6 (1979): the adjusted p of the i-th smallest of m is
 * max over j <= i of (m - j + 1) p_(j), capped at 1; rejecting where it is
 * below alpha keeps the chance of any false rejection among the m at most
 * alpha, whatever the dependence between the tests. */
void stats_holm(const double *p, size_t m, double *adj)
{
	size_t *order = malloc((m ? m : 1) * sizeof(size_t));
	if (!order) {
		for (size_t i = 0; i < m; i++)
			adj[i] = fmin(1, p[i] * (double)m); /* Bonferroni: larger, as valid */
		return;
	}
	for (size_t i = 0; i < m; i++)
		order[i] = i;
	for (size_t i = 1; i < m; i++)
		for (size_t k = i; k > 0 && p[order[k]] < p[order[k - 1]]; k--) {
			size_t t = order[k];
			order[k] = order[k - 1];
			order[k - 1] = t;
		}
	double run = 0;
	for (size_t i = 0; i < m; i++) {
		double v = fmin(1, (double)(m - i) * p[order[i]]);
		if (v > run)
			run = v;
		adj[order[i]] = run;
	}
	free(order);
}

/* ------------------------------------------------------------ the upper tail */

static double hyper_z(size_t s, size_t cy, double nx, double ny)
{
	double N = nx + ny, ss = (double)s;
	double var = ss * (N - ss) * nx * ny / (N * N * (N - 1));
	return var > 0 ? ((double)cy - ss * ny / N) / sqrt(var) : 0;
}

/* The largest |z| over the bands between two cuts; cy[c]: y's values above
 * cut c (cut 0 is the top, k[0] = 0); *lo, *hi: the band's cuts. */
static double scan_max(const size_t *k, const size_t *cy, size_t ncut, double nx, double ny, size_t *lo, size_t *hi)
{
	double m = -1;
	for (size_t a = 0; a < ncut; a++)
		for (size_t b = a + 1; b < ncut; b++) {
			double z = fabs(hyper_z(k[b] - k[a], cy[b] - cy[a], nx, ny));
			if (z > m) {
				m = z;
				*lo = a;
				*hi = b;
			}
		}
	return m;
}

/* Under H0 every assignment of the labels x, y to the pooled values is
 * equally likely (the permutation distribution; Good, "Permutation Tests",
 * 2nd ed. 2000, ch. 3), so the count of y's values in any band of pooled
 * ranks is hypergeometric.  The statistic is the largest standardised
 * departure from that over the bands between cuts in the top frac of the
 * pooled values: a scan over bands whose ends lie on a geometric grid of
 * ranks from the top (ratio STATS_TAIL_RATIO, each moved to the nearest end
 * of a group of tied values, so ties are never split).  Bands that start at
 * the top make it the two-sample "higher criticism" of Donoho & Jin (Ann.
 * Statist. 32, 2004); bands inside the tail find a change of a few values
 * that other values, e.g. rare large spikes, sit above.  Its null
 * distribution is simulated: the labels of the top positions are drawn one
 * by one without replacement, O(frac N) a permutation, and p is
 * perm_p's. */
#define STATS_TAIL_RATIO 1.25
#define STATS_TAIL_MIN_BAND 3
int stats_tail_test(const double *x, size_t nx, const double *y, size_t ny, double frac, unsigned perms,
		    unsigned stop, struct stats_rng *rng, struct stats_tail *r)
{
	memset(r, 0, sizeof(*r));
	r->p = 1;
	if (!nx || !ny || !perms || !(frac > 0 && frac < 1))
		return -1;
	size_t N = nx + ny, K = (size_t)ceil(frac * (double)N);
	/* Group ends from the top: rank k (values above) and y's count there. */
	size_t cap = K + 2, nends = 0;
	size_t *ek = malloc(cap * sizeof(size_t)), *ey = malloc(cap * sizeof(size_t));
	size_t *k = malloc(cap * sizeof(size_t)), *cy = malloc(cap * sizeof(size_t)), *cyp = malloc(cap * sizeof(size_t));
	if (!ek || !ey || !k || !cy || !cyp)
		goto oom;
	size_t i = nx, j = ny;
	while (i > 0 || j > 0) {
		double z = i > 0 && (j == 0 || x[i - 1] >= y[j - 1]) ? x[i - 1] : y[j - 1];
		while (i > 0 && x[i - 1] == z)
			i--;
		while (j > 0 && y[j - 1] == z)
			j--;
		size_t kk = (nx - i) + (ny - j);
		if (kk >= N || kk > K)
			break;
		ek[nends] = kk;
		ey[nends++] = ny - j;
	}
	/* The cuts: 0, and for each target rank of the grid the group end
	 * nearest to it (ties broken upwards), without repeats. */
	size_t ncut = 0;
	k[ncut] = 0;
	cy[ncut++] = 0;
	if (nends) {
		double target = STATS_TAIL_MIN_BAND;
		size_t e = 0;
		for (;;) {
			while (e + 1 < nends && fabs((double)ek[e + 1] - target) <= fabs((double)ek[e] - target))
				e++;
			if (ek[e] > k[ncut - 1]) {
				k[ncut] = ek[e];
				cy[ncut++] = ey[e];
			}
			if (target >= (double)ek[nends - 1])
				break;
			target *= STATS_TAIL_RATIO;
			if (target > (double)ek[nends - 1])
				target = (double)ek[nends - 1];
		}
	}
	if (ncut < 2) {
		free(ek), free(ey), free(k), free(cy), free(cyp);
		return 0;   /* the top frac is one group of tied values: no band to test */
	}
	size_t a = 0, b = 0;
	double t = scan_max(k, cy, ncut, (double)nx, (double)ny, &a, &b);
	r->tested = true;
	r->stat = t;
	r->k_hi = k[a];
	r->k_lo = k[b];
	r->q_lo = 1 - (double)k[b] / (double)N;
	r->q_hi = 1 - (double)k[a] / (double)N;
	r->sign = hyper_z(k[b] - k[a], cy[b] - cy[a], (double)nx, (double)ny) >= 0 ? 1 : -1;
	r->band_y = cy[b] - cy[a];
	r->band_x = k[b] - k[a] - r->band_y;
	size_t kmax = k[ncut - 1], ge = 0;
	unsigned done = 0;
	for (unsigned p = 0; p < perms && perm_more(ge, stop); p++, done++) {
		size_t rx = nx, ry = ny, c = 1, n_y = 0;
		cyp[0] = 0;
		for (size_t pos = 1; pos <= kmax; pos++) {
			if (stats_rng_uniform(rng) * (double)(rx + ry) < (double)ry) {
				ry--;
				n_y++;
			} else {
				rx--;
			}
			if (pos == k[c])
				cyp[c++] = n_y;
		}
		size_t u, v;
		ge += scan_max(k, cyp, ncut, (double)nx, (double)ny, &u, &v) >= t * (1 - 1e-12);
	}
	r->p = perm_p(ge, done, perms, stop);
	free(ek), free(ey), free(k), free(cy), free(cyp);
	return 0;
oom:
	free(ek), free(ey), free(k), free(cy), free(cyp);
	return -1;
}

