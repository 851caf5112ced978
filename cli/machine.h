/*
 * machine.h - one simulated machine for `vmxlab run` and `vmxlab debug`: the
 * simulator's CPU, the devices (in this process or in vmxlab-dm), a loaded
 * handler build, the cost model, the trace and the counters a report needs.
 * machine.c implements the handler build's host (hv.h) on top of these.
 */
#ifndef VMXLAB_CLI_MACHINE_H
#define VMXLAB_CLI_MACHINE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>

#include <vmxlab/hv.h>
#include <vmxlab/hypercall.h>
#include <vmxlab/platform.h>
#include <vmxlab/sim.h>

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

struct machine_dev_config {
	char name[32];
	char options[256];
	enum vmx_placement placement;
};

struct machine_config {
	struct sim_config sim;
	char image[4096];
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
	vtime_t max_vtime;             /* 0 = no limit */
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
	END_ERROR,           /* handler, device model or simulator failure */
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
/* MMIO accesses to device `dev`'s windows (NULL past the last device). */
const struct port_stats *machine_mmio_stats(const struct machine *m, unsigned dev, const char **name);
struct sim_machine *machine_sim(struct machine *m);
/* Write a device's state dump; -1 if there is no such device. */
int machine_dump_device(struct machine *m, const char *name, FILE *out);
/* Write the VGA model's current screen as a PNG file.  The model must be
 * instantiated here (placement hv).  0, or -1 with the reason in err. */
int machine_screenshot(struct machine *m, const char *path, char *err, size_t errlen);
/* Ask a running machine to stop (signal-safe). */
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
 *                            it did (the recording vCPU of inputs.h)
 *   machine_request_stop     from a signal handler: the guest stops at the
 *                            next instruction (MACHINE_STOPPED), the run goes on
 */
enum machine_stop {
	MACHINE_AT_EXIT,     /* at a VM exit; its handler has not run yet */
	MACHINE_STEPPED,     /* one guest instruction retired; stopped before the next */
	MACHINE_STOPPED,     /* machine_request_stop: stopped between two guest instructions */
	MACHINE_ENDED,       /* the run is over (machine_debug_result) */
};

struct input_access; /* inputs.h */
#define MACHINE_LOG_RECORDS 64
#define MACHINE_LOG_IOREQS 16
/* What one handler call did. */
struct machine_exit_log {
	enum hv_verdict verdict;
	char message[1200];                /* verdict other than HV_RESUME: why */
	vtime_t modelled_ns;               /* virtual time the exit took (round trip, handler, devices) */
	/* its VMCS, register and memory accesses in order (inputs.h), valid
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

#endif
