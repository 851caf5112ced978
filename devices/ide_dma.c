/*
 * ide_dma.c - the bus-master DMA engine of the IDE model (devices/ide.c):
 * the bus-master registers, the walk of the PRD table, the copy between
 * guest memory and the bounce buffer, and the start, completion and stop of
 * a transfer, whose host I/O is served in place (dma=sync) or on the worker
 * thread (dma=async, ide_backend.c).
 *
 * Implements [BMIDE] = "Programming Interface for Bus Master IDE
 * Controller", rev 1.0 (SFF-8038i), as implemented by the Intel 82371 PIIX
 * family ("Bus Master IDE Function" of the PIIX/PIIX3/PIIX4 datasheets).
 *
 * Bus-master DMA ([BMIDE]), modelling choices:
 * - A transfer needs a 0->1 write of Start (which sets Active) and a DMA
 *   command, in either order; once a transfer completed, a new one needs a
 *   new 0->1 of Start.  Read/Write Control must match the command (1 for a
 *   READ DMA: the controller writes memory); a mismatch is a DMA error.
 * - The PRD table (dword aligned: pointer bits 1:0 read 0) must not cross a
 *   64 KiB boundary ([BMIDE] and the PIIX datasheets), so it holds at most
 *   8192 entries: reaching the boundary without enough bytes is a DMA
 *   error ("no EOT"), as are an entry outside guest RAM, a region outside
 *   guest RAM and a table whose EOT entry ends before the transfer does
 *   ("short table"; real hardware would hang with the drive waiting).  A
 *   DMA error does nothing on the disk or in memory: bus-master Status gets
 *   Error, Active clears, and the command ends with ERR + ABRT and INTRQ.
 * - Byte count 0 means 64 KiB (PIIX datasheet).  Bit 0 of base and count is
 *   reserved and ignored, so a count of 1 is also 64 KiB.  The rule that a
 *   region must not straddle a 64 KiB boundary is not enforced (regions are
 *   simply contiguous guest-physical memory).
 * - Entries are read until the transfer is covered: if it ends exactly at
 *   the end of an EOT entry, Active clears at completion; if the regions
 *   are larger, Active stays set with Interrupt ([BMIDE]'s "valid
 *   completion" case) until the host writes Start = 0.
 * - Start = 0 during an asynchronous transfer stops it: the model waits for
 *   the worker, discards a read's data, and ends the command with ERR +
 *   ABRT and INTRQ (hardware would leave the drive waiting for SRST).
 * - Interrupt (bus-master Status bit 2) is set by each rising edge of INTRQ.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "ide_priv.h"

/* ---------------------------------------------------------------- DMA */

void ide_free_bounce(struct ide_state *s)
{
	free(s->bounce);
	s->bounce = NULL;
	s->bounce_len = 0;
}

/*
 * A bus-master error: nothing moved, Error set, Active cleared, the command
 * ends with ABRT and INTRQ.  `why` is one of a few literals: each kind is
 * logged once (a guest that keeps making the same mistake gets its ATA
 * errors, not a line each).
 */
static void dma_error(struct ide_state *s, const char *why)
{
	unsigned k = 0;

	while (k < IDE_DMA_ERROR_KINDS && s->dma_logged[k] && s->dma_logged[k] != why)
		k++;
	if (k < IDE_DMA_ERROR_KINDS && !s->dma_logged[k]) {
		s->dma_logged[k] = why;
		ide_log(s, "DMA error (PRD table at %#x): %s (logged once)", s->bm_prdt, why);
	}
	ide_free_bounce(s);
	s->bm_armed = false;
	s->bm_status = (uint8_t)((s->bm_status | BM_ST_ERROR) & ~BM_ST_ACTIVE);
	ide_cmd_error(s, ER_ABRT);
}

/*
 * Is [gpa, gpa+len) guest RAM?  The platform's dma_read refuses any range
 * that is not wholly inside RAM, and RAM is one range starting at 0, so
 * probing the first and the last byte answers for the whole region.
 */
static bool ram_has(struct ide_state *s, uint64_t gpa, uint64_t len)
{
	uint8_t b;

	return len && gpa + len > gpa &&
	       s->plat->dma_read(s->plat->ctx, gpa, &b, 1) == 0 &&
	       s->plat->dma_read(s->plat->ctx, gpa + len - 1, &b, 1) == 0;
}

/*
 * Walk the PRD table until `need` bytes are covered, into s->regions.
 * NULL, or why the table cannot be used.
 */
const char *ide_prd_walk(struct ide_state *s, uint64_t need)
{
	uint64_t table = s->bm_prdt;

	s->nregions = 0;
	s->exhausted = false;
	for (unsigned i = 0;; i++) {
		uint64_t ea = table + 8ull * i;
		uint8_t e[8];
		uint32_t base, count, take;

		if ((ea & ~(uint64_t)(PRD_TABLE_SPAN - 1)) != (table & ~(uint64_t)(PRD_TABLE_SPAN - 1)) ||
		    ((ea + 7) & ~(uint64_t)(PRD_TABLE_SPAN - 1)) != (table & ~(uint64_t)(PRD_TABLE_SPAN - 1)) ||
		    i >= PRD_MAX)
			return "no EOT before the table's 64 KiB boundary";
		if (s->plat->dma_read(s->plat->ctx, ea, e, sizeof(e)))
			return "PRD entry outside guest RAM";
		base = ((uint32_t)e[0] | (uint32_t)e[1] << 8 | (uint32_t)e[2] << 16 | (uint32_t)e[3] << 24) & ~1u;
		count = ((uint32_t)e[4] | (uint32_t)e[5] << 8) & ~1u;
		if (!count)
			count = 0x10000;
		take = need < count ? (uint32_t)need : count;
		if (!ram_has(s, base, take))
			return "memory region outside guest RAM";
		s->regions[s->nregions++] = (struct ide_region){ base, take };
		need -= take;
		if (need == 0) {
			s->exhausted = (e[7] & 0x80) && take == count;
			return NULL;
		}
		if (e[7] & 0x80)
			return "PRD table shorter than the transfer";
	}
}

/* Move bounce <-> guest memory along the regions. */
static int dma_copy(struct ide_state *s, bool to_guest)
{
	size_t off = 0;

	for (unsigned i = 0; i < s->nregions; i++) {
		const struct ide_region *r = &s->regions[i];
		int rc = to_guest ? s->plat->dma_write(s->plat->ctx, r->gpa, s->bounce + off, r->len)
				  : s->plat->dma_read(s->plat->ctx, r->gpa, s->bounce + off, r->len);
		if (rc)
			return -1;
		off += r->len;
	}
	return 0;
}

/* The end of a DMA transfer whose host I/O is done (s->job has its result). */
static void dma_finish(struct ide_state *s)
{
	bool write = s->xflags & XF_WRITE;

	s->bm_armed = false;
	if (s->job.err) {
		ide_free_bounce(s);
		ide_io_error(s, s->xfer_lba + s->job.done / SECTOR, write, s->job.err);
		return;
	}
	if (!write && dma_copy(s, true)) {
		dma_error(s, "memory region outside guest RAM at completion");
		return;
	}
	ide_free_bounce(s);
	if (write)
		s->stats.sectors_written += s->xfer_left;
	else
		s->stats.sectors_read += s->xfer_left;
	if (s->exhausted)
		s->bm_status &= (uint8_t)~BM_ST_ACTIVE;
	ide_cmd_ok(s);
}

/* Start the transfer: the command is in and the bus master is armed. */
void ide_dma_begin(struct ide_state *s)
{
	bool write = s->xflags & XF_WRITE;
	uint64_t len = (uint64_t)s->xfer_left * SECTOR;
	const char *why;
	struct ide_job j;
	vtime_t t;

	if (!(pci_cfg_command(&s->pci) & PCI_CMD_MASTER)) {
		dma_error(s, "bus-master DMA with Bus Master Enable clear in the PCI command register");
		return;
	}
	if (!!(s->bm_cmd & BM_CMD_RWCON) == write) {
		dma_error(s, write ? "WRITE DMA with Read/Write Control = 1 (memory write)"
				   : "READ DMA with Read/Write Control = 0 (memory read)");
		return;
	}
	why = ide_prd_walk(s, len);
	if (why) {
		dma_error(s, why);
		return;
	}
	s->bounce = malloc(len);
	if (!s->bounce) {
		ide_log(s, "out of memory for a %llu-byte transfer", (unsigned long long)len);
		ide_cmd_error(s, ER_ABRT);
		return;
	}
	s->bounce_len = len;
	if (write && dma_copy(s, false)) {
		dma_error(s, "memory region outside guest RAM");
		return;
	}
	s->stats.dma_transfers++;
	j = (struct ide_job){ .op = write ? JOB_WRITE : JOB_READ, .offset = s->xfer_lba * SECTOR,
			      .len = len, .buf = s->bounce };
	t = ide_disk_time(s, s->xfer_lba, s->xfer_left);
	if (s->dma_async && ide_worker_submit(s, &j)) {
		s->job = j;
		s->phase = PH_DMA_BUSY;
		s->status = ST_BUSY;
		s->deadline = ide_now(s) + t;
		s->plat->timer_arm(s->plat->ctx, s->timer, s->deadline);
		return;
	}
	ide_job_run(&j, s->fd);
	s->job = j;
	ide_charge(s, t);
	dma_finish(s);
}

void ide_timer_fired(void *opaque, vtime_t now)
{
	struct ide_state *s = opaque;

	(void)now;
	if (s->phase != PH_DMA_BUSY)
		return;
	ide_worker_wait(s);
	s->deadline = NEVER;
	if (!s->bounce) {
		/* restored, and the PRD table no longer covers the transfer */
		s->bm_armed = false;
		dma_error(s, "PRD table unusable after restore");
		return;
	}
	dma_finish(s);
}

/* Drop a transfer in flight (the worker finished first). */
void ide_dma_cancel(struct ide_state *s)
{
	ide_worker_wait(s);
	ide_free_bounce(s);
	s->deadline = NEVER;
	s->plat->timer_cancel(s->plat->ctx, s->timer);
}

/* ---------------------------------------------------------------- bus master */

static void bm_write_command(struct ide_state *s, uint8_t v)
{
	bool start = v & BM_CMD_START;

	if (start && !(s->bm_cmd & BM_CMD_START)) {
		s->bm_cmd = v & (BM_CMD_START | BM_CMD_RWCON);
		s->bm_status |= BM_ST_ACTIVE;
		s->bm_armed = true;
		if (s->phase == PH_DMA_WAIT)
			ide_dma_begin(s);
	} else if (!start && (s->bm_cmd & BM_CMD_START)) {
		s->bm_cmd = v & BM_CMD_RWCON;
		s->bm_status &= (uint8_t)~BM_ST_ACTIVE;
		s->bm_armed = false;
		if (s->phase == PH_DMA_BUSY) {
			ide_log(s, "bus master stopped during a transfer: command aborted");
			ide_dma_cancel(s);
			ide_cmd_error(s, ER_ABRT);
		}
	} else if (!(s->bm_status & BM_ST_ACTIVE)) {
		/* RWCON "must not be changed when the bus master is active" */
		s->bm_cmd = (uint8_t)((s->bm_cmd & BM_CMD_START) | (v & BM_CMD_RWCON));
	}
}

uint8_t ide_bm_read(struct ide_state *s, unsigned off)
{
	switch (off) {
	case 0:
		return s->bm_cmd;
	case 2:
		return s->bm_status;
	case 4: case 5: case 6: case 7:
		return (uint8_t)(s->bm_prdt >> (8 * (off - 4)));
	default:
		return 0;     /* reserved */
	}
}

void ide_bm_write(struct ide_state *s, unsigned off, uint8_t v)
{
	switch (off) {
	case 0:
		bm_write_command(s, v);
		break;
	case 2:
		s->bm_status = (uint8_t)((s->bm_status & ~(v & (BM_ST_ERROR | BM_ST_INTR)) & ~BM_ST_CAP) |
					 (v & BM_ST_CAP));
		break;
	case 4: case 5: case 6: case 7: {
		unsigned sh = 8 * (off - 4);
		s->bm_prdt = (s->bm_prdt & ~(0xffu << sh)) | ((uint32_t)v << sh);
		s->bm_prdt &= ~3u;    /* bits 1:0 reserved: the table is dword aligned */
		break;
	}
	default:
		break;
	}
}
