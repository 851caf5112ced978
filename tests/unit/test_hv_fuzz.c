/* The handler fuzz target's kept inputs (tests/fuzz/regress-hv/), replayed
 * under ASan+UBSan on every `make test`: a hostile-exit input that once
 * exercised new code must keep running without a fault. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fuzz/fuzz_hv.c"
#include "fuzzreplay.h"

static void kept_inputs_run_clean(void **state)
{
	(void)state;
	unsigned n = fuzz_replay_dir("tests/fuzz/regress-hv", LLVMFuzzerTestOneInput);
	assert_true(n >= 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(kept_inputs_run_clean) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
