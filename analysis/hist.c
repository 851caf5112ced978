/*
 * hist.c - log-linear histogram for percentiles in bounded memory (layout
 * and error bound in summary.h).  At most 3776 buckets (values up to 2^64),
 * allocated only over the octaves that occur.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "summary.h"

#define SUB (1u << HIST_SUB_BITS)       /* buckets per octave: 64 */
#define NBUCKETS ((64 - HIST_SUB_BITS + 1) * SUB)

static uint32_t bucket_of(uint64_t v)
{
	if (v < SUB)
		return (uint32_t)v;
	unsigned e = 63 - (unsigned)__builtin_clzll(v);        /* 2^e <= v */
	uint32_t sub = (uint32_t)(v >> (e - HIST_SUB_BITS)) & (SUB - 1);
	return (e - HIST_SUB_BITS + 1) * SUB + sub;
}

/* The middle of bucket i (exact below 64). */
static uint64_t bucket_mid(uint32_t i)
{
	if (i < SUB)
		return i;
	unsigned shift = i / SUB - 1;                  /* = e - 6 */
	uint64_t lo = (uint64_t)(SUB + i % SUB) << shift;
	return lo + ((1ull << shift) >> 1);
}

/* Make [lo, hi) cover bucket i, in whole octaves. */
static int grow(struct hist *h, uint32_t i)
{
	uint32_t lo = i / SUB * SUB, hi = lo + SUB;

	if (h->b) {
		if (i >= h->lo && i < h->hi)
			return 0;
		lo = lo < h->lo ? lo : h->lo;
		hi = hi > h->hi ? hi : h->hi;
	}
	uint64_t *b = calloc(hi - lo, sizeof(*b));
	if (!b)
		return -1;
	if (h->b) {
		memcpy(b + (h->lo - lo), h->b, (h->hi - h->lo) * sizeof(*b));
		free(h->b);
	}
	h->b = b;
	h->lo = lo;
	h->hi = hi;
	return 0;
}

void hist_add(struct hist *h, uint64_t v)
{
	uint32_t i = bucket_of(v);

	if ((!h->b || i < h->lo || i >= h->hi) && grow(h, i))
		return; /* out of memory: the sample is only missing from percentiles */
	h->b[i - h->lo]++;
	if (h->n == 0 || v < h->min)
		h->min = v;
	if (h->n == 0 || v > h->max)
		h->max = v;
	h->n++;
}

uint64_t hist_percentile(const struct hist *h, double p)
{
	uint64_t rank, seen = 0;

	if (h->n == 0 || !h->b)
		return 0;
	rank = (uint64_t)ceil(p / 100.0 * (double)h->n);
	if (rank < 1)
		rank = 1;
	if (rank >= h->n)
		return h->max;      /* the largest sample is known exactly */
	if (rank == 1)
		return h->min;      /* and the smallest */
	for (uint32_t i = h->lo; i < h->hi; i++) {
		seen += h->b[i - h->lo];
		if (seen >= rank) {
			uint64_t v = bucket_mid(i);
			return v < h->min ? h->min : v > h->max ? h->max : v;
		}
	}
	return h->max;
}

int hist_merge(struct hist *dst, const struct hist *src)
{
	if (src->n == 0)
		return 0;
	if (grow(dst, src->lo) || grow(dst, src->hi - 1))
		return -1;
	for (uint32_t i = src->lo; i < src->hi; i++)
		dst->b[i - dst->lo] += src->b[i - src->lo];
	if (dst->n == 0 || src->min < dst->min)
		dst->min = src->min;
	if (dst->n == 0 || src->max > dst->max)
		dst->max = src->max;
	dst->n += src->n;
	return 0;
}

void hist_free(struct hist *h)
{
	free(h->b);
	memset(h, 0, sizeof(*h));
}

_Static_assert(NBUCKETS == 3776, "64 exact buckets + 58 octaves of 64");
