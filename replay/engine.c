/*
 * The replay engine (replay.h): trace records in merged order are grouped
 * into exits per physical CPU (VMEXIT ... VMENTRY, or until a runstate
 * change closes the exit, as xenalyze does), each exit's inputs are rebuilt
 * in the synthetic vCPU of its domain:vcpu, and the handler build runs on
 * them with in-process device models whose clocks follow the trace.  Each
 * exit's life is the live machine's (vm.h, vm_exit_handle).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <vmxlab/replay.h>
#include <vmxlab/trace.h>
#include <vmxlab/vcpu.h>

#include "../analysis/progress.h"
#include "engine_priv.h"

/* ------------------------------------------------------------ small helpers */

const char *fidelity_name(enum fidelity f)
{
	static const char *const n[] = { "recorded", "inferred", "defaulted", "skipped" };
	return (unsigned)f < FID_COUNT ? n[f] : "?";
}

const char *replay_outcome_name(enum replay_outcome o)
{
	static const char *const n[] = { "same", "divergent", "unhandled", "not_modelled" };
	return (unsigned)o < REPLAY_OUTCOMES ? n[o] : "?";
}

/* Xen's public ABI, xen/include/public/xen.h: __HYPERVISOR_* numbers. */
const char *xen_hypercall_name(uint32_t n)
{
	static const char *const names[] = {
		[0] = "set_trap_table", [1] = "mmu_update", [2] = "set_gdt", [3] = "stack_switch",
		[4] = "set_callbacks", [5] = "fpu_taskswitch", [6] = "sched_op_compat", [7] = "platform_op",
		[8] = "set_debugreg", [9] = "get_debugreg", [10] = "update_descriptor", [12] = "memory_op",
		[13] = "multicall", [14] = "update_va_mapping", [15] = "set_timer_op",
		[16] = "event_channel_op_compat", [17] = "xen_version", [18] = "console_io",
		[19] = "physdev_op_compat", [20] = "grant_table_op", [21] = "vm_assist",
		[22] = "update_va_mapping_otherdomain", [23] = "iret", [24] = "vcpu_op", [25] = "set_segment_base",
		[26] = "mmuext_op", [27] = "xsm_op", [28] = "nmi_op", [29] = "sched_op", [30] = "callback_op",
		[31] = "xenoprof_op", [32] = "event_channel_op", [33] = "physdev_op", [34] = "hvm_op",
		[35] = "sysctl", [36] = "domctl", [37] = "kexec_op", [38] = "tmem_op", [39] = "argo_op",
		[40] = "xenpmu_op", [41] = "dm_op", [42] = "hypfs_op",
	};
	return n < sizeof(names) / sizeof(names[0]) ? names[n] : NULL;
}

void replay_inputs_str(uint32_t bits, char *buf, size_t len)
{
	static const char *const names[] = { "size", "instruction length", "string count and buffer",
					     "MMIO instruction", "register", "qualification", "data",
					     "guest state" };
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < 8; i++)
		if (bits & (1u << i)) {
			int n = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", names[i]);
			if (n < 0 || (size_t)n >= len - used)
				return;
			used += (size_t)n;
		}
}

/* ------------------------------------------------------------ the host */

static vtime_t h_now(void *ctx)
{
	return ((struct engine *)ctx)->now;
}

static uint64_t h_tsc(void *ctx)
{
	struct engine *e = ctx;

	return e->exact_now ? ns_to_tsc(e, e->now + e->core.charge) : e->tsc_now;
}

/* A request to a device placed dm: format 2 has vmxlab-dm's answers. */
static int h_ioreq(void *ctx, struct vmx_dev *dev, struct vmx_ioreq *req)
{
	return dmplay_ioreq(ctx, dev, req);
}

/* HLT: a format-2 trace has each idle step of the run; otherwise the
 * domain's device timers carry time forward. */
static vtime_t h_idle(void *ctx)
{
	struct engine *e = ctx;
	if (e->curx)
		return dmplay_idle(e);
	vtime_t next = platform_next_deadline(e->cur->d->plat);

	if (next == VTIME_NEVER)
		return (vtime_t)-1;
	if (next > e->now)
		e->now = next;
	platform_run_until(e->cur->d->plat, e->now);
	return e->now;
}

static void h_trace(void *ctx, uint32_t ev, const uint32_t *w, unsigned n)
{
	struct engine *e = ctx;

	vm_core_note_record(&e->core, ev, w, n);
	if (e->nemitted == e->capemitted) {
		unsigned cap = e->capemitted ? e->capemitted * 2 : 64;
		struct trc_record *a = cap <= MAX_EXIT_RECORDS ? realloc(e->emitted, cap * sizeof(*a)) : NULL;
		if (!a)
			return;
		e->emitted = a;
		e->capemitted = cap;
	}
	struct trc_record *r = &e->emitted[e->nemitted++];
	r->event = ev;
	r->n = (uint8_t)(n < TRC_REC_MAX_EXTRA ? n : TRC_REC_MAX_EXTRA);
	memcpy(r->d, w, r->n * sizeof(uint32_t));
}

static void h_console(void *ctx, const char *buf, size_t len)
{
	struct engine *e = ctx;
	if (e->cfg->console && e->pass == 0)
		fwrite(buf, 1, len, e->cfg->console);
}

static void h_phase(void *ctx, uint32_t phase)
{
	(void)ctx;
	(void)phase;
}

static void h_log(void *ctx, int level, const char *fmt, va_list ap)
{
	struct engine *e = ctx;

	if ((level >= 2 && !e->cfg->verbose) || e->pass > 0 || e->errors_logged >= 5 || e->cfg->quiet)
		return;
	e->errors_logged++;
	fprintf(stderr, "vmxlab replay: %s", level == 0 ? "handler error: " : "handler warning: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	if (e->errors_logged == 5)
		fprintf(stderr, "vmxlab replay: further handler messages are not shown\n");
}

static void dev_log(void *ctx, const char *dev, const char *msg)
{
	struct engine *e = ctx;
	if (e->pass == 0 && !e->cfg->quiet)
		fprintf(stderr, "vmxlab replay: device %s: %s\n", dev, msg);
}

/* ------------------------------------------------------------ domains and vcpus */

static void r_irq_out(void *ctx, unsigned line, bool level)
{
	dmplay_irq_out(ctx, line, level);
}

static void r_charge(void *ctx, vtime_t ns)
{
	vm_core_charge(&((struct engine *)ctx)->core, ns);
}

static void *r_map_shared(void *ctx, uint64_t gpa, uint64_t len)
{
	return dmplay_map_shared(ctx, gpa, len);
}

static void domain_free(struct domctx *d)
{
	platform_free(d->plat);
	for (unsigned i = 0; i < d->nshared; i++)
		free(d->shared[i].mem);
	free(d);
}

/* The options of device `name`: --scenario's when it has the device, else
 * the recorded ones. */
static const char *dev_options(const struct engine *e, const struct rec_dev *r)
{
	for (unsigned i = 0; i < e->cfg->ndevs; i++)
		if (!strcmp(e->cfg->devs[i].name, r->name))
			return e->cfg->devs[i].options;
	return r->options;
}

/* A domain's devices: a format-2 trace's machine as recorded (devices placed
 * dm are answered from the trace and have no state here), or the
 * configured devices, all here. */
static struct domctx *domain(struct engine *e, uint32_t dom)
{
	for (struct domctx *d = e->doms; d; d = d->next)
		if (d->dom == dom)
			return d;
	struct domctx *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	bool recorded = e->format >= 2 && e->nrdevs;
	struct platform_config pc = { .ctx = e, .log = dev_log, .charge = r_charge };
	if (recorded) {
		pc.irq_out = r_irq_out;
		pc.map_shared = r_map_shared;
	}
	d->plat = platform_new(&pc);
	d->dm_pic_pending = -1;
	if (!d->plat) {
		free(d);
		return NULL;
	}
	e->building = d;
	unsigned n = recorded ? e->nrdevs : e->ndevs;
	for (unsigned i = 0; i < n; i++) {
		const char *name = recorded ? e->rdevs[i].name : e->devs[i].name;
		const char *options = recorded ? dev_options(e, &e->rdevs[i]) : e->devs[i].options;
		enum vmx_placement place = recorded ? e->rdevs[i].placement : PLACE_HV;
		const struct vmx_dev_ops *ops = vmx_dev_lookup(name);
		if (!ops) {
			snprintf(e->err, sizeof(e->err), "unknown device '%s'", name);
			e->building = NULL;
			domain_free(d);
			return NULL;
		}
		if (!platform_add(d->plat, ops, options, place, place == PLACE_HV, e->err, sizeof(e->err))) {
			e->building = NULL;
			domain_free(d);
			return NULL;
		}
	}
	e->building = NULL;
	d->dom = dom;
	d->next = e->doms;
	e->doms = d;
	return d;
}

static struct vctx *vcpu_of(struct engine *e, uint32_t dom, uint32_t vcpu)
{
	struct vctx **tail = &e->vcpus;

	for (struct vctx *c = e->vcpus; c; c = c->next) {
		if (c->dom == dom && c->vcpu == vcpu)
			return c;
		tail = &c->next;
	}
	struct vctx *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->dom = dom;
	c->vcpu = vcpu;
	c->d = domain(e, dom);
	c->v = c->d ? vmx_synth_create(vcpu) : NULL;
	if (!c->v) {
		free(c);
		return NULL;
	}
	/* Every guest-physical address is RAM (zero until the trace says
	 * otherwise) except the device windows and reads the run saw fail. */
	vmx_synth_add_ram(c->v, 0, ~0ull);
	for (unsigned i = 0; i < platform_ndevs(c->d->plat); i++) {
		const struct vmx_dev_ops *o = platform_dev(c->d->plat, i)->ops;
		for (unsigned r = 0; r < o->nranges; r++)
			if (o->ranges[r].mmio && vmx_synth_add_hole(c->v, o->ranges[r].base, o->ranges[r].len) == 0)
				c->holes++;
	}
	e->host.ndevs = platform_ndevs(c->d->plat);
	e->host.devs = platform_devs(c->d->plat);
	c->hv = e->cfg->hv->init(&e->host, e->err, sizeof(e->err));
	if (!c->hv) {
		vmx_synth_destroy(c->v);
		free(c);
		return NULL;
	}
	*tail = c;
	if (e->pass == 0)
		e->res->vcpus++;
	return c;
}

static void free_all(struct engine *e)
{
	while (e->vcpus) {
		struct vctx *c = e->vcpus;
		e->vcpus = c->next;
		e->cfg->hv->fini(c->hv);
		vmx_synth_destroy(c->v);
		free(c);
	}
	while (e->doms) {
		struct domctx *d = e->doms;
		e->doms = d->next;
		domain_free(d);
	}
	for (unsigned i = 0; i < 4096; i++) {
		if (e->pcpu[i]) {
			free(e->pcpu[i]->rec);
			free(e->pcpu[i]->used);
		}
		free(e->pcpu[i]);
		e->pcpu[i] = NULL;
	}
	for (unsigned i = 0; i < e->nrdevs; i++) {
		free(e->rdevs[i].dump);
		e->rdevs[i].dump = NULL;
		e->rdevs[i].dump_len = 0;
	}
	e->nasync = 0;
}

/* ------------------------------------------------------------ one exit */

static void count_port_read(struct engine *e, struct vctx *c, uint16_t port, uint32_t recorded, uint32_t got)
{
	struct replay_result *res = e->res;
	struct replay_port_mismatch *pm = NULL;

	res->read_checks++;
	for (unsigned i = 0; i < res->nports; i++)
		if (res->ports[i].port == port)
			pm = &res->ports[i];
	if (!pm && res->nports < 64) {
		pm = &res->ports[res->nports++];
		pm->port = port;
		const char *owner = platform_owner_name(c->d->plat, false, port);
		snprintf(pm->dev, sizeof(pm->dev), "%s", owner ? owner : "no device");
	}
	if (pm)
		pm->reads++;
	if (recorded != got) {
		res->read_mismatches++;
		if (pm)
			pm->mismatches++;
	}
}

/* Device reads: the value the model gave vs the value in the trace. */
static void compare_reads(struct engine *e, struct vctx *c, const struct exitbuf *x)
{
	const struct trc_record *rec = exit_find(x, TRC_HVM_IOPORT_READ);

	if (!rec || rec->n < 2)
		return;
	for (unsigned i = 0; i < e->nemitted; i++)
		if (e->emitted[i].event == TRC_HVM_IOPORT_READ && e->emitted[i].n >= 2) {
			count_port_read(e, c, (uint16_t)rec->d[0], rec->d[1], e->emitted[i].d[1]);
			return;
		}
}

/* A vmxlab trace holds the handler's own records: replay must emit the same. */
static void compare_records(struct engine *e, const struct exitbuf *x)
{
	unsigned k = 0;

	for (unsigned i = 0; i < x->n; i++) {
		const struct trc_record *r = &x->rec[i];
		if (TRC_IS_VMXLAB(r->event) || r->event == TRC_HVM_VMENTRY || trc_is_vmexit(r->event))
			continue;
		while (k < e->nemitted && (trc_is_vmexit(e->emitted[k].event) || e->emitted[k].event == TRC_HVM_VMENTRY ||
					   TRC_IS_VMXLAB(e->emitted[k].event)))
			k++;
		e->res->record_checks++;
		if (k >= e->nemitted || e->emitted[k].event != r->event || e->emitted[k].n != r->n ||
		    memcmp(e->emitted[k].d, r->d, r->n * sizeof(uint32_t))) {
			if (!e->res->record_mismatches++) {
				e->res->first_mismatch_exit = e->res->exits;
				e->res->first_mismatch_offset = r->offset;
			}
		}
		k++;
	}
}

static bool emitted_has(const struct engine *e, uint32_t ev, const struct trc_record **r)
{
	for (unsigned i = 0; i < e->nemitted; i++)
		if (e->emitted[i].event == ev) {
			*r = &e->emitted[i];
			return true;
		}
	return false;
}

#define HLT_WOKE "the trace's vCPU woke on, by an interrupt source this build does not model"

/* A HLT of a Xen capture the handler found no wake-up for: the trace says
 * whether the vCPU ran on (woke) or not (halted for good). */
static void settle_halt(struct engine *e, struct vctx *c, bool ran_on)
{
	struct replay_reason *rr = &e->res->reasons[EXIT_REASON_HLT];

	if (!c->halted)
		return;
	c->halted = false;
	if (ran_on) {
		rr->outcome[OUT_DIVERGENT]++;
		if (!rr->divergent_why[0])
			snprintf(rr->divergent_why, sizeof(rr->divergent_why), "%s", HLT_WOKE);
	} else {
		rr->outcome[OUT_UNHANDLED]++;
		if (!rr->unhandled_why[0])
			snprintf(rr->unhandled_why, sizeof(rr->unhandled_why), "%.110s (no later exit of its vCPU in the trace)",
				 c->halted_msg);
	}
}

/* The exit's outcome against the trace (enum replay_outcome).  A vmxlab
 * trace holds the handler's own records: any difference is a divergence.
 * A Xen capture holds Xen's: the hypercall it answered, the vector it
 * injected, and whether the vCPU ran on (its VMENTRY). */
static void classify(struct engine *e, struct vctx *c, const struct exitbuf *x, struct replay_reason *rr,
		     enum hv_verdict verdict, const struct hv_exit *out, bool mismatched)
{
	const struct trc_record *r, *t;
	enum replay_outcome o = OUT_SAME;
	const char *why = NULL;
	uint32_t reason = VMX_EXIT_REASON_BASIC(x->raw);

	if (emitted_has(e, TRC_VMXLAB_NOT_MODELLED, &r)) {
		o = OUT_NOT_MODELLED;
		if (r->n >= 2 && r->d[1] < 32)
			rr->not_modelled_kinds |= 1u << r->d[1];
	} else if (exit_find(x, TRC_VMXLAB_EXIT_TIME)) {
		if (mismatched) {
			o = OUT_DIVERGENT;
			why = "its handler records differ from the run's";
		}
	} else if (reason == EXIT_REASON_HLT && verdict == HV_GUEST_DEAD) {
		if (x->entered) {
			o = OUT_DIVERGENT;
			why = HLT_WOKE;
		} else {
			c->halted = true;
			snprintf(c->halted_msg, sizeof(c->halted_msg), "%.159s", out->msg);
			return;
		}
	} else if (verdict == HV_ERROR || verdict == HV_GUEST_DEAD) {
		o = OUT_UNHANDLED;
		if (!rr->unhandled_why[0])
			snprintf(rr->unhandled_why, sizeof(rr->unhandled_why), "%.159s", out->msg);
	} else if (reason == EXIT_REASON_VMCALL && (t = exit_find(x, TRC_HVM_VMMCALL)) &&
		   (int64_t)vcpu_gpr(c->v, GPR_RAX) == -38 /* -ENOSYS */) {
		o = OUT_DIVERGENT;
		rr->hypercalls[t->d[0] & 63]++;
		why = "Xen hypercalls this build does not implement (it answers -ENOSYS)";
	} else if ((t = exit_find(x, TRC_HVM_INJ_VIRQ)) && t->n >= 1 &&
		   (!emitted_has(e, TRC_HVM_INJ_VIRQ, &r) || r->n < 1 || r->d[0] != t->d[0])) {
		o = OUT_DIVERGENT;
		why = "injects another vector than the trace (or none)";
	}
	rr->outcome[o]++;
	if (why && !rr->divergent_why[0])
		snprintf(rr->divergent_why, sizeof(rr->divergent_why), "%s", why);
}

static void add_sample(struct engine *e, uint64_t **samples, uint64_t *nsamples, uint64_t *capsamples, uint64_t ns)
{
	uint64_t cap = e->cfg->max_samples ? e->cfg->max_samples : 100000;

	if (*nsamples >= cap)
		return;
	if (*nsamples == *capsamples) {
		uint64_t ncap = *capsamples ? *capsamples * 2 : 256;
		uint64_t *s = realloc(*samples, ncap * sizeof(*s));
		if (!s)
			return;
		*samples = s;
		*capsamples = ncap;
	}
	(*samples)[(*nsamples)++] = ns;
}

/* The exit's operand, from the inputs just set in the vCPU (the same values
 * the handler is about to read): 0 with *id, or -1 for reasons without
 * sub-keys. */
static int subkey_id(struct vctx *c, uint32_t reason, uint64_t *id)
{
	struct vmx_vcpu *v = c->v;

	switch (reason) {
	case EXIT_REASON_IO_INSTRUCTION: {
		uint64_t q = vmcs_read(v, VMCS_EXIT_QUALIFICATION);
		*id = (uint16_t)(q >> 16) | (uint64_t)((q & 8) != 0) << 16;
		return 0;
	}
	case EXIT_REASON_MSR_READ:
	case EXIT_REASON_MSR_WRITE:
		*id = (uint32_t)vcpu_gpr(v, GPR_RCX);
		return 0;
	case EXIT_REASON_CR_ACCESS: {
		struct vmx_cr_qual q;
		vmx_cr_qual_decode(vmcs_read(v, VMCS_EXIT_QUALIFICATION), &q);
		*id = q.cr | (uint64_t)q.type << 8;
		return 0;
	}
	case EXIT_REASON_EPT_VIOLATION: {
		uint64_t gpa = vmcs_read(v, VMCS_GUEST_PHYSICAL_ADDRESS);
		for (unsigned i = 0; i < platform_ndevs(c->d->plat); i++) {
			const struct vmx_dev_ops *o = platform_dev(c->d->plat, i)->ops;
			for (unsigned r = 0; r < o->nranges; r++)
				if (o->ranges[r].mmio && gpa >= o->ranges[r].base && gpa - o->ranges[r].base < o->ranges[r].len) {
					*id = 1ull << 63 | (uint64_t)i << 8 | r;
					return 0;
				}
		}
		/* The page number, so that bit 63 (an MMIO range above) stays clear
		 * whatever GPA a corrupt trace holds. */
		*id = gpa >> 12;
		return 0;
	}
	default:
		return -1;
	}
}

/* A sub-key's label, made once when it first appears. */
static void subkey_label(struct vctx *c, uint32_t reason, uint64_t id, char *label, size_t len)
{
	switch (reason) {
	case EXIT_REASON_IO_INSTRUCTION:
		snprintf(label, len, "port 0x%04x %s", (unsigned)(id & 0xffff), id >> 16 ? "in" : "out");
		break;
	case EXIT_REASON_CR_ACCESS: {
		unsigned cr = id & 0xff, type = (unsigned)(id >> 8);
		if (type == CR_CLTS || type == CR_LMSW)
			snprintf(label, len, "%s", type == CR_CLTS ? "CLTS" : "LMSW");
		else
			snprintf(label, len, "CR%u %s", cr, type == CR_MOV_TO ? "mov-to" : "mov-from");
		break;
	}
	case EXIT_REASON_EPT_VIOLATION:
		if (id >> 63) {
			const struct vmx_dev_ops *o = platform_dev(c->d->plat, (unsigned)(id >> 8) & 0xff)->ops;
			snprintf(label, len, "MMIO %.16s 0x%" PRIx64, o->name, o->ranges[id & 0xff].base);
		} else {
			snprintf(label, len, "GPA page 0x%" PRIx64, id << 12);
		}
		break;
	default:
		snprintf(label, len, "MSR 0x%08" PRIx64, id);
		break;
	}
}

static struct replay_subkey *subkey_of(struct engine *e, struct vctx *c, uint32_t reason)
{
	struct replay_result *res = e->res;
	uint64_t id;

	if (subkey_id(c, reason, &id))
		return NULL;
	const unsigned nslots = sizeof(e->subslot) / sizeof(e->subslot[0]);
	unsigned h = (unsigned)(((id ^ (uint64_t)reason << 40) * 0x9e3779b97f4a7c15ull) >> 52) % nslots;
	for (;; h = (h + 1) % nslots) {
		unsigned k = e->subslot[h];
		if (!k)
			break;
		struct replay_subkey *sk = &res->subkeys[k - 1];
		if (sk->reason == reason && sk->id == id)
			return sk;
	}
	if (res->nsubkeys >= REPLAY_MAX_SUBKEYS)
		return NULL;
	if (!res->subkeys && !(res->subkeys = calloc(REPLAY_MAX_SUBKEYS, sizeof(*res->subkeys))))
		return NULL;
	unsigned repeat = e->cfg->repeat ? e->cfg->repeat : 1;
	struct replay_subkey *sk = &res->subkeys[res->nsubkeys];
	sk->repeat_median = malloc(repeat * sizeof(double));
	if (!sk->repeat_median)
		return NULL;
	for (unsigned i = 0; i < repeat; i++)
		sk->repeat_median[i] = NAN;
	sk->reason = reason;
	sk->id = id;
	subkey_label(c, reason, id, sk->label, sizeof(sk->label));
	e->subslot[h] = (uint16_t)++res->nsubkeys;
	return sk;
}

/* An exit whose inputs are set in its vCPU, its handler not run yet: what
 * prepare_exit hands to run_exit (and the iterator to its caller). */
struct pending {
	struct exitbuf *x;
	struct vctx *c;
	uint32_t reason;
	enum fidelity fid;
	uint32_t inferred, defaulted;
	bool exact;
	vtime_t charge0;         /* the recorded opening charge (vmxlab traces) */
	const char *skipped;     /* not replayed: why (prepare_exit returned false) */
	uint64_t native_ns;      /* after run_exit */
};

/* An exit not replayed: counted (first replay) with its first reason. */
static bool skip(struct replay_reason *rr, bool first, struct pending *p, const char *why)
{
	if (rr && first) {
		rr->fid[FID_SKIPPED]++;
		if (!rr->skip_why[0])
			snprintf(rr->skip_why, sizeof(rr->skip_why), "%s", why);
	}
	p->skipped = why;
	return false;
}

/* Rebuild the exit's inputs; false when it is not replayed (counted as
 * skipped) or its vcpu cannot be set up (res->ended says why). */
static bool prepare_exit(struct engine *e, struct exitbuf *x, struct pending *p)
{
	struct replay_result *res = e->res;
	uint32_t reason = VMX_EXIT_REASON_BASIC(x->raw);
	struct replay_reason *rr = reason < VMX_EXIT_REASON_COUNT ? &res->reasons[reason] : NULL;
	uint32_t inferred = 0, defaulted = 0;
	const char *why = NULL;
	enum fidelity fid;
	vtime_t charge0 = 0;

	memset(p, 0, sizeof(*p));
	p->x = x;
	p->reason = reason;
	x->open = false;
	if (x->overflow)
		why = "more records than one exit can hold";
	struct vctx *c = vcpu_of(e, x->dom, x->vcpu);
	if (!c) {
		snprintf(res->ended, sizeof(res->ended), "d%uv%u: %s", x->dom, x->vcpu, e->err);
		p->skipped = e->err;
		return false;
	}
	if (c->dead)
		why = "the handler ended this vcpu's run at an earlier exit";
	if (e->pass == 0)
		settle_halt(e, c, true);
	bool first = e->pass == 0;
	if (first) {
		res->exits++;
		if (rr)
			rr->exits++;
	}
	if (why) {
		return skip(rr, first, p, why);
	}
	e->cur = c;
	e->nemitted = 0;
	e->now = tsc_to_ns(e, x->tsc);
	bool exact = exit_find(x, TRC_VMXLAB_EXIT_TIME) != NULL;
	vmx_synth_set(c->v, VMCS_VM_EXIT_REASON, x->raw);
	vmx_synth_set(c->v, VMCS_GUEST_RIP, x->rip);
	if (exact) {
		vtime_t stamped = e->now;
		replay_apply_recorded(e, c, x, &charge0);
		/* The run stamped the VMEXIT with the exit's time: a record that
		 * says otherwise is corrupt, and its time is not to be trusted. */
		if ((e->now > stamped ? e->now - stamped : stamped - e->now) > 1000)
			return skip(rr, first, p, "its recorded time disagrees with its VMEXIT's TSC (a corrupt trace?)");
		e->tsc_now = ns_to_tsc(e, e->now + charge0);
		fid = FID_RECORDED;
		res->exact = true;
	} else {
		e->tsc_now = x->tsc;
		fid = replay_infer_inputs(e, c, x, reason, &inferred, &defaulted, &why);
		if (fid == FID_SKIPPED) {
			return skip(rr, first, p, why);
		}
	}
	if (e->now > e->last_now + REPLAY_MAX_JUMP_NS || (exact && e->now < e->last_now)) {
		/* A vmxlab trace's time only moves forward, and no capture's by an
		 * hour between two exits: a corrupt time is not replayed. */
		why = e->now < e->last_now ? "its virtual time goes back (a corrupt trace?)"
					   : "its virtual time jumps by more than an hour (a corrupt trace?)";
		return skip(rr, first, p, why);
	}
	e->last_now = e->now;
	e->exact_now = exact && e->format >= 2;
	if (e->exact_now) {
		/* What the device model did since the last exit, then this exit's
		 * own answers for the handler (dmplay.c). */
		e->curx = NULL;
		dmplay_drain(e, c->d);
		if (x->ucap < x->n) {
			uint8_t *u = realloc(x->used, x->n);
			if (!u) {
				p->skipped = "out of memory";
				return false;
			}
			x->used = u;
			x->ucap = x->n;
		}
		memset(x->used, 0, x->n);
		x->cursor = 0;
		e->curx = x;
	}
	platform_run_until(c->d->plat, e->now);
	p->c = c;
	p->fid = fid;
	p->inferred = inferred;
	p->defaulted = defaulted;
	p->exact = exact;
	p->charge0 = charge0;
	return true;
}

/* Run the handler on a prepared exit (through `via` when given: a vCPU that
 * forwards to the exit's, e.g. a recorder) and account for it. */
static enum hv_verdict run_exit(struct engine *e, struct pending *p, struct vmx_vcpu *via, struct hv_exit *outp)
{
	struct replay_result *res = e->res;
	struct exitbuf *x = p->x;
	struct vctx *c = p->c;
	uint32_t reason = p->reason;
	struct replay_reason *rr = reason < VMX_EXIT_REASON_COUNT ? &res->reasons[reason] : NULL;
	uint32_t inferred = p->inferred, defaulted = p->defaulted;
	enum fidelity fid = p->fid;
	bool exact = p->exact;
	bool first = e->pass == 0;
	struct replay_subkey *sk = rr ? subkey_of(e, c, reason) : NULL;
	struct vm_exit vx = { .hv_state = c->hv, .vcpu = c->v, .via = via, .plat = c->d->plat, .raw = x->raw,
			      .rip = x->rip, .t0 = e->now, .charge0 = p->charge0 };
	struct hv_exit out;
	vm_exit_handle(&e->core, &vx, &out);
	enum hv_verdict verdict = vx.verdict;
	uint64_t ns = vx.native_ns;
	p->native_ns = ns;
	dmplay_exit_done(e);
	if (verdict != HV_RESUME && exact)
		c->dead = true; /* the run ended here too */
	if (verdict == HV_ERROR && !exact && e->pass == 0 && e->errors_logged < 5 && !e->cfg->quiet) {
		e->errors_logged++;
		fprintf(stderr, "vmxlab replay: d%uv%u exit %s at 0x%" PRIx64 ": %s\n", x->dom, x->vcpu,
			vmx_exit_reason_name(reason) ? vmx_exit_reason_name(reason) : "?", x->rip, out.msg);
	}
	if (sk) {
		add_sample(e, &sk->samples, &sk->nsamples, &sk->capsamples, ns);
		if (first)
			sk->exits++;
	}
	if (rr) {
		add_sample(e, &rr->samples, &rr->nsamples, &rr->capsamples, ns);
		if (first) {
			rr->fid[fid]++;
			rr->inferred |= inferred;
			rr->defaulted |= defaulted;
			rr->native_sum += ns;
		}
	}
	if (e->pass == 0) {
		uint64_t before = res->record_mismatches;
		if (exact)
			compare_records(e, x);
		else
			compare_reads(e, c, x);
		if (rr)
			classify(e, c, x, rr, verdict, &out, res->record_mismatches != before);
	}
	if (outp)
		*outp = out;
	return verdict;
}

static void replay_exit(struct engine *e, struct exitbuf *x)
{
	struct pending p;

	if (prepare_exit(e, x, &p))
		run_exit(e, &p, NULL, NULL);
}

/* ------------------------------------------------------------ the record loop */

static struct exitbuf *pcpu_buf(struct engine *e, uint32_t cpu)
{
	if (cpu >= 4096)
		return NULL;
	if (!e->pcpu[cpu])
		e->pcpu[cpu] = calloc(1, sizeof(struct exitbuf));
	return e->pcpu[cpu];
}

static bool selected(const struct engine *e, uint32_t dom, uint32_t vcpu)
{
	return (e->cfg->domain < 0 || (uint32_t)e->cfg->domain == dom) &&
	       (e->cfg->vcpu < 0 || (uint32_t)e->cfg->vcpu == vcpu);
}

/* The recorded machine's devices, in order (format 2 builds it from them),
 * and the names for older traces without --scenario. */
static void note_device(struct engine *e, const struct trc_record *r)
{
	if (r->n < 2)
		return;
	char name[25] = { 0 };
	memcpy(name, &r->d[1], (r->n - 1) * 4 < 24 ? (r->n - 1) * 4 : 24);
	if (!vmx_dev_lookup(name))
		return;
	if (e->nrdevs < REPLAY_MAX_DEVS) {
		struct rec_dev *rd = &e->rdevs[e->nrdevs++];
		snprintf(rd->name, sizeof(rd->name), "%s", name);
		rd->options[0] = '\0';
		rd->placement = r->d[0] == PLACE_DM ? PLACE_DM : PLACE_HV;
	}
	if (e->cfg->ndevs || e->ndevs == REPLAY_MAX_DEVS)
		return;
	for (unsigned i = 0; i < e->ndevs; i++)
		if (!strcmp(e->devs[i].name, name))
			return;
	snprintf(e->devs[e->ndevs++].name, sizeof(e->devs[0].name), "%s", name);
}

static void note_device_option(struct engine *e, const struct trc_record *r)
{
	if (r->n < 3 || r->d[0] >= e->nrdevs || r->d[1] > sizeof(e->rdevs[0].options) - 21)
		return;
	char *o = e->rdevs[r->d[0]].options + r->d[1];
	size_t len = (size_t)(r->n - 2) * 4 < 20 ? (size_t)(r->n - 2) * 4 : 20;
	memcpy(o, &r->d[2], len);
	o[len] = '\0';
}

static void note_dump(struct engine *e, const struct trc_record *r)
{
	if (r->n < 2 || r->d[0] >= e->nrdevs)
		return;
	struct rec_dev *rd = &e->rdevs[r->d[0]];
	size_t len = strnlen((const char *)&r->d[1], (size_t)(r->n - 1) * 4 < 24 ? (size_t)(r->n - 1) * 4 : 24);
	if (rd->dump_len + len > (1u << 20))
		return;
	char *t = realloc(rd->dump, rd->dump_len + len + 1);
	if (!t)
		return;
	memcpy(t + rd->dump_len, &r->d[1], len);
	rd->dump = t;
	rd->dump_len += len;
}

/* A record into the exit collected on its pcpu. */
static void exit_add(struct exitbuf *x, const struct trc_record *r)
{
	if (x->n == x->cap) {
		unsigned cap = x->cap ? x->cap * 2 : 64;
		struct trc_record *a = cap <= MAX_EXIT_RECORDS ? realloc(x->rec, cap * sizeof(*a)) : NULL;
		if (!a) {
			x->overflow = true;
			return;
		}
		x->rec = a;
		x->cap = cap;
	}
	x->rec[x->n++] = *r;
}

static void diag(void *ctx, int level, uint64_t offset, const char *msg)
{
	struct engine *e = ctx;
	if (e->pass == 0 && !e->cfg->quiet)
		fprintf(stderr, "vmxlab replay: %s: offset %" PRIu64 ": %s%s\n", e->cfg->trace_path, offset,
			level == 0 ? "error: " : "warning: ", msg);
}

static bool default_devices_needed(struct engine *e)
{
	return !e->cfg->ndevs && !e->ndevs;
}

/* A VMEXIT record opens an exit on its pcpu (the one open there is closed first). */
static void open_exit(struct engine *e, struct exitbuf *x, const struct trc_item *it)
{
	const struct trc_record *r = &it->rec;

	if (default_devices_needed(e)) {
		static const char *const dflt[] = { "pic", "pit", "uart" };
		for (unsigned i = 0; i < 3; i++)
			snprintf(e->devs[e->ndevs++].name, sizeof(e->devs[0].name), "%s", dflt[i]);
	}
	uint64_t rip;
	if (!selected(e, it->dom, it->vcpu) || !trc_vmexit_decode(r, &x->raw, &rip))
		return;
	x->open = true;
	x->dom = it->dom;
	x->vcpu = it->vcpu;
	x->rip = rip;
	x->rip64 = r->event & TRC_64_FLAG;
	x->tsc = r->tsc;
	x->entered = false;
	x->n = 0;
	x->overflow = false;
}

static int pass_begin(struct engine *e, char *err, size_t errlen)
{
	e->rd = trc_reader_open(e->cfg->trace_path, e->cfg->tolerant ? TRC_READ_TOLERANT : 0, diag, e, err, errlen);
	if (!e->rd)
		return -1;
	e->status = 0;
	e->eof = false;
	e->held = false;
	e->flush = 0;
	e->core.digest = VM_DIGEST_SEED;
	e->last_now = 0;
	e->have_end = false;
	e->have_run_digest = false;
	e->nrdevs = 0;
	e->nasync = 0;
	return 0;
}

/* The next complete exit of the pass in trace order (closed by its VMENTRY,
 * the next VMEXIT or a runstate change of its pcpu; at the end, the exits
 * still open), or NULL at the end (e->status < 0: a read error).  The caller
 * handles it (replay_exit) before asking for the next. */
static struct exitbuf *pass_next(struct engine *e)
{
	const struct trc_item *it;

	if (e->held) {
		e->held = false;
		open_exit(e, pcpu_buf(e, e->held_item.rec.cpu), &e->held_item);
	}
	while (!e->eof && (it = trc_reader_next_ref(e->rd, &e->status))) {
		const struct trc_record *r = &it->rec;
		uint32_t ev = r->event;
		if (e->pass == 0)
			e->res->records++;
		if (ev == TRC_VMXLAB_RUN_INFO && r->n >= 1)
			e->format = r->d[0];
		if (ev == TRC_VMXLAB_RUN_INFO && r->n >= 2 && !e->cfg->tsc_khz && r->d[1])
			e->host.tsc_khz = e->tsc_khz = r->d[1];
		if (ev == TRC_VMXLAB_DEVICE)
			note_device(e, r);
		if (ev == TRC_VMXLAB_DEVICE_OPT)
			note_device_option(e, r);
		if (ev == TRC_VMXLAB_DEV_DUMP)
			note_dump(e, r);
		if (ev == TRC_VMXLAB_RUN_END && r->n >= 2) {
			e->end_ns = u64(r->d);
			e->have_end = true;
			if (r->n >= 4) {
				e->run_digest = u64(r->d + 2);
				e->have_run_digest = true;
			}
		}
		struct exitbuf *x = pcpu_buf(e, r->cpu);
		if (!x)
			continue;
		if (e->format >= 2 && !x->open && dmplay_is_record(ev)) {
			dmplay_async(e, r);
			continue;
		}
		if (trc_is_vmexit(ev)) {
			if (x->open) {
				e->held_item = *it;
				e->held = true;
				return x;
			}
			open_exit(e, x, it);
		} else if (!x->open) {
			continue;
		} else if (ev == TRC_HVM_VMENTRY) {
			x->entered = true;
			x->entry_tsc = r->tsc;
			return x;
		} else if ((ev & 0x0ffff00fu) == TRC_SCHED_RUNSTATE_CHANGE) {
			/* xenalyze closes an open exit at a runstate change of its pcpu. */
			return x;
		} else if ((ev & 0x000ff000u) == TRC_HVM_HANDLER || replay_is_input_record(ev)) {
			exit_add(x, r);
		}
	}
	e->eof = true;
	for (; e->flush < 4096; e->flush++)
		if (e->pcpu[e->flush] && e->pcpu[e->flush]->open)
			return e->pcpu[e->flush];
	return NULL;
}

/* The end of the pass: read errors, the device state at the end into the digest. */
static int pass_end(struct engine *e, char *err, size_t errlen)
{
	if (e->status < 0) {
		snprintf(err, errlen, "%s", trc_reader_error(e->rd));
		trc_reader_close(e->rd);
		e->rd = NULL;
		return -1;
	}
	trc_reader_close(e->rd);
	e->rd = NULL;
	if (e->pass == 0)
		for (struct vctx *c = e->vcpus; c; c = c->next)
			settle_halt(e, c, false);
	/* Device state at the end, in the run's order; a format-2 trace has the
	 * state of the devices placed dm as vmxlab-dm dumped it. */
	e->curx = NULL;
	if (e->have_end && e->end_ns > e->now && e->end_ns <= e->last_now + REPLAY_MAX_JUMP_NS)
		e->now = e->end_ns;
	if (e->doms && e->format >= 2)
		dmplay_drain(e, e->doms);
	for (struct vctx *c = e->vcpus; c; c = c->next) {
		if (e->have_end && e->end_ns <= e->last_now + REPLAY_MAX_JUMP_NS)
			platform_run_until(c->d->plat, e->end_ns);
	}
	for (struct domctx *d = e->doms; d; d = d->next)
		vm_core_digest_devices(&e->core, d->plat, e->format >= 2 ? dmplay_dump : NULL, e);
	if (e->pass == 0) {
		e->res->run_digest_known = e->have_run_digest;
		e->res->run_digest = e->run_digest;
	}
	return 0;
}

/* One replay of the trace; *done counts exits over all of them (the
 * progress line's rate), the trace offset gives the share done. */
static int one_pass(struct engine *e, struct progress *prog, unsigned repeat, uint64_t *done, char *err,
		    size_t errlen)
{
	struct exitbuf *x;
	uint64_t n = 0;

	if (pass_begin(e, err, errlen))
		return -1;
	while ((x = pass_next(e))) {
		replay_exit(e, x);
		n++;
		(*done)++;
		if (progress_due(prog) && x->n) {
			uint64_t bytes = trc_reader_stats(e->rd)->bytes;
			double in_pass = bytes ? (double)x->rec[0].offset / (double)bytes : 0;
			progress_show(prog, *done, "exits", (e->pass + in_pass) / repeat,
				      "%u of %u, %" PRIu64 " exits", e->pass + 1, repeat, n);
		}
	}
	return pass_end(e, err, errlen);
}

/* LSD radix sort, a byte a pass, no pass above the largest value's top
 * byte: handler times are small numbers (a few passes), and a per-replay
 * median over a million samples must not cost what the replay did. */
void replay_sort_ns(uint64_t *v, size_t n)
{
	uint64_t max = 0;
	for (size_t i = 0; i < n; i++)
		max |= v[i];
	uint64_t *tmp = n > 1 ? malloc(n * sizeof(*tmp)) : NULL;
	if (!tmp)
		return;
	uint64_t *src = v, *dst = tmp;
	for (unsigned shift = 0; shift < 64 && (max >> shift); shift += 8) {
		size_t count[257] = { 0 };
		for (size_t i = 0; i < n; i++)
			count[((src[i] >> shift) & 0xff) + 1]++;
		for (unsigned b = 0; b < 256; b++)
			count[b + 1] += count[b];
		for (size_t i = 0; i < n; i++)
			dst[count[(src[i] >> shift) & 0xff]++] = src[i];
		uint64_t *t = src;
		src = dst;
		dst = t;
	}
	if (src != v)
		memcpy(v, src, n * sizeof(*v));
	free(tmp);
}

/* The median of samples[from..to) (the mean of the middle two for an even
 * count), or NAN when there are none. */
static double pass_median(const uint64_t *samples, uint64_t from, uint64_t to)
{
	uint64_t n = to - from;
	if (!n)
		return NAN;
	uint64_t *v = malloc(n * sizeof(*v));
	if (!v)
		return NAN;
	memcpy(v, samples + from, n * sizeof(*v));
	replay_sort_ns(v, n);
	double m = n % 2 ? (double)v[n / 2] : ((double)v[n / 2 - 1] + (double)v[n / 2]) / 2;
	free(v);
	return m;
}

/* What replay_run and replay_iter_open set up alike: the configuration, the
 * host callbacks the handler build calls, the timer and its calibration. */
static void engine_init(struct engine *e, const struct replay_config *cfg, struct replay_result *res)
{
	e->cfg = cfg;
	e->res = res;
	e->tsc_khz = cfg->tsc_khz ? cfg->tsc_khz : DEFAULT_TSC_KHZ;
	e->ndevs = cfg->ndevs;
	memcpy(e->devs, cfg->devs, sizeof(e->devs));
	e->host = (struct hv_host){ .ctx = e, .options = cfg->hv_options, .ioreq = h_ioreq, .now = h_now, .tsc = h_tsc,
				    .idle = h_idle, .trace = h_trace, .console = h_console, .phase = h_phase,
				    .log = h_log, .tsc_khz = e->tsc_khz };
	vm_core_init(&e->core, cfg->hv);
	e->core.prof_tag = cfg->prof_tag;
	const struct vm_timer_info *t = vm_timer();
	res->timer = t->name;
	res->tsc_ns_per_cycle = t->ns_per_cycle;
	res->timer_overhead_ns = t->overhead_ns;
	res->digests_agree = true;
}

int replay_run(const struct replay_config *cfg, struct replay_result *res, char *err, size_t errlen)
{
	struct engine *e = calloc(1, sizeof(*e));
	unsigned repeat = cfg->repeat ? cfg->repeat : 1;
	int rc = 0;

	memset(res, 0, sizeof(*res));
	if (!e) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	engine_init(e, cfg, res);
	e->core.perf_fd = vm_open_instruction_counter();
	res->hw_counter = e->core.perf_fd >= 0;
	for (unsigned i = 0; i < VMX_EXIT_REASON_COUNT; i++) {
		res->reasons[i].repeat_avg = calloc(repeat, sizeof(double));
		res->reasons[i].repeat_median = malloc(repeat * sizeof(double));
		for (unsigned k = 0; res->reasons[i].repeat_median && k < repeat; k++)
			res->reasons[i].repeat_median[k] = NAN;
	}
	uint64_t *sub_before = calloc(REPLAY_MAX_SUBKEYS, sizeof(*sub_before));
	uint64_t w0 = vm_mono_ns(), done = 0;
	struct progress prog;
	progress_begin(&prog, "replay");
	for (e->pass = 0; e->pass < repeat && rc == 0; e->pass++) {
		uint64_t before[VMX_EXIT_REASON_COUNT];
		for (unsigned i = 0; i < VMX_EXIT_REASON_COUNT; i++)
			before[i] = res->reasons[i].nsamples;
		for (unsigned i = 0; sub_before && i < res->nsubkeys; i++)
			sub_before[i] = res->subkeys[i].nsamples;
		unsigned nsub_before = res->nsubkeys;
		rc = one_pass(e, &prog, repeat, &done, err, errlen);
		if (e->pass == 0)
			res->digest = e->core.digest;
		else if (e->core.digest != res->digest)
			res->digests_agree = false;
		for (unsigned i = 0; i < VMX_EXIT_REASON_COUNT; i++) {
			struct replay_reason *rr = &res->reasons[i];
			uint64_t sum = 0, n = rr->nsamples - before[i];
			for (uint64_t k = before[i]; k < rr->nsamples; k++)
				sum += rr->samples[k];
			if (rr->repeat_avg)
				rr->repeat_avg[e->pass] = n ? (double)sum / (double)n : 0;
			if (rr->repeat_median)
				rr->repeat_median[e->pass] = pass_median(rr->samples, before[i], rr->nsamples);
		}
		for (unsigned i = 0; sub_before && i < res->nsubkeys; i++) {
			struct replay_subkey *sk = &res->subkeys[i];
			sk->repeat_median[e->pass] = pass_median(sk->samples, i < nsub_before ? sub_before[i] : 0, sk->nsamples);
		}
		free_all(e);
	}
	free(sub_before);
	progress_end(&prog);
	res->seconds = (double)(vm_mono_ns() - w0) / 1e9;
	res->hw_instructions = e->core.hw_instructions;
	if (e->core.perf_fd >= 0)
		close(e->core.perf_fd);
	free(e->async);
	free(e->emitted);
	free(e);
	return rc;
}

void replay_result_free(struct replay_result *res)
{
	for (unsigned i = 0; i < VMX_EXIT_REASON_COUNT; i++) {
		free(res->reasons[i].samples);
		free(res->reasons[i].repeat_avg);
		free(res->reasons[i].repeat_median);
	}
	for (unsigned i = 0; i < res->nsubkeys; i++) {
		free(res->subkeys[i].samples);
		free(res->subkeys[i].repeat_median);
	}
	free(res->subkeys);
	memset(res, 0, sizeof(*res));
}

/* ------------------------------------------------------------ stepping (replay.h) */

struct replay_iter {
	struct engine *e;
	struct pending p;
	bool have;               /* p is prepared and not handled yet */
	uint64_t index;
};

struct replay_iter *replay_iter_open(const struct replay_config *cfg, struct replay_result *res, char *err,
				     size_t errlen)
{
	struct replay_iter *it = calloc(1, sizeof(*it));
	struct engine *e = calloc(1, sizeof(*e));

	memset(res, 0, sizeof(*res));
	if (!it || !e) {
		free(it);
		free(e);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	it->e = e;
	engine_init(e, cfg, res);
	if (pass_begin(e, err, errlen)) {
		free(e);
		free(it);
		return NULL;
	}
	return it;
}

int replay_iter_next(struct replay_iter *it, struct replay_exit_view *ex, char *err, size_t errlen)
{
	struct engine *e = it->e;

	it->have = false;
	memset(ex, 0, sizeof(*ex));
	struct exitbuf *x = pass_next(e);
	if (!x) {
		if (e->status < 0) {
			snprintf(err, errlen, "%s", trc_reader_error(e->rd));
			return -1;
		}
		return 0;
	}
	it->have = prepare_exit(e, x, &it->p);
	ex->index = ++it->index;
	ex->dom = x->dom;
	ex->vcpu = x->vcpu;
	ex->exit_reason = x->raw;
	ex->rip = x->rip;
	ex->tsc = x->tsc;
	ex->now = it->have ? e->now : tsc_to_ns(e, x->tsc);
	ex->records = x->rec;
	ex->nrecords = x->n;
	ex->skipped = it->have ? NULL : it->p.skipped ? it->p.skipped : "not replayed";
	if (it->have) {
		ex->vcpu_state = it->p.c->v;
		ex->plat = it->p.c->d->plat;
		ex->fid = it->p.fid;
		ex->inferred = it->p.inferred;
		ex->defaulted = it->p.defaulted;
	} else {
		ex->fid = FID_SKIPPED;
	}
	return 1;
}

int replay_iter_handle(struct replay_iter *it, struct vmx_vcpu *via, struct replay_handled *h)
{
	struct engine *e = it->e;

	memset(h, 0, sizeof(*h));
	if (!it->have)
		return -1;
	it->have = false;
	h->verdict = run_exit(e, &it->p, via, &h->out);
	h->native_ns = it->p.native_ns;
	h->emitted = e->emitted;
	h->nemitted = e->nemitted;
	return 0;
}

struct platform *replay_iter_platform(struct replay_iter *it, uint32_t dom)
{
	for (struct domctx *d = it->e->doms; d; d = d->next)
		if (d->dom == dom)
			return d->plat;
	return it->e->doms ? it->e->doms->plat : NULL;
}

int replay_iter_close(struct replay_iter *it, char *err, size_t errlen)
{
	int rc = 0;

	if (!it)
		return 0;
	struct engine *e = it->e;
	if (e->rd) {
		rc = pass_end(e, err, errlen);
		e->res->digest = e->core.digest;
	}
	free_all(e);
	free(e->async);
	free(e->emitted);
	free(e);
	free(it);
	return rc;
}
