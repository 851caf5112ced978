/* The handler fuzz target's kept inputs (tests/fuzz/regress-hv/), replayed
 * under ASan+UBSan on every `make test`: a hostile-exit input that once
 * exercised new code must keep running without a fault. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fuzz/fuzz_hv.c"

static void kept_inputs_run_clean(void **state)
{
	DIR *d = opendir("tests/fuzz/regress-hv");
	struct dirent *e;
	unsigned n = 0;
	(void)state;

	assert_non_null(d);
	while ((e = readdir(d))) {
		char path[512];
		uint8_t buf[8192];
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "tests/fuzz/regress-hv/%s", e->d_name);
		FILE *f = fopen(path, "rb");
		assert_non_null(f);
		size_t len = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		assert_int_equal(LLVMFuzzerTestOneInput(buf, len), 0);
		n++;
	}
	closedir(d);
	assert_true(n >= 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(kept_inputs_run_clean) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
