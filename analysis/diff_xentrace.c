/*
 * `vmxlab diff` (diff.h): a captured xentrace file as a side - per exit
 * reason and sub-key the handling time every exit recorded (VMENTRY TSC -
 * VMEXIT TSC, paired by summary.c exactly as `vmxlab summary` pairs them),
 * converted to ns at the given TSC rate.  And the test that tells such a
 * file from a result file.
 */
#include <inttypes.h>
#include <string.h>

#include "diff.h"
#include "diff_priv.h"
#include "summary.h"

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
	if (diff_append(&g->samples, &g->nsamples, &ns, 1))
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
	g = diff_group_get(t->s, reason, "", true);
	if (!g || add_sample(g, ns)) {
		t->oom = true;
		return;
	}
	trace_key(key, sizeof(key), sub_kind, sub_key);
	if (key[0] && (!(g = diff_group_get(t->s, reason, key, true)) || add_sample(g, ns)))
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
