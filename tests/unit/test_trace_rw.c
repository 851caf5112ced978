/*
 * The xentrace writer and reader (replay/trace_write.c, trace_read.c):
 * round trips, the window layout xentrace uses, the merge by TSC across
 * pcpus, domain:vcpu tracking from runstate records, lost and wrap records,
 * 32- and 64-bit exit records, gzip, and damaged files (truncated, corrupt,
 * bit-flipped, spliced) which must give an error or a warning with an offset
 * and never a crash.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <vmxlab/trace.h>

/* ------------------------------------------------------------ helpers */

static char path[64], path2[64];
static char diag_log[16384];
static unsigned ndiag;

static void diag(void *ctx, int level, uint64_t off, const char *msg)
{
	size_t n = strlen(diag_log);
	(void)ctx;
	ndiag++;
	snprintf(diag_log + n, sizeof(diag_log) - n, "%s: offset %llu: %s\n", level ? "warning" : "error",
		 (unsigned long long)off, msg);
}

static int setup(void **state)
{
	(void)state;
	snprintf(path, sizeof(path), "/tmp/vmxlab-trace-XXXXXX");
	snprintf(path2, sizeof(path2), "/tmp/vmxlab-trace2-XXXXXX");
	int fd = mkstemp(path), fd2 = mkstemp(path2);
	assert_true(fd >= 0 && fd2 >= 0);
	close(fd);
	close(fd2);
	diag_log[0] = '\0';
	ndiag = 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	unlink(path2);
	return 0;
}

static struct trc_writer *wopen(const char *p)
{
	char err[256] = "";
	struct trc_writer *w = trc_writer_open(p, err, sizeof(err));
	if (!w)
		print_message("open: %s\n", err);
	assert_non_null(w);
	return w;
}

static void wclose(struct trc_writer *w)
{
	char err[256] = "";
	assert_int_equal(trc_writer_close(w, err, sizeof(err)), 0);
}

static void put(struct trc_writer *w, uint32_t cpu, uint32_t ev, bool tsc_flag, uint64_t tsc, unsigned n, ...)
{
	uint32_t words[TRC_REC_MAX_EXTRA];
	va_list ap;

	va_start(ap, n);
	for (unsigned i = 0; i < n; i++)
		words[i] = va_arg(ap, uint32_t);
	va_end(ap);
	assert_int_equal(trc_writer_put(w, cpu, ev, tsc_flag, tsc, words, n), 0);
}

static struct trc_reader *ropen(const char *p, unsigned flags)
{
	char err[1024] = "";
	struct trc_reader *r = trc_reader_open(p, flags, diag, NULL, err, sizeof(err));
	if (!r)
		print_message("open: %s\n", err);
	assert_non_null(r);
	return r;
}

/* Read everything; returns the count, -1 on a next() error. */
static long read_all(struct trc_reader *r, struct trc_item *out, size_t max)
{
	struct trc_item it;
	long n = 0;
	int k;

	while ((k = trc_reader_next(r, &it)) > 0) {
		if ((size_t)n < max)
			out[n] = it;
		n++;
	}
	return k < 0 ? -1 : n;
}

static uint8_t *slurp(const char *p, size_t *len)
{
	FILE *f = fopen(p, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *b = malloc(*len + 1);
	assert_int_equal(fread(b, 1, *len, f), *len);
	fclose(f);
	return b;
}

static void spit(const char *p, const void *b, size_t len)
{
	FILE *f = fopen(p, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(b, 1, len, f), len);
	fclose(f);
}

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static void wr32(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24); }

/* A two-pcpu trace of n exits each, d1v0 on cpu 0 and d2v1 on cpu 1,
 * with small windows so there are many of them. */
static unsigned write_two_cpu_trace(const char *p, unsigned n, size_t window)
{
	struct trc_writer *w = wopen(p);
	unsigned recs = 0;

	if (window)
		assert_int_equal(trc_writer_set_window(w, window), 0);
	assert_int_equal(trc_writer_runstate(w, 0, 5, 1, 0, RUNSTATE_RUNNABLE, RUNSTATE_RUNNING), 0);
	assert_int_equal(trc_writer_runstate(w, 1, 7, 2, 1, RUNSTATE_RUNNABLE, RUNSTATE_RUNNING), 0);
	recs += 2;
	for (unsigned i = 0; i < n; i++) {
		uint64_t t0 = 1000 + 100ull * i, t1 = 1050 + 100ull * i;
		put(w, 0, TRC_HVM_VMEXIT64, true, t0, 3, 30u, 0x1000u + i, 0u);
		put(w, 0, TRC_HVM_IOPORT_WRITE, false, 0, 2, 0x60u + (i & 3), i);
		put(w, 0, TRC_HVM_VMENTRY, true, t0 + 40, 0);
		put(w, 1, TRC_HVM_VMEXIT, true, t1, 2, 10u, 0x2000u + i);
		put(w, 1, TRC_HVM_CPUID, false, 0, 6, i, 0u, 1u, 2u, 3u, 4u);
		put(w, 1, TRC_HVM_VMENTRY, true, t1 + 30, 0);
		recs += 6;
	}
	wclose(w);
	return recs;
}

/* ------------------------------------------------------------ writer */

static void writer_emits_xentrace_windows(void **state)
{
	(void)state;
	write_two_cpu_trace(path, 200, 256);
	size_t len;
	uint8_t *b = slurp(path, &len);
	unsigned windows = 0, cpu_seen[2] = { 0, 0 };
	size_t off = 0;
	while (off < len) {
		assert_true(off + 12 <= len);
		assert_int_equal(rd32(b + off), 0x2001f003);       /* CPU_CHANGE, 2 words, no TSC */
		uint32_t cpu = rd32(b + off + 4), size = rd32(b + off + 8);
		assert_true(cpu < 2);
		assert_true(size > 0 && size <= 256 && size % 4 == 0);
		cpu_seen[cpu]++;
		/* Records never cross the window. */
		size_t p = off + 12, end = p + size;
		while (p < end) {
			uint32_t h = rd32(b + p);
			assert_true(p + TRC_REC_SIZE(h) <= end);
			p += TRC_REC_SIZE(h);
		}
		assert_int_equal(p, end);
		off = end;
		windows++;
	}
	assert_int_equal(off, len);
	assert_true(windows > 20);
	assert_true(cpu_seen[0] > 5 && cpu_seen[1] > 5);
	/* The first record of cpu 0: RUNSTATE runnable->running, with TSC,
	 * one word (1 << 16 | 0). */
	off = 0;
	while (rd32(b + off + 4) != 0)
		off += 12 + rd32(b + off + 8);
	assert_int_equal(rd32(b + off + 12), 0x80000000u | 1u << 28 | 0x00021101u);
	assert_int_equal(rd32(b + off + 16), 5);
	assert_int_equal(rd32(b + off + 24), 0x00010000u);
	free(b);
}

static void writer_default_window_is_xentrace_data_size(void **state)
{
	(void)state;
	struct trc_writer *w = wopen(path);
	/* 20000 VMENTRY records of 12 bytes = 240000 bytes: two windows, the
	 * first as full as whole records allow. */
	for (unsigned i = 0; i < 20000; i++)
		put(w, 3, TRC_HVM_VMENTRY, true, i, 0);
	wclose(w);
	size_t len;
	uint8_t *b = slurp(path, &len);
	assert_int_equal(rd32(b + 4), 3);
	assert_int_equal(rd32(b + 8), 131064 / 12 * 12);
	assert_int_equal(len, 240000 + 24);
	free(b);
}

/* A full window writes every pcpu's buffer, like one xentrace round, so
 * windows follow time across pcpus (what xenalyze needs). */
static void full_window_writes_every_pcpu(void **state)
{
	(void)state;
	struct trc_writer *w = wopen(path);
	assert_int_equal(trc_writer_set_window(w, 48), 0);
	put(w, 1, TRC_HVM_VMENTRY, true, 1, 0);          /* cpu 1: 12 bytes */
	for (unsigned i = 0; i < 4; i++)
		put(w, 0, TRC_HVM_VMENTRY, true, 2 + i, 0);  /* cpu 0: 48 bytes, full */
	assert_int_equal(trc_writer_bytes(w), 0);
	put(w, 0, TRC_HVM_VMENTRY, true, 9, 0);          /* does not fit: a round */
	assert_int_equal(trc_writer_bytes(w), 12 + 48 + 12 + 12);
	wclose(w);
	size_t len;
	uint8_t *b = slurp(path, &len);
	assert_int_equal(rd32(b + 4), 0);
	assert_int_equal(rd32(b + 8), 48);
	assert_int_equal(rd32(b + 60 + 4), 1);
	assert_int_equal(rd32(b + 60 + 8), 12);
	free(b);
}

static void writer_rejects_bad_records(void **state)
{
	(void)state;
	struct trc_writer *w = wopen(path);
	uint32_t words[8] = { 0 };
	assert_int_equal(trc_writer_put(w, TRC_MAX_CPUS, TRC_HVM_VMENTRY, true, 1, NULL, 0), -1);
	assert_non_null(strstr(trc_writer_error(w), "cpu 4096"));
	assert_int_equal(trc_writer_put(w, 0, TRC_HVM_CPUID, false, 0, words, 8), -1);
	assert_non_null(strstr(trc_writer_error(w), "8 payload words"));
	assert_int_equal(trc_writer_put(w, 0, 0x10081001u, true, 1, NULL, 0), -1);
	assert_non_null(strstr(trc_writer_error(w), "28 bits"));
	assert_int_equal(trc_writer_put(w, 0, TRC_TRACE_CPU_CHANGE, false, 0, words, 2), -1);
	assert_int_equal(trc_writer_set_window(w, 131068), -1);
	assert_int_equal(trc_writer_set_window(w, 42), -1);
	/* Bad arguments are not sticky. */
	assert_int_equal(trc_writer_put(w, 0, TRC_HVM_VMENTRY, true, 1, NULL, 0), 0);
	wclose(w);
	char err[256];
	assert_null(trc_writer_open("/nonexistent-dir/x", err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent-dir/x"));
}

static void writer_reports_write_errors(void **state)
{
	(void)state;
	if (access("/dev/full", W_OK) != 0)
		skip();
	struct trc_writer *w = wopen("/dev/full");
	put(w, 0, TRC_HVM_VMENTRY, true, 1, 0);
	assert_int_equal(trc_writer_flush(w), -1);
	assert_non_null(strstr(trc_writer_error(w), "No space"));
	/* Sticky: later records fail too, close reports it. */
	assert_int_equal(trc_writer_put(w, 0, TRC_HVM_VMENTRY, true, 2, NULL, 0), -1);
	char err[256] = "";
	assert_int_equal(trc_writer_close(w, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "No space"));
}

static void file_is_valid_after_every_flush(void **state)
{
	(void)state;
	struct trc_writer *w = wopen(path);
	struct trc_item it[8];
	assert_int_equal(trc_writer_runstate(w, 0, 1, 1, 0, RUNSTATE_RUNNABLE, RUNSTATE_RUNNING), 0);
	put(w, 0, TRC_HVM_VMEXIT64, true, 10, 3, 12u, 0u, 0u);
	assert_int_equal(trc_writer_flush(w), 0);
	/* Read while the writer is still open: a complete trace so far. */
	struct trc_reader *r = ropen(path, 0);
	assert_int_equal(read_all(r, it, 8), 2);
	assert_int_equal(trc_reader_stats(r)->warnings, 0);
	trc_reader_close(r);
	put(w, 0, TRC_HVM_HLT, false, 0, 1, 0u);
	put(w, 0, TRC_HVM_VMENTRY, true, 99, 0);
	assert_int_equal(trc_writer_flush(w), 0);
	/* Two windows: runstate (16) + VMEXIT64 (24), then HLT (8) + VMENTRY (12). */
	assert_int_equal(trc_writer_bytes(w), 12 + 16 + 24 + 12 + 8 + 12);
	r = ropen(path, 0);
	assert_int_equal(read_all(r, it, 8), 4);
	assert_int_equal(it[2].rec.event, TRC_HVM_HLT);
	assert_int_equal(it[2].rec.tsc, 10); /* inherited */
	trc_reader_close(r);
	wclose(w);
	assert_int_equal(ndiag, 0);
}

/* ------------------------------------------------------------ reader */

static void reader_merges_pcpus_by_tsc(void **state)
{
	(void)state;
	unsigned n = write_two_cpu_trace(path, 300, 128);
	static struct trc_item it[2000];
	struct trc_reader *r = ropen(path, 0);
	assert_int_equal(read_all(r, it, 2000), n);
	const struct trc_reader_stats *st = trc_reader_stats(r);
	assert_int_equal(st->cpus, 2);
	assert_true(st->windows > 100);
	assert_int_equal(st->records, n);
	assert_int_equal(st->warnings, 0);
	assert_false(st->truncated);
	for (unsigned i = 1; i < n; i++)
		assert_true(it[i].rec.tsc >= it[i - 1].rec.tsc);
	/* The exit at 1000+100i on cpu 0 comes before the one at 1050+100i on
	 * cpu 1, which comes before cpu 0's next. */
	assert_int_equal(it[2].rec.event, TRC_HVM_VMEXIT64);
	assert_int_equal(it[2].rec.cpu, 0);
	assert_int_equal(it[3].rec.event, TRC_HVM_IOPORT_WRITE);
	assert_int_equal(it[3].rec.tsc, 1000);       /* inherited from the VMEXIT */
	assert_false(it[3].rec.has_tsc);
	assert_int_equal(it[3].rec.d[0], 0x60);
	assert_int_equal(it[4].rec.event, TRC_HVM_VMENTRY);
	assert_int_equal(it[5].rec.event, TRC_HVM_VMEXIT);
	assert_int_equal(it[5].rec.cpu, 1);
	assert_int_equal(it[6].rec.event, TRC_HVM_CPUID);
	assert_int_equal(it[6].rec.n, 6);
	assert_int_equal(it[6].rec.d[5], 4);
	/* Offsets point at the records. */
	size_t len;
	uint8_t *b = slurp(path, &len);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(TRC_HD_EVENT(rd32(b + it[i].rec.offset)), it[i].rec.event);
	free(b);
	trc_reader_close(r);
}

/* 1,024 pcpus of 8 windows each, interleaved as xentrace writes them: every
 * record comes back in TSC order, and the reader reads each window about
 * once instead of hopping over every other pcpu's header (P^2 reads: the
 * many-pcpu case took a minute at 4,096 pcpus). */
static void many_pcpus_cost_reads_per_window(void **state)
{
	enum { P = 1024, W = 8 };
	static uint8_t b[P * W * 28];
	size_t len = 0;
	(void)state;
	for (unsigned w = 0; w < W; w++)
		for (unsigned cpu = 0; cpu < P; cpu++) {
			uint64_t tsc = 1000 + (uint64_t)w * P + (P - 1 - cpu);
			wr32(b + len, 0x2001f003u);          /* CPU_CHANGE, 2 words */
			wr32(b + len + 4, cpu);
			wr32(b + len + 8, 16);
			wr32(b + len + 12, TRC_HVM_VMEXIT | 1u << 28 | 1u << 31);  /* TSC, 1 word */
			wr32(b + len + 16, (uint32_t)tsc);
			wr32(b + len + 20, (uint32_t)(tsc >> 32));
			wr32(b + len + 24, 12);
			len += 28;
		}
	spit(path, b, len);
	struct trc_reader *r = ropen(path, 0);
	const struct trc_item *it;
	int status;
	uint64_t n = 0, last = 0;
	while ((it = trc_reader_next_ref(r, &status))) {
		assert_true(it->rec.tsc >= last);
		last = it->rec.tsc;
		n++;
	}
	assert_int_equal(status, 0);
	const struct trc_reader_stats *st = trc_reader_stats(r);
	assert_int_equal(st->cpus, P);
	assert_int_equal(st->windows, P * W);
	assert_int_equal(n, P * W);
	if (st->reads > 4 * st->windows)
		fail_msg("%llu reads for %llu windows", (unsigned long long)st->reads, (unsigned long long)st->windows);
	trc_reader_close(r);
}

static void reader_tracks_domain_and_vcpu_per_pcpu(void **state)
{
	(void)state;
	struct trc_writer *w = wopen(path);
	struct trc_item it[32];
	put(w, 0, TRC_HVM_VMEXIT64, true, 1, 3, 10u, 0u, 0u);                   /* before any runstate */
	trc_writer_runstate(w, 0, 2, 3, 1, RUNSTATE_RUNNABLE, RUNSTATE_RUNNING);  /* d3v1 on cpu 0 */
	put(w, 0, TRC_HVM_VMEXIT64, true, 3, 3, 10u, 0u, 0u);
	trc_writer_runstate(w, 1, 4, 5, 0, RUNSTATE_BLOCKED, RUNSTATE_RUNNABLE);  /* wake elsewhere: no change */
	put(w, 1, TRC_HVM_VMEXIT64, true, 5, 3, 10u, 0u, 0u);
	trc_writer_runstate(w, 0, 6, 3, 1, RUNSTATE_RUNNING, RUNSTATE_BLOCKED);
	put(w, 0, TRC_HVM_VMENTRY, true, 7, 0);
	trc_writer_runstate(w, 1, 8, 5, 0, RUNSTATE_RUNNABLE, RUNSTATE_RUNNING);
	put(w, 1, TRC_HVM_VMEXIT64, true, 9, 3, 10u, 0u, 0u);
	uint32_t dv = 0x00070002;
	assert_int_equal(trc_writer_put(w, 0, TRC_SCHED_CONTINUE_RUNNING, true, 10, &dv, 1), 0);
	put(w, 0, TRC_HVM_VMENTRY, true, 11, 0);
	wclose(w);
	struct trc_reader *r = ropen(path, 0);
	assert_int_equal(read_all(r, it, 32), 11);
	static const uint32_t dom[] = { TRC_DOM_DEFAULT, 3, 3, 5, TRC_DOM_DEFAULT, 3, TRC_DOM_DEFAULT, 5, 5, 7, 7 };
	static const uint32_t vcpu[] = { 0, 1, 1, 0, 0, 1, 0, 0, 0, 2, 2 };
	for (unsigned i = 0; i < 11; i++) {
		print_message("record %u: tsc %llu d%uv%u\n", i, (unsigned long long)it[i].rec.tsc, it[i].dom, it[i].vcpu);
		assert_int_equal(it[i].rec.tsc, i + 1);
		assert_int_equal(it[i].dom, dom[i]);
		assert_int_equal(it[i].vcpu, vcpu[i]);
	}
	trc_reader_close(r);
}

static void lost_and_wrap_records(void **state)
{
	(void)state;
	struct trc_writer *w = wopen(path);
	struct trc_item it[16];
	trc_writer_runstate(w, 0, 1, 1, 0, RUNSTATE_RUNNABLE, RUNSTATE_RUNNING);
	put(w, 0, TRC_HVM_VMEXIT64, true, 2, 3, 10u, 0u, 0u);
	/* Wrap padding: 3 garbage words; and one with the cycles bit used as
	 * padding (xentrace.md 1.3). */
	put(w, 0, TRC_TRACE_WRAP_BUFFER, false, 0, 3, 0xdeadbeefu, 1u, 2u);
	put(w, 0, TRC_TRACE_WRAP_BUFFER, true, 0xffffffffffffull, 7, 1u, 2u, 3u, 4u, 5u, 6u, 7u);
	/* 1234 records lost on d1v0 since tsc 3. */
	put(w, 0, TRC_LOST_RECORDS, true, 50, 4, 1234u, 1u, 3u, 0u);
	put(w, 0, TRC_HVM_VMENTRY, true, 60, 0);
	wclose(w);
	struct trc_reader *r = ropen(path, 0);
	assert_int_equal(read_all(r, it, 16), 4);
	const struct trc_reader_stats *st = trc_reader_stats(r);
	assert_int_equal(st->wraps, 2);
	assert_int_equal(st->lost_records, 1234);
	assert_int_equal(st->lost_events, 1);
	assert_int_equal(st->tsc_backwards, 0);   /* the wrap's garbage TSC is ignored */
	assert_int_equal(it[2].rec.event, TRC_LOST_RECORDS);
	assert_int_equal(it[2].dom, 1);
	assert_int_equal(it[3].dom, TRC_DOM_DEFAULT); /* who ran after the gap is unknown */
	trc_reader_close(r);
	r = ropen(path, TRC_READ_KEEP_WRAP);
	assert_int_equal(read_all(r, it, 16), 6);
	assert_int_equal(it[2].rec.event, TRC_TRACE_WRAP_BUFFER);
	trc_reader_close(r);
}

static void exit_records_32_and_64_bit(void **state)
{
	(void)state;
	struct trc_record a = { .event = TRC_HVM_VMEXIT, .n = 2, .d = { 0x8000001e, 0xfff0 } };
	struct trc_record b = { .event = TRC_HVM_VMEXIT64, .n = 3, .d = { 48, 0x89abcdef, 0xffffffff } };
	struct trc_record c = { .event = TRC_HVM_VMENTRY };
	uint32_t reason;
	uint64_t rip;
	assert_true(trc_vmexit_decode(&a, &reason, &rip));
	assert_int_equal(reason, 0x8000001e);
	assert_int_equal(rip, 0xfff0);
	assert_true(trc_vmexit_decode(&b, &reason, &rip));
	assert_int_equal(reason, 48);
	assert_int_equal(rip, 0xffffffff89abcdefull);
	assert_false(trc_vmexit_decode(&c, &reason, &rip));
	b.n = 2;
	assert_false(trc_vmexit_decode(&b, &reason, &rip));
	assert_string_equal(trc_event_name(TRC_HVM_IOPORT_WRITE), "IOPORT_WRITE");
	assert_string_equal(trc_event_name(TRC_RUNSTATE(RUNSTATE_BLOCKED, RUNSTATE_RUNNABLE)), "RUNSTATE_CHANGE");
	assert_null(trc_event_name(0x00089999));
	assert_false(trc_event_has_tsc(TRC_HVM_IOPORT_READ));
	assert_true(trc_event_has_tsc(TRC_HVM_VMEXIT64));
	assert_true(trc_event_has_tsc(TRC_RUNSTATE(1, 0)));
	assert_false(trc_event_has_tsc(TRC_TRACE_CPU_CHANGE));
}

static void gzip_is_read_transparently(void **state)
{
	(void)state;
	unsigned n = write_two_cpu_trace(path, 500, 0);
	size_t len;
	uint8_t *b = slurp(path, &len);
	gzFile gz = gzopen(path2, "wb");
	assert_non_null(gz);
	assert_int_equal(gzwrite(gz, b, (unsigned)len), (int)len);
	gzclose(gz);
	static struct trc_item x[4000], y[4000];
	struct trc_reader *r = ropen(path, 0), *rz = ropen(path2, 0);
	assert_int_equal(read_all(r, x, 4000), n);
	assert_int_equal(read_all(rz, y, 4000), n);
	assert_true(trc_reader_stats(rz)->gzip);
	assert_false(trc_reader_stats(r)->gzip);
	assert_int_equal(trc_reader_stats(rz)->bytes, len);
	assert_memory_equal(x, y, n * sizeof(x[0]));
	trc_reader_close(r);
	trc_reader_close(rz);
	/* A gzip file cut short reads as a truncated trace: a warning. */
	size_t zlen;
	uint8_t *z = slurp(path2, &zlen);
	spit(path2, z, zlen / 2);
	rz = ropen(path2, 0);
	long got = read_all(rz, y, 4000);
	assert_true(got > 0 && got < (long)n);
	assert_true(trc_reader_stats(rz)->truncated);
	assert_non_null(strstr(diag_log, "truncated"));
	trc_reader_close(rz);
	free(z);
	free(b);
}

/* ------------------------------------------------------------ damaged files */

static void truncated_last_window_is_a_warning(void **state)
{
	(void)state;
	unsigned n = write_two_cpu_trace(path, 10, 0);
	size_t len;
	uint8_t *b = slurp(path, &len);
	/* Two windows (cpu 0, then cpu 1); cut 10 bytes into the second one's
	 * records, mid-record. */
	uint32_t first = rd32(b + 8);
	size_t cut = 12 + first + 12 + 10;
	spit(path, b, cut);
	struct trc_item it[128];
	struct trc_reader *r = ropen(path, 0);
	long got = read_all(r, it, 128);
	assert_true(r != NULL);
	assert_int_equal(got, 1 + 30 + 0); /* cpu 0's 31 records; cpu 1's runstate (12 bytes) is cut */
	assert_true(trc_reader_stats(r)->truncated);
	char want[64];
	snprintf(want, sizeof(want), "offset %zu: last window (cpu 1)", (size_t)(12 + first));
	assert_non_null(strstr(diag_log, want));
	trc_reader_close(r);
	/* Cut inside a CPU_CHANGE header. */
	diag_log[0] = '\0';
	spit(path, b, 12 + first + 5);
	r = ropen(path, 0);
	assert_int_equal(read_all(r, it, 128), 31);
	assert_non_null(strstr(diag_log, "ends inside a CPU_CHANGE record"));
	trc_reader_close(r);
	(void)n;
	free(b);
}

static void empty_file_is_a_warning(void **state)
{
	(void)state;
	struct trc_item it;
	spit(path, "", 0);
	struct trc_reader *r = ropen(path, 0);
	assert_int_equal(trc_reader_next(r, &it), 0);
	assert_non_null(strstr(diag_log, "empty trace"));
	trc_reader_close(r);
}

static void not_a_trace_is_an_error_at_offset_0(void **state)
{
	(void)state;
	char err[1024];
	spit(path, "hello, world, this is not a trace\n", 34);
	assert_null(trc_reader_open(path, 0, diag, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "offset 0: this is a text file; vmxlab reads xentrace files"));
	spit(path, "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10", 16);
	assert_null(trc_reader_open(path, 0, diag, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "offset 0: expected a CPU_CHANGE record"));
	assert_null(trc_reader_open("/nonexistent/trace", 0, diag, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "No such file"));
	assert_null(trc_reader_open("/tmp", 0, diag, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "not a regular file"));
}

/* Corrupt the n-th window header and expect strict failure naming its
 * offset, and tolerant skipping. */
static void broken_chain_error_and_tolerant_skip(void **state)
{
	(void)state;
	unsigned n = write_two_cpu_trace(path, 100, 200);
	size_t len;
	uint8_t *b = slurp(path, &len);
	size_t off = 0;
	for (int i = 0; i < 5; i++)
		off += 12 + rd32(b + off + 8);
	wr32(b + off, 0x2001f00b);
	spit(path, b, len);
	char err[1024], want[64];
	assert_null(trc_reader_open(path, 0, diag, NULL, err, sizeof(err)));
	snprintf(want, sizeof(want), "offset %zu: expected a CPU_CHANGE", off);
	assert_non_null(strstr(err, want));
	/* Tolerant: that window is skipped and counted. */
	static struct trc_item it[1000];
	struct trc_reader *r = ropen(path, TRC_READ_TOLERANT);
	long got = read_all(r, it, 1000);
	const struct trc_reader_stats *st = trc_reader_stats(r);
	assert_int_equal(st->corrupt, 1);
	assert_int_equal(st->skipped_bytes, 12 + rd32(b + off + 8));
	unsigned lost = 0;
	for (size_t q = off + 12; q < off + 12 + rd32(b + off + 8); q += TRC_REC_SIZE(rd32(b + q)))
		lost++;
	assert_true(lost > 0);
	assert_int_equal(got, n - lost);
	snprintf(want, sizeof(want), "offset %zu: expected a CPU_CHANGE", off);
	assert_non_null(strstr(diag_log, want));
	trc_reader_close(r);
	free(b);
}

static void record_crossing_its_window_is_an_error(void **state)
{
	(void)state;
	write_two_cpu_trace(path, 20, 0);
	size_t len;
	uint8_t *b = slurp(path, &len);
	/* cpu 0's window: runstate (16 bytes) then VMEXIT64 at 28; make the
	 * last record of the window claim 7 words. */
	uint32_t size = rd32(b + 8);
	size_t last = 12 + size - 12; /* cpu 0's last record is a 12-byte VMENTRY */
	assert_int_equal(TRC_HD_EVENT(rd32(b + last)), TRC_HVM_VMENTRY);
	wr32(b + last, rd32(b + last) | 7u << 28);
	spit(path, b, len);
	struct trc_item it[256];
	struct trc_reader *r = ropen(path, 0);
	assert_int_equal(read_all(r, it, 256), -1);
	char want[80];
	snprintf(want, sizeof(want), "offset %zu: record 0x", last);
	assert_non_null(strstr(trc_reader_error(r), want));
	assert_non_null(strstr(trc_reader_error(r), "crosses the end of its window"));
	trc_reader_close(r);
	r = ropen(path, TRC_READ_TOLERANT);
	assert_int_equal(read_all(r, it, 256), 2 + 6 * 20 - 1);
	assert_int_equal(trc_reader_stats(r)->corrupt, 1);
	assert_int_equal(trc_reader_stats(r)->skipped_bytes, 12);
	trc_reader_close(r);
	free(b);
}

static void event_without_a_class_is_corrupt(void **state)
{
	(void)state;
	struct trc_writer *w = wopen(path);
	put(w, 0, TRC_HVM_VMENTRY, true, 1, 0);
	put(w, 0, 0x00000123u, true, 2, 0);   /* no class bit */
	put(w, 0, 0x00180001u, true, 3, 0);   /* two class bits */
	wclose(w);
	struct trc_item it[4];
	struct trc_reader *r = ropen(path, 0);
	assert_int_equal(read_all(r, it, 4), -1);
	assert_non_null(strstr(trc_reader_error(r), "offset 24: record header 0x80000123"));
	trc_reader_close(r);
}

/* Every truncation length: never a crash; either a clean prefix at a
 * window boundary or a warning with an offset. */
static void every_truncation(void **state)
{
	(void)state;
	write_two_cpu_trace(path, 12, 96);
	size_t len;
	uint8_t *b = slurp(path, &len);
	static struct trc_item it[256];
	for (size_t cut = 0; cut < len; cut++) {
		spit(path2, b, cut);
		diag_log[0] = '\0';
		ndiag = 0;
		struct trc_reader *r = ropen(path2, 0);
		long k = read_all(r, it, 256);
		if (k < 0)
			print_message("cut %zu: %s\n", cut, trc_reader_error(r));
		assert_true(k >= 0);
		bool boundary = false;
		for (size_t off = 0; off <= cut; off += 12 + rd32(b + off + 8))
			if (off == cut)
				boundary = true;
		if (!boundary) {
			assert_true(trc_reader_stats(r)->truncated);
			assert_non_null(strstr(diag_log, "offset "));
		}
		trc_reader_close(r);
	}
	free(b);
}

/* Every single-bit flip: never a crash or hang, in strict and tolerant
 * mode; flips in CPU_CHANGE headers are always reported with an offset. */
static void every_bit_flip(void **state)
{
	(void)state;
	write_two_cpu_trace(path, 6, 64);
	size_t len;
	uint8_t *b = slurp(path, &len);
	static struct trc_item it[256];
	bool hdr[4096] = { false };     /* bytes of CPU_CHANGE header words */
	for (size_t off = 0; off < len; off += 12 + rd32(b + off + 8))
		for (int i = 0; i < 4; i++)
			hdr[off + i] = true;
	for (size_t bit = 0; bit < len * 8; bit++) {
		b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		spit(path2, b, len);
		for (unsigned mode = 0; mode < 2; mode++) {
			char err[1024];
			diag_log[0] = '\0';
			struct trc_reader *r = trc_reader_open(path2, mode ? TRC_READ_TOLERANT : 0, diag, NULL, err, sizeof(err));
			bool reported;
			if (!r) {
				reported = strstr(err, "offset ") != NULL;
			} else {
				long k = read_all(r, it, 256);
				reported = (k < 0 && strstr(trc_reader_error(r), "offset ")) || strstr(diag_log, "offset ");
				assert_true(k <= 2 + 6 * 12);
				trc_reader_close(r);
			}
			/* A flip of the cpu field to another valid cpu, or of the
			 * size field to another valid size inside the file, is a
			 * different valid chain; all other header flips show. */
			size_t at = bit / 8;
			if (hdr[at] && !reported) {
				print_message("bit %zu (byte %zu) not reported\n", bit, at);
				fail();
			}
		}
		b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	free(b);
}

/* Two traces spliced at arbitrary points: an error or a warning with an
 * offset, or a valid chain if both cuts fall on window boundaries. */
static void spliced_files(void **state)
{
	(void)state;
	write_two_cpu_trace(path, 30, 100);
	size_t len;
	uint8_t *b = slurp(path, &len);
	uint8_t *s = malloc(2 * len);
	static struct trc_item it[1024];
	unsigned reported = 0, runs = 0;
	for (size_t cut1 = 1; cut1 < len; cut1 += 37) {
		for (size_t cut2 = 3; cut2 < len; cut2 += 53) {
			memcpy(s, b, cut1);
			memcpy(s + cut1, b + cut2, len - cut2);
			spit(path2, s, cut1 + len - cut2);
			char err[1024] = "";
			diag_log[0] = '\0';
			struct trc_reader *r = trc_reader_open(path2, 0, diag, NULL, err, sizeof(err));
			runs++;
			if (!r) {
				assert_non_null(strstr(err, "offset "));
				reported++;
				continue;
			}
			long k = read_all(r, it, 1024);
			if (k < 0)
				assert_non_null(strstr(trc_reader_error(r), "offset "));
			if (k < 0 || strstr(diag_log, "offset "))
				reported++;
			trc_reader_close(r);
			r = trc_reader_open(path2, TRC_READ_TOLERANT, diag, NULL, err, sizeof(err));
			assert_non_null(r);
			assert_true(read_all(r, it, 1024) >= 0);
			trc_reader_close(r);
		}
	}
	/* Almost every splice lands mid-window. */
	print_message("%u of %u splices reported\n", reported, runs);
	assert_true(reported * 10 >= runs * 9);
	free(s);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(writer_emits_xentrace_windows, setup, teardown),
		cmocka_unit_test_setup_teardown(writer_default_window_is_xentrace_data_size, setup, teardown),
		cmocka_unit_test_setup_teardown(full_window_writes_every_pcpu, setup, teardown),
		cmocka_unit_test_setup_teardown(writer_rejects_bad_records, setup, teardown),
		cmocka_unit_test_setup_teardown(writer_reports_write_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(file_is_valid_after_every_flush, setup, teardown),
		cmocka_unit_test_setup_teardown(reader_merges_pcpus_by_tsc, setup, teardown),
		cmocka_unit_test_setup_teardown(many_pcpus_cost_reads_per_window, setup, teardown),
		cmocka_unit_test_setup_teardown(reader_tracks_domain_and_vcpu_per_pcpu, setup, teardown),
		cmocka_unit_test_setup_teardown(lost_and_wrap_records, setup, teardown),
		cmocka_unit_test_setup_teardown(exit_records_32_and_64_bit, setup, teardown),
		cmocka_unit_test_setup_teardown(gzip_is_read_transparently, setup, teardown),
		cmocka_unit_test_setup_teardown(truncated_last_window_is_a_warning, setup, teardown),
		cmocka_unit_test_setup_teardown(empty_file_is_a_warning, setup, teardown),
		cmocka_unit_test_setup_teardown(not_a_trace_is_an_error_at_offset_0, setup, teardown),
		cmocka_unit_test_setup_teardown(broken_chain_error_and_tolerant_skip, setup, teardown),
		cmocka_unit_test_setup_teardown(record_crossing_its_window_is_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(event_without_a_class_is_corrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(every_truncation, setup, teardown),
		cmocka_unit_test_setup_teardown(every_bit_flip, setup, teardown),
		cmocka_unit_test_setup_teardown(spliced_files, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
