/*
 * vmxlab debug SCENARIO [-x CMDFILE] [--hv LIB.so] [--record TRACE] [--gdb PORT]
 * vmxlab debug TRACE [-x CMDFILE] [--hv LIB.so] [--scenario S.yaml]
 * (-x is also --command=CMDFILE, as in gdb)
 *
 * A scenario runs under the debugger's control (debug/live.c); a trace is
 * replayed exit by exit (debug/replay.c).  Commands come from the prompt -
 * editline, with history in ~/.vmxlab_history - when stdin is a terminal,
 * else from stdin or the -x file, each echoed after the prompt.  --gdb
 * serves the GDB remote protocol instead of the prompt.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <editline/readline.h>

#include "../debug/debug.h"
#include "cli.h"

#define PROMPT "(vmxlab) "


static void strip(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

/* Commands from a file or a pipe, each echoed after the prompt. */
static void run_file(struct dbg *d, FILE *f)
{
	char line[1024];

	while (!d->quit && fgets(line, sizeof(line), f)) {
		strip(line);
		const char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '#')
			continue;
		fprintf(d->out, PROMPT "%s\n", line);
		fflush(d->out);
		dbg_execute(d, line);
		fflush(d->out);
	}
}

static volatile sig_atomic_t prompt_sigint;

static void on_prompt_sigint(int sig)
{
	(void)sig;
	prompt_sigint = 1;
}

/* The prompt: line editing and history; an empty line repeats the last command. */
static void run_prompt(struct dbg *d)
{
	char hist[4096] = "", last[1024] = "";
	const char *home = getenv("HOME");
	struct sigaction sa, old;

	if (home && *home) {
		snprintf(hist, sizeof(hist), "%s/.vmxlab_history", home);
		read_history(hist);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_prompt_sigint;
	sigemptyset(&sa.sa_mask);
	while (!d->quit) {
		sigaction(SIGINT, &sa, &old);
		prompt_sigint = 0;
		errno = 0;
		char *line = readline(PROMPT);
		sigaction(SIGINT, &old, NULL);
		if (!line) {
			if (prompt_sigint || errno == EINTR) {
				fputc('\n', d->out);
				continue;
			}
			fputc('\n', d->out);
			break;
		}
		const char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p) {
			add_history(line);
			snprintf(last, sizeof(last), "%s", line);
			dbg_execute(d, line);
		} else if (last[0]) {
			dbg_execute(d, last);
		}
		free(line);
		fflush(d->out);
	}
	if (hist[0])
		write_history(hist);
}


static int open_live(struct dbg *d, struct scenario *sc, const char *path, const char *hv, const char *record)
{
	char err[1024];

	if (scenario_load(path, sc, err, sizeof(err))) {
		fprintf(stderr, "vmxlab debug: %s\n", err);
		return EXIT_USAGE;
	}
	if (hv)
		snprintf(sc->mc.hv_path, sizeof(sc->mc.hv_path), "%s", hv);
	if (record)
		snprintf(sc->mc.trace_path, sizeof(sc->mc.trace_path), "%s", record);
	if (scenario_resolve_workload(sc, err, sizeof(err))) {
		fprintf(stderr, "vmxlab debug: %s: %s\n", path, err);
		return EXIT_USAGE;
	}
	sc->mc.console = d->out;
	d->m = machine_create(&sc->mc, err, sizeof(err));
	if (!d->m) {
		char where[sizeof(err) + 4200];
		scenario_locate_error(sc, err, where, sizeof(where));
		fprintf(stderr, "vmxlab debug: %s\n", where);
		return EXIT_USAGE;
	}
	d->log = calloc(1, sizeof(*d->log));
	if (!d->log || machine_debug_begin(d->m)) {
		fprintf(stderr, "vmxlab debug: out of memory\n");
		return EXIT_USAGE;
	}
	d->vcpu = machine_vcpu(d->m);
	d->hv_name = machine_hv_name(d->m);
	fprintf(d->out, "vmxlab debug: scenario %s, guest %s, handler build %s, %u device%s\n",
		sc->name[0] ? sc->name : path, sc->workload[0] ? sc->workload : sc->mc.image, machine_hv_name(d->m),
		machine_ndevs(d->m), machine_ndevs(d->m) == 1 ? "" : "s");
	fprintf(d->out, "the guest is at its first instruction\n");
	dbg_print_location(d);
	return EXIT_OK;
}

enum { OPT_HV = CLI_LONG, OPT_RECORD, OPT_SCENARIO, OPT_GDB };

static const struct cli_opt debug_opts[] = {
	{ "command", 'x', "CMDFILE", "run the debugger commands in CMDFILE first (then the prompt, on a terminal)" },
	{ "hv", OPT_HV, "LIB.so", "the handler build (default: the scenario's, else libvmxlab-hv.so)" },
	{ "record", OPT_RECORD, "TRACE", "a scenario: record the run as a xentrace file, as vmxlab run --record" },
	{ "scenario", OPT_SCENARIO, "S.yaml", "a trace: the devices, their options and the handler build from S.yaml" },
	{ "gdb", OPT_GDB, "PORT",
	  "a scenario: serve the GDB remote protocol on 127.0.0.1:PORT instead of the prompt (0: a free port)" },
	{ NULL, 0, NULL, NULL },
};

const struct cli_cmd cli_cmd_debug = {
	.name = "debug",
	.args = "SCENARIO [OPTION]...\nTRACE [OPTION]...",
	.summary = "step a scenario or a trace exit by exit: breakpoints, stepi, VMCS, explain, gdb",
	.opts = debug_opts,
	.notes = "A file ending in .yaml or .yml is a scenario, anything else a trace. Commands come from "
		 "the prompt on a terminal, else from standard input or -x; `help` lists them.\n"
		 "exit status: 0; 1 a command read from a file or a pipe failed; 2 a usage error or a trace that "
		 "cannot be read.",
};

int cmd_debug(int argc, char **argv)
{
	const char *path = NULL, *cmdfile = NULL, *hv = NULL, *record = NULL, *scen = NULL;
	uint64_t gdb_port = 0;
	bool gdb = false;
	static struct scenario sc;
	struct dbg d;
	char err[1024];
	struct cli_args a;
	int k;

	cli_args_init(&a, &cli_cmd_debug, argc, argv);
	while ((k = cli_next(&a)) > 0) {
		switch (k) {
		case 'x':
			cmdfile = a.value;
			break;
		case OPT_HV:
			hv = a.value;
			break;
		case OPT_RECORD:
			record = a.value;
			break;
		case OPT_SCENARIO:
			scen = a.value;
			break;
		case OPT_GDB:
			if (!cli_value_u64(&a, 0, 65535, &gdb_port))
				return EXIT_USAGE;
			gdb = true;
			break;
		}
	}
	if (k < 0)
		return a.rc;
	if (cli_want_args(&a, 1, 1, "needs a scenario (.yaml) or a trace"))
		return EXIT_USAGE;
	path = a.pos[0];
	bool live = scenario_path_is_scenario(path);
	if (live && scen)
		return cli_usage_error(&cli_cmd_debug, "--scenario goes with a trace");
	if (!live && (record || gdb))
		return cli_usage_error(&cli_cmd_debug, "--record and --gdb need a scenario: a trace has no guest to run");
	FILE *cmds = NULL;
	if (cmdfile && !(cmds = fopen(cmdfile, "r"))) {
		fprintf(stderr, "vmxlab debug: cannot read %s: %s\n", cmdfile, strerror(errno));
		return EXIT_USAGE;
	}

	memset(&d, 0, sizeof(d));
	d.out = stdout;
	d.name = path;
	d.mode = live ? DBG_LIVE : DBG_REPLAY;
	d.hist = calloc(DBG_HISTORY, sizeof(*d.hist));
	if (!d.hist) {
		fprintf(stderr, "vmxlab debug: out of memory\n");
		return EXIT_USAGE;
	}
	int rc = EXIT_OK;
	if (live) {
		rc = open_live(&d, &sc, path, hv, record);
	} else if (dbg_replay_open(&d, path, hv, scen, err, sizeof(err))) {
		fprintf(stderr, "vmxlab debug: %s\n", err);
		rc = EXIT_USAGE;
	}
	if (rc == EXIT_OK) {
		fflush(d.out);
		if (gdb) {
			if (gdb_serve(&d, (unsigned)gdb_port))
				rc = EXIT_USAGE;
		} else {
			bool tty = isatty(STDIN_FILENO);
			if (cmds)
				run_file(&d, cmds);
			if (!d.quit && tty)
				run_prompt(&d);
			else if (!d.quit && !cmds)
				run_file(&d, stdin);
			if (!tty && d.errors)
				rc = EXIT_CHECK_FAILED;
		}
		if (d.input_error)
			rc = EXIT_USAGE;
	}
	if (cmds)
		fclose(cmds);
	fflush(d.out);
	if (d.mode == DBG_REPLAY)
		dbg_replay_close(&d);
	machine_destroy(d.m);
	free(d.log);
	free(d.hist);
	return rc;
}
