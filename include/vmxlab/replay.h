/*
 * replay.h - the replay engine: a xentrace log (a real Xen capture or one
 * `vmxlab run` recorded) drives a handler build through synthetic vCPUs and
 * in-process device models, exit by exit, with native handler timing.
 *
 * Implemented by replay/engine.c.  Used by `vmxlab replay`, `vmxlab diff`
 * and `vmxlab debug TRACE`.
 *
 * Per exit the engine rebuilds the inputs the handler reads:
 *   - from vmxlab's own input records (TRC_VMXLAB_EXIT_TIME..MEM_READ) when
 *     the trace has them: exactly what the handler read during the run;
 *   - otherwise from the VMEXIT record and the Xen handler records around it
 *     (port, data, MSR, CR, CPUID leaf, vector, GPA ...), inferring or
 *     defaulting the rest; the fidelity report says which, per reason.
 */
#ifndef VMXLAB_REPLAY_H
#define VMXLAB_REPLAY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "hv.h"
#include "platform.h"
#include "vmx.h"

#define REPLAY_MAX_DEVS PLATFORM_MAX_DEVS

struct replay_dev {
	char name[32];
	char options[256];
};

struct replay_config {
	const char *trace_path;
	const struct vmxlab_hv *hv;      /* a loaded handler build */
	const char *hv_options;          /* "key=value" lines or NULL */
	int domain, vcpu;                /* -1: every HVM domain / vcpu */
	unsigned repeat;                 /* replays from clean state, >= 1 */
	bool tolerant;                   /* skip corrupt trace data */
	/* Devices; ndevs 0: the trace's TRC_VMXLAB_DEVICE records, or the
	 * default pic, pit, uart. */
	struct replay_dev devs[REPLAY_MAX_DEVS];
	unsigned ndevs;
	uint64_t tsc_khz;                /* 0: the trace's RUN_INFO, else 2400000 */
	uint64_t max_samples;            /* per reason kept for the JSON; 0: 100000 */
	FILE *console;                   /* guest console output from hypercalls, or NULL */
};

enum fidelity {
	FID_RECORDED = 0,  /* every input the handler read came from the trace */
	FID_INFERRED,      /* some inputs derived from other records */
	FID_DEFAULTED,     /* some inputs had no source: defaults were used */
	FID_SKIPPED,       /* not replayed */
	FID_COUNT
};

/* Inputs the engine may infer or default, as a bit set per reason. */
enum replay_input {
	IN_SIZE = 1 << 0,          /* I/O access size */
	IN_INSN_LEN = 1 << 1,      /* instruction length */
	IN_STRING = 1 << 2,        /* string I/O count and buffer */
	IN_MMIO_INSN = 1 << 3,     /* the MMIO instruction at RIP */
	IN_GPR = 1 << 4,           /* the register of a MOV CR / the source of a value */
	IN_QUAL = 1 << 5,          /* exit qualification bits not in the records */
	IN_DATA = 1 << 6,          /* a value written (no handler record) */
	IN_GUEST_STATE = 1 << 7,   /* RFLAGS, CR0/CR4, segment state */
};

struct replay_reason {
	uint64_t exits;
	uint64_t fid[FID_COUNT];
	uint32_t inferred, defaulted;   /* enum replay_input bits seen */
	char skip_why[96];               /* the first reason an exit was skipped */
	uint64_t native_sum;             /* ns, summed over the exits of the first replay */
	uint64_t trace_cycles_sum;       /* VMENTRY - VMEXIT recorded in the trace */
	uint64_t trace_timed;            /* exits that had both */
	uint64_t *samples;               /* native ns per exit, all replays (capped) */
	uint64_t nsamples, capsamples;
	double *repeat_avg;              /* average native ns per replay */
};

struct replay_port_mismatch {
	uint16_t port;
	char dev[32];
	uint64_t reads, mismatches;
};

struct replay_result {
	uint64_t exits;                  /* per replay */
	uint64_t records;
	uint64_t vcpus;
	struct replay_reason reasons[VMX_EXIT_REASON_COUNT];
	struct replay_port_mismatch ports[64];
	unsigned nports;
	uint64_t read_checks, read_mismatches;   /* device reads compared with the trace */
	uint64_t record_checks, record_mismatches; /* handler records compared (vmxlab traces) */
	uint64_t digest;                 /* of the first replay; the same as the run's for vmxlab traces */
	bool digests_agree;              /* every repeat gave the same digest */
	bool exact;                      /* the trace carried vmxlab's input records */
	const char *timer;               /* "rdtscp" ... what timed the handlers */
	double tsc_ns_per_cycle;
	double timer_overhead_ns;
	uint64_t hw_instructions;        /* retired instructions in handlers (0: no counter) */
	bool hw_counter;
	double seconds;                  /* wall time of all replays */
	char ended[600];                 /* why a vcpu's replay stopped early, or "" */
};

/* 0, or -1 with err ("FILE: offset N: ..." for trace errors). */
int replay_run(const struct replay_config *cfg, struct replay_result *res, char *err, size_t errlen);
void replay_result_free(struct replay_result *res);

const char *fidelity_name(enum fidelity f);
/* "size, instruction length" for a bit set of enum replay_input. */
void replay_inputs_str(uint32_t bits, char *buf, size_t len);

#endif
