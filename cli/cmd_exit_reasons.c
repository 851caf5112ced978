/*
 * vmxlab exit-reasons: the basic exit reasons of the VT-x model (SDM Vol. 3
 * App. C), with their numbers and descriptions.
 */
#include <stdio.h>

#include "cli.h"

int cmd_exit_reasons(int argc, char **argv)
{
	(void)argv;
	if (argc > 1)
		return cli_usage_error("exit-reasons", "takes no arguments");
	for (uint32_t r = 0; r < VMX_EXIT_REASON_COUNT; r++) {
		const char *name = vmx_exit_reason_name(r);
		if (name)
			printf("%3u  %-22s %s\n", r, name, vmx_exit_reason_desc(r));
	}
	return EXIT_OK;
}
