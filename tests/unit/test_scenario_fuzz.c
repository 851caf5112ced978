/* The scenario fuzz target's kept inputs (tests/fuzz/scenario-seeds: the
 * shipped scenarios, the inputs that grew the corpus and the ones that
 * found bugs), replayed under ASan+UBSan on every `make test` through the
 * same harness as `make fuzz-scenario` (tests/fuzz/fuzz_scenario.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fuzz/fuzz_scenario.c"
#include "fuzzreplay.h"

static void kept_inputs_load_or_name_their_place(void **state)
{
	(void)state;
	unsigned n = fuzz_replay_dir("tests/fuzz/scenario-seeds", LLVMFuzzerTestOneInput);
	print_message("scenario fuzz: %u kept inputs\n", n);
	assert_true(n >= 17);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(kept_inputs_load_or_name_their_place) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
