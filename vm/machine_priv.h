/*
 * machine_priv.h - the live machine's state, shared by the files of vm/
 * that build it (machine.c), serve its handler build (host.c), record its
 * trace (record.c), run it (run.c) and show its screen (screen.c).
 * Nothing outside vm/ includes this.
 */
#ifndef VMXLAB_VM_MACHINE_PRIV_H
#define VMXLAB_VM_MACHINE_PRIV_H

#include <vmxlab/ioreq.h>
#include <vmxlab/trace.h>

#include "vm.h"

/* The host vector of the external interrupt that kicks a running guest out
 * when one of its devices raised an interrupt (Xen's LOCAL_TIMER is 0xf9). */
#define KICK_VECTOR 0xf9
#define TRACE_DOMAIN 1
#define TRACE_VCPU 0

struct machine_dbg;

/* The end of the guest's console output, for the message of a guest that died. */
#define CONSOLE_TAIL 4096

struct machine {
	struct machine_config cfg;
	char con_tail[CONSOLE_TAIL];    /* a ring: the last CONSOLE_TAIL bytes */
	uint64_t con_total;             /* bytes the guest has written */
	struct sim_machine *sim;
	struct vmx_vcpu *vcpu;
	struct platform *plat;
	struct dm_client *dm;
	unsigned dm_index[PLATFORM_MAX_DEVS];
	bool pic_in_dm;
	int dm_pic_pending;             /* published by the last answer */
	struct hv_build hvb;
	void *hv;
	struct hv_host host;
	struct vm_core core;            /* one exit's life (exit.c): charge, digest, timing */
	struct trc_writer *trace;
	bool trace_failed;              /* a write or the close failed: the run's status says so */
	/* With a trace: the handler sees a recording vCPU, and its records of
	 * one exit are held back until the exit's inputs can be put after its
	 * VMEXIT (trace.h, TRC_VMXLAB_EXIT_TIME..MEM_READ). */
	struct input_rec *inputs;
	struct held { uint32_t ev; bool has_tsc; uint64_t tsc; unsigned n; uint32_t w[TRC_REC_MAX_EXTRA]; } *held;
	unsigned nheld, capheld;
	/* The device-model side of the exit (answers, events, idle steps,
	 * shared memory), written after its inputs in the order they came. */
	struct held *dmheld;
	unsigned ndmheld, capdmheld;
	/* What memory shared with a device held at the last sync (record.c). */
	uint8_t *shadow[4];
	int dev_timer, dm_timer;
	vtime_t idle_ns;
	struct reason_stats *stats;     /* [VMX_EXIT_REASON_COUNT] */
	struct port_stats *ports;       /* [65536] */
	struct port_stats mmio[PLATFORM_MAX_DEVS]; /* per device, its MMIO windows */
	uint32_t rng;
	volatile sig_atomic_t interrupted;
	volatile sig_atomic_t wall_expired;  /* cfg.max_wall_ns passed (run.c) */
	char failure[512];              /* a device-model failure, for the result */
	struct machine_dbg *dbg;        /* vmxlab debug (machine_debug_begin), else NULL */
	/* Guest-physical ranges mapped onto memory shared with a device
	 * (vmx_platform.map_shared: VGA video memory), see machine_map_shared. */
	struct machine_shared { uint64_t gpa, len; void *host; } shared[4];
	unsigned nshared;
	int shot_timer;                 /* timed screenshots (cfg.screenshots), or -1 */
	bool shot_done[MACHINE_MAX_SCREENSHOTS];
	struct display *display;        /* display: sdl, else NULL */
	int disp_timer;
	uint64_t disp_wall_ns, disp_exits, disp_vtime;
};

/* Guest TSC ticks at virtual time ns. */
static inline uint64_t machine_tsc_at(const struct machine *m, vtime_t ns)
{
	return (uint64_t)((unsigned __int128)ns * m->cfg.tsc_khz / 1000000u);
}

void machine_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* host.c: the handler build's host (hv.h) and the devices' platform services. */
void host_init(struct machine *m, struct hv_host *h);
void host_platform_config(struct machine *m, struct platform_config *pc);
int host_timers_new(struct machine *m);
int host_dm_request(struct machine *m, enum dm_op op, unsigned dev, struct vmx_ioreq *req);
/* The first answer of a new device-model process. */
void host_dm_started(struct machine *m);
void host_rearm_dev_timer(struct machine *m);
/* The exit's opening hook of the core (vm_core.begin). */
void host_exit_begin(void *ctx, uint32_t reason);

/* record.c: the trace. */
int record_open(struct machine *m, char *err, size_t errlen);
/* A record of the device-model side (TRC_VMXLAB_DM_*, IDLE, SHMEM*): kept
 * with the exit's inputs during an exit, written at once between exits. */
void record_dm(struct machine *m, uint32_t ev, const uint32_t *w, unsigned n);
/* The bytes of memory shared with a device that changed since the last
 * sync, as SHMEM records after a SHMEM_AT of `now`. */
void record_shared_sync(struct machine *m, vtime_t now);
/* A device-model device's state dump at the end of the run. */
void record_dev_dump(struct machine *m, unsigned index, const char *text, size_t len);
/* A record the handler emitted (host.c's trace callback). */
void record_handler(struct machine *m, uint32_t ev, const uint32_t *w, unsigned n);
/* After the handler: the exit's records in the order replay reads them. */
void record_exit(struct machine *m, const struct vm_exit *x);
void record_close(struct machine *m, vtime_t end, uint64_t digest);

/* run.c: the debugger's view of an exit's handler. */
void dbg_note_record(struct machine *m, uint32_t ev, const uint32_t *w, unsigned n);
void dbg_note_ioreq(struct machine *m, const struct vmx_dev *dev, const struct vmx_ioreq *req, int rc);

/* screen.c: timed screenshots and the SDL window. */
int screen_start(struct machine *m, char *err, size_t errlen);
void screen_stop(struct machine *m);

#endif
