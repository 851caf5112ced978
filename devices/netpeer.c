/*
 * netpeer.c - the VXT bulk-transfer peer (protocol engine) and the virtual
 * wire between it and the NE2000 (netpeer.h documents both).
 *
 * The engine is event-driven and timeless: np_engine_input and
 * np_engine_timer act at the `now` they are given and emit frames through a
 * callback.  struct netpeer puts it behind a link in virtual time; the NIC
 * drives it from its platform timers, so a run is deterministic.
 */
#include <string.h>

#include <zlib.h>

#include "netpeer.h"

/* ---------------------------------------------------------------- helpers */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static const uint8_t broadcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

size_t vxt_encode(uint8_t *out, const uint8_t dst[ETH_ALEN], const uint8_t src[ETH_ALEN],
		  const struct vxt_hdr *h, const uint8_t *payload)
{
	size_t n = ETH_HLEN + VXT_HLEN + h->len;

	if (h->len > VXT_MSS_MAX)
		return 0;
	memcpy(out, dst, ETH_ALEN);
	memcpy(out + ETH_ALEN, src, ETH_ALEN);
	put16(out + 12, VXT_ETHERTYPE);
	out[ETH_HLEN + 0] = VXT_VERSION;
	out[ETH_HLEN + 1] = h->type;
	put16(out + ETH_HLEN + 2, h->len);
	put32(out + ETH_HLEN + 4, h->xid);
	put32(out + ETH_HLEN + 8, h->seq);
	put32(out + ETH_HLEN + 12, h->arg);
	put32(out + ETH_HLEN + 16, h->win);
	if (h->len)
		memcpy(out + ETH_HLEN + VXT_HLEN, payload, h->len);
	if (n < ETH_ZLEN) {
		memset(out + n, 0, ETH_ZLEN - n);
		n = ETH_ZLEN;
	}
	return n;
}

bool vxt_decode(const uint8_t *frame, size_t len, struct vxt_hdr *h, const uint8_t **payload)
{
	if (len < ETH_ZLEN || len > ETH_FRAME_MAX || get16(frame + 12) != VXT_ETHERTYPE ||
	    frame[ETH_HLEN] != VXT_VERSION)
		return false;
	h->type = frame[ETH_HLEN + 1];
	h->len = get16(frame + ETH_HLEN + 2);
	h->xid = get32(frame + ETH_HLEN + 4);
	h->seq = get32(frame + ETH_HLEN + 8);
	h->arg = get32(frame + ETH_HLEN + 12);
	h->win = get32(frame + ETH_HLEN + 16);
	if (h->type < VXT_GET || h->type > VXT_FIN || (size_t)h->len > len - ETH_HLEN - VXT_HLEN ||
	    (h->type != VXT_DATA && h->len))
		return false;
	*payload = frame + ETH_HLEN + VXT_HLEN;
	return true;
}

/* A 32-bit integer hash (xor-shift-multiply, two rounds). */
uint32_t np_pattern_word(uint32_t xid, uint32_t k)
{
	uint32_t x = k * 0x9e3779b1u + xid;

	x ^= x >> 16;
	x *= 0x7feb352du;
	x ^= x >> 15;
	x *= 0x846ca68bu;
	x ^= x >> 16;
	return x;
}

void np_pattern(uint32_t xid, uint32_t off, uint8_t *out, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		uint32_t b = off + (uint32_t)i;
		out[i] = (uint8_t)(np_pattern_word(xid, b >> 2) >> (8 * (b & 3)));
	}
}

uint32_t np_crc32(uint32_t crc, const uint8_t *p, size_t len)
{
	return (uint32_t)crc32_z(crc, p, len);
}

/* ---------------------------------------------------------------- engine */

void np_engine_reset(struct np_engine *e)
{
	struct np_engine_config cfg = e->cfg;

	memset(e, 0, sizeof(*e));
	e->cfg = cfg;
	e->rto_deadline = NP_NEVER;
}

void np_engine_init(struct np_engine *e, const struct np_engine_config *cfg)
{
	e->cfg = *cfg;
	np_engine_reset(e);
}

static void emit_hdr(struct np_engine *e, vtime_t now, const struct vxt_hdr *h, const uint8_t *payload,
		     np_emit_fn emit, void *ctx)
{
	uint8_t f[ETH_FRAME_MAX];
	size_t n = vxt_encode(f, e->client, e->cfg.mac, h, payload);

	if (!n)
		return;
	e->st.frames_out++;
	e->st.bytes_out += n;
	emit(ctx, now, f, n);
}

static void send_ctl(struct np_engine *e, vtime_t now, uint8_t type, uint32_t seq, uint32_t arg,
		     np_emit_fn emit, void *ctx)
{
	struct vxt_hdr h = { .type = type, .xid = e->xid, .seq = seq, .arg = arg,
			     .win = e->cfg.window * e->cfg.mss };
	emit_hdr(e, now, &h, NULL, emit, ctx);
}

/* The running CRC over the pattern, up to `upto` (only ever forward). */
static void crc_advance(struct np_engine *e, uint32_t upto)
{
	uint8_t buf[256];

	while (e->crc_upto < upto) {
		uint32_t n = upto - e->crc_upto;
		if (n > sizeof(buf))
			n = sizeof(buf);
		np_pattern(e->xid, e->crc_upto, buf, n);
		e->crc = np_crc32(e->crc, buf, n);
		e->crc_upto += n;
	}
}

/* Sender: DATA segments while the window allows. */
static void send_window(struct np_engine *e, vtime_t now, np_emit_fn emit, void *ctx)
{
	uint32_t limit = e->cfg.window * e->cfg.mss;
	uint8_t payload[VXT_MSS_MAX];

	if (e->rwnd < limit)
		limit = e->rwnd;
	while (e->snd_nxt < e->total && e->snd_nxt - e->snd_una < limit) {
		uint32_t n = e->total - e->snd_nxt;
		uint32_t room = limit - (e->snd_nxt - e->snd_una);
		if (n > e->cfg.mss)
			n = e->cfg.mss;
		if (n > room)
			n = room;
		np_pattern(e->xid, e->snd_nxt, payload, n);
		struct vxt_hdr h = { .type = VXT_DATA, .len = (uint16_t)n, .xid = e->xid, .seq = e->snd_nxt,
				     .win = e->cfg.window * e->cfg.mss };
		emit_hdr(e, now, &h, payload, emit, ctx);
		e->snd_nxt += n;
		if (e->snd_nxt > e->snd_max) {
			/* New data: into the running CRC, which FIN carries. */
			e->crc = np_crc32(e->crc, payload + (n - (e->snd_nxt - e->snd_max)), e->snd_nxt - e->snd_max);
			e->snd_max = e->crc_upto = e->snd_nxt;
		}
	}
	if (e->snd_una < e->snd_nxt && e->rto_deadline == NP_NEVER)
		e->rto_deadline = now + e->cfg.rto;
}

static void send_fin(struct np_engine *e, vtime_t now, np_emit_fn emit, void *ctx)
{
	crc_advance(e, e->total);       /* a no-op unless total is 0 */
	send_ctl(e, now, VXT_FIN, e->total, e->crc, emit, ctx);
	if (!e->fin_sent)
		e->st.transfers++;
	e->fin_sent = 1;
}

static void start(struct np_engine *e, const uint8_t *frame, const struct vxt_hdr *h, uint8_t role)
{
	memcpy(e->client, frame + ETH_ALEN, ETH_ALEN);
	e->role = role;
	e->xid = h->xid;
	e->total = h->arg;
	e->snd_una = e->snd_nxt = e->snd_max = 0;
	e->rcv_nxt = 0;
	e->rwnd = h->win;
	e->crc = 0;
	e->crc_upto = 0;
	e->fin_sent = 0;
	e->rto_deadline = NP_NEVER;
}

static void on_ack(struct np_engine *e, vtime_t now, const struct vxt_hdr *h, np_emit_fn emit, void *ctx)
{
	if (e->role != NP_SENDING || h->xid != e->xid || h->seq > e->snd_max)
		return;
	e->rwnd = h->win;
	if (h->seq > e->snd_una) {
		e->snd_una = h->seq;
		if (e->snd_nxt < e->snd_una)
			e->snd_nxt = e->snd_una;
		e->rto_deadline = e->snd_una < e->snd_nxt ? now + e->cfg.rto : NP_NEVER;
	} else if (h->seq == e->total && e->fin_sent) {
		send_fin(e, now, emit, ctx);      /* the client missed our FIN */
		return;
	}
	if (e->snd_una == e->total) {
		if (!e->fin_sent)
			send_fin(e, now, emit, ctx);
		return;
	}
	send_window(e, now, emit, ctx);
}

static void on_data(struct np_engine *e, vtime_t now, const struct vxt_hdr *h, const uint8_t *payload,
		    np_emit_fn emit, void *ctx)
{
	if (e->role != NP_RECEIVING || h->xid != e->xid)
		return;
	if (h->seq == e->rcv_nxt && h->len <= e->total - e->rcv_nxt) {
		e->crc = np_crc32(e->crc, payload, h->len);
		e->rcv_nxt += h->len;
		e->crc_upto = e->rcv_nxt;
	}
	send_ctl(e, now, VXT_ACK, e->rcv_nxt, 0, emit, ctx);
}

void np_engine_input(struct np_engine *e, vtime_t now, const uint8_t *frame, size_t len,
		     np_emit_fn emit, void *ctx)
{
	struct vxt_hdr h;
	const uint8_t *payload;

	e->st.frames_in++;
	e->st.bytes_in += len;
	if (len < ETH_ZLEN || (memcmp(frame, e->cfg.mac, ETH_ALEN) && memcmp(frame, broadcast, ETH_ALEN)) ||
	    !vxt_decode(frame, len, &h, &payload)) {
		e->st.dropped++;
		return;
	}
	switch (h.type) {
	case VXT_GET:
		if (h.arg > e->cfg.max_total) {
			e->st.dropped++;
			return;
		}
		if (e->role == NP_SENDING && e->xid == h.xid)
			return;                     /* a repeated request */
		start(e, frame, &h, NP_SENDING);
		if (e->total == 0)
			send_fin(e, now, emit, ctx);
		else
			send_window(e, now, emit, ctx);
		return;
	case VXT_PUT:
		if (h.arg > e->cfg.max_total) {
			e->st.dropped++;
			return;
		}
		if (!(e->role == NP_RECEIVING && e->xid == h.xid))
			start(e, frame, &h, NP_RECEIVING);
		send_ctl(e, now, VXT_ACK, e->rcv_nxt, 0, emit, ctx);
		return;
	case VXT_ACK:
		on_ack(e, now, &h, emit, ctx);
		return;
	case VXT_DATA:
		on_data(e, now, &h, payload, emit, ctx);
		return;
	case VXT_FIN:
		if (e->role == NP_RECEIVING && h.xid == e->xid) {
			send_ctl(e, now, VXT_FIN, e->rcv_nxt, e->crc, emit, ctx);
			if (!e->fin_sent && e->rcv_nxt == e->total)
				e->st.transfers++;
			e->fin_sent = e->rcv_nxt == e->total;
		}
		return;
	default:
		e->st.dropped++;
		return;
	}
}

vtime_t np_engine_deadline(const struct np_engine *e)
{
	return e->role == NP_SENDING ? e->rto_deadline : NP_NEVER;
}

/* Go-back-N: nothing acknowledged for rto, start again at snd_una. */
void np_engine_timer(struct np_engine *e, vtime_t now, np_emit_fn emit, void *ctx)
{
	if (e->role != NP_SENDING || e->rto_deadline == NP_NEVER || now < e->rto_deadline)
		return;
	e->rto_deadline = NP_NEVER;
	if (e->snd_una >= e->snd_nxt)
		return;
	e->st.retransmits++;
	e->snd_nxt = e->snd_una;
	if (e->rwnd == 0)
		e->rwnd = e->cfg.mss;          /* a window probe */
	send_window(e, now, emit, ctx);
}

bool np_engine_valid(const struct np_engine *e)
{
	const struct np_engine_config *c = &e->cfg;

	return c->mss >= 1 && c->mss <= VXT_MSS_MAX && c->window >= 1 && c->window <= NP_WINDOW_MAX &&
	       e->role <= NP_RECEIVING && e->fin_sent <= 1 && e->total <= c->max_total &&
	       e->snd_una <= e->snd_nxt && e->snd_nxt <= e->snd_max && e->snd_max <= e->total &&
	       e->rcv_nxt <= e->total && e->crc_upto <= e->total &&
	       /* the running CRC covers exactly what was sent or received */
	       (e->role != NP_SENDING || e->crc_upto == e->snd_max) &&
	       (e->role != NP_RECEIVING || e->crc_upto == e->rcv_nxt);
}

static const char *const role_name[] = { "idle", "sending", "receiving" };

void np_engine_dump(const struct np_engine *e, FILE *out, const char *prefix)
{
	fprintf(out, "%s engine %s xid=%08x total=%u", prefix, role_name[e->role <= 2 ? e->role : 0], e->xid,
		e->total);
	if (e->role == NP_SENDING)
		fprintf(out, " una=%u nxt=%u max=%u rwnd=%u fin=%u", e->snd_una, e->snd_nxt, e->snd_max, e->rwnd,
			e->fin_sent);
	if (e->role == NP_RECEIVING)
		fprintf(out, " rcv_nxt=%u crc=%08x fin=%u", e->rcv_nxt, e->crc, e->fin_sent);
	if (e->rto_deadline != NP_NEVER)
		fprintf(out, " rto-at=%llu", (unsigned long long)e->rto_deadline);
	fprintf(out, "\n%s engine in=%llu out=%llu dropped=%llu retransmits=%llu transfers=%llu\n", prefix,
		(unsigned long long)e->st.frames_in, (unsigned long long)e->st.frames_out,
		(unsigned long long)e->st.dropped, (unsigned long long)e->st.retransmits,
		(unsigned long long)e->st.transfers);
}

/* ---------------------------------------------------------------- wire */

vtime_t netpeer_wire_time(uint64_t bandwidth, size_t len)
{
	uint64_t bits = (uint64_t)((len < ETH_ZLEN ? ETH_ZLEN : len) + ETH_FCS_LEN) * 8;

	if (!bandwidth)
		return 0;
	return (vtime_t)((bits * 1000000000ull + bandwidth - 1) / bandwidth);
}

static void q_clear(struct np_queue *q)
{
	q->head = q->count = 0;
	q->link_free = 0;
	q->dropped = 0;
}

/* A frame that starts on the wire at `start`: queued with its arrival time. */
static bool q_push(struct np_queue *q, const struct netpeer *p, vtime_t start, const uint8_t *frame,
		   size_t len)
{
	vtime_t t = start > q->link_free ? start : q->link_free;
	vtime_t wire = netpeer_wire_time(p->bandwidth, len);

	if (q->count == NP_QUEUE || len > ETH_FRAME_MAX) {
		q->dropped++;
		return false;
	}
	q->link_free = t + wire;
	struct np_frame *f = &q->f[(q->head + q->count) % NP_QUEUE];
	f->at = t + wire + p->latency;
	f->len = (uint16_t)len;
	memcpy(f->data, frame, len);
	q->count++;
	return true;
}

static const struct np_frame *q_first(const struct np_queue *q)
{
	return q->count ? &q->f[q->head] : NULL;
}

static void q_pop(struct np_queue *q)
{
	if (q->count) {
		q->head = (q->head + 1) % NP_QUEUE;
		q->count--;
	}
}

void netpeer_reset(struct netpeer *p)
{
	np_engine_reset(&p->eng);
	q_clear(&p->to_peer);
	q_clear(&p->to_nic);
}

void netpeer_init(struct netpeer *p, const struct netpeer_config *cfg)
{
	p->latency = cfg->latency;
	p->bandwidth = cfg->bandwidth ? cfg->bandwidth : 1;
	np_engine_init(&p->eng, &cfg->engine);
	netpeer_reset(p);
}

bool netpeer_from_nic(struct netpeer *p, vtime_t now, const uint8_t *frame, size_t len)
{
	/* The NIC's own transmitter paces it: the frame starts now. */
	return q_push(&p->to_peer, p, now, frame, len);
}

/* The engine's replies leave the peer at `at`, one after another. */
static void to_nic(void *ctx, vtime_t at, const uint8_t *frame, size_t len)
{
	struct netpeer *p = ctx;
	q_push(&p->to_nic, p, at, frame, len);
}

vtime_t netpeer_next_event(const struct netpeer *p)
{
	const struct np_frame *f = q_first(&p->to_peer);
	vtime_t t = np_engine_deadline(&p->eng);

	if (f && f->at < t)
		t = f->at;
	return t;
}

void netpeer_run(struct netpeer *p, vtime_t now)
{
	/* Bounded: each round consumes a frame or a timer. */
	for (unsigned round = 0; round < 4 * NP_QUEUE + 4; round++) {
		const struct np_frame *f = q_first(&p->to_peer);
		vtime_t rto = np_engine_deadline(&p->eng);

		if (f && f->at <= now && f->at <= rto) {
			/* Copy: the engine's replies must not see a slot reused. */
			uint8_t frame[ETH_FRAME_MAX];
			size_t len = f->len;
			vtime_t at = f->at;
			memcpy(frame, f->data, len);
			q_pop(&p->to_peer);
			np_engine_input(&p->eng, at, frame, len, to_nic, p);
		} else if (rto <= now) {
			/* At its own time; one long overdue (a restored image)
			 * fires now rather than once per rto since. */
			np_engine_timer(&p->eng, now - rto > p->eng.cfg.rto ? now : rto, to_nic, p);
		} else {
			return;
		}
	}
}

vtime_t netpeer_rx_time(const struct netpeer *p)
{
	const struct np_frame *f = q_first(&p->to_nic);
	return f ? f->at : NP_NEVER;
}

const uint8_t *netpeer_rx_peek(const struct netpeer *p, size_t *len)
{
	const struct np_frame *f = q_first(&p->to_nic);

	if (!f) {
		*len = 0;
		return NULL;
	}
	*len = f->len;
	return f->data;
}

void netpeer_rx_pop(struct netpeer *p)
{
	q_pop(&p->to_nic);
}

static bool q_valid(const struct np_queue *q)
{
	if (q->head >= NP_QUEUE || q->count > NP_QUEUE)
		return false;
	for (uint32_t i = 0; i < q->count; i++)
		if (q->f[(q->head + i) % NP_QUEUE].len > ETH_FRAME_MAX)
			return false;
	return true;
}

bool netpeer_valid(const struct netpeer *p)
{
	return p->bandwidth > 0 && np_engine_valid(&p->eng) && q_valid(&p->to_peer) && q_valid(&p->to_nic);
}

void netpeer_dump(const struct netpeer *p, FILE *out)
{
	vtime_t rx = netpeer_rx_time(p);

	fprintf(out, "ne2k peer link latency=%llu ns bandwidth=%llu bit/s; to-peer %u frames (dropped %llu), "
		"to-nic %u frames (dropped %llu)",
		(unsigned long long)p->latency, (unsigned long long)p->bandwidth, p->to_peer.count,
		(unsigned long long)p->to_peer.dropped, p->to_nic.count, (unsigned long long)p->to_nic.dropped);
	if (rx != NP_NEVER)
		fprintf(out, ", next at the NIC %llu ns", (unsigned long long)rx);
	fputc('\n', out);
	np_engine_dump(&p->eng, out, "ne2k peer");
}
