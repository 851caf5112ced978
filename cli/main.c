/*
 * vmxlab - the command.  One function per subcommand; this file parses the
 * first word and dispatches.  Exit codes: 0 success, 1 a failed check,
 * 2 usage or input error (cli.h).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int cmd_version(int argc, char **argv);
static int cmd_help(int argc, char **argv);

static const struct cli_cmd cli_cmd_version = {
	.name = "version",
	.args = "",
	.summary = "print the vmxlab version and the ABI versions (as vmxlab --version)",
};

static const struct cli_cmd cli_cmd_help = {
	.name = "help",
	.args = "[COMMAND]",
	.summary = "list the commands; with COMMAND, its help (as vmxlab COMMAND --help)",
};

static const struct command {
	const struct cli_cmd *cmd;
	int (*run)(int argc, char **argv);
} commands[] = {
	{ &cli_cmd_run, cmd_run },
	{ &cli_cmd_compare, cmd_compare },
	{ &cli_cmd_replay, cmd_replay },
	{ &cli_cmd_diff, cmd_diff },
	{ &cli_cmd_debug, cmd_debug },
	{ &cli_cmd_profile, cmd_profile },
	{ &cli_cmd_summary, cmd_summary },
	{ &cli_cmd_version, cmd_version },
	{ &cli_cmd_vmcs_fields, cmd_vmcs_fields },
	{ &cli_cmd_exit_reasons, cmd_exit_reasons },
	{ &cli_cmd_decode, cmd_decode },
	{ &cli_cmd_help, cmd_help },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(name, commands[i].cmd->name) == 0)
			return &commands[i];
	return NULL;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: vmxlab COMMAND [ARGS] [OPTIONS]\n"
		     "       vmxlab COMMAND --help\n"
		     "       vmxlab --version\n\n"
		     "A simulation and replay testbed for Intel VT-x exit handling.\n\n"
		     "commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-14s %s\n", commands[i].cmd->name, commands[i].cmd->summary);
	fprintf(out, "\n`vmxlab COMMAND --help` shows a command's arguments and options; man vmxlab has them all.\n"
		     "exit status: 0 success, 1 a check failed, 2 usage or input error\n");
}

static int cmd_help(int argc, char **argv)
{
	struct cli_args a;
	int k;

	cli_args_init(&a, &cli_cmd_help, argc, argv);
	while ((k = cli_next(&a)) > 0)
		;
	if (k < 0)
		return a.rc;
	if (cli_want_args(&a, 0, 1, ""))
		return EXIT_USAGE;
	if (!a.npos) {
		usage(stdout);
		return EXIT_OK;
	}
	const struct command *c = find_command(a.pos[0]);
	if (!c)
		return cli_usage_error(&cli_cmd_help, "no command named '%s' (vmxlab help lists them)", a.pos[0]);
	cli_print_help(stdout, c->cmd);
	return EXIT_OK;
}

static int cmd_version(int argc, char **argv)
{
	struct cli_args a;
	int k;

	cli_args_init(&a, &cli_cmd_version, argc, argv);
	while ((k = cli_next(&a)) > 0)
		;
	if (k < 0)
		return a.rc;
	if (cli_want_args(&a, 0, 0, ""))
		return EXIT_USAGE;
	cli_print_version(stdout);
	return EXIT_OK;
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
		return cmd_help(1, argv + 1);
	if (strcmp(argv[1], "--version") == 0)
		return cmd_version(1, argv + 1);
	/* For scripts, tests and completion: the commands, one a line. */
	if (strcmp(argv[1], "--list-commands") == 0) {
		for (size_t i = 0; i < NCOMMANDS; i++)
			printf("%s\n", commands[i].cmd->name);
		return EXIT_OK;
	}
	const struct command *c = find_command(argv[1]);
	if (c)
		return c->run(argc - 1, argv + 1);
	fprintf(stderr, "vmxlab: unknown command or option '%s'\n\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
