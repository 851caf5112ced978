/*
 * ioreq.h - the protocol between the simulator and the device-model process
 * (vmxlab-dm, devices/dm/), after Xen's ioreq server: a shared page, one
 * request in flight, an eventfd each way.  The vCPU blocks until the answer
 * comes.  Versioned; documented in docs/device-model.md.
 *
 * Implemented by devices/dm/main.c (server) and devices/dm/client.c (the
 * simulator's side).
 *
 *   simulator                                   vmxlab-dm
 *   fill page: seq++, op, dev, req               |
 *   write(req_efd, 1) ------------------------->  read(req_efd)
 *                                                 check magic, version, seq,
 *                                                 dev, op, size, address;
 *                                                 run due timers; serve;
 *                                                 fill results, status
 *   poll(resp_efd, pidfd) <--------------------- write(resp_efd, 1)
 *
 * Virtual time travels in every request (req.now): the process has no clock
 * of its own, and its timers fire only when the simulator says so (DM_OP_TIMER
 * at the deadline the process published), so runs stay deterministic.
 */
#ifndef VMXLAB_IOREQ_H
#define VMXLAB_IOREQ_H

#include <stdbool.h>
#include <stdint.h>

#include "hv.h"

#define DM_MAGIC 0x6d646d76u   /* "vmdm" */
#define DM_VERSION 2
#define DM_MAX_IRQ_EVENTS 64
#define DM_CONSOLE_SIZE 4096
#define DM_DUMP_SIZE 16384
#define DM_ERROR_SIZE 256

enum dm_op {
	DM_OP_IO = 1,      /* req: a struct vmx_ioreq for device `dev` */
	DM_OP_TIMER = 2,   /* run the timers due at req.now */
	DM_OP_IRQ = 3,     /* req.addr = line, req.data = level: into a PIC placed here */
	DM_OP_RESET = 4,   /* reset every device */
	DM_OP_DUMP = 5,    /* device `dev`'s state dump into `dump` */
	DM_OP_QUIT = 6,
};

struct dm_irq_event {
	uint16_t line;
	uint16_t level;
};

/* The shared page (a memfd, mapped by both).  The simulator writes the
 * request part, the process the answer part; seq says whose turn it is. */
struct dm_shared {
	uint32_t magic;
	uint32_t version;
	uint32_t seq;                 /* of the request; the answer echoes it */
	uint32_t op;                  /* enum dm_op */
	uint32_t dev;                 /* index into the process's device list */
	uint32_t pad;
	struct vmx_ioreq req;
	/* the answer */
	uint32_t done_seq;
	int32_t status;               /* 0, or -1 with `error` */
	char error[DM_ERROR_SIZE];
	uint64_t next_deadline;       /* earliest armed timer, or VTIME_NEVER */
	int32_t pic_pending;          /* a PIC placed here: its intr_pending, or -1 */
	uint32_t nirq;                /* lines the process's devices drove, in order */
	struct dm_irq_event irq[DM_MAX_IRQ_EVENTS];
	uint64_t charge_ns;           /* vCPU time the devices charged (dev.h) */
	uint32_t console_len;         /* guest console bytes produced */
	char console[DM_CONSOLE_SIZE];
	char dump[DM_DUMP_SIZE];
};

/*
 * The interrupt-line changes of one request (devices/dm/irqlog.c): in order
 * while they fit in the page; past DM_MAX_IRQ_EVENTS (a fast timer across a
 * long step) each line's changes collapse to a rise, if it rose, then its
 * final level - all an 8259A can latch of them.
 */
struct dm_irq_log {
	struct dm_irq_event ev[DM_MAX_IRQ_EVENTS];
	uint32_t n;
	bool overflow;
	uint16_t touched, rose, level;   /* bit per line */
};
void dm_irq_log_reset(struct dm_irq_log *l);
void dm_irq_log_add(struct dm_irq_log *l, unsigned line, bool level);
/* Coalesce if it overflowed; the events are then ev[0..n). */
void dm_irq_log_finish(struct dm_irq_log *l);

/*
 * The simulator's side (devices/dm/client.c).  dm_spawn starts the process
 * with guest RAM (a memfd, may be -1) and the devices, one "name[:options]"
 * each, in the order requests index them.  dm_call sends one request and
 * blocks until the answer; -1 with err when the process died (within
 * milliseconds, through a pidfd), did not answer in time (10 s, or
 * VMXLAB_DM_TIMEOUT_MS), or refused the request; err names the process and
 * what happened to it, the caller names the device and the request.  The answer's side results (irq events, console bytes, next
 * deadline, PIC state) are in dm_page() until the next call.
 */
struct dm_client;
struct dm_client *dm_spawn(const char *exe, int ram_fd, uint64_t ram_size, unsigned ndevs,
			   const char *const *devs, char *err, size_t errlen);
int dm_call(struct dm_client *c, enum dm_op op, unsigned dev, struct vmx_ioreq *req, char *err,
	    size_t errlen);
const struct dm_shared *dm_page(const struct dm_client *c);
/* Async-signal-safe: a dm_call waiting now, or called later, fails at once
 * ("left unanswered"); dm_close then kills the process. */
void dm_abandon(struct dm_client *c);
int dm_pid(const struct dm_client *c);
/* Ask the process to quit and reap it (killing it if it does not). */
void dm_close(struct dm_client *c);

#endif
