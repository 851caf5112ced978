/*
 * `vmxlab diff` (diff.h): the two sides.  A side is the exits of one
 * handler build grouped per exit reason and sub-key: the groups and how a
 * replay made in this process (one-shot) is added to them; the identity of
 * the trace (FNV-1a, 64 bits, of its first MiB, and its size); and whether
 * two sides came from the same input.  Reading result files: diff_load.c;
 * xentrace files: diff_xentrace.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <vmxlab/vmx.h>

#include "diff.h"
#include "diff_priv.h"

static const char *kind_name(enum diff_kind k)
{
	return k == DIFF_RUN ? "run result" : k == DIFF_TRACE ? "xentrace file" : "replay result";
}

const char *diff_reason_name(uint32_t r)
{
	const char *n = r < VMX_EXIT_REASON_COUNT ? vmx_exit_reason_name(r) : NULL;
	return n ? n : "?";
}

/* ------------------------------------------------------------ trace identity */

int diff_trace_identity(const char *path, uint64_t *size, uint64_t *hash, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	unsigned char buf[65536];
	uint64_t h = 0xcbf29ce484222325ull, left = 1 << 20;
	size_t n;

	if (!f || fstat(fileno(f), &st)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	while (left && (n = fread(buf, 1, left < sizeof(buf) ? left : sizeof(buf), f)) > 0) {
		for (size_t i = 0; i < n; i++) {
			h ^= buf[i];
			h *= 0x100000001b3ull;
		}
		left -= n;
	}
	bool bad = ferror(f);
	fclose(f);
	if (bad) {
		snprintf(err, errlen, "%s: read error", path);
		return -1;
	}
	*size = (uint64_t)st.st_size;
	*hash = h;
	return 0;
}

/* ------------------------------------------------------------ sides */

struct diff_group *diff_group_get(struct diff_side *s, uint32_t reason, const char *key, bool create)
{
	for (size_t i = 0; i < s->ng; i++)
		if (s->g[i].reason == reason && !strcmp(s->g[i].key, key))
			return &s->g[i];
	if (!create)
		return NULL;
	if (s->ng == s->capg) {
		size_t ncap = s->capg ? s->capg * 2 : 16;
		struct diff_group *g = realloc(s->g, ncap * sizeof(*g));
		if (!g)
			return NULL;
		s->g = g;
		s->capg = ncap;
	}
	struct diff_group *g = &s->g[s->ng++];
	memset(g, 0, sizeof(*g));
	g->reason = reason;
	snprintf(g->key, sizeof(g->key), "%s", key);
	return g;
}

const struct diff_group *diff_group_find(const struct diff_side *s, uint32_t reason, const char *key)
{
	for (size_t i = 0; i < s->ng; i++)
		if (s->g[i].reason == reason && !strcmp(s->g[i].key, key))
			return &s->g[i];
	return NULL;
}

void diff_side_finish(struct diff_side *s)
{
	for (size_t i = 0; i < s->ng; i++)
		stats_sort(s->g[i].samples, s->g[i].nsamples);
}

void diff_side_free(struct diff_side *s)
{
	for (size_t i = 0; i < s->ng; i++) {
		free(s->g[i].samples);
		free(s->g[i].runs);
		free(s->g[i].run_mean);
		free(s->g[i].run_p95);
		free(s->g[i].run_p99);
	}
	free(s->g);
	memset(s, 0, sizeof(*s));
}

int diff_append(double **v, size_t *n, const double *add, size_t nadd)
{
	double *nv = realloc(*v, (*n + nadd + 1) * sizeof(double));
	if (!nv)
		return -1;
	for (size_t i = 0; i < nadd; i++)
		nv[*n + i] = add[i];
	*v = nv;
	*n += nadd;
	return 0;
}

/* The Harrell-Davis q-quantile of one replay's n sorted values; NAN with
 * fewer than DIFF_MIN_TAIL_VALUES above it (the rule of the exits unit). */
static double run_quantile(const double *v, size_t n, double q)
{
	struct stats_hd h;
	if ((double)n * (1 - q) < DIFF_MIN_TAIL_VALUES || stats_hd_init(&h, n, q))
		return NAN;
	double e = stats_hd_estimate(&h, v);
	stats_hd_free(&h);
	return e;
}

int diff_group_add_run_stats(struct diff_group *g, const double *v, size_t n)
{
	double mean = NAN;
	if (n) {
		mean = 0;
		for (size_t i = 0; i < n; i++)
			mean += v[i];
		mean /= (double)n;
	}
	double add[3] = { mean, n ? run_quantile(v, n, 0.95) : NAN, n ? run_quantile(v, n, 0.99) : NAN };
	double **arr[3] = { &g->run_mean, &g->run_p95, &g->run_p99 };
	for (int k = 0; k < 3; k++) {
		double *a = realloc(*arr[k], (g->nrun_stats + 1) * sizeof(double));
		if (!a)
			return -1;
		a[g->nrun_stats] = add[k];
		*arr[k] = a;
	}
	g->nrun_stats++;
	return 0;
}

static int add_u64_samples(struct diff_group *g, const uint64_t *samples, uint64_t n)
{
	double *d = malloc((n ? n : 1) * sizeof(double));
	if (!d)
		return -1;
	for (uint64_t i = 0; i < n; i++)
		d[i] = (double)samples[i];
	int rc = diff_append(&g->samples, &g->nsamples, d, n);
	stats_sort(d, n);
	double med = stats_median(d, n);
	if (!rc)
		rc = diff_append(&g->runs, &g->nruns, &med, 1);
	if (!rc)
		rc = diff_group_add_run_stats(g, d, n);
	free(d);
	return rc;
}

/* One replay's exits of a reason or sub-key, added to its group. */
static int add_replay_group(struct diff_side *s, uint32_t reason, const char *key, uint64_t exits,
			    const uint64_t *samples, uint64_t n)
{
	struct diff_group *g = diff_group_get(s, reason, key, true);
	if (!g)
		return -1;
	/* A line first seen in a later replay gets NAN for the earlier ones. */
	while (g->nruns < s->repeat) {
		double nan = NAN;
		if (diff_append(&g->runs, &g->nruns, &nan, 1) || diff_group_add_run_stats(g, NULL, 0))
			return -1;
	}
	g->count = exits;
	return add_u64_samples(g, samples, n);
}

int diff_side_add_replay(struct diff_side *s, const struct replay_result *r)
{
	s->kind = DIFF_REPLAY;
	s->exits = r->exits;
	snprintf(s->digest, sizeof(s->digest), "%016" PRIx64, r->digest);
	for (uint32_t i = 0; i < VMX_EXIT_REASON_COUNT; i++) {
		const struct replay_reason *rr = &r->reasons[i];
		if (rr->exits && add_replay_group(s, i, "", rr->exits, rr->samples, rr->nsamples))
			return -1;
	}
	for (unsigned i = 0; i < r->nsubkeys; i++) {
		const struct replay_subkey *sk = &r->subkeys[i];
		if (add_replay_group(s, sk->reason, sk->label, sk->exits, sk->samples, sk->nsamples))
			return -1;
	}
	s->repeat++;
	return 0;
}

/* ------------------------------------------------------------ same input? */

int diff_same_input(const struct diff_side *a, const struct diff_side *b, char *why, size_t len)
{
	if (a->kind != b->kind) {
		snprintf(why, len, "%s is a %s and %s a %s", a->label, kind_name(a->kind), b->label, kind_name(b->kind));
		return 1;
	}
	if (a->kind == DIFF_TRACE)
		return 0;    /* two captures: different by design (docs/diff.md) */
	if (a->kind == DIFF_RUN) {
		if (strcmp(a->source, b->source)) {
			snprintf(why, len, "different scenarios: %s and %s", a->source, b->source);
			return 1;
		}
		return 0;
	}
	if (a->have_id && b->have_id) {
		if (a->trace_size != b->trace_size || a->trace_hash != b->trace_hash) {
			snprintf(why, len, "different traces: %s (%" PRIu64 " bytes, first MiB %016" PRIx64 ") and %s (%" PRIu64
				 " bytes, first MiB %016" PRIx64 ")",
				 a->source, a->trace_size, a->trace_hash, b->source, b->trace_size, b->trace_hash);
			return 1;
		}
	} else if (strcmp(a->source, b->source)) {
		snprintf(why, len, "different traces: %s and %s", a->source, b->source);
		return 1;
	}
	for (size_t i = 0; i < a->ng; i++) {
		const struct diff_group *x = &a->g[i];
		if (x->key[0])
			continue;
		const struct diff_group *y = diff_group_find(b, x->reason, "");
		if (!y || y->count != x->count) {
			snprintf(why, len, "the same trace but different exits (another --domain or --vcpu?): %s %" PRIu64 " and %" PRIu64,
				 diff_reason_name(x->reason), x->count, y ? y->count : 0);
			return 1;
		}
	}
	for (size_t i = 0; i < b->ng; i++)
		if (!b->g[i].key[0] && !diff_group_find(a, b->g[i].reason, "")) {
			snprintf(why, len, "the same trace but different exits: %s 0 and %" PRIu64,
				 diff_reason_name(b->g[i].reason), b->g[i].count);
			return 1;
		}
	return 0;
}
