/*
 * ne2k.c - the NE2000 driver (ne2k.h): Linux 2.6's ne.c and 8390.c as far
 * as the hardware sees them, reimplemented.  Register accesses use the _p
 * variants where those drivers did (ei_outb_p, outb_p in ne.c: every one is
 * followed by the port-0x80 delay write); the data port is read and written
 * with rep insw / rep outsw in word mode, as ne.c did.
 *
 * DP8390 registers (National Semiconductor DP8390D datasheet): CR at +0 on
 * every page; page 0 PSTART/PSTOP/BNRY/TPSR/TBCR/ISR/RSAR/RBCR/RCR/TCR/DCR/
 * IMR (write) and CLDA/TSR/NCR/CRDA/RSR/CNTR (read); page 1 PAR0-5, CURR,
 * MAR0-7.  Receive packets in the ring start with a 4-byte header: status,
 * next page, byte count (header + frame + FCS).
 */
#include "io.h"
#include "ne2k.h"
#include "rt.h"

#define NE_BASE      NE2K_IOBASE
#define NE_CMD       0x00
#define NE_DATAPORT  0x10
#define NE_RESET     0x1f

/* Page 0 */
#define EN0_STARTPG  0x01
#define EN0_STOPPG   0x02
#define EN0_BOUNDARY 0x03
#define EN0_TSR      0x04
#define EN0_TPSR     0x04
#define EN0_TCNTLO   0x05
#define EN0_TCNTHI   0x06
#define EN0_ISR      0x07
#define EN0_RSARLO   0x08
#define EN0_RSARHI   0x09
#define EN0_RCNTLO   0x0a
#define EN0_RCNTHI   0x0b
#define EN0_RXCR     0x0c
#define EN0_TXCR     0x0d
#define EN0_COUNTER0 0x0d
#define EN0_DCFG     0x0e
#define EN0_COUNTER1 0x0e
#define EN0_IMR      0x0f
#define EN0_COUNTER2 0x0f
/* Page 1 */
#define EN1_PHYS     0x01
#define EN1_CURPAG   0x07
#define EN1_MULT     0x08

/* CR */
#define E8390_STOP   0x01
#define E8390_START  0x02
#define E8390_TRANS  0x04
#define E8390_RREAD  0x08
#define E8390_RWRITE 0x10
#define E8390_NODMA  0x20
#define E8390_PAGE0  0x00
#define E8390_PAGE1  0x40

/* ISR / IMR */
#define ENISR_RX       0x01
#define ENISR_TX       0x02
#define ENISR_RX_ERR   0x04
#define ENISR_TX_ERR   0x08
#define ENISR_OVER     0x10
#define ENISR_COUNTERS 0x20
#define ENISR_RDC      0x40
#define ENISR_RESET    0x80
#define ENISR_ALL      0x3f

/* RCR: accept broadcast (AB); TCR: normal / internal loopback */
#define E8390_RXCONFIG 0x04
#define E8390_RXOFF    0x20
#define E8390_TXCONFIG 0x00
#define E8390_TXOFF    0x02

/* The board's memory: 16 KiB at 0x4000; ne.c's NESM_START_PG/STOP_PG. */
#define NESM_START_PG 0x40
#define NESM_STOP_PG  0x80
#define TX_PAGES      12                       /* two full frames */
#define TX_START_PG   NESM_START_PG
#define RX_START_PG   (NESM_START_PG + TX_PAGES)
#define RX_STOP_PG    NESM_STOP_PG

#define MAX_SERVICE   12                       /* ei_interrupt's loop bound */
#define RX_BURST      64                       /* frames per ei_receive call (8390.c: 10) */

struct ne2k_counters ne2k_stats;
bool ne2k_word_mode;

static ne2k_rx_fn rx_handler;
static uint8_t current_page;                   /* the next frame to read */
/* The transmit buffers (8390.c's tx1/tx2): 0 free, -1 being sent, > 0 a
 * frame of that length waiting for the transmitter. */
static volatile int tx1, tx2;
static volatile int lasttx;
static volatile bool txing;
static uint8_t rx_buf[NE2K_ETH_MAX + 4 + 2];
static uint8_t dev_mac[6];                     /* from the PROM */

static void insw(uint16_t port, void *buf, uint32_t words)
{
	__asm__ volatile("rep insw" : "+D"(buf), "+c"(words) : "d"(port) : "memory");
}

static void outsw(uint16_t port, const void *buf, uint32_t words)
{
	__asm__ volatile("rep outsw" : "+S"(buf), "+c"(words) : "d"(port) : "memory");
}

static void insb(uint16_t port, void *buf, uint32_t n)
{
	__asm__ volatile("rep insb" : "+D"(buf), "+c"(n) : "d"(port) : "memory");
}

static void outsb(uint16_t port, const void *buf, uint32_t n)
{
	__asm__ volatile("rep outsb" : "+S"(buf), "+c"(n) : "d"(port) : "memory");
}

static void reg_out(uint8_t v, unsigned r)
{
	outb_p(v, (uint16_t)(NE_BASE + r));
}

static uint8_t reg_in(unsigned r)
{
	return inb_p((uint16_t)(NE_BASE + r));
}

/* ---------------------------------------------------------------- the board (ne.c) */

/* ne_reset_8390: a read of the reset port, written back; the NIC reports
 * the reset in ISR.RST. */
static int board_reset(void)
{
	outb(inb(NE_BASE + NE_RESET), NE_BASE + NE_RESET);
	for (unsigned i = 0; i < 20000; i++)
		if (inb_p(NE_BASE + EN0_ISR) & ENISR_RESET) {
			outb_p(ENISR_RESET, NE_BASE + EN0_ISR);
			return 0;
		}
	return -1;
}

/* Remote DMA set-up of ne_get_8390_hdr / ne_block_input / ne_block_output. */
static void remote_dma(uint16_t addr, uint16_t count, uint8_t dir)
{
	reg_out(E8390_NODMA | E8390_PAGE0 | E8390_START, NE_CMD);
	reg_out((uint8_t)count, EN0_RCNTLO);
	reg_out((uint8_t)(count >> 8), EN0_RCNTHI);
	reg_out((uint8_t)addr, EN0_RSARLO);
	reg_out((uint8_t)(addr >> 8), EN0_RSARHI);
	reg_out((uint8_t)(dir | E8390_START), NE_CMD);
}

static void block_input(uint16_t addr, uint8_t *buf, uint16_t count)
{
	remote_dma(addr, count, E8390_RREAD);
	if (ne2k_word_mode) {
		insw(NE_BASE + NE_DATAPORT, buf, count >> 1u);
		if (count & 1)
			buf[count - 1] = inb(NE_BASE + NE_DATAPORT);
	} else {
		insb(NE_BASE + NE_DATAPORT, buf, count);
	}
	reg_out(ENISR_RDC, EN0_ISR);
}

static void block_output(uint16_t addr, const uint8_t *buf, uint16_t count)
{
	if (ne2k_word_mode && (count & 1))
		count++;
	remote_dma(addr, count, E8390_RWRITE);
	if (ne2k_word_mode)
		outsw(NE_BASE + NE_DATAPORT, buf, count >> 1u);
	else
		outsb(NE_BASE + NE_DATAPORT, buf, count);
	/* ne.c waits for RDC, 20 ms at most. */
	for (unsigned i = 0; i < 10000; i++)
		if (reg_in(EN0_ISR) & ENISR_RDC)
			break;
	reg_out(ENISR_RDC, EN0_ISR);
}

int ne2k_probe(uint8_t mac[6])
{
	uint8_t prom[32];
	bool word = true;

	if (inb_p(NE_BASE + NE_CMD) == 0xff) {
		rt_printf("ne2k: nothing at 0x%x\n", NE_BASE);
		return -1;
	}
	if (board_reset()) {
		rt_printf("ne2k: the card at 0x%x does not reset\n", NE_BASE);
		return -1;
	}
	outb_p(0xff, NE_BASE + EN0_ISR);
	/* ne_probe1's program: byte-wide, stopped, monitor, loopback, then a
	 * remote read of the 32-byte station-address PROM. */
	outb_p(E8390_NODMA | E8390_PAGE0 | E8390_STOP, NE_BASE + NE_CMD);
	outb_p(0x48, NE_BASE + EN0_DCFG);
	outb_p(0x00, NE_BASE + EN0_RCNTLO);
	outb_p(0x00, NE_BASE + EN0_RCNTHI);
	outb_p(0x00, NE_BASE + EN0_IMR);
	outb_p(0xff, NE_BASE + EN0_ISR);
	outb_p(E8390_RXOFF, NE_BASE + EN0_RXCR);
	outb_p(E8390_TXOFF, NE_BASE + EN0_TXCR);
	outb_p(32, NE_BASE + EN0_RCNTLO);
	outb_p(0x00, NE_BASE + EN0_RCNTHI);
	outb_p(0x00, NE_BASE + EN0_RSARLO);
	outb_p(0x00, NE_BASE + EN0_RSARHI);
	outb_p(E8390_RREAD | E8390_START, NE_BASE + NE_CMD);
	for (int i = 0; i < 32; i += 2) {
		prom[i] = inb(NE_BASE + NE_DATAPORT);
		prom[i + 1] = inb(NE_BASE + NE_DATAPORT);
		if (prom[i] != prom[i + 1])
			word = false;
	}
	if (!word) {
		rt_printf("ne2k: an 8-bit (NE1000) board: not supported\n");
		return -1;
	}
	/* A 16-bit board doubles every PROM byte; bytes 14-15 are "WW". */
	if (prom[28] != 0x57 || prom[30] != 0x57) {
		rt_printf("ne2k: no NE2000 signature (0x%02x 0x%02x)\n", prom[28], prom[30]);
		return -1;
	}
	for (int i = 0; i < 6; i++)
		dev_mac[i] = mac[i] = prom[2 * i];
	ne2k_word_mode = true;
	outb_p(0x49, NE_BASE + EN0_DCFG);          /* word-wide from now on */
	return 0;
}

/* ---------------------------------------------------------------- the DP8390 (8390.c) */

/* NS8390_init(dev, 1) */
static void ns8390_init(void)
{
	reg_out(E8390_NODMA | E8390_PAGE0 | E8390_STOP, NE_CMD);
	reg_out(ne2k_word_mode ? 0x49 : 0x48, EN0_DCFG);
	reg_out(0x00, EN0_RCNTLO);
	reg_out(0x00, EN0_RCNTHI);
	reg_out(E8390_RXOFF, EN0_RXCR);
	reg_out(E8390_TXOFF, EN0_TXCR);
	reg_out(TX_START_PG, EN0_TPSR);
	tx1 = tx2 = 0;
	reg_out(RX_START_PG, EN0_STARTPG);
	reg_out(RX_STOP_PG - 1, EN0_BOUNDARY);
	current_page = RX_START_PG;
	reg_out(RX_STOP_PG, EN0_STOPPG);
	reg_out(0xff, EN0_ISR);
	reg_out(0x00, EN0_IMR);
	reg_out(E8390_NODMA | E8390_PAGE1 | E8390_STOP, NE_CMD);
	for (int i = 0; i < 6; i++)
		reg_out(dev_mac[i], EN1_PHYS + (unsigned)i);
	reg_out(RX_START_PG, EN1_CURPAG);
	reg_out(E8390_NODMA | E8390_PAGE0 | E8390_STOP, NE_CMD);
	tx1 = tx2 = 0;
	txing = false;
	reg_out(0xff, EN0_ISR);
	reg_out(ENISR_ALL, EN0_IMR);
	reg_out(E8390_NODMA | E8390_PAGE0 | E8390_START, NE_CMD);
	reg_out(E8390_TXCONFIG, EN0_TXCR);
	reg_out(E8390_RXCONFIG, EN0_RXCR);
	/* do_set_multicast_list: no multicast groups, MAR all zero. */
	reg_out(E8390_NODMA | E8390_PAGE1, NE_CMD);
	for (int i = 0; i < 8; i++)
		reg_out(0x00, EN1_MULT + (unsigned)i);
	reg_out(E8390_NODMA | E8390_PAGE0, NE_CMD);
}

/* NS8390_trigger_send */
static void trigger_send(unsigned length, uint8_t start_page)
{
	reg_out(E8390_NODMA | E8390_PAGE0, NE_CMD);
	if (reg_in(NE_CMD) & E8390_TRANS) {
		rt_printf("ne2k: trigger_send() called with the transmitter busy\n");
		return;
	}
	reg_out((uint8_t)length, EN0_TCNTLO);
	reg_out((uint8_t)(length >> 8), EN0_TCNTHI);
	reg_out(start_page, EN0_TPSR);
	reg_out(E8390_NODMA | E8390_TRANS | E8390_START, NE_CMD);
}

/* ei_receive: frames from BNRY + 1 up to CURR, at most RX_BURST a call.
 * PRX is acknowledged before CURR is read (8390.c did it after the loop,
 * which loses the interrupt of a frame landing in between: it would wait in
 * the ring for the next one). */
static void ei_receive(void)
{
	reg_out(ENISR_RX | ENISR_RX_ERR, EN0_ISR);
	for (unsigned n = 0; n < RX_BURST; n++) {
		uint8_t rxing_page, this_frame, next_frame, hdr[4];
		unsigned count, pkt_len;

		reg_out(E8390_NODMA | E8390_PAGE1, NE_CMD);
		rxing_page = reg_in(EN1_CURPAG);
		reg_out(E8390_NODMA | E8390_PAGE0, NE_CMD);
		/* Remove one frame from the ring: BNRY is always a page behind. */
		this_frame = (uint8_t)(reg_in(EN0_BOUNDARY) + 1);
		if (this_frame >= RX_STOP_PG)
			this_frame = RX_START_PG;
		if (this_frame != current_page)
			current_page = this_frame;      /* 8390.c complains; we follow */
		if (this_frame == rxing_page)
			break;
		block_input((uint16_t)(this_frame << 8), hdr, 4);
		count = hdr[2] | (unsigned)hdr[3] << 8;
		pkt_len = count - 4;
		next_frame = (uint8_t)(this_frame + 1 + ((pkt_len + 4) >> 8));
		if (hdr[1] != next_frame && hdr[1] != next_frame + 1 &&
		    hdr[1] != next_frame - (RX_STOP_PG - RX_START_PG) &&
		    hdr[1] != next_frame + 1 - (RX_STOP_PG - RX_START_PG)) {
			ne2k_stats.bad_headers++;
		}
		if (pkt_len < 60 || pkt_len > 1518 || hdr[1] < RX_START_PG || hdr[1] >= RX_STOP_PG) {
			ne2k_stats.rx_errors++;
			if (hdr[1] < RX_START_PG || hdr[1] >= RX_STOP_PG) {
				/* A corrupt header: skip everything received. */
				next_frame = rxing_page;
			} else {
				next_frame = hdr[1];
			}
		} else if ((hdr[0] & 0x0f) == 0x01) {
			/* 4 bytes of FCS follow the frame: not handed up. */
			unsigned len = pkt_len - 4;
			block_input((uint16_t)((this_frame << 8) + 4), rx_buf, (uint16_t)len);
			ne2k_stats.rx_frames++;
			ne2k_stats.rx_bytes += len;
			if (rx_handler)
				rx_handler(rx_buf, len);
			next_frame = hdr[1];
		} else {
			ne2k_stats.rx_errors++;
			next_frame = hdr[1];
		}
		current_page = next_frame;
		reg_out(next_frame == RX_START_PG ? RX_STOP_PG - 1 : (uint8_t)(next_frame - 1), EN0_BOUNDARY);
	}
}

/* ei_rx_overrun: stop, clear the remote byte count, loopback, start,
 * drain the ring, acknowledge, back to normal. */
static void ei_rx_overrun(void)
{
	bool was_txing = reg_in(NE_CMD) & E8390_TRANS;
	bool must_resend = false;

	ne2k_stats.overruns++;
	reg_out(E8390_NODMA | E8390_PAGE0 | E8390_STOP, NE_CMD);
	udelay(10);
	reg_out(0x00, EN0_RCNTLO);
	reg_out(0x00, EN0_RCNTHI);
	if (was_txing)
		must_resend = !(reg_in(EN0_ISR) & (ENISR_TX | ENISR_TX_ERR));
	reg_out(E8390_TXOFF, EN0_TXCR);
	reg_out(E8390_NODMA | E8390_PAGE0 | E8390_START, NE_CMD);
	ei_receive();
	reg_out(ENISR_OVER, EN0_ISR);
	reg_out(E8390_TXCONFIG, EN0_TXCR);
	if (must_resend)
		reg_out(E8390_NODMA | E8390_PAGE0 | E8390_START | E8390_TRANS, NE_CMD);
}

/* ei_tx_intr: the sent buffer is free; start the other if it waits. */
static void ei_tx_intr(void)
{
	reg_out(ENISR_TX, EN0_ISR);
	(void)reg_in(EN0_TSR);
	if (tx1 < 0) {
		tx1 = 0;
		if (tx2 > 0) {
			txing = true;
			trigger_send((unsigned)tx2, TX_START_PG + 6);
			tx2 = -1;
			lasttx = 2;
		} else {
			lasttx = 20;
			txing = false;
		}
	} else if (tx2 < 0) {
		tx2 = 0;
		if (tx1 > 0) {
			txing = true;
			trigger_send((unsigned)tx1, TX_START_PG);
			tx1 = -1;
			lasttx = 1;
		} else {
			lasttx = 10;
			txing = false;
		}
	}
	ne2k_stats.tx_frames++;
}

/* ei_interrupt */
static void ei_interrupt(unsigned irq)
{
	uint8_t interrupts;
	unsigned nr_serviced = 0;

	(void)irq;
	ne2k_stats.interrupts++;
	reg_out(E8390_NODMA | E8390_PAGE0, NE_CMD);
	while ((interrupts = reg_in(EN0_ISR)) != 0 && ++nr_serviced < MAX_SERVICE) {
		if (interrupts & ENISR_OVER)
			ei_rx_overrun();
		else if (interrupts & (ENISR_RX | ENISR_RX_ERR))
			ei_receive();
		if (interrupts & ENISR_TX)
			ei_tx_intr();
		else if (interrupts & ENISR_TX_ERR)
			reg_out(ENISR_TX_ERR, EN0_ISR);
		if (interrupts & ENISR_COUNTERS) {
			(void)reg_in(EN0_COUNTER0);
			(void)reg_in(EN0_COUNTER1);
			ne2k_stats.missed += reg_in(EN0_COUNTER2);
			reg_out(ENISR_COUNTERS, EN0_ISR);
		}
		if (interrupts & ENISR_RDC)
			reg_out(ENISR_RDC, EN0_ISR);
		reg_out(E8390_NODMA | E8390_PAGE0 | E8390_START, NE_CMD);
	}
	if (interrupts && nr_serviced >= MAX_SERVICE)
		reg_out(ENISR_ALL, EN0_ISR);       /* 8390.c: "Too much work" */
}

void ne2k_open(ne2k_rx_fn rx)
{
	rx_handler = rx;
	ns8390_init();
	request_irq(NE2K_IRQ, ei_interrupt);
}

/* ei_start_xmit: mask the NIC and its IRQ line, copy into a free buffer,
 * send it if the transmitter is idle, unmask. */
void ne2k_xmit(const uint8_t *frame, size_t len)
{
	static uint8_t pad[NE2K_ETH_ZLEN];
	unsigned send_length = len < NE2K_ETH_ZLEN ? NE2K_ETH_ZLEN : (unsigned)len;
	const uint8_t *data = frame;
	uint8_t output_page;

	if (len < NE2K_ETH_ZLEN) {
		memset(pad, 0, sizeof(pad));
		memcpy(pad, frame, len);
		data = pad;
	}
	/* Both buffers busy: the queue is stopped until ei_tx_intr frees one. */
	for (;;) {
		local_irq_disable();
		if (tx1 == 0 || tx2 == 0)
			break;
		ne2k_stats.tx_waits++;
		__asm__ volatile("sti; hlt" : : : "memory");
	}
	reg_out(0x00, EN0_IMR);
	local_irq_enable();
	disable_8259A_irq(NE2K_IRQ);
	if (tx1 == 0) {
		output_page = TX_START_PG;
		tx1 = (int)send_length;
	} else {
		output_page = TX_START_PG + 6;
		tx2 = (int)send_length;
	}
	block_output((uint16_t)(output_page << 8), data, (uint16_t)send_length);
	local_irq_disable();
	if (!txing) {
		txing = true;
		trigger_send(send_length, output_page);
		if (output_page == TX_START_PG) {
			tx1 = -1;
			lasttx = -1;
		} else {
			tx2 = -1;
			lasttx = -2;
		}
	}
	reg_out(ENISR_ALL, EN0_IMR);
	enable_8259A_irq(NE2K_IRQ);
	local_irq_enable();
}
