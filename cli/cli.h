/* cli.h - what the subcommand files of cli/ share. */
#ifndef VMXLAB_CLI_H
#define VMXLAB_CLI_H

#include <vmxlab/dev.h>
#include <vmxlab/hv.h>
#include <vmxlab/vmx.h>

enum { EXIT_OK = 0, EXIT_CHECK_FAILED = 1, EXIT_USAGE = 2 };

/* Print "vmxlab CMD: MSG" and the command's usage line to stderr; returns EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *msg);
/* Parse a whole unsigned number (0x.., decimal); false on junk or overflow. */
bool cli_parse_u64(const char *s, uint64_t *out);

/* NAME next to the vmxlab program (or one directory up, for build/asan/). */
void cli_exe_path(char *out, size_t len, const char *name);

/* A loaded handler build (hvload.c). */
struct hv_build {
	void *dl;
	const struct vmxlab_hv *hv;
	char path[4096];
};
/* 0, or -1 with err naming the file and what is wrong with it. */
int hv_load(const char *path, struct hv_build *b, char *err, size_t errlen);
/* The same from a private copy of the file in fresh memory (memfd): its
 * code lands on other physical pages each time (vmxlab diff's rounds). */
int hv_load_copy(const char *path, struct hv_build *b, char *err, size_t errlen);
void hv_unload(struct hv_build *b);

int cmd_run(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_debug(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_profile(int argc, char **argv);
int cmd_vmcs_fields(int argc, char **argv);
int cmd_exit_reasons(int argc, char **argv);
int cmd_decode(int argc, char **argv);

#endif
