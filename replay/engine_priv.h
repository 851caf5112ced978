/*
 * engine_priv.h - what the replay engine's files share: the exit being
 * collected from the trace, the domains and vCPUs replayed, the engine's
 * state (engine.c), and rebuilding an exit's inputs (inputs.c).
 */
#ifndef VMXLAB_REPLAY_ENGINE_PRIV_H
#define VMXLAB_REPLAY_ENGINE_PRIV_H

#include <vmxlab/replay.h>
#include <vmxlab/trace.h>
#include <vmxlab/vcpu.h>

#include "../vm/vm.h"

#define MAX_EXIT_RECORDS 512
#define MAX_EMITTED 64
#define DEFAULT_TSC_KHZ 2400000u

/* One exit being collected on a physical CPU. */
struct exitbuf {
	bool open;
	uint32_t dom, vcpu;
	uint32_t raw;            /* exit-reason word */
	uint64_t rip, tsc;
	bool entered;
	uint64_t entry_tsc;
	bool rip64;              /* VMEXIT64: the guest was in long mode */
	struct trc_record rec[MAX_EXIT_RECORDS];
	unsigned n;
	bool overflow;
};

struct domctx {
	uint32_t dom;
	struct platform *plat;
	struct domctx *next;
};

struct vctx {
	uint32_t dom, vcpu;
	struct vmx_vcpu *v;
	void *hv;
	struct domctx *d;
	bool dead;               /* the handler ended this vcpu's run */
	unsigned holes;
	struct vctx *next;
};

struct engine {
	const struct replay_config *cfg;
	struct replay_result *res;
	struct replay_dev devs[REPLAY_MAX_DEVS];
	unsigned ndevs;
	uint64_t tsc_khz;
	struct domctx *doms;
	struct vctx *vcpus;
	struct exitbuf *pcpu[4096];
	struct hv_host host;
	struct vm_core core;     /* one exit's life: timing, digest */
	/* the exit being handled */
	struct vctx *cur;
	vtime_t now;
	uint64_t tsc_now;        /* what host->tsc returns */
	struct trc_record emitted[MAX_EMITTED];
	unsigned nemitted;
	vtime_t end_ns;
	bool have_end;
	unsigned pass;           /* 0 for the first replay */
	unsigned errors_logged;
	/* sub-keys (replay.h): open-addressing table of (reason, id) -> index + 1 */
	uint16_t subslot[4 * REPLAY_MAX_SUBKEYS];
	/* the pass being read (pass_begin .. pass_end) */
	struct trc_reader *rd;
	int status;
	bool eof;
	bool held;                  /* held_item closed its pcpu's open exit: open its own next */
	struct trc_item held_item;
	unsigned flush;             /* at the end: the next pcpu whose open exit is returned */
	char err[512];
};

static inline vtime_t tsc_to_ns(const struct engine *e, uint64_t tsc)
{
	return (vtime_t)((unsigned __int128)tsc * 1000000u / e->tsc_khz);
}

static inline uint64_t ns_to_tsc(const struct engine *e, vtime_t ns)
{
	return (uint64_t)((unsigned __int128)ns * e->tsc_khz / 1000000u);
}

static inline uint64_t u64(const uint32_t *w)
{
	return w[0] | (uint64_t)w[1] << 32;
}

/* inputs.c */
bool replay_is_input_record(uint32_t ev);
/* The first record of the exit with event ev, or NULL. */
const struct trc_record *exit_find(const struct exitbuf *x, uint32_t ev);
/* A vmxlab trace: every value the handler read during the run, set;
 * *charge0 the recorded opening charge. */
void replay_apply_recorded(struct engine *e, struct vctx *c, const struct exitbuf *x, vtime_t *charge0);
/* A Xen trace: inputs rebuilt from the records around the VMEXIT.  The
 * fidelity, or FID_SKIPPED with *why. */
enum fidelity replay_infer_inputs(struct engine *e, struct vctx *c, const struct exitbuf *x, uint32_t reason,
				  uint32_t *inferred, uint32_t *defaulted, const char **why);

#endif
