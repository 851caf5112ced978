/*
 * vm.h - the virtual machine: the one header of vm/, used by the commands
 * (cli/), the debugger (debug/), `vmxlab profile` and the replay engine.
 *
 *   the configuration    struct machine_config, filled from a scenario file
 *                        (scenario.c) and its expectations
 *   the machine          the simulator's CPU, the devices (here or in
 *                        vmxlab-dm), a loaded handler build, the cost model,
 *                        the trace (machine.c, host.c, record.c, run.c)
 *   one exit's life      struct vm_core and vm_exit_handle (exit.c): the same
 *                        for the live machine and for replay
 *   the report           what a run prints and writes (report.c)
 *   handler builds       loading one (hvload.c)
 *   the recording vCPU   what the handler read during one exit (inputs.c)
 *
 * docs/ARCHITECTURE.md draws where this part sits.
 */
#ifndef VMXLAB_VM_H
#define VMXLAB_VM_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <vmxlab/hv.h>
#include <vmxlab/hypercall.h>
#include <vmxlab/platform.h>
#include <vmxlab/replay.h>
#include <vmxlab/sim.h>
#include <vmxlab/vcpu.h>

/* ------------------------------------------------------------ handler builds (hvload.c) */

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

/* NAME found relative to the vmxlab program (paths.c): next to it or one
 * directory up in the build tree (build/, build/asan/), in ../lib/vmxlab/
 * when installed.  The handler build, vmxlab-dm, the guest workloads. */
void vm_exe_path(char *out, size_t len, const char *name);
/* The same for the shipped data, e.g. "scenarios/pic-hv.yaml": in
 * ../share/vmxlab/ when installed, the source tree above build/ otherwise. */
void vm_data_path(char *out, size_t len, const char *name);

/* ------------------------------------------------------------ the recording vCPU (inputs.c) */
struct input_rec;

typedef void (*input_put_fn)(void *ctx, uint32_t event, const uint32_t *words, unsigned n);

/* Wraps `live`; NULL when out of memory. */
struct input_rec *input_rec_new(struct vmx_vcpu *live);
void input_rec_free(struct input_rec *r);
/* The vCPU to hand to the handler build. */
struct vmx_vcpu *input_rec_vcpu(struct input_rec *r);
/* Forget the previous exit's reads. */
void input_rec_begin(struct input_rec *r);
/* The reads of this exit, as TRC_VMXLAB_VMCS_READ / REG_READ / MEM_READ
 * records, each value once (the first read of it). */
void input_rec_emit(struct input_rec *r, input_put_fn put, void *ctx);

/*
 * For `vmxlab debug`: with the log on, every access of the exit is also kept
 * in order - reads and writes of VMCS fields, registers and guest memory,
 * failed ones too - with the value before each write (read from the wrapped
 * vCPU directly, so the reads for the trace are not disturbed).
 * input_rec_begin empties the log.
 */
enum input_access_kind {
	INPUT_ACC_VMREAD, INPUT_ACC_VMWRITE, INPUT_ACC_REG_READ, INPUT_ACC_REG_WRITE,
	INPUT_ACC_MEM_READ, INPUT_ACC_MEM_WRITE,
};
#define INPUT_ACC_BYTES 16
struct input_access {
	uint8_t kind;            /* enum input_access_kind */
	int rc;                  /* VMREAD/VMWRITE error, or -1 for a failed memory access */
	uint32_t id;             /* VMCS encoding or enum vmx_gpr */
	uint64_t gpa;            /* memory */
	uint32_t len;            /* memory: bytes accessed */
	uint64_t old, val;       /* the value before a write; the value read or written */
	uint8_t bytes[INPUT_ACC_BYTES]; /* memory: the first bytes read or written */
};
#define INPUT_LOG_MAX 512
/* -1 when out of memory. */
int input_rec_set_log(struct input_rec *r, bool on);
/* The accesses of the exit so far; *truncated if there were more than INPUT_LOG_MAX. */
const struct input_access *input_rec_log(const struct input_rec *r, unsigned *n, bool *truncated);
/* Wrap another vCPU from now on (the replay debugger: one per traced vCPU). */
void input_rec_retarget(struct input_rec *r, struct vmx_vcpu *live);

/* ------------------------------------------------------------ the machine */

/* Modelled costs in virtual nanoseconds (docs/scenarios.md has the defaults
 * and where they come from). */
struct cost_model {
	uint64_t exit_roundtrip_ns;   /* VM exit + VM entry, hardware only */
	uint64_t handler_ns;          /* a handler in the hypervisor, default */
	uint64_t reason_ns[VMX_EXIT_REASON_COUNT]; /* per reason; 0 = handler_ns */
	uint64_t mmio_emulation_ns;   /* fetch + decode + emulate an MMIO instruction */
	uint64_t dm_roundtrip_ns;     /* one request to the device-model process and back */
};
void cost_model_defaults(struct cost_model *c);
/* The modelled cost an exit opens with: the round trip plus its handler's. */
vtime_t vm_exit_cost(const struct cost_model *c, uint32_t reason);

/* ------------------------------------------------------------ one exit's life (exit.c)
 *
 * The same for every machine: the live one (run, debug) and the replayed
 * one (replay, diff, profile).  vm_exit_handle:
 *   1. brings the devices to the exit's virtual time, so that a device read
 *      during the access sees the clock of the exit (the PIT's count);
 *   2. opens the charge with the exit's modelled cost; a device the vCPU
 *      waits for adds to it (vm_core_charge) while it is open;
 *   3. runs the handler build, timed natively (rdtscp, serialized);
 *   4. closes the charge and puts the handler's decision - verdict, resume
 *      RIP, VM-entry interruption information - into the digest.
 * What a machine does around it - recording the exit's inputs into a trace,
 * or setting them from one - is the machine's own.
 */
struct vm_core {
	const struct vmxlab_hv *hv;
	volatile sig_atomic_t *prof_tag; /* `vmxlab profile`: the reason whose handler runs, -1 between */
	/* Called once the charge is open, before the handler runs. */
	void (*begin)(void *ctx, uint32_t reason);
	void *ctx;
	uint64_t digest;                 /* of handler decisions, injections, device states */
	bool in_exit;
	vtime_t charge;                  /* modelled cost of the exit being handled */
	int perf_fd;                     /* retired user instructions, or -1 */
	uint64_t hw_instructions;        /* in handlers, with perf_fd */
};

struct vm_exit {
	/* in */
	void *hv_state;                  /* the handler build's instance for this vCPU */
	struct vmx_vcpu *vcpu;           /* the exit's vCPU (the simulator's, or synthetic) */
	struct vmx_vcpu *via;            /* what the handler sees: a recorder of vcpu, or NULL */
	struct platform *plat;
	uint32_t raw;                    /* the exit-reason field */
	uint64_t rip;                    /* the guest's RIP at the exit */
	vtime_t t0;                      /* the exit's virtual time */
	vtime_t charge0;                 /* opening charge: vm_exit_cost, or the recorded one */
	/* out */
	uint32_t reason;                 /* the basic exit reason */
	enum hv_verdict verdict;
	vtime_t charge;                  /* the charge at close: charge0 and device waits */
	uint64_t native_ns;              /* the handler's time on this host */
};

#define VM_DIGEST_SEED 0xcbf29ce484222325ull
void vm_core_init(struct vm_core *c, const struct vmxlab_hv *hv);
/* out: what the handler says of a verdict other than HV_RESUME. */
void vm_exit_handle(struct vm_core *c, struct vm_exit *x, struct hv_exit *out);
/* A device's wait, charged to the vCPU only during an exit's access. */
void vm_core_charge(struct vm_core *c, vtime_t ns);
/* A record the handler emitted: injections go into the digest. */
void vm_core_note_record(struct vm_core *c, uint32_t ev, const uint32_t *w, unsigned n);
/* Each device's state dump into the digest, in platform order; a device
 * placed in vmxlab-dm is dumped by `remote` (NULL: by its ops here). */
void vm_core_digest_devices(struct vm_core *c, struct platform *p,
			    int (*remote)(void *ctx, const struct vmx_dev *d, FILE *out), void *ctx);

/* The native timer of vm_exit_handle: the host TSC's period in ns and the
 * cost of an empty begin/end pair, calibrated once per process. */
struct vm_timer_info {
	const char *name;
	double ns_per_cycle;
	double overhead_ns;
};
const struct vm_timer_info *vm_timer(void);
/* CLOCK_MONOTONIC in ns: wall time, never guest time. */
uint64_t vm_mono_ns(void);
/* Retired user-space instructions of this thread, or -1 where the machine
 * has no such counter. */
int vm_open_instruction_counter(void);

struct machine_dev_config {
	char name[32];
	char options[256];
	enum vmx_placement placement;
};

/* A Linux guest (sim_load_linux): kernel and initrd files, the command line
 * and the seed of the setup_data RNG seed. */
struct machine_linux {
	char kernel[4096];             /* "" = not a Linux guest */
	char initrd[4096];             /* "" = none */
	char cmdline[SIM_LINUX_CMDLINE_MAX + 1];
	uint64_t rng_seed;
};

struct machine_config {
	struct sim_config sim;
	char image[4096];
	struct machine_linux linux_boot; /* instead of image when kernel[0] */
	uint64_t load_addr;            /* flat images */
	char args[VMXLAB_BOOT_ARGS_MAX]; /* boot arguments (hypercall.h) */
	char hv_path[4096];            /* "" = build/libvmxlab-hv.so next to vmxlab */
	char hv_options[1024];
	struct machine_dev_config devs[PLATFORM_MAX_DEVS];
	unsigned ndevs;
	struct cost_model cost;
	uint64_t tsc_khz;              /* guest TSC and trace cycles per virtual ms */
	char trace_path[4096];         /* "" = no trace */
	bool native_costs;             /* add measured handler costs to the trace */
	uint64_t max_insns;            /* 0 = no limit */
	uint64_t max_exits;            /* 0 = no limit */
	vtime_t max_vtime;             /* 0 = no limit */
	uint64_t max_wall_ns;          /* host time for machine_run; 0 = no limit */
	FILE *console;                 /* guest console output; NULL = discard */
	/* PNG screenshots of the VGA screen (placement hv): at a virtual time,
	 * or at the end of the run (at == VTIME_NEVER; cmd_run takes those). */
#define MACHINE_MAX_SCREENSHOTS 8
	struct machine_screenshot { vtime_t at; char path[1024]; } screenshots[MACHINE_MAX_SCREENSHOTS];
	unsigned nscreenshots;
	/* `display: sdl`: show the VGA screen in an SDL2 window while running
	 * (the vga model placed hv); false: headless. */
	bool display_sdl;
	char display_title[128];
	/* `vmxlab profile`: the exit reason whose handler runs, written around
	 * each handler call (-1 between them); NULL: not kept. */
	volatile sig_atomic_t *prof_tag;
};
void machine_config_defaults(struct machine_config *c);
/* Whether the machine can take screenshots (a vga model placed hv): 0, or
 * -1 with why. */
int machine_config_screenshots(const struct machine_config *mc, char *why, size_t len);

/* Per exit reason, what the report shows. */
#define MACHINE_SAMPLES 4096
struct reason_stats {
	uint64_t count;
	uint64_t modelled_ns;          /* sum */
	uint64_t native_ns;            /* sum of measured handler time */
	uint32_t nsamples;             /* reservoir of per-exit costs, for percentiles */
	uint64_t modelled[MACHINE_SAMPLES];
	uint64_t native[MACHINE_SAMPLES];
};

struct port_stats {
	uint64_t reads, writes;
};

enum machine_end {
	END_GUEST_EXIT,      /* the guest asked (status in result) */
	END_LIMIT,           /* instruction or virtual-time limit */
	END_INTERRUPTED,     /* SIGINT/SIGTERM */
	END_GUEST_DEAD,      /* triple fault, halted forever */
	END_ERROR,           /* handler, device model or simulator failure, wall-time limit */
};

struct machine_result {
	enum machine_end end;
	int status;                    /* END_GUEST_EXIT */
	char message[1200];            /* why it ended, for the user */
	uint64_t guest_insns;
	vtime_t vtime;
	uint64_t exits;
	vtime_t idle_ns;               /* virtual time the vCPU spent halted */
	uint64_t digest;               /* of handler decisions, events, device states */
	bool trace_failed;             /* the trace could not be written whole (the run is still reported) */
};

struct machine;

struct machine *machine_create(const struct machine_config *cfg, char *err, size_t errlen);
/* Run to the end; the result says how it ended.  Returns 0 when the run
 * ended in a way the scenario allows (guest exit or limit), -1 otherwise. */
int machine_run(struct machine *m, struct machine_result *r);
void machine_destroy(struct machine *m);

/* For reports and the debugger. */
const struct reason_stats *machine_reason_stats(const struct machine *m, unsigned reason);
const struct port_stats *machine_port_stats(const struct machine *m, uint16_t port);
/* The device owning a port, or NULL. */
const char *machine_port_device(const struct machine *m, uint16_t port);
/* The device whose window (by its reset place) holds addr, or NULL. */
const struct vmx_dev *machine_owner(const struct machine *m, bool mmio, uint64_t addr);
/* MMIO accesses to device `dev`'s windows (NULL past the last device). */
const struct port_stats *machine_mmio_stats(const struct machine *m, unsigned dev, const char **name);
struct sim_machine *machine_sim(struct machine *m);
/* Write a device's state dump; -1 if there is no such device. */
int machine_dump_device(struct machine *m, const char *name, FILE *out);
/* Write the VGA model's current screen as a PNG file.  The model must be
 * instantiated here (placement hv).  0, or -1 with the reason in err. */
int machine_screenshot(struct machine *m, const char *path, char *err, size_t errlen);
/* Ask a running machine to stop (signal-safe): machine_run returns within
 * a guest instruction, or at once from a wait for vmxlab-dm's answer. */
void machine_interrupt(struct machine *m);

/*
 * Debugging (`vmxlab debug`): the run loop of machine_run in steps.  A run
 * driven by these makes the same handler calls as machine_run, with the
 * same trace and digest; machine_run itself does not use them.
 *
 *   machine_debug_begin      once, before the first resume
 *   machine_resume           run the guest to its next VM exit (or one
 *                            instruction): stops before the exit's handler
 *   machine_handle_exit      run the handler of that exit; the log says what
 *                            it did (the recording vCPU above)
 *   machine_request_stop     from a signal handler: the guest stops at the
 *                            next instruction (MACHINE_STOPPED), the run goes on
 */
enum machine_stop {
	MACHINE_AT_EXIT,     /* at a VM exit; its handler has not run yet */
	MACHINE_STEPPED,     /* one guest instruction retired; stopped before the next */
	MACHINE_STOPPED,     /* machine_request_stop: stopped between two guest instructions */
	MACHINE_ENDED,       /* the run is over (machine_debug_result) */
};

#define MACHINE_LOG_RECORDS 64
#define MACHINE_LOG_IOREQS 16
/* What one handler call did. */
struct machine_exit_log {
	enum hv_verdict verdict;
	char message[1200];                /* verdict other than HV_RESUME: why */
	vtime_t modelled_ns;               /* virtual time the exit took (round trip, handler, devices) */
	/* its VMCS, register and memory accesses in order (vm.h), valid
	 * until the next machine_handle_exit */
	const struct input_access *acc;
	unsigned nacc;
	bool acc_truncated;
	/* the trace records it emitted (device accesses, injections ...) */
	struct { uint32_t event; unsigned n; uint32_t w[7]; } rec[MACHINE_LOG_RECORDS];
	unsigned nrec;
	/* its requests to the device-model process */
	struct { char dev[32]; struct vmx_ioreq req; int rc; } io[MACHINE_LOG_IOREQS];
	unsigned nio;
};

/* 0, or -1 when out of memory. */
int machine_debug_begin(struct machine *m);
enum machine_stop machine_resume(struct machine *m, bool step);
/* 1 when the guest can run on, 0 when the run ended at this exit, -1 when
 * no exit is pending. */
int machine_handle_exit(struct machine *m, struct machine_exit_log *log);
void machine_request_stop(struct machine *m);
bool machine_exit_pending(const struct machine *m);
/* The result once machine_resume or machine_handle_exit ended the run, else NULL. */
const struct machine_result *machine_debug_result(const struct machine *m);
/* The live vCPU (the simulator's), the handler build's name, the devices. */
struct vmx_vcpu *machine_vcpu(struct machine *m);
const char *machine_hv_name(const struct machine *m);
unsigned machine_ndevs(const struct machine *m);
const struct vmx_dev *machine_device(const struct machine *m, unsigned i);

/* ------------------------------------------------------------ scenarios (scenario.c) */

#define EXPECT_MAX 32

struct range_u64 {
	bool set;
	uint64_t min, max;   /* inclusive; max UINT64_MAX when only min is given */
};

struct expect {
	bool has_status;
	int status;
	char output[EXPECT_MAX][256];     /* lines the console must contain */
	unsigned noutput;
	struct { int reason; struct range_u64 r; } exits[EXPECT_MAX];
	unsigned nexits;
	struct { int reason; struct range_u64 r; } share[EXPECT_MAX]; /* percent of all exits */
	unsigned nshare;
	struct range_u64 total_exits;
	struct range_u64 guest_instructions;
	struct range_u64 predicted_ns;
	struct range_u64 virtual_ns;
};

struct scenario {
	char path[4096];
	char name[128];
	char description[512];
	struct machine_config mc;
	char workload[64];                /* a guest of guests/, or "" with mc.image */
	/* guest.linux: the kernel's command line is composed by
	 * scenario_resolve_workload from these (docs/scenarios.md). */
	bool linux_guest;
	bool linux_cmdline_given;         /* guest.linux.cmdline replaces the default */
	char linux_workload[64];          /* workload=NAME for /init */
	char linux_args[1024];            /* appended to the command line */
	char cpu_model[64];               /* mc.sim.cpu_model points here */
	struct expect expect;
	struct { unsigned line, col; } dev_at[PLATFORM_MAX_DEVS];  /* mc.devs[i]'s key */
};

/* The limits of a scenario without `limits:` (docs/scenarios.md): a handler
 * build or guest that never ends stops by itself, and says why. */
#define SCENARIO_DEFAULT_VIRTUAL_TIME (60 * 1000000000ull)
#define SCENARIO_DEFAULT_WALL_TIME    (600 * 1000000000ull)

/* 0, or -1 with err as "FILE:LINE:COLUMN: what is wrong".  A bare name
 * that is no file in the working directory ("pic-hv", "pic-hv.yaml") is
 * looked up among the shipped scenarios (vm_data_path); s->path is then the
 * file found. */
int scenario_load(const char *path, struct scenario *s, char *err, size_t errlen);
/* An error of the machine built from the scenario, as "FILE:LINE:COLUMN:
 * err" when err is about one device ("device NAME: ..." - its options are
 * checked by the model when it starts), else "FILE: err". */
void scenario_locate_error(const struct scenario *s, const char *err, char *out, size_t len);
/* A scenario names a workload of guests/: its image found by vm_exe_path
 * (build/guests/NAME.elf, or PREFIX/lib/vmxlab/guests/NAME.elf when
 * installed) becomes mc.image.  A Linux guest gets the kernel and initramfs
 * `make` built where none is given (linux/vmlinux, linux/initramfs.cpio
 * found the same way) and its command line. */
/* 0, or -1 with err saying which file is missing and what builds it. */
int scenario_resolve_workload(struct scenario *s, char *err, size_t errlen);
/* A replay of the scenario's machine: its devices and handler options into
 * cfg (which then points into s: s must outlive it). */
void scenario_to_replay(const struct scenario *s, struct replay_config *cfg);
/* Whether a command-line path names a scenario (.yaml, .yml, or the bare
 * name of a shipped one) rather than a trace. */
bool scenario_path_is_scenario(const char *path);

/* Parsers shared with the command line and the debugger: "0x1f0" or
 * "496" (a whole unsigned number; false on junk or overflow), "64M",
 * "10ms", "1e9". */
bool parse_u64(const char *s, uint64_t *out);
bool parse_size(const char *s, uint64_t *out);
bool parse_duration_ns(const char *s, uint64_t *out);
bool parse_count(const char *s, uint64_t *out);

/* ------------------------------------------------------------ the report (report.c) */

struct reason_line {
	uint64_t count;
	uint64_t modelled_ns, native_ns;         /* sums */
	uint64_t m_p5, m_p50, m_p95;             /* modelled, ns */
	uint64_t n_p5, n_p50, n_p95;             /* native, ns */
};

/* Everything a report needs, taken from the machine before it goes away. */
struct run_summary {
	char name[128];
	struct machine_result res;
	double insns_per_ns;
	uint64_t tsc_khz;
	uint64_t exits_modelled_ns;              /* sum over reasons */
	struct reason_line reasons[VMX_EXIT_REASON_COUNT];
	struct { uint16_t port; uint64_t reads, writes; char dev[32]; } ports[16];
	unsigned nports;
	struct { char name[32]; uint64_t reads, writes; } mmio[PLATFORM_MAX_DEVS];
	unsigned nmmio;
	char *console;                           /* the guest's output (owned) */
};

void run_summary_take(struct run_summary *s, const struct scenario *sc, struct machine *m,
		      const struct machine_result *r, const char *console, size_t console_len);
void run_summary_free(struct run_summary *s);
/* Run a scenario to its end (its console echoed to stdout when echo) and
 * take its summary.  2 on input errors (message on stderr), 1 when the run
 * ended badly (message on stderr), else 0. */
int scenario_run(struct scenario *sc, bool echo, struct run_summary *sum);

void report_print(FILE *out, const struct scenario *sc, const struct run_summary *s);
/* 0, or -1 with err; path "-" is standard output. */
int report_json(const char *path, const struct scenario *sc, const struct run_summary *s, char *err, size_t errlen);
/* Print each failed expectation; returns how many failed. */
unsigned report_expectations(FILE *out, const struct expect *e, const struct run_summary *s);
void report_compare(FILE *out, const struct run_summary *a, const struct run_summary *b);

#endif
