/*
 * ne2k_priv.h - what the NE2000 model's files share, for devices/ne2k*.c
 * only: the DP8390D register bits (DP8390D "Internal Registers"), the one
 * device state struct, and the functions one job's file offers the others
 * (ne2k.c lists the files and their jobs).
 */
#ifndef VMXLAB_DEVICES_NE2K_PRIV_H
#define VMXLAB_DEVICES_NE2K_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vmxlab/dev.h>

#include "ne2k.h"
#include "netpeer.h"

#define NEVER UINT64_MAX

/* The board's RAM and PROM in the DP8390's address space (ne2k_dma.c). */
#define MEM_RAM_BASE 0x4000
#define MEM_RAM_SIZE 0x4000
#define MEM_RAM_END  (MEM_RAM_BASE + MEM_RAM_SIZE)
#define PROM_SIZE    16

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

static inline vtime_t ne2k_now(const struct ne2k_state *n)
{
	return n->plat->now(n->plat->ctx);
}

static inline bool ne2k_started(const struct ne2k_state *n)
{
	return !(n->cr & CR_STP) && (n->cr & CR_STA);
}

/* ne2k_regs.c */
void ne2k_update_irq(struct ne2k_state *n);
void ne2k_write_reg(struct ne2k_state *n, unsigned off, uint8_t v);
uint8_t ne2k_read_reg(struct ne2k_state *n, unsigned off);

/* ne2k_dma.c */
uint8_t ne2k_mem_read(const struct ne2k_state *n, uint16_t a);
void ne2k_mem_write(struct ne2k_state *n, uint16_t a, uint8_t v);
uint32_t ne2k_data_read(struct ne2k_state *n, unsigned size);
void ne2k_data_write(struct ne2k_state *n, unsigned size, uint32_t val);
void ne2k_dma_command(struct ne2k_state *n, unsigned rd);

/* ne2k_packet.c */
enum ne2k_rx ne2k_rx_frame(struct ne2k_state *n, const uint8_t *frame, size_t len, bool loopback);
unsigned ne2k_ring_free(const struct ne2k_state *n);
void ne2k_tx_start(struct ne2k_state *n, vtime_t now);
void ne2k_tx_fired(void *s, vtime_t now);

/* ne2k_backend.c */
void ne2k_peer_config(const struct ne2k_options *o, struct netpeer_config *pc);
int ne2k_be_open(struct ne2k_state *n);
void ne2k_be_schedule(struct ne2k_state *n, vtime_t now);
void ne2k_be_fired(void *s, vtime_t now);
void ne2k_rx_unblock(struct ne2k_state *n);

/* ne2k_options.c */
int ne2k_parse_options(struct ne2k_state *n, const char *options);

#endif
