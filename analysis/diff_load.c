/*
 * `vmxlab diff` (diff.h): reading a result file of `vmxlab replay --json`
 * or `vmxlab run --json` into a side, strictly: a member that is missing
 * or of the wrong type, a negative ns value or a repeated line is an
 * error naming the file and the place (docs/diff.md).  The JSON itself is
 * parsed by json.c.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <vmxlab/vmx.h>

#include "diff.h"
#include "diff_priv.h"
#include "json.h"

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

/* Each replay's mean (diff.h), from repeat_avg_ns (reasons only; avg),
 * where the replay kept any sample.  `vmxlab replay` writes samples_ns
 * sorted, not replay after replay, so a file tells no replay's p95 or p99:
 * those stay NAN (untested) in file mode. */
static int replay_means(struct diff_side *s, struct diff_group *g, const double *avg, size_t navg)
{
	for (unsigned k = 0; k < s->repeat; k++) {
		if (diff_group_add_run_stats(g, NULL, 0))
			return -1;
		if (avg && k < navg && avg[k] > 0 && !isnan(g->runs[k]))
			g->run_mean[k] = avg[k];
	}
	return 0;
}

/* samples_ns and the per-replay values of one reason or sub-key. */
static int read_samples(struct loader *l, struct diff_side *s, struct diff_group *g, const struct json *o,
			const char *where)
{
	int rc = 0;
	double *avg = NULL;
	size_t navg = 0;
	const struct json *a = member(l, o, where, "samples_ns", JSON_ARRAY, true, &rc);
	if (!a || read_values(l, a, where, "samples_ns", false, &g->samples, &g->nsamples))
		return -1;
	if ((a = member(l, o, where, "repeat_avg_ns", JSON_ARRAY, false, &rc))) {
		if (read_values(l, a, where, "repeat_avg_ns", false, &avg, &navg))
			return -1;
	} else if (rc) {
		return -1;
	}
	if ((a = member(l, o, where, "repeat_median_ns", JSON_ARRAY, false, &rc))) {
		if (read_values(l, a, where, "repeat_median_ns", true, &g->runs, &g->nruns))
			rc = -1;
	} else if (!rc && avg) {
		g->runs = malloc((navg ? navg : 1) * sizeof(double));
		if (!g->runs)
			rc = bad(l, where, "out of memory");
		else
			memcpy(g->runs, avg, navg * sizeof(double));
		g->nruns = navg;
		s->runs_are_avg = true;
	}
	if (!rc && g->runs && g->nruns != s->repeat)
		rc = bad(l, where, "%zu per-replay values for %u replays", g->nruns, s->repeat);
	if (!rc && g->runs && s->repeat >= 2 && replay_means(s, g, avg, navg))
		rc = bad(l, where, "out of memory");
	free(avg);
	if (rc)
		return -1;
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
	if (diff_group_find(s, reason, key)) {
		if (subkey)
			bad(l, where, "sub-key \"%s\" of %s appears twice", key, diff_reason_name(reason));
		else
			bad(l, where, "exit reason %u appears twice", reason);
		return NULL;
	}
	struct diff_group *g = diff_group_get(s, reason, key, true);
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
