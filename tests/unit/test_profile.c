/* The profiler (include/vmxlab/profile.h, analysis/profile*.c): sampling a
 * known busy function with each source this machine allows, tags,
 * resolution to function and source line, the file vmxlab-dm writes (and
 * malformed ones), and the JSON and folded-stack outputs. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <inttypes.h>
#include <unistd.h>

#include <vmxlab/profile.h>

#include "../../analysis/json.h"
#include "../../analysis/profile_report.h"

static volatile sig_atomic_t tag = PROF_TAG_NONE;

static double cpu_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Busy for `seconds` of CPU time under tag 10 (CPUID), then as long with no
 * tag, in two functions of their own.  The clock is read every 200,000
 * rounds (tens of microseconds): CLOCK_THREAD_CPUTIME_ID is a system call,
 * and under a slow clock source (kvm-clock) reading it every 10,000 rounds
 * put more than a tenth of the samples in clock_gettime. */
__attribute__((noinline)) static uint64_t busy_tagged(double seconds)
{
	uint64_t h = 1;
	tag = 10;
	for (double end = cpu_now() + seconds; cpu_now() < end;)
		for (int i = 0; i < 200000; i++) {
			h = (h ^ (uint64_t)i) * 0x100000001b3ull;
			__asm__ volatile("" : "+r"(h));
		}
	tag = PROF_TAG_NONE;
	return h;
}

__attribute__((noinline)) static uint64_t busy_untagged(double seconds)
{
	uint64_t h = 2;
	for (double end = cpu_now() + seconds; cpu_now() < end;)
		for (int i = 0; i < 200000; i++) {
			h = (h ^ (uint64_t)i) * 0x100000001b3ull;
			__asm__ volatile("" : "+r"(h));
		}
	return h;
}

static uint64_t self_of(const struct prof_data *d, const char *fn, int want_tag, uint64_t *all)
{
	uint64_t n = 0;
	*all = 0;
	for (size_t i = 0; i < d->nstacks; i++) {
		const struct prof_stack *s = &d->stacks[i];
		*all += s->count;
		if (s->depth && strstr(d->frames[s->frame[0]].function, fn) && (want_tag == -2 || s->tag == want_tag))
			n += s->count;
	}
	return n;
}

static void sample_with(int source)
{
	struct prof_opts o = { .rate_hz = 2000, .only = source };
	struct prof_stats st;
	struct prof_data d = { 0 };
	char err[512];

	if (prof_start(&o, &tag, err, sizeof(err))) {
		/* Only the timer must work everywhere; the others say why not. */
		assert_true(source != PROF_TIMER);
		print_message("%s: not here: %s\n", prof_source_name((enum prof_source)source), err);
		return;
	}
	uint64_t h = busy_tagged(0.3) ^ busy_untagged(0.3);
	prof_stop(&st);
	assert_true(h != 0);
	assert_int_equal(st.source, source);
	assert_true(st.cpu_seconds >= 0.55);
	assert_true(st.user_seconds > 0.4 && st.user_seconds <= st.cpu_seconds + 0.02);
	assert_int_equal(prof_resolve(&d, NULL, "vmxlab", err, sizeof(err)), 0);
	uint64_t all, tagged = self_of(&d, "busy_tagged", 10, &all), untagged = self_of(&d, "busy_untagged", PROF_TAG_NONE, &all);
	print_message("%s: %" PRIu64 " samples over %.3f s: busy_tagged %" PRIu64 " under CPUID, busy_untagged %" PRIu64 "\n",
		      prof_source_name(st.source), st.samples, st.cpu_seconds, tagged, untagged);
	assert_int_equal(all, st.samples);
	/* The timer ticks at the kernel's HZ: 100 a second at the least. */
	assert_true(st.samples >= 50);
	/* Each had half the CPU time: within 15 points of half the samples. */
	assert_true(tagged + untagged >= all * 9 / 10);
	double share = (double)tagged / (double)(tagged + untagged);
	if (fabs(share - 0.5) > 0.15)
		fail_msg("busy_tagged got %.2f of the two functions' samples, expected 0.5", share);
	/* Resolved to this file and a line, in the testbed bucket (this test
	 * program is not a handler build), with callers above. */
	bool found = false;
	for (size_t i = 0; i < d.nframes; i++) {
		const struct prof_frame *f = &d.frames[i];
		if (!strcmp(f->function, "busy_tagged")) {
			found = true;
			assert_non_null(f->file);
			assert_non_null(strstr(f->file, "test_profile.c"));
			assert_true(f->line > 0);
			assert_int_equal(f->bucket, PROF_TESTBED);
			assert_false(f->system);
		}
	}
	assert_true(found);
	bool caller = false;
	for (size_t i = 0; i < d.nstacks && !caller; i++)
		for (unsigned k = 1; k < d.stacks[i].depth; k++)
			caller |= strstr(d.frames[d.stacks[i].frame[k]].function, "sample_with") != NULL;
	assert_true(caller);
	prof_data_free(&d);
}

static void samples_a_busy_function(void **state)
{
	(void)state;
	sample_with(PROF_HW_CYCLES);
	sample_with(PROF_SW_CPU_CLOCK);
	sample_with(PROF_TIMER);
}

/* Two frames, two stacks, by hand. */
static void make_data(struct prof_data *d)
{
	static char m1[] = "libvmxlab-hv.so", f1[] = "handle_io", s1[] = "hv/io.c";
	static char m2[] = "vmxlab-dm", f2[] = "pic_pio_write", s2[] = "/src/devices/pic.c";
	memset(d, 0, sizeof(*d));
	d->nframes = d->capframes = 2;
	d->frames = calloc(2, sizeof(*d->frames));
	d->frames[0] = (struct prof_frame){ strdup(m1), strdup(f1), strdup(s1), 111, PROF_HANDLER, false, "vmxlab" };
	d->frames[1] = (struct prof_frame){ strdup(m2), strdup(f2), strdup(s2), 222, PROF_DEVICES, false, "vmxlab-dm" };
	d->nstacks = d->capstacks = 2;
	d->stacks = calloc(2, sizeof(*d->stacks));
	d->stacks[0] = (struct prof_stack){ .tag = 30, .count = 7, .depth = 1, .frame = { 0 } };
	d->stacks[1] = (struct prof_stack){ .tag = -1, .count = 3, .depth = 2, .frame = { 1, 0 } };
	d->have[1] = true;
	d->stats[1] = (struct prof_stats){ .source = PROF_SW_CPU_CLOCK, .rate_hz = 4000, .samples = 10, .cpu_seconds = 0.5 };
}

static const char *write_text(const char *text)
{
	static char path[64];
	snprintf(path, sizeof(path), "/tmp/vmxlab-test-profile-%d", (int)getpid());
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static void the_dm_file_round_trips(void **state)
{
	(void)state;
	struct prof_data a, b = { 0 };
	char err[512];
	make_data(&a);
	const char *path = write_text("");
	FILE *f = fopen(path, "w");
	assert_int_equal(prof_data_write(&a, f), 0);
	fclose(f);
	assert_int_equal(prof_data_read(&b, path, err, sizeof(err)), 0);
	assert_int_equal(b.nframes, 2);
	assert_int_equal(b.nstacks, 2);
	assert_true(b.have[1] && !b.have[0]);
	assert_int_equal(b.stats[1].samples, 10);
	assert_string_equal(b.frames[1].function, "pic_pio_write");
	assert_string_equal(b.frames[1].process, "vmxlab-dm");
	assert_int_equal(b.frames[1].line, 222);
	assert_int_equal(b.stacks[1].frame[0], 1);
	/* Reading it again merges: the same stacks, counts added. */
	assert_int_equal(prof_data_read(&b, path, err, sizeof(err)), 0);
	assert_int_equal(b.nframes, 2);
	assert_int_equal(b.nstacks, 2);
	assert_int_equal(b.stacks[0].count, 14);
	prof_data_free(&a);
	prof_data_free(&b);
	remove(path);
}

static void malformed_files_are_named(void **state)
{
	(void)state;
	static const struct {
		const char *text, *why;
	} cases[] = {
		{ "", "empty" },
		{ "not a profile\n", "line 1: not a vmxlab profile file" },
		{ "vmxlab-profile\t1\nframe\t9\t0\t1\tvmxlab\tm\tf\t-\n", "line 2: a malformed frame record" },
		{ "vmxlab-profile\t1\nstack\t30\t5\t0\n", "line 2: a stack names a frame the file has not given" },
		{ "vmxlab-profile\t1\nframe\t0\t0\t1\tvmxlab\tm\tf\t-\nstack\t30\t-5\t0\n", "line 3: a malformed stack record" },
		{ "vmxlab-profile\t1\nstats\tvmxlab\t7\t1\t1\t1\t1\t1\t0\t-\n", "line 2: a malformed stats record" },
		{ "vmxlab-profile\t1\nbogus\n", "line 2: an unknown record" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct prof_data d = { 0 };
		char err[512];
		const char *path = write_text(cases[i].text);
		assert_int_equal(prof_data_read(&d, path, err, sizeof(err)), -1);
		if (!strstr(err, cases[i].why) || !strstr(err, path))
			fail_msg("case %zu: '%s', expected the file and '%s'", i, err, cases[i].why);
		prof_data_free(&d);
		remove(path);
	}
	/* 33 frames in one stack: deeper than PROF_MAX_DEPTH. */
	char deep[4096] = "vmxlab-profile\t1\nframe\t0\t0\t1\tvmxlab\tm\tf\t-\nstack\t1\t1";
	for (int k = 0; k < PROF_MAX_DEPTH + 1; k++)
		strcat(deep, "\t0");
	strcat(deep, "\n");
	struct prof_data d = { 0 };
	char err[512];
	const char *path = write_text(deep);
	assert_int_equal(prof_data_read(&d, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "line 3: a stack record without frames, or with more than 32"));
	prof_data_free(&d);
	remove(path);
}

static void json_and_folded_outputs(void **state)
{
	(void)state;
	struct prof_data d;
	make_data(&d);
	double ns[VMX_EXIT_REASON_COUNT] = { 0 };
	ns[30] = 1e6;
	struct prof_report_opts o = { .target = "t.xt", .handler = "h.so", .reason_ns = ns, .cpu_ns = 5e8 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_int_equal(prof_write_json(f, &d, &o), 0);
	fclose(f);
	char err[256];
	struct json *j = json_parse(buf, len, err, sizeof(err));
	if (!j)
		fail_msg("JSON: %s\n%s", err, buf);
	assert_true(json_get(j, "samples")->num == 10);
	const struct json *fns = json_get(j, "functions");
	assert_int_equal(fns->n, 2);
	assert_string_equal(json_get(&fns->items[0], "function")->str, "handle_io");
	assert_string_equal(json_get(&fns->items[0], "bucket")->str, "handler");
	assert_true(json_get(&fns->items[0], "self")->num == 7);
	assert_true(json_get(&fns->items[0], "total")->num == 10);
	const struct json *reasons = json_get(j, "reasons");
	assert_string_equal(json_get(&reasons->items[0], "name")->str, "IO_INSTRUCTION");
	assert_true(json_get(&reasons->items[0], "handler_ns")->num == 1e6);
	json_free(j);
	free(buf);

	f = open_memstream(&buf, &len);
	assert_int_equal(prof_write_folded(f, &d), 0);
	fclose(f);
	assert_string_equal(buf, "IO_INSTRUCTION;handle_io 7\n(outside handlers);[vmxlab-dm];handle_io;pic_pio_write 3\n");
	free(buf);

	f = open_memstream(&buf, &len);
	assert_int_equal(prof_print(f, &d, &o), 0);
	fclose(f);
	assert_non_null(strstr(buf, "handle_io"));
	assert_non_null(strstr(buf, "vmxlab-dm: perf_event software cpu-clock"));
	free(buf);
	prof_data_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(samples_a_busy_function),
		cmocka_unit_test(the_dm_file_round_trips),
		cmocka_unit_test(malformed_files_are_named),
		cmocka_unit_test(json_and_folded_outputs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
