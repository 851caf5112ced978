/*
 * The device-model side of a format-2 vmxlab trace, played back (trace.h,
 * TRC_VMXLAB_DM_* to _SHMEM).  Replay has no vmxlab-dm, no disk image and no
 * network peer: a request the handler build sends to a device placed dm gets
 * the answer vmxlab-dm gave in the run, a HLT idles to the time the run
 * reached, and the device model's timers and interrupt notifications reach
 * the devices placed hv at the virtual times they did in the run.
 *
 * The records come in groups, as vmx/host.c wrote them:
 *
 *   DM_IRQ* DM_ANSWER        a request the vCPU waited for; the lines it drove
 *   DM_IRQ* DM_EVENT         a timer of vmxlab-dm, or its answer to a line
 *                            the devices here drove (op DM_OP_IRQ)
 *   IDLE                     one idle step of a HLT
 *   SHMEM_AT SHMEM*          memory shared with a device, as the guest left it
 *
 * Within an exit they are used in order by the handler's requests and idle
 * steps; the answer to a line a device here drives during the exit is taken
 * out of order (dmplay_irq_out).  Between exits they are applied in order
 * before the next exit, each at its virtual time.
 */
#include <stdlib.h>
#include <string.h>

#include <vmxlab/ioreq.h>

#include "engine_priv.h"

#define NO_TIME ((vtime_t)-1)

bool dmplay_is_record(uint32_t ev)
{
	return (ev >= TRC_VMXLAB_DM_ANSWER && ev <= TRC_VMXLAB_IDLE) || ev == TRC_VMXLAB_SHMEM_AT ||
	       ev == TRC_VMXLAB_SHMEM;
}

void dmplay_async(struct engine *e, const struct trc_record *r)
{
	if (e->nasync == e->capasync) {
		unsigned cap = e->capasync ? e->capasync * 2 : 256;
		struct trc_record *a = realloc(e->async, cap * sizeof(*a));
		if (!a)
			return;
		e->async = a;
		e->capasync = cap;
	}
	e->async[e->nasync++] = *r;
}

static void shmem_write(struct domctx *d, const struct trc_record *r)
{
	if (r->n < 3 || r->d[2] > 16 || (uint32_t)(r->n - 3) * 4 < r->d[2])
		return;
	uint64_t gpa = u64(r->d), len = r->d[2];
	for (unsigned i = 0; i < d->nshared; i++) {
		struct shared_region *s = &d->shared[i];
		if (gpa >= s->gpa && gpa - s->gpa <= s->len && len <= s->len - (gpa - s->gpa)) {
			memcpy(s->mem + (gpa - s->gpa), &r->d[3], len);
			return;
		}
	}
}

static void drive_line(struct domctx *d, const struct trc_record *r)
{
	if (r->n >= 2 && r->d[0] < 16)
		platform_irq(d->plat, r->d[0], r->d[1] != 0);
}

/*
 * Apply the group that starts at rec[i] (skipping used records), marking
 * what it uses.  Returns the index after the group; *closing is its last
 * record (the answer, event, idle step or sync), NULL when the group was
 * only lines.  A DM_ANSWER or IDLE is not applied: the caller wants it.
 */
/* The latest time a device-model record can name: between exits, the next
 * exit's; within one, its VMENTRY's (an hour on, without one).  A corrupt
 * time must not run the devices' timers for ages. */
static bool in_reach(const struct engine *e, vtime_t t)
{
	const struct exitbuf *x = e->curx;

	if (!x)
		return t <= e->now;
	if (x->entered)
		return t <= tsc_to_ns(e, x->entry_tsc) + 1000;
	return t <= e->now + REPLAY_MAX_JUMP_NS;
}

static unsigned play_group(const struct engine *e, struct domctx *d, const struct trc_record *rec, uint8_t *used,
			   unsigned n, unsigned i, const struct trc_record **closing)
{
	unsigned j = i;

	*closing = NULL;
	while (j < n && ((used && used[j]) || rec[j].event == TRC_VMXLAB_DM_IRQ))
		j++;
	const struct trc_record *c = j < n ? &rec[j] : NULL;
	/* A timer of vmxlab-dm fired at its time, after the devices here were
	 * brought there; an answer to a line came at once (the line's device is
	 * running now: no time passes). */
	if (c && c->event == TRC_VMXLAB_DM_EVENT && c->n >= 4 && c->d[3] == DM_OP_TIMER && in_reach(e, u64(c->d)))
		platform_run_until(d->plat, u64(c->d));
	for (unsigned k = i; k < j; k++)
		if (!used || !used[k]) {
			if (used)
				used[k] = 1;
			drive_line(d, &rec[k]);
		}
	if (!c)
		return j;
	*closing = c;
	if (used)
		used[j] = 1;
	switch (c->event) {
	case TRC_VMXLAB_DM_EVENT:
		if (c->n >= 3)
			d->dm_pic_pending = (int32_t)c->d[2];
		break;
	case TRC_VMXLAB_SHMEM_AT: {
		vtime_t t = c->n >= 2 ? u64(c->d) : 0;
		if (t && in_reach(e, t))
			platform_run_until(d->plat, t - 1);
		while (j + 1 < n && rec[j + 1].event == TRC_VMXLAB_SHMEM && (!used || !used[j + 1])) {
			j++;
			if (used)
				used[j] = 1;
			shmem_write(d, &rec[j]);
		}
		break;
	}
	case TRC_VMXLAB_SHMEM:
		shmem_write(d, c);
		break;
	}
	return j + 1;
}

void dmplay_drain(struct engine *e, struct domctx *d)
{
	const struct trc_record *c;

	for (unsigned i = 0; i < e->nasync;) {
		i = play_group(e, d, e->async, NULL, e->nasync, i, &c);
		if (c && c->event == TRC_VMXLAB_DM_ANSWER && c->n >= 5)
			d->dm_pic_pending = (int32_t)c->d[4];
	}
	e->nasync = 0;
}

/* The exit's next group from its cursor: 1 with *c, 0 when none is left.
 * A group that answers a line a device here drove (DM_EVENT, op DM_OP_IRQ)
 * was written when that device ran to the event's time - in the run, a
 * HLT's idle step ran the PIT to its deadline before the IDLE record was
 * written.  So the devices here are brought to that time first: the line
 * they drive takes its answer (dmplay_irq_out) as in the run. */
static int next_group(struct engine *e, const struct trc_record **c)
{
	struct exitbuf *x = e->curx;

	while (x->cursor < x->n) {
		unsigned i = x->cursor;
		if (x->used[i] || !dmplay_is_record(x->rec[i].event)) {
			x->cursor++;
			continue;
		}
		unsigned j = i;
		while (j < x->n && (x->used[j] || x->rec[j].event == TRC_VMXLAB_DM_IRQ))
			j++;
		const struct trc_record *ev = j < x->n ? &x->rec[j] : NULL;
		if (ev && ev->event == TRC_VMXLAB_DM_EVENT && ev->n >= 4 && ev->d[3] == DM_OP_IRQ &&
		    in_reach(e, u64(ev->d))) {
			platform_run_until(e->cur->d->plat, u64(ev->d));
			if (x->used[j])
				continue;
		}
		x->cursor = play_group(e, e->cur->d, x->rec, x->used, x->n, i, c);
		if (*c)
			return 1;
	}
	return 0;
}

int dmplay_ioreq(struct engine *e, struct vmx_dev *dev, struct vmx_ioreq *req)
{
	const struct trc_record *c;

	if (!e->curx)
		return -1;
	if (req->type == IOREQ_INTR_PENDING) {
		req->data = (uint64_t)(int64_t)e->cur->d->dm_pic_pending;
		return 0;
	}
	while (next_group(e, &c)) {
		if (c->event == TRC_VMXLAB_DM_ANSWER && c->n >= 5) {
			req->data = u64(c->d);
			e->core.charge += u64(c->d + 2);
			e->cur->d->dm_pic_pending = (int32_t)c->d[4];
			return 0;
		}
		if (c->event == TRC_VMXLAB_IDLE)
			break;
	}
	e->res->dm_divergent++;
	snprintf(e->err, sizeof(e->err), "the trace holds no answer of vmxlab-dm for this request to %s",
		 dev ? dev->ops->name : "?");
	return -1;
}

vtime_t dmplay_idle(struct engine *e)
{
	const struct trc_record *c;

	while (e->curx && next_group(e, &c)) {
		if (c->event != TRC_VMXLAB_IDLE || c->n < 2)
			continue;
		vtime_t t = u64(c->d);
		if (t == NO_TIME)
			return NO_TIME;
		if (!in_reach(e, t))
			break;
		if (t > e->now)
			e->now = t;
		platform_run_until(e->cur->d->plat, e->now);
		return e->now;
	}
	e->res->dm_divergent++;
	return NO_TIME;
}

void dmplay_irq_out(struct engine *e, unsigned line, bool level)
{
	struct exitbuf *x = e->curx;

	(void)line;
	(void)level;
	/* Outside the handler (the devices brought to an exit's time) the
	 * answer was written between exits: dmplay_drain applied it. */
	if (!x || !e->core.in_exit)
		return;
	for (unsigned i = x->cursor; i < x->n; i++) {
		const struct trc_record *r = &x->rec[i];
		if (x->used[i] || r->event != TRC_VMXLAB_DM_EVENT || r->n < 4 || r->d[3] != DM_OP_IRQ)
			continue;
		unsigned first = i;
		while (first > x->cursor && !x->used[first - 1] && x->rec[first - 1].event == TRC_VMXLAB_DM_IRQ)
			first--;
		const struct trc_record *c;
		play_group(e, e->cur->d, x->rec, x->used, i + 1, first, &c);
		return;
	}
	e->res->dm_divergent++;
}

void dmplay_exit_done(struct engine *e)
{
	const struct trc_record *c;

	if (!e->curx)
		return;
	while (next_group(e, &c))
		if (c->event == TRC_VMXLAB_DM_ANSWER && c->n >= 5)
			e->cur->d->dm_pic_pending = (int32_t)c->d[4];
	e->curx = NULL;
}

void *dmplay_map_shared(struct engine *e, uint64_t gpa, uint64_t len)
{
	struct domctx *d = e->building;

	if (!d || d->nshared == sizeof(d->shared) / sizeof(d->shared[0]) || !len || len > (1ull << 30))
		return NULL;
	uint8_t *mem = calloc(1, len);
	if (mem)
		d->shared[d->nshared++] = (struct shared_region){ gpa, len, mem };
	return mem;
}

int dmplay_dump(void *ctx, const struct vmx_dev *d, FILE *out)
{
	struct engine *e = ctx;

	if (d->index >= e->nrdevs || !e->rdevs[d->index].dump)
		return -1;
	fwrite(e->rdevs[d->index].dump, 1, e->rdevs[d->index].dump_len, out);
	return 0;
}
