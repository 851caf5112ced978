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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fuzz/fuzz_gdb.c"
#include "fuzzreplay.h"

static void kept_inputs_end_cleanly(void **state)
{
	(void)state;
	unsigned n = fuzz_replay_dir("tests/fuzz/gdb-seeds", LLVMFuzzerTestOneInput);
	print_message("gdb fuzz: %u kept inputs\n", n);
	assert_true(n >= 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(kept_inputs_end_cleanly) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
