/* cli.h - what the subcommand files of cli/ share: one file per subcommand,
 * each describing its options (struct cli_cmd), parsing them with
 * cli_next() and calling the parts (vm/, replay/, debug/, analysis/). */
#ifndef VMXLAB_CLI_H
#define VMXLAB_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <vmxlab/dev.h>
#include <vmxlab/hv.h>
#include <vmxlab/vmx.h>

#include "../vm/vm.h"

enum { EXIT_OK = 0, EXIT_CHECK_FAILED = 1, EXIT_USAGE = 2 };

/* Keys of options that have no short letter; a short option's key is its
 * letter. */
enum { CLI_LONG = 256 };

/* One option of a subcommand.  The same table drives getopt_long, --help
 * and --list-options, so the help and the man page test cannot drift from
 * what the parser accepts. */
struct cli_opt {
	const char *name;  /* long name without "--" */
	int key;           /* a letter (also the short option) or CLI_LONG + n */
	const char *value; /* the value's name in the help ("FILE"), NULL: a flag */
	const char *help;
};

struct cli_cmd {
	const char *name;
	const char *args;    /* after "vmxlab NAME"; alternative forms separated by '\n' */
	const char *summary; /* one line, for `vmxlab help` */
	const struct cli_opt *opts; /* ends with an entry whose name is NULL */
	const char *notes;   /* printed after the options by --help (exit status ...) */
};

#define CLI_MAX_ARGS 8

/* The state of one subcommand's parse. */
struct cli_args {
	const struct cli_cmd *cmd;
	int argc;
	char **argv;
	const char *value;          /* the current option's value */
	char opt[64];               /* the current option's long form, "--repeat" */
	char *pos[CLI_MAX_ARGS];    /* the arguments that are not options, in order */
	unsigned npos;
	int rc;                     /* the exit status when cli_next returns < 0 */
};

/* argv[0] is the subcommand's name. */
void cli_args_init(struct cli_args *a, const struct cli_cmd *c, int argc, char **argv);
/* The next option's key, with its value in a->value; 0 when the options
 * are done (the arguments in a->pos); < 0 when the command should return
 * a->rc: -h/--help, --version or --list-options was answered (0), or an
 * unknown option, a missing value or too many arguments was named (2).
 * Options and arguments may come in any order; "--" ends the options. */
int cli_next(struct cli_args *a);
/* EXIT_OK when min..max arguments were given, else EXIT_USAGE with
 * `missing` or the first extra argument named. */
int cli_want_args(struct cli_args *a, unsigned min, unsigned max, const char *missing);
/* The current option's value as an unsigned number in lo..hi (decimal or
 * 0x...); false after "vmxlab CMD: --OPT: 'V' is not a number (lo..hi)". */
bool cli_value_u64(struct cli_args *a, uint64_t lo, uint64_t hi, uint64_t *out);
/* "vmxlab CMD: --OPT: 'VALUE' is not WHAT" and the usage; EXIT_USAGE. */
int cli_bad_value(struct cli_args *a, const char *what);
/* "vmxlab CMD: MSG" (printf-style) and the usage lines, on stderr; EXIT_USAGE. */
int cli_usage_error(const struct cli_cmd *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cli_print_help(FILE *out, const struct cli_cmd *c);
void cli_print_version(FILE *out);
/* "--json -": the JSON goes to standard output and the report is left out. */
bool cli_is_stdout(const char *path);

extern const struct cli_cmd cli_cmd_run, cli_cmd_compare, cli_cmd_replay, cli_cmd_debug, cli_cmd_diff,
	cli_cmd_profile, cli_cmd_summary, cli_cmd_vmcs_fields, cli_cmd_exit_reasons, cli_cmd_decode;

int cmd_run(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_debug(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_profile(int argc, char **argv);
int cmd_vmcs_fields(int argc, char **argv);
int cmd_exit_reasons(int argc, char **argv);
int cmd_decode(int argc, char **argv);
/* argv[0] is "summary".  Exit status: 0 ok, 1 --tolerant skipped corrupt
 * data, 2 usage or input error (a corrupt trace names the byte offset). */
int cmd_summary(int argc, char **argv);

#endif
