/*
 * Debugging a trace (debug.h): the replay engine's iterator (replay.h) steps
 * the trace exit by exit.  At each exit the synthetic vCPU holds the inputs
 * the engine rebuilt (exactly what the handler read, for vmxlab's traces);
 * the handler build runs through a recording vCPU (vm.h), so each
 * exit's VMCS reads and writes are shown as a diff.  A trace has no
 * instructions between exits: guest memory holds only what the handler
 * read during the run (the rest reads as zeros).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <vmxlab/replay.h>

#include "debug.h"

struct dbg_replay {
	struct replay_config cfg;
	struct replay_result res;
	struct replay_iter *it;
	struct hv_build hvb;
	bool hv_loaded;
	struct input_rec *rec;
	struct replay_exit_view ex;
	struct vmx_vcpu *blank;   /* what inspection sees before the first replayed exit */
	uint64_t handled;
};

/* --scenario: the devices and handler options (one debugger per process). */
static struct scenario replay_sc;

static const char *hv_name(struct dbg *d)
{
	return d->rp->hvb.hv && d->rp->hvb.hv->name ? d->rp->hvb.hv->name : "?";
}

/* ------------------------------------------------------------ exits */

static void fidelity_text(const struct replay_exit_view *ex, char *buf, size_t len)
{
	char in[128], de[128];

	replay_inputs_str(ex->inferred, in, sizeof(in));
	replay_inputs_str(ex->defaulted, de, sizeof(de));
	snprintf(buf, len, "%s%s%s%s%s%s", fidelity_name(ex->fid), in[0] ? "; inferred: " : "", in,
		 de[0] ? "; defaulted: " : "", de, "");
}

/* A vmxlab trace sets only what the handler read at this exit: the exit's
 * other fields keep earlier exits' values in the synthetic vCPU.  Xen traces
 * have every one of them rebuilt. */
static void mark_unknown(struct dbg_exit *x, const struct replay_exit_view *ex)
{
	static const struct { uint32_t id; unsigned bit; bool reg; } k[] = {
		{ VMCS_EXIT_QUALIFICATION, DBG_K_QUAL, false }, { VMCS_GUEST_PHYSICAL_ADDRESS, DBG_K_GPA, false },
		{ VMCS_GUEST_LINEAR_ADDRESS, DBG_K_GLA, false }, { VMCS_VM_EXIT_INTR_INFO, DBG_K_INTR, false },
		{ VMCS_VM_EXIT_INTR_ERROR_CODE, DBG_K_INTR_ERR, false }, { VMCS_IDT_VECTORING_INFO, DBG_K_IDT, false },
		{ VMCS_IDT_VECTORING_ERROR_CODE, DBG_K_IDT_ERR, false }, { VMCS_VM_EXIT_INSTRUCTION_LEN, DBG_K_LEN, false },
		{ VMCS_VMX_INSTRUCTION_INFO, DBG_K_INFO, false }, { GPR_RAX, DBG_K_RAX, true },
		{ GPR_RCX, DBG_K_RCX, true }, { GPR_RDX, DBG_K_RDX, true },
	};
	bool exact = false;
	unsigned known = 0;

	for (unsigned i = 0; i < ex->nrecords; i++) {
		const struct trc_record *r = &ex->records[i];
		if (r->event == TRC_VMXLAB_EXIT_TIME)
			exact = true;
		if (r->event != TRC_VMXLAB_VMCS_READ && r->event != TRC_VMXLAB_REG_READ)
			continue;
		for (unsigned w = 0; w + 3 <= r->n; w += 3)
			for (unsigned j = 0; j < sizeof(k) / sizeof(k[0]); j++)
				if (k[j].id == r->d[w] && k[j].reg == (r->event == TRC_VMXLAB_REG_READ))
					known |= k[j].bit;
	}
	if (!exact)
		return;
	x->unknown = ~known & 0xfffu;
	if (x->unknown & DBG_K_QUAL) x->qual = 0;
	if (x->unknown & DBG_K_GPA) x->gpa = 0;
	if (x->unknown & DBG_K_GLA) x->gla = 0;
	if (x->unknown & DBG_K_INTR) x->intr_info = 0;
	if (x->unknown & DBG_K_INTR_ERR) x->intr_err = 0;
	if (x->unknown & DBG_K_IDT) x->idt_info = 0;
	if (x->unknown & DBG_K_IDT_ERR) x->idt_err = 0;
	if (x->unknown & DBG_K_LEN) x->insn_len = 0;
	if (x->unknown & DBG_K_INFO) x->insn_info = 0;
}

/* The iterator's next exit becomes the current one (DST_EXIT); false at the end. */
static bool advance(struct dbg *d)
{
	struct dbg_replay *rp = d->rp;
	char err[512];
	int rc = replay_iter_next(rp->it, &rp->ex, err, sizeof(err));

	if (rc < 0) {
		fprintf(d->out, "the trace cannot be read on: %s\n", err);
		d->input_error = true;
		d->state = DST_ENDED;
		return false;
	}
	if (rc == 0) {
		fprintf(d->out, "end of the trace: %" PRIu64 " exits, %" PRIu64 " handled here\n", d->nexits, rp->handled);
		d->state = DST_ENDED;
		return false;
	}
	struct dbg_exit *x = dbg_new_exit(d);
	x->replay = true;
	x->n = rp->ex.index;
	x->dom = rp->ex.dom;
	x->vcpu = rp->ex.vcpu;
	x->time = rp->ex.now;
	if (rp->ex.vcpu_state) {
		d->vcpu = rp->ex.vcpu_state;
		dbg_capture_exit(d->vcpu, x);
		mark_unknown(x, &rp->ex);
		char fb[300];
		fidelity_text(&rp->ex, fb, sizeof(fb));
		snprintf(x->fidelity, sizeof(x->fidelity), "%.*s", (int)sizeof(x->fidelity) - 1, fb);
	} else {
		x->raw = rp->ex.exit_reason;
		x->rip = rp->ex.rip;
		snprintf(x->skipped, sizeof(x->skipped), "%s", rp->ex.skipped ? rp->ex.skipped : "not replayed");
	}
	x->ntrace = 0;
	for (unsigned i = 0; i < rp->ex.nrecords && x->ntrace < DBG_EXIT_REC; i++) {
		const struct trc_record *r = &rp->ex.records[i];
		if (TRC_IS_VMXLAB(r->event))
			continue;
		x->trace[x->ntrace].event = r->event;
		x->trace[x->ntrace].n = r->n;
		memcpy(x->trace[x->ntrace].w, r->d, sizeof(x->trace[0].w));
		x->ntrace++;
	}
	d->state = DST_EXIT;
	return true;
}

static void print_exit(struct dbg *d, const struct dbg_exit *x, const struct dbg_bp *bp)
{
	char brief[400];

	dbg_exit_brief(x, brief, sizeof(brief));
	if (bp)
		fprintf(d->out, "breakpoint %d: ", bp->id);
	fprintf(d->out, "%s (d%uv%u, %" PRIu64 " ns)%s%s\n", brief, x->dom, x->vcpu, x->time,
		x->skipped[0] ? ", skipped: " : "", x->skipped);
}

/* Run the current exit's handler through the recorder. */
static void handle(struct dbg *d)
{
	struct dbg_replay *rp = d->rp;
	struct dbg_exit *x = d->cur;
	struct replay_handled h;

	d->state = DST_HANDLED;
	if (x->skipped[0])
		return;
	input_rec_retarget(rp->rec, rp->ex.vcpu_state);
	input_rec_begin(rp->rec);
	if (replay_iter_handle(rp->it, input_rec_vcpu(rp->rec), &h))
		return;
	rp->handled++;
	x->handled = true;
	x->verdict = h.verdict;
	if (h.verdict != HV_RESUME)
		snprintf(x->message, sizeof(x->message), "%s", h.out.msg);
	unsigned n;
	bool truncated;
	const struct input_access *acc = input_rec_log(rp->rec, &n, &truncated);
	dbg_take_log(x, acc, n, truncated);
	x->nrec = 0;
	for (unsigned i = 0; i < h.nemitted && x->nrec < DBG_EXIT_REC; i++) {
		x->rec[x->nrec].event = h.emitted[i].event;
		x->rec[x->nrec].n = h.emitted[i].n;
		memcpy(x->rec[x->nrec].w, h.emitted[i].d, sizeof(x->rec[0].w));
		x->nrec++;
	}
	x->rip_after = vmcs_read(rp->ex.vcpu_state, VMCS_GUEST_RIP);
}

static void print_handled(struct dbg *d)
{
	dbg_print_handled(d, d->cur);
	if (d->cur->handled)
		dbg_print_vmcs_diff(d->out, d->cur);
}

void dbg_replay_handle(struct dbg *d)
{
	handle(d);
	print_handled(d);
}

void dbg_replay_next_exit(struct dbg *d)
{
	if (d->state == DST_EXIT) {
		handle(d);
		print_handled(d);
	}
	if (advance(d))
		print_exit(d, d->cur, NULL);
}

void dbg_replay_continue(struct dbg *d)
{
	struct dbg_bp *bp;

	dbg_sigint_begin(d);
	for (;;) {
		if (d->state == DST_EXIT) {
			struct dbg_exit *x = d->cur;
			handle(d);
			if ((bp = dbg_bp_inject(d, x))) {
				fprintf(d->out, "breakpoint %d: ", bp->id);
				dbg_print_handled(d, x);
				break;
			}
		}
		if (d->stop) {
			fprintf(d->out, "interrupted after exit %" PRIu64 "\n", d->cur ? d->cur->n : 0);
			break;
		}
		if (!advance(d))
			break;
		if ((bp = dbg_bp_exit(d, d->cur))) {
			print_exit(d, d->cur, bp);
			break;
		}
	}
	dbg_sigint_end();
}

/* ------------------------------------------------------------ devices */

static struct platform *plat(struct dbg *d)
{
	struct dbg_replay *rp = d->rp;

	if (rp->ex.plat)
		return rp->ex.plat;
	return replay_iter_platform(rp->it, d->cur ? d->cur->dom : 0);
}

void dbg_replay_owner(struct dbg *d, bool mmio, uint64_t addr, char *buf, size_t len)
{
	struct platform *p = plat(d);

	const char *owner = p ? platform_owner_name(p, mmio, addr) : NULL;

	buf[0] = '\0';
	if (owner)
		snprintf(buf, len, "%s, replayed in this process", owner);
}

void dbg_replay_dev(struct dbg *d, const char *name)
{
	struct platform *p = plat(d);

	if (!p) {
		dbg_error(d, "no devices yet: they are set up at the first replayed exit");
		return;
	}
	if (!name) {
		for (unsigned i = 0; i < platform_ndevs(p); i++) {
			const struct vmx_dev *dev = platform_dev(p, i);
			fprintf(d->out, "%-8s %-28s", dev->ops->name, "replayed in this process");
			for (unsigned r = 0; r < dev->ops->nranges; r++) {
				const struct vmx_dev_range *rg = &dev->ops->ranges[r];
				fprintf(d->out, " %s 0x%" PRIx64 "-0x%" PRIx64, rg->mmio ? "mmio" : "ports", rg->base,
					rg->base + rg->len - 1);
			}
			fputc('\n', d->out);
		}
		return;
	}
	struct vmx_dev *dev = platform_find(p, name);
	if (!dev) {
		dbg_error(d, "no device '%s' in this replay (dev lists them)", name);
		return;
	}
	if (dev->ops->dump)
		dev->ops->dump(dev->state, d->out);
	else
		fprintf(d->out, "%s has no state dump\n", name);
}

void dbg_replay_status(struct dbg *d)
{
	char brief[400];

	switch (d->state) {
	case DST_EXIT:
		dbg_exit_brief(d->cur, brief, sizeof(brief));
		fprintf(d->out, "at %s (d%uv%u); %s\n", brief, d->cur->dom, d->cur->vcpu,
			d->cur->skipped[0] ? "skipped" : "its handler has not run");
		break;
	case DST_HANDLED:
		dbg_exit_brief(d->cur, brief, sizeof(brief));
		fprintf(d->out, "after the handler of %s (d%uv%u)\n", brief, d->cur->dom, d->cur->vcpu);
		break;
	default:
		fprintf(d->out, "end of the trace\n");
		break;
	}
	fprintf(d->out, "%" PRIu64 " exits so far, %" PRIu64 " handled here\n", d->nexits, d->rp->handled);
}

/* ------------------------------------------------------------ open, close */

int dbg_replay_open(struct dbg *d, const char *trace, const char *hv_path, const char *scenario, char *err,
		    size_t errlen)
{
	struct dbg_replay *rp = calloc(1, sizeof(*rp));
	char path[4096];

	if (!rp) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	d->rp = rp;
	rp->cfg.domain = -1;
	rp->cfg.vcpu = -1;
	rp->cfg.repeat = 1;
	if (scenario) {
		struct scenario *sc = &replay_sc;
		if (scenario_load(scenario, sc, err, errlen))
			return -1;
		scenario_to_replay(sc, &rp->cfg);
		if (!hv_path && sc->mc.hv_path[0])
			hv_path = sc->mc.hv_path;
	}
	if (hv_path)
		snprintf(path, sizeof(path), "%.4095s", hv_path);
	else
		vm_exe_path(path, sizeof(path), "libvmxlab-hv.so");
	if (hv_load(path, &rp->hvb, err, errlen))
		return -1;
	rp->hv_loaded = true;
	rp->blank = vmx_synth_create(0);
	rp->rec = rp->blank ? input_rec_new(rp->blank) : NULL;
	if (!rp->rec || input_rec_set_log(rp->rec, true)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	d->vcpu = rp->blank;
	d->hv_name = hv_name(d);
	rp->cfg.trace_path = trace;
	rp->cfg.hv = rp->hvb.hv;
	rp->cfg.console = d->out;
	rp->it = replay_iter_open(&rp->cfg, &rp->res, err, errlen);
	if (!rp->it)
		return -1;
	const char *base = strrchr(trace, '/');
	fprintf(d->out, "vmxlab debug: trace %s, handler build %s; stepping exit by exit (no instructions between "
			"exits)\n", base ? base + 1 : trace, hv_name(d));
	if (advance(d))
		print_exit(d, d->cur, NULL);
	return 0;
}

void dbg_replay_close(struct dbg *d)
{
	struct dbg_replay *rp = d->rp;
	char err[512];

	if (!rp)
		return;
	if (rp->it && replay_iter_close(rp->it, err, sizeof(err)))
		fprintf(stderr, "vmxlab debug: %s\n", err);
	replay_result_free(&rp->res);
	input_rec_free(rp->rec);
	vmx_synth_destroy(rp->blank);
	if (rp->hv_loaded)
		hv_unload(&rp->hvb);
	free(rp);
	d->rp = NULL;
}
