/*
 * ata.h - a small ATA disk driver for the primary IDE channel, in the shape
 * of Linux 2.6's drivers/ide (ide-disk, ide-dma, the PIIX bus-master ops):
 * a request queue served from the IRQ 14 handler, bus-master DMA with PRD
 * tables, PIO with READ/WRITE MULTIPLE, LBA28 unless an address or count
 * needs LBA48.
 *
 * The channel: command block 0x1f0-0x1f7, control 0x3f6, IRQ 14 (on the
 * slave 8259A), bus-master registers at the fixed base ATA_BM_BASE (vmxlab
 * has no PCI configuration space to read BAR4 from; see devices/ide.c).
 */
#ifndef VMXLAB_GUEST_ATA_H
#define VMXLAB_GUEST_ATA_H

#include <stdbool.h>
#include <stdint.h>

#define ATA_BM_BASE   0xc000
#define ATA_IRQ       14
#define ATA_SECTOR    512u

enum ata_op { ATA_READ, ATA_WRITE, ATA_FLUSH };

struct ata_req {
	/* filled by the caller */
	enum ata_op op;
	uint64_t lba;
	uint32_t count;          /* sectors, 1..65536 */
	void *buf;               /* physical = virtual; DMA: even address */
	bool dma;                /* bus-master DMA, else PIO (READ/WRITE MULTIPLE) */
	/* the outcome */
	volatile bool done;
	uint8_t status;          /* ATA Status at completion */
	uint8_t error;           /* ATA Error if Status.ERR */
	uint8_t bm_status;       /* bus-master Status at completion (DMA) */
	/* driver private */
	uint8_t *pos;
	uint32_t left;
	struct ata_req *next;
};

/* Identify the disk, set the transfer mode and the multiple count, install
 * the IRQ 14 handler.  Call after init_8259A, with interrupts off.
 * 0, or -1 with a message when there is no usable disk. */
int ata_init(void);

/* Queue a request (started at once when the channel is idle). */
void ata_submit(struct ata_req *r);
/* Sleep (sti; hlt) until the request is done. */
void ata_wait(struct ata_req *r);
/* Did it succeed? */
bool ata_ok(const struct ata_req *r);

extern uint64_t ata_sectors;       /* capacity from IDENTIFY */
extern unsigned ata_mult;          /* READ/WRITE MULTIPLE block in use */
extern uint64_t ata_interrupts;    /* IRQ 14 handler runs */
extern uint64_t ata_spurious;      /* of them with no request in flight */
extern uint64_t ata_commands;      /* commands issued */

#endif
