/*
 * ne2k.c - an NE2000 ISA Ethernet board: National Semiconductor's DP8390D
 * Network Interface Controller (NIC) with 16 KiB of buffer RAM and the
 * station-address PROM, as the NE2000 wires them, at I/O 0x300-0x31f and
 * IRQ 9 (on the slave 8259A: the cascade is exercised).  Its back-end is a
 * simulated peer in virtual time or a real socket (netpeer.h).
 *
 * Ranges: 0 = 0x300-0x31f.
 *   0x00-0x0f  the DP8390's registers, in the page CR.PS selects
 *   0x10-0x17  the data port: remote DMA to and from the board's memory
 *   0x18-0x1f  the reset port: any access resets the DP8390
 * (the NE2000 decodes A3-A4 only above 0x10, so every port of each half is
 * the same).
 *
 * The board's memory as the DP8390's local and remote DMA see it (16-bit
 * addresses):
 *   0x0000-0x3fff  the PROM, 16 bytes, each on both byte lanes: address a
 *                  reads PROM byte (a >> 1) & 15 (read only)
 *   0x4000-0x7fff  16 KiB of RAM: pages 0x40-0x7f
 *   0x8000-0xffff  nothing: reads 0xff, writes are lost
 * PROM bytes 0-5 are the station address (option mac), 6-13 are 0, 14-15
 * are 0x57 0x57 ("WW"), the signature NE2000 drivers look for.
 *
 * Receive (DP8390D "Packet Reception", "Buffer Ring"): a frame that passes
 * the address filter (RCR) is stored from page CURR on: a 4-byte header
 * (receive status = RSR, next packet pointer, receive byte count low, high;
 * the count covers header, frame and the 4-byte FCS the model appends),
 * then the frame and FCS, page after page.  Linking to the next page wraps
 * from PSTOP to PSTART and never enters the page BNRY points at, which is
 * also checked for the first page: a ring with CURR = BNRY is full.  Every
 * byte goes through the memory map above, whatever PSTART, PSTOP, BNRY and
 * CURR hold, so hostile ring registers cannot reach outside the board's
 * 16 KiB (the class of CVE-2015-5279).  A frame the ring has no room for
 * waits on the wire (the back-end holds it, as a host queue would) until
 * BNRY moves; only a frame larger than the whole ring is lost, with ISR.OVW,
 * RSR.MPA and CNTR2 (missed packets).
 *
 * Transmit ("Packet Transmission"): CR.TXP sends TBCR bytes from page TPSR.
 * The transmitter is busy for the frame's time on the wire at the link's
 * bandwidth, then sets TSR.PTX and ISR.PTX and clears CR.TXP.  In a loopback
 * mode (TCR.LB != 0) the frame comes back to the receiver instead of going
 * to the wire.  Frames above 1514 bytes are sent (the DP8390 does not
 * truncate) and dropped by the link.
 *
 * Remote DMA ("Remote DMA"): CR.RD = 001 (read) or 010 (write) starts at
 * RSAR for RBCR bytes; each data-port transfer moves one byte (DCR.WTS = 0)
 * or one word (DCR.WTS = 1, byte-swapped when DCR.BOS = 1), advances the
 * address (wrapping from PSTOP to PSTART, as the DP8390's remote DMA does)
 * and counts RBCR down; at 0 the DMA is complete: ISR.RDC, CR.RD = 100.
 * RD = 011 ("Send Packet") loads RSAR and RBCR from the packet header at
 * BNRY and reads.  A data-port access is one transfer per byte (byte mode)
 * or word (word mode) of the access's size, at least one: in word mode a
 * byte access moves a whole word and returns its low byte.  With no remote
 * DMA in progress a read returns all ones and a write is lost.
 *
 * Interrupts: the INT pin is (ISR & IMR & 0x7f) != 0, on IRQ 9; the ISA line
 * is edge-triggered, so the guest sees a new interrupt only after clearing
 * ISR (or IMR) and a new event.  ISR bits are cleared by writing 1; ISR.RST
 * (bit 7) is status only: set while the NIC is stopped (and after a ring
 * overflow), cleared by CR.STA (and by BNRY moving after an overflow).
 *
 * Reset: power-on zeroes everything.  A chip reset (power-on, the reset
 * port) stops the NIC: CR = 0x21 (STP, remote DMA complete), ISR = RST,
 * IMR = 0, a transmission and a remote DMA in progress are dropped; other
 * registers keep their values.
 *
 * The back-end (options backend, backend_mode, netpeer.h): in `event` mode a
 * frame is delivered at its arrival (a timer at that time) and again as
 * soon as the ring has room; in `poll` mode the model looks at the back-end
 * only at multiples of poll_interval of virtual time (and delivers at most
 * poll_budget frames then), like a device model woken by its main loop's
 * select() timeout.  Both deliver the same frames in the same order; only
 * the times differ.
 *
 * Options (init's "key=value,..."; unknown keys and bad values fail init):
 *   backend=peer|socket        peer (default): the simulated peer and link in
 *                              virtual time (netpeer.c); socket: UDP on
 *                              loopback to a vmxlab-netpeer process
 *   backend_mode=event|poll    default event
 *   poll_interval=DURATION     poll mode's period, default 10ms (1us-10s)
 *   poll_budget=N              frames per poll, 0 (default): all that fit
 *   latency=DURATION           one-way link latency, default 50us
 *   bandwidth=RATE             link bit rate (bit, Kbit, Mbit, Gbit), default
 *                              100Mbit; also paces the transmitter
 *   mac=XX:..:XX               the PROM's station address, 52:54:00:12:34:56
 *   peer_mac=XX:..:XX          the peer's, 52:54:00:12:34:57
 *   window=N, mss=N, rto=DUR   the peer's send window (16 segments), segment
 *                              size (1460) and retransmission timeout (200ms)
 *   peer_port=N                socket: reach a peer already listening on
 *                              127.0.0.1:N instead of starting one
 *   peer_exe=PATH              socket: the peer program (default
 *                              $VMXLAB_NETPEER, else vmxlab-netpeer next to
 *                              this executable or one directory up)
 *   sock_wait=DURATION         socket: the wall-clock wait for an answer the
 *                              NIC expects (default 200ms)
 * With "" (no options) the NIC has the idle peer back-end: nothing arrives
 * until the guest sends, so the placement tests see a plain NE2000.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vmxlab/dev.h>

#include "ne2k.h"
#include "netpeer.h"

#define NEVER UINT64_MAX

#define RANGE_NE2K   0
#define PORT_DATA    0x10
#define PORT_RESET   0x18
#define PORT_END     0x20

#define MEM_RAM_BASE 0x4000
#define MEM_RAM_SIZE 0x4000
#define MEM_RAM_END  (MEM_RAM_BASE + MEM_RAM_SIZE)
#define PROM_SIZE    16

/* The longest frame the receiver can be offered: the byte count is 16 bits
 * and covers the 4-byte header and the FCS. */
#define RX_FRAME_LIMIT (0xffff - 4 - ETH_FCS_LEN)

/*
 * Command Register CR (all pages, offset 0x00), DP8390D "Command Register":
 *
 *     7     6     5     4     3     2     1     0
 *   +-----+-----+-----+-----+-----+-----+-----+-----+
 *   | PS1 | PS0 | RD2 | RD1 | RD0 | TXP | STA | STP |
 *   +-----+-----+-----+-----+-----+-----+-----+-----+
 *   PS:  register page 0-3
 *   RD:  000 not allowed, 001 remote read, 010 remote write, 011 send packet,
 *        1xx abort/complete remote DMA
 *   TXP: transmit packet (cleared when the transmission ends)
 *   STA: start, STP: stop (software reset)
 */
#define CR_STP      0x01
#define CR_STA      0x02
#define CR_TXP      0x04
#define CR_RD(v)    (((unsigned)(v) >> 3) & 7)
#define CR_PS(v)    (((unsigned)(v) >> 6) & 3)
#define RD_READ     1
#define RD_WRITE    2
#define RD_SEND     3
#define RD_ABORT    4

/*
 * Interrupt Status Register ISR (page 0, 0x07) and Interrupt Mask Register
 * IMR (page 0, 0x0f, bits 0-6 enable the same events):
 *
 *     7     6     5     4     3     2     1     0
 *   +-----+-----+-----+-----+-----+-----+-----+-----+
 *   | RST | RDC | CNT | OVW | TXE | RXE | PTX | PRX |
 *   +-----+-----+-----+-----+-----+-----+-----+-----+
 *   PRX packet received, PTX packet transmitted, RXE/TXE receive/transmit
 *   error, OVW receive buffer ring overwrite warning, CNT a tally counter's
 *   MSB set, RDC remote DMA complete, RST reset status (no interrupt)
 */
#define ISR_PRX 0x01
#define ISR_PTX 0x02
#define ISR_RXE 0x04
#define ISR_TXE 0x08
#define ISR_OVW 0x10
#define ISR_CNT 0x20
#define ISR_RDC 0x40
#define ISR_RST 0x80
#define ISR_EVENTS 0x7f

/*
 * Data Configuration Register DCR (page 0 write 0x0e, page 2 read):
 *
 *     7     6     5     4     3     2     1     0
 *   +-----+-----+-----+-----+-----+-----+-----+-----+
 *   |  -  | FT1 | FT0 | ARM | LS  | LAS | BOS | WTS |
 *   +-----+-----+-----+-----+-----+-----+-----+-----+
 *   WTS word-wide DMA, BOS big-endian words, LAS 32-bit addresses (the
 *   NE2000 has 16), LS 1 = normal operation, ARM auto-initialize remote,
 *   FT FIFO threshold.  Only WTS and BOS change what the model does.
 */
#define DCR_WTS 0x01
#define DCR_BOS 0x02
#define DCR_BITS 0x7f

/*
 * Transmit Configuration Register TCR (page 0 write 0x0d, page 2 read):
 *
 *     7     6     5     4      3     2     1     0
 *   +-----+-----+-----+------+-----+-----+-----+-----+
 *   |  -  |  -  |  -  | OFST | ATD | LB1 | LB0 | CRC |
 *   +-----+-----+-----+------+-----+-----+-----+-----+
 *   LB: 00 normal, 01 internal (NIC) loopback, 10 internal (ENDEC)
 *   loopback, 11 external loopback.  CRC inhibit, ATD and OFST (collision
 *   behaviour) do not matter on the simulated wire.
 */
#define TCR_LB(v)  (((unsigned)(v) >> 1) & 3)
#define TCR_BITS   0x1f

/*
 * Receive Configuration Register RCR (page 0 write 0x0c, page 2 read):
 *
 *     7     6     5     4     3     2     1     0
 *   +-----+-----+-----+-----+-----+-----+-----+-----+
 *   |  -  |  -  | MON | PRO | AM  | AB  | AR  | SEP |
 *   +-----+-----+-----+-----+-----+-----+-----+-----+
 *   SEP save errored packets, AR accept runts (< 64 bytes with FCS), AB
 *   accept broadcast, AM accept multicast that hashes into MAR0-7, PRO
 *   accept every physical address, MON monitor: check but do not buffer
 */
#define RCR_SEP 0x01
#define RCR_AR  0x02
#define RCR_AB  0x04
#define RCR_AM  0x08
#define RCR_PRO 0x10
#define RCR_MON 0x20
#define RCR_BITS 0x3f

/*
 * Receive Status Register RSR (page 0 read 0x0c; also byte 0 of every
 * packet header):
 *
 *     7     6     5     4     3     2     1     0
 *   +-----+-----+-----+-----+-----+-----+-----+-----+
 *   | DFR | DIS | PHY | MPA | FO  | FAE | CR  | PRX |
 *   +-----+-----+-----+-----+-----+-----+-----+-----+
 *   PRX received intact, PHY 1 = multicast/broadcast destination, MPA
 *   missed packet, DIS receiver disabled (monitor mode)
 */
#define RSR_PRX 0x01
#define RSR_MPA 0x10
#define RSR_PHY 0x20
#define RSR_DIS 0x40

/*
 * Transmit Status Register TSR (page 0 read 0x04):
 *
 *     7     6     5     4     3     2     1     0
 *   +-----+-----+-----+-----+-----+-----+-----+-----+
 *   | OWC | CDH | FU  | CRS | ABT | COL |  -  | PTX |
 *   +-----+-----+-----+-----+-----+-----+-----+-----+
 *   The simulated wire never collides: a transmission ends with PTX.
 */
#define TSR_PTX 0x01

/* Register offsets (pages 0-2); the names of the DP8390D register map. */
enum {
	R_CR = 0x00,
	P0_PSTART = 0x01, P0_CLDA0 = 0x01, P0_PSTOP = 0x02, P0_CLDA1 = 0x02, P0_BNRY = 0x03,
	P0_TPSR = 0x04, P0_TSR = 0x04, P0_TBCR0 = 0x05, P0_NCR = 0x05, P0_TBCR1 = 0x06, P0_FIFO = 0x06,
	P0_ISR = 0x07, P0_RSAR0 = 0x08, P0_CRDA0 = 0x08, P0_RSAR1 = 0x09, P0_CRDA1 = 0x09,
	P0_RBCR0 = 0x0a, P0_RBCR1 = 0x0b, P0_RCR = 0x0c, P0_RSR = 0x0c, P0_TCR = 0x0d, P0_CNTR0 = 0x0d,
	P0_DCR = 0x0e, P0_CNTR1 = 0x0e, P0_IMR = 0x0f, P0_CNTR2 = 0x0f,
	P1_PAR0 = 0x01, P1_CURR = 0x07, P1_MAR0 = 0x08,
	P2_PSTART = 0x01, P2_PSTOP = 0x02, P2_RNPP = 0x03, P2_TPSR = 0x04, P2_LNPP = 0x05,
	P2_ACU = 0x06, P2_ACL = 0x07, P2_RCR = 0x0c, P2_TCR = 0x0d, P2_DCR = 0x0e, P2_IMR = 0x0f,
};

enum backend { BE_PEER = 0, BE_SOCKET = 1 };
enum be_mode { MODE_EVENT = 0, MODE_POLL = 1 };

struct ne2k_options {
	uint8_t backend;           /* enum backend */
	uint8_t mode;              /* enum be_mode */
	uint8_t mac[ETH_ALEN];     /* the PROM's station address */
	uint8_t peer_mac[ETH_ALEN];
	vtime_t poll_interval;
	uint32_t poll_budget;      /* frames per poll, 0: as many as fit */
	vtime_t latency;
	uint64_t bandwidth;        /* bit/s */
	uint32_t window, mss;
	vtime_t rto;
	uint32_t peer_port;        /* socket: reach a running peer; 0: spawn one */
	uint32_t sock_wait_ms;     /* socket: wall-clock wait for an expected frame */
	char peer_exe[160];        /* socket: the peer program; "": next to this one */
};

struct ne2k_stats {
	uint64_t rx_frames, rx_bytes, rx_rejected, rx_overflows, rx_held;
	uint64_t tx_frames, tx_bytes, tx_giants, tx_dropped;
	uint64_t polls, wakeups;
};

struct ne2k_state {
	const struct vmx_platform *plat;
	struct ne2k_options opt;

	/* DP8390D registers, by their datasheet names. */
	uint8_t cr;                /* PS, RD, TXP, STA, STP */
	uint8_t pstart, pstop, bnry, curr;
	uint8_t tpsr;
	uint16_t tbcr;
	uint8_t isr, imr;
	uint16_t rsar, rbcr, crda; /* remote DMA: start, byte count, current address */
	uint8_t rcr, tcr, dcr;
	uint8_t tsr, rsr, ncr;
	uint8_t cntr[3];           /* CNTR0 alignment, CNTR1 CRC, CNTR2 missed */
	uint8_t par[ETH_ALEN], mar[8];
	uint16_t clda;             /* current local DMA address */
	uint8_t rnpp;              /* remote next packet pointer (Send Packet) */
	bool irq;                  /* the INT pin as last driven */
	bool overflowed;           /* ISR.RST from a ring overflow, until BNRY moves */

	/* The transmitter. */
	bool tx_busy;
	bool tx_loop;              /* this frame comes back to the receiver */
	uint16_t tx_len;           /* bytes kept in tx_frame (<= ETH_FRAME_MAX) */
	vtime_t tx_done;
	uint8_t tx_frame[ETH_FRAME_MAX];

	uint8_t ram[MEM_RAM_SIZE];
	uint8_t prom[PROM_SIZE];

	/* The back-end. */
	int timer_tx, timer_be;
	vtime_t be_deadline;       /* timer_be's deadline, or NEVER */
	vtime_t poll_at;           /* poll mode: the next poll, or NEVER */
	vtime_t last_poll;         /* poll mode: the last poll, or NEVER */
	bool rx_blocked;           /* the back-end's next frame found no room */
	bool sock_expect;          /* socket: a frame was sent, an answer may come */
	bool sock_have;            /* socket: sock_frame holds a frame */
	uint32_t sock_wait_now;    /* socket: how long the next look may wait, ms */
	uint16_t sock_len;
	vtime_t sock_at;           /* socket: when sock_frame has crossed the wire */
	vtime_t sock_link_free;    /* socket: when the wire to the NIC is free */
	vtime_t sock_sent_at;      /* socket: the NIC's last transmission */
	uint8_t sock_frame[ETH_FRAME_MAX];
	struct netsock sock;
	struct ne2k_stats st;
	struct netpeer peer;       /* last: large */
};

#define ne2k_log(n, ...) \
	((n)->plat && (n)->plat->log ? (n)->plat->log((n)->plat->ctx, "ne2k", __VA_ARGS__) : (void)0)

static void be_schedule(struct ne2k_state *n, vtime_t now);
static void deliver(struct ne2k_state *n, vtime_t now);

static vtime_t ne2k_now(const struct ne2k_state *n)
{
	return n->plat->now(n->plat->ctx);
}

static bool started(const struct ne2k_state *n)
{
	return !(n->cr & CR_STP) && (n->cr & CR_STA);
}

/* ---------------------------------------------------------------- interrupts */

static void update_irq(struct ne2k_state *n)
{
	bool level = (n->isr & n->imr & ISR_EVENTS) != 0;

	if (level == n->irq)
		return;
	n->irq = level;
	n->plat->set_irq(n->plat->ctx, NE2K_IRQ, level);
}

/* A tally counter: 8 bits, saturating; its MSB sets ISR.CNT. */
static void count(struct ne2k_state *n, unsigned i)
{
	if (n->cntr[i] < 0xff)
		n->cntr[i]++;
	if (n->cntr[i] & 0x80)
		n->isr |= ISR_CNT;
}

/* ---------------------------------------------------------------- memory */

static uint8_t mem_read(const struct ne2k_state *n, uint16_t a)
{
	if (a < MEM_RAM_BASE)
		return n->prom[(a >> 1) & (PROM_SIZE - 1)];
	if (a < MEM_RAM_END)
		return n->ram[a - MEM_RAM_BASE];
	return 0xff;
}

static void mem_write(struct ne2k_state *n, uint16_t a, uint8_t v)
{
	if (a >= MEM_RAM_BASE && a < MEM_RAM_END)
		n->ram[a - MEM_RAM_BASE] = v;
}

/* ---------------------------------------------------------------- receive */

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
static unsigned ring_free(const struct ne2k_state *n)
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
static enum ne2k_rx rx_frame(struct ne2k_state *n, const uint8_t *frame, size_t len, bool loopback)
{
	uint8_t pages[257];
	size_t total;
	unsigned need;
	uint8_t hdr[4];
	uint32_t crc;
	bool multi;

	if (!started(n) || (TCR_LB(n->tcr) != 0) != loopback)
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
		update_irq(n);
		return NE2K_RX_OVERFLOW;
	}
	if (!ring_walk(n, need, pages)) {
		if (loopback) {
			overflow(n);
			update_irq(n);
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
		mem_write(n, (uint16_t)(pages[i >> 8] << 8 | (i & 0xff)), b);
	}
	n->clda = (uint16_t)(pages[(total - 1) >> 8] << 8 | ((total - 1) & 0xff));
	n->curr = hdr[1];
	n->isr |= ISR_PRX;
	n->st.rx_frames++;
	n->st.rx_bytes += len;
	update_irq(n);
	return NE2K_RX_STORED;
}

enum ne2k_rx ne2k_receive(void *s, const uint8_t *frame, size_t len)
{
	return rx_frame(s, frame, len, false);
}

/* ---------------------------------------------------------------- remote DMA */

static void dma_complete(struct ne2k_state *n)
{
	n->cr = (uint8_t)((n->cr & ~0x38) | RD_ABORT << 3);
	n->isr |= ISR_RDC;
	update_irq(n);
}

static bool dma_active(const struct ne2k_state *n, unsigned rd)
{
	return CR_RD(n->cr) == rd && n->rbcr;
}

/* The remote DMA address after one byte: PSTOP wraps to PSTART. */
static void dma_step(struct ne2k_state *n)
{
	n->crda++;
	if (n->pstop && n->crda == (uint16_t)(n->pstop << 8))
		n->crda = (uint16_t)(n->pstart << 8);
}

/* One DMA unit (1 or 2 bytes) from memory; all ones with no remote read. */
static uint16_t dma_read_unit(struct ne2k_state *n)
{
	bool word = n->dcr & DCR_WTS;
	uint16_t v;

	if (!dma_active(n, RD_READ)) {
		ne2k_log(n, "data port read with no remote read in progress (CR=%02x RBCR=%u)", n->cr, n->rbcr);
		return word ? 0xffff : 0xff;
	}
	v = mem_read(n, n->crda);
	dma_step(n);
	if (word) {
		v |= (uint16_t)(mem_read(n, n->crda) << 8);
		dma_step(n);
		if (n->dcr & DCR_BOS)
			v = (uint16_t)(v >> 8 | v << 8);
	}
	n->rbcr = (uint16_t)(n->rbcr > (word ? 2u : 1u) ? n->rbcr - (word ? 2u : 1u) : 0);
	if (!n->rbcr)
		dma_complete(n);
	return v;
}

static void dma_write_unit(struct ne2k_state *n, uint16_t v)
{
	bool word = n->dcr & DCR_WTS;

	if (!dma_active(n, RD_WRITE)) {
		ne2k_log(n, "data port write with no remote write in progress (CR=%02x RBCR=%u)", n->cr, n->rbcr);
		return;
	}
	if (word && (n->dcr & DCR_BOS))
		v = (uint16_t)(v >> 8 | v << 8);
	mem_write(n, n->crda, (uint8_t)v);
	dma_step(n);
	if (word) {
		mem_write(n, n->crda, (uint8_t)(v >> 8));
		dma_step(n);
	}
	n->rbcr = (uint16_t)(n->rbcr > (word ? 2u : 1u) ? n->rbcr - (word ? 2u : 1u) : 0);
	if (!n->rbcr)
		dma_complete(n);
}

static unsigned dma_units(const struct ne2k_state *n, unsigned size)
{
	unsigned unit = (n->dcr & DCR_WTS) ? 2 : 1;
	return size / unit ? size / unit : 1;
}

static uint32_t data_read(struct ne2k_state *n, unsigned size)
{
	unsigned units = dma_units(n, size);
	unsigned shift = (n->dcr & DCR_WTS) ? 16 : 8;
	uint32_t v = 0;

	for (unsigned i = 0; i < units; i++)
		v |= (uint32_t)dma_read_unit(n) << (shift * i);
	return size >= 4 ? v : v & ((1u << (8 * size)) - 1);
}

static void data_write(struct ne2k_state *n, unsigned size, uint32_t val)
{
	unsigned units = dma_units(n, size);
	unsigned shift = (n->dcr & DCR_WTS) ? 16 : 8;

	for (unsigned i = 0; i < units; i++)
		dma_write_unit(n, (uint16_t)(shift * i < 32 ? val >> (shift * i) : 0));
}

/* CR.RD written: start (or end) a remote DMA. */
static void dma_command(struct ne2k_state *n, unsigned rd)
{
	if (rd == RD_SEND) {
		/* "Send Packet": the packet at BNRY, its length from its header. */
		uint16_t a = (uint16_t)(n->bnry << 8);
		n->rnpp = mem_read(n, (uint16_t)(a + 1));
		n->rsar = a;
		n->rbcr = (uint16_t)(mem_read(n, (uint16_t)(a + 2)) | mem_read(n, (uint16_t)(a + 3)) << 8);
		n->cr = (uint8_t)((n->cr & ~0x38) | RD_READ << 3);
		rd = RD_READ;
	}
	if (rd != RD_READ && rd != RD_WRITE)
		return;
	n->crda = n->rsar;
	if (!n->rbcr)
		dma_complete(n);
}

/* ---------------------------------------------------------------- transmit */

static void tx_start(struct ne2k_state *n, vtime_t now)
{
	size_t len = n->tbcr;
	size_t keep = len < ETH_FRAME_MAX ? len : ETH_FRAME_MAX;
	uint16_t a = (uint16_t)(n->tpsr << 8);

	for (size_t i = 0; i < keep; i++)
		n->tx_frame[i] = mem_read(n, (uint16_t)(a + i));
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
	be_schedule(n, now);
}

static void tx_fired(void *s, vtime_t now)
{
	struct ne2k_state *n = s;

	if (!n->tx_busy)
		return;
	n->tx_busy = false;
	n->cr &= (uint8_t)~CR_TXP;
	n->tsr = TSR_PTX;
	n->isr |= ISR_PTX;
	if (n->tx_loop && n->tx_len)
		rx_frame(n, n->tx_frame, n->tx_len, true);
	update_irq(n);
	be_schedule(n, now);
}

/* ---------------------------------------------------------------- back-end */

/* After an answer, how long a later look waits for the rest of it. */
#define SOCK_WAIT_MORE_MS 2

/* The first multiple of the poll interval at or after t, after the last poll. */
static vtime_t poll_tick(const struct ne2k_state *n, vtime_t t)
{
	vtime_t iv = n->opt.poll_interval;
	vtime_t tick = t / iv * iv;

	if (tick < t)
		tick += iv;
	if (n->last_poll != NEVER && tick <= n->last_poll)
		tick = n->last_poll + iv;
	return tick;
}

/* The next frame the back-end has for the NIC: when it arrives (NEVER if
 * none is known), and the frame. */
static vtime_t be_rx_time(const struct ne2k_state *n)
{
	if (n->opt.backend == BE_PEER)
		return netpeer_rx_time(&n->peer);
	return n->sock_have ? n->sock_at : NEVER;
}

static void be_schedule(struct ne2k_state *n, vtime_t now)
{
	vtime_t d = NEVER, rx;

	if (n->opt.backend == BE_PEER)
		d = netpeer_next_event(&n->peer);
	n->poll_at = NEVER;
	rx = be_rx_time(n);
	if (n->opt.backend == BE_SOCKET && (n->sock_expect || n->sock_have) && rx == NEVER)
		rx = now + n->opt.latency;    /* an answer may come: look then */
	if (rx != NEVER && !n->rx_blocked && started(n)) {
		vtime_t at = rx > now ? rx : now;
		if (n->opt.mode == MODE_POLL)
			at = n->poll_at = poll_tick(n, at);
		if (at < d)
			d = at;
	}
	n->be_deadline = d;
	if (d == NEVER)
		n->plat->timer_cancel(n->plat->ctx, n->timer_be);
	else
		n->plat->timer_arm(n->plat->ctx, n->timer_be, d);
}

/* The socket back-end's next frame, waiting for it if one is expected.  The
 * host supplies the frames, the link model their pace: an answer starts on
 * the virtual wire `latency` after the NIC's last transmission (or when the
 * wire is free) and reaches the NIC after its time on the wire at the
 * link's bandwidth. */
static bool sock_fill(struct ne2k_state *n, vtime_t now, int wait_ms)
{
	long got;
	vtime_t start;

	if (n->sock_have)
		return true;
	got = netsock_recv(&n->sock, n->sock_frame, wait_ms);
	if (got <= 0)
		return false;
	n->sock_have = true;
	n->sock_len = (uint16_t)got;
	(void)now;
	start = n->sock_sent_at + n->opt.latency;
	if (start < n->sock_link_free)
		start = n->sock_link_free;
	n->sock_at = start + netpeer_wire_time(n->opt.bandwidth, (size_t)got);
	n->sock_link_free = n->sock_at;
	return true;
}

/* Hand the NIC what has arrived by `now`, as long as it takes frames. */
static void deliver(struct ne2k_state *n, vtime_t now)
{
	unsigned budget = n->opt.mode == MODE_POLL ? n->opt.poll_budget : 0;
	unsigned done = 0;
	bool waited = false;

	if (n->rx_blocked || !started(n))
		return;
	while (!budget || done < budget) {
		const uint8_t *f;
		size_t len;
		enum ne2k_rx r;

		if (n->opt.backend == BE_PEER) {
			if (netpeer_rx_time(&n->peer) > now)
				break;
			f = netpeer_rx_peek(&n->peer, &len);
		} else {
			/* An expected answer is worth a wait: the whole round trip
			 * after a send, a little more after an answer came. */
			if (!sock_fill(n, now, n->sock_expect && !waited ? (int)n->sock_wait_now : 0)) {
				if (!waited)
					n->sock_expect = false;
				break;
			}
			waited = true;
			n->sock_wait_now = SOCK_WAIT_MORE_MS;
			if (n->sock_at > now)
				break;              /* still on the wire */
			f = n->sock_frame;
			len = n->sock_len;
		}
		r = rx_frame(n, f, len, false);
		if (r == NE2K_RX_NO_ROOM || r == NE2K_RX_STOPPED) {
			n->rx_blocked = true;
			n->st.rx_held++;
			break;
		}
		if (n->opt.backend == BE_PEER)
			netpeer_rx_pop(&n->peer);
		else
			n->sock_have = false;
		done++;
	}
}

static void be_fired(void *s, vtime_t now)
{
	struct ne2k_state *n = s;

	n->be_deadline = NEVER;
	n->st.wakeups++;
	if (n->opt.backend == BE_PEER)
		netpeer_run(&n->peer, now);
	if (n->opt.mode == MODE_EVENT) {
		deliver(n, now);
	} else if (n->poll_at != NEVER && now >= n->poll_at) {
		n->last_poll = now;
		n->st.polls++;
		deliver(n, now);
	}
	be_schedule(n, now);
}

/* The ring, the receiver or the NIC's state changed: a held frame may fit.
 * In event mode the back-end hands it over at once; in poll mode at the
 * next poll. */
static void rx_unblock(struct ne2k_state *n)
{
	vtime_t now;

	if (!n->rx_blocked)
		return;
	n->rx_blocked = false;
	now = ne2k_now(n);
	if (n->opt.mode == MODE_EVENT)
		deliver(n, now);
	be_schedule(n, now);
}

/* ---------------------------------------------------------------- reset */

/* The DP8390's reset state (power-on, reset port). */
static void chip_reset(struct ne2k_state *n)
{
	n->cr = CR_STP | RD_ABORT << 3;
	n->isr = ISR_RST;
	n->imr = 0;
	n->overflowed = false;
	if (n->tx_busy) {
		n->tx_busy = false;
		n->plat->timer_cancel(n->plat->ctx, n->timer_tx);
	}
	update_irq(n);
}

/* The board's reset port: the chip stops; the back-end stops looking. */
static void port_reset(struct ne2k_state *n)
{
	chip_reset(n);
	be_schedule(n, ne2k_now(n));
}

static void set_prom(struct ne2k_state *n)
{
	memset(n->prom, 0, sizeof(n->prom));
	memcpy(n->prom, n->opt.mac, ETH_ALEN);
	n->prom[14] = 0x57;
	n->prom[15] = 0x57;
}

static void ne2k_reset(void *s)
{
	struct ne2k_state *n = s;

	n->pstart = n->pstop = n->bnry = n->curr = n->tpsr = 0;
	n->tbcr = n->rsar = n->rbcr = n->crda = n->clda = 0;
	n->rcr = n->tcr = n->dcr = n->tsr = n->rsr = n->ncr = n->rnpp = 0;
	memset(n->cntr, 0, sizeof(n->cntr));
	memset(n->par, 0, sizeof(n->par));
	memset(n->mar, 0, sizeof(n->mar));
	memset(n->ram, 0, sizeof(n->ram));
	memset(&n->st, 0, sizeof(n->st));
	n->tx_len = 0;
	n->tx_loop = false;
	n->tx_done = 0;
	set_prom(n);
	chip_reset(n);
	n->rx_blocked = false;
	n->poll_at = n->last_poll = NEVER;
	n->sock_expect = n->sock_have = false;
	n->sock_at = n->sock_link_free = n->sock_sent_at = 0;
	if (n->opt.backend == BE_PEER)
		netpeer_reset(&n->peer);
	n->be_deadline = NEVER;
	n->plat->timer_cancel(n->plat->ctx, n->timer_be);
}

/* ---------------------------------------------------------------- registers */

static void write_cr(struct ne2k_state *n, uint8_t v)
{
	bool was = started(n);
	uint8_t run = n->cr & (CR_STA | CR_STP);

	if (v & CR_STP) {
		run = CR_STP;
		n->isr |= ISR_RST;
	} else if (v & CR_STA) {
		run = CR_STA;
		n->isr &= (uint8_t)~ISR_RST;
		n->overflowed = false;
	}
	n->cr = (uint8_t)((v & 0xf8) | (n->cr & CR_TXP) | run);
	if (CR_RD(v) != 0 && CR_RD(v) < RD_ABORT)
		dma_command(n, CR_RD(v));
	if ((v & CR_TXP) && !(n->cr & CR_TXP)) {
		if (!started(n)) {
			ne2k_log(n, "CR.TXP with the NIC stopped: ignored");
		} else {
			n->cr |= CR_TXP;
			tx_start(n, ne2k_now(n));
		}
	} else if ((v & CR_TXP) && n->tx_busy) {
		ne2k_log(n, "CR.TXP while a transmission is in progress: ignored");
	}
	update_irq(n);
	if (started(n) && !was) {
		n->rx_blocked = true;       /* look again */
		rx_unblock(n);
	} else if (!started(n) && was) {
		be_schedule(n, ne2k_now(n));
	}
}

static void ring_changed(struct ne2k_state *n)
{
	n->rx_blocked = true;
	rx_unblock(n);
}

static void write_reg(struct ne2k_state *n, unsigned off, uint8_t v)
{
	unsigned page = CR_PS(n->cr);

	if (off == R_CR) {
		write_cr(n, v);
		return;
	}
	if (page == 1) {
		if (off <= P1_PAR0 + 5)
			n->par[off - P1_PAR0] = v;
		else if (off == P1_CURR) {
			n->curr = v;
			ring_changed(n);
		} else
			n->mar[off - P1_MAR0] = v;
		return;
	}
	if (page != 0) {
		ne2k_log(n, "write %#04x to page %u register %#x: ignored", v, page, off);
		return;
	}
	switch (off) {
	case P0_PSTART: n->pstart = v; ring_changed(n); break;
	case P0_PSTOP: n->pstop = v; ring_changed(n); break;
	case P0_BNRY:
		n->bnry = v;
		if (n->overflowed && started(n)) {
			n->overflowed = false;
			n->isr &= (uint8_t)~ISR_RST;
		}
		ring_changed(n);
		break;
	case P0_TPSR: n->tpsr = v; break;
	case P0_TBCR0: n->tbcr = (uint16_t)((n->tbcr & 0xff00) | v); break;
	case P0_TBCR1: n->tbcr = (uint16_t)((n->tbcr & 0x00ff) | v << 8); break;
	case P0_ISR:
		n->isr &= (uint8_t)~(v & ISR_EVENTS);
		update_irq(n);
		break;
	case P0_RSAR0: n->rsar = (uint16_t)((n->rsar & 0xff00) | v); break;
	case P0_RSAR1: n->rsar = (uint16_t)((n->rsar & 0x00ff) | v << 8); break;
	case P0_RBCR0: n->rbcr = (uint16_t)((n->rbcr & 0xff00) | v); break;
	case P0_RBCR1: n->rbcr = (uint16_t)((n->rbcr & 0x00ff) | v << 8); break;
	case P0_RCR: n->rcr = v & RCR_BITS; ring_changed(n); break;
	case P0_TCR: n->tcr = v & TCR_BITS; ring_changed(n); break;
	case P0_DCR: n->dcr = v & DCR_BITS; break;
	case P0_IMR:
		n->imr = v & ISR_EVENTS;
		update_irq(n);
		break;
	default:
		break;
	}
}

static uint8_t read_reg(struct ne2k_state *n, unsigned off)
{
	unsigned page = CR_PS(n->cr);
	uint8_t v;

	if (off == R_CR)
		return n->cr;
	if (page == 1) {
		if (off <= P1_PAR0 + 5)
			return n->par[off - P1_PAR0];
		if (off == P1_CURR)
			return n->curr;
		return n->mar[off - P1_MAR0];
	}
	if (page == 2) {
		switch (off) {
		case P2_PSTART: return n->pstart;
		case P2_PSTOP: return n->pstop;
		case P2_RNPP: return n->rnpp;
		case P2_TPSR: return n->tpsr;
		case P2_LNPP: return n->curr;
		case P2_ACU: return (uint8_t)(n->clda >> 8);
		case P2_ACL: return (uint8_t)n->clda;
		case P2_RCR: return n->rcr;
		case P2_TCR: return n->tcr;
		case P2_DCR: return n->dcr;
		case P2_IMR: return n->imr;
		default: return 0xff;       /* reserved */
		}
	}
	if (page == 3)
		return 0xff;                /* reserved on the DP8390 */
	switch (off) {
	case P0_CLDA0: return (uint8_t)n->clda;
	case P0_CLDA1: return (uint8_t)(n->clda >> 8);
	case P0_BNRY: return n->bnry;
	case P0_TSR: return n->tsr;
	case P0_NCR: return n->ncr;
	case P0_FIFO: return 0;
	case P0_ISR: return n->isr;
	case P0_CRDA0: return (uint8_t)n->crda;
	case P0_CRDA1: return (uint8_t)(n->crda >> 8);
	case P0_RSR: return n->rsr;
	case P0_CNTR0:
	case P0_CNTR1:
	case P0_CNTR2:
		/* Tally counters clear when read. */
		v = n->cntr[off - P0_CNTR0];
		n->cntr[off - P0_CNTR0] = 0;
		return v;
	default:
		return 0xff;                /* 0x0a, 0x0b: reserved */
	}
}

/* ---------------------------------------------------------------- ports */

static bool access_ok(struct ne2k_state *n, unsigned range, uint16_t off, unsigned size, const char *what)
{
	if (range == RANGE_NE2K && off < PORT_END && (size == 1 || size == 2 || size == 4))
		return true;
	ne2k_log(n, "bad %s: range %u offset %u size %u", what, range, off, size);
	return false;
}

static uint32_t ne2k_pio_read(void *s, unsigned range, uint16_t off, unsigned size)
{
	struct ne2k_state *n = s;
	uint32_t v = 0;

	if (!access_ok(n, range, off, size, "read"))
		return 0xffffffff;
	if (off >= PORT_RESET) {
		port_reset(n);
		return 0;
	}
	if (off >= PORT_DATA)
		return data_read(n, size);
	/* Registers are bytes: a wider access is byte cycles at off, off+1, ... */
	for (unsigned i = 0; i < size; i++) {
		unsigned o = off + i;
		uint32_t b = o < PORT_DATA ? read_reg(n, o) : o < PORT_RESET ? data_read(n, 1) : 0;
		if (o >= PORT_RESET)
			port_reset(n);
		v |= b << (8 * i);
	}
	return v;
}

static void ne2k_pio_write(void *s, unsigned range, uint16_t off, unsigned size, uint32_t val)
{
	struct ne2k_state *n = s;

	if (!access_ok(n, range, off, size, "write"))
		return;
	if (off >= PORT_RESET) {
		port_reset(n);
		return;
	}
	if (off >= PORT_DATA) {
		data_write(n, size, val);
		return;
	}
	for (unsigned i = 0; i < size; i++) {
		unsigned o = off + i;
		uint8_t b = (uint8_t)(val >> (8 * i));
		if (o < PORT_DATA)
			write_reg(n, o, b);
		else if (o < PORT_RESET)
			data_write(n, 1, b);
		else
			port_reset(n);
	}
}

/* ---------------------------------------------------------------- options */

static bool parse_u64(const char *v, uint64_t *out, uint64_t lo, uint64_t hi)
{
	char *end;
	unsigned long long x;

	if (!*v || *v == '-')
		return false;
	errno = 0;
	x = strtoull(v, &end, 0);
	if (errno || *end || x < lo || x > hi)
		return false;
	*out = x;
	return true;
}

/* A number with a unit suffix from `units` (name, scale), decimals allowed:
 * "10ms", "1.5us", "100Mbit"; a plain number takes the first unit's scale
 * of 1 (ns, bit/s). */
struct unit { const char *name; double scale; };

static bool parse_scaled(const char *v, const struct unit *units, uint64_t *out, uint64_t lo, uint64_t hi)
{
	char *end;
	double x, scale = 1;

	if (!*v || *v == '-' || *v == '+')
		return false;
	errno = 0;
	x = strtod(v, &end);
	if (errno || end == v || x != x || x < 0)
		return false;
	if (*end) {
		const struct unit *u;
		for (u = units; u->name; u++)
			if (!strcmp(end, u->name))
				break;
		if (!u->name)
			return false;
		scale = u->scale;
	}
	x *= scale;
	if (x < (double)lo || x > (double)hi || x != (double)(uint64_t)x)
		return false;
	*out = (uint64_t)x;
	return true;
}

static const struct unit time_units[] = { { "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 }, { NULL, 0 } };
static const struct unit rate_units[] = { { "bit", 1 }, { "Kbit", 1e3 }, { "Mbit", 1e6 }, { "Gbit", 1e9 },
					  { NULL, 0 } };

static bool parse_mac(const char *v, uint8_t mac[ETH_ALEN])
{
	unsigned b[ETH_ALEN];
	char tail;

	if (sscanf(v, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6 ||
	    strlen(v) != 17)
		return false;
	for (int i = 0; i < ETH_ALEN; i++)
		mac[i] = (uint8_t)b[i];
	return !(mac[0] & 1);           /* a station address is unicast */
}

static void options_default(struct ne2k_options *o)
{
	static const uint8_t mac[ETH_ALEN] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	static const uint8_t peer[ETH_ALEN] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x57 };

	memset(o, 0, sizeof(*o));
	o->backend = BE_PEER;
	o->mode = MODE_EVENT;
	memcpy(o->mac, mac, ETH_ALEN);
	memcpy(o->peer_mac, peer, ETH_ALEN);
	o->poll_interval = 10000000;     /* 10 ms: QEMU's select() timeout (docs) */
	o->poll_budget = 0;
	o->latency = 50000;              /* 50 us one way */
	o->bandwidth = 100000000;        /* 100 Mbit/s */
	o->window = 16;
	o->mss = 1460;
	o->rto = 200000000;              /* 200 ms: Linux's TCP_RTO_MIN */
	o->sock_wait_ms = 200;
}

/* One key=value; false with a log line if it is not a valid option. */
static bool set_option(struct ne2k_state *n, const char *key, const char *val)
{
	struct ne2k_options *o = &n->opt;
	uint64_t x;

	if (!strcmp(key, "backend")) {
		if (!strcmp(val, "peer"))
			o->backend = BE_PEER;
		else if (!strcmp(val, "socket"))
			o->backend = BE_SOCKET;
		else
			goto bad;
	} else if (!strcmp(key, "backend_mode")) {
		if (!strcmp(val, "poll"))
			o->mode = MODE_POLL;
		else if (!strcmp(val, "event"))
			o->mode = MODE_EVENT;
		else
			goto bad;
	} else if (!strcmp(key, "poll_interval")) {
		if (!parse_scaled(val, time_units, &o->poll_interval, 1000, 10000000000ull))
			goto bad;
	} else if (!strcmp(key, "poll_budget")) {
		if (!parse_u64(val, &x, 0, 1024))
			goto bad;
		o->poll_budget = (uint32_t)x;
	} else if (!strcmp(key, "latency")) {
		if (!parse_scaled(val, time_units, &o->latency, 0, 1000000000ull))
			goto bad;
	} else if (!strcmp(key, "bandwidth")) {
		if (!parse_scaled(val, rate_units, &o->bandwidth, 1000, 100000000000ull))
			goto bad;
	} else if (!strcmp(key, "mac")) {
		if (!parse_mac(val, o->mac))
			goto bad;
	} else if (!strcmp(key, "peer_mac")) {
		if (!parse_mac(val, o->peer_mac))
			goto bad;
	} else if (!strcmp(key, "window")) {
		if (!parse_u64(val, &x, 1, NP_WINDOW_MAX))
			goto bad;
		o->window = (uint32_t)x;
	} else if (!strcmp(key, "mss")) {
		if (!parse_u64(val, &x, 1, VXT_MSS_MAX))
			goto bad;
		o->mss = (uint32_t)x;
	} else if (!strcmp(key, "rto")) {
		if (!parse_scaled(val, time_units, &o->rto, 1000000, 10000000000ull))
			goto bad;
	} else if (!strcmp(key, "peer_port")) {
		if (!parse_u64(val, &x, 1, 65535))
			goto bad;
		o->peer_port = (uint32_t)x;
	} else if (!strcmp(key, "peer_exe")) {
		if (!*val || strlen(val) >= sizeof(o->peer_exe))
			goto bad;
		snprintf(o->peer_exe, sizeof(o->peer_exe), "%s", val);
	} else if (!strcmp(key, "sock_wait")) {
		if (!parse_scaled(val, time_units, &x, 0, 10000000000ull))
			goto bad;
		o->sock_wait_ms = (uint32_t)(x / 1000000);
	} else {
		ne2k_log(n, "unknown option '%s' (known: backend, backend_mode, poll_interval, poll_budget, latency, "
			 "bandwidth, mac, peer_mac, window, mss, rto, peer_port, peer_exe, sock_wait)", key);
		return false;
	}
	return true;
bad:
	ne2k_log(n, "bad value '%s' for option %s", val, key);
	return false;
}

static int parse_options(struct ne2k_state *n, const char *options)
{
	char buf[512];
	char *save = NULL;

	options_default(&n->opt);
	if (!options || !*options)
		return 0;
	if (strlen(options) >= sizeof(buf)) {
		ne2k_log(n, "options too long");
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s", options);
	for (char *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '=');
		if (!eq) {
			ne2k_log(n, "option '%s' is not key=value", item);
			return -1;
		}
		*eq = '\0';
		if (!set_option(n, item, eq + 1))
			return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- lifecycle */

static void peer_config(const struct ne2k_options *o, struct netpeer_config *pc)
{
	memset(pc, 0, sizeof(*pc));
	memcpy(pc->engine.mac, o->peer_mac, ETH_ALEN);
	pc->engine.mss = o->mss;
	pc->engine.window = o->window;
	pc->engine.rto = o->rto;
	pc->engine.max_total = 1u << 30;
	pc->latency = o->latency;
	pc->bandwidth = o->bandwidth;
}

/* The peer program: peer_exe, $VMXLAB_NETPEER, or vmxlab-netpeer next to
 * this executable or one directory up (build/asan/, build/tests/). */
static void find_peer_exe(const struct ne2k_state *n, char *out, size_t len)
{
	const char *env = getenv("VMXLAB_NETPEER");
	char self[2048];
	ssize_t k;

	if (n->opt.peer_exe[0]) {
		snprintf(out, len, "%s", n->opt.peer_exe);
		return;
	}
	if (env && *env) {
		snprintf(out, len, "%s", env);
		return;
	}
	snprintf(out, len, "vmxlab-netpeer");
	k = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (k <= 0)
		return;
	self[k] = '\0';
	for (int up = 0; up < 2; up++) {
		char *slash = strrchr(self, '/');
		if (!slash)
			return;
		*slash = '\0';
		snprintf(out, len, "%s/vmxlab-netpeer", self);
		if (access(out, X_OK) == 0)
			return;
	}
	snprintf(out, len, "vmxlab-netpeer");
}

static int ne2k_init(void *s, const struct vmx_platform *plat, const char *options)
{
	struct ne2k_state *n = s;
	struct netpeer_config pc;

	n->plat = plat;
	n->timer_tx = n->timer_be = -1;
	n->sock.fd = -1;
	if (parse_options(n, options))
		return -1;
	n->timer_tx = plat->timer_new(plat->ctx, tx_fired, n);
	n->timer_be = plat->timer_new(plat->ctx, be_fired, n);
	if (n->timer_tx < 0 || n->timer_be < 0) {
		ne2k_log(n, "no platform timers for the transmitter and the back-end");
		return -1;
	}
	peer_config(&n->opt, &pc);
	netpeer_init(&n->peer, &pc);
	if (n->opt.backend == BE_SOCKET) {
		char err[256], exe[4096], args[160];
		int rc;
		if (n->opt.peer_port) {
			rc = netsock_connect(&n->sock, (uint16_t)n->opt.peer_port, err, sizeof(err));
		} else {
			find_peer_exe(n, exe, sizeof(exe));
			snprintf(args, sizeof(args), "--mss %u --window %u --rto-ms %llu --mac %02x:%02x:%02x:%02x:%02x:%02x",
				 n->opt.mss, n->opt.window, (unsigned long long)(n->opt.rto / 1000000),
				 n->opt.peer_mac[0], n->opt.peer_mac[1], n->opt.peer_mac[2], n->opt.peer_mac[3],
				 n->opt.peer_mac[4], n->opt.peer_mac[5]);
			rc = netsock_spawn(&n->sock, exe, args, err, sizeof(err));
		}
		if (rc) {
			ne2k_log(n, "socket back-end: %s", err);
			return -1;
		}
	}
	ne2k_reset(n);
	return 0;
}

static void ne2k_fini(void *s)
{
	struct ne2k_state *n = s;

	if (n->timer_tx >= 0)
		n->plat->timer_cancel(n->plat->ctx, n->timer_tx);
	if (n->timer_be >= 0)
		n->plat->timer_cancel(n->plat->ctx, n->timer_be);
	netsock_close(&n->sock);
}

/* ---------------------------------------------------------------- save/restore */

#define NE2K_IMAGE_MAGIC   0x4b32454eu /* "NE2K" */
#define NE2K_IMAGE_VERSION 1

#define IMG_IRQ        0x01
#define IMG_OVERFLOWED 0x02
#define IMG_TX_BUSY    0x04
#define IMG_TX_LOOP    0x08
#define IMG_RX_BLOCKED 0x10
#define IMG_FLAGS      0x1f

struct ne2k_image {
	uint32_t magic;
	uint16_t version;
	uint8_t backend, flags;
	uint64_t size;
	uint64_t tx_done, poll_at, last_poll;
	uint16_t tbcr, rsar, rbcr, crda, clda, tx_len;
	uint8_t cr, pstart, pstop, bnry, curr, tpsr, isr, imr;
	uint8_t rcr, tcr, dcr, tsr, rsr, ncr, rnpp, pad;
	uint8_t cntr[3], par[ETH_ALEN], mar[8], pad2[7];
	struct ne2k_stats st;
	uint8_t tx_frame[ETH_FRAME_MAX], pad3[6];
	uint8_t ram[MEM_RAM_SIZE];
	/* then, with backend=peer, struct netpeer */
};

size_t ne2k_save_size(void)
{
	return sizeof(struct ne2k_image) + sizeof(struct netpeer);
}

static long ne2k_save(const void *s, void *buf, size_t len)
{
	const struct ne2k_state *n = s;
	struct ne2k_image *img;
	size_t size = sizeof(*img) + (n->opt.backend == BE_PEER ? sizeof(struct netpeer) : 0);

	if (len < size)
		return -1;
	img = malloc(sizeof(*img));
	if (!img)
		return -1;
	memset(img, 0, sizeof(*img));
	img->magic = NE2K_IMAGE_MAGIC;
	img->version = NE2K_IMAGE_VERSION;
	img->backend = n->opt.backend;
	img->size = size;
	img->flags = (uint8_t)((n->irq ? IMG_IRQ : 0) | (n->overflowed ? IMG_OVERFLOWED : 0) |
			       (n->tx_busy ? IMG_TX_BUSY : 0) | (n->tx_loop ? IMG_TX_LOOP : 0) |
			       (n->rx_blocked ? IMG_RX_BLOCKED : 0));
	img->tx_done = n->tx_done;
	img->poll_at = n->poll_at;
	img->last_poll = n->last_poll;
	img->tbcr = n->tbcr;
	img->rsar = n->rsar;
	img->rbcr = n->rbcr;
	img->crda = n->crda;
	img->clda = n->clda;
	img->tx_len = n->tx_len;
	img->cr = n->cr;
	img->pstart = n->pstart;
	img->pstop = n->pstop;
	img->bnry = n->bnry;
	img->curr = n->curr;
	img->tpsr = n->tpsr;
	img->isr = n->isr;
	img->imr = n->imr;
	img->rcr = n->rcr;
	img->tcr = n->tcr;
	img->dcr = n->dcr;
	img->tsr = n->tsr;
	img->rsr = n->rsr;
	img->ncr = n->ncr;
	img->rnpp = n->rnpp;
	memcpy(img->cntr, n->cntr, sizeof(img->cntr));
	memcpy(img->par, n->par, sizeof(img->par));
	memcpy(img->mar, n->mar, sizeof(img->mar));
	img->st = n->st;
	memcpy(img->tx_frame, n->tx_frame, sizeof(img->tx_frame));
	memcpy(img->ram, n->ram, sizeof(img->ram));
	memcpy(buf, img, sizeof(*img));
	free(img);
	if (n->opt.backend == BE_PEER)
		memcpy((uint8_t *)buf + sizeof(struct ne2k_image), &n->peer, sizeof(n->peer));
	return (long)size;
}

static int ne2k_restore(void *s, const void *buf, size_t len)
{
	struct ne2k_state *n = s;
	struct ne2k_image *img;
	struct netpeer_config pc;
	size_t size = sizeof(*img) + (n->opt.backend == BE_PEER ? sizeof(struct netpeer) : 0);
	int rc = -1;

	if (len != size)
		return -1;
	img = malloc(sizeof(*img));
	if (!img)
		return -1;
	memcpy(img, buf, sizeof(*img));
	if (img->magic != NE2K_IMAGE_MAGIC || img->version != NE2K_IMAGE_VERSION || img->size != size ||
	    img->backend != n->opt.backend || (img->flags & ~IMG_FLAGS) || img->tx_len > ETH_FRAME_MAX ||
	    img->rcr & ~RCR_BITS || img->tcr & ~TCR_BITS || img->dcr & ~DCR_BITS || img->imr & ~ISR_EVENTS) {
		ne2k_log(n, "restore: not an image of this device");
		goto out;
	}
	if (n->opt.backend == BE_PEER) {
		struct netpeer *p = malloc(sizeof(*p));
		bool ok;
		if (!p)
			goto out;
		memcpy(p, (const uint8_t *)buf + sizeof(*img), sizeof(*p));
		ok = netpeer_valid(p);
		if (ok) {
			memcpy(&n->peer, p, sizeof(*p));
			/* The link's and peer's parameters are the scenario's. */
			peer_config(&n->opt, &pc);
			n->peer.latency = pc.latency;
			n->peer.bandwidth = pc.bandwidth;
			n->peer.eng.cfg = pc.engine;
		}
		free(p);
		if (!ok || !netpeer_valid(&n->peer)) {
			ne2k_log(n, "restore: peer state out of range");
			if (!ok)
				goto out;
			netpeer_reset(&n->peer);
		}
	}
	n->tx_busy = img->flags & IMG_TX_BUSY;
	n->tx_loop = img->flags & IMG_TX_LOOP;
	n->overflowed = img->flags & IMG_OVERFLOWED;
	n->rx_blocked = img->flags & IMG_RX_BLOCKED;
	n->tx_done = img->tx_done;
	n->poll_at = img->poll_at;
	n->last_poll = img->last_poll;
	n->tbcr = img->tbcr;
	n->rsar = img->rsar;
	n->rbcr = img->rbcr;
	n->crda = img->crda;
	n->clda = img->clda;
	n->tx_len = img->tx_len;
	n->cr = (uint8_t)((img->cr & ~CR_TXP) | (n->tx_busy ? CR_TXP : 0));
	n->pstart = img->pstart;
	n->pstop = img->pstop;
	n->bnry = img->bnry;
	n->curr = img->curr;
	n->tpsr = img->tpsr;
	n->isr = img->isr;
	n->imr = img->imr;
	n->rcr = img->rcr;
	n->tcr = img->tcr;
	n->dcr = img->dcr;
	n->tsr = img->tsr;
	n->rsr = img->rsr;
	n->ncr = img->ncr;
	n->rnpp = img->rnpp;
	memcpy(n->cntr, img->cntr, sizeof(n->cntr));
	memcpy(n->par, img->par, sizeof(n->par));
	memcpy(n->mar, img->mar, sizeof(n->mar));
	n->st = img->st;
	memcpy(n->tx_frame, img->tx_frame, sizeof(n->tx_frame));
	memcpy(n->ram, img->ram, sizeof(n->ram));
	n->sock_have = false;
	/* The INT pin follows the registers: drive the line to that level,
	 * whatever the host's line held before. */
	n->irq = (n->isr & n->imr & ISR_EVENTS) != 0;
	n->plat->set_irq(n->plat->ctx, NE2K_IRQ, n->irq);
	if (n->tx_busy)
		n->plat->timer_arm(n->plat->ctx, n->timer_tx, n->tx_done);
	else
		n->plat->timer_cancel(n->plat->ctx, n->timer_tx);
	be_schedule(n, ne2k_now(n));
	rc = 0;
out:
	free(img);
	return rc;
}

/* ---------------------------------------------------------------- dump */

static const char *const rd_name[8] = { "000", "read", "write", "send", "nodma", "nodma", "nodma", "nodma" };

static void ne2k_dump(const void *s, FILE *out)
{
	const struct ne2k_state *n = s;
	const struct ne2k_stats *st = &n->st;

	fprintf(out, "ne2k CR=%02x page=%u rd=%s%s%s%s ISR=%02x IMR=%02x INT=%d DCR=%02x(%s) TCR=%02x RCR=%02x "
		"TSR=%02x RSR=%02x\n",
		n->cr, CR_PS(n->cr), rd_name[CR_RD(n->cr)], n->cr & CR_TXP ? " TXP" : "",
		n->cr & CR_STA ? " STA" : "", n->cr & CR_STP ? " STP" : "", n->isr, n->imr, n->irq, n->dcr,
		n->dcr & DCR_WTS ? "word" : "byte", n->tcr, n->rcr, n->tsr, n->rsr);
	fprintf(out, "ne2k ring PSTART=%02x PSTOP=%02x BNRY=%02x CURR=%02x free=%u pages%s CLDA=%04x\n", n->pstart,
		n->pstop, n->bnry, n->curr, ring_free(n), n->rx_blocked ? " (a frame waits for room)" : "", n->clda);
	fprintf(out, "ne2k remote DMA RSAR=%04x RBCR=%04x CRDA=%04x RNPP=%02x; transmit TPSR=%02x TBCR=%04x%s\n",
		n->rsar, n->rbcr, n->crda, n->rnpp, n->tpsr, n->tbcr,
		n->tx_busy ? " (busy)" : "");
	if (n->tx_busy)
		fprintf(out, "ne2k transmit ends at %llu ns%s\n", (unsigned long long)n->tx_done,
			n->tx_loop ? " (loopback)" : "");
	fprintf(out, "ne2k PAR=%02x:%02x:%02x:%02x:%02x:%02x MAR=%02x%02x%02x%02x%02x%02x%02x%02x "
		"PROM=%02x:%02x:%02x:%02x:%02x:%02x CNTR=%u,%u,%u\n",
		n->par[0], n->par[1], n->par[2], n->par[3], n->par[4], n->par[5], n->mar[0], n->mar[1], n->mar[2],
		n->mar[3], n->mar[4], n->mar[5], n->mar[6], n->mar[7], n->prom[0], n->prom[1], n->prom[2],
		n->prom[3], n->prom[4], n->prom[5], n->cntr[0], n->cntr[1], n->cntr[2]);
	fprintf(out, "ne2k rx frames=%llu bytes=%llu rejected=%llu overflows=%llu held=%llu; tx frames=%llu "
		"bytes=%llu giants=%llu dropped=%llu\n",
		(unsigned long long)st->rx_frames, (unsigned long long)st->rx_bytes,
		(unsigned long long)st->rx_rejected, (unsigned long long)st->rx_overflows,
		(unsigned long long)st->rx_held, (unsigned long long)st->tx_frames,
		(unsigned long long)st->tx_bytes, (unsigned long long)st->tx_giants,
		(unsigned long long)st->tx_dropped);
	fprintf(out, "ne2k back-end %s, %s mode", n->opt.backend == BE_PEER ? "peer" : "socket",
		n->opt.mode == MODE_POLL ? "poll" : "event");
	if (n->opt.mode == MODE_POLL)
		fprintf(out, " (interval %llu ns, budget %u, %llu polls)", (unsigned long long)n->opt.poll_interval,
			n->opt.poll_budget, (unsigned long long)st->polls);
	fprintf(out, ", %llu wakeups", (unsigned long long)st->wakeups);
	if (n->be_deadline != NEVER)
		fprintf(out, ", next at %llu ns", (unsigned long long)n->be_deadline);
	fputc('\n', out);
	if (n->opt.backend == BE_PEER)
		netpeer_dump(&n->peer, out);
	else
		fprintf(out, "ne2k socket 127.0.0.1:%u -> 127.0.0.1:%u pid %d sent=%llu received=%llu "
			"errors=%llu oversize=%llu%s\n",
			n->sock.local_port, n->sock.peer_port, n->sock.pid, (unsigned long long)n->sock.sent,
			(unsigned long long)n->sock.received, (unsigned long long)n->sock.send_errors,
			(unsigned long long)n->sock.oversize, n->sock_have ? " (a frame waits)" : "");
}

const struct vmx_dev_ops ne2k_dev_ops = {
	.name = "ne2k",
	.state_size = sizeof(struct ne2k_state),
	.init = ne2k_init,
	.fini = ne2k_fini,
	.reset = ne2k_reset,
	.pio_read = ne2k_pio_read,
	.pio_write = ne2k_pio_write,
	.save = ne2k_save,
	.restore = ne2k_restore,
	.dump = ne2k_dump,
	.nranges = 1,
	.ranges = {
		[RANGE_NE2K] = { .base = NE2K_BASE, .len = PORT_END },
	},
};
