/* summary.h - `vmxlab summary` (cli/cmd_summary.c).  To be wired into
 * cli/main.c's command table by the lead. */
#ifndef VMXLAB_CLI_SUMMARY_H
#define VMXLAB_CLI_SUMMARY_H

#define CMD_SUMMARY_ARGS "TRACE [--json FILE] [--domain D] [--vcpu V] [--cpu-hz HZ] [--tolerant]"
#define CMD_SUMMARY_HELP "exits per domain, vcpu and reason of a xentrace file (plain or gzip)"

/* argv[0] is "summary".  Exit status: 0 ok, 1 --tolerant skipped corrupt
 * data, 2 usage or input error (a corrupt trace names the byte offset). */
int cmd_summary(int argc, char **argv);

#endif
