/*
 * The statistics of `vmxlab diff` (stats.h): order-statistic confidence
 * intervals for medians, the Mann-Whitney U test (exact with ties for small
 * samples, else the normal approximation with tie correction), and an O(1)
 * bootstrap replicate of a median.  References at each function.
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
