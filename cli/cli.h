/* cli.h - what the subcommand files of cli/ share: one file per subcommand,
 * each parsing its options and calling the parts (vm/, replay/, debug/,
 * analysis/). */
#ifndef VMXLAB_CLI_H
#define VMXLAB_CLI_H

#include <vmxlab/dev.h>
#include <vmxlab/hv.h>
#include <vmxlab/vmx.h>

#include "../vm/vm.h"

enum { EXIT_OK = 0, EXIT_CHECK_FAILED = 1, EXIT_USAGE = 2 };

/* Print "vmxlab CMD: MSG" and the command's usage line to stderr; returns EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *msg);

int cmd_run(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_debug(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_profile(int argc, char **argv);
int cmd_vmcs_fields(int argc, char **argv);
int cmd_exit_reasons(int argc, char **argv);
int cmd_decode(int argc, char **argv);

#define CMD_SUMMARY_ARGS "TRACE [--json FILE] [--domain D] [--vcpu V] [--cpu-hz HZ] [--tolerant]"
#define CMD_SUMMARY_HELP "exits per domain, vcpu and reason of a xentrace file (plain or gzip)"
/* argv[0] is "summary".  Exit status: 0 ok, 1 --tolerant skipped corrupt
 * data, 2 usage or input error (a corrupt trace names the byte offset). */
int cmd_summary(int argc, char **argv);

#endif
