/* The gdb stub fuzz target's kept inputs (tests/fuzz/gdb-seeds: hand-made
 * sessions and the inputs that grew the corpus), replayed under ASan+UBSan
 * on every `make test` through the same harness as `make fuzz-gdb`
 * (tests/fuzz/fuzz_gdb.c): each a gdb client's bytes on a new debugging
 * session of the t-dbg guest. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fuzz/fuzz_gdb.c"

static void kept_inputs_end_cleanly(void **state)
{
	DIR *d = opendir("tests/fuzz/gdb-seeds");
	struct dirent *e;
	unsigned n = 0;
	(void)state;

	assert_non_null(d);
	while ((e = readdir(d))) {
		char path[512];
		static uint8_t buf[16384];
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "tests/fuzz/gdb-seeds/%s", e->d_name);
		FILE *f = fopen(path, "rb");
		assert_non_null(f);
		size_t len = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		assert_int_equal(LLVMFuzzerTestOneInput(buf, len), 0);
		n++;
	}
	closedir(d);
	print_message("gdb fuzz: %u kept inputs\n", n);
	assert_true(n >= 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(kept_inputs_end_cleanly) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
