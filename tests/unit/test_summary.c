/*
 * `vmxlab summary` and what it is built on: the percentile histogram
 * (analysis/hist.c), the exit accounting (analysis/summary.c) and the
 * command (cli/cmd_summary.c): exit codes, text and the JSON contract.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vmxlab/trace.h>

#include "../../analysis/summary.h"
#include "../../cli/cli.h"

/* ------------------------------------------------------------ histogram */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v[0..n). */
static uint64_t exact_pct(const uint64_t *v, size_t n, double p)
{
	size_t rank = (size_t)ceil(p / 100.0 * (double)n);
	return v[(rank ? rank : 1) - 1];
}

static void hist_exact_below_64(void **state)
{
	(void)state;
	struct hist h = { 0 };
	for (uint64_t i = 0; i < 64; i++)
		hist_add(&h, i);
	assert_int_equal(h.n, 64);
	assert_int_equal(hist_percentile(&h, 50), 31);
	assert_int_equal(hist_percentile(&h, 5), 3);
	assert_int_equal(hist_percentile(&h, 100), 63);
	assert_int_equal(hist_percentile(&h, 0), 0);
	hist_free(&h);
	assert_int_equal(hist_percentile(&h, 50), 0); /* empty */
}

static void hist_error_is_bounded(void **state)
{
	(void)state;
	/* Log-normal-ish cycle counts from 40 to ~10^7, and extremes. */
	enum { N = 20000 };
	static uint64_t v[N];
	struct hist h = { 0 };
	uint64_t x = 88172645463325252ull;
	for (size_t i = 0; i < N; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		v[i] = 40 + (x % 1000) * (1ull << (x >> 60) % 14);
		hist_add(&h, v[i]);
	}
	qsort(v, N, sizeof(v[0]), cmp_u64);
	static const double ps[] = { 1, 5, 25, 50, 75, 95, 99, 100 };
	for (size_t i = 0; i < sizeof(ps) / sizeof(ps[0]); i++) {
		uint64_t want = exact_pct(v, N, ps[i]), got = hist_percentile(&h, ps[i]);
		double err = fabs((double)got - (double)want) / (double)want;
		print_message("p%g: exact %llu, histogram %llu (%.3f%%)\n", ps[i], (unsigned long long)want,
			      (unsigned long long)got, 100 * err);
		assert_true(err <= HIST_REL_ERROR);
	}
	assert_int_equal(h.min, v[0]);
	assert_int_equal(h.max, v[N - 1]);
	/* Memory: only the octaves seen. */
	assert_true(h.hi - h.lo <= 64 * 20);
	hist_free(&h);
}

static void hist_extremes_and_merge(void **state)
{
	(void)state;
	struct hist a = { 0 }, b = { 0 }, c = { 0 };
	hist_add(&a, UINT64_MAX);
	hist_add(&a, 1ull << 63);
	assert_int_equal(hist_percentile(&a, 100), UINT64_MAX);
	uint64_t p = hist_percentile(&a, 50);
	assert_true(p >= 1ull << 63 && (double)p <= (double)(1ull << 63) * (1 + HIST_REL_ERROR));
	for (uint64_t i = 1; i <= 1000; i++) {
		hist_add(i % 2 ? &b : &c, i * 1000);
	}
	assert_int_equal(hist_merge(&b, &c), 0);
	assert_int_equal(b.n, 1000);
	assert_int_equal(b.min, 1000);
	assert_int_equal(b.max, 1000000);
	p = hist_percentile(&b, 50);
	assert_true(fabs((double)p - 500000) <= 500000 * HIST_REL_ERROR);
	assert_int_equal(hist_merge(&b, &a), 0);
	assert_int_equal(hist_percentile(&b, 100), UINT64_MAX);
	hist_free(&a);
	hist_free(&b);
	hist_free(&c);
}

/* ------------------------------------------------------------ summary */

static char path[64], out_path[64], err_path[64], json_path[64];

static int setup(void **state)
{
	(void)state;
	snprintf(path, sizeof(path), "/tmp/vmxlab-sum-XXXXXX");
	snprintf(out_path, sizeof(out_path), "/tmp/vmxlab-sum-out-XXXXXX");
	snprintf(err_path, sizeof(err_path), "/tmp/vmxlab-sum-err-XXXXXX");
	snprintf(json_path, sizeof(json_path), "/tmp/vmxlab-sum-json-XXXXXX");
	close(mkstemp(path));
	close(mkstemp(out_path));
	close(mkstemp(err_path));
	close(mkstemp(json_path));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	unlink(out_path);
	unlink(err_path);
	unlink(json_path);
	return 0;
}

static struct trc_writer *W;

static void put(uint32_t cpu, uint32_t ev, uint64_t tsc, unsigned n, ...)
{
	uint32_t w[TRC_REC_MAX_EXTRA];
	va_list ap;
	va_start(ap, n);
	for (unsigned i = 0; i < n; i++)
		w[i] = va_arg(ap, uint32_t);
	va_end(ap);
	assert_int_equal(trc_writer_put(W, cpu, ev, trc_event_has_tsc(ev), tsc, w, n), 0);
}

static void vmexit(uint32_t cpu, uint64_t tsc, uint32_t reason)
{
	put(cpu, TRC_HVM_VMEXIT64, tsc, 3, reason, 0x1000u, 0u);
}

static void vmentry(uint32_t cpu, uint64_t tsc)
{
	put(cpu, TRC_HVM_VMENTRY, tsc, 0);
}

static void summarize(struct summary *s)
{
	char err[1024];
	struct trc_item it;
	struct trc_reader *r = trc_reader_open(path, 0, NULL, NULL, err, sizeof(err));
	assert_non_null(r);
	summary_init(s);
	while (trc_reader_next(r, &it) > 0)
		assert_int_equal(summary_add(s, &it), 0);
	summary_finish(s);
	trc_reader_close(r);
}

static struct vcpu_stat *find_vcpu(struct summary *s, uint32_t dom, uint32_t vcpu)
{
	for (unsigned i = 0; i < s->nv; i++)
		if (s->v[i]->dom == dom && s->v[i]->vcpu == vcpu)
			return s->v[i];
	return NULL;
}

static const struct sub_stat *find_sub(const struct reason_stat *r, uint8_t kind, uint64_t key)
{
	for (unsigned i = 0; r && r->subs && i < 2 * SUMMARY_MAX_SUBS; i++)
		if (r->subs[i].kind == kind && r->subs[i].key == key)
			return &r->subs[i];
	return NULL;
}

static void open_writer(void)
{
	char err[256];
	W = trc_writer_open(path, err, sizeof(err));
	assert_non_null(W);
}

static void close_writer(void)
{
	char err[256];
	assert_int_equal(trc_writer_close(W, err, sizeof(err)), 0);
}

/* The Xen 4.17 sequences (xentrace.md 1.5) and what each adds up to. */
static void write_mixed_trace(void)
{
	open_writer();
	trc_writer_runstate(W, 0, 10, 1, 0, RUNSTATE_RUNNABLE, RUNSTATE_RUNNING);
	trc_writer_runstate(W, 1, 10, 2, 3, RUNSTATE_RUNNABLE, RUNSTATE_RUNNING);
	/* d2v3 on cpu 1: an external interrupt, and an exit still open when
	 * records are lost (at 2200, below). */
	vmexit(1, 150, EXIT_REASON_EXTERNAL_INTERRUPT);
	put(1, TRC_HVM_INTR, 0, 1, 0xf0u);
	vmentry(1, 160);
	vmexit(1, 170, EXIT_REASON_CPUID);
	/* d1v0: OUT to 0x20 twice, IN from 0x21, 100/200/300 cycles. */
	vmexit(0, 100, EXIT_REASON_IO_INSTRUCTION);
	put(0, TRC_HVM_IOPORT_WRITE, 0, 2, 0x20u, 0x11u);
	vmentry(0, 200);
	vmexit(0, 300, EXIT_REASON_IO_INSTRUCTION);
	put(0, TRC_HVM_IOPORT_WRITE, 0, 2, 0x20u, 0x20u);
	put(0, TRC_HVM_INJ_VIRQ, 0, 2, 0x30u, 0u);
	vmentry(0, 500);
	vmexit(0, 600, EXIT_REASON_IO_INSTRUCTION);
	put(0, TRC_HVM_IOPORT_READ, 0, 2, 0x21u, 0xffu);
	vmentry(0, 900);
	/* MMIO: NPF then IOMEM refines direction. */
	vmexit(0, 1000, EXIT_REASON_EPT_VIOLATION);
	put(0, TRC_HVM_NPF, 0, 6, 0xfed00010u, 0u, ~0u, ~0u, 0x181u, 4u);
	put(0, TRC_HVM_IOMEM_WRITE, 0, 2, 0xfed00010u, 5u);
	vmentry(0, 1400);
	/* CR: write CR4 (64-bit form), CLTS; MSR; a 32-bit VMEXIT. */
	vmexit(0, 1500, EXIT_REASON_CR_ACCESS);
	put(0, TRC_HVM_CR_WRITE64, 0, 3, 4u, 0x20u, 0u);
	vmentry(0, 1550);
	vmexit(0, 1600, EXIT_REASON_CR_ACCESS);
	put(0, TRC_HVM_CLTS, 0, 0);
	vmentry(0, 1650);
	put(0, TRC_HVM_VMEXIT, 1700, 2, (uint32_t)EXIT_REASON_MSR_READ, 0xfff0u);
	put(0, TRC_HVM_MSR_READ, 0, 3, 0xc0000082u, 1u, 2u);
	vmentry(0, 1800);
	/* HLT: blocks, woken on cpu 1, closed at blocked->runnable (2000). */
	vmexit(0, 1900, EXIT_REASON_HLT);
	put(0, TRC_HVM_HLT, 0, 1, 0u);
	trc_writer_runstate(W, 0, 1950, 1, 0, RUNSTATE_RUNNING, RUNSTATE_BLOCKED);
	trc_writer_runstate(W, 1, 2000, 1, 0, RUNSTATE_BLOCKED, RUNSTATE_RUNNABLE);
	trc_writer_runstate(W, 0, 2100, 1, 0, RUNSTATE_RUNNABLE, RUNSTATE_RUNNING);
	put(0, TRC_HVM_INJ_VIRQ, 0, 2, 0x30u, 0u);
	vmentry(0, 2150);
	/* Reasons above 55 (xenalyze stops there) and beyond 81. */
	vmexit(0, 2200, EXIT_REASON_BUS_LOCK);
	vmentry(0, 2210);
	vmexit(0, 2300, 200);
	vmentry(0, 2301);
	/* Oddities: a VMEXIT without VMENTRY, a stray VMENTRY, an unknown id. */
	vmexit(0, 2400, EXIT_REASON_CPUID);
	vmexit(0, 2500, EXIT_REASON_CPUID);
	put(0, TRC_HVM_CPUID, 0, 6, 1u, 0u, 0u, 0u, 0u, 0u);
	vmentry(0, 2600);
	vmentry(0, 2700);
	put(0, 0x00089999u, 2710, 1, 7u);
	put(0, TRC_VMXLAB_NATIVE_COST, 2720, 3, 1u, 0u, 2u);
	/* cpu 1: lost records while d2v3's CPUID is open, then an exit left
	 * open at the end. */
	put(1, TRC_LOST_RECORDS, 2200, 4, 99u, 2u | 3u << 16, 170u, 0u);
	vmentry(1, 2300); /* charged to the default domain: stray */
	trc_writer_runstate(W, 1, 2400, 2, 3, RUNSTATE_RUNNABLE, RUNSTATE_RUNNING);
	vmexit(1, 2500, EXIT_REASON_PAUSE);
	close_writer();
}

static void summary_counts_like_xenalyze(void **state)
{
	(void)state;
	write_mixed_trace();
	struct summary s;
	summarize(&s);
	struct vcpu_stat *v = find_vcpu(&s, 1, 0);
	assert_non_null(v);
	const struct reason_stat *io = v->reasons[EXIT_REASON_IO_INSTRUCTION];
	assert_int_equal(io->count, 3);
	assert_int_equal(io->cycles, 100 + 200 + 300);
	assert_int_equal(io->h.min, 100);
	assert_int_equal(io->h.max, 300);
	/* 100 is exact (bucket width 1 below 128); 200 is in [200, 202): the
	 * midpoint 201, within 1/128. */
	assert_int_equal(hist_percentile(&io->h, 50), 201);
	assert_int_equal(hist_percentile(&io->h, 5), 100);
	const struct sub_stat *e = find_sub(io, SUB_IO, 0x20 | 1u << 16);
	assert_non_null(e);
	assert_int_equal(e->count, 2);
	assert_int_equal(e->cycles, 300);
	e = find_sub(io, SUB_IO, 0x21);
	assert_non_null(e);
	assert_int_equal(e->count, 1);
	e = find_sub(v->reasons[EXIT_REASON_EPT_VIOLATION], SUB_MMIO, 0xfed00000 | 1);
	assert_non_null(e);
	assert_int_equal(e->cycles, 400);
	assert_non_null(find_sub(v->reasons[EXIT_REASON_CR_ACCESS], SUB_CR, 4 | 1u << 8));
	assert_non_null(find_sub(v->reasons[EXIT_REASON_CR_ACCESS], SUB_CR, 2u << 8));
	assert_non_null(find_sub(v->reasons[EXIT_REASON_MSR_READ], SUB_MSR, 0xc0000082));
	/* HLT closed when the vcpu became runnable, on the other pcpu. */
	assert_int_equal(v->reasons[EXIT_REASON_HLT]->count, 1);
	assert_int_equal(v->reasons[EXIT_REASON_HLT]->cycles, 100);
	assert_int_equal(s.closed_by_runstate, 1);
	assert_int_equal(v->guest_intr[0x30], 2);
	assert_int_equal(v->reasons[EXIT_REASON_BUS_LOCK]->count, 1);
	assert_int_equal(v->reasons[SUMMARY_REASON_OTHER]->count, 1);
	assert_int_equal(v->reasons[EXIT_REASON_CPUID]->count, 1);
	assert_int_equal(v->reasons[EXIT_REASON_CPUID]->cycles, 100);
	/* d2v3 */
	struct vcpu_stat *w = find_vcpu(&s, 2, 3);
	assert_non_null(w);
	assert_non_null(find_sub(w->reasons[EXIT_REASON_EXTERNAL_INTERRUPT], SUB_VECTOR, 0xf0));
	assert_null(w->reasons[EXIT_REASON_CPUID]);
	assert_null(w->reasons[EXIT_REASON_PAUSE]);
	assert_int_equal(s.abandoned, 2);      /* CPUID reopened; CPUID at the lost records */
	assert_int_equal(s.stray_entries, 2);  /* d1v0 at 2700; the default domain's at 2300 */
	assert_int_equal(s.unfinished, 1);     /* PAUSE */
	assert_int_equal(s.unknown, 1);
	assert_int_equal(s.unknown_ids[0].event, 0x00089999);
	assert_int_equal(s.vmxlab, 1);
	assert_int_equal(s.first_tsc, 10);
	assert_int_equal(s.last_tsc, 2720);
	summary_free(&s);
}

/* ------------------------------------------------------------ the command */

static int run_cmd(const char *a1, ...)
{
	char *argv[16] = { "summary" };
	int argc = 1;
	va_list ap;

	va_start(ap, a1);
	for (const char *a = a1; a && argc < 15; a = va_arg(ap, const char *))
		argv[argc++] = (char *)a;
	va_end(ap);
	fflush(stdout);
	fflush(stderr);
	int so = dup(1), se = dup(2);
	int fo = open(out_path, O_WRONLY | O_TRUNC), fe = open(err_path, O_WRONLY | O_TRUNC);
	dup2(fo, 1);
	dup2(fe, 2);
	int rc = cmd_summary(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(so, 1);
	dup2(se, 2);
	close(so);
	close(se);
	close(fo);
	close(fe);
	return rc;
}

static char *slurp(const char *p)
{
	static char buf[1 << 20];
	FILE *f = fopen(p, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = '\0';
	return buf;
}

/* A small JSON syntax check (RFC 8259 values), enough to catch a broken
 * writer: returns the end of the value or NULL. */
static const char *ws(const char *p) { while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r') p++; return p; }
static const char *jvalue(const char *p);
static const char *jstring(const char *p)
{
	if (*p++ != '"')
		return NULL;
	for (; *p && *p != '"'; p++)
		if (*p == '\\' && !*++p)
			return NULL;
	return *p == '"' ? p + 1 : NULL;
}
static const char *jvalue(const char *p)
{
	p = ws(p);
	if (*p == '{' || *p == '[') {
		char close = *p == '{' ? '}' : ']';
		p = ws(p + 1);
		if (*p == close)
			return p + 1;
		for (;;) {
			if (close == '}') {
				if (!(p = jstring(ws(p))) || *(p = ws(p)) != ':')
					return NULL;
				p++;
			}
			if (!(p = jvalue(p)))
				return NULL;
			p = ws(p);
			if (*p == ',') {
				p++;
				continue;
			}
			return *p == close ? p + 1 : NULL;
		}
	}
	if (*p == '"')
		return jstring(p);
	if (!strncmp(p, "true", 4) || !strncmp(p, "null", 4))
		return p + 4;
	if (!strncmp(p, "false", 5))
		return p + 5;
	char *end;
	strtod(p, &end);
	return end == p ? NULL : end;
}

static void command_exit_codes(void **state)
{
	(void)state;
	write_mixed_trace();
	assert_int_equal(run_cmd(NULL), 2);
	assert_non_null(strstr(slurp(err_path), "usage: vmxlab summary TRACE"));
	assert_int_equal(run_cmd(path, "--frobnicate", NULL), 2);
	assert_non_null(strstr(slurp(err_path), "--frobnicate"));
	assert_int_equal(run_cmd(path, "--cpu-hz", "fast", NULL), 2);
	assert_int_equal(run_cmd(path, "--domain", "70000", NULL), 2);
	assert_int_equal(run_cmd(path, "--json", NULL), 2);
	assert_non_null(strstr(slurp(err_path), "missing value for '--json'"));
	assert_int_equal(run_cmd(path, path, NULL), 2);
	assert_int_equal(run_cmd("/nonexistent/trace", NULL), 2);
	assert_non_null(strstr(slurp(err_path), "/nonexistent/trace"));
	/* Good. */
	assert_int_equal(run_cmd(path, "--cpu-hz", "1G", NULL), 0);
	char *out = slurp(out_path);
	assert_non_null(strstr(out, "|-- Domain 1 --|"));
	assert_non_null(strstr(out, "IO_INSTRUCTION"));
	assert_non_null(strstr(out, "port 0x0020 write"));
	assert_non_null(strstr(out, "BUS_LOCK"));
	assert_non_null(strstr(out, "using cpu speed 1.00 GHz"));
	assert_non_null(strstr(out, "Unknown events: 1 (0x00089999: 1)"));
	/* Corrupt: an error with the offset, exit 2; tolerant: 1. */
	FILE *f = fopen(path, "r+b");
	fseek(f, 12 + 4, SEEK_SET); /* cpu 0's first record: the TSC word */
	uint32_t bad = 0x00000000; /* header of the 2nd record becomes 0 */
	fseek(f, 12 + 16, SEEK_SET);
	fwrite(&bad, 4, 1, f);
	fclose(f);
	assert_int_equal(run_cmd(path, NULL), 2);
	assert_non_null(strstr(slurp(err_path), "offset 28: record header 0x00000000"));
	assert_int_equal(run_cmd(path, "--tolerant", NULL), 1);
	assert_non_null(strstr(slurp(err_path), "incomplete"));
}

static void command_json_contract(void **state)
{
	(void)state;
	write_mixed_trace();
	assert_int_equal(run_cmd(path, "--json", json_path, NULL), 0);
	char *j = slurp(json_path);
	const char *end = jvalue(j);
	if (!end || *ws(end))
		print_message("bad JSON near: %.80s\n", end ? end : j);
	assert_true(end && !*ws(end));
	assert_non_null(strstr(j, "\"domains\": ["));
	assert_non_null(strstr(j, "{\"domain\": 1, "));
	assert_non_null(strstr(j, "{\"domain\": 2, "));
	assert_non_null(strstr(j, "\"vcpus\": ["));
	assert_non_null(strstr(j, "{\"vcpu\": 3, "));
	assert_non_null(strstr(j, "{\"reason\": 30, \"name\": \"IO_INSTRUCTION\", \"count\": 3, \"cycles_total\": 600, "
				  "\"cycles_avg\": 200.0, "));
	assert_non_null(strstr(j, "\"p5\": 100, \"p50\": 201, \"p95\": 300, \"min\": 100, \"max\": 300"));
	assert_non_null(strstr(j, "{\"kind\": \"io\", \"port\": 32, \"dir\": \"write\", \"count\": 2"));
	assert_non_null(strstr(j, "{\"reason\": 74, \"name\": \"BUS_LOCK\""));
	assert_non_null(strstr(j, "{\"vector\": 48, \"count\": 2}"));
	/* --json - : JSON only, on stdout; filters. */
	assert_int_equal(run_cmd(path, "--json", "-", "--domain", "2", NULL), 0);
	j = slurp(out_path);
	end = jvalue(j);
	assert_true(end && !*ws(end));
	assert_null(strstr(j, "{\"domain\": 1, "));
	assert_non_null(strstr(j, "{\"domain\": 2, "));
	assert_null(strstr(j, "Total time"));
	assert_int_equal(run_cmd(path, "--json", "-", "--domain", "1", "--vcpu", "5", NULL), 0);
	assert_non_null(strstr(slurp(out_path), "\"domains\": []"));
	/* Every reason 0..77 has a name in the summary's tables. */
	for (unsigned k = 0; k <= 77; k++)
		if (k != 35 && k != 38 && k != 42 && k != 71)
			assert_non_null(vmx_exit_reason_name(k));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hist_exact_below_64),
		cmocka_unit_test(hist_error_is_bounded),
		cmocka_unit_test(hist_extremes_and_merge),
		cmocka_unit_test_setup_teardown(summary_counts_like_xenalyze, setup, teardown),
		cmocka_unit_test_setup_teardown(command_exit_codes, setup, teardown),
		cmocka_unit_test_setup_teardown(command_json_contract, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
