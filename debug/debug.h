/*
 * debug.h - the debugger behind `vmxlab debug` (cli/cmd_debug.c holds its
 * command line, the prompt and the command file):
 *
 *   cmds.c            the command table and the inspection commands
 *   live.c            running a scenario: breakpoints, continue, next-exit,
 *                     stepi, Ctrl-C (vm.h's stepping API)
 *   replay.c          stepping a trace exit by exit (replay.h's iterator)
 *   explain.c         exits decoded: one line, field by field, what the
 *                     handler did, the VMCS diff
 *   gdbstub.c         the GDB remote serial protocol on the live guest
 *
 * docs/debugger.md describes the commands.
 */
#ifndef VMXLAB_DEBUG_H
#define VMXLAB_DEBUG_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <vmxlab/vcpu.h>

#include "../vm/vm.h"

enum dbg_mode { DBG_LIVE, DBG_REPLAY };

/* Where the guest (or the trace) stands. */
enum dbg_state {
	DST_START,      /* nothing has run yet: the guest is at its first instruction */
	DST_GUEST,      /* stopped between two guest instructions (stepi, Ctrl-C, a RIP breakpoint) */
	DST_EXIT,       /* at a VM exit, before its handler */
	DST_HANDLED,    /* the exit's handler has run; the guest has not resumed */
	DST_ENDED,      /* the run (or the trace) is over */
};

enum dbg_bp_kind { BP_EXIT, BP_IO, BP_MMIO, BP_RIP, BP_INJECT };
#define DBG_MAX_BPS 64
struct dbg_bp {
	int id;
	enum dbg_bp_kind kind;
	uint32_t reason;      /* BP_EXIT */
	uint64_t lo, hi;      /* BP_IO ports, BP_MMIO addresses, BP_RIP (lo), inclusive */
	int dir;              /* BP_IO: 0 either, 1 in, 2 out */
	int vector;           /* BP_INJECT: -1 any */
	uint64_t hits;
};

/* One exit as the debugger keeps it: the exit information read before the
 * handler ran, and what the handler did. */
#define DBG_EXIT_ACC 256
#define DBG_EXIT_REC 64
#define DBG_EXIT_IO 16
struct dbg_rec {
	uint32_t event;
	unsigned n;
	uint32_t w[7];
};
struct dbg_exit {
	uint64_t n;                 /* exit number, from 1 */
	bool replay;
	uint32_t dom, vcpu;         /* replay */
	uint32_t raw;               /* exit-reason field */
	uint64_t rip, qual, gpa, gla, intr_info, intr_err, idt_info, idt_err, insn_len, insn_info;
	uint64_t rax, rcx, rdx;
	/* replay of a vmxlab trace: which of the fields above this exit's
	 * records set (DBG_K_*); the others hold values of earlier exits */
	unsigned unknown;
	uint64_t time;              /* virtual ns */
	char skipped[128];          /* replay: not replayed, why */
	char fidelity[160];         /* replay: recorded, inferred, defaulted and which inputs */
	struct dbg_rec trace[DBG_EXIT_REC];  /* replay: the trace's records of this exit */
	unsigned ntrace;
	/* after the handler */
	bool handled;
	enum hv_verdict verdict;
	char message[1200];
	uint64_t rip_after;
	uint64_t modelled_ns;       /* live: virtual time the exit took; replay: 0 */
	struct input_access acc[DBG_EXIT_ACC];
	unsigned nacc;
	bool acc_truncated;
	struct dbg_rec rec[DBG_EXIT_REC];    /* records the handler emitted */
	unsigned nrec;
	struct { char dev[32]; struct vmx_ioreq req; int rc; } io[DBG_EXIT_IO];
	unsigned nio;
};

enum {
	DBG_K_QUAL = 1 << 0, DBG_K_GPA = 1 << 1, DBG_K_GLA = 1 << 2, DBG_K_INTR = 1 << 3, DBG_K_INTR_ERR = 1 << 4,
	DBG_K_IDT = 1 << 5, DBG_K_IDT_ERR = 1 << 6, DBG_K_LEN = 1 << 7, DBG_K_INFO = 1 << 8,
	DBG_K_RAX = 1 << 9, DBG_K_RCX = 1 << 10, DBG_K_RDX = 1 << 11,
};

#define DBG_HISTORY 64

struct dbg_replay;     /* replay.c */
struct gdb_server;     /* gdbstub.c */

struct dbg {
	enum dbg_mode mode;
	enum dbg_state state;
	FILE *out;
	const char *name;              /* the scenario or trace, for messages */
	/* live */
	struct machine *m;
	struct machine_exit_log *log;
	/* replay */
	struct dbg_replay *rp;
	/* what the inspection commands look at */
	struct vmx_vcpu *vcpu;
	struct dbg_bp bps[DBG_MAX_BPS];
	unsigned nbps;
	int next_bp;
	/* the last exits, a ring; cur is the exit at DST_EXIT/DST_HANDLED */
	struct dbg_exit *hist;
	uint64_t nexits;
	struct dbg_exit *cur;
	volatile sig_atomic_t stop;    /* Ctrl-C */
	bool quit;
	unsigned errors;               /* commands answered with an error */
	bool input_error;              /* the trace could not be read on (exit status 2, as replay and summary) */
	struct gdb_server *gdb;        /* while a gdb client is attached */
	const char *hv_name;           /* the handler build's name */
};

/* cmds.c: one command line.  Errors are printed and counted; the
 * debugger goes on. */
void dbg_execute(struct dbg *d, const char *line);
/* Print an error message for the current command. */
void dbg_error(struct dbg *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* An address or value: a number, $register, and + or - between them. */
bool dbg_eval(struct dbg *d, const char *s, uint64_t *out);
/* The guest's current RIP (the exit's RIP at an exit). */
uint64_t dbg_rip(struct dbg *d);
/* One instruction at addr, disassembled; 0 when it cannot be read or decoded. */
unsigned dbg_disas_one(struct dbg *d, uint64_t addr, char *buf, size_t len);
/* "=> 0x... : insn" for where the guest stands. */
void dbg_print_location(struct dbg *d);

/* explain.c */
const char *dbg_reason_name(uint32_t raw);
/* The exit in one line: reason, RIP, the qualification decoded. */
void dbg_exit_brief(const struct dbg_exit *x, char *buf, size_t len);
/* Read the exit information of the exit v stands at. */
void dbg_capture_exit(struct vmx_vcpu *v, struct dbg_exit *x);
/* Fill the after-handler part from a recording vCPU's log. */
void dbg_take_log(struct dbg_exit *x, const struct input_access *acc, unsigned nacc, bool truncated);
/* The vector injected by the handler (VM-entry interruption information written valid), or -1. */
int dbg_injected_vector(const struct dbg_exit *x);
void dbg_explain(struct dbg *d, const struct dbg_exit *x);
/* The handler's VMCS reads and writes as a diff ("  read", "- old", "+ new"). */
void dbg_print_vmcs_diff(FILE *out, const struct dbg_exit *x);
/* The handler's result in one line. */
void dbg_print_handled(struct dbg *d, const struct dbg_exit *x);
/* Who owns a port or an MMIO address ("pic, in the hypervisor"), for explain. */
void dbg_owner(struct dbg *d, bool mmio, uint64_t addr, char *buf, size_t len);

/* History: a new slot for the next exit; the exit numbered n or NULL. */
struct dbg_exit *dbg_new_exit(struct dbg *d);
struct dbg_exit *dbg_find_exit(struct dbg *d, uint64_t n);

/* Breakpoints: the first that an exit before its handler matches (exit,
 * io, mmio, rip), that a handled exit matches (inject), or that the guest's
 * RIP matches; NULL for none.  The hit is counted. */
struct dbg_bp *dbg_bp_exit(struct dbg *d, const struct dbg_exit *x);
struct dbg_bp *dbg_bp_inject(struct dbg *d, const struct dbg_exit *x);
struct dbg_bp *dbg_bp_rip(struct dbg *d, uint64_t rip);
bool dbg_have_rip_bps(const struct dbg *d);

/* Execution, per mode (live.c, replay.c).  Each prints where it
 * stopped. */
void dbg_live_continue(struct dbg *d);
void dbg_live_next_exit(struct dbg *d);
void dbg_live_handle(struct dbg *d);
void dbg_live_stepi(struct dbg *d, uint64_t n);
/* The same without printing, for the gdb stub: 0 stopped in the guest or
 * at an exit, 1 the run ended. */
int dbg_live_run_quiet(struct dbg *d, bool step);
/* The pending exit's handler without printing: 1 the guest can go on, 0 the run ended. */
int dbg_live_handle_quiet(struct dbg *d);
void dbg_live_dev(struct dbg *d, const char *name);
void dbg_live_status(struct dbg *d);
/* Install the SIGINT handler that stops the guest (Ctrl-C) for d. */
void dbg_sigint_begin(struct dbg *d);
void dbg_sigint_end(void);

/* Open a trace for stepping (the first exit is pending); 0, or -1 with err. */
int dbg_replay_open(struct dbg *d, const char *trace, const char *hv_path, const char *scenario, char *err,
		    size_t errlen);
void dbg_replay_close(struct dbg *d);
void dbg_replay_continue(struct dbg *d);
void dbg_replay_next_exit(struct dbg *d);
void dbg_replay_handle(struct dbg *d);
void dbg_replay_dev(struct dbg *d, const char *name);
void dbg_replay_status(struct dbg *d);
void dbg_replay_owner(struct dbg *d, bool mmio, uint64_t addr, char *buf, size_t len);

/* gdbstub.c: serve one gdb client on 127.0.0.1:port (0: any free port,
 * printed); returns when it detaches or kills the guest.  0 or -1. */
int gdb_serve(struct dbg *d, unsigned port);
/* The same on a client already connected on fd (a socket, or the fuzz
 * target's socketpair); returns when it detaches or kills the guest, or
 * the connection ends.  fd stays open. */
void gdb_serve_fd(struct dbg *d, int fd);

#endif
