/*
 * ne2k_packet.c - the DP8390's local side: received frames through the
 * address filter into the buffer ring (DP8390D "Packet Reception", "Buffer
 * Ring", "Address Recognition") and the transmitter ("Packet
 * Transmission"), with loopback back to the receiver.
 *
 * Receive (DP8390D "Packet Reception", "Buffer Ring"): a frame that passes
 * the address filter (RCR) is stored from page CURR on: a 4-byte header
 * (receive status = RSR, next packet pointer, receive byte count low, high;
 * the count covers header, frame and the 4-byte FCS the model appends),
 * then the frame and FCS, page after page.  Linking to the next page wraps
 * from PSTOP to PSTART and never enters the page BNRY points at, which is
 * also checked for the first page: a ring with CURR = BNRY is full.  Every
 * byte goes through the board's memory map (ne2k_dma.c), whatever PSTART,
 * PSTOP, BNRY and CURR hold, so hostile ring registers cannot reach outside
 * the board's 16 KiB (the class of CVE-2015-5279).  A frame the ring has no
 * room for waits on the wire (the back-end holds it, as a host queue would)
 * until BNRY moves; only a frame larger than the whole ring is lost, with
 * ISR.OVW, RSR.MPA and CNTR2 (missed packets).
 *
 * Transmit ("Packet Transmission"): CR.TXP sends TBCR bytes from page TPSR.
 * The transmitter is busy for the frame's time on the wire at the link's
 * bandwidth, then sets TSR.PTX and ISR.PTX and clears CR.TXP.  In a loopback
 * mode (TCR.LB != 0) the frame comes back to the receiver instead of going
 * to the wire.  Frames above 1514 bytes are sent (the DP8390 does not
 * truncate) and dropped by the link.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ne2k_priv.h"

/* The longest frame the receiver can be offered: the byte count is 16 bits
 * and covers the 4-byte header and the FCS. */
#define RX_FRAME_LIMIT (0xffff - 4 - ETH_FCS_LEN)

/* ---------------------------------------------------------------- receive */

/* A tally counter: 8 bits, saturating; its MSB sets ISR.CNT. */
static void count(struct ne2k_state *n, unsigned i)
{
	if (n->cntr[i] < 0xff)
		n->cntr[i]++;
	if (n->cntr[i] & 0x80)
		n->isr |= ISR_CNT;
}

/* IEEE 802.3 FCS: CRC-32, reflected, transmitted least significant byte first. */
static uint32_t fcs(const uint8_t *p, size_t len)
{
	return np_crc32(0, p, len);
}

/* The DP8390's multicast hash: the 6 most significant bits of the CRC-32
 * of the destination address, computed most significant bit first (the
 * order the CRC generator sees a shift register's output), index MAR bits
 * 0-63: register index >> 3, bit index & 7. */
static unsigned mcast_index(const uint8_t *addr)
{
	uint32_t crc = 0xffffffffu;

	for (int i = 0; i < ETH_ALEN; i++) {
		uint8_t b = addr[i];
		for (int k = 0; k < 8; k++, b >>= 1) {
			uint32_t carry = ((crc >> 31) ^ b) & 1;
			crc <<= 1;
			if (carry)
				crc ^= 0x04c11db7u;
		}
	}
	return crc >> 26;
}

static const uint8_t bcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* "Address Recognition": physical, multicast (hashed), broadcast. */
static bool address_ok(const struct ne2k_state *n, const uint8_t *dst)
{
	unsigned h;

	if (!(dst[0] & 1))
		return (n->rcr & RCR_PRO) || !memcmp(dst, n->par, ETH_ALEN);
	if (!memcmp(dst, bcast, ETH_ALEN))
		return n->rcr & RCR_AB;
	if (!(n->rcr & RCR_AM))
		return false;
	h = mcast_index(dst);
	return n->mar[h >> 3] & (1u << (h & 7));
}

/* The page after p, as buffer linking takes it: PSTOP wraps to PSTART. */
static uint8_t next_page(const struct ne2k_state *n, uint8_t p)
{
	uint8_t q = (uint8_t)(p + 1);
	return q == n->pstop ? n->pstart : q;
}

/* Pages a packet of `need` pages would occupy from CURR, or 0 if linking
 * reaches BNRY first. */
static unsigned ring_walk(const struct ne2k_state *n, unsigned need, uint8_t *pages)
{
	uint8_t p = n->curr;

	for (unsigned i = 0; i < need; i++) {
		if (p == n->bnry)
			return 0;
		if (pages)
			pages[i] = p;
		p = next_page(n, p);
	}
	return need;
}

/* Free pages in the ring from CURR to BNRY (for the dump). */
unsigned ne2k_ring_free(const struct ne2k_state *n)
{
	uint8_t p = n->curr;
	unsigned k = 0;

	while (k < 256 && p != n->bnry) {
		k++;
		p = next_page(n, p);
	}
	return k;
}

static void overflow(struct ne2k_state *n)
{
	n->rsr = RSR_MPA;
	n->isr |= ISR_OVW | ISR_RST;
	n->overflowed = true;
	n->st.rx_overflows++;
	count(n, 2);
}

/* One frame from the wire (or from the transmitter, in loopback). */
enum ne2k_rx ne2k_rx_frame(struct ne2k_state *n, const uint8_t *frame, size_t len, bool loopback)
{
	uint8_t pages[257];
	size_t total;
	unsigned need;
	uint8_t hdr[4];
	uint32_t crc;
	bool multi;

	if (!ne2k_started(n) || (TCR_LB(n->tcr) != 0) != loopback)
		return NE2K_RX_STOPPED;
	if (len < ETH_ALEN || (len < ETH_ZLEN && !(n->rcr & RCR_AR)) || !address_ok(n, frame)) {
		n->st.rx_rejected++;
		return NE2K_RX_REJECTED;
	}
	multi = frame[0] & 1;
	if (n->rcr & RCR_MON) {
		n->rsr = RSR_DIS | (multi ? RSR_PHY : 0);
		n->st.rx_rejected++;
		return NE2K_RX_REJECTED;
	}
	total = 4 + len + ETH_FCS_LEN;
	need = (unsigned)((total + 255) / 256);
	if (len > RX_FRAME_LIMIT || need > 256 || n->pstart >= n->pstop ||
	    need > (unsigned)(n->pstop - n->pstart) - 1) {
		/* It can never fit: lost, as the DP8390 loses it. */
		overflow(n);
		ne2k_update_irq(n);
		return NE2K_RX_OVERFLOW;
	}
	if (!ring_walk(n, need, pages)) {
		if (loopback) {
			overflow(n);
			ne2k_update_irq(n);
			return NE2K_RX_OVERFLOW;
		}
		return NE2K_RX_NO_ROOM;
	}
	n->rsr = RSR_PRX | (multi ? RSR_PHY : 0);
	crc = fcs(frame, len);
	hdr[0] = n->rsr;
	hdr[1] = next_page(n, pages[need - 1]);
	hdr[2] = (uint8_t)total;
	hdr[3] = (uint8_t)(total >> 8);
	for (size_t i = 0; i < total; i++) {
		uint8_t b;
		if (i < 4)
			b = hdr[i];
		else if (i < 4 + len)
			b = frame[i - 4];
		else
			b = (uint8_t)(crc >> (8 * (i - 4 - len)));
		ne2k_mem_write(n, (uint16_t)(pages[i >> 8] << 8 | (i & 0xff)), b);
	}
	n->clda = (uint16_t)(pages[(total - 1) >> 8] << 8 | ((total - 1) & 0xff));
	n->curr = hdr[1];
	n->isr |= ISR_PRX;
	n->st.rx_frames++;
	n->st.rx_bytes += len;
	ne2k_update_irq(n);
	return NE2K_RX_STORED;
}

enum ne2k_rx ne2k_receive(void *s, const uint8_t *frame, size_t len)
{
	return ne2k_rx_frame(s, frame, len, false);
}

/* ---------------------------------------------------------------- transmit */

void ne2k_tx_start(struct ne2k_state *n, vtime_t now)
{
	size_t len = n->tbcr;
	size_t keep = len < ETH_FRAME_MAX ? len : ETH_FRAME_MAX;
	uint16_t a = (uint16_t)(n->tpsr << 8);

	for (size_t i = 0; i < keep; i++)
		n->tx_frame[i] = ne2k_mem_read(n, (uint16_t)(a + i));
	n->tx_len = (uint16_t)keep;
	n->tx_busy = true;
	n->tx_loop = TCR_LB(n->tcr) != 0;
	n->tx_done = now + netpeer_wire_time(n->opt.bandwidth, len);
	n->tsr = 0;
	n->st.tx_frames++;
	n->st.tx_bytes += len;
	if (!n->tx_loop) {
		if (len > ETH_FRAME_MAX || len == 0) {
			n->st.tx_giants += len > 0;
		} else if (n->opt.backend == BE_PEER) {
			if (!netpeer_from_nic(&n->peer, now, n->tx_frame, len))
				n->st.tx_dropped++;
		} else if (netsock_send(&n->sock, n->tx_frame, len) == 0) {
			n->sock_expect = true;
			n->sock_wait_now = n->opt.sock_wait_ms;
			n->sock_sent_at = now;
		} else {
			n->st.tx_dropped++;
		}
	}
	n->plat->timer_arm(n->plat->ctx, n->timer_tx, n->tx_done);
	ne2k_be_schedule(n, now);
}

void ne2k_tx_fired(void *s, vtime_t now)
{
	struct ne2k_state *n = s;

	if (!n->tx_busy)
		return;
	n->tx_busy = false;
	n->cr &= (uint8_t)~CR_TXP;
	n->tsr = TSR_PTX;
	n->isr |= ISR_PTX;
	if (n->tx_loop && n->tx_len)
		ne2k_rx_frame(n, n->tx_frame, n->tx_len, true);
	ne2k_update_irq(n);
	ne2k_be_schedule(n, now);
}
