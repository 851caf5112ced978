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
 * Reset: power-on zeroes everything.  A chip reset (power-on, the reset
 * port) stops the NIC: CR = 0x21 (STP, remote DMA complete), ISR = RST,
 * IMR = 0, a transmission and a remote DMA in progress are dropped; other
 * registers keep their values.
 *
 * This file is the device shell, what the platform calls: the port ranges,
 * reset, init and fini, save/restore and the state dump.  The device's other
 * jobs, each in a file of its own around the one state struct (ne2k_priv.h):
 *   ne2k_regs.c     the register file, CR decoding, the INT pin
 *                   (DP8390D "Internal Registers", "Command Register")
 *   ne2k_dma.c      the board's memory map, the remote DMA ("Remote DMA")
 *   ne2k_packet.c   the receive buffer ring and the transmitter ("Packet
 *                   Reception", "Buffer Ring", "Packet Transmission")
 *   ne2k_backend.c  the back-end: peer or socket, event or poll mode
 *   ne2k_options.c  init's options (backend, mac, latency, bandwidth ...)
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmxlab/dev.h>

#include "ne2k.h"
#include "ne2k_priv.h"
#include "netpeer.h"

#define RANGE_NE2K   0
#define PORT_DATA    0x10
#define PORT_RESET   0x18
#define PORT_END     0x20

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
	ne2k_update_irq(n);
}

/* The board's reset port: the chip stops; the back-end stops looking. */
static void port_reset(struct ne2k_state *n)
{
	chip_reset(n);
	ne2k_be_schedule(n, ne2k_now(n));
}

/* The PROM as ne2k_dma.c's memory map describes it: the station address,
 * zeros, "WW". */
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
		return ne2k_data_read(n, size);
	/* Registers are bytes: a wider access is byte cycles at off, off+1, ... */
	for (unsigned i = 0; i < size; i++) {
		unsigned o = off + i;
		uint32_t b = o < PORT_DATA ? ne2k_read_reg(n, o) : o < PORT_RESET ? ne2k_data_read(n, 1) : 0;
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
		ne2k_data_write(n, size, val);
		return;
	}
	for (unsigned i = 0; i < size; i++) {
		unsigned o = off + i;
		uint8_t b = (uint8_t)(val >> (8 * i));
		if (o < PORT_DATA)
			ne2k_write_reg(n, o, b);
		else if (o < PORT_RESET)
			ne2k_data_write(n, 1, b);
		else
			port_reset(n);
	}
}

/* ---------------------------------------------------------------- lifecycle */

static int ne2k_init(void *s, const struct vmx_platform *plat, const char *options)
{
	struct ne2k_state *n = s;

	n->plat = plat;
	n->timer_tx = n->timer_be = -1;
	n->sock.fd = -1;
	if (ne2k_parse_options(n, options))
		return -1;
	n->timer_tx = plat->timer_new(plat->ctx, ne2k_tx_fired, n);
	n->timer_be = plat->timer_new(plat->ctx, ne2k_be_fired, n);
	if (n->timer_tx < 0 || n->timer_be < 0) {
		ne2k_log(n, "no platform timers for the transmitter and the back-end");
		return -1;
	}
	if (ne2k_be_open(n))
		return -1;
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
			ne2k_peer_config(&n->opt, &pc);
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
	ne2k_be_schedule(n, ne2k_now(n));
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
		n->pstop, n->bnry, n->curr, ne2k_ring_free(n), n->rx_blocked ? " (a frame waits for room)" : "", n->clda);
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
