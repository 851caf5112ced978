/*
 * The live machine's host side: the services its handler build calls
 * (hv.h: ioreq, now, tsc, idle, trace, console, log) and the platform
 * services its devices call (dev.h: console, log, IRQ lines toward
 * vmxlab-dm, vCPU wait charges, shared memory), the device timers, and the
 * device-model process's answers.
 *
 * Virtual time and cost: the guest's instructions advance the clock (sim);
 * each exit adds its modelled cost (exit.c) plus one dm_roundtrip_ns per
 * synchronous request to the device-model process.  Device timers fire at
 * their virtual deadlines; an interrupt they raise reaches a running guest
 * as an external-interrupt exit, as on hardware.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "machine_priv.h"

void machine_log(int level, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "vmxlab: %s", level == 0 ? "error: " : level == 1 ? "warning: " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ------------------------------------------------------------ device model */

static void console_out(void *ctx, const char *buf, size_t len)
{
	struct machine *m = ctx;

	for (size_t i = 0; i < len; i++)
		m->con_tail[m->con_total++ % CONSOLE_TAIL] = buf[i];

	if (m->cfg.console) {
		fwrite(buf, 1, len, m->cfg.console);
		fflush(m->cfg.console);
	}
}

/* A device's charge counts only while the vCPU waits for its access. */
static void charge_vcpu(void *ctx, vtime_t ns)
{
	struct machine *m = ctx;

	vm_core_charge(&m->core, ns);
}

/* The answer's lines go into the trace before the answer itself (its
 * DM_ANSWER, written by host_ioreq, or the DM_EVENT of a timer or an
 * interrupt notification): replay applies them when it meets the answer. */
static void after_dm_answer(struct machine *m, enum dm_op op)
{
	const struct dm_shared *pg = dm_page(m->dm);

	charge_vcpu(m, pg->charge_ns);
	for (uint32_t i = 0; i < pg->nirq && i < DM_MAX_IRQ_EVENTS; i++) {
		uint32_t w[2] = { pg->irq[i].line, pg->irq[i].level };
		if (op != DM_OP_DUMP)
			record_dm(m, TRC_VMXLAB_DM_IRQ, w, 2);
		platform_irq(m->plat, pg->irq[i].line, pg->irq[i].level);
	}
	if (pg->console_len)
		console_out(m, pg->console, pg->console_len < DM_CONSOLE_SIZE ? pg->console_len : DM_CONSOLE_SIZE);
	if (pg->next_deadline == VTIME_NEVER)
		sim_timer_cancel(m->sim, m->dm_timer);
	else
		sim_timer_arm(m->sim, m->dm_timer, pg->next_deadline);
	m->dm_pic_pending = pg->pic_pending;
	if (op == DM_OP_TIMER || op == DM_OP_IRQ) {
		vtime_t now = sim_now(m->sim);
		uint32_t w[4] = { (uint32_t)now, (uint32_t)(now >> 32), (uint32_t)m->dm_pic_pending, op };
		record_dm(m, TRC_VMXLAB_DM_EVENT, w, 4);
	}
}

/* The name of the device vmxlab-dm serves as number `dev`. */
static const char *dm_dev_name(const struct machine *m, unsigned dev)
{
	for (unsigned i = 0; i < m->cfg.ndevs; i++)
		if (m->cfg.devs[i].placement != PLACE_HV && m->dm_index[i] == dev)
			return m->cfg.devs[i].name;
	return "?";
}

/* A request to vmxlab-dm in words, for an error: the device and what was
 * asked of it (a failed dm_call leaves req as it was sent). */
static void describe_dm_request(const struct machine *m, enum dm_op op, unsigned dev, const struct vmx_ioreq *req,
				char *out, size_t len)
{
	const char *name = dm_dev_name(m, dev);
	size_t n = 0;

	switch (op) {
	case DM_OP_IO: {
		const struct vmx_dev_ops *ops = vmx_dev_lookup(name);
		if (req->type == IOREQ_PCI_CFG) {
			unsigned fn = (unsigned)(req->addr >> 8);
			uint8_t devfn = ops && fn < ops->npci ? ops->pci_devfn[fn] : 0;
			n = (size_t)snprintf(out, len, "%s's configuration %s register 0x%02x of PCI %02x.%u (%u byte%s)",
					     name, req->dir ? "read of" : "write to", (unsigned)(req->addr & 0xff),
					     devfn >> 3, devfn & 7, req->size, req->size == 1 ? "" : "s");
			if (!req->dir && n < len)
				snprintf(out + n, len - n, " of 0x%" PRIx64, req->data);
			return;
		}
		if (req->type == IOREQ_INTR_ACK) {
			snprintf(out, len, "%s's interrupt acknowledge", name);
			return;
		}
		uint64_t base = ops && req->range < ops->nranges ? ops->ranges[req->range].base : 0;
		n = (size_t)snprintf(out, len, "%s's %s %s 0x%" PRIx64 " (%u byte%s)", name,
				     req->type == IOREQ_MMIO ? "MMIO" : "port", req->dir ? "read of" : "write to",
				     base + req->addr, req->size, req->size == 1 ? "" : "s");
		if (!req->dir && n < len)
			snprintf(out + n, len - n, " of 0x%" PRIx64, req->data);
		return;
	}
	case DM_OP_TIMER:
		n = (size_t)snprintf(out, len, "the timer request at %.9f s for", (double)req->now / 1e9);
		for (unsigned i = 0; i < m->cfg.ndevs && n < len; i++)
			if (m->cfg.devs[i].placement != PLACE_HV)
				n += (size_t)snprintf(out + n, len - n, " %s", m->cfg.devs[i].name);
		return;
	case DM_OP_IRQ:
		snprintf(out, len, "interrupt line %" PRIu64 " going %s, sent to the PIC", req->addr,
			 req->data ? "high" : "low");
		return;
	case DM_OP_RESET:
		snprintf(out, len, "the reset of %s", name);
		return;
	case DM_OP_DUMP:
		snprintf(out, len, "the state dump of %s", name);
		return;
	case DM_OP_QUIT:
		snprintf(out, len, "the request to quit");
		return;
	}
	snprintf(out, len, "request %d", (int)op);
}

int host_dm_request(struct machine *m, enum dm_op op, unsigned dev, struct vmx_ioreq *req)
{
	char err[300], what[200];

	req->now = sim_now(m->sim);
	if (dm_call(m->dm, op, dev, req, err, sizeof(err))) {
		/* The first failure is the one to report; later requests only
		 * find the process gone. */
		if (!m->failure[0]) {
			describe_dm_request(m, op, dev, req, what, sizeof(what));
			snprintf(m->failure, sizeof(m->failure), "%s during %s", err, what);
		}
		return -1;
	}
	after_dm_answer(m, op);
	return 0;
}

static int pic_pending_now(struct machine *m)
{
	struct vmx_dev *pic = NULL;

	if (m->pic_in_dm)
		return m->dm_pic_pending;
	for (unsigned i = 0; i < platform_ndevs(m->plat); i++)
		if (platform_dev(m->plat, i)->ops->intr_pending && platform_dev(m->plat, i)->state)
			pic = platform_dev(m->plat, i);
	return pic ? pic->ops->intr_pending(pic->state) : -1;
}

/* A device raised an interrupt while the guest runs: the guest must exit
 * for the handler to inject it.  During an exit the epilogue does that. */
static void kick_if_pending(struct machine *m)
{
	if (!m->core.in_exit && pic_pending_now(m) >= 0)
		sim_set_intr(m->sim, true, KICK_VECTOR);
}

void host_rearm_dev_timer(struct machine *m)
{
	vtime_t next = platform_next_deadline(m->plat);

	if (next == VTIME_NEVER)
		sim_timer_cancel(m->sim, m->dev_timer);
	else
		sim_timer_arm(m->sim, m->dev_timer, next);
}

static void dev_timer_fired(void *ctx, vtime_t now)
{
	struct machine *m = ctx;

	if (m->nshared)
		record_shared_sync(m, now);
	platform_run_until(m->plat, now);
	host_rearm_dev_timer(m);
	kick_if_pending(m);
}

static void dm_timer_fired(void *ctx, vtime_t now)
{
	struct machine *m = ctx;
	struct vmx_ioreq none = { .now = now };

	if (host_dm_request(m, DM_OP_TIMER, 0, &none)) {
		sim_request_stop(m->sim);
		return;
	}
	kick_if_pending(m);
}

/* Lines of devices here when the PIC runs in the device-model process: an
 * asynchronous notification (the vCPU does not wait for it). */
static void irq_to_dm(void *ctx, unsigned line, bool level)
{
	struct machine *m = ctx;
	struct vmx_ioreq r = { .addr = line, .data = level };

	if (m->dm && host_dm_request(m, DM_OP_IRQ, 0, &r))
		sim_request_stop(m->sim);
}

static void dev_log(void *ctx, const char *dev, const char *msg)
{
	(void)ctx;
	machine_log(1, "device %s: %s", dev, msg);
}

/* ------------------------------------------------------------ the host (hv.h) */

static int host_ioreq(void *ctx, struct vmx_dev *dev, struct vmx_ioreq *req)
{
	struct machine *m = ctx;

	if (req->type == IOREQ_INTR_PENDING) {
		req->data = (uint64_t)(int64_t)m->dm_pic_pending;
		if (m->dbg)
			dbg_note_ioreq(m, dev, req, 0);
		return 0;
	}
	vtime_t before = m->core.charge;
	m->core.charge += m->cfg.cost.dm_roundtrip_ns;
	int rc = host_dm_request(m, DM_OP_IO, m->dm_index[dev->index], req);
	if (rc == 0) {
		vtime_t charged = m->core.charge - before;
		uint32_t w[5] = { (uint32_t)req->data, (uint32_t)(req->data >> 32), (uint32_t)charged,
				  (uint32_t)(charged >> 32), (uint32_t)m->dm_pic_pending };
		record_dm(m, TRC_VMXLAB_DM_ANSWER, w, 5);
	}
	if (m->dbg)
		dbg_note_ioreq(m, dev, req, rc);
	return rc;
}

static vtime_t host_now(void *ctx)
{
	return sim_now(((struct machine *)ctx)->sim);
}

static uint64_t host_tsc(void *ctx)
{
	struct machine *m = ctx;
	return machine_tsc_at(m, sim_now(m->sim) + m->core.charge);
}

static vtime_t host_idle(void *ctx)
{
	struct machine *m = ctx;
	vtime_t limit = m->cfg.max_vtime ? m->cfg.max_vtime : (vtime_t)-1;

	vtime_t before = sim_now(m->sim);
	vtime_t woke = (vtime_t)-1;

	if (!m->interrupted && sim_idle(m->sim, limit)) {
		m->idle_ns += sim_now(m->sim) - before;
		woke = sim_now(m->sim);
	}
	uint32_t w[2] = { (uint32_t)woke, (uint32_t)(woke >> 32) };
	record_dm(m, TRC_VMXLAB_IDLE, w, 2);
	return woke;
}

static void count_record(struct machine *m, uint32_t ev, const uint32_t *w, unsigned n)
{
	if ((ev == TRC_HVM_IOPORT_READ || ev == TRC_HVM_IOPORT_WRITE) && n >= 1) {
		struct port_stats *p = &m->ports[w[0] & 0xffff];
		if (ev == TRC_HVM_IOPORT_READ)
			p->reads++;
		else
			p->writes++;
	}
	if ((ev & ~(uint32_t)(TRC_HVM_IOWRITE_FLAG | TRC_64_FLAG)) == TRC_HVM_IOMEM_READ && n >= 1) {
		uint64_t gpa = (ev & TRC_64_FLAG) && n >= 2 ? w[0] | (uint64_t)w[1] << 32 : w[0];
		for (unsigned i = 0; i < platform_ndevs(m->plat); i++) {
			const struct vmx_dev_ops *o = platform_dev(m->plat, i)->ops;
			for (unsigned r = 0; r < o->nranges; r++)
				if (o->ranges[r].mmio && gpa - o->ranges[r].base < o->ranges[r].len) {
					if (ev & TRC_HVM_IOWRITE_FLAG)
						m->mmio[i].writes++;
					else
						m->mmio[i].reads++;
				}
		}
	}
	vm_core_note_record(&m->core, ev, w, n);
}

static void host_trace(void *ctx, uint32_t ev, const uint32_t *w, unsigned n)
{
	struct machine *m = ctx;

	count_record(m, ev, w, n);
	if (m->dbg)
		dbg_note_record(m, ev, w, n);
	record_handler(m, ev, w, n);
}

static void host_console(void *ctx, const char *buf, size_t len)
{
	console_out(ctx, buf, len);
}

static void host_phase(void *ctx, uint32_t phase)
{
	uint32_t w = phase;
	host_trace(ctx, TRC_VMXLAB_PHASE, &w, 1);
}

/* Errors and warnings always; information with VMXLAB_VERBOSE=1. */
static void host_log(void *ctx, int level, const char *fmt, va_list ap)
{
	const char *verbose = getenv("VMXLAB_VERBOSE");

	(void)ctx;
	if (level >= 2 && !(verbose && *verbose == '1'))
		return;
	fprintf(stderr, "vmxlab: %s", level == 0 ? "error: " : level == 1 ? "warning: " : "");
	vfprintf(stderr, fmt, ap);
	if (!*fmt || fmt[strlen(fmt) - 1] != '\n')
		fputc('\n', stderr);
}


/* ------------------------------------------------------------ wiring */

void host_init(struct machine *m, struct hv_host *h)
{
	*h = (struct hv_host){
		.ctx = m, .options = m->cfg.hv_options[0] ? m->cfg.hv_options : NULL,
		.ndevs = platform_ndevs(m->plat), .devs = platform_devs(m->plat), .ioreq = host_ioreq,
		.now = host_now, .tsc = host_tsc, .idle = host_idle, .trace = host_trace,
		.console = host_console, .phase = host_phase, .log = host_log, .tsc_khz = m->cfg.tsc_khz,
	};
}

void host_platform_config(struct machine *m, struct platform_config *pc)
{
	pc->ctx = m;
	pc->console = console_out;
	pc->log = dev_log;
	pc->irq_out = irq_to_dm;
	pc->charge = charge_vcpu;
}

int host_timers_new(struct machine *m)
{
	m->dev_timer = sim_timer_new(m->sim, dev_timer_fired, m);
	m->dm_timer = sim_timer_new(m->sim, dm_timer_fired, m);
	return m->dev_timer < 0 || m->dm_timer < 0 ? -1 : 0;
}

void host_dm_started(struct machine *m)
{
	after_dm_answer(m, 0);
}

/* An external-interrupt exit was the kick (kick_if_pending): the handler
 * injects what is pending, so the kick is taken back. */
void host_exit_begin(void *ctx, uint32_t reason)
{
	struct machine *m = ctx;

	if (reason == EXIT_REASON_EXTERNAL_INTERRUPT)
		sim_set_intr(m->sim, false, 0);
	if (m->inputs)
		input_rec_begin(m->inputs);
}
