/*
 * summary_out.c - the summary as text (the shape of xenalyze --summary) and
 * as JSON (the contract in docs/traces.md: a top-level `domains` list, each
 * with `domain`, `exit_reasons` summed over its vcpus and `vcpus`, each with
 * `vcpu` and its own `exit_reasons`).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "summary.h"

/* ------------------------------------------------------------ grouping */

static int by_dom_vcpu(const void *a, const void *b)
{
	const struct vcpu_stat *x = *(struct vcpu_stat *const *)a, *y = *(struct vcpu_stat *const *)b;

	if (x->dom != y->dom)
		return x->dom < y->dom ? -1 : 1;
	return x->vcpu < y->vcpu ? -1 : x->vcpu > y->vcpu;
}

static bool has_data(const struct vcpu_stat *v)
{
	if (v->exits)
		return true;
	for (unsigned i = 0; i < 256; i++)
		if (v->guest_intr[i])
			return true;
	return false;
}

/* The selected vcpus with data, sorted by domain then vcpu.  *n set. */
static struct vcpu_stat **select_vcpus(const struct summary *s, const struct summary_opts *o, unsigned *n)
{
	struct vcpu_stat **a = malloc((s->nv ? s->nv : 1) * sizeof(*a));

	*n = 0;
	if (!a)
		return NULL;
	for (unsigned i = 0; i < s->nv; i++) {
		const struct vcpu_stat *v = s->v[i];
		if ((o->domain >= 0 && v->dom != (uint32_t)o->domain) || (o->vcpu >= 0 && v->vcpu != (uint32_t)o->vcpu))
			continue;
		if (has_data(v))
			a[(*n)++] = s->v[i];
	}
	qsort(a, *n, sizeof(*a), by_dom_vcpu);
	return a;
}

static void merge_reason(struct reason_stat *dst, const struct reason_stat *src)
{
	dst->count += src->count;
	dst->cycles += src->cycles;
	hist_merge(&dst->h, &src->h);
	if (src->subs)
		for (unsigned i = 0; i < 2 * SUMMARY_MAX_SUBS; i++) {
			const struct sub_stat *e = &src->subs[i];
			if (e->kind == SUB_NONE)
				continue;
			struct sub_stat *d = reason_sub(dst, e->kind, e->key);
			d->count += e->count;
			d->cycles += e->cycles;
		}
	dst->other.count += src->other.count;
	dst->other.cycles += src->other.cycles;
}

/* The sum of vcpus a[0..n) (one domain) as one vcpu_stat. */
static struct vcpu_stat *domain_total(struct vcpu_stat **a, unsigned n)
{
	struct vcpu_stat *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->dom = a[0]->dom;
	for (unsigned i = 0; i < n; i++) {
		t->exits += a[i]->exits;
		for (unsigned k = 0; k < 256; k++)
			t->guest_intr[k] += a[i]->guest_intr[k];
		for (unsigned k = 0; k < SUMMARY_NREASONS; k++) {
			if (!a[i]->reasons[k])
				continue;
			if (!t->reasons[k] && !(t->reasons[k] = calloc(1, sizeof(struct reason_stat))))
				continue;
			merge_reason(t->reasons[k], a[i]->reasons[k]);
		}
	}
	return t;
}

static void domain_total_free(struct vcpu_stat *t)
{
	if (!t)
		return;
	for (unsigned k = 0; k < SUMMARY_NREASONS; k++)
		if (t->reasons[k]) {
			hist_free(&t->reasons[k]->h);
			free(t->reasons[k]->subs);
			free(t->reasons[k]);
		}
	free(t);
}

static int by_sub_key(const void *a, const void *b)
{
	const struct sub_stat *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return x->key < y->key ? -1 : x->key > y->key;
}

/* The used sub entries of r, sorted, with "other" last if used.  *n set. */
static struct sub_stat *sorted_subs(const struct reason_stat *r, unsigned *n)
{
	struct sub_stat *a = malloc((r->nsubs + 1) * sizeof(*a));

	*n = 0;
	if (!a)
		return NULL;
	if (r->subs)
		for (unsigned i = 0; i < 2 * SUMMARY_MAX_SUBS; i++)
			if (r->subs[i].kind != SUB_NONE && r->subs[i].count)
				a[(*n)++] = r->subs[i];
	qsort(a, *n, sizeof(*a), by_sub_key);
	if (r->other.count)
		a[(*n)++] = r->other;
	return a;
}

static const char *reason_name(unsigned k)
{
	const char *n = k < VMX_EXIT_REASON_COUNT ? vmx_exit_reason_name(k) : NULL;
	return n ? n : k == SUMMARY_REASON_OTHER ? "OUT_OF_RANGE" : "UNDEFINED";
}

static double total_seconds(const struct summary *s, double hz)
{
	return s->have_tsc ? (double)(s->last_tsc - s->first_tsc) / hz : 0;
}

static double pct(uint64_t cycles, const struct summary *s)
{
	uint64_t total = s->have_tsc ? s->last_tsc - s->first_tsc : 0;
	return total ? 100.0 * (double)cycles / (double)total : 0;
}

/* ------------------------------------------------------------ text */

static void sub_label(char *buf, size_t len, const struct sub_stat *e)
{
	static const char *const cr_op[] = { "read", "write", "clts", "lmsw" };
	const char *dir;

	switch (e->kind) {
	case SUB_IO:
		snprintf(buf, len, "port 0x%04x %s", (unsigned)(e->key & 0xffff), e->key >> 16 ? "write" : "read");
		break;
	case SUB_MMIO:
		dir = e->key & 1 ? "write" : "read";
		snprintf(buf, len, "mmio 0x%" PRIx64 " %s", e->key & ~(uint64_t)0xfff, dir);
		break;
	case SUB_CR:
		if ((e->key >> 8) >= 2)
			snprintf(buf, len, "%s", cr_op[(e->key >> 8) & 3]);
		else
			snprintf(buf, len, "cr%u %s", (unsigned)(e->key & 0xff), cr_op[(e->key >> 8) & 1]);
		break;
	case SUB_MSR:
		snprintf(buf, len, "msr 0x%" PRIx64, e->key);
		break;
	case SUB_VECTOR:
		snprintf(buf, len, "vector 0x%02x", (unsigned)e->key);
		break;
	case SUB_EXCEPTION:
		snprintf(buf, len, "exception %u", (unsigned)e->key);
		break;
	case SUB_CPUID:
		snprintf(buf, len, "leaf 0x%" PRIx64, e->key);
		break;
	case SUB_HYPERCALL:
		snprintf(buf, len, "hypercall %" PRIu64, e->key);
		break;
	default:
		snprintf(buf, len, "(other)");
		break;
	}
}

static void print_reasons(FILE *out, const struct vcpu_stat *v, const struct summary *s, double hz)
{
	fprintf(out, " Exit reasons:\n  %3s %-22s %10s %10s %7s %10s %10s %10s %10s\n", "#", "name", "count", "time(s)",
		"time%", "avg cyc", "p5", "p50", "p95");
	for (unsigned k = 0; k < SUMMARY_NREASONS; k++) {
		const struct reason_stat *r = v->reasons[k];
		if (!r || !r->count)
			continue;
		fprintf(out, "  %3u %-22s %10" PRIu64 " %10.6f %6.2f%% %10.0f %10" PRIu64 " %10" PRIu64 " %10" PRIu64 "\n",
			k, reason_name(k), r->count, (double)r->cycles / hz, pct(r->cycles, s),
			(double)r->cycles / (double)r->count, hist_percentile(&r->h, 5), hist_percentile(&r->h, 50),
			hist_percentile(&r->h, 95));
		unsigned n;
		struct sub_stat *subs = sorted_subs(r, &n);
		for (unsigned i = 0; subs && i < n; i++) {
			char label[64];
			sub_label(label, sizeof(label), &subs[i]);
			fprintf(out, "      %-24s %8" PRIu64 " %10.6f %6.2f%% %10.0f\n", label, subs[i].count,
				(double)subs[i].cycles / hz, pct(subs[i].cycles, s),
				(double)subs[i].cycles / (double)subs[i].count);
		}
		free(subs);
	}
}

static void print_guest_intr(FILE *out, const struct vcpu_stat *v)
{
	bool any = false;

	for (unsigned i = 0; i < 256; i++) {
		if (!v->guest_intr[i])
			continue;
		if (!any)
			fprintf(out, " Guest interrupt counts:\n");
		any = true;
		fprintf(out, "  [%3u] %" PRIu64 "\n", i, v->guest_intr[i]);
	}
}

static void print_trace_info(FILE *out, const struct summary *s, const struct summary_opts *o)
{
	const struct trc_reader_stats *rs = o->rs;

	if (o->trace_path)
		fprintf(out, "Trace: %s", o->trace_path);
	if (rs)
		fprintf(out, " (%" PRIu64 " bytes%s, %" PRIu64 " windows, %u pcpus)", rs->bytes,
			rs->gzip ? " uncompressed" : "", rs->windows, rs->cpus);
	fprintf(out, "\nTotal time: %.6f seconds (using cpu speed %.2f GHz)\n", total_seconds(s, o->cpu_hz),
		o->cpu_hz / 1e9);
	fprintf(out, "Records: %" PRIu64 " (vmexit %" PRIu64 ", vmentry %" PRIu64 ", handler %" PRIu64 ", sched %" PRIu64
		", gen %" PRIu64 ", vmxlab %" PRIu64 ", other classes %" PRIu64 ")\n",
		s->records, s->vmexits, s->vmentries, s->handler, s->sched, s->gen, s->vmxlab, s->other_class);
	if (rs && (rs->lost_records || rs->corrupt || rs->truncated || rs->wraps))
		fprintf(out, "Lost records: %" PRIu64 " in %" PRIu64 " gaps; wrap records: %" PRIu64
			"; corrupt spots skipped: %" PRIu64 " (%" PRIu64 " bytes)%s\n",
			rs->lost_records, rs->lost_events, rs->wraps, rs->corrupt, rs->skipped_bytes,
			rs->truncated ? "; last window truncated" : "");
	if (s->unknown) {
		fprintf(out, "Unknown events: %" PRIu64 " (", s->unknown);
		for (unsigned i = 0; i < s->nunknown_ids; i++)
			fprintf(out, "%s0x%08x: %" PRIu64, i ? ", " : "", s->unknown_ids[i].event, s->unknown_ids[i].count);
		fprintf(out, ")\n");
	}
	if (s->unfinished || s->abandoned || s->stray_entries || s->negative)
		fprintf(out, "Not counted: %" PRIu64 " exits open at the end, %" PRIu64 " abandoned (no VMENTRY), %" PRIu64
			" VMENTRY without an exit, %" PRIu64 " with a TSC going back\n",
			s->unfinished, s->abandoned, s->stray_entries, s->negative);
	fprintf(out, "Percentiles: log-linear histogram, within %.2f%% of the exact value\n", HIST_REL_ERROR * 100);
}

void summary_print(FILE *out, const struct summary *s, const struct summary_opts *o)
{
	unsigned n;
	struct vcpu_stat **a = select_vcpus(s, o, &n);

	print_trace_info(out, s, o);
	if (!a)
		return;
	for (unsigned i = 0; i < n;) {
		unsigned j = i;
		while (j < n && a[j]->dom == a[i]->dom)
			j++;
		struct vcpu_stat *t = domain_total(a + i, j - i);
		if (a[i]->dom == TRC_DOM_DEFAULT)
			fprintf(out, "|-- Domain default (records before any runstate record) --|\n");
		else
			fprintf(out, "|-- Domain %u --|\n", a[i]->dom);
		if (t) {
			fprintf(out, " Exits: %" PRIu64 " (all vcpus)\n", t->exits);
			print_reasons(out, t, s, o->cpu_hz);
			print_guest_intr(out, t);
		}
		domain_total_free(t);
		for (unsigned k = i; k < j; k++) {
			fprintf(out, "-- v%u --\n", a[k]->vcpu);
			print_reasons(out, a[k], s, o->cpu_hz);
			print_guest_intr(out, a[k]);
		}
		i = j;
	}
	if (n == 0)
		fprintf(out, "No exits%s.\n", o->domain >= 0 || o->vcpu >= 0 ? " for the selected domain/vcpu" : "");
	free(a);
}

/* ------------------------------------------------------------ JSON */

static void json_sub(FILE *f, const struct sub_stat *e)
{
	static const char *const kinds[] = { "other", "io", "mmio", "cr", "msr", "vector", "exception", "cpuid",
					     "hypercall" };
	static const char *const cr_op[] = { "read", "write", "clts", "lmsw" };

	fprintf(f, "{\"kind\": \"%s\"", kinds[e->kind < SUB_KIND_COUNT ? e->kind : 0]);
	switch (e->kind) {
	case SUB_IO:
		fprintf(f, ", \"port\": %u, \"dir\": \"%s\"", (unsigned)(e->key & 0xffff), e->key >> 16 ? "write" : "read");
		break;
	case SUB_MMIO:
		fprintf(f, ", \"gpa\": %" PRIu64 ", \"dir\": \"%s\"", e->key & ~(uint64_t)0xfff, e->key & 1 ? "write" : "read");
		break;
	case SUB_CR:
		fprintf(f, ", \"cr\": %u, \"op\": \"%s\"", (unsigned)(e->key & 0xff), cr_op[(e->key >> 8) & 3]);
		break;
	case SUB_MSR:
		fprintf(f, ", \"msr\": %" PRIu64, e->key);
		break;
	case SUB_VECTOR: case SUB_EXCEPTION:
		fprintf(f, ", \"vector\": %" PRIu64, e->key);
		break;
	case SUB_CPUID:
		fprintf(f, ", \"leaf\": %" PRIu64, e->key);
		break;
	case SUB_HYPERCALL:
		fprintf(f, ", \"nr\": %" PRIu64, e->key);
		break;
	default:
		break;
	}
	fprintf(f, ", \"count\": %" PRIu64 ", \"cycles_total\": %" PRIu64 ", \"cycles_avg\": %.1f}", e->count, e->cycles,
		(double)e->cycles / (double)e->count);
}

static void json_reasons(FILE *f, const struct vcpu_stat *v, const struct summary *s, double hz, const char *ind)
{
	bool first = true;

	fprintf(f, "[");
	for (unsigned k = 0; k < SUMMARY_NREASONS; k++) {
		const struct reason_stat *r = v->reasons[k];
		if (!r || !r->count)
			continue;
		fprintf(f, "%s\n%s  {\"reason\": %u, \"name\": ", first ? "" : ",", ind, k);
		first = false;
		json_write_string(f, reason_name(k));
		fprintf(f, ", \"count\": %" PRIu64 ", \"cycles_total\": %" PRIu64 ", \"cycles_avg\": %.1f"
			", \"time_s\": %.9f, \"time_pct\": %.4f, \"p5\": %" PRIu64 ", \"p50\": %" PRIu64 ", \"p95\": %" PRIu64
			", \"min\": %" PRIu64 ", \"max\": %" PRIu64 ", \"sub\": [",
			r->count, r->cycles, (double)r->cycles / (double)r->count, (double)r->cycles / hz, pct(r->cycles, s),
			hist_percentile(&r->h, 5), hist_percentile(&r->h, 50), hist_percentile(&r->h, 95), r->h.min, r->h.max);
		unsigned n;
		struct sub_stat *subs = sorted_subs(r, &n);
		for (unsigned i = 0; subs && i < n; i++) {
			fprintf(f, "%s", i ? ", " : "");
			json_sub(f, &subs[i]);
		}
		free(subs);
		fprintf(f, "]}");
	}
	fprintf(f, "%s]", first ? "" : "\n");
}

static void json_intr(FILE *f, const struct vcpu_stat *v)
{
	bool first = true;

	fprintf(f, "[");
	for (unsigned i = 0; i < 256; i++)
		if (v->guest_intr[i]) {
			fprintf(f, "%s{\"vector\": %u, \"count\": %" PRIu64 "}", first ? "" : ", ", i, v->guest_intr[i]);
			first = false;
		}
	fprintf(f, "]");
}

int summary_json(FILE *f, const struct summary *s, const struct summary_opts *o)
{
	const struct trc_reader_stats *rs = o->rs;
	unsigned n;
	struct vcpu_stat **a = select_vcpus(s, o, &n);

	fprintf(f, "{\n  \"trace\": {\"path\": ");
	json_write_string(f, o->trace_path ? o->trace_path : "");
	if (rs)
		fprintf(f, ", \"bytes\": %" PRIu64 ", \"gzip\": %s, \"windows\": %" PRIu64 ", \"pcpus\": %u"
			", \"lost_records\": %" PRIu64 ", \"wrap_records\": %" PRIu64 ", \"corrupt_skipped\": %" PRIu64
			", \"skipped_bytes\": %" PRIu64 ", \"truncated\": %s",
			rs->bytes, rs->gzip ? "true" : "false", rs->windows, rs->cpus, rs->lost_records, rs->wraps, rs->corrupt,
			rs->skipped_bytes, rs->truncated ? "true" : "false");
	fprintf(f, ", \"records\": %" PRIu64 ", \"cpu_hz\": %.0f, \"total_cycles\": %" PRIu64 ", \"total_s\": %.9f,\n"
		"    \"unknown_events\": {\"count\": %" PRIu64 ", \"ids\": [",
		s->records, o->cpu_hz, s->have_tsc ? s->last_tsc - s->first_tsc : 0, total_seconds(s, o->cpu_hz), s->unknown);
	for (unsigned i = 0; i < s->nunknown_ids; i++)
		fprintf(f, "%s{\"event\": %u, \"count\": %" PRIu64 "}", i ? ", " : "", s->unknown_ids[i].event,
			s->unknown_ids[i].count);
	fprintf(f, "]},\n    \"not_counted\": {\"open_at_end\": %" PRIu64 ", \"abandoned\": %" PRIu64
		", \"vmentry_without_exit\": %" PRIu64 ", \"tsc_backwards\": %" PRIu64 "},\n"
		"    \"closed_by_runstate\": %" PRIu64 "},\n",
		s->unfinished, s->abandoned, s->stray_entries, s->negative, s->closed_by_runstate);
	fprintf(f, "  \"percentiles\": {\"method\": \"log-linear histogram, nearest rank\", \"max_relative_error\": %.6f},\n",
		HIST_REL_ERROR);
	fprintf(f, "  \"domains\": [");
	for (unsigned i = 0; a && i < n;) {
		unsigned j = i;
		while (j < n && a[j]->dom == a[i]->dom)
			j++;
		struct vcpu_stat *t = domain_total(a + i, j - i);
		fprintf(f, "%s\n    {\"domain\": %u, \"exits\": %" PRIu64 ", \"exit_reasons\": ", i ? "," : "", a[i]->dom,
			t ? t->exits : 0);
		if (t) {
			json_reasons(f, t, s, o->cpu_hz, "      ");
			fprintf(f, ",\n      \"guest_interrupts\": ");
			json_intr(f, t);
		}
		domain_total_free(t);
		fprintf(f, ",\n      \"vcpus\": [");
		for (unsigned k = i; k < j; k++) {
			fprintf(f, "%s\n        {\"vcpu\": %u, \"exits\": %" PRIu64 ", \"exit_reasons\": ", k > i ? "," : "",
				a[k]->vcpu, a[k]->exits);
			json_reasons(f, a[k], s, o->cpu_hz, "          ");
			fprintf(f, ",\n          \"guest_interrupts\": ");
			json_intr(f, a[k]);
			fprintf(f, "}");
		}
		fprintf(f, "]}");
		i = j;
	}
	fprintf(f, "%s]\n}\n", n ? "\n  " : "");
	free(a);
	return ferror(f) ? -1 : 0;
}
