/*
 * ne2k_dma.c - the board's memory as the DP8390 addresses it (DP8390D
 * "Direct Memory Access Control (DMA)") and the remote DMA behind the data
 * port 0x10-0x17 ("Remote DMA").
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
 */
#include <stdbool.h>
#include <stdint.h>

#include "ne2k_priv.h"

/* ---------------------------------------------------------------- memory */

uint8_t ne2k_mem_read(const struct ne2k_state *n, uint16_t a)
{
	if (a < MEM_RAM_BASE)
		return n->prom[(a >> 1) & (PROM_SIZE - 1)];
	if (a < MEM_RAM_END)
		return n->ram[a - MEM_RAM_BASE];
	return 0xff;
}

void ne2k_mem_write(struct ne2k_state *n, uint16_t a, uint8_t v)
{
	if (a >= MEM_RAM_BASE && a < MEM_RAM_END)
		n->ram[a - MEM_RAM_BASE] = v;
}

/* ---------------------------------------------------------------- remote DMA */

static void dma_complete(struct ne2k_state *n)
{
	n->cr = (uint8_t)((n->cr & ~0x38) | RD_ABORT << 3);
	n->isr |= ISR_RDC;
	ne2k_update_irq(n);
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
	v = ne2k_mem_read(n, n->crda);
	dma_step(n);
	if (word) {
		v |= (uint16_t)(ne2k_mem_read(n, n->crda) << 8);
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
	ne2k_mem_write(n, n->crda, (uint8_t)v);
	dma_step(n);
	if (word) {
		ne2k_mem_write(n, n->crda, (uint8_t)(v >> 8));
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

uint32_t ne2k_data_read(struct ne2k_state *n, unsigned size)
{
	unsigned units = dma_units(n, size);
	unsigned shift = (n->dcr & DCR_WTS) ? 16 : 8;
	uint32_t v = 0;

	for (unsigned i = 0; i < units; i++)
		v |= (uint32_t)dma_read_unit(n) << (shift * i);
	return size >= 4 ? v : v & ((1u << (8 * size)) - 1);
}

void ne2k_data_write(struct ne2k_state *n, unsigned size, uint32_t val)
{
	unsigned units = dma_units(n, size);
	unsigned shift = (n->dcr & DCR_WTS) ? 16 : 8;

	for (unsigned i = 0; i < units; i++)
		dma_write_unit(n, (uint16_t)(shift * i < 32 ? val >> (shift * i) : 0));
}

/* CR.RD written: start (or end) a remote DMA. */
void ne2k_dma_command(struct ne2k_state *n, unsigned rd)
{
	if (rd == RD_SEND) {
		/* "Send Packet": the packet at BNRY, its length from its header. */
		uint16_t a = (uint16_t)(n->bnry << 8);
		n->rnpp = ne2k_mem_read(n, (uint16_t)(a + 1));
		n->rsar = a;
		n->rbcr = (uint16_t)(ne2k_mem_read(n, (uint16_t)(a + 2)) | ne2k_mem_read(n, (uint16_t)(a + 3)) << 8);
		n->cr = (uint8_t)((n->cr & ~0x38) | RD_READ << 3);
		rd = RD_READ;
	}
	if (rd != RD_READ && rd != RD_WRITE)
		return;
	n->crda = n->rsar;
	if (!n->rbcr)
		dma_complete(n);
}
