/*
 * One simulated machine and the host side of the handler ABI (hv.h): the
 * simulator runs the guest; at each VM exit the handler build runs with this
 * file's services - devices here or in vmxlab-dm, virtual time and its
 * modelled costs, the trace - and the counters for the report are kept.
 *
 * Virtual time and cost: the guest's instructions advance the clock (sim);
 * each exit adds exit_roundtrip_ns + the handler's modelled cost + one
 * dm_roundtrip_ns per synchronous request to the device-model process.
 * Device timers fire at their virtual deadlines; an interrupt they raise
 * reaches a running guest as an external-interrupt exit, as on hardware.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <unistd.h>

#include <vmxlab/ioreq.h>
#include <vmxlab/trace.h>
#include <vmxlab/vga.h>

#include "cli.h"
#include "inputs.h"
#include "display.h"
#include "machine.h"
#include "png.h"

/* The host vector of the external interrupt that kicks a running guest out
 * when one of its devices raised an interrupt (Xen's LOCAL_TIMER is 0xf9). */
#define KICK_VECTOR 0xf9
#define TRACE_DOMAIN 1
#define TRACE_VCPU 0

struct machine {
	struct machine_config cfg;
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
	struct trc_writer *trace;
	/* With a trace: the handler sees a recording vCPU, and its records of
	 * one exit are held back until the exit's inputs can be put after its
	 * VMEXIT (trace.h, TRC_VMXLAB_EXIT_TIME..MEM_READ). */
	struct input_rec *inputs;
	struct held { uint32_t ev; bool has_tsc; uint64_t tsc; unsigned n; uint32_t w[TRC_REC_MAX_EXTRA]; } *held;
	unsigned nheld, capheld;
	int dev_timer, dm_timer;
	bool in_exit;
	vtime_t idle_ns;
	vtime_t charge;                 /* modelled cost of the exit being handled */
	struct reason_stats *stats;     /* [VMX_EXIT_REASON_COUNT] */
	struct port_stats *ports;       /* [65536] */
	struct port_stats mmio[PLATFORM_MAX_DEVS]; /* per device, its MMIO windows */
	uint64_t digest;
	uint32_t rng;
	volatile sig_atomic_t interrupted;
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

static void shot_timer_fired(void *ctx, vtime_t now);
static void shot_arm(struct machine *m);
static int display_start(struct machine *m, char *err, size_t errlen);
static void display_stop(struct machine *m);

/* The debugger's view of an exit's handler (the debugging section below). */
static void dbg_note_record(struct machine *m, uint32_t ev, const uint32_t *w, unsigned n);
static void dbg_note_ioreq(struct machine *m, const struct vmx_dev *dev, const struct vmx_ioreq *req, int rc);

/* ------------------------------------------------------------ defaults */

void cost_model_defaults(struct cost_model *c)
{
	memset(c, 0, sizeof(*c));
	c->exit_roundtrip_ns = 1000;
	c->handler_ns = 300;
	c->mmio_emulation_ns = 1500;
	c->dm_roundtrip_ns = 10000;
	c->reason_ns[EXIT_REASON_HLT] = 300;
}

void machine_config_defaults(struct machine_config *c)
{
	memset(c, 0, sizeof(*c));
	c->sim.ram_size = 64ull << 20;
	c->sim.mode = SIM_MODE_LONG64;
	c->sim.insns_per_ns = 1.0;
	c->load_addr = 0x100000;
	c->tsc_khz = 2400000;  /* xenalyze's default --cpu-hz */
	cost_model_defaults(&c->cost);
}

/* ------------------------------------------------------------ helpers */

static void fnv(uint64_t *h, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (size_t i = 0; i < len; i++) {
		*h ^= p[i];
		*h *= 0x100000001b3ull;
	}
}

static uint64_t tsc_at(const struct machine *m, vtime_t ns)
{
	return (uint64_t)((unsigned __int128)ns * m->cfg.tsc_khz / 1000000u);
}

static void mlog(struct machine *m, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void mlog(struct machine *m, int level, const char *fmt, ...)
{
	va_list ap;

	(void)m;
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

	if (m->cfg.console) {
		fwrite(buf, 1, len, m->cfg.console);
		fflush(m->cfg.console);
	}
}

/* A device's charge counts only while the vCPU waits for its access. */
static void charge_vcpu(void *ctx, vtime_t ns)
{
	struct machine *m = ctx;

	if (m->in_exit)
		m->charge += ns;
}

static void after_dm_answer(struct machine *m)
{
	const struct dm_shared *pg = dm_page(m->dm);

	charge_vcpu(m, pg->charge_ns);
	for (uint32_t i = 0; i < pg->nirq && i < DM_MAX_IRQ_EVENTS; i++)
		platform_irq(m->plat, pg->irq[i].line, pg->irq[i].level);
	if (pg->console_len)
		console_out(m, pg->console, pg->console_len < DM_CONSOLE_SIZE ? pg->console_len : DM_CONSOLE_SIZE);
	if (pg->next_deadline == VTIME_NEVER)
		sim_timer_cancel(m->sim, m->dm_timer);
	else
		sim_timer_arm(m->sim, m->dm_timer, pg->next_deadline);
	m->dm_pic_pending = pg->pic_pending;
}

static int dm_request(struct machine *m, enum dm_op op, unsigned dev, struct vmx_ioreq *req)
{
	char err[400];

	req->now = sim_now(m->sim);
	if (dm_call(m->dm, op, dev, req, err, sizeof(err))) {
		snprintf(m->failure, sizeof(m->failure), "%s", err);
		return -1;
	}
	after_dm_answer(m);
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
	if (!m->in_exit && pic_pending_now(m) >= 0)
		sim_set_intr(m->sim, true, KICK_VECTOR);
}

static void rearm_dev_timer(struct machine *m)
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

	platform_run_until(m->plat, now);
	rearm_dev_timer(m);
	kick_if_pending(m);
}

static void dm_timer_fired(void *ctx, vtime_t now)
{
	struct machine *m = ctx;
	struct vmx_ioreq none = { .now = now };

	if (dm_request(m, DM_OP_TIMER, 0, &none)) {
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

	if (m->dm && dm_request(m, DM_OP_IRQ, 0, &r))
		sim_request_stop(m->sim);
}

static void dev_log(void *ctx, const char *dev, const char *msg)
{
	mlog(ctx, 1, "device %s: %s", dev, msg);
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
	m->charge += m->cfg.cost.dm_roundtrip_ns;
	int rc = dm_request(m, DM_OP_IO, m->dm_index[dev->index], req);
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
	return tsc_at(m, sim_now(m->sim) + m->charge);
}

static vtime_t host_idle(void *ctx)
{
	struct machine *m = ctx;
	vtime_t limit = m->cfg.max_vtime ? m->cfg.max_vtime : (vtime_t)-1;

	vtime_t before = sim_now(m->sim);

	if (m->interrupted || !sim_idle(m->sim, limit))
		return (vtime_t)-1;
	m->idle_ns += sim_now(m->sim) - before;
	return sim_now(m->sim);
}

static bool event_has_tsc(uint32_t ev)
{
	/* HVM handler records inherit the VMEXIT's TSC (xentrace.md 1.5). */
	return (ev & 0x000ff000u) == TRC_HVM_ENTRYEXIT || (ev & 0x0fff0000u) == 0x00020000u || TRC_IS_VMXLAB(ev);
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
	if (ev == TRC_HVM_INJ_VIRQ || ev == TRC_HVM_INJ_EXC || ev == TRC_HVM_INTR_WINDOW)
		fnv(&m->digest, w, n * sizeof(uint32_t));
}

static void put_record(struct machine *m, uint32_t ev, bool has_tsc, uint64_t tsc, const uint32_t *w, unsigned n)
{
	if (m->trace && trc_writer_put(m->trace, 0, ev, has_tsc, tsc, w, n)) {
		mlog(m, 0, "cannot write the trace %s: %s", m->cfg.trace_path, trc_writer_error(m->trace));
		trc_writer_close(m->trace, NULL, 0);
		m->trace = NULL;
	}
}

static void host_trace(void *ctx, uint32_t ev, const uint32_t *w, unsigned n)
{
	struct machine *m = ctx;
	vtime_t at = sim_now(m->sim) + (ev == TRC_HVM_VMENTRY ? m->charge : 0);

	count_record(m, ev, w, n);
	if (m->dbg)
		dbg_note_record(m, ev, w, n);
	if (!m->trace)
		return;
	if (!m->in_exit || !m->inputs) {
		put_record(m, ev, event_has_tsc(ev), tsc_at(m, at), w, n);
		return;
	}
	if (m->nheld == m->capheld) {
		unsigned cap = m->capheld ? m->capheld * 2 : 64;
		struct held *h = realloc(m->held, cap * sizeof(*h));
		if (!h) {
			mlog(m, 0, "out of memory while tracing");
			return;
		}
		m->held = h;
		m->capheld = cap;
	}
	struct held *h = &m->held[m->nheld++];
	h->ev = ev;
	h->has_tsc = event_has_tsc(ev);
	h->tsc = tsc_at(m, at);
	h->n = n < TRC_REC_MAX_EXTRA ? n : TRC_REC_MAX_EXTRA;
	memcpy(h->w, w, h->n * sizeof(uint32_t));
}

static void put_input(void *ctx, uint32_t ev, const uint32_t *w, unsigned n)
{
	put_record(ctx, ev, false, 0, w, n);
}

/* The exit's records in the order replay wants: VMEXIT, the inputs, then
 * the handler's records through VMENTRY. */
static void flush_exit_records(struct machine *m, vtime_t t0, vtime_t charge0)
{
	unsigned first = 0;

	if (!m->trace || !m->inputs)
		return;
	if (m->nheld && trc_is_vmexit(m->held[0].ev)) {
		put_record(m, m->held[0].ev, m->held[0].has_tsc, m->held[0].tsc, m->held[0].w, m->held[0].n);
		first = 1;
	}
	uint32_t t[4] = { (uint32_t)t0, (uint32_t)(t0 >> 32), (uint32_t)charge0, (uint32_t)(charge0 >> 32) };
	put_input(m, TRC_VMXLAB_EXIT_TIME, t, 4);
	input_rec_emit(m->inputs, put_input, m);
	for (unsigned i = first; i < m->nheld && m->trace; i++)
		put_record(m, m->held[i].ev, m->held[i].has_tsc, m->held[i].tsc, m->held[i].w, m->held[i].n);
	m->nheld = 0;
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

/* ------------------------------------------------------------ setup */

/* vmx_platform.map_shared for devices placed hv: a memfd-backed buffer
 * (so it could be handed to another process) mapped into the guest at
 * [gpa, gpa+len) with sim_map_shared - no exits.  add_devices then leaves
 * that window out of MMIO emulation. */
static void *machine_map_shared(void *ctx, uint64_t gpa, uint64_t len)
{
	struct machine *m = ctx;

	if (m->nshared == sizeof(m->shared) / sizeof(m->shared[0]) || !len)
		return NULL;
	int fd = memfd_create("vmxlab-shared-vram", MFD_CLOEXEC);
	if (fd < 0)
		return NULL;
	void *host = MAP_FAILED;
	if (ftruncate(fd, (off_t)len) == 0)
		host = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (host == MAP_FAILED)
		return NULL;
	if (sim_map_shared(m->sim, gpa, len, host)) {
		mlog(m, 1, "cannot share 0x%" PRIx64 "+0x%" PRIx64 " with a device: %s", gpa, len, sim_error(m->sim));
		munmap(host, len);
		return NULL;
	}
	m->shared[m->nshared++] = (struct machine_shared){ gpa, len, host };
	return host;
}

static bool shared_mapped(const struct machine *m, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < m->nshared; i++)
		if (m->shared[i].gpa == gpa && m->shared[i].len == len)
			return true;
	return false;
}

static int add_devices(struct machine *m, char *err, size_t errlen)
{
	const char *dm_specs[PLATFORM_MAX_DEVS];
	char spec[PLATFORM_MAX_DEVS][300];
	unsigned ndm = 0;

	for (unsigned i = 0; i < m->cfg.ndevs; i++) {
		const struct machine_dev_config *d = &m->cfg.devs[i];
		const struct vmx_dev_ops *ops = vmx_dev_lookup(d->name);
		if (!ops) {
			snprintf(err, errlen, "unknown device '%s'", d->name);
			return -1;
		}
		bool here = d->placement == PLACE_HV;
		if (!platform_add(m->plat, ops, d->options, d->placement, here, err, errlen))
			return -1;
		if (!here) {
			m->dm_index[i] = ndm;
			snprintf(spec[ndm], sizeof(spec[ndm]), "%s:%s", d->name, d->options);
			dm_specs[ndm] = spec[ndm];
			ndm++;
			if (ops->intr_ack)
				m->pic_in_dm = true;
		}
		for (unsigned r = 0; r < ops->nranges; r++)
			if (ops->ranges[r].mmio && !shared_mapped(m, ops->ranges[r].base, ops->ranges[r].len) &&
			    sim_map_mmio(m->sim, ops->ranges[r].base, ops->ranges[r].len)) {
				snprintf(err, errlen, "device %s: cannot leave 0x%" PRIx64 "+0x%" PRIx64 " out of EPT: %s",
					 d->name, ops->ranges[r].base, ops->ranges[r].len, sim_error(m->sim));
				return -1;
			}
	}
	if (ndm) {
		char dm_exe[4096];
		uint64_t ram_size;
		const char *env = getenv("VMXLAB_DM");
		if (env && *env)
			snprintf(dm_exe, sizeof(dm_exe), "%s", env);
		else
			cli_exe_path(dm_exe, sizeof(dm_exe), "vmxlab-dm");
		sim_ram(m->sim, &ram_size);
		m->dm = dm_spawn(dm_exe, sim_ram_fd(m->sim), ram_size, ndm, dm_specs, err, errlen);
		if (!m->dm)
			return -1;
		after_dm_answer(m);
	}
	return 0;
}

struct machine *machine_create(const struct machine_config *cfg, char *err, size_t errlen)
{
	struct machine *m = calloc(1, sizeof(*m));

	if (!m) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	m->cfg = *cfg;
	m->dm_pic_pending = -1;
	m->digest = 0xcbf29ce484222325ull;
	m->rng = 0x2545f491u;
	m->stats = calloc(VMX_EXIT_REASON_COUNT, sizeof(*m->stats));
	m->ports = calloc(65536, sizeof(*m->ports));
	if (!m->stats || !m->ports) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	m->sim = sim_create(&cfg->sim, err, errlen);
	if (!m->sim)
		goto fail;
	m->vcpu = sim_vcpu(m->sim);
	uint64_t ram_size;
	uint8_t *ram = sim_ram(m->sim, &ram_size);
	struct platform_config pc = { .ctx = m, .ram = ram, .ram_size = ram_size, .console = console_out,
				      .log = dev_log, .irq_out = irq_to_dm, .charge = charge_vcpu,
				      .map_shared = machine_map_shared };
	m->plat = platform_new(&pc);
	m->dev_timer = sim_timer_new(m->sim, dev_timer_fired, m);
	m->dm_timer = sim_timer_new(m->sim, dm_timer_fired, m);
	if (!m->plat || m->dev_timer < 0 || m->dm_timer < 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (add_devices(m, err, errlen))
		goto fail;
	if (cfg->display_sdl && display_start(m, err, errlen))
		goto fail;
	m->shot_timer = -1;
	for (unsigned i = 0; i < cfg->nscreenshots; i++)
		if (cfg->screenshots[i].at != VTIME_NEVER) {
			if (m->shot_timer < 0)
				m->shot_timer = sim_timer_new(m->sim, shot_timer_fired, m);
			shot_arm(m);
		}
	if (sim_load_image(m->sim, cfg->image, cfg->load_addr)) {
		snprintf(err, errlen, "%s", sim_error(m->sim));
		goto fail;
	}
	/* Boot arguments at VMXLAB_BOOT_ARGS_GPA, RDI pointing at them. */
	if (sim_load_bytes(m->sim, VMXLAB_BOOT_ARGS_GPA, cfg->args, strnlen(cfg->args, sizeof(cfg->args) - 1) + 1)) {
		snprintf(err, errlen, "cannot place the boot arguments: %s", sim_error(m->sim));
		goto fail;
	}
	vcpu_set_gpr(m->vcpu, GPR_RDI, VMXLAB_BOOT_ARGS_GPA);
	char hv_path[4096];
	if (cfg->hv_path[0])
		snprintf(hv_path, sizeof(hv_path), "%s", cfg->hv_path);
	else
		cli_exe_path(hv_path, sizeof(hv_path), "libvmxlab-hv.so");
	if (hv_load(hv_path, &m->hvb, err, errlen))
		goto fail;
	m->host = (struct hv_host){
		.ctx = m, .options = cfg->hv_options[0] ? cfg->hv_options : NULL,
		.ndevs = platform_ndevs(m->plat), .devs = platform_devs(m->plat), .ioreq = host_ioreq,
		.now = host_now, .tsc = host_tsc, .idle = host_idle, .trace = host_trace,
		.console = host_console, .phase = host_phase, .log = host_log,
	};
	m->hv = m->hvb.hv->init(&m->host, err, errlen);
	if (!m->hv)
		goto fail;
	if (cfg->trace_path[0]) {
		m->trace = trc_writer_open(cfg->trace_path, err, errlen);
		if (!m->trace)
			goto fail;
		/* xenalyze attributes exits to a domain through runstate records
		 * only (xentrace.md 1.4): d1v0 becomes running on pcpu 0. */
		uint32_t dv = (TRACE_DOMAIN << 16) | TRACE_VCPU;
		trc_writer_put(m->trace, 0, TRC_RUNSTATE(RUNSTATE_RUNNABLE, RUNSTATE_RUNNING), true, 0, &dv, 1);
		uint32_t info[4] = { 1, (uint32_t)cfg->tsc_khz, VMXLAB_HV_ABI_VERSION, VMXLAB_DEV_ABI_VERSION };
		trc_writer_put(m->trace, 0, TRC_VMXLAB_RUN_INFO, false, 0, info, 4);
		for (unsigned i = 0; i < platform_ndevs(m->plat); i++) {
			const struct vmx_dev *d = platform_dev(m->plat, i);
			uint32_t w[7] = { d->placement };
			size_t len = strnlen(d->ops->name, 24);
			memcpy(&w[1], d->ops->name, len);
			trc_writer_put(m->trace, 0, TRC_VMXLAB_DEVICE, false, 0, w, 7);
		}
		m->inputs = input_rec_new(m->vcpu);
		if (!m->inputs) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
	}
	if (cfg->max_insns)
		sim_set_budget(m->sim, cfg->max_insns);
	rearm_dev_timer(m);
	return m;
fail:
	machine_destroy(m);
	return NULL;
}

void machine_destroy(struct machine *m)
{
	if (!m)
		return;
	if (m->trace)
		trc_writer_close(m->trace, NULL, 0);
	input_rec_free(m->inputs);
	free(m->held);
	free(m->dbg);
	if (m->hv)
		m->hvb.hv->fini(m->hv);
	hv_unload(&m->hvb);
	dm_close(m->dm);
	display_stop(m);
	platform_free(m->plat);
	sim_destroy(m->sim);
	for (unsigned i = 0; i < m->nshared; i++)
		munmap(m->shared[i].host, m->shared[i].len);
	free(m->stats);
	free(m->ports);
	free(m);
}

/* ------------------------------------------------------------ running */

static uint64_t mono_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Reservoir sampling with a fixed-seed generator: deterministic samples. */
static void sample(struct machine *m, struct reason_stats *s, uint64_t modelled, uint64_t native)
{
	uint32_t slot;

	s->count++;
	s->modelled_ns += modelled;
	s->native_ns += native;
	if (s->nsamples < MACHINE_SAMPLES) {
		slot = s->nsamples++;
	} else {
		m->rng ^= m->rng << 13;
		m->rng ^= m->rng >> 17;
		m->rng ^= m->rng << 5;
		slot = (uint32_t)(m->rng % s->count);
		if (slot >= MACHINE_SAMPLES)
			return;
	}
	s->modelled[slot] = modelled;
	s->native[slot] = native;
}

static uint64_t handler_cost(const struct machine *m, uint32_t reason)
{
	const struct cost_model *c = &m->cfg.cost;

	if (reason == EXIT_REASON_EPT_VIOLATION)
		return c->mmio_emulation_ns;
	if (reason < VMX_EXIT_REASON_COUNT && c->reason_ns[reason])
		return c->reason_ns[reason];
	return c->handler_ns;
}

static enum hv_verdict one_exit(struct machine *m, struct machine_result *r)
{
	struct hv_exit out = { 0 };
	uint32_t raw = (uint32_t)vmcs_read(m->vcpu, VMCS_VM_EXIT_REASON);
	uint32_t reason = VMX_EXIT_REASON_BASIC(raw);
	uint64_t fp[3] = { raw, vmcs_read(m->vcpu, VMCS_GUEST_RIP), 0 };
	vtime_t t0 = sim_now(m->sim);

	/* Devices here read the clock during the access (e.g. the PIT's count). */
	platform_run_until(m->plat, t0);

	if (reason == EXIT_REASON_EXTERNAL_INTERRUPT)
		sim_set_intr(m->sim, false, 0);
	m->in_exit = true;
	m->charge = m->cfg.cost.exit_roundtrip_ns + handler_cost(m, reason);
	vtime_t charge0 = m->charge;
	struct vmx_vcpu *vcpu = m->vcpu;
	if (m->inputs) {
		input_rec_begin(m->inputs);
		vcpu = input_rec_vcpu(m->inputs);
	}
	if (m->cfg.prof_tag)
		*m->cfg.prof_tag = (sig_atomic_t)reason;
	uint64_t n0 = mono_ns();
	enum hv_verdict v = m->hvb.hv->handle_exit(m->hv, vcpu, &out);
	uint64_t native = mono_ns() - n0;
	if (m->cfg.prof_tag)
		*m->cfg.prof_tag = -1;
	m->in_exit = false;
	vtime_t modelled = sim_now(m->sim) - t0 + m->charge;
	sim_charge(m->sim, m->charge);
	m->charge = 0;
	if (reason < VMX_EXIT_REASON_COUNT)
		sample(m, &m->stats[reason], modelled, native);
	flush_exit_records(m, t0, charge0);
	if (m->trace && m->cfg.native_costs) {
		uint32_t w[3] = { reason, (uint32_t)native, (uint32_t)(native >> 32) };
		put_record(m, TRC_VMXLAB_NATIVE_COST, false, 0, w, 3);
	}
	fp[2] = ((uint64_t)v << 32) ^ vmcs_read(m->vcpu, VMCS_GUEST_RIP);
	fnv(&m->digest, fp, sizeof(fp));
	uint64_t entry = vmcs_read(m->vcpu, VMCS_VM_ENTRY_INTR_INFO);
	fnv(&m->digest, &entry, sizeof(entry));
	rearm_dev_timer(m);
	if (v == HV_GUEST_EXIT) {
		r->end = END_GUEST_EXIT;
		r->status = out.status;
		snprintf(r->message, sizeof(r->message), "the guest exited with status %d", out.status);
	} else if (v == HV_GUEST_DEAD) {
		r->end = END_GUEST_DEAD;
		snprintf(r->message, sizeof(r->message), "%s", out.msg);
	} else if (v == HV_ERROR) {
		r->end = END_ERROR;
		snprintf(r->message, sizeof(r->message), "%s%s%s", out.msg, m->failure[0] ? ": " : "", m->failure);
	}
	return v;
}

static void digest_devices(struct machine *m)
{
	for (unsigned i = 0; i < platform_ndevs(m->plat); i++) {
		char *text = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);
		if (!f)
			continue;
		machine_dump_device(m, platform_dev(m->plat, i)->ops->name, f);
		fclose(f);
		fnv(&m->digest, text, len);
		free(text);
	}
}

static void run_end(struct machine *m, struct machine_result *r);

int machine_run(struct machine *m, struct machine_result *r)
{
	memset(r, 0, sizeof(*r));
	r->end = END_ERROR;
	for (;;) {
		enum sim_stop st = sim_run(m->sim);
		if (m->failure[0]) {
			snprintf(r->message, sizeof(r->message), "%s", m->failure);
			break;
		}
		if (st == SIM_STOP_EXIT) {
			if (one_exit(m, r) != HV_RESUME)
				break;
			if (m->cfg.max_vtime && sim_now(m->sim) >= m->cfg.max_vtime) {
				r->end = END_LIMIT;
				snprintf(r->message, sizeof(r->message), "virtual-time limit reached");
				break;
			}
			continue;
		}
		if (st == SIM_STOP_REQUEST && m->interrupted) {
			r->end = END_INTERRUPTED;
			snprintf(r->message, sizeof(r->message), "interrupted");
			break;
		}
		if (st == SIM_STOP_BUDGET) {
			r->end = END_LIMIT;
			snprintf(r->message, sizeof(r->message), "instruction limit reached");
			break;
		}
		if (st == SIM_STOP_REQUEST)
			continue;
		snprintf(r->message, sizeof(r->message), "simulator stopped (%s): %s", sim_stop_name(st),
			 sim_error(m->sim));
		r->end = st == SIM_STOP_IDLE ? END_GUEST_DEAD : END_ERROR;
		break;
	}
	run_end(m, r);
	return r->end == END_GUEST_EXIT || r->end == END_LIMIT ? 0 : -1;
}

/* The end of a run, machine_run's or the debugger's: devices brought up to
 * the end time, the digest, the counters, the trace closed. */
static void run_end(struct machine *m, struct machine_result *r)
{
	platform_run_until(m->plat, sim_now(m->sim));
	digest_devices(m);
	r->guest_insns = sim_instructions(m->sim);
	r->vtime = sim_now(m->sim);
	r->exits = sim_exits(m->sim);
	r->idle_ns = m->idle_ns;
	r->digest = m->digest;
	if (m->trace) {
		char err[256];
		uint32_t end[2] = { (uint32_t)r->vtime, (uint32_t)(r->vtime >> 32) };
		put_record(m, TRC_VMXLAB_RUN_END, false, 0, end, 2);
		if (m->trace && trc_writer_close(m->trace, err, sizeof(err)))
			mlog(m, 0, "trace %s: %s", m->cfg.trace_path, err);
		m->trace = NULL;
	}
}

void machine_interrupt(struct machine *m)
{
	m->interrupted = 1;
	sim_request_stop(m->sim);
}

const struct reason_stats *machine_reason_stats(const struct machine *m, unsigned reason)
{
	return reason < VMX_EXIT_REASON_COUNT ? &m->stats[reason] : NULL;
}

const struct port_stats *machine_port_stats(const struct machine *m, uint16_t port)
{
	return &m->ports[port];
}

const struct port_stats *machine_mmio_stats(const struct machine *m, unsigned dev, const char **name)
{
	if (dev >= platform_ndevs(m->plat))
		return NULL;
	*name = platform_dev(m->plat, dev)->ops->name;
	return &m->mmio[dev];
}

const char *machine_port_device(const struct machine *m, uint16_t port)
{
	for (unsigned i = 0; i < platform_ndevs(m->plat); i++) {
		const struct vmx_dev_ops *o = platform_dev(m->plat, i)->ops;
		for (unsigned r = 0; r < o->nranges; r++)
			if (!o->ranges[r].mmio && port >= o->ranges[r].base && port - o->ranges[r].base < o->ranges[r].len)
				return o->name;
	}
	return NULL;
}

struct sim_machine *machine_sim(struct machine *m)
{
	return m->sim;
}

int machine_dump_device(struct machine *m, const char *name, FILE *out)
{
	struct vmx_dev *d = platform_find(m->plat, name);

	if (!d)
		return -1;
	if (d->placement == PLACE_HV) {
		if (d->ops->dump)
			d->ops->dump(d->state, out);
		return 0;
	}
	struct vmx_ioreq none = { 0 };
	if (dm_request(m, DM_OP_DUMP, m->dm_index[d->index], &none))
		return -1;
	fputs(dm_page(m->dm)->dump, out);
	return 0;
}

/* ------------------------------------------------------------ debugging
 *
 * vmxlab debug (machine.h): the loop of machine_run cut at two places, before
 * and after the handler of each exit.  The handler always sees the recording
 * vCPU here, with its access log on; a run with a trace sees it anyway.
 */

struct machine_dbg {
	struct machine_exit_log *log;   /* during machine_handle_exit */
	bool pending;                   /* at an exit whose handler has not run */
	bool ended;
	struct machine_result result;
};

static void dbg_note_record(struct machine *m, uint32_t ev, const uint32_t *w, unsigned n)
{
	struct machine_exit_log *l = m->dbg->log;

	if (!l || l->nrec == MACHINE_LOG_RECORDS)
		return;
	l->rec[l->nrec].event = ev;
	l->rec[l->nrec].n = n < 7 ? n : 7;
	memcpy(l->rec[l->nrec].w, w, l->rec[l->nrec].n * sizeof(uint32_t));
	l->nrec++;
}

static void dbg_note_ioreq(struct machine *m, const struct vmx_dev *dev, const struct vmx_ioreq *req, int rc)
{
	struct machine_exit_log *l = m->dbg->log;

	if (!l || l->nio == MACHINE_LOG_IOREQS)
		return;
	snprintf(l->io[l->nio].dev, sizeof(l->io[0].dev), "%s", dev ? dev->ops->name : "?");
	l->io[l->nio].req = *req;
	l->io[l->nio].rc = rc;
	l->nio++;
}

int machine_debug_begin(struct machine *m)
{
	if (m->dbg)
		return 0;
	m->dbg = calloc(1, sizeof(*m->dbg));
	if (!m->dbg)
		return -1;
	m->dbg->result.end = END_ERROR;
	if (!m->inputs && !(m->inputs = input_rec_new(m->vcpu)))
		return -1;
	return input_rec_set_log(m->inputs, true);
}

static void dbg_end(struct machine *m)
{
	run_end(m, &m->dbg->result);
	m->dbg->ended = true;
	m->dbg->pending = false;
}

static void dbg_fail(struct machine *m, enum machine_end end, const char *msg)
{
	m->dbg->result.end = end;
	snprintf(m->dbg->result.message, sizeof(m->dbg->result.message), "%s", msg);
	dbg_end(m);
}

enum machine_stop machine_resume(struct machine *m, bool step)
{
	struct machine_dbg *d = m->dbg;
	char msg[1200];

	if (d->ended)
		return MACHINE_ENDED;
	if (d->pending)
		return MACHINE_AT_EXIT;
	enum sim_stop st = step ? sim_step(m->sim) : sim_run(m->sim);
	if (m->failure[0]) {
		dbg_fail(m, END_ERROR, m->failure);
		return MACHINE_ENDED;
	}
	switch (st) {
	case SIM_STOP_EXIT:
		d->pending = true;
		return MACHINE_AT_EXIT;
	case SIM_STOP_STEP:
		return MACHINE_STEPPED;
	case SIM_STOP_REQUEST:
		if (!m->interrupted)
			return MACHINE_STOPPED;
		dbg_fail(m, END_INTERRUPTED, "interrupted");
		return MACHINE_ENDED;
	case SIM_STOP_BUDGET:
		dbg_fail(m, END_LIMIT, "instruction limit reached");
		return MACHINE_ENDED;
	default:
		snprintf(msg, sizeof(msg), "simulator stopped (%s): %s", sim_stop_name(st), sim_error(m->sim));
		dbg_fail(m, st == SIM_STOP_IDLE ? END_GUEST_DEAD : END_ERROR, msg);
		return MACHINE_ENDED;
	}
}

int machine_handle_exit(struct machine *m, struct machine_exit_log *log)
{
	struct machine_dbg *d = m->dbg;

	if (!d->pending)
		return -1;
	d->pending = false;
	memset(log, 0, sizeof(*log));
	d->log = log;
	vtime_t t0 = sim_now(m->sim);
	enum hv_verdict v = one_exit(m, &d->result);
	d->log = NULL;
	log->verdict = v;
	log->modelled_ns = sim_now(m->sim) - t0;
	log->acc = input_rec_log(m->inputs, &log->nacc, &log->acc_truncated);
	if (v != HV_RESUME) {
		snprintf(log->message, sizeof(log->message), "%s", d->result.message);
		dbg_end(m);
		return 0;
	}
	if (m->cfg.max_vtime && sim_now(m->sim) >= m->cfg.max_vtime) {
		dbg_fail(m, END_LIMIT, "virtual-time limit reached");
		return 0;
	}
	return 1;
}

void machine_request_stop(struct machine *m)
{
	sim_request_stop(m->sim);
}

bool machine_exit_pending(const struct machine *m)
{
	return m->dbg && m->dbg->pending;
}

const struct machine_result *machine_debug_result(const struct machine *m)
{
	return m->dbg && m->dbg->ended ? &m->dbg->result : NULL;
}

struct vmx_vcpu *machine_vcpu(struct machine *m)
{
	return m->vcpu;
}

const char *machine_hv_name(const struct machine *m)
{
	return m->hvb.hv && m->hvb.hv->name ? m->hvb.hv->name : "?";
}

unsigned machine_ndevs(const struct machine *m)
{
	return platform_ndevs(m->plat);
}

const struct vmx_dev *machine_device(const struct machine *m, unsigned i)
{
	return i < platform_ndevs(m->plat) ? platform_dev(m->plat, i) : NULL;
}

/* ------------------------------------------------------------ screenshots */

int machine_screenshot(struct machine *m, const char *path, char *err, size_t errlen)
{
	struct vmx_dev *d = platform_find(m->plat, "vga");

	if (!d) {
		snprintf(err, errlen, "screenshot %s: the machine has no vga device", path);
		return -1;
	}
	if (!d->state) {
		snprintf(err, errlen, "screenshot %s: the vga model runs in vmxlab-dm (placement dm); "
			 "screenshots need placement hv", path);
		return -1;
	}
	size_t max = (size_t)VGA_MAX_XRES * VGA_MAX_YRES;
	uint32_t *px = malloc(max * sizeof(*px));
	unsigned w, h;
	int rc = -1;
	if (!px)
		snprintf(err, errlen, "screenshot %s: out of memory", path);
	else if (vga_render(d->state, px, max, &w, &h))
		snprintf(err, errlen, "screenshot %s: the screen does not fit", path);
	else
		rc = png_write_rgb32(path, px, w, h, err, errlen);
	free(px);
	return rc;
}

/* Take the screenshots due at `now`, arm the timer for the next one.
 * Screenshots do not touch the guest, so they do not change the run. */
static void shot_timer_fired(void *ctx, vtime_t now)
{
	struct machine *m = ctx;
	char err[1200];

	for (unsigned i = 0; i < m->cfg.nscreenshots; i++) {
		const struct machine_screenshot *s = &m->cfg.screenshots[i];
		if (s->at != VTIME_NEVER && !m->shot_done[i] && s->at <= now) {
			m->shot_done[i] = true;
			if (machine_screenshot(m, s->path, err, sizeof(err)))
				mlog(m, 1, "%s", err);
		}
	}
	shot_arm(m);
}

static void shot_arm(struct machine *m)
{
	vtime_t next = VTIME_NEVER;

	for (unsigned i = 0; i < m->cfg.nscreenshots; i++)
		if (!m->shot_done[i] && m->cfg.screenshots[i].at < next)
			next = m->cfg.screenshots[i].at;
	if (m->shot_timer >= 0 && next != VTIME_NEVER)
		sim_timer_arm(m->sim, m->shot_timer, next);
}

/* ------------------------------------------------------------ display: sdl */

#define DISPLAY_POLL_NS 1000000ull      /* look at the wall clock every virtual ms */
#define DISPLAY_FRAME_NS 40000000ull    /* and redraw the window at most 25 times a second */

static uint64_t wall_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void display_refresh(struct machine *m, vtime_t now)
{
	struct vmx_dev *d = platform_find(m->plat, "vga");
	static uint32_t px[VGA_MAX_XRES * VGA_MAX_YRES];
	unsigned w, h;
	uint64_t exits = 0;
	char title[256];

	if (!d || !d->state || vga_render(d->state, px, sizeof(px) / sizeof(px[0]), &w, &h))
		return;
	display_show(m->display, px, w, h);
	for (unsigned i = 0; i < VMX_EXIT_REASON_COUNT; i++)
		exits += m->stats[i].count;
	uint64_t wall = wall_ns();
	double dv = (double)(now - m->disp_vtime) / 1e9, dw = (double)(wall - m->disp_wall_ns) / 1e9;
	snprintf(title, sizeof(title), "%s - %.0f exits/s virtual, %.0f exits/s host - %ux%u",
		 m->cfg.display_title[0] ? m->cfg.display_title : "vmxlab", dv > 0 ? (double)(exits - m->disp_exits) / dv : 0.0,
		 dw > 0 ? (double)(exits - m->disp_exits) / dw : 0.0, w, h);
	display_title(m->display, title);
	m->disp_exits = exits;
	m->disp_vtime = now;
	m->disp_wall_ns = wall;
}

/* The window is redrawn on wall-clock time (what a person watches), polled
 * from a virtual-time timer that does not touch the guest. */
static void disp_timer_fired(void *ctx, vtime_t now)
{
	struct machine *m = ctx;

	if (wall_ns() - m->disp_wall_ns >= DISPLAY_FRAME_NS)
		display_refresh(m, now);
	sim_timer_arm(m->sim, m->disp_timer, now + DISPLAY_POLL_NS);
}

static int display_start(struct machine *m, char *err, size_t errlen)
{
	struct vmx_dev *d = platform_find(m->plat, "vga");

	if (!d || !d->state) {
		snprintf(err, errlen, "display: sdl needs the vga device placed hv");
		return -1;
	}
	m->display = display_open(m->cfg.display_title[0] ? m->cfg.display_title : "vmxlab", err, errlen);
	if (!m->display)
		return -1;
	m->disp_timer = sim_timer_new(m->sim, disp_timer_fired, m);
	if (m->disp_timer < 0) {
		snprintf(err, errlen, "display: no timer");
		return -1;
	}
	m->disp_wall_ns = wall_ns();
	sim_timer_arm(m->sim, m->disp_timer, DISPLAY_POLL_NS);
	return 0;
}

/* The last frame, then (for tests) the window's own pixels as a PNG file
 * when VMXLAB_DISPLAY_SNAPSHOT names one. */
static void display_stop(struct machine *m)
{
	if (!m->display)
		return;
	display_refresh(m, sim_now(m->sim));
	const char *snap = getenv("VMXLAB_DISPLAY_SNAPSHOT");
	char err[512];
	if (snap && *snap && display_snapshot(m->display, snap, err, sizeof(err)))
		fprintf(stderr, "vmxlab: %s\n", err);
	display_close(m->display);
	m->display = NULL;
}
