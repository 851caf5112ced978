/*
 * test_ne2k.c - outside-in tests of devices/ne2k*.c (NE2000 / DP8390 at
 * 0x300-0x31f, IRQ 9) and its back-ends (devices/netpeer.c, netsock.c),
 * driven through the board's ports the way Linux 2.6's ne.c and 8390.c
 * drove them, in virtual time: registers and pages, the PROM, remote DMA
 * both ways in byte and word mode, transmit and receive through the ring
 * with ISR bits and IRQ 9 transitions, address filtering, overflow, hostile
 * register values and frames, save/restore, and whole VXT transfers with
 * the peer back-end in event and poll mode (same bytes, different times)
 * and with the socket back-end (a real peer process on loopback).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dirent.h>

#include "devtest.h"
#include "../../devices/ne2k.h"
#include "../../devices/netpeer.h"
#include "../fuzz/fuzz_ne2k.c"

#define BASE    0x300
#define CMD     (BASE + 0x00)
#define DATA    (BASE + 0x10)
#define RESET   (BASE + 0x1f)
#define IRQ     9

/* Page 0 */
#define PSTART  (BASE + 0x01)
#define PSTOP   (BASE + 0x02)
#define BNRY    (BASE + 0x03)
#define TPSR    (BASE + 0x04)
#define TSR     (BASE + 0x04)
#define TBCR0   (BASE + 0x05)
#define TBCR1   (BASE + 0x06)
#define ISR     (BASE + 0x07)
#define RSAR0   (BASE + 0x08)
#define RSAR1   (BASE + 0x09)
#define CRDA0   (BASE + 0x08)
#define CRDA1   (BASE + 0x09)
#define RBCR0   (BASE + 0x0a)
#define RBCR1   (BASE + 0x0b)
#define RCR     (BASE + 0x0c)
#define RSR     (BASE + 0x0c)
#define TCR     (BASE + 0x0d)
#define CNTR0   (BASE + 0x0d)
#define DCR     (BASE + 0x0e)
#define CNTR2   (BASE + 0x0f)
#define IMR     (BASE + 0x0f)
/* Page 1 */
#define PAR0    (BASE + 0x01)
#define CURR    (BASE + 0x07)
#define MAR0    (BASE + 0x08)

/* CR values (8390.h's names) */
#define E8390_STOP   0x01
#define E8390_START  0x02
#define E8390_TRANS  0x04
#define E8390_RREAD  0x08
#define E8390_RWRITE 0x10
#define E8390_NODMA  0x20
#define E8390_PAGE0  0x00
#define E8390_PAGE1  0x40
#define E8390_PAGE2  0x80

#define ISR_PRX 0x01
#define ISR_PTX 0x02
#define ISR_OVW 0x10
#define ISR_CNT 0x20
#define ISR_RDC 0x40
#define ISR_RST 0x80
#define ENISR_ALL 0x3f

#define TX_PAGE   0x40
#define RX_START  0x4c
#define RX_STOP   0x80

static const uint8_t nic_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t peer_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x57 };

static int setup(void **state)
{
	*state = devtest_new(&ne2k_dev_ops, NULL);
	return 0;
}

static int teardown(void **state)
{
	devtest_free(*state);
	return 0;
}

/* ---------------------------------------------------------------- a driver */

struct drv {
	struct devtest *t;
	bool word;
};

static void reg(struct devtest *t, uint16_t port, uint8_t v)
{
	devtest_outb(t, port, v);
}

static void page(struct devtest *t, uint8_t pg)
{
	reg(t, CMD, (uint8_t)(pg | E8390_NODMA | E8390_START));
}

/* ne_reset_8390: read the reset port, write it back, wait for ISR.RST. */
static void board_reset(struct devtest *t)
{
	uint8_t v = devtest_inb(t, RESET);
	devtest_outb(t, RESET, v);
	assert_true(devtest_inb(t, ISR) & ISR_RST);
	reg(t, ISR, 0xff);
}

/* NS8390_init(dev, 1) with Linux's ring (ne.c: 16 KiB, two TX buffers). */
static void drv_init(struct drv *d, bool word, uint8_t rcr)
{
	struct devtest *t = d->t;

	d->word = word;
	board_reset(t);
	reg(t, CMD, E8390_NODMA | E8390_PAGE0 | E8390_STOP);
	reg(t, DCR, word ? 0x49 : 0x48);
	reg(t, RBCR0, 0);
	reg(t, RBCR1, 0);
	reg(t, RCR, 0x20);                 /* monitor while setting up */
	reg(t, TCR, 0x02);                 /* internal loopback */
	reg(t, TPSR, TX_PAGE);
	reg(t, PSTART, RX_START);
	reg(t, BNRY, RX_STOP - 1);
	reg(t, PSTOP, RX_STOP);
	reg(t, ISR, 0xff);
	reg(t, IMR, 0x00);
	reg(t, CMD, E8390_NODMA | E8390_PAGE1 | E8390_STOP);
	for (int i = 0; i < 6; i++)
		reg(t, (uint16_t)(PAR0 + i), nic_mac[i]);
	reg(t, CURR, RX_START);
	reg(t, CMD, E8390_NODMA | E8390_PAGE0 | E8390_STOP);
	reg(t, ISR, 0xff);
	reg(t, IMR, ENISR_ALL);
	reg(t, CMD, E8390_NODMA | E8390_PAGE0 | E8390_START);
	reg(t, TCR, 0x00);
	reg(t, RCR, rcr);
}

static void remote_setup(struct devtest *t, uint16_t addr, uint16_t count, uint8_t dir)
{
	reg(t, CMD, E8390_NODMA | E8390_PAGE0 | E8390_START);
	reg(t, RBCR0, (uint8_t)count);
	reg(t, RBCR1, (uint8_t)(count >> 8));
	reg(t, RSAR0, (uint8_t)addr);
	reg(t, RSAR1, (uint8_t)(addr >> 8));
	reg(t, CMD, (uint8_t)(dir | E8390_START));
}

/* ne_block_output: count rounded up to even in word mode; wait for RDC. */
static void remote_write(struct drv *d, uint16_t addr, const uint8_t *buf, size_t len)
{
	struct devtest *t = d->t;
	size_t count = d->word ? (len + 1) & ~(size_t)1 : len;

	remote_setup(t, addr, (uint16_t)count, E8390_RWRITE);
	if (d->word)
		for (size_t i = 0; i < count; i += 2)
			devtest_out(t, DATA, 2, buf[i] | (i + 1 < len ? buf[i + 1] : 0) << 8);
	else
		for (size_t i = 0; i < len; i++)
			devtest_outb(t, DATA, buf[i]);
	assert_true(devtest_inb(t, ISR) & ISR_RDC);
	reg(t, ISR, ISR_RDC);
}

/* ne_block_input: words, then an odd last byte with a byte read. */
static void remote_read(struct drv *d, uint16_t addr, uint8_t *buf, size_t len)
{
	struct devtest *t = d->t;

	remote_setup(t, addr, (uint16_t)len, E8390_RREAD);
	if (d->word) {
		size_t i;
		for (i = 0; i + 1 < len; i += 2) {
			uint32_t w = devtest_in(t, DATA, 2);
			buf[i] = (uint8_t)w;
			buf[i + 1] = (uint8_t)(w >> 8);
		}
		if (len & 1)
			buf[len - 1] = devtest_inb(t, DATA);
	} else {
		for (size_t i = 0; i < len; i++)
			buf[i] = devtest_inb(t, DATA);
	}
	assert_true(devtest_inb(t, ISR) & ISR_RDC);
	reg(t, ISR, ISR_RDC);
}

/* ei_start_xmit + NS8390_trigger_send: pad to 60, copy, TXP. */
static void drv_send(struct drv *d, const uint8_t *frame, size_t len)
{
	struct devtest *t = d->t;
	uint8_t buf[ETH_FRAME_MAX];
	size_t n = len < ETH_ZLEN ? ETH_ZLEN : len;

	memset(buf, 0, sizeof(buf));
	memcpy(buf, frame, len);
	reg(t, IMR, 0x00);
	remote_write(d, TX_PAGE << 8, buf, n);
	reg(t, CMD, E8390_NODMA | E8390_PAGE0);
	assert_false(devtest_inb(t, CMD) & E8390_TRANS);
	reg(t, TBCR0, (uint8_t)n);
	reg(t, TBCR1, (uint8_t)(n >> 8));
	reg(t, TPSR, TX_PAGE);
	reg(t, CMD, E8390_NODMA | E8390_TRANS | E8390_START);
	reg(t, IMR, ENISR_ALL);
}

/* Wait (in virtual time) until the transmitter is done, and ack PTX. */
static void wait_tx(struct drv *d)
{
	struct devtest *t = d->t;

	for (int i = 0; i < 100 && (devtest_inb(t, CMD) & E8390_TRANS); i++)
		devtest_run_until(t, devtest_next_deadline(t));
	assert_false(devtest_inb(t, CMD) & E8390_TRANS);
	assert_true(devtest_inb(t, ISR) & ISR_PTX);
	assert_int_equal(devtest_inb(t, TSR), 0x01);
	reg(t, ISR, ISR_PTX);
}

/* ei_receive, one frame: returns its length (without the FCS), 0 if the
 * ring is empty.  Checks the header's count and next pointer. */
static size_t drv_recv(struct drv *d, uint8_t *buf, size_t max, uint8_t *status)
{
	struct devtest *t = d->t;
	uint8_t hdr[4], curr, this_frame, next;
	size_t count, len;

	reg(t, CMD, E8390_NODMA | E8390_PAGE1);
	curr = devtest_inb(t, CURR);
	reg(t, CMD, E8390_NODMA | E8390_PAGE0);
	this_frame = (uint8_t)(devtest_inb(t, BNRY) + 1);
	if (this_frame >= RX_STOP)
		this_frame = RX_START;
	if (this_frame == curr)
		return 0;
	remote_read(d, (uint16_t)(this_frame << 8), hdr, 4);
	count = hdr[2] | hdr[3] << 8;
	assert_true(count >= 4 + ETH_FCS_LEN);
	len = count - 4 - ETH_FCS_LEN;
	next = (uint8_t)(this_frame + 1 + ((count - 1) >> 8));
	if (next >= RX_STOP)
		next = (uint8_t)(next - RX_STOP + RX_START);
	assert_int_equal(hdr[1], next);
	if (status)
		*status = hdr[0];
	{
		uint8_t tmp[ETH_FRAME_MAX + ETH_FCS_LEN];
		assert_true(len + ETH_FCS_LEN <= sizeof(tmp));
		remote_read(d, (uint16_t)((this_frame << 8) + 4), tmp, len + ETH_FCS_LEN);
		/* The FCS is the frame's CRC-32, least significant byte first. */
		uint32_t crc = np_crc32(0, tmp, len);
		assert_int_equal(tmp[len] | tmp[len + 1] << 8 | tmp[len + 2] << 16 | (uint32_t)tmp[len + 3] << 24, crc);
		assert_true(len <= max);
		memcpy(buf, tmp, len);
	}
	reg(t, BNRY, (uint8_t)(next == RX_START ? RX_STOP - 1 : next - 1));
	return len;
}

static size_t eth_frame(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint16_t type, size_t payload,
			uint8_t fill)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = (uint8_t)(type >> 8);
	f[13] = (uint8_t)type;
	for (size_t i = 0; i < payload; i++)
		f[14 + i] = (uint8_t)(fill + i * 7);
	return 14 + payload;
}

/* ---------------------------------------------------------------- registers */

static void reset_state_and_prom(void **state)
{
	struct devtest *t = *state;
	struct drv d = { t, false };
	uint8_t prom[32];

	/* Power-on: stopped, remote DMA complete, ISR.RST. */
	assert_int_equal(devtest_inb(t, CMD), 0x21);
	assert_int_equal(devtest_inb(t, ISR), ISR_RST);
	assert_false(t->line[IRQ]);
	/* ne.c's probe: byte-wide DMA of 32 PROM bytes: each byte twice. */
	reg(t, CMD, E8390_NODMA | E8390_PAGE0 | E8390_STOP);
	reg(t, DCR, 0x48);
	remote_read(&d, 0, prom, 32);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(prom[2 * i], nic_mac[i]);
		assert_int_equal(prom[2 * i + 1], nic_mac[i]);
	}
	assert_int_equal(prom[28], 0x57);
	assert_int_equal(prom[30], 0x57);
	/* Word mode: one word per PROM byte. */
	reg(t, DCR, 0x49);
	d.word = true;
	remote_read(&d, 0, prom, 12);
	for (int i = 0; i < 6; i++)
		assert_int_equal(prom[2 * i], nic_mac[i]);
	/* The reset port stops a started NIC and masks everything. */
	reg(t, IMR, 0x3f);
	reg(t, CMD, E8390_NODMA | E8390_START);
	assert_int_equal(devtest_inb(t, CMD), 0x22);
	assert_false(devtest_inb(t, ISR) & ISR_RST);
	(void)devtest_inb(t, RESET);
	assert_int_equal(devtest_inb(t, CMD), 0x21);
	assert_int_equal(devtest_inb(t, ISR), ISR_RST);
	reg(t, CMD, E8390_NODMA | E8390_PAGE2);
	assert_int_equal(devtest_inb(t, IMR), 0);
	/* RST is status: writing it does not clear it; STA does. */
	reg(t, CMD, E8390_NODMA | E8390_STOP);
	reg(t, ISR, 0xff);
	assert_int_equal(devtest_inb(t, ISR), ISR_RST);
	reg(t, CMD, E8390_NODMA | E8390_START);
	assert_int_equal(devtest_inb(t, ISR), 0);
	reg(t, CMD, E8390_NODMA | E8390_STOP);
	assert_int_equal(devtest_inb(t, ISR), ISR_RST);
}

static void register_pages(void **state)
{
	struct devtest *t = *state;
	uint8_t mar[8] = { 1, 2, 4, 8, 16, 32, 64, 128 };

	reg(t, CMD, E8390_NODMA | E8390_PAGE1 | E8390_STOP);
	for (int i = 0; i < 6; i++)
		reg(t, (uint16_t)(PAR0 + i), (uint8_t)(0xa0 + i));
	for (int i = 0; i < 8; i++)
		reg(t, (uint16_t)(MAR0 + i), mar[i]);
	reg(t, CURR, 0x55);
	for (int i = 0; i < 6; i++)
		assert_int_equal(devtest_inb(t, (uint16_t)(PAR0 + i)), 0xa0 + i);
	for (int i = 0; i < 8; i++)
		assert_int_equal(devtest_inb(t, (uint16_t)(MAR0 + i)), mar[i]);
	assert_int_equal(devtest_inb(t, CURR), 0x55);
	assert_int_equal(devtest_inb(t, CMD), E8390_NODMA | E8390_PAGE1 | E8390_STOP);
	/* Page 0 writes, page 2 reads them back. */
	reg(t, CMD, E8390_NODMA | E8390_PAGE0 | E8390_STOP);
	reg(t, PSTART, 0x46);
	reg(t, PSTOP, 0x60);
	reg(t, BNRY, 0x47);
	reg(t, TPSR, 0x40);
	reg(t, RCR, 0xff);     /* bits 6-7 do not exist */
	reg(t, TCR, 0xff);
	reg(t, DCR, 0xff);
	reg(t, IMR, 0xff);
	assert_int_equal(devtest_inb(t, BNRY), 0x47);
	reg(t, CMD, E8390_NODMA | E8390_PAGE2 | E8390_STOP);
	assert_int_equal(devtest_inb(t, BASE + 1), 0x46);
	assert_int_equal(devtest_inb(t, BASE + 2), 0x60);
	assert_int_equal(devtest_inb(t, BASE + 4), 0x40);
	assert_int_equal(devtest_inb(t, BASE + 5), 0x55);      /* LNPP = CURR */
	assert_int_equal(devtest_inb(t, BASE + 0x0c), 0x3f);
	assert_int_equal(devtest_inb(t, BASE + 0x0d), 0x1f);
	assert_int_equal(devtest_inb(t, BASE + 0x0e), 0x7f);
	assert_int_equal(devtest_inb(t, BASE + 0x0f), 0x7f);
	/* Page 2 is read-only: a write there changes nothing. */
	reg(t, BASE + 1, 0x11);
	assert_int_equal(devtest_inb(t, BASE + 1), 0x46);
	/* Page 3 is reserved. */
	reg(t, CMD, 0xc0 | E8390_NODMA | E8390_STOP);
	assert_int_equal(devtest_inb(t, BASE + 3), 0xff);
	/* Wider accesses to registers are byte cycles. */
	reg(t, CMD, E8390_NODMA | E8390_PAGE1 | E8390_STOP);
	assert_int_equal(devtest_in(t, PAR0, 2), 0xa1a0);
	assert_int_equal(devtest_in(t, PAR0, 4), 0xa3a2a1a0);
	devtest_out(t, MAR0, 2, 0xbeef);
	assert_int_equal(devtest_inb(t, MAR0), 0xef);
	assert_int_equal(devtest_inb(t, MAR0 + 1), 0xbe);
}

/* ---------------------------------------------------------------- remote DMA */

static void remote_dma_both_ways(void **state)
{
	struct devtest *t = *state;
	struct drv d = { t, true };
	uint8_t out[300], in[300];

	reg(t, CMD, E8390_NODMA | E8390_STOP);
	reg(t, DCR, 0x49);
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 13 + 5);
	remote_write(&d, 0x4100, out, sizeof(out));
	/* Back in byte mode, and with an odd count in word mode. */
	reg(t, DCR, 0x48);
	d.word = false;
	remote_read(&d, 0x4100, in, sizeof(out));
	assert_memory_equal(in, out, sizeof(out));
	reg(t, DCR, 0x49);
	d.word = true;
	memset(in, 0, sizeof(in));
	remote_read(&d, 0x4100, in, 77);
	assert_memory_equal(in, out, 77);
	/* RBCR counts down, CRDA counts up; RDC only at the end. */
	remote_setup(t, 0x4100, 10, E8390_RREAD);
	(void)devtest_in(t, DATA, 2);
	(void)devtest_in(t, DATA, 2);
	assert_false(devtest_inb(t, ISR) & ISR_RDC);
	assert_int_equal(devtest_inb(t, CRDA0) | devtest_inb(t, CRDA1) << 8, 0x4104);
	/* A 32-bit access moves two words. */
	assert_int_equal(devtest_in(t, DATA, 4), out[4] | out[5] << 8 | out[6] << 16 | (uint32_t)out[7] << 24);
	assert_int_equal(devtest_in(t, DATA, 2), out[8] | out[9] << 8);
	assert_true(devtest_inb(t, ISR) & ISR_RDC);
	assert_int_equal(devtest_inb(t, CMD) & 0x38, E8390_NODMA);
	/* No DMA in progress: all ones, nothing moves. */
	assert_int_equal(devtest_in(t, DATA, 2), 0xffff);
	assert_int_equal(devtest_inb(t, CRDA0) | devtest_inb(t, CRDA1) << 8, 0x410a);
	/* Big-endian words (DCR.BOS). */
	reg(t, DCR, 0x4b);
	remote_setup(t, 0x4100, 2, E8390_RREAD);
	assert_int_equal(devtest_in(t, DATA, 2), out[0] << 8 | out[1]);
	reg(t, DCR, 0x49);
	/* The remote DMA wraps from PSTOP to PSTART. */
	reg(t, PSTART, 0x50);
	reg(t, PSTOP, 0x60);
	remote_setup(t, 0x5ffe, 4, E8390_RWRITE);
	devtest_out(t, DATA, 2, 0x2211);
	devtest_out(t, DATA, 2, 0x4433);
	assert_int_equal(devtest_inb(t, CRDA0) | devtest_inb(t, CRDA1) << 8, 0x5002);
	d.word = false;
	reg(t, DCR, 0x48);
	remote_read(&d, 0x5000, in, 2);
	assert_int_equal(in[0], 0x33);
	assert_int_equal(in[1], 0x44);
	/* RBCR = 0: the DMA completes at once. */
	reg(t, ISR, 0xff);
	remote_setup(t, 0x4000, 0, E8390_RREAD);
	assert_true(devtest_inb(t, ISR) & ISR_RDC);
	/* The PROM is read-only; memory above 0x8000 does not exist. */
	remote_setup(t, 0x0000, 2, E8390_RWRITE);
	devtest_outb(t, DATA, 0x00);
	devtest_outb(t, DATA, 0x00);
	remote_read(&d, 0x0000, in, 2);
	assert_int_equal(in[0], nic_mac[0]);
	remote_setup(t, 0x9000, 1, E8390_RWRITE);
	devtest_outb(t, DATA, 0x12);
	remote_read(&d, 0x9000, in, 1);
	assert_int_equal(in[0], 0xff);
}

/* ---------------------------------------------------------------- receive */

static void receive_into_ring_with_irq9(void **state)
{
	struct devtest *t = *state;
	struct drv d = { t, true };
	uint8_t f[ETH_FRAME_MAX], got[ETH_FRAME_MAX], st = 0;
	size_t n;

	drv_init(&d, true, 0x04);
	assert_false(t->line[IRQ]);
	devtest_clear_irqs(t);
	n = eth_frame(f, nic_mac, peer_mac, 0x0800, 100, 1);
	assert_int_equal(ne2k_receive(t->dev, f, n), NE2K_RX_STORED);
	assert_true(t->line[IRQ]);
	assert_int_equal(t->rises[IRQ], 1);
	assert_int_equal(devtest_inb(t, ISR) & ISR_PRX, ISR_PRX);
	assert_int_equal(devtest_inb(t, RSR), 0x01);
	/* Header at CURR: status, next page, count = 4 + frame + FCS. */
	uint8_t hdr[4];
	remote_read(&d, RX_START << 8, hdr, 4);
	assert_int_equal(hdr[0], 0x01);
	assert_int_equal(hdr[1], RX_START + 1);
	assert_int_equal(hdr[2] | hdr[3] << 8, 4 + n + 4);
	/* A second frame before the first is acknowledged: no new edge. */
	assert_int_equal(ne2k_receive(t->dev, f, n), NE2K_RX_STORED);
	assert_int_equal(t->rises[IRQ], 1);
	assert_int_equal(drv_recv(&d, got, sizeof(got), &st), n);
	assert_memory_equal(got, f, n);
	assert_int_equal(drv_recv(&d, got, sizeof(got), &st), n);
	assert_int_equal(drv_recv(&d, got, sizeof(got), &st), 0);
	reg(t, ISR, ISR_PRX);
	assert_false(t->line[IRQ]);
	/* Masked in IMR: the bit is set, the line stays low until unmasked. */
	reg(t, IMR, 0x00);
	assert_int_equal(ne2k_receive(t->dev, f, n), NE2K_RX_STORED);
	assert_false(t->line[IRQ]);
	reg(t, IMR, ENISR_ALL);
	assert_true(t->line[IRQ]);
	assert_int_equal(t->rises[IRQ], 2);
	assert_int_equal(drv_recv(&d, got, sizeof(got), &st), n);
	reg(t, ISR, ISR_PRX);
	assert_false(t->line[IRQ]);
}

/* Frames of every size around the page boundaries, wrapping the ring. */
static void ring_wraps_and_fills(void **state)
{
	struct devtest *t = *state;
	struct drv d = { t, false };
	uint8_t f[ETH_FRAME_MAX], got[ETH_FRAME_MAX];
	size_t sizes[] = { 60, 244, 245, 248, 249, 500, 1000, 1514, 777, 1514, 1514 };

	drv_init(&d, false, 0x04);
	for (int round = 0; round < 12; round++) {
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			size_t n = eth_frame(f, nic_mac, peer_mac, 0x0800, sizes[i] - 14, (uint8_t)(round + i));
			assert_int_equal(ne2k_receive(t->dev, f, n), NE2K_RX_STORED);
			assert_int_equal(drv_recv(&d, got, sizeof(got), NULL), n);
			assert_memory_equal(got, f, n);
		}
	}
	/* Fill the ring: 52 pages, BNRY one behind: 51 usable = 8 big frames. */
	size_t n = eth_frame(f, nic_mac, peer_mac, 0x0800, 1500, 9);
	int stored = 0;
	while (ne2k_receive(t->dev, f, n) == NE2K_RX_STORED)
		stored++;
	assert_int_equal(stored, 8);
	assert_int_equal(ne2k_receive(t->dev, f, n), NE2K_RX_NO_ROOM);
	/* No overflow: the frame waits for room, nothing is lost. */
	assert_false(devtest_inb(t, ISR) & ISR_OVW);
	assert_int_equal(drv_recv(&d, got, sizeof(got), NULL), n);
	assert_int_equal(ne2k_receive(t->dev, f, n), NE2K_RX_STORED);
	for (int i = 0; i < 8; i++)
		assert_int_equal(drv_recv(&d, got, sizeof(got), NULL), n);
	assert_int_equal(drv_recv(&d, got, sizeof(got), NULL), 0);
}

/* The DP8390's hash, derived independently: the reflected CRC-32 register
 * (no final inversion) bit-reversed is the MSB-first register; its top 6
 * bits are the reversed low 6 bits of the reflected one. */
static unsigned hash_index(const uint8_t *a)
{
	uint32_t c = 0xffffffffu;
	unsigned r = 0;

	for (int i = 0; i < 6; i++) {
		c ^= a[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
	}
	for (int b = 0; b < 6; b++)
		if (c & (1u << b))
			r |= 1u << (5 - b);
	return r;
}

static void address_filter(void **state)
{
	struct devtest *t = *state;
	struct drv d = { t, true };
	uint8_t f[ETH_FRAME_MAX], got[ETH_FRAME_MAX], st;
	static const uint8_t other[6] = { 0x52, 0x54, 0x00, 0x99, 0x99, 0x99 };
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
	static const uint8_t mcast2[6] = { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 };
	size_t n;

	drv_init(&d, true, 0x00);
	/* RCR = 0: only our own address. */
	n = eth_frame(f, other, peer_mac, 0x0800, 60, 0);
	assert_int_equal(ne2k_receive(t->dev, f, n), NE2K_RX_REJECTED);
	n = eth_frame(f, bcast, peer_mac, 0x0800, 60, 0);
	assert_int_equal(ne2k_receive(t->dev, f, n), NE2K_RX_REJECTED);
	n = eth_frame(f, nic_mac, peer_mac, 0x0800, 60, 0);
	assert_int_equal(ne2k_receive(t->dev, f, n), NE2K_RX_STORED);
	assert_int_equal(drv_recv(&d, got, sizeof(got), &st), n);
	assert_int_equal(st, 0x01);
	/* AB: broadcast, marked PHY in the status. */
	reg(t, RCR, 0x04);
	n = eth_frame(f, bcast, peer_mac, 0x0800, 60, 0);
	assert_int_equal(ne2k_receive(t->dev, f, n), NE2K_RX_STORED);
	assert_int_equal(drv_recv(&d, got, sizeof(got), &st), n);
	assert_int_equal(st, 0x21);
	/* AM: multicast only if its hash bit is set. */
	reg(t, RCR, 0x08);
	n = eth_frame(f, mcast, peer_mac, 0x0800, 60, 0);
	assert_int_equal(ne2k_receive(t->dev, f, n), NE2K_RX_REJECTED);
	unsigned h = hash_index(mcast), h2 = hash_index(mcast2);
	page(t, E8390_PAGE1);
	reg(t, (uint16_t)(MAR0 + (h >> 3)), (uint8_t)(1u << (h & 7)));
	page(t, E8390_PAGE0);
	assert_int_equal(ne2k_receive(t->dev, f, n), NE2K_RX_STORED);
	assert_int_equal(drv_recv(&d, got, sizeof(got), &st), n);
	assert_int_equal(st, 0x21);
	n = eth_frame(f, mcast2, peer_mac, 0x0800, 60, 0);
	assert_int_equal(ne2k_receive(t->dev, f, n), h2 == h ? NE2K_RX_STORED : NE2K_RX_REJECTED);
	if (h2 == h)
		(void)drv_recv(&d, got, sizeof(got), &st);
	/* Broadcast is not multicast: AM without AB rejects it. */
	n = eth_frame(f, bcast, peer_mac, 0x0800, 60, 0);
	assert_int_equal(ne2k_receive(t->dev, f, n), NE2K_RX_REJECTED);
	/* PRO: every physical address. */
	reg(t, RCR, 0x10);
	n = eth_frame(f, other, peer_mac, 0x0800, 60, 0);
	assert_int_equal(ne2k_receive(t->dev, f, n), NE2K_RX_STORED);
	assert_int_equal(drv_recv(&d, got, sizeof(got), &st), n);
	/* Runts: rejected unless AR. */
	n = eth_frame(f, nic_mac, peer_mac, 0x0800, 20, 0);
	assert_int_equal(ne2k_receive(t->dev, f, n), NE2K_RX_REJECTED);
	reg(t, RCR, 0x02);
	assert_int_equal(ne2k_receive(t->dev, f, n), NE2K_RX_STORED);
	assert_int_equal(drv_recv(&d, got, sizeof(got), &st), n);
	assert_memory_equal(got, f, n);
	/* MON: checked, not buffered. */
	reg(t, RCR, 0x20);
	n = eth_frame(f, nic_mac, peer_mac, 0x0800, 60, 0);
	assert_int_equal(ne2k_receive(t->dev, f, n), NE2K_RX_REJECTED);
	assert_int_equal(drv_recv(&d, got, sizeof(got), &st), 0);
	/* Stopped: not taken at all. */
	reg(t, RCR, 0x00);
	reg(t, CMD, E8390_NODMA | E8390_STOP);
	assert_int_equal(ne2k_receive(t->dev, f, n), NE2K_RX_STOPPED);
}

static void overflow_and_counters(void **state)
{
	struct devtest *t = *state;
	struct drv d = { t, true };
	static uint8_t big[20000];
	uint8_t f[ETH_FRAME_MAX], got[ETH_FRAME_MAX];

	drv_init(&d, true, 0x04);
	devtest_clear_irqs(t);
	/* Larger than the whole ring (51 pages): lost, OVW, MPA, CNTR2. */
	memcpy(big, nic_mac, 6);
	assert_int_equal(ne2k_receive(t->dev, big, sizeof(big)), NE2K_RX_OVERFLOW);
	assert_true(devtest_inb(t, ISR) & ISR_OVW);
	assert_true(devtest_inb(t, ISR) & ISR_RST);
	assert_int_equal(devtest_inb(t, RSR) & 0x10, 0x10);
	assert_true(t->line[IRQ]);
	assert_int_equal(devtest_inb(t, CNTR2), 1);
	assert_int_equal(devtest_inb(t, CNTR2), 0);       /* cleared by the read */
	/* The ring is intact: a normal frame still lands. */
	size_t n = eth_frame(f, nic_mac, peer_mac, 0x0800, 1000, 3);
	assert_int_equal(ne2k_receive(t->dev, f, n), NE2K_RX_STORED);
	assert_int_equal(drv_recv(&d, got, sizeof(got), NULL), n);
	/* BNRY moving clears the overflow's RST. */
	assert_false(devtest_inb(t, ISR) & ISR_RST);
	reg(t, ISR, 0xff);
	assert_false(t->line[IRQ]);
	/* 128 missed packets set ISR.CNT. */
	for (int i = 0; i < 128; i++)
		assert_int_equal(ne2k_receive(t->dev, big, sizeof(big)), NE2K_RX_OVERFLOW);
	assert_true(devtest_inb(t, ISR) & ISR_CNT);
	assert_int_equal(devtest_inb(t, CNTR2), 128);
}

/* ---------------------------------------------------------------- transmit */

static void transmit_and_loopback(void **state)
{
	struct devtest *t = *state;
	struct drv d = { t, true };
	uint8_t f[ETH_FRAME_MAX], got[ETH_FRAME_MAX];
	size_t n = eth_frame(f, peer_mac, nic_mac, 0x0800, 1000, 5);
	vtime_t t0, rise[4];

	drv_init(&d, true, 0x04);
	devtest_run_until(t, 1000000);
	devtest_clear_irqs(t);
	t0 = t->now;
	drv_send(&d, f, n);
	/* Busy for (1014 + 4) * 8 bits at 100 Mbit/s = 81.44 us. */
	assert_true(devtest_inb(t, CMD) & E8390_TRANS);
	devtest_run_until(t, t0 + 81439);
	assert_true(devtest_inb(t, CMD) & E8390_TRANS);
	assert_false(t->line[IRQ]);
	devtest_run_until(t, t0 + 81440);
	assert_false(devtest_inb(t, CMD) & E8390_TRANS);
	assert_int_equal(devtest_rise_times(t, IRQ, rise, 4), 1);
	assert_int_equal(rise[0], t0 + 81440);
	assert_int_equal(devtest_inb(t, ISR), ISR_PTX);
	assert_int_equal(devtest_inb(t, TSR), 0x01);
	reg(t, ISR, ISR_PTX);
	assert_false(t->line[IRQ]);
	/* TXP while busy is ignored; TXP while stopped too. */
	drv_send(&d, f, n);
	reg(t, CMD, E8390_NODMA | E8390_TRANS | E8390_START);
	wait_tx(&d);
	reg(t, CMD, E8390_NODMA | E8390_STOP);
	reg(t, CMD, E8390_NODMA | E8390_TRANS | E8390_STOP);
	assert_false(devtest_inb(t, CMD) & E8390_TRANS);
	reg(t, CMD, E8390_NODMA | E8390_START);
	/* Internal loopback: the frame comes back into our own ring. */
	n = eth_frame(f, nic_mac, nic_mac, 0x0800, 200, 8);
	reg(t, TCR, 0x02);
	drv_send(&d, f, n);
	wait_tx(&d);
	assert_int_equal(drv_recv(&d, got, sizeof(got), NULL), n);
	assert_memory_equal(got, f, n);
	reg(t, TCR, 0x00);
	/* A giant (the DP8390 sends up to 64 KiB) occupies the wire and is
	 * dropped by the link: PTX all the same. */
	reg(t, TBCR0, 0xff);
	reg(t, TBCR1, 0xff);
	reg(t, CMD, E8390_NODMA | E8390_TRANS | E8390_START);
	wait_tx(&d);
	char *dump = devtest_dump(t);
	assert_non_null(strstr(dump, "giants=1"));
	free(dump);
}

/* ---------------------------------------------------------------- hostile */

/* Ring registers out of range, inverted, pointing into the PROM or above
 * RAM; remote DMA across 0xffff with huge counts; frames of every size up
 * to 64 KiB.  ASan watches the model's memory; the test watches the ring. */
static void hostile_ring_and_dma(void **state)
{
	struct devtest *t = *state;
	static uint8_t big[70000];
	uint64_t seed = 0x5279;
	static const uint8_t pages[] = { 0x00, 0x01, 0x3f, 0x40, 0x41, 0x4c, 0x7e, 0x7f, 0x80, 0x81, 0xc0, 0xfe, 0xff };
	size_t sizes[] = { 0, 1, 5, 6, 59, 60, 255, 256, 1514, 1515, 4096, 16000, 16384, 65527, 65528, 70000 };

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)devtest_rand(&seed);
	memcpy(big, nic_mac, 6);
	for (int iter = 0; iter < 400; iter++) {
		uint64_t r = devtest_rand(&seed);
		reg(t, CMD, E8390_NODMA | E8390_PAGE0 | E8390_STOP);
		reg(t, PSTART, pages[r % sizeof(pages)]);
		reg(t, PSTOP, pages[(r >> 8) % sizeof(pages)]);
		reg(t, BNRY, pages[(r >> 16) % sizeof(pages)]);
		reg(t, RCR, (uint8_t)(r >> 24) & 0x1f);
		reg(t, DCR, (uint8_t)(0x48 | ((r >> 29) & 3)));
		reg(t, CMD, E8390_NODMA | E8390_PAGE1 | E8390_STOP);
		reg(t, CURR, pages[(r >> 32) % sizeof(pages)]);
		reg(t, CMD, E8390_NODMA | E8390_PAGE0 | E8390_START);
		size_t len = sizes[(r >> 40) % (sizeof(sizes) / sizeof(sizes[0]))];
		enum ne2k_rx res = ne2k_receive(t->dev, big, len);
		assert_true(res <= NE2K_RX_OVERFLOW);
		/* Remote DMA anywhere, for up to 64 KiB, both ways. */
		uint16_t addr = (uint16_t)(r >> 48);
		uint16_t cnt = (uint16_t)devtest_rand(&seed);
		remote_setup(t, addr, cnt, (r & 1) ? E8390_RREAD : E8390_RWRITE);
		for (unsigned k = 0; k < 600; k++) {
			if (r & 1)
				(void)devtest_in(t, DATA, (r >> 2 & 1) ? 2 : 4);
			else
				devtest_out(t, DATA, 2, k);
		}
		/* Transmit whatever TPSR/TBCR say. */
		reg(t, TPSR, pages[(r >> 56) % sizeof(pages)]);
		reg(t, TBCR0, (uint8_t)devtest_rand(&seed));
		reg(t, TBCR1, (uint8_t)devtest_rand(&seed));
		reg(t, TCR, (uint8_t)((r >> 3) & 0x06));
		reg(t, CMD, E8390_NODMA | E8390_TRANS | E8390_START);
		devtest_run_until(t, t->now + 6000000);
	}
	/* Still a working NIC afterwards. */
	struct drv d = { t, true };
	uint8_t f[ETH_FRAME_MAX], got[ETH_FRAME_MAX];
	drv_init(&d, true, 0x04);
	size_t n = eth_frame(f, nic_mac, peer_mac, 0x0800, 1200, 1);
	assert_int_equal(ne2k_receive(t->dev, f, n), NE2K_RX_STORED);
	assert_int_equal(drv_recv(&d, got, sizeof(got), NULL), n);
	assert_memory_equal(got, f, n);
}

/* Random writes and reads to every port, with time passing. */
static void hostile_register_storm(void **state)
{
	struct devtest *t = *state;
	uint64_t seed = 42;

	for (int i = 0; i < 200000; i++) {
		uint64_t r = devtest_rand(&seed);
		uint16_t port = (uint16_t)(BASE + (r >> 8) % 0x20);
		unsigned size = 1u << ((r >> 16) % 3);
		switch (r % 5) {
		case 0:
		case 1:
			devtest_out(t, port, size, (uint32_t)(r >> 32));
			break;
		case 2:
		case 3:
			(void)devtest_in(t, port, size);
			break;
		default:
			devtest_run_until(t, t->now + (r >> 40) % 200000);
			break;
		}
		if ((r & 0xfff) == 7) {
			uint8_t f[1600];
			size_t len = (r >> 20) % sizeof(f);
			for (size_t k = 0; k < len; k++)
				f[k] = (uint8_t)(r >> (k % 56));
			(void)ne2k_receive(t->dev, f, len);
		}
	}
	assert_int_equal(t->bad_lines, 0);
	free(devtest_dump(t));
}

/* ---------------------------------------------------------------- options */

static void options_checked(void **state)
{
	(void)state;
	static const char *const good[] = {
		"", "backend=peer", "backend_mode=poll,poll_interval=10ms", "backend_mode=event",
		"latency=50us,bandwidth=100Mbit,mac=52:54:00:12:34:56", "bandwidth=1.5Gbit,poll_interval=2500us",
		"window=64,mss=1480,rto=1s,poll_budget=1,peer_mac=02:00:00:00:00:01", "latency=0",
	};
	static const char *const bad[] = {
		"colour=blue", "backend=tap", "backend_mode=sometimes", "poll_interval=0", "poll_interval=10",
		"poll_interval=10h", "latency=-1us", "bandwidth=fast", "bandwidth=10", "mac=01:00:5e:00:00:01",
		"mac=52:54:00:12:34", "window=0", "window=65", "mss=1481", "rto=1us", "backend", "peer_port=70000",
		"poll_interval=1.5ns",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct devtest *t = devtest_new(&ne2k_dev_ops, good[i]);
		devtest_free(t);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct devtest *t = calloc(1, sizeof(*t));
		void *dev = calloc(1, ne2k_dev_ops.state_size);
		assert_non_null(t);
		assert_non_null(dev);
		t->plat = (struct vmx_platform){ .ctx = t };
		if (ne2k_dev_ops.init(dev, &t->plat, bad[i]) != -1)
			fail_msg("option '%s' was accepted", bad[i]);
		free(dev);
		free(t);
	}
}

/* ---------------------------------------------------------------- transfers */

/* A VXT client on the driver above: GET (download) or PUT (upload) of
 * `total` bytes.  Collects the received data; returns the virtual time the
 * transfer took.  One cumulative ACK per interrupt, like a driver that
 * acknowledges what one pass over the ring brought. */
struct xfer {
	uint32_t xid, total, window;
	bool put;
	uint8_t *data;             /* received (GET) */
	uint32_t got;
	uint32_t peer_crc;
	uint64_t rx_frames, irqs;
	vtime_t took;
};

static void send_vxt(struct drv *d, const struct vxt_hdr *h, const uint8_t *payload)
{
	uint8_t f[ETH_FRAME_MAX];
	size_t n = vxt_encode(f, peer_mac, nic_mac, h, payload);
	assert_true(n > 0);
	drv_send(d, f, n);
	wait_tx(d);
}

static void run_xfer(struct drv *d, struct xfer *x)
{
	struct devtest *t = d->t;
	vtime_t t0 = t->now;
	uint32_t snd_una = 0, snd_nxt = 0, rwnd = 0;
	bool done = false, fin_sent = false;
	uint8_t f[ETH_FRAME_MAX];

	struct vxt_hdr req = { .type = x->put ? VXT_PUT : VXT_GET, .xid = x->xid, .arg = x->total,
			       .win = x->window };
	send_vxt(d, &req, NULL);
	for (int steps = 0; !done; steps++) {
		assert_true(steps < 2000000);
		if (!t->line[IRQ]) {
			vtime_t next = devtest_next_deadline(t);
			assert_true(next != DEVTEST_NEVER);
			devtest_run_until(t, next);
			continue;
		}
		x->irqs++;
		uint8_t isr = devtest_inb(t, ISR);
		bool ack = false;
		if (isr & ISR_PRX) {
			size_t n;
			while ((n = drv_recv(d, f, sizeof(f), NULL)) > 0) {
				struct vxt_hdr h;
				const uint8_t *p;
				x->rx_frames++;
				if (!vxt_decode(f, n, &h, &p) || h.xid != x->xid)
					continue;
				if (!x->put && h.type == VXT_DATA && h.seq == x->got) {
					memcpy(x->data + x->got, p, h.len);
					x->got += h.len;
					ack = true;
				} else if (h.type == VXT_FIN) {
					x->peer_crc = h.arg;
					done = true;
				} else if (x->put && h.type == VXT_ACK) {
					if (h.seq > snd_una)
						snd_una = h.seq;
					rwnd = h.win;
				}
			}
		}
		reg(t, ISR, (uint8_t)(isr & 0x7f));
		if (done)
			break;
		if (ack) {
			struct vxt_hdr a = { .type = VXT_ACK, .xid = x->xid, .seq = x->got, .win = x->window };
			send_vxt(d, &a, NULL);
		}
		if (x->put) {
			while (snd_nxt < x->total && snd_nxt - snd_una + 1460 <= rwnd) {
				uint8_t payload[1460];
				uint32_t len = x->total - snd_nxt < 1460 ? x->total - snd_nxt : 1460;
				np_pattern(x->xid, snd_nxt, payload, len);
				struct vxt_hdr h = { .type = VXT_DATA, .len = (uint16_t)len, .xid = x->xid, .seq = snd_nxt };
				send_vxt(d, &h, payload);
				snd_nxt += len;
			}
			if (snd_una == x->total && !fin_sent) {
				struct vxt_hdr h = { .type = VXT_FIN, .xid = x->xid, .seq = x->total };
				send_vxt(d, &h, NULL);
				fin_sent = true;
			}
		}
	}
	x->took = t->now - t0;
}

static struct devtest *transfer(const char *options, struct xfer *x)
{
	struct devtest *t = devtest_new(&ne2k_dev_ops, options);
	struct drv d = { t, true };

	drv_init(&d, true, 0x04);
	devtest_run_until(t, 1000000);
	run_xfer(&d, x);
	return t;
}

static uint32_t pattern_crc(uint32_t xid, uint32_t total)
{
	uint8_t *buf = malloc(total ? total : 1);
	uint32_t crc;
	assert_non_null(buf);
	np_pattern(xid, 0, buf, total);
	crc = np_crc32(0, buf, total);
	free(buf);
	return crc;
}

static void peer_download_event_and_poll(void **state)
{
	(void)state;
	const uint32_t total = 200000;
	struct xfer ev = { .xid = 0x1234, .total = total, .window = 16 * 1460 };
	struct xfer po = ev;

	ev.data = calloc(1, total);
	po.data = calloc(1, total);
	devtest_free(transfer("backend=peer,backend_mode=event", &ev));
	devtest_free(transfer("backend=peer,backend_mode=poll,poll_interval=10ms", &po));
	/* Same bytes, in the same order, verified by the peer's CRC. */
	assert_int_equal(ev.got, total);
	assert_int_equal(po.got, total);
	assert_memory_equal(ev.data, po.data, total);
	assert_int_equal(ev.peer_crc, pattern_crc(0x1234, total));
	assert_int_equal(po.peer_crc, ev.peer_crc);
	assert_int_equal(np_crc32(0, ev.data, total), ev.peer_crc);
	/* Polling every 10 ms is slower: about one ring (8 segments) per poll. */
	print_message("download %u bytes: event %.3f ms (%llu irqs), poll %.3f ms (%llu irqs)\n", total,
		      ev.took / 1e6, (unsigned long long)ev.irqs, po.took / 1e6, (unsigned long long)po.irqs);
	assert_true(po.took > 5 * ev.took);
	assert_true(po.took >= (vtime_t)(total / (8 * 1460)) * 10000000ull);
	free(ev.data);
	free(po.data);
}

static void peer_upload_event_and_poll(void **state)
{
	(void)state;
	struct xfer ev = { .xid = 77, .total = 100000, .window = 16 * 1460, .put = true };
	struct xfer po = ev;

	devtest_free(transfer("backend_mode=event,latency=20us,bandwidth=1Gbit", &ev));
	devtest_free(transfer("backend_mode=poll,poll_interval=1ms,latency=20us,bandwidth=1Gbit", &po));
	assert_int_equal(ev.peer_crc, pattern_crc(77, 100000));
	assert_int_equal(po.peer_crc, ev.peer_crc);
	print_message("upload 100000 bytes: event %.3f ms, poll %.3f ms\n", ev.took / 1e6, po.took / 1e6);
	assert_true(po.took > ev.took);
}

/* Deterministic: the same transfer twice gives the same dump and time. */
static void peer_is_deterministic(void **state)
{
	(void)state;
	struct xfer a = { .xid = 9, .total = 50000, .window = 8 * 1460 };
	struct xfer b = a;

	a.data = calloc(1, a.total);
	b.data = calloc(1, b.total);
	struct devtest *ta = transfer("backend_mode=poll,poll_interval=3ms,poll_budget=2", &a);
	struct devtest *tb = transfer("backend_mode=poll,poll_interval=3ms,poll_budget=2", &b);
	char *da = devtest_dump(ta), *db = devtest_dump(tb);
	assert_string_equal(da, db);
	assert_int_equal(a.took, b.took);
	assert_memory_equal(a.data, b.data, a.total);
	assert_int_equal(a.peer_crc, pattern_crc(9, 50000));
	free(da);
	free(db);
	devtest_free(ta);
	devtest_free(tb);
	free(a.data);
	free(b.data);
}

/* ---------------------------------------------------------------- save/restore */

static void *save_image(struct devtest *t, size_t *len)
{
	size_t max = ne2k_save_size();
	void *buf = malloc(max);
	long n;

	assert_non_null(buf);
	n = t->ops->save(t->dev, buf, max);
	assert_true(n > 0);
	assert_int_equal(t->ops->save(t->dev, buf, (size_t)n - 1), -1);
	*len = (size_t)n;
	return buf;
}

static void save_restore_mid_transfer(void **state)
{
	(void)state;
	struct devtest *a = devtest_new(&ne2k_dev_ops, "backend_mode=event");
	struct devtest *b = devtest_new(&ne2k_dev_ops, "backend_mode=event");
	struct drv da = { a, true };
	uint8_t f[ETH_FRAME_MAX];
	size_t len;

	drv_init(&da, true, 0x04);
	devtest_run_until(a, 1000000);
	/* Ask for data, let some of it land in the ring and some stay on the wire. */
	struct vxt_hdr req = { .type = VXT_GET, .xid = 5, .arg = 60000, .win = 30 * 1460 };
	send_vxt(&da, &req, NULL);
	devtest_run_until(a, a->now + 400000);
	assert_true(a->line[IRQ]);
	void *img = save_image(a, &len);
	b->now = a->now;
	/* The image was taken with the line high. */
	assert_int_equal(b->ops->restore(b->dev, img, len), 0);
	assert_true(b->line[IRQ]);
	char *d1 = devtest_dump(a), *d2 = devtest_dump(b);
	assert_string_equal(d1, d2);
	free(d1);
	free(d2);
	/* Both continue alike. */
	struct drv db = { b, true };
	for (int i = 0; i < 5; i++) {
		size_t n1 = drv_recv(&da, f, sizeof(f), NULL);
		uint8_t g[ETH_FRAME_MAX];
		size_t n2 = drv_recv(&db, g, sizeof(g), NULL);
		assert_int_equal(n1, n2);
		assert_memory_equal(f, g, n1);
	}
	devtest_run_until(a, a->now + 1000000);
	devtest_run_until(b, b->now + 1000000);
	d1 = devtest_dump(a);
	d2 = devtest_dump(b);
	assert_string_equal(d1, d2);
	free(d1);
	free(d2);
	/* Corrupt images are refused. */
	uint8_t *bad = malloc(len);
	memcpy(bad, img, len);
	bad[0] ^= 1;
	assert_int_equal(b->ops->restore(b->dev, bad, len), -1);
	assert_int_equal(b->ops->restore(b->dev, img, len - 1), -1);
	memcpy(bad, img, len);
	bad[7] = 0xff;             /* the image's flags byte: undefined bits */
	assert_int_equal(b->ops->restore(b->dev, bad, len), -1);
	free(bad);
	free(img);
	devtest_free(a);
	devtest_free(b);
}

/* ---------------------------------------------------------------- socket back-end */

/* A peer process on a bound loopback socket (netpeer_serve, the loop of
 * vmxlab-netpeer), reached with peer_port. */
static pid_t start_peer(uint16_t *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	pid_t pid;

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	*port = ntohs(a.sin_port);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct np_engine_config cfg = { .mac = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x57 }, .mss = 1460,
						.window = 16, .rto = 200000000ull, .max_total = 1u << 30 };
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		_exit(netpeer_serve(fd, &cfg, 10000, NULL));
	}
	close(fd);
	return pid;
}

static void stop_peer(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void socket_backend_both_modes(void **state)
{
	(void)state;
	const uint32_t total = 120000;
	char opt[128];
	uint16_t port;
	pid_t pid = start_peer(&port);

	for (int mode = 0; mode < 2; mode++) {
		struct xfer x = { .xid = 100u + (uint32_t)mode, .total = total, .window = 16 * 1460 };
		x.data = calloc(1, total);
		/* A generous wall-clock wait: the test's client never retransmits. */
		snprintf(opt, sizeof(opt), "backend=socket,peer_port=%u,backend_mode=%s,sock_wait=5s", port,
			 mode ? "poll" : "event");
		struct devtest *t = transfer(opt, &x);
		assert_int_equal(x.got, total);
		assert_int_equal(x.peer_crc, pattern_crc(x.xid, total));
		assert_int_equal(np_crc32(0, x.data, total), x.peer_crc);
		print_message("socket %s: %u bytes in %.3f ms of virtual time\n", mode ? "poll" : "event", total,
			      x.took / 1e6);
		char *dump = devtest_dump(t);
		assert_non_null(strstr(dump, "ne2k socket 127.0.0.1:"));
		free(dump);
		devtest_free(t);
		free(x.data);
		/* Upload too. */
		struct xfer u = { .xid = 200u + (uint32_t)mode, .total = 50000, .window = 16 * 1460, .put = true };
		devtest_free(transfer(opt, &u));
		assert_int_equal(u.peer_crc, pattern_crc(u.xid, 50000));
	}
	stop_peer(pid);
}

/* The shipped program, started by the model itself (skipped, with a note,
 * when it has not been built). */
static void socket_backend_spawns_vmxlab_netpeer(void **state)
{
	(void)state;
	const char *b = getenv("BUILD");
	char exe[512], opt[700];

	snprintf(exe, sizeof(exe), "%s/vmxlab-netpeer", b && *b ? b : "build");
	if (access(exe, X_OK)) {
		print_message("%s is not built (devices/ne2k.mk): spawn test skipped\n", exe);
		skip();
	}
	snprintf(opt, sizeof(opt), "backend=socket,peer_exe=%s,sock_wait=5s", exe);
	struct xfer x = { .xid = 300, .total = 40000, .window = 16 * 1460 };
	x.data = calloc(1, x.total);
	struct devtest *t = transfer(opt, &x);
	assert_int_equal(x.peer_crc, pattern_crc(300, 40000));
	assert_int_equal(np_crc32(0, x.data, x.total), x.peer_crc);
	char *dump = devtest_dump(t);
	assert_null(strstr(dump, "pid 0 "));
	free(dump);
	devtest_free(t);
	free(x.data);
	/* A program that is not there is an init error, not a crash. */
	struct devtest *f = devtest_new(&ne2k_dev_ops, NULL);
	void *dev = calloc(1, ne2k_dev_ops.state_size);
	assert_non_null(dev);
	assert_int_equal(ne2k_dev_ops.init(dev, &f->plat, "backend=socket,peer_exe=/nonexistent/peer"), -1);
	assert_non_null(strstr(f->last_log, "/nonexistent/peer"));
	free(dev);
	devtest_free(f);
}

/* ---------------------------------------------------------------- fuzz harness */

/* The fuzz target's seeds and a batch of pseudo-random scripts, through the
 * same harness as `make fuzz-ne2k` (tests/fuzz/fuzz_ne2k.c, included above). */
static void fuzz_harness_replay(void **state)
{
	static uint8_t buf[1 << 16];
	DIR *d = opendir("tests/fuzz/ne2k-seeds");
	struct dirent *e;
	unsigned n = 0;
	uint64_t seed = 0x2015 << 16 | 5279;

	(void)state;
	assert_non_null(d);
	while ((e = readdir(d))) {
		char p[512];
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "tests/fuzz/ne2k-seeds/%s", e->d_name);
		FILE *f = fopen(p, "rb");
		assert_non_null(f);
		size_t len = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		LLVMFuzzerTestOneInput(buf, len);
		n++;
	}
	closedir(d);
	assert_true(n >= 4);
	/* Random scripts, biased towards a started NIC with a ring. */
	for (int i = 0; i < 300; i++) {
		size_t len = 64 + devtest_rand(&seed) % 4000;
		for (size_t k = 0; k < len; k++)
			buf[k] = (uint8_t)devtest_rand(&seed);
		buf[1] = 0xa4;
		buf[2] = (uint8_t)(0x40 + devtest_rand(&seed) % 0x40);
		buf[3] = (uint8_t)(0x40 + devtest_rand(&seed) % 0x48);
		LLVMFuzzerTestOneInput(buf, len);
	}
	print_message("%u seeds and 300 random scripts\n", n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(reset_state_and_prom, setup, teardown),
		cmocka_unit_test_setup_teardown(register_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(remote_dma_both_ways, setup, teardown),
		cmocka_unit_test_setup_teardown(receive_into_ring_with_irq9, setup, teardown),
		cmocka_unit_test_setup_teardown(ring_wraps_and_fills, setup, teardown),
		cmocka_unit_test_setup_teardown(address_filter, setup, teardown),
		cmocka_unit_test_setup_teardown(overflow_and_counters, setup, teardown),
		cmocka_unit_test_setup_teardown(transmit_and_loopback, setup, teardown),
		cmocka_unit_test_setup_teardown(hostile_ring_and_dma, setup, teardown),
		cmocka_unit_test_setup_teardown(hostile_register_storm, setup, teardown),
		cmocka_unit_test(options_checked),
		cmocka_unit_test(peer_download_event_and_poll),
		cmocka_unit_test(peer_upload_event_and_poll),
		cmocka_unit_test(peer_is_deterministic),
		cmocka_unit_test(save_restore_mid_transfer),
		cmocka_unit_test(socket_backend_both_modes),
		cmocka_unit_test(socket_backend_spawns_vmxlab_netpeer),
		cmocka_unit_test(fuzz_harness_replay),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
