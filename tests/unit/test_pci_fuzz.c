/* The PCI fuzz target's kept inputs (tests/fuzz/pci-seeds/), replayed
 * under ASan+UBSan on every `make test`: configuration scripts a hostile
 * guest could play through the reference handler onto the i440fx and ide
 * models, each with the target's checks (tests/fuzz/fuzz_pci.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fuzz/fuzz_pci.c"
#include "fuzzreplay.h"

static void kept_inputs_run_clean(void **state)
{
	(void)state;
	unsigned n = fuzz_replay_dir("tests/fuzz/pci-seeds", LLVMFuzzerTestOneInput);
	assert_true(n >= 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(kept_inputs_run_clean) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
