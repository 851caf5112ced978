/*
 * net.c - the "net" workload: the seed's SCP benchmark as far as the NIC is
 * concerned.  A bulk transfer to and from a peer through the NE2000 (rt/
 * ne2k.c, a Linux-2.6-shaped ne.c/8390.c driver: receive ring, IRQ 9 on the
 * slave 8259A, remote DMA through the data port), with the HZ=1000 timer
 * ticking as in the other workloads (its jiffies time the transfers).
 *
 * The protocol is VXT (devices/netpeer.h documents it; this file is an
 * independent client implementation): a windowed bulk transfer with
 * cumulative acknowledgements, the shape of scp over TCP.
 *   download: GET xid total win; DATA segments arrive in order; one
 *             cumulative ACK per wake-up that brought data; the peer's FIN
 *             carries the CRC-32 of what it sent.
 *   upload:   PUT xid total; the peer's ACK gives its window; DATA segments
 *             within it (go-back-N after `rto` ticks without progress); FIN
 *             with our CRC-32, answered by the peer's CRC-32 of what it got.
 * The first request goes to the broadcast address; the peer's address is
 * learned from its first answer (as ARP would).  The data of transfer xid is
 * a fixed pattern (word k = hash(xid, k)); the guest checks every byte it
 * receives against the pattern and both CRCs against each other.
 *
 * Arguments (boot args, key=value):
 *   get=N      bytes to download (default 1048576; 0: none)
 *   put=N      bytes to upload (default 1048576; 0: none)
 *   window=N   receive window we advertise, in 1460-byte segments (16)
 *   mss=N      payload bytes per DATA segment we send (1460, at most 1480)
 *   rto=N      ticks without progress before resending (200)
 *   timeout=N  ticks without progress before giving up (10000)
 *
 * Output: a header line, a line of driver counters, then
 *   result: workload=net get=G get_crc=0x.. put=P put_crc=0x.. us=T
 *           get_us=.. get_bytes_per_s=.. put_us=.. put_bytes_per_s=..
 *           bytes_per_s=..
 * and exit status 0.  Everything up to put_crc depends only on G and P
 * (guest-ref net G,P prints it); the rest measures virtual time with the
 * TSC, calibrated against the PIT before the transfers: microseconds from
 * the first request to the last FIN, bytes_per_s = bytes * 10^6 / us (per
 * direction and both together).  Status 3: a data or CRC check failed;
 * 4: no NE2000; 5: a transfer stalled for `timeout` ticks.
 *
 * Phases: 1 when the transfers start, 2 when both are done.
 */
#include "rt/io.h"
#include "rt/ne2k.h"
#include "rt/rt.h"

#define NET_EXIT_NO_NIC  4
#define NET_EXIT_STALLED 5

#define XID_GET 0x6e657431u    /* "net1" */
#define XID_PUT 0x6e657432u    /* "net2" */

#define ETHERTYPE_VXT 0x88b5
#define VXT_HLEN      20
#define SEG           1460     /* the receive window's unit */
#define MSS_MAX       1480

enum { GET = 1, PUT = 2, DATA = 3, ACK = 4, FIN = 5 };

static const char *const keys[] = { "get", "put", "window", "mss", "rto", "timeout", 0 };

static uint8_t my_mac[6], peer_mac[6];
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static volatile bool peer_known;

/* ---------------------------------------------------------------- data */

static uint32_t crc_table[256];

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0xedb88320u : c >> 1;
		crc_table[i] = c;
	}
}

static uint32_t crc_update(uint32_t crc, const uint8_t *p, size_t n)
{
	crc = ~crc;
	while (n--)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* The VXT data pattern: little-endian word k of transfer xid. */
static uint32_t pattern_word(uint32_t xid, uint32_t k)
{
	uint32_t x = k * 0x9e3779b1u + xid;

	x ^= x >> 16;
	x *= 0x7feb352du;
	x ^= x >> 15;
	x *= 0x846ca68bu;
	x ^= x >> 16;
	return x;
}

/* Bytes [off, off+n) of the pattern into out. */
static void pattern(uint32_t xid, uint32_t off, uint8_t *out, uint32_t n)
{
	uint32_t w = pattern_word(xid, off >> 2);

	for (uint32_t i = 0; i < n; i++, off++) {
		if (!(off & 3))
			w = pattern_word(xid, off >> 2);
		out[i] = (uint8_t)(w >> (8 * (off & 3)));
	}
}

/* How many of p[0..n) differ from the pattern at off. */
static uint32_t pattern_diff(uint32_t xid, uint32_t off, const uint8_t *p, uint32_t n)
{
	uint32_t w = pattern_word(xid, off >> 2), bad = 0;

	for (uint32_t i = 0; i < n; i++, off++) {
		if (!(off & 3))
			w = pattern_word(xid, off >> 2);
		bad += p[i] != (uint8_t)(w >> (8 * (off & 3)));
	}
	return bad;
}

/* ---------------------------------------------------------------- frames */

static void put16(uint8_t *p, uint32_t v)
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

static uint32_t get16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint8_t txf[NE2K_ETH_MAX];

/* Build the headers of a VXT frame in txf; the payload goes after them. */
static uint8_t *vxt_header(unsigned type, uint32_t len, uint32_t xid, uint32_t seq, uint32_t arg, uint32_t win)
{
	memcpy(txf, peer_known ? peer_mac : bcast, 6);
	memcpy(txf + 6, my_mac, 6);
	put16(txf + 12, ETHERTYPE_VXT);
	txf[14] = 1;
	txf[15] = (uint8_t)type;
	put16(txf + 16, len);
	put32(txf + 18, xid);
	put32(txf + 22, seq);
	put32(txf + 26, arg);
	put32(txf + 30, win);
	return txf + 14 + VXT_HLEN;
}

static void vxt_send(uint32_t len)
{
	ne2k_xmit(txf, 14 + VXT_HLEN + len);
}

/* ---------------------------------------------------------------- the client */

/* State shared with the receive path (interrupt handler). */
static struct {
	uint32_t xid;
	bool put;
	uint32_t total;
	/* download */
	uint32_t rcv_nxt, crc, mismatches;
	bool fresh;                 /* data since the last ACK we sent */
	/* upload */
	uint32_t snd_una, rwnd;
	bool acked;                 /* the peer answered our PUT */
	/* both */
	bool fin;
	uint32_t fin_crc, fin_seq;
	uint64_t frames, ignored;
} volatile c;

static void on_frame(const uint8_t *f, size_t len)
{
	uint32_t type, plen, xid, seq;

	c.frames++;
	if (len < 14 + VXT_HLEN || get16(f + 12) != ETHERTYPE_VXT || f[14] != 1) {
		c.ignored++;
		return;
	}
	type = f[15];
	plen = get16(f + 16);
	xid = get32(f + 18);
	seq = get32(f + 22);
	if (xid != c.xid || plen > len - 14 - VXT_HLEN) {
		c.ignored++;
		return;
	}
	if (!peer_known) {
		memcpy(peer_mac, f + 6, 6);
		peer_known = true;
	}
	switch (type) {
	case DATA:
		if (c.put || seq != c.rcv_nxt || plen > c.total - c.rcv_nxt) {
			c.ignored++;
			c.fresh = true;      /* answer with a duplicate ACK */
			return;
		}
		c.mismatches += pattern_diff(c.xid, c.rcv_nxt, f + 14 + VXT_HLEN, plen);
		c.crc = crc_update(c.crc, f + 14 + VXT_HLEN, plen);
		c.rcv_nxt += plen;
		c.fresh = true;
		return;
	case ACK:
		if (!c.put)
			return;
		c.acked = true;
		if (seq > c.snd_una && seq <= c.total)
			c.snd_una = seq;
		c.rwnd = get32(f + 30);
		return;
	case FIN:
		c.fin = true;
		c.fin_seq = seq;
		c.fin_crc = get32(f + 26);
		return;
	default:
		c.ignored++;
		return;
	}
}

/* Sleep until an interrupt (sti; hlt is atomic: nothing slips in between). */
static void wait_event(void)
{
	__asm__ volatile("sti; hlt; cli" : : : "memory");
}

static void wait_event_irqs_on(void)
{
	__asm__ volatile("hlt" : : : "memory");
}

struct opts {
	uint64_t window, mss, rto, timeout;
};

/* Download `total` bytes; 0, or an exit status. */
static int download(uint32_t total, const struct opts *o)
{
	uint32_t win = (uint32_t)o->window * SEG;
	uint64_t last = jiffies, acked_at = 0;
	uint32_t progress = 0;

	local_irq_disable();
	c.xid = XID_GET;
	c.put = false;
	c.total = total;
	c.rcv_nxt = 0;
	c.crc = 0;
	c.mismatches = 0;
	c.fresh = false;
	c.fin = false;
	local_irq_enable();
	vxt_header(GET, 0, XID_GET, 0, total, win);
	vxt_send(0);
	local_irq_disable();
	while (!c.fin) {
		if (c.fresh) {
			uint32_t seq = c.rcv_nxt;
			c.fresh = false;
			local_irq_enable();
			vxt_header(ACK, 0, XID_GET, seq, 0, win);
			vxt_send(0);
			local_irq_disable();
			if (seq != progress) {
				progress = seq;
				last = jiffies;
			}
			acked_at = jiffies;
			continue;
		}
		if (jiffies - last > o->timeout) {
			local_irq_enable();
			rt_printf("net: download stalled at %u of %u bytes\n", c.rcv_nxt, total);
			return NET_EXIT_STALLED;
		}
		if (jiffies - (acked_at > last ? acked_at : last) > o->rto) {
			/* Nothing for a while: repeat the request or our ACK. */
			uint32_t seq = c.rcv_nxt;
			local_irq_enable();
			if (seq == 0 && !peer_known)
				vxt_header(GET, 0, XID_GET, 0, total, win);
			else
				vxt_header(ACK, 0, XID_GET, seq, 0, win);
			vxt_send(0);
			local_irq_disable();
			acked_at = jiffies;
			continue;
		}
		wait_event();
	}
	local_irq_enable();
	if (c.rcv_nxt != total || c.fin_seq != total || c.mismatches || c.fin_crc != c.crc) {
		rt_printf("net: download check failed: %u of %u bytes, %u bytes differ from the pattern, "
			  "crc 0x%08x, the peer's 0x%08x\n", c.rcv_nxt, total, c.mismatches, c.crc, c.fin_crc);
		return RT_EXIT_SELFCHECK;
	}
	return 0;
}

/* Upload `total` bytes; 0, or an exit status.  *crc gets ours. */
static int upload(uint32_t total, const struct opts *o, uint32_t *crc)
{
	uint32_t snd_nxt = 0, snd_max = 0, mss = (uint32_t)o->mss, sent_crc = 0;
	uint64_t last = jiffies, sent_at = jiffies;
	uint32_t progress = 0;
	bool fin_sent = false;

	local_irq_disable();
	c.xid = XID_PUT;
	c.put = true;
	c.total = total;
	c.snd_una = 0;
	c.rwnd = 0;
	c.acked = false;
	c.fin = false;
	local_irq_enable();
	vxt_header(PUT, 0, XID_PUT, 0, total, 0);
	vxt_send(0);
	for (;;) {
		uint32_t una, rwnd;
		local_irq_disable();
		una = c.snd_una;
		rwnd = c.rwnd;
		if (c.fin)
			break;
		if (una != progress || (c.acked && progress == 0 && snd_nxt == 0)) {
			progress = una;
			last = jiffies;
		}
		if (jiffies - last > o->timeout) {
			local_irq_enable();
			rt_printf("net: upload stalled at %u of %u bytes\n", una, total);
			return NET_EXIT_STALLED;
		}
		if (jiffies - (sent_at > last ? sent_at : last) > o->rto) {
			/* Go back N (or repeat the request, or the FIN). */
			local_irq_enable();
			if (!c.acked)
				vxt_header(PUT, 0, XID_PUT, 0, total, 0), vxt_send(0);
			else if (fin_sent)
				vxt_header(FIN, 0, XID_PUT, total, sent_crc, 0), vxt_send(0);
			snd_nxt = una;
			sent_at = jiffies;
			continue;
		}
		if (!c.acked || (snd_nxt >= total && una < total) || (snd_nxt < total && snd_nxt - una + 1 > rwnd) ||
		    (una == total && fin_sent)) {
			wait_event();
			local_irq_enable();
			continue;
		}
		local_irq_enable();
		if (una == total) {
			vxt_header(FIN, 0, XID_PUT, total, sent_crc, 0);
			vxt_send(0);
			fin_sent = true;
			sent_at = jiffies;
			continue;
		}
		/* One segment inside the window. */
		uint32_t len = total - snd_nxt;
		uint32_t room = rwnd - (snd_nxt - una);
		if (len > mss)
			len = mss;
		if (len > room)
			len = room;
		uint8_t *p = vxt_header(DATA, len, XID_PUT, snd_nxt, 0, 0);
		pattern(XID_PUT, snd_nxt, p, len);
		if (snd_nxt == snd_max) {
			sent_crc = crc_update(sent_crc, p, len);
			snd_max += len;
		}
		vxt_send(len);
		snd_nxt += len;
		sent_at = jiffies;
	}
	local_irq_enable();
	*crc = sent_crc;
	if (c.fin_seq != total || c.fin_crc != sent_crc) {
		rt_printf("net: upload check failed: the peer got %u of %u bytes with crc 0x%08x, ours 0x%08x\n",
			  c.fin_seq, total, c.fin_crc, sent_crc);
		return RT_EXIT_SELFCHECK;
	}
	return 0;
}

/* ---------------------------------------------------------------- time */

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

#define CALIBRATE_TICKS 10

/* The TSC's rate, measured against the PIT like Linux's calibrate_tsc
 * (which used channel 2; the HZ tick serves here): the TSC across
 * CALIBRATE_TICKS ticks of LATCH / 1193182 s each.  The timer's jiffies
 * cannot time the transfers themselves: a tick that falls inside a long
 * exit (a rep insw to a device-model process) is merged with the next. */
static uint64_t tsc_hz;

static void calibrate_tsc(void)
{
	uint64_t j, t0, t1;
	const uint64_t span_ns = (uint64_t)CALIBRATE_TICKS * LATCH * 1000000000ull / CLOCK_TICK_RATE;

	local_irq_enable();
	/* The first tick may have been pending while interrupts were off:
	 * start at the edge of the next one. */
	for (int edge = 0; edge < 2; edge++) {
		j = jiffies;
		while (jiffies == j)
			wait_event_irqs_on();
	}
	t0 = rdtsc();
	j = jiffies;
	while (jiffies < j + CALIBRATE_TICKS)
		wait_event_irqs_on();
	t1 = rdtsc();
	local_irq_disable();
	tsc_hz = (t1 - t0) * 1000000000ull / span_ns;
}

static uint64_t tsc_us(uint64_t delta)
{
	return tsc_hz ? delta * 1000000ull / tsc_hz : 0;
}

static uint64_t per_second(uint64_t bytes, uint64_t delta)
{
	return delta ? bytes * tsc_hz / delta : 0;
}

int main(const char *args)
{
	struct opts o;
	uint64_t get, put, t0, t1, t2;
	uint32_t get_crc = 0, put_crc = 0;
	int rc = 0;

	args_check(args, keys);
	get = args_u64(args, "get", 1048576);
	put = args_u64(args, "put", 1048576);
	o.window = args_u64(args, "window", 16);
	o.mss = args_u64(args, "mss", 1460);
	o.rto = args_u64(args, "rto", 200);
	o.timeout = args_u64(args, "timeout", 10000);
	if (get > 0x40000000u || put > 0x40000000u || o.window < 1 || o.window > 64 || o.mss < 1 ||
	    o.mss > MSS_MAX || o.rto < 1 || o.timeout < o.rto) {
		rt_printf("net: bad arguments (get, put <= 1 GiB; window 1-64; mss 1-%d; rto >= 1; timeout >= rto)\n",
			  MSS_MAX);
		return RT_EXIT_BAD_ARGS;
	}
	crc_init();
	init_8259A();
	time_init();
	if (ne2k_probe(my_mac))
		return NET_EXIT_NO_NIC;
	rt_printf("net: HZ=%d get=%lu put=%lu window=%lu mss=%lu mac=%02x:%02x:%02x:%02x:%02x:%02x console=%s\n", HZ,
		  (unsigned long)get, (unsigned long)put, (unsigned long)o.window, (unsigned long)o.mss, my_mac[0],
		  my_mac[1], my_mac[2], my_mac[3], my_mac[4], my_mac[5], console_has_uart() ? "uart" : "hypercall");
	ne2k_open(on_frame);
	calibrate_tsc();

	hc_phase(1);
	local_irq_enable();
	t0 = rdtsc();
	if (get)
		rc = download((uint32_t)get, &o);
	get_crc = c.crc;
	t1 = rdtsc();
	if (!rc && put)
		rc = upload((uint32_t)put, &o, &put_crc);
	t2 = rdtsc();
	local_irq_disable();
	hc_phase(2);
	disable_8259A_irq(NE2K_IRQ);
	disable_8259A_irq(0);
	if (rc)
		return rc;

	rt_printf("net: peer=%02x:%02x:%02x:%02x:%02x:%02x tsc_hz=%lu irqs=%lu rx_frames=%lu tx_frames=%lu "
		  "tx_waits=%lu rx_errors=%lu overruns=%lu ignored=%lu\n",
		  peer_mac[0], peer_mac[1], peer_mac[2], peer_mac[3], peer_mac[4], peer_mac[5], (unsigned long)tsc_hz,
		  (unsigned long)ne2k_stats.interrupts, (unsigned long)ne2k_stats.rx_frames,
		  (unsigned long)ne2k_stats.tx_frames, (unsigned long)ne2k_stats.tx_waits,
		  (unsigned long)ne2k_stats.rx_errors, (unsigned long)ne2k_stats.overruns, (unsigned long)c.ignored);
	rt_printf("result: workload=net get=%lu get_crc=0x%08x put=%lu put_crc=0x%08x us=%lu get_us=%lu "
		  "get_bytes_per_s=%lu put_us=%lu put_bytes_per_s=%lu bytes_per_s=%lu\n",
		  (unsigned long)get, get_crc, (unsigned long)put, put_crc, (unsigned long)tsc_us(t2 - t0),
		  (unsigned long)tsc_us(t1 - t0), (unsigned long)per_second(get, t1 - t0),
		  (unsigned long)tsc_us(t2 - t1), (unsigned long)per_second(put, t2 - t1),
		  (unsigned long)per_second(get + put, t2 - t0));
	return 0;
}
