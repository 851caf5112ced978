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

/* Records one exit may hold (a rep insw of a sector is hundreds of inputs;
 * a Xen exit a handful): past this the exit is skipped as corrupt. */
#define MAX_EXIT_RECORDS (1u << 20)
#define DEFAULT_TSC_KHZ 2400000u
/* The most virtual time one step of a replay may move the devices on: an
 * hour.  A corrupt time would otherwise run a 60 Hz device timer for ages. */
#define REPLAY_MAX_JUMP_NS (3600ull * 1000000000ull)

/* One exit being collected on a physical CPU. */
struct exitbuf {
	bool open;
	uint32_t dom, vcpu;
	uint32_t raw;            /* exit-reason word */
	uint64_t rip, tsc;
	bool entered;
	uint64_t entry_tsc;
	bool rip64;              /* VMEXIT64: the guest was in long mode */
	struct trc_record *rec;  /* the exit's handler and input records, in order */
	unsigned n, cap;
	bool overflow;
	/* format 2: which device-model records the handler's requests, idle
	 * steps and interrupt lines have used up (dmplay.c) */
	uint8_t *used;
	unsigned ucap;
	unsigned cursor;         /* the first record not looked at yet */
};

/* Memory shared with a device placed hv (vga vram=shared), as the guest
 * left it at each sync of the run (TRC_VMXLAB_SHMEM). */
struct shared_region {
	uint64_t gpa, len;
	uint8_t *mem;
};

struct domctx {
	uint32_t dom;
	struct platform *plat;
	int dm_pic_pending;      /* format 2: the device-model PIC's last answer */
	struct shared_region shared[4];
	unsigned nshared;
	struct domctx *next;
};

/* A device of the recorded machine (TRC_VMXLAB_DEVICE, _DEVICE_OPT,
 * _DEV_DUMP). */
struct rec_dev {
	char name[32];
	char options[256];
	enum vmx_placement placement;
	char *dump;              /* a dm device's state dump at the end */
	size_t dump_len;
};

struct vctx {
	uint32_t dom, vcpu;
	struct vmx_vcpu *v;
	void *hv;
	struct domctx *d;
	bool dead;               /* the handler ended this vcpu's run */
	/* A Xen capture: a HLT the handler build found no wake-up for.  Its
	 * outcome waits for the trace: a later exit of this vcpu (it woke) or
	 * none (it halted for good). */
	bool halted;
	char halted_msg[160];
	unsigned holes;
	struct vctx *next;
};

struct engine {
	const struct replay_config *cfg;
	struct replay_result *res;
	struct replay_dev devs[REPLAY_MAX_DEVS];
	unsigned ndevs;
	/* format 2 (TRC_VMXLAB_FORMAT): the machine as recorded, devices placed
	 * dm answered from the trace (dmplay.c) */
	uint32_t format;
	struct rec_dev rdevs[REPLAY_MAX_DEVS];
	unsigned nrdevs;
	struct domctx *building;   /* the domain whose devices are being created */
	struct trc_record *async;  /* device-model records between exits, not applied yet */
	unsigned nasync, capasync;
	bool have_run_digest;
	uint64_t run_digest;
	uint64_t tsc_khz;
	struct domctx *doms;
	struct vctx *vcpus;
	struct exitbuf *pcpu[4096];
	struct hv_host host;
	struct vm_core core;     /* one exit's life: timing, digest */
	/* the exit being handled */
	struct vctx *cur;
	vtime_t now;
	vtime_t last_now;        /* the last exit's time (REPLAY_MAX_JUMP_NS) */
	uint64_t tsc_now;        /* what host->tsc returns (Xen traces) */
	bool exact_now;          /* a vmxlab trace: host->tsc follows now and the charge */
	struct exitbuf *curx;    /* the exit being handled */
	struct trc_record *emitted;
	unsigned nemitted, capemitted;
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

/* dmplay.c: the device-model side of a format-2 trace */
bool dmplay_is_record(uint32_t ev);
/* A device-model record between exits: kept until the next exit. */
void dmplay_async(struct engine *e, const struct trc_record *r);
/* Apply what came between exits, in order, to domain d. */
void dmplay_drain(struct engine *e, struct domctx *d);
/* The handler's host services, answered from the exit's records. */
int dmplay_ioreq(struct engine *e, struct vmx_dev *dev, struct vmx_ioreq *req);
vtime_t dmplay_idle(struct engine *e);
void dmplay_irq_out(struct engine *e, unsigned line, bool level);
/* After the handler: what it did not use up. */
void dmplay_exit_done(struct engine *e);
void *dmplay_map_shared(struct engine *e, uint64_t gpa, uint64_t len);
/* The recorded dump of a device placed dm (vm_core_digest_devices). */
int dmplay_dump(void *ctx, const struct vmx_dev *d, FILE *out);

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
