/*
 * ne2k_regs.c - the DP8390's register file (DP8390D "Internal Registers"):
 * pages 0-2 at 0x00-0x0f as CR.PS selects them, what a write to the Command
 * Register ("Command Register") starts or stops, and the INT pin.
 *
 * Interrupts: the INT pin is (ISR & IMR & 0x7f) != 0, on IRQ 9; the ISA line
 * is edge-triggered, so the guest sees a new interrupt only after clearing
 * ISR (or IMR) and a new event.  ISR bits are cleared by writing 1; ISR.RST
 * (bit 7) is status only: set while the NIC is stopped (and after a ring
 * overflow), cleared by CR.STA (and by BNRY moving after an overflow).
 */
#include <stdbool.h>
#include <stdint.h>

#include "ne2k_priv.h"

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

/* ---------------------------------------------------------------- interrupts */

void ne2k_update_irq(struct ne2k_state *n)
{
	bool level = (n->isr & n->imr & ISR_EVENTS) != 0;

	if (level == n->irq)
		return;
	n->irq = level;
	n->plat->set_irq(n->plat->ctx, NE2K_IRQ, level);
}

/* ---------------------------------------------------------------- registers */

static void write_cr(struct ne2k_state *n, uint8_t v)
{
	bool was = ne2k_started(n);
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
		ne2k_dma_command(n, CR_RD(v));
	if ((v & CR_TXP) && !(n->cr & CR_TXP)) {
		if (!ne2k_started(n)) {
			ne2k_log(n, "CR.TXP with the NIC stopped: ignored");
		} else {
			n->cr |= CR_TXP;
			ne2k_tx_start(n, ne2k_now(n));
		}
	} else if ((v & CR_TXP) && n->tx_busy) {
		ne2k_log(n, "CR.TXP while a transmission is in progress: ignored");
	}
	ne2k_update_irq(n);
	if (ne2k_started(n) && !was) {
		n->rx_blocked = true;       /* look again */
		ne2k_rx_unblock(n);
	} else if (!ne2k_started(n) && was) {
		ne2k_be_schedule(n, ne2k_now(n));
	}
}

static void ring_changed(struct ne2k_state *n)
{
	n->rx_blocked = true;
	ne2k_rx_unblock(n);
}

void ne2k_write_reg(struct ne2k_state *n, unsigned off, uint8_t v)
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
		if (n->overflowed && ne2k_started(n)) {
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
		ne2k_update_irq(n);
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
		ne2k_update_irq(n);
		break;
	default:
		break;
	}
}

uint8_t ne2k_read_reg(struct ne2k_state *n, unsigned off)
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
