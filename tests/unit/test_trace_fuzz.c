/*
 * The fuzz target's inputs as a unit test: every file in tests/fuzz/regress
 * (inputs that crashed, hung or were hand-made to be hostile) and
 * tests/fuzz/seeds goes through the same harness as `make fuzz-trace`
 * (tests/fuzz/fuzz_trace.c, included here), under ASan and UBSan.  Then
 * the reader's answers for the hostile ones are checked.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fuzz/fuzz_trace.c"

static unsigned replay_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	unsigned n = 0;

	assert_non_null(d);
	while ((e = readdir(d))) {
		char p[512];
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		FILE *f = fopen(p, "rb");
		assert_non_null(f);
		static uint8_t buf[1 << 20];
		size_t len = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		print_message("%s (%zu bytes)\n", p, len);
		LLVMFuzzerTestOneInput(buf, len);
		n++;
	}
	closedir(d);
	return n;
}

static void regression_inputs_do_not_crash(void **state)
{
	(void)state;
	assert_true(replay_dir("tests/fuzz/regress") >= 8);
	assert_true(replay_dir("tests/fuzz/seeds") >= 3);
}

static char last_err[1024];

static int open_err(const char *name, unsigned flags, long *records)
{
	char p[256];
	struct trc_item it;
	snprintf(p, sizeof(p), "tests/fuzz/regress/%s", name);
	struct trc_reader *r = trc_reader_open(p, flags, quiet, NULL, last_err, sizeof(last_err));
	*records = 0;
	if (!r)
		return -1;
	int k;
	while ((k = trc_reader_next(r, &it)) > 0)
		(*records)++;
	if (k < 0)
		snprintf(last_err, sizeof(last_err), "%s", trc_reader_error(r));
	trc_reader_close(r);
	return k;
}

static void hostile_inputs_get_offsets(void **state)
{
	(void)state;
	long n;
	assert_int_equal(open_err("many-pcpus-empty-windows.xt", 0, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(open_err("huge-window.xt", 0, &n), 0); /* a truncated last window: a warning */
	assert_int_equal(n, 1);
	assert_int_equal(open_err("lost-records-short.xt", 0, &n), -1);
	assert_non_null(strstr(last_err, "offset 12: LOST_RECORDS record of 20 bytes"));
	assert_int_equal(open_err("cpu-change-in-window.xt", 0, &n), -1);
	assert_non_null(strstr(last_err, "offset 24: CPU_CHANGE record inside a window"));
	assert_int_equal(open_err("cpu-change-in-window.xt", TRC_READ_TOLERANT, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(open_err("odd-length.xt", 0, &n), 0);
	assert_int_equal(open_err("gzip-truncated-window.xt.gz", 0, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(open_err("tsc-backwards.xt", 0, &n), 0);
	assert_int_equal(n, 4);
	int k = open_err("gzip-garbage.xt", 0, &n);
	assert_true(k == -1 || (k == 0 && n == 0));
	if (k < 0)
		assert_non_null(strstr(last_err, "gzip"));
}

int main(void)
{
	fuzz_trace_check_all = true; /* every kept input gets every check */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(regression_inputs_do_not_crash),
		cmocka_unit_test(hostile_inputs_get_offsets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
