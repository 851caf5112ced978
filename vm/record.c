/*
 * The live machine's trace (trace.h, docs/traces.md): Xen's records for
 * every exit, so that xenalyze reads the file, and vmxlab's own input
 * records, so that `vmxlab replay` feeds the handler build exactly what it
 * read during the run.
 *
 * One exit in the file:
 *
 *   VMEXIT | EXIT_TIME (t0, opening charge) | VMCS_READ REG_READ MEM_READ ...
 *          | the handler's records (IOPORT, INJ_VIRQ ...) | VMENTRY
 *          | NATIVE_COST (with native_costs)
 *
 * The handler's records are held back while it runs: its inputs are known
 * only when it returns, and replay wants them right after the VMEXIT.
 */
#include <stdlib.h>
#include <string.h>

#include "machine_priv.h"

static bool event_has_tsc(uint32_t ev)
{
	/* HVM handler records inherit the VMEXIT's TSC (xentrace.md 1.5). */
	return (ev & 0x000ff000u) == TRC_HVM_ENTRYEXIT || (ev & 0x0fff0000u) == 0x00020000u || TRC_IS_VMXLAB(ev);
}

/* A write error ends the trace, not the run: what was written stays valid. */
static void put_record(struct machine *m, uint32_t ev, bool has_tsc, uint64_t tsc, const uint32_t *w, unsigned n)
{
	if (m->trace && trc_writer_put(m->trace, 0, ev, has_tsc, tsc, w, n)) {
		machine_log(0, "cannot write the trace %s: %s", m->cfg.trace_path, trc_writer_error(m->trace));
		trc_writer_close(m->trace, NULL, 0);
		m->trace = NULL;
	}
}

int record_open(struct machine *m, char *err, size_t errlen)
{
	m->trace = trc_writer_open(m->cfg.trace_path, err, errlen);
	if (!m->trace)
		return -1;
	/* xenalyze attributes exits to a domain through runstate records
	 * only (xentrace.md 1.4): d1v0 becomes running on pcpu 0. */
	uint32_t dv = (TRACE_DOMAIN << 16) | TRACE_VCPU;
	trc_writer_put(m->trace, 0, TRC_RUNSTATE(RUNSTATE_RUNNABLE, RUNSTATE_RUNNING), true, 0, &dv, 1);
	uint32_t info[4] = { 1, (uint32_t)m->cfg.tsc_khz, VMXLAB_HV_ABI_VERSION, VMXLAB_DEV_ABI_VERSION };
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
		return -1;
	}
	return 0;
}

void record_handler(struct machine *m, uint32_t ev, const uint32_t *w, unsigned n)
{
	if (!m->trace)
		return;
	vtime_t at = sim_now(m->sim) + (ev == TRC_HVM_VMENTRY ? m->core.charge : 0);
	if (!m->core.in_exit || !m->inputs) {
		put_record(m, ev, event_has_tsc(ev), machine_tsc_at(m, at), w, n);
		return;
	}
	if (m->nheld == m->capheld) {
		unsigned cap = m->capheld ? m->capheld * 2 : 64;
		struct held *h = realloc(m->held, cap * sizeof(*h));
		if (!h) {
			machine_log(0, "out of memory while tracing");
			return;
		}
		m->held = h;
		m->capheld = cap;
	}
	struct held *h = &m->held[m->nheld++];
	h->ev = ev;
	h->has_tsc = event_has_tsc(ev);
	h->tsc = machine_tsc_at(m, at);
	h->n = n < TRC_REC_MAX_EXTRA ? n : TRC_REC_MAX_EXTRA;
	memcpy(h->w, w, h->n * sizeof(uint32_t));
}

static void put_input(void *ctx, uint32_t ev, const uint32_t *w, unsigned n)
{
	put_record(ctx, ev, false, 0, w, n);
}

void record_exit(struct machine *m, const struct vm_exit *x)
{
	unsigned first = 0;

	if (!m->trace || !m->inputs)
		return;
	if (m->nheld && trc_is_vmexit(m->held[0].ev)) {
		put_record(m, m->held[0].ev, m->held[0].has_tsc, m->held[0].tsc, m->held[0].w, m->held[0].n);
		first = 1;
	}
	uint32_t t[4] = { (uint32_t)x->t0, (uint32_t)(x->t0 >> 32), (uint32_t)x->charge0, (uint32_t)(x->charge0 >> 32) };
	put_input(m, TRC_VMXLAB_EXIT_TIME, t, 4);
	input_rec_emit(m->inputs, put_input, m);
	for (unsigned i = first; i < m->nheld && m->trace; i++)
		put_record(m, m->held[i].ev, m->held[i].has_tsc, m->held[i].tsc, m->held[i].w, m->held[i].n);
	m->nheld = 0;
	if (m->trace && m->cfg.native_costs) {
		uint32_t w[3] = { x->reason, (uint32_t)x->native_ns, (uint32_t)(x->native_ns >> 32) };
		put_record(m, TRC_VMXLAB_NATIVE_COST, false, 0, w, 3);
	}
}

void record_close(struct machine *m, vtime_t end)
{
	char err[256];

	if (!m->trace)
		return;
	uint32_t w[2] = { (uint32_t)end, (uint32_t)(end >> 32) };
	put_record(m, TRC_VMXLAB_RUN_END, false, 0, w, 2);
	if (m->trace && trc_writer_close(m->trace, err, sizeof(err)))
		machine_log(0, "trace %s: %s", m->cfg.trace_path, err);
	m->trace = NULL;
}
