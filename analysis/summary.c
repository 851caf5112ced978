/*
 * summary.c - exits per domain, vcpu and reason from a stream of trace
 * records, the way xenalyze --summary counts them (xentrace.md 1.4, 1.5, 2):
 *
 *   VMEXIT[64] (tsc)  opens an exit on the vcpu running on that pcpu;
 *   handler records   (no TSC) say what it was: port, MMIO page, CR, MSR ...;
 *   INJ_VIRQ          counts a guest interrupt for the vcpu, by vector;
 *   VMENTRY (tsc)     closes it: cycles = VMENTRY.tsc - VMEXIT.tsc.
 *
 * An exit still open when its vcpu becomes runnable (e.g. HLT: the vcpu
 * blocked, then woke) is closed at that runstate record, as xenalyze's
 * hvm_close_vmexit does; exits open at the end of the trace are not counted.
 * The open exit belongs to the vcpu, not the pcpu, because a wake-up is
 * recorded on whichever pcpu did it.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "summary.h"

/* ------------------------------------------------------------ vcpus */

void summary_init(struct summary *s)
{
	memset(s, 0, sizeof(*s));
}

static uint32_t vkey(uint32_t dom, uint32_t vcpu)
{
	return (dom & 0xffff) << 16 | (vcpu & 0xffff);
}

static unsigned hash32(uint32_t k, unsigned cap)
{
	return (unsigned)((k * 2654435761u) >> 7) & (cap - 1);
}

static int index_grow(struct summary *s)
{
	unsigned cap = s->index_cap ? 2 * s->index_cap : 64;
	uint32_t *ix = calloc(cap, sizeof(*ix));

	if (!ix)
		return -1;
	for (unsigned i = 0; i < s->nv; i++) {
		unsigned h = hash32(vkey(s->v[i]->dom, s->v[i]->vcpu), cap);
		while (ix[h])
			h = (h + 1) & (cap - 1);
		ix[h] = i + 1;
	}
	free(s->index);
	s->index = ix;
	s->index_cap = cap;
	return 0;
}

static struct vcpu_stat *vcpu_new(struct summary *s, uint32_t dom, uint32_t vcpu)
{
	struct vcpu_stat *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	/* Capacity 8, 16, 32, ...: grow when nv reaches it. */
	if (s->nv == 0 || (s->nv >= 8 && !(s->nv & (s->nv - 1)))) {
		struct vcpu_stat **a = realloc(s->v, (s->nv ? 2 * s->nv : 8) * sizeof(*a));
		if (!a) {
			free(v);
			return NULL;
		}
		s->v = a;
	}
	v->dom = dom;
	v->vcpu = vcpu;
	s->v[s->nv++] = v;
	return v;
}

static struct vcpu_stat *vcpu_get(struct summary *s, uint32_t dom, uint32_t vcpu)
{
	uint32_t k = vkey(dom, vcpu);
	unsigned h;

	if (s->last && vkey(s->last->dom, s->last->vcpu) == k)
		return s->last;
	if (s->index_cap) {
		for (h = hash32(k, s->index_cap); s->index[h]; h = (h + 1) & (s->index_cap - 1)) {
			struct vcpu_stat *v = s->v[s->index[h] - 1];
			if (vkey(v->dom, v->vcpu) == k)
				return s->last = v;
		}
	}
	if (s->nv >= SUMMARY_MAX_VCPUS) {
		/* Too many: sum the rest into one (bounded memory). */
		s->overflow_vcpus++;
		if (vkey(dom, vcpu) != 0xffffffffu)
			return vcpu_get(s, 0xffff, 0xffff);
	}
	if (2 * (s->nv + 1) > s->index_cap && index_grow(s))
		return NULL;
	struct vcpu_stat *v = vcpu_new(s, dom, vcpu);
	if (!v)
		return NULL;
	for (h = hash32(k, s->index_cap); s->index[h]; h = (h + 1) & (s->index_cap - 1))
		;
	s->index[h] = s->nv;
	return s->last = v;
}

/* The vcpu of a record: usually the one its pcpu ran last time. */
static struct vcpu_stat *vcpu_of(struct summary *s, const struct trc_item *it)
{
	struct vcpu_stat **slot = &s->cpu_last[it->rec.cpu % 64];
	struct vcpu_stat *v = *slot;

	if (v && v->dom == it->dom && v->vcpu == it->vcpu)
		return v;
	return *slot = vcpu_get(s, it->dom, it->vcpu);
}

/* ------------------------------------------------------------ stats */

struct sub_stat *reason_sub(struct reason_stat *r, uint8_t kind, uint64_t key)
{
	const unsigned cap = 2 * SUMMARY_MAX_SUBS;

	if (!r->subs && !(r->subs = calloc(cap, sizeof(*r->subs))))
		return &r->other;
	unsigned h = (unsigned)((key * 0x9e3779b97f4a7c15ull + kind) >> 40) & (cap - 1);
	for (;; h = (h + 1) & (cap - 1)) {
		struct sub_stat *e = &r->subs[h];
		if (e->kind == kind && e->key == key)
			return e;
		if (e->kind == SUB_NONE) {
			if (r->nsubs >= SUMMARY_MAX_SUBS)
				return &r->other;
			r->nsubs++;
			e->kind = kind;
			e->key = key;
			return e;
		}
	}
}

static struct reason_stat *reason_get(struct vcpu_stat *v, uint32_t reason)
{
	if (!v->reasons[reason])
		v->reasons[reason] = calloc(1, sizeof(struct reason_stat));
	return v->reasons[reason];
}

static void close_exit(struct summary *s, struct vcpu_stat *v, uint64_t tsc)
{
	struct reason_stat *r;

	v->open = false;
	if (tsc < v->open_tsc) {
		s->negative++;
		return;
	}
	r = reason_get(v, v->open_reason);
	if (!r) {
		s->oom = true;
		return;
	}
	uint64_t c = tsc - v->open_tsc;
	r->count++;
	r->cycles += c;
	hist_add(&r->h, c);
	if (v->sub_kind != SUB_NONE) {
		struct sub_stat *e = reason_sub(r, v->sub_kind, v->sub_key);
		e->count++;
		e->cycles += c;
	}
	v->exits++;
	if (s->on_exit)
		s->on_exit(s->on_exit_ctx, v->open_reason, v->sub_kind, v->sub_key, c);
}

/* What a handler record says about the open exit (first one wins, except
 * that the IOMEM access refines the NPF's page and direction). */
static void handler_sub(struct vcpu_stat *v, const struct trc_record *r)
{
	uint8_t kind = SUB_NONE;
	uint64_t key = 0;
	uint32_t ev = r->event;
	bool write = ev & TRC_HVM_IOWRITE_FLAG;

	switch (ev) {
	case TRC_HVM_IOPORT_READ: case TRC_HVM_IOPORT_WRITE:
	case TRC_HVM_IO_READ:
		kind = SUB_IO;
		key = (r->d[0] & 0xffff) | (uint64_t)write << 16;
		break;
	case TRC_HVM_IO_WRITE:
		kind = SUB_IO;
		key = (r->d[0] & 0xffff) | 1ull << 16;
		break;
	case TRC_HVM_IOMEM_READ: case TRC_HVM_IOMEM_WRITE:
		v->sub_kind = SUB_MMIO;
		v->sub_key = ((uint64_t)r->d[0] & ~0xfffull) | write;
		return;
	case TRC_HVM_IOMEM_READ64: case TRC_HVM_IOMEM_WRITE64:
		v->sub_kind = SUB_MMIO;
		v->sub_key = (((uint64_t)r->d[1] << 32 | r->d[0]) & ~0xfffull) | write;
		return;
	case TRC_HVM_NPF: /* gpa lo, hi, mfn lo, hi, qualification (bit 1: write), p2mt */
		kind = SUB_MMIO;
		key = (((uint64_t)r->d[1] << 32 | r->d[0]) & ~0xfffull) | ((r->d[4] >> 1) & 1);
		break;
	case TRC_HVM_CR_READ: case TRC_HVM_CR_READ64:
		kind = SUB_CR;
		key = r->d[0] & 0xff;
		break;
	case TRC_HVM_CR_WRITE: case TRC_HVM_CR_WRITE64:
		kind = SUB_CR;
		key = (r->d[0] & 0xff) | 1u << 8;
		break;
	case TRC_HVM_CLTS:
		kind = SUB_CR;
		key = 2u << 8;
		break;
	case TRC_HVM_LMSW: case TRC_HVM_LMSW64:
		kind = SUB_CR;
		key = 3u << 8;
		break;
	case TRC_HVM_MSR_READ: case TRC_HVM_MSR_WRITE:
		kind = SUB_MSR;
		key = r->d[0];
		break;
	case TRC_HVM_INTR:
		kind = SUB_VECTOR;
		key = r->d[0] & 0xff;
		break;
	case TRC_HVM_TRAP:
		kind = SUB_EXCEPTION;
		key = r->d[0] & 0xff;
		break;
	case TRC_HVM_PF_XEN: case TRC_HVM_PF_XEN64:
		kind = SUB_EXCEPTION;
		key = 14;
		break;
	case TRC_HVM_NMI:
		kind = SUB_EXCEPTION;
		key = 2;
		break;
	case TRC_HVM_CPUID:
		kind = SUB_CPUID;
		key = r->d[0];
		break;
	case TRC_HVM_VMMCALL:
		kind = SUB_HYPERCALL;
		key = r->d[0];
		break;
	default:
		return;
	}
	if (r->n == 0 && kind != SUB_CR && kind != SUB_EXCEPTION)
		return;
	if (v->sub_kind == SUB_NONE) {
		v->sub_kind = kind;
		v->sub_key = key;
	}
}

static void count_unknown(struct summary *s, uint32_t ev)
{
	s->unknown++;
	for (unsigned i = 0; i < s->nunknown_ids; i++)
		if (s->unknown_ids[i].event == ev) {
			s->unknown_ids[i].count++;
			return;
		}
	if (s->nunknown_ids < SUMMARY_MAX_UNKNOWN_IDS) {
		s->unknown_ids[s->nunknown_ids].event = ev;
		s->unknown_ids[s->nunknown_ids++].count = 1;
	}
}

static int on_vmexit(struct summary *s, const struct trc_item *it)
{
	struct vcpu_stat *v = vcpu_of(s, it);
	uint32_t raw;
	uint64_t rip;

	if (!v)
		return -1;
	if (!trc_vmexit_decode(&it->rec, &raw, &rip)) {
		count_unknown(s, it->rec.event);
		return 0;
	}
	if (v->open)
		s->abandoned++;
	v->open = true;
	v->closed_early = false;
	v->open_reason = VMX_EXIT_REASON_BASIC(raw);
	if (v->open_reason >= VMX_EXIT_REASON_COUNT)
		v->open_reason = SUMMARY_REASON_OTHER;
	v->open_tsc = it->rec.tsc;
	v->sub_kind = SUB_NONE;
	v->sub_key = 0;
	return 0;
}

static int on_runstate(struct summary *s, const struct trc_item *it)
{
	unsigned new_state = (it->rec.event >> 4) & 0xf;

	if (new_state != RUNSTATE_RUNNABLE)
		return 0;
	struct vcpu_stat *v = vcpu_get(s, it->dom, it->vcpu);
	if (!v)
		return -1;
	if (v->open) {
		s->closed_by_runstate++;
		close_exit(s, v, it->rec.tsc);
		v->closed_early = true;
	}
	return 0;
}

int summary_add(struct summary *s, const struct trc_item *it)
{
	const struct trc_record *r = &it->rec;
	uint32_t ev = r->event;
	struct vcpu_stat *v;

	s->records++;
	if (r->has_tsc) {
		if (!s->have_tsc || r->tsc < s->first_tsc)
			s->first_tsc = r->tsc;
		if (!s->have_tsc || r->tsc > s->last_tsc)
			s->last_tsc = r->tsc;
		s->have_tsc = true;
	}
	switch (ev & 0x0ffff000u) {
	case TRC_HVM_ENTRYEXIT:
		if (trc_is_vmexit(ev)) {
			s->vmexits++;
			return on_vmexit(s, it);
		}
		if (ev != TRC_HVM_VMENTRY) {
			count_unknown(s, ev); /* nested or SVM variants */
			return 0;
		}
		s->vmentries++;
		if (!(v = vcpu_of(s, it)))
			return -1;
		if (v->open)
			close_exit(s, v, r->tsc);
		else if (!v->closed_early)
			s->stray_entries++;
		v->closed_early = false;
		return s->oom ? -1 : 0;
	case TRC_HVM_HANDLER:
		s->handler++;
		if (!(v = vcpu_of(s, it)))
			return -1;
		if (ev == TRC_HVM_INJ_VIRQ)
			v->guest_intr[r->d[0] & 0xff]++;
		else if (v->open)
			handler_sub(v, r);
		if (!trc_event_name(ev))
			count_unknown(s, ev);
		return 0;
	default:
		break;
	}
	if ((ev & 0x0fff0000u) == 0x00020000u) {
		s->sched++;
		if ((ev & 0x0ffff00fu) == TRC_SCHED_RUNSTATE_CHANGE)
			return on_runstate(s, it);
		if (!trc_event_name(ev))
			count_unknown(s, ev);
		return 0;
	}
	if (TRC_IS_VMXLAB(ev)) {
		s->vmxlab++;
		return 0;
	}
	if ((ev & 0x0fff0000u) == 0x00010000u) {
		s->gen++;
		if (ev == TRC_LOST_RECORDS) {
			/* What happened in the gap is unknown: drop the open
			 * exit of the vcpu that was running. */
			if (!(v = vcpu_get(s, it->dom, it->vcpu)))
				return -1;
			if (v->open) {
				v->open = false;
				s->abandoned++;
			}
			return 0;
		}
		if (!trc_event_name(ev))
			count_unknown(s, ev);
		return 0;
	}
	s->other_class++;
	if (!trc_event_name(ev))
		count_unknown(s, ev);
	return 0;
}

void summary_finish(struct summary *s)
{
	for (unsigned i = 0; i < s->nv; i++)
		if (s->v[i]->open) {
			s->v[i]->open = false;
			s->unfinished++;
		}
}

static void reason_free(struct reason_stat *r)
{
	if (!r)
		return;
	hist_free(&r->h);
	free(r->subs);
	free(r);
}

void summary_free(struct summary *s)
{
	for (unsigned i = 0; i < s->nv; i++) {
		for (unsigned k = 0; k < SUMMARY_NREASONS; k++)
			reason_free(s->v[i]->reasons[k]);
		free(s->v[i]);
	}
	free(s->v);
	free(s->index);
	memset(s, 0, sizeof(*s));
}
