/*
 * vmxlab exit-reasons: the basic exit reasons of the VT-x model (SDM Vol. 3
 * App. C), with their numbers and descriptions.
 */
#include <stdio.h>

#include "cli.h"

const struct cli_cmd cli_cmd_exit_reasons = {
	.name = "exit-reasons",
	.args = "",
	.summary = "list the basic exit reasons 0..81 with their SDM names (SDM App. C)",
	.notes = "exit status: 0; 2 a usage error.",
};

int cmd_exit_reasons(int argc, char **argv)
{
	struct cli_args a;
	int k;

	cli_args_init(&a, &cli_cmd_exit_reasons, argc, argv);
	while ((k = cli_next(&a)) > 0)
		;
	if (k < 0)
		return a.rc;
	if (cli_want_args(&a, 0, 0, ""))
		return EXIT_USAGE;
	for (uint32_t r = 0; r < VMX_EXIT_REASON_COUNT; r++) {
		const char *name = vmx_exit_reason_name(r);
		if (name)
			printf("%3u  %-22s %s\n", r, name, vmx_exit_reason_desc(r));
	}
	return EXIT_OK;
}
