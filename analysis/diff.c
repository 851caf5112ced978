/*
 * `vmxlab diff` (diff.h): read two result files (or take replays made in
 * this process), pair their exit reasons and sub-keys, and compare the
 * handler cost of each pair:
 *
 *   - the unit: one value per replay - that replay's median ns for the
 *     reason - when both sides have at least two replays (benchstat's
 *     shape: the replay is the unit of repetition, so the drift of the
 *     machine between replays is part of the noise the test sees); else
 *     every exit's ns, which assumes the exits are independent draws;
 *   - per side the median of those values with a distribution-free 95%
 *     interval (Hollander & Wolfe 1999, sect. 3.6; stats.c);
 *   - the change new / old - 1 and the two-sided Mann-Whitney U test
 *     (Mann & Whitney 1947; stats.c); "~" when p >= alpha;
 *   - the total: exits x median summed over the reasons, old counts as the
 *     weights.  With replays as the unit it is computed per replay; its
 *     change gets the Mann-Whitney p of the per-replay totals and the
 *     interval that goes with that test (Moses 1965) on their logarithms, so
 *     that interval and p never contradict each other.  With exits as the
 *     unit: a 95% percentile bootstrap interval (Efron & Tibshirani, "An
 *     Introduction to the Bootstrap", 1993, ch. 13), significant when it
 *     leaves out 0;
 *   - paired (the one-shot mode: replay k of both builds was made in
 *     round k, side by side): each line and the total are tested on the
 *     per-round ratios new / old - the Wilcoxon signed-rank test on their
 *     logarithms, the change their Hodges-Lehmann estimate, the total's
 *     interval the one that goes with that test (Walsh averages) - so that
 *     a change of the machine's speed that lasts longer than a round falls
 *     on both sides of each ratio and cancels.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <vmxlab/vmx.h>

#include "diff.h"
#include "json.h"
#include "summary.h"

#define DEFAULT_BOOT 10000
#define DEFAULT_SEED 0x766d786c61622d64ull /* "vmxlab-d" */

static const char *kind_name(enum diff_kind k)
{
	return k == DIFF_RUN ? "run result" : k == DIFF_TRACE ? "xentrace file" : "replay result";
}

static const char *reason_name(uint32_t r)
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

static struct diff_group *group_get(struct diff_side *s, uint32_t reason, const char *key, bool create)
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

static const struct diff_group *group_find(const struct diff_side *s, uint32_t reason, const char *key)
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
	}
	free(s->g);
	memset(s, 0, sizeof(*s));
}

static int append(double **v, size_t *n, const double *add, size_t nadd)
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

static int add_u64_samples(struct diff_group *g, const uint64_t *samples, uint64_t n)
{
	double *d = malloc((n ? n : 1) * sizeof(double));
	if (!d)
		return -1;
	for (uint64_t i = 0; i < n; i++)
		d[i] = (double)samples[i];
	int rc = append(&g->samples, &g->nsamples, d, n);
	stats_sort(d, n);
	double med = stats_median(d, n);
	if (!rc)
		rc = append(&g->runs, &g->nruns, &med, 1);
	free(d);
	return rc;
}

/* One replay's exits of a reason or sub-key, added to its group. */
static int add_replay_group(struct diff_side *s, uint32_t reason, const char *key, uint64_t exits,
			    const uint64_t *samples, uint64_t n)
{
	struct diff_group *g = group_get(s, reason, key, true);
	if (!g)
		return -1;
	/* A line first seen in a later replay gets NAN for the earlier ones. */
	while (g->nruns < s->repeat) {
		double nan = NAN;
		if (append(&g->runs, &g->nruns, &nan, 1))
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

/* ------------------------------------------------------------ reading files */

struct loader {
	const char *path;
	char *err;
	size_t errlen;
};

static int bad(struct loader *l, const char *where, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(struct loader *l, const char *where, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(l->err, l->errlen, "%s: %s%s%s", l->path, where, where[0] ? ": " : "", msg);
	return -1;
}

static const struct json *member(struct loader *l, const struct json *obj, const char *where, const char *key,
				 enum json_type t, bool required, int *rc)
{
	const struct json *m = json_get(obj, key);
	if (!m) {
		if (required)
			*rc = bad(l, where, "no \"%s\" member", key);
		return NULL;
	}
	if (m->type != t) {
		*rc = bad(l, where, "\"%s\" is %s, expected %s", key, json_type_name(m->type), json_type_name(t));
		return NULL;
	}
	return m;
}

static bool is_count(const struct json *j)
{
	return j->type == JSON_NUMBER && j->num >= 0 && j->num <= 9007199254740992.0 && j->num == floor(j->num);
}

/* An array of ns values (>= 0); nulls allowed (as NAN) when nulls. */
static int read_values(struct loader *l, const struct json *a, const char *where, const char *key, bool nulls,
		       double **out, size_t *n)
{
	char w[256];
	*out = malloc((a->n ? a->n : 1) * sizeof(double));
	*n = 0;
	if (!*out)
		return bad(l, where, "out of memory");
	for (size_t i = 0; i < a->n; i++) {
		const struct json *v = &a->items[i];
		if (nulls && v->type == JSON_NULL) {
			(*out)[(*n)++] = NAN;
			continue;
		}
		if (v->type != JSON_NUMBER || !(v->num >= 0) || !isfinite(v->num)) {
			snprintf(w, sizeof(w), "%s.%s[%zu]", where, key, i);
			return bad(l, w, "expected a number of ns >= 0%s, found %s", nulls ? " or null" : "",
				   v->type == JSON_NUMBER ? "a negative number" : json_type_name(v->type));
		}
		(*out)[(*n)++] = v->num;
	}
	return 0;
}

static int read_reason_number(struct loader *l, const struct json *o, const char *where, uint32_t *reason)
{
	int rc = 0;
	const struct json *r = member(l, o, where, "reason", JSON_NUMBER, true, &rc);
	if (!r)
		return -1;
	if (!is_count(r) || r->num >= VMX_EXIT_REASON_COUNT)
		return bad(l, where, "\"reason\" is not a basic exit reason (0..%d)", VMX_EXIT_REASON_COUNT - 1);
	*reason = (uint32_t)r->num;
	return 0;
}

static int read_count(struct loader *l, const struct json *o, const char *where, uint64_t *count)
{
	int rc = 0;
	const struct json *c = member(l, o, where, "count", JSON_NUMBER, true, &rc);
	if (!c)
		return -1;
	if (!is_count(c))
		return bad(l, where, "\"count\" is not a whole number >= 0");
	*count = (uint64_t)c->num;
	return 0;
}

/* samples_ns and the per-replay values of one reason or sub-key. */
static int read_samples(struct loader *l, struct diff_side *s, struct diff_group *g, const struct json *o,
			const char *where)
{
	int rc = 0;
	const struct json *a = member(l, o, where, "samples_ns", JSON_ARRAY, true, &rc);
	if (!a || read_values(l, a, where, "samples_ns", false, &g->samples, &g->nsamples))
		return -1;
	if ((a = member(l, o, where, "repeat_median_ns", JSON_ARRAY, false, &rc))) {
		if (read_values(l, a, where, "repeat_median_ns", true, &g->runs, &g->nruns))
			return -1;
	} else if (rc) {
		return -1;
	} else if ((a = member(l, o, where, "repeat_avg_ns", JSON_ARRAY, false, &rc))) {
		if (read_values(l, a, where, "repeat_avg_ns", false, &g->runs, &g->nruns))
			return -1;
		s->runs_are_avg = true;
	} else if (rc) {
		return -1;
	}
	if (g->runs && g->nruns != s->repeat)
		return bad(l, where, "%zu per-replay values for %u replays", g->nruns, s->repeat);
	stats_sort(g->samples, g->nsamples);
	return 0;
}

/* One member of "exit_reasons" or "sub_keys": its reason (and key), a new
 * group for it, its exit count.  NULL when the member is bad (l->err says
 * why). */
static struct diff_group *read_group(struct loader *l, struct diff_side *s, const struct json *o, const char *where,
				     bool subkey)
{
	const char *key = "";
	uint32_t reason = 0;
	int rc = 0;

	if (o->type != JSON_OBJECT) {
		bad(l, where, "is %s, expected an object", json_type_name(o->type));
		return NULL;
	}
	if (read_reason_number(l, o, where, &reason))
		return NULL;
	if (subkey) {
		const struct json *k = member(l, o, where, "key", JSON_STRING, true, &rc);
		if (!k)
			return NULL;
		if (!k->str[0] || strlen(k->str) >= DIFF_KEY_LEN) {
			bad(l, where, "\"key\" must have 1..%d characters", DIFF_KEY_LEN - 1);
			return NULL;
		}
		key = k->str;
	}
	if (group_find(s, reason, key)) {
		if (subkey)
			bad(l, where, "sub-key \"%s\" of %s appears twice", key, reason_name(reason));
		else
			bad(l, where, "exit reason %u appears twice", reason);
		return NULL;
	}
	struct diff_group *g = group_get(s, reason, key, true);
	if (!g) {
		bad(l, where, "out of memory");
		return NULL;
	}
	return read_count(l, o, where, &g->count) ? NULL : g;
}

static int load_replay(struct loader *l, const struct json *root, struct diff_side *s)
{
	int rc = 0;
	const struct json *m;
	char where[128];

	s->kind = DIFF_REPLAY;
	if ((m = member(l, root, "", "trace", JSON_STRING, true, &rc)))
		snprintf(s->source, sizeof(s->source), "%s", m->str);
	else
		return -1;
	if ((m = member(l, root, "", "handler", JSON_STRING, true, &rc)))
		snprintf(s->handler, sizeof(s->handler), "%s", m->str);
	else
		return -1;
	m = member(l, root, "", "repeat", JSON_NUMBER, true, &rc);
	if (!m)
		return -1;
	if (!is_count(m) || m->num < 1 || m->num > 1e6)
		return bad(l, "", "\"repeat\" is not a number of replays");
	s->repeat = (unsigned)m->num;
	if ((m = member(l, root, "", "exits", JSON_NUMBER, false, &rc)) && is_count(m))
		s->exits = (uint64_t)m->num;
	if (rc)
		return -1;
	if ((m = member(l, root, "", "digest", JSON_STRING, false, &rc)))
		snprintf(s->digest, sizeof(s->digest), "%s", m->str);
	if ((m = member(l, root, "", "trace_id", JSON_OBJECT, false, &rc))) {
		const struct json *size = json_get(m, "size"), *h = json_get(m, "fnv1a64_first_mib");
		char *end = NULL;
		if (!size || !is_count(size) || !h || h->type != JSON_STRING || strlen(h->str) != 16)
			return bad(l, "trace_id", "needs \"size\" and a 16-digit \"fnv1a64_first_mib\"");
		s->trace_size = (uint64_t)size->num;
		errno = 0;
		s->trace_hash = strtoull(h->str, &end, 16);
		if (errno || *end)
			return bad(l, "trace_id", "\"fnv1a64_first_mib\" is not hexadecimal");
		s->have_id = true;
	}
	if (rc)
		return -1;
	const struct json *doms = member(l, root, "", "domains", JSON_ARRAY, true, &rc);
	if (!doms)
		return -1;
	if (doms->n != 1 || doms->items[0].type != JSON_OBJECT)
		return bad(l, "domains", "expected one object (a replay result)");
	const struct json *reasons = member(l, &doms->items[0], "domains[0]", "exit_reasons", JSON_ARRAY, true, &rc);
	if (!reasons)
		return -1;
	for (size_t i = 0; i < reasons->n; i++) {
		const struct json *o = &reasons->items[i];
		snprintf(where, sizeof(where), "domains[0].exit_reasons[%zu]", i);
		struct diff_group *g = read_group(l, s, o, where, false);
		if (!g || read_samples(l, s, g, o, where))
			return -1;
	}
	const struct json *subs = member(l, root, "", "sub_keys", JSON_ARRAY, false, &rc);
	if (rc)
		return -1;
	for (size_t i = 0; subs && i < subs->n; i++) {
		const struct json *o = &subs->items[i];
		snprintf(where, sizeof(where), "sub_keys[%zu]", i);
		struct diff_group *g = read_group(l, s, o, where, true);
		if (!g || read_samples(l, s, g, o, where))
			return -1;
	}
	return 0;
}

static int load_run(struct loader *l, const struct json *root, struct diff_side *s)
{
	int rc = 0;
	const struct json *m;
	char where[128];

	s->kind = DIFF_RUN;
	s->repeat = 1;
	if ((m = member(l, root, "", "scenario", JSON_STRING, true, &rc)))
		snprintf(s->source, sizeof(s->source), "%s", m->str);
	else
		return -1;
	if ((m = member(l, root, "", "name", JSON_STRING, false, &rc)))
		snprintf(s->handler, sizeof(s->handler), "%s", m->str);
	if ((m = member(l, root, "", "digest", JSON_STRING, false, &rc)))
		snprintf(s->digest, sizeof(s->digest), "%s", m->str);
	if (rc)
		return -1;
	const struct json *doms = member(l, root, "", "domains", JSON_ARRAY, true, &rc);
	if (!doms)
		return -1;
	if (doms->n < 1 || doms->items[0].type != JSON_OBJECT)
		return bad(l, "domains", "expected an object");
	const struct json *reasons = member(l, &doms->items[0], "domains[0]", "exit_reasons", JSON_ARRAY, true, &rc);
	if (!reasons)
		return -1;
	for (size_t i = 0; i < reasons->n; i++) {
		const struct json *o = &reasons->items[i];
		snprintf(where, sizeof(where), "domains[0].exit_reasons[%zu]", i);
		struct diff_group *g = read_group(l, s, o, where, false);
		if (!g)
			return -1;
		const struct json *p50 = member(l, o, where, "native_ns_p50", JSON_NUMBER, true, &rc);
		const struct json *tot = p50 ? member(l, o, where, "native_ns_total", JSON_NUMBER, true, &rc) : NULL;
		if (!tot)
			return -1;
		if (!(p50->num >= 0) || !(tot->num >= 0))
			return bad(l, where, "native_ns_p50 and native_ns_total must be >= 0");
		g->p50 = p50->num;
		g->total = tot->num;
		g->mean = g->count ? tot->num / (double)g->count : NAN;
		s->exits += g->count;
	}
	return 0;
}

int diff_load(const char *path, struct diff_side *s, char *err, size_t errlen)
{
	struct loader l = { .path = path, .err = err, .errlen = errlen };

	memset(s, 0, sizeof(*s));
	snprintf(s->label, sizeof(s->label), "%s", path);
	struct json *root = json_parse_file(path, err, errlen);
	if (!root)
		return -1;
	int rc;
	if (root->type != JSON_OBJECT)
		rc = bad(&l, "", "is %s, not a result of vmxlab replay --json or vmxlab run --json",
			 json_type_name(root->type));
	else if (json_get(root, "handler") && json_get(root, "trace"))
		rc = load_replay(&l, root, s);
	else if (json_get(root, "scenario"))
		rc = load_run(&l, root, s);
	else
		rc = bad(&l, "", "not a result of vmxlab replay --json or vmxlab run --json (it has no \"handler\" and "
				 "\"trace\", nor \"scenario\")");
	json_free(root);
	if (rc)
		diff_side_free(s);
	return rc;
}

/* ------------------------------------------------------------ xentrace files */

bool diff_is_json(const char *path)
{
	FILE *f = fopen(path, "rb");
	int c = EOF;

	if (!f)
		return true;    /* diff_load names the file and the error */
	while ((c = fgetc(f)) == ' ' || c == '\t' || c == '\n' || c == '\r')
		;
	fclose(f);
	return c == '{';
}

/* A sub-key as the table shows it; the same names as the replay's
 * (replay/engine.c) where the trace says the same. */
static void trace_key(char *buf, size_t len, uint8_t kind, uint64_t key)
{
	static const char *const cr_op[4] = { "mov-from", "mov-to", "CLTS", "LMSW" };
	unsigned op = (unsigned)(key >> 8) & 3;

	switch (kind) {
	case SUB_IO:
		snprintf(buf, len, "port 0x%04x %s", (unsigned)(key & 0xffff), key >> 16 ? "out" : "in");
		break;
	case SUB_MMIO:
		snprintf(buf, len, "GPA page 0x%" PRIx64, key & ~(uint64_t)0xfff);
		break;
	case SUB_CR:
		if (op >= 2)
			snprintf(buf, len, "%s", cr_op[op]);
		else
			snprintf(buf, len, "CR%u %s", (unsigned)(key & 0xff), cr_op[op]);
		break;
	case SUB_MSR:
		snprintf(buf, len, "MSR 0x%08" PRIx64, key);
		break;
	case SUB_VECTOR:
		snprintf(buf, len, "vector 0x%02" PRIx64, key & 0xff);
		break;
	case SUB_EXCEPTION:
		snprintf(buf, len, "exception %" PRIu64, key);
		break;
	case SUB_CPUID:
		snprintf(buf, len, "leaf 0x%08" PRIx64, key);
		break;
	case SUB_HYPERCALL:
		snprintf(buf, len, "hypercall %" PRIu64, key);
		break;
	default:
		buf[0] = '\0';
	}
}

struct trace_load {
	struct diff_side *s;
	double ns_per_cycle;
	bool oom;
};

static int add_sample(struct diff_group *g, double ns)
{
	if (append(&g->samples, &g->nsamples, &ns, 1))
		return -1;
	g->count++;
	return 0;
}

static void trace_exit(void *ctx, uint32_t reason, uint8_t sub_kind, uint64_t sub_key, uint64_t cycles)
{
	struct trace_load *t = ctx;
	double ns = (double)cycles * t->ns_per_cycle;
	char key[DIFF_KEY_LEN];
	struct diff_group *g;

	if (t->oom)
		return;
	t->s->exits++;
	g = group_get(t->s, reason, "", true);
	if (!g || add_sample(g, ns)) {
		t->oom = true;
		return;
	}
	trace_key(key, sizeof(key), sub_kind, sub_key);
	if (key[0] && (!(g = group_get(t->s, reason, key, true)) || add_sample(g, ns)))
		t->oom = true;
}

int diff_load_trace(const char *path, double cpu_hz, struct diff_side *s, char *err, size_t errlen)
{
	struct trace_load t = { .s = s, .ns_per_cycle = 1e9 / cpu_hz };
	const struct trc_item *it;
	struct summary sum;
	int k = 0, rc = 0;

	memset(s, 0, sizeof(*s));
	snprintf(s->label, sizeof(s->label), "%s", path);
	snprintf(s->source, sizeof(s->source), "%s", path);
	snprintf(s->handler, sizeof(s->handler), "recorded in the trace");
	s->kind = DIFF_TRACE;
	s->repeat = 1;
	struct trc_reader *r = trc_reader_open(path, 0, NULL, NULL, err, errlen);
	if (!r)
		return -1;
	summary_init(&sum);
	sum.on_exit = trace_exit;
	sum.on_exit_ctx = &t;
	while (!t.oom && (it = trc_reader_next_ref(r, &k)))
		if (summary_add(&sum, it))
			t.oom = true;
	if (t.oom) {
		snprintf(err, errlen, "%s: out of memory", path);
		rc = -1;
	} else if (k == -1) {
		snprintf(err, errlen, "%s", trc_reader_error(r));
		rc = -1;
	} else {
		summary_finish(&sum);
		if (!s->exits) {
			snprintf(err, errlen, "%s: no complete exit (VMEXIT followed by VMENTRY) in the trace", path);
			rc = -1;
		}
	}
	summary_free(&sum);
	trc_reader_close(r);
	if (rc)
		diff_side_free(s);
	else
		diff_side_finish(s);
	return rc;
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
		const struct diff_group *y = group_find(b, x->reason, "");
		if (!y || y->count != x->count) {
			snprintf(why, len, "the same trace but different exits (another --domain or --vcpu?): %s %" PRIu64 " and %" PRIu64,
				 reason_name(x->reason), x->count, y ? y->count : 0);
			return 1;
		}
	}
	for (size_t i = 0; i < b->ng; i++)
		if (!b->g[i].key[0] && !group_find(a, b->g[i].reason, "")) {
			snprintf(why, len, "the same trace but different exits: %s 0 and %" PRIu64,
				 reason_name(b->g[i].reason), b->g[i].count);
			return 1;
		}
	return 0;
}

/* ------------------------------------------------------------ comparing */

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

/* Paired: the signed-rank test and the Hodges-Lehmann ratio of the rounds. */
static void compare_rounds(struct diff_row *row, const struct diff_group *x, const struct diff_group *y, double alpha)
{
	size_t n;
	double *d = round_log_ratios(x->runs, x->nruns, y->runs, y->nruns, &n);
	struct stats_wsr w;
	struct stats_ci ci;
	double hl;

	if (d && n && !stats_signed_rank(d, n, &w)) {
		row->tested = true;
		row->p = w.p;
		row->exact = w.exact;
		row->significant = w.p < alpha;
		if (!stats_walsh_ci(d, n, 0.95, &hl, &ci))
			row->change = exp(hl) - 1;
	}
	row->enough = n >= DIFF_MIN_SAMPLES;
	free(d);
}

static void compare_row(struct diff_row *row, const struct diff_group *x, const struct diff_group *y,
			enum diff_unit unit, bool paired, double alpha)
{
	row->old_med = row->new_med = row->change = NAN;
	row->old_mean = row->new_mean = NAN;
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
	struct stats_mwu m;
	if (row->n_old && row->n_new && paired) {
		compare_rounds(row, x, y, alpha);
	} else if (row->n_old && row->n_new) {
		if (row->old_med > 0)
			row->change = row->new_med / row->old_med - 1;
		if (!stats_mann_whitney(vx, row->n_old, vy, row->n_new, &m)) {
			row->tested = true;
			row->p = m.p;
			row->exact = m.exact;
			row->significant = m.p < alpha;
		}
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
	/* Per replay: the sum over the reasons both sides have of the old
	 * exit count x that replay's median; a replay missing a reason is left
	 * out. */
	for (int side = 0; side < 2; side++) {
		const struct diff_side *s = side ? b : a;
		double *tot = side ? tb : ta;
		size_t *nt = side ? &nb : &na;
		for (unsigned k = 0; k < s->repeat; k++) {
			double sum = 0;
			bool ok = true;
			for (size_t i = 0; i < a->ng && ok; i++) {
				const struct diff_group *ga = &a->g[i];
				if (ga->key[0] || !group_find(b, ga->reason, ""))
					continue;
				const struct diff_group *g = group_find(s, ga->reason, "");
				if (!g || k >= g->nruns || isnan(g->runs[k]))
					ok = false;
				else
					sum += (double)ga->count * g->runs[k];
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

static void total_exits(const struct diff_side *a, const struct diff_side *b, const struct diff_opts *o,
			struct diff_result *r)
{
	struct diff_total *t = &r->total;
	unsigned boot = o->boot ? o->boot : DEFAULT_BOOT;
	double *rep = malloc(boot * sizeof(double));
	struct stats_rng rng;

	if (!rep)
		return;
	stats_rng_seed(&rng, o->seed ? o->seed : DEFAULT_SEED);
	double old_ns = 0, new_ns = 0;
	bool any = false;
	for (size_t i = 0; i < a->ng; i++) {
		const struct diff_group *x = &a->g[i], *y;
		if (x->key[0] || !(y = group_find(b, x->reason, "")) || !x->nsamples || !y->nsamples)
			continue;
		old_ns += (double)x->count * stats_median(x->samples, x->nsamples);
		new_ns += (double)x->count * stats_median(y->samples, y->nsamples);
		any = true;
	}
	if (!any) {
		free(rep);
		return;
	}
	size_t nrep = 0;
	for (unsigned k = 0; k < boot; k++) {
		double so = 0, sn = 0;
		for (size_t i = 0; i < a->ng; i++) {
			const struct diff_group *x = &a->g[i], *y;
			if (x->key[0] || !(y = group_find(b, x->reason, "")) || !x->nsamples || !y->nsamples)
				continue;
			so += (double)x->count * stats_boot_median(&rng, x->samples, x->nsamples);
			sn += (double)x->count * stats_boot_median(&rng, y->samples, y->nsamples);
		}
		if (so > 0)
			rep[nrep++] = sn / so - 1;
	}
	t->valid = true;
	t->old_ns = old_ns;
	t->new_ns = new_ns;
	t->change = old_ns > 0 ? new_ns / old_ns - 1 : NAN;
	t->boot = (unsigned)nrep;
	t->ci_ok = nrep > 0;
	t->ci_level = 0.95;
	if (nrep)
		boot_interval(rep, nrep, &t->lo, &t->hi);
	else
		t->lo = t->hi = NAN;
	/* No rank test of a weighted sum: significant when the interval
	 * leaves out 0. */
	t->significant = nrep && (t->lo > 0 || t->hi < 0);
	t->enough = true;
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
	t->lo = t->hi = NAN;
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
			const struct diff_group *x = side ? group_find(a, g->reason, g->key) : g;
			const struct diff_group *y = side ? g : group_find(b, g->reason, g->key);
			if (side && x)
				continue; /* paired already */
			struct diff_row *row = &r->rows[r->nrows++];
			row->reason = g->reason;
			snprintf(row->key, sizeof(row->key), "%s", g->key);
			row->in_old = x != NULL;
			row->in_new = y != NULL;
			row->count_old = x ? x->count : 0;
			row->count_new = y ? y->count : 0;
			compare_row(row, x, y, r->unit, r->paired, r->alpha);
		}
	}
	qsort(r->rows, r->nrows, sizeof(*r->rows), cmp_row);
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
				diff_note(r, "%s: only in the %s result", reason_name(w->reason), w->in_old ? "old" : "new");
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
			int m = snprintf(names + used, sizeof(names) - used, "%s%s", used ? ", " : "", reason_name(v->reason));
			if (m > 0 && used + (size_t)m < sizeof(names))
				used += (size_t)m;
		}
		const char *unit = r->unit == DIFF_UNIT_REPLAYS ? "replays" : "samples";
		diff_note(r, "%s: %zu+%zu %s, fewer than %d a side: the intervals in ( ) are [min, max] (confidence "
			     "%.1f%% / %.1f%%, not 95%%)%s; not counted for --fail-over",
			  names, w->n_old, w->n_new, unit, DIFF_MIN_SAMPLES, 100 * w->old_ci.level, 100 * w->new_ci.level,
			  (r->paired ? ldexp(2, -(int)w->n_old) : stats_mwu_min_p(w->n_old, w->n_new)) >= r->alpha
				  ? "; no p-value below alpha is possible"
				  : "");
	}
	free(done);
	if (few_sub)
		diff_note(r, "%zu sub-key line%s with fewer than %d values a side (intervals in ( ) are [min, max])", few_sub,
			  few_sub == 1 ? "" : "s", DIFF_MIN_SAMPLES);
	return 0;
}

/* ------------------------------------------------------------ printing */

static void fmt_ns(char *buf, size_t len, double v)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else if (v >= 100 || v == floor(v))
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%.1f", v);
}

static void fmt_time(char *buf, size_t len, double ns)
{
	if (isnan(ns))
		snprintf(buf, len, "-");
	else if (ns < 1e4)
		snprintf(buf, len, "%.0f ns", ns);
	else if (ns < 1e6)
		snprintf(buf, len, "%.2f us", ns / 1e3);
	else if (ns < 1e9)
		snprintf(buf, len, "%.2f ms", ns / 1e6);
	else
		snprintf(buf, len, "%.3f s", ns / 1e9);
}

static void fmt_p(char *buf, size_t len, double p)
{
	if (p < 0.0001)
		snprintf(buf, len, "%.1e", p);
	else
		snprintf(buf, len, "%.4f", p);
}

static void fmt_median_ci(char *buf, size_t len, double med, const struct stats_ci *ci, size_t n)
{
	char m[32], lo[32], hi[32];
	fmt_ns(m, sizeof(m), med);
	if (!n) {
		snprintf(buf, len, "%7s %21s", m, "");
		return;
	}
	fmt_ns(lo, sizeof(lo), ci->lo);
	fmt_ns(hi, sizeof(hi), ci->hi);
	snprintf(buf, len, "%7s %c%8s .. %8s%c", m, ci->ok ? '[' : '(', lo, hi, ci->ok ? ']' : ')');
}

static void describe_side(FILE *out, const char *which, const struct diff_side *s)
{
	if (s->kind == DIFF_RUN) {
		fprintf(out, "  %s: %s  scenario %s (%s), digest %s\n", which, s->label, s->source, s->handler, s->digest);
		return;
	}
	if (s->kind == DIFF_TRACE) {
		fprintf(out, "  %s: %s  handling times recorded in the trace, %" PRIu64 " exits\n", which, s->label, s->exits);
		return;
	}
	fprintf(out, "  %s: %s  handler %s, %u replay%s, digest %s\n", which, s->label, s->handler, s->repeat,
		s->repeat == 1 ? "" : "s", s->digest[0] ? s->digest : "-");
}

static void print_run_table(FILE *out, const struct diff_result *r)
{
	char a[32], b[32], c[32], d[32];

	fprintf(out, "\n%-26s %9s %9s %11s %11s %9s %12s %12s %9s\n", "reason / sub-key", "old exits", "new exits",
		"old p50 ns", "new p50 ns", "p50", "old mean ns", "new mean ns", "mean");
	for (size_t i = 0; i < r->nrows; i++) {
		const struct diff_row *w = &r->rows[i];
		fmt_ns(a, sizeof(a), w->old_med);
		fmt_ns(b, sizeof(b), w->new_med);
		fmt_ns(c, sizeof(c), w->old_mean);
		fmt_ns(d, sizeof(d), w->new_mean);
		char ch1[32] = "-", ch2[32] = "-";
		if (!isnan(w->change))
			snprintf(ch1, sizeof(ch1), "%+.1f%%", 100 * w->change);
		if (!isnan(w->old_mean) && !isnan(w->new_mean) && w->old_mean > 0)
			snprintf(ch2, sizeof(ch2), "%+.1f%%", 100 * (w->new_mean / w->old_mean - 1));
		fprintf(out, "%-26s %9" PRIu64 " %9" PRIu64 " %11s %11s %9s %12s %12s %9s\n", reason_name(w->reason),
			w->count_old, w->count_new, a, b, ch1, c, d, ch2);
	}
	fmt_time(a, sizeof(a), r->total.old_ns);
	fmt_time(b, sizeof(b), r->total.new_ns);
	fprintf(out, "%-26s %9s %9s %11s %11s %9s\n", "total native handling", "", "", a, b, "");
	if (!isnan(r->total.change))
		fprintf(out, "change of the total: %+.1f%% (no interval or test: no samples)\n", 100 * r->total.change);
}

void diff_print(FILE *out, const struct diff_side *a, const struct diff_side *b, const struct diff_result *r)
{
	char c1[128], c2[128], ch[32], p[32], n[48], ex[48];

	fprintf(out, "vmxlab diff\n");
	describe_side(out, "old", a);
	describe_side(out, "new", b);
	if (a->kind == DIFF_REPLAY) {
		fprintf(out, "  trace %s", a->source);
		if (a->have_id)
			fprintf(out, ": %" PRIu64 " bytes, FNV-1a of the first MiB %016" PRIx64, a->trace_size, a->trace_hash);
		fprintf(out, "; %" PRIu64 " exits per replay\n", a->exits);
	}
	if (r->unit == DIFF_UNIT_NONE) {
		print_run_table(out, r);
		goto notes;
	}
	if (r->unit == DIFF_UNIT_REPLAYS)
		fprintf(out, "  unit: one replay - a value is the replay's median handler ns for the line; n = replays a side\n");
	else
		fprintf(out, "  unit: one exit - a value is one exit's handler ns; n = exits a side (all replays pooled)\n");
	fprintf(out, "  medians with distribution-free 95%% intervals (order statistics); ");
	if (r->paired)
		fprintf(out, "paired by round: change = the Hodges-Lehmann estimate of the rounds' new/old, p: Wilcoxon "
			     "signed-rank on log(new/old), two-sided, exact for n <= %d; ~: p >= %g\n",
			STATS_WSR_EXACT_MAX, r->alpha);
	else
		fprintf(out, "p: Mann-Whitney U, two-sided, exact for n_old + n_new <= %d, else normal approximation with "
			     "tie correction; ~: p >= %g\n",
			STATS_MWU_EXACT_MAX, r->alpha);
	fprintf(out, "\n%-26s %9s  %-30s %-30s %8s %8s %7s\n", "reason / sub-key", "exits", "old ns  [95% interval]",
		"new ns  [95% interval]", "change", "p", "n");
	for (size_t i = 0; i < r->nrows; i++) {
		const struct diff_row *w = &r->rows[i];
		char label[64];
		if (w->key[0])
			snprintf(label, sizeof(label), "  %s", w->key);
		else
			snprintf(label, sizeof(label), "%s", reason_name(w->reason));
		if (w->count_old == w->count_new || !w->in_old || !w->in_new)
			snprintf(ex, sizeof(ex), "%" PRIu64, w->in_old ? w->count_old : w->count_new);
		else
			snprintf(ex, sizeof(ex), "%" PRIu64 "/%" PRIu64, w->count_old, w->count_new);
		fmt_median_ci(c1, sizeof(c1), w->old_med, &w->old_ci, w->in_old ? w->n_old : 0);
		fmt_median_ci(c2, sizeof(c2), w->new_med, &w->new_ci, w->in_new ? w->n_new : 0);
		if (!w->in_old || !w->in_new)
			snprintf(ch, sizeof(ch), "%s", w->in_old ? "gone" : "new");
		else if (!w->tested || !w->significant || isnan(w->change))
			snprintf(ch, sizeof(ch), "~");
		else
			snprintf(ch, sizeof(ch), "%+.1f%%", 100 * w->change);
		if (w->tested)
			fmt_p(p, sizeof(p), w->p);
		else
			snprintf(p, sizeof(p), "-");
		snprintf(n, sizeof(n), "%zu+%zu", w->n_old, w->n_new);
		fprintf(out, "%-26s %9s  %-30s %-30s %8s %8s %7s\n", label, ex, c1, c2, ch, p, n);
	}
	const struct diff_total *t = &r->total;
	if (t->valid) {
		char o[32], nw[32], lo[32] = "-", hi[32] = "-";
		fmt_time(o, sizeof(o), t->old_ns);
		fmt_time(nw, sizeof(nw), t->new_ns);
		if (!isnan(t->lo)) {
			snprintf(lo, sizeof(lo), "%+.1f%%", 100 * t->lo);
			snprintf(hi, sizeof(hi), "%+.1f%%", 100 * t->hi);
		}
		if (t->significant && !isnan(t->change))
			snprintf(ch, sizeof(ch), "%+.1f%%", 100 * t->change);
		else
			snprintf(ch, sizeof(ch), "~");
		fprintf(out, "\ntotal handling time of the trace (sum of exits x median)\n");
		if (t->ci_ok)
			fprintf(out, "  old %s, new %s: change %s, 95%% interval [%s .. %s]", o, nw, ch, lo, hi);
		else
			fprintf(out, "  old %s, new %s: change %s, interval (%s .. %s) (%.1f%%: too few replays for 95%%)", o, nw,
				ch, lo, hi, 100 * t->ci_level);
		if (!isnan(t->change) && !t->significant)
			fprintf(out, " (estimate %+.1f%%)", 100 * t->change);
		if (t->has_p) {
			fmt_p(p, sizeof(p), t->p);
			fprintf(out, ", p %s (%s), n %zu+%zu", p, t->exact ? "exact" : "normal approximation", t->n_old, t->n_new);
		}
		fputc('\n', out);
		if (r->paired)
			fprintf(out, "  per round: sum over reasons of old exits x the replay's median, one total a side; change: "
				     "the Hodges-Lehmann estimate of the rounds' new/old; p: Wilcoxon signed-rank on their "
				     "logarithms; the interval: the one that goes with that test (Walsh averages)\n");
		else if (r->unit == DIFF_UNIT_REPLAYS)
			fprintf(out, "  per replay: sum over reasons of old exits x the replay's median; p: Mann-Whitney U on those "
				     "totals; the interval: the one that goes with that test (Moses), on their logarithms\n");
		else
			fprintf(out, "  the interval: %u bootstrap resamples of each reason's exits (medians drawn exactly, by "
				     "order statistics), percentile method; ~ when it contains 0\n",
				t->boot);
	}
notes:
	if (r->nnotes)
		fputc('\n', out);
	for (size_t i = 0; i < r->nnotes; i++)
		fprintf(out, "note: %s\n", r->notes[i]);
}

/* ------------------------------------------------------------ JSON and CSV */

/* A number, or null for NAN. */
static void jnum(FILE *f, double v)
{
	if (isnan(v) || isinf(v))
		fprintf(f, "null");
	else
		fprintf(f, "%.10g", v);
}

static const char *unit_name(enum diff_unit u)
{
	return u == DIFF_UNIT_REPLAYS ? "replay" : u == DIFF_UNIT_EXITS ? "exit" : "none";
}

static void json_side(FILE *f, const struct diff_side *s)
{
	fprintf(f, "{\"file\": ");
	json_write_string(f, s->label);
	fprintf(f, ", \"kind\": \"%s\", \"source\": ", s->kind == DIFF_RUN ? "run" : s->kind == DIFF_TRACE ? "trace" : "replay");
	json_write_string(f, s->source);
	fprintf(f, ", \"handler\": ");
	json_write_string(f, s->handler);
	fprintf(f, ", \"replays\": %u, \"digest\": ", s->repeat);
	json_write_string(f, s->digest);
	fprintf(f, "}");
}

void diff_write_json(FILE *f, const struct diff_side *a, const struct diff_side *b, const struct diff_result *r,
		     const struct diff_opts *o)
{
	fprintf(f, "{\n  \"old\": ");
	json_side(f, a);
	fprintf(f, ",\n  \"new\": ");
	json_side(f, b);
	fprintf(f, ",\n  \"unit\": \"%s\",\n  \"alpha\": %g,\n  \"test\": \"%s\",\n  \"lines\": [",
		unit_name(r->unit), r->alpha,
		r->paired ? "Wilcoxon signed-rank on the per-round log(new/old), two-sided" : "Mann-Whitney U, two-sided");
	for (size_t i = 0; i < r->nrows; i++) {
		const struct diff_row *w = &r->rows[i];
		fprintf(f, "%s\n    {\"reason\": %u, \"name\": ", i ? "," : "", w->reason);
		json_write_string(f, reason_name(w->reason));
		fprintf(f, ", \"key\": ");
		if (w->key[0])
			json_write_string(f, w->key);
		else
			fprintf(f, "null");
		fprintf(f, ", \"exits_old\": %" PRIu64 ", \"exits_new\": %" PRIu64 ", \"n_old\": %zu, \"n_new\": %zu",
			w->count_old, w->count_new, w->n_old, w->n_new);
		fprintf(f, ", \"old_median_ns\": ");
		jnum(f, w->old_med);
		if (r->unit != DIFF_UNIT_NONE && w->n_old) {
			fprintf(f, ", \"old_ci\": [");
			jnum(f, w->old_ci.lo);
			fprintf(f, ", ");
			jnum(f, w->old_ci.hi);
			fprintf(f, "], \"old_ci_level\": %.6f", w->old_ci.level);
		}
		fprintf(f, ", \"new_median_ns\": ");
		jnum(f, w->new_med);
		if (r->unit != DIFF_UNIT_NONE && w->n_new) {
			fprintf(f, ", \"new_ci\": [");
			jnum(f, w->new_ci.lo);
			fprintf(f, ", ");
			jnum(f, w->new_ci.hi);
			fprintf(f, "], \"new_ci_level\": %.6f", w->new_ci.level);
		}
		fprintf(f, ", \"change\": ");
		jnum(f, w->change);
		fprintf(f, ", \"p\": ");
		jnum(f, w->tested ? w->p : NAN);
		fprintf(f, ", \"exact\": %s, \"significant\": %s, \"enough\": %s}", w->tested && w->exact ? "true" : "false",
			w->significant ? "true" : "false", w->enough ? "true" : "false");
	}
	const struct diff_total *t = &r->total;
	fprintf(f, "],\n  \"total\": {\"old_ns\": ");
	jnum(f, t->valid ? t->old_ns : NAN);
	fprintf(f, ", \"new_ns\": ");
	jnum(f, t->valid ? t->new_ns : NAN);
	fprintf(f, ", \"change\": ");
	jnum(f, t->valid ? t->change : NAN);
	fprintf(f, ", \"ci95\": [");
	jnum(f, t->valid ? t->lo : NAN);
	fprintf(f, ", ");
	jnum(f, t->valid ? t->hi : NAN);
	fprintf(f, "], \"p\": ");
	jnum(f, t->has_p ? t->p : NAN);
	fprintf(f, ", \"ci_level\": ");
	jnum(f, t->valid ? t->ci_level : NAN);
	fprintf(f, ", \"interval\": \"%s\", \"significant\": %s},\n  \"notes\": [", t->walsh ? "walsh" : t->moses ? "moses" : "bootstrap",
		t->significant ? "true" : "false");
	for (size_t i = 0; i < r->nnotes; i++) {
		fprintf(f, "%s", i ? ", " : "");
		json_write_string(f, r->notes[i]);
	}
	fprintf(f, "]");
	if (o->fail_over_set)
		fprintf(f, ",\n  \"fail_over_pct\": %g", o->fail_over);
	fprintf(f, "\n}\n");
}

static void cnum(FILE *f, double v)
{
	if (!isnan(v) && !isinf(v))
		fprintf(f, "%.10g", v);
}

void diff_write_csv(FILE *f, const struct diff_result *r)
{
	fprintf(f, "reason,name,key,exits_old,exits_new,n_old,n_new,old_median_ns,old_lo,old_hi,new_median_ns,new_lo,"
		   "new_hi,change_pct,change_lo_pct,change_hi_pct,p,significant\n");
	for (size_t i = 0; i < r->nrows; i++) {
		const struct diff_row *w = &r->rows[i];
		bool ci = r->unit != DIFF_UNIT_NONE;
		fprintf(f, "%u,%s,%s,%" PRIu64 ",%" PRIu64 ",%zu,%zu,", w->reason, reason_name(w->reason), w->key,
			w->count_old, w->count_new, w->n_old, w->n_new);
		const double v[] = { w->old_med,
				     ci && w->n_old ? w->old_ci.lo : NAN,
				     ci && w->n_old ? w->old_ci.hi : NAN,
				     w->new_med,
				     ci && w->n_new ? w->new_ci.lo : NAN,
				     ci && w->n_new ? w->new_ci.hi : NAN,
				     100 * w->change,
				     NAN,
				     NAN,
				     w->tested ? w->p : NAN };
		for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
			cnum(f, v[k]);
			fputc(',', f);
		}
		fprintf(f, "%d\n", w->significant);
	}
	const struct diff_total *t = &r->total;
	if (!t->valid)
		return;
	/* The total: its old and new time in the median columns. */
	fprintf(f, ",total,,,,%zu,%zu,", t->n_old, t->n_new);
	const double v[] = { t->old_ns, NAN, NAN, t->new_ns, NAN, NAN, 100 * t->change, 100 * t->lo, 100 * t->hi,
			     t->has_p ? t->p : NAN };
	for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
		cnum(f, v[k]);
		fputc(',', f);
	}
	fprintf(f, "%d\n", t->significant);
}

int diff_fail_over(FILE *out, const struct diff_result *r, const struct diff_opts *o)
{
	int fail = 0;
	double lim = o->fail_over / 100;

	if (r->unit == DIFF_UNIT_NONE)
		return 0;
	for (size_t i = 0; i < r->nrows; i++) {
		const struct diff_row *w = &r->rows[i];
		if (w->key[0] || !w->enough || !w->significant || isnan(w->change) || !(w->change > lim))
			continue;
		fprintf(out, "fail-over: %s %+.1f%% > +%g%% (p %.2g, n %zu+%zu)\n", reason_name(w->reason), 100 * w->change,
			o->fail_over, w->p, w->n_old, w->n_new);
		fail = 1;
	}
	const struct diff_total *t = &r->total;
	if (t->valid && t->enough && t->significant && t->change > lim) {
		fprintf(out, "fail-over: total %+.1f%% > +%g%% (95%% interval %+.1f%% .. %+.1f%%%s)\n", 100 * t->change,
			o->fail_over, 100 * t->lo, 100 * t->hi, t->has_p ? "" : ", bootstrap");
		fail = 1;
	}
	return fail;
}
