/*
 * vmxlab - the command.  One function per subcommand; this file parses the
 * first word and dispatches.  Exit codes: 0 success, 1 a failed check,
 * 2 usage or input error (cli.h).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *args;
	const char *help;
};

static int cmd_version(int argc, char **argv);
static int cmd_help(int argc, char **argv);

static const struct command commands[] = {
	{ "run", cmd_run,
	  "SCENARIO [--record TRACE] [--json FILE] [--hv LIB.so] [--quiet] [--screenshot FILE.png] [--max-exits N]",
	  "run a scenario; print the exit report; check its expectations" },
	{ "compare", cmd_compare, "A.yaml B.yaml", "run two scenarios; exits and predicted time side by side" },
	{ "replay", cmd_replay,
	  "TRACE [--hv LIB.so] [--scenario S] [--domain D] [--vcpu V] [--repeat N] [--json FILE] [--tolerant] [--verbose] [--accept-divergent]",
	  "replay a xentrace log through a handler build; handler cost and fidelity" },
	{ "diff", cmd_diff,
	  "OLD.json NEW.json | A.xentrace B.xentrace [--cpu-hz HZ] | --trace T --old A.so --new B.so [--runs N] [--scenario S]  [--alpha A] [--fail-over PCT] [--force] [--json F] [--csv F] [--plot F.svg]",
	  "compare two handler builds' handling times: medians, intervals, rank tests (paired by round in one-shot)" },
	{ "debug", cmd_debug, "SCENARIO|TRACE [-x CMDFILE] [--hv LIB.so] [--record T] [--scenario S] [--gdb PORT]",
	  "step a scenario or a trace exit by exit: breakpoints, stepi, VMCS, explain; gdb can attach" },
	{ "profile", cmd_profile,
	  "SCENARIO|TRACE [--hv LIB.so] [--scenario S] [--repeat N] [--rate HZ] [--source auto|cycles|cpu-clock|timer] [--top N] [--all] [--json F] [--flame F]",
	  "sample where handler time goes, function by function: handler build, device models, capstone, testbed" },
	{ "summary", cmd_summary, CMD_SUMMARY_ARGS, CMD_SUMMARY_HELP },
	{ "version", cmd_version, "", "print the vmxlab version and the ABI versions" },
	{ "vmcs-fields", cmd_vmcs_fields, "[--type T] [--width W] [FIELD]",
	  "list VMCS fields (SDM App. B); FIELD is an encoding or a name" },
	{ "exit-reasons", cmd_exit_reasons, "", "list the basic exit reasons (SDM App. C)" },
	{ "decode", cmd_decode, "KIND VALUE",
	  "decode a raw VMCS value; KIND: exit-reason io cr dr ept task-switch invlpg intr-info insn-info" },
	{ "help", cmd_help, "", "this text" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	fprintf(out, "usage: vmxlab COMMAND [ARGS]\n\n"
		     "A simulation and replay testbed for Intel VT-x exit handling.\n\n"
		     "commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-14s %-32s %s\n", commands[i].name, commands[i].args, commands[i].help);
	fprintf(out, "\nexit status: 0 success, 1 a check failed, 2 usage or input error\n");
}

static int cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	usage(stdout);
	return EXIT_OK;
}

static int cmd_version(int argc, char **argv)
{
	(void)argv;
	if (argc > 1)
		return cli_usage_error("version", "takes no arguments");
	printf("vmxlab %s (handler ABI %d, device ABI %d)\n", VMXLAB_VERSION, VMXLAB_HV_ABI_VERSION,
	       VMXLAB_DEV_ABI_VERSION);
	return EXIT_OK;
}

int cli_usage_error(const char *cmd, const char *msg)
{
	fprintf(stderr, "vmxlab %s: %s\n", cmd, msg);
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, cmd) == 0)
			fprintf(stderr, "usage: vmxlab %s %s\n", cmd, commands[i].args);
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	/* A file-size limit (ulimit -f) makes a write fail with EFBIG, which the
	 * writers report and recover from (the trace cut back to its last whole
	 * window); the default SIGXFSZ would kill vmxlab without a word. */
	signal(SIGXFSZ, SIG_IGN);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return cmd_help(0, NULL);
	if (strcmp(argv[1], "--version") == 0)
		return cmd_version(1, argv + 1);
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "vmxlab: unknown command or option '%s'\n\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
