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

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "hv.h"
#include "platform.h"
#include "trace.h"
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
	bool quiet;                      /* no handler, device or trace messages on stderr */
	bool verbose;                    /* the handler build's information messages too (VMCS dumps) */
	/* `vmxlab profile`: the exit reason whose handler runs, written around
	 * each handler call (PROF_TAG_NONE, -1, between them); NULL: not kept. */
	volatile sig_atomic_t *prof_tag;
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

/* What the handler build did with an exit, against what the trace shows. */
enum replay_outcome {
	OUT_SAME,          /* the same resume point, injections and handler records */
	OUT_DIVERGENT,     /* handled otherwise: a hypercall it does not implement, another injection ... */
	OUT_UNHANDLED,     /* the handler build could not handle it (HV_ERROR, or a dead guest the trace runs on) */
	OUT_NOT_MODELLED,  /* resumed without the model it needs (TRC_VMXLAB_NOT_MODELLED: no local APIC) */
	REPLAY_OUTCOMES
};

struct replay_reason {
	uint64_t exits;
	uint64_t fid[FID_COUNT];
	uint32_t inferred, defaulted;   /* enum replay_input bits seen */
	char skip_why[96];               /* the first reason an exit was skipped */
	uint64_t native_sum;             /* ns, summed over the exits of the first replay */
	/* Handled against the trace (first replay; enum replay_outcome): */
	uint64_t outcome[REPLAY_OUTCOMES];
	char divergent_why[96];          /* the first divergence's cause */
	char unhandled_why[160];         /* the first unhandled exit's message */
	uint32_t not_modelled_kinds;     /* bit n: a TRC_NOT_MODELLED_* kind n was met */
	uint64_t hypercalls[64];         /* VMCALL divergent: per Xen hypercall number (xen.h __HYPERVISOR_*) */
	uint64_t *samples;               /* native ns per exit, all replays (capped) */
	uint64_t nsamples, capsamples;
	double *repeat_avg;              /* average native ns per replay */
	double *repeat_median;           /* median native ns per replay (NAN: none kept) */
};

/* The exits of one reason with one operand (`vmxlab diff` compares them):
 * an I/O port and direction, an MSR, a control register and access type, an
 * MMIO device range, or the 4 KiB guest-physical page of an EPT violation
 * outside every device.  Read from the vCPU's inputs before the handler
 * runs. */
#define REPLAY_MAX_SUBKEYS 512
struct replay_subkey {
	uint32_t reason;
	uint64_t id;                     /* reason-specific: port | in << 16, MSR, CR | type << 8, ... */
	char label[40];                  /* "port 0x0020 out", "MSR 0x0000001b", "CR0 mov-to", "MMIO hpet" */
	uint64_t exits;                  /* in the first replay */
	uint64_t *samples;               /* native ns per exit, all replays (capped as the reason's) */
	uint64_t nsamples, capsamples;
	double *repeat_median;           /* median native ns per replay (NAN: none kept) */
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
	bool run_digest_known;           /* a format-2 vmxlab trace carries the run's digest */
	uint64_t run_digest;
	uint64_t dm_divergent;           /* requests, idle steps or lines the recorded device model had no answer for */
	uint64_t first_mismatch_exit;    /* the first exit whose handler records differ (1, 2 ... in trace order), or 0 */
	uint64_t first_mismatch_offset;  /* the trace offset of its first record that differs */
	bool digests_agree;              /* every repeat gave the same digest */
	bool exact;                      /* the trace carried vmxlab's input records */
	const char *timer;               /* "rdtscp" ... what timed the handlers */
	double tsc_ns_per_cycle;
	double timer_overhead_ns;
	uint64_t hw_instructions;        /* retired instructions in handlers (0: no counter) */
	bool hw_counter;
	double seconds;                  /* wall time of all replays */
	char ended[600];                 /* why a vcpu's replay stopped early, or "" */
	struct replay_subkey *subkeys;   /* in order of first appearance; REPLAY_MAX_SUBKEYS at most */
	unsigned nsubkeys;
};

/* 0, or -1 with err ("FILE: offset N: ..." for trace errors). */
int replay_run(const struct replay_config *cfg, struct replay_result *res, char *err, size_t errlen);
void replay_result_free(struct replay_result *res);

/*
 * Stepping a trace exit by exit (`vmxlab debug TRACE`).  replay_run's passes
 * are made of the same steps.  One replay (cfg->repeat is not used); *res is
 * filled as replay_run fills it for its first replay, the digest at close.
 *
 *   it = replay_iter_open(&cfg, &res, err, sizeof(err));
 *   while (replay_iter_next(it, &ex, err, sizeof(err)) > 0) {
 *           ... ex.vcpu_state holds the exit's inputs: look, change ...
 *           replay_iter_handle(it, NULL, &h);   (skipped exits have no handler run)
 *   }
 *   replay_iter_close(it, err, sizeof(err));
 *   replay_result_free(&res);
 *
 * An exit that next passes over without replay_iter_handle is not replayed
 * (the handler build and the devices never see it).
 */
struct replay_exit_view {
	uint64_t index;                  /* 1, 2 ... in trace order, skipped exits included */
	uint32_t dom, vcpu;
	uint32_t exit_reason;            /* the exit-reason field */
	uint64_t rip, tsc;
	vtime_t now;                     /* the exit's virtual time */
	struct vmx_vcpu *vcpu_state;     /* the synthetic vCPU with the exit's inputs; NULL when skipped */
	struct platform *plat;           /* the domain's devices; NULL when skipped */
	const char *skipped;             /* not replayed: why; NULL otherwise */
	enum fidelity fid;
	uint32_t inferred, defaulted;    /* enum replay_input bits */
	const struct trc_record *records; /* the trace's handler and input records of the exit */
	unsigned nrecords;
};
struct replay_handled {
	enum hv_verdict verdict;
	struct hv_exit out;
	uint64_t native_ns;
	const struct trc_record *emitted; /* the handler's trace records (the engine keeps 64) */
	unsigned nemitted;
};
struct replay_iter;
/* NULL with err when the trace cannot be opened. */
struct replay_iter *replay_iter_open(const struct replay_config *cfg, struct replay_result *res, char *err,
				     size_t errlen);
/* 1 with the next exit in *ex, 0 at the end of the trace, -1 on a read error (err). */
int replay_iter_next(struct replay_iter *it, struct replay_exit_view *ex, char *err, size_t errlen);
/* Run the handler on the exit next returned; via: NULL, or a vCPU that
 * forwards to ex->vcpu_state (a recorder).  0, or -1 when that exit is
 * skipped or already handled. */
int replay_iter_handle(struct replay_iter *it, struct vmx_vcpu *via, struct replay_handled *h);
/* The devices of a domain (of the first domain when dom has none yet), or NULL before the first exit. */
struct platform *replay_iter_platform(struct replay_iter *it, uint32_t dom);
/* Ends the pass (the device state at the end goes into res->digest) and frees it.  0 or -1 with err. */
int replay_iter_close(struct replay_iter *it, char *err, size_t errlen);

const char *fidelity_name(enum fidelity f);
/* Handler times (ns) in ascending order. */
void replay_sort_ns(uint64_t *v, size_t n);
const char *replay_outcome_name(enum replay_outcome o);
/* Xen's name of hypercall n (xen/include/public/xen.h), or NULL. */
const char *xen_hypercall_name(uint32_t n);
/* "size, instruction length" for a bit set of enum replay_input. */
void replay_inputs_str(uint32_t bits, char *buf, size_t len);

#endif
