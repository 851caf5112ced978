/* The scenario fuzz target's kept inputs (tests/fuzz/scenario-seeds: the
 * shipped scenarios, the inputs that grew the corpus and the ones that
 * found bugs), replayed under ASan+UBSan on every `make test` through the
 * same harness as `make fuzz-scenario` (tests/fuzz/fuzz_scenario.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fuzz/fuzz_scenario.c"

static void kept_inputs_load_or_name_their_place(void **state)
{
	DIR *d = opendir("tests/fuzz/scenario-seeds");
	struct dirent *e;
	unsigned n = 0;
	(void)state;

	assert_non_null(d);
	while ((e = readdir(d))) {
		char path[512];
		static uint8_t buf[8192];
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "tests/fuzz/scenario-seeds/%s", e->d_name);
		FILE *f = fopen(path, "rb");
		assert_non_null(f);
		size_t len = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		assert_int_equal(LLVMFuzzerTestOneInput(buf, len), 0);
		n++;
	}
	closedir(d);
	print_message("scenario fuzz: %u kept inputs\n", n);
	assert_true(n >= 17);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(kept_inputs_load_or_name_their_place) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
