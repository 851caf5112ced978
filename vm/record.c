/*
 * The live machine's trace (trace.h, docs/traces.md): Xen's records for
 * every exit, so that xenalyze reads the file, and vmxlab's own input
 * records, so that `vmxlab replay` feeds the handler build exactly what it
 * read during the run.
 *
 * One exit in the file:
 *
 *   VMEXIT | EXIT_TIME (t0, opening charge) | VMCS_READ REG_READ MEM_READ ...
 *          | DM_IRQ.. DM_ANSWER, DM_IRQ.. DM_EVENT, IDLE, SHMEM_AT SHMEM..
 *          | the handler's records (IOPORT, INJ_VIRQ ...) | VMENTRY
 *          | NATIVE_COST (with native_costs)
 *
 * The handler's records are held back while it runs: its inputs are known
 * only when it returns, and replay wants them right after the VMEXIT.  The
 * device-model side (answers to the vCPU's requests, timer and interrupt
 * events, each idle step of a HLT, memory shared with a device) is what a
 * replay without vmxlab-dm, its disk image and its network peer needs: kept
 * in order within an exit, written as it happens between exits.
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
static bool hold(struct held **arr, unsigned *n, unsigned *cap, uint32_t ev, bool has_tsc, uint64_t tsc,
		 const uint32_t *w, unsigned nw)
{
	if (*n == *cap) {
		unsigned ncap = *cap ? *cap * 2 : 64;
		struct held *h = realloc(*arr, ncap * sizeof(*h));
		if (!h) {
			machine_log(0, "out of memory while tracing");
			return false;
		}
		*arr = h;
		*cap = ncap;
	}
	struct held *h = &(*arr)[(*n)++];
	h->ev = ev;
	h->has_tsc = has_tsc;
	h->tsc = tsc;
	h->n = nw < TRC_REC_MAX_EXTRA ? nw : TRC_REC_MAX_EXTRA;
	memcpy(h->w, w, h->n * sizeof(uint32_t));
	return true;
}

static void put_record(struct machine *m, uint32_t ev, bool has_tsc, uint64_t tsc, const uint32_t *w, unsigned n)
{
	if (m->trace && trc_writer_put(m->trace, 0, ev, has_tsc, tsc, w, n)) {
		machine_log(0, "cannot write the trace %s: %s (it ends at its last whole window)", m->cfg.trace_path,
			    trc_writer_error(m->trace));
		trc_writer_close(m->trace, NULL, 0);
		m->trace = NULL;
		m->trace_failed = true;
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
	uint32_t info[4] = { TRC_VMXLAB_FORMAT, (uint32_t)m->cfg.tsc_khz, VMXLAB_HV_ABI_VERSION, VMXLAB_DEV_ABI_VERSION };
	trc_writer_put(m->trace, 0, TRC_VMXLAB_RUN_INFO, false, 0, info, 4);
	for (unsigned i = 0; i < platform_ndevs(m->plat); i++) {
		const struct vmx_dev *d = platform_dev(m->plat, i);
		uint32_t w[7] = { d->placement };
		size_t len = strnlen(d->ops->name, 24);
		memcpy(&w[1], d->ops->name, len);
		trc_writer_put(m->trace, 0, TRC_VMXLAB_DEVICE, false, 0, w, 7);
		const char *opt = m->cfg.devs[i].options;
		size_t olen = strlen(opt);
		for (size_t off = 0; off < olen; off += 20) {
			uint32_t o[7] = { i, (uint32_t)off };
			memcpy(&o[2], opt + off, olen - off < 20 ? olen - off : 20);
			trc_writer_put(m->trace, 0, TRC_VMXLAB_DEVICE_OPT, false, 0, o, 7);
		}
	}
	/* The device-model process's first answer: where its PIC stands. */
	if (m->dm) {
		uint32_t ev[4] = { 0, 0, (uint32_t)m->dm_pic_pending, 0 };
		trc_writer_put(m->trace, 0, TRC_VMXLAB_DM_EVENT, false, 0, ev, 4);
	}
	for (unsigned i = 0; i < m->nshared; i++)
		if (!(m->shadow[i] = calloc(1, m->shared[i].len))) {
			snprintf(err, errlen, "out of memory");
			return -1;
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
	hold(&m->held, &m->nheld, &m->capheld, ev, event_has_tsc(ev), machine_tsc_at(m, at), w, n);
}

void record_dm(struct machine *m, uint32_t ev, const uint32_t *w, unsigned n)
{
	if (!m->trace)
		return;
	if (m->core.in_exit && m->inputs)
		hold(&m->dmheld, &m->ndmheld, &m->capdmheld, ev, false, 0, w, n);
	else
		put_record(m, ev, false, 0, w, n);
}

/* Compared a page at a time, written 16 bytes a record where a page moved. */
void record_shared_sync(struct machine *m, vtime_t now)
{
	bool marked = false;

	if (!m->trace)
		return;
	for (unsigned i = 0; i < m->nshared; i++) {
		const uint8_t *cur = m->shared[i].host;
		uint8_t *old = m->shadow[i];
		for (uint64_t pg = 0; old && pg < m->shared[i].len; pg += 4096) {
			uint64_t plen = m->shared[i].len - pg < 4096 ? m->shared[i].len - pg : 4096;
			if (!memcmp(cur + pg, old + pg, plen))
				continue;
			for (uint64_t off = pg; off < pg + plen; off += 16) {
				unsigned len = pg + plen - off < 16 ? (unsigned)(pg + plen - off) : 16;
				if (!memcmp(cur + off, old + off, len))
					continue;
				if (!marked) {
					uint32_t t[2] = { (uint32_t)now, (uint32_t)(now >> 32) };
					record_dm(m, TRC_VMXLAB_SHMEM_AT, t, 2);
					marked = true;
				}
				uint64_t gpa = m->shared[i].gpa + off;
				uint32_t w[7] = { (uint32_t)gpa, (uint32_t)(gpa >> 32), len };
				memcpy(&w[3], cur + off, len);
				record_dm(m, TRC_VMXLAB_SHMEM, w, 7);
				memcpy(old + off, cur + off, len);
			}
		}
	}
}

void record_dev_dump(struct machine *m, unsigned index, const char *text, size_t len)
{
	for (size_t off = 0; m->trace && off < len; off += 24) {
		uint32_t w[7] = { index };
		memcpy(&w[1], text + off, len - off < 24 ? len - off : 24);
		put_record(m, TRC_VMXLAB_DEV_DUMP, false, 0, w, 7);
	}
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
	for (unsigned i = 0; i < m->ndmheld && m->trace; i++)
		put_record(m, m->dmheld[i].ev, false, 0, m->dmheld[i].w, m->dmheld[i].n);
	m->ndmheld = 0;
	for (unsigned i = first; i < m->nheld && m->trace; i++)
		put_record(m, m->held[i].ev, m->held[i].has_tsc, m->held[i].tsc, m->held[i].w, m->held[i].n);
	m->nheld = 0;
	if (m->trace && m->cfg.native_costs) {
		uint32_t w[3] = { x->reason, (uint32_t)x->native_ns, (uint32_t)(x->native_ns >> 32) };
		put_record(m, TRC_VMXLAB_NATIVE_COST, false, 0, w, 3);
	}
}

void record_close(struct machine *m, vtime_t end, uint64_t digest)
{
	char err[256];

	if (!m->trace)
		return;
	uint32_t w[4] = { (uint32_t)end, (uint32_t)(end >> 32), (uint32_t)digest, (uint32_t)(digest >> 32) };
	put_record(m, TRC_VMXLAB_RUN_END, false, 0, w, 4);
	if (m->trace && trc_writer_close(m->trace, err, sizeof(err))) {
		machine_log(0, "trace %s: %s", m->cfg.trace_path, err);
		m->trace_failed = true;
	}
	m->trace = NULL;
}
