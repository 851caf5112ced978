/*
 * ata.c - the ATA driver of ata.h.  The port sequences follow Linux 2.6's
 * IDE layer, re-implemented: the seed's kernel build ran on that driver, so
 * its accesses are the exits the seed measured.
 *
 * A request, from the idle channel or from the IRQ 14 handler:
 *   DMA (ide_dma_setup, __ide_do_rw_disk, ide_dma_start):
 *     PRD table (split at 64 KiB boundaries), PRD pointer (outl BMIBA+4),
 *     bus-master Command = direction with Start = 0, bus-master Status:
 *     clear Interrupt and Error; Device Control = 0 (nIEN off);
 *     [LBA48: the high bytes of Sector Count and LBA] Features = 0,
 *     Sector Count, LBA Low/Mid/High, Device; Command; bus-master
 *     Command = direction | Start.
 *   PIO: the same registers, READ/WRITE MULTIPLE (EXT); a write polls
 *     Alternate Status for DRQ and sends the first block at once.
 * IRQ 14 (ide_intr -> ide_dma_intr / task_in_intr / task_out_intr):
 *   DMA: bus-master Status (did it interrupt?), bus-master Command with
 *     Start = 0, Status (acknowledges INTRQ), bus-master Status: clear
 *     Interrupt and Error.
 *   PIO: Status; a data-in block with rep insw, a data-out block with rep
 *     outsw.
 *   Then the next queued request is started.
 * The runtime's do_IRQ does the 8259A part (mask, specific EOI to the slave
 * and to the master's cascade line, unmask).
 */
#include "ata.h"
#include "io.h"
#include "rt.h"

#define ATA_DATA     0x1f0
#define ATA_ERROR    0x1f1
#define ATA_FEATURE  0x1f1
#define ATA_NSECTOR  0x1f2
#define ATA_LBA_LOW  0x1f3
#define ATA_LBA_MID  0x1f4
#define ATA_LBA_HIGH 0x1f5
#define ATA_DEVICE   0x1f6
#define ATA_STATUS   0x1f7
#define ATA_COMMAND  0x1f7
#define ATA_CONTROL  0x3f6
#define ATA_ALTSTAT  0x3f6

#define BM_CMD    (ATA_BM_BASE + 0)
#define BM_STATUS (ATA_BM_BASE + 2)
#define BM_PRDT   (ATA_BM_BASE + 4)

#define ST_BSY  0x80
#define ST_DRDY 0x40
#define ST_DRQ  0x08
#define ST_ERR  0x01

#define CTL_NIEN 0x02
#define DEV_LBA  0xe0        /* obsolete bits 7 and 5 set, LBA, device 0 */

#define BM_START   0x01
#define BM_TOMEM   0x08
#define BM_ERROR   0x02
#define BM_INTR    0x04

#define CMD_READ_DMA            0xc8
#define CMD_READ_DMA_EXT        0x25
#define CMD_WRITE_DMA           0xca
#define CMD_WRITE_DMA_EXT       0x35
#define CMD_READ_MULTIPLE       0xc4
#define CMD_READ_MULTIPLE_EXT   0x29
#define CMD_WRITE_MULTIPLE      0xc5
#define CMD_WRITE_MULTIPLE_EXT  0x39
#define CMD_FLUSH_CACHE_EXT     0xea
#define CMD_SET_MULTIPLE        0xc6
#define CMD_SET_FEATURES        0xef
#define CMD_IDENTIFY            0xec

#define PRD_MAX 64
#define PRD_EOT 0x80000000u

uint64_t ata_sectors;
unsigned ata_mult;
uint64_t ata_interrupts;
uint64_t ata_spurious;
uint64_t ata_commands;

static bool lba48_supported;
static struct ata_req *head, *tail;     /* head is in flight */

/* PRD table: 64 entries of 8 bytes, 512-byte aligned so it never crosses
 * a 64 KiB boundary. */
static struct {
	uint32_t addr;
	uint32_t count;
} prd_table[PRD_MAX] __attribute__((aligned(512)));

static uint16_t identify_words[256];

/* ------------------------------------------------------------ PIO helpers */

static void insw(uint16_t port, void *buf, uint32_t words)
{
	__asm__ volatile("rep insw" : "+D"(buf), "+c"(words) : "d"(port) : "memory");
}

static void outsw(uint16_t port, const void *buf, uint32_t words)
{
	__asm__ volatile("rep outsw" : "+S"(buf), "+c"(words) : "d"(port) : "memory");
}

/* Poll Alternate Status until BSY clears (at most `loops` reads). */
static uint8_t wait_not_busy(unsigned loops)
{
	uint8_t st = inb(ATA_ALTSTAT);

	while ((st & ST_BSY) && loops--)
		st = inb(ATA_ALTSTAT);
	return st;
}

/* ------------------------------------------------------------ the taskfile */

static bool needs_lba48(uint64_t lba, uint32_t count)
{
	return lba + count > 0x0fffffffull || count > 256;
}

static void write_taskfile(uint64_t lba, uint32_t count, bool ext)
{
	outb(0x00, ATA_CONTROL);                    /* nIEN off */
	if (ext) {
		outb(0x00, ATA_FEATURE);
		outb((uint8_t)(count >> 8), ATA_NSECTOR);
		outb((uint8_t)(lba >> 24), ATA_LBA_LOW);
		outb((uint8_t)(lba >> 32), ATA_LBA_MID);
		outb((uint8_t)(lba >> 40), ATA_LBA_HIGH);
	}
	outb(0x00, ATA_FEATURE);
	outb((uint8_t)count, ATA_NSECTOR);
	outb((uint8_t)lba, ATA_LBA_LOW);
	outb((uint8_t)(lba >> 8), ATA_LBA_MID);
	outb((uint8_t)(lba >> 16), ATA_LBA_HIGH);
	outb((uint8_t)(ext ? DEV_LBA : DEV_LBA | ((lba >> 24) & 0x0f)), ATA_DEVICE);
}

/* ------------------------------------------------------------ starting */

/* Fill the PRD table for buf[0..bytes); false if it does not fit. */
static bool build_prd(uintptr_t buf, uint64_t bytes)
{
	unsigned n = 0;

	while (bytes) {
		uint64_t room = 0x10000 - (buf & 0xffff);   /* no region crosses 64 KiB */
		uint64_t len = bytes < room ? bytes : room;

		if (n == PRD_MAX)
			return false;
		prd_table[n].addr = (uint32_t)buf;
		prd_table[n].count = (uint32_t)(len & 0xffff);   /* 0 = 64 KiB */
		buf += len;
		bytes -= len;
		n++;
	}
	prd_table[n - 1].count |= PRD_EOT;
	return true;
}

static void finish(struct ata_req *r, uint8_t status, uint8_t error, uint8_t bm)
{
	r->status = status;
	r->error = error;
	r->bm_status = bm;
	head = r->next;
	if (!head)
		tail = NULL;
	r->next = NULL;
	r->done = true;
}

static void start_dma(struct ata_req *r, bool ext)
{
	bool to_mem = r->op == ATA_READ;
	uint8_t cmd;

	if (!build_prd((uintptr_t)r->buf, (uint64_t)r->count * ATA_SECTOR)) {
		finish(r, ST_ERR, 0, 0);
		return;
	}
	/* ide_dma_setup: table, direction, clear the status bits. */
	outl((uint32_t)(uintptr_t)prd_table, BM_PRDT);
	outb(to_mem ? BM_TOMEM : 0, BM_CMD);
	outb(inb(BM_STATUS) | BM_INTR | BM_ERROR, BM_STATUS);
	write_taskfile(r->lba, r->count, ext);
	if (to_mem)
		cmd = ext ? CMD_READ_DMA_EXT : CMD_READ_DMA;
	else
		cmd = ext ? CMD_WRITE_DMA_EXT : CMD_WRITE_DMA;
	outb(cmd, ATA_COMMAND);
	ata_commands++;
	/* ide_dma_start */
	outb((to_mem ? BM_TOMEM : 0) | BM_START, BM_CMD);
}

static void start_pio(struct ata_req *r, bool ext)
{
	uint8_t st;

	r->pos = r->buf;
	r->left = r->count;
	write_taskfile(r->lba, r->count, ext);
	if (r->op == ATA_READ) {
		outb(ext ? CMD_READ_MULTIPLE_EXT : CMD_READ_MULTIPLE, ATA_COMMAND);
		ata_commands++;
		return;
	}
	outb(ext ? CMD_WRITE_MULTIPLE_EXT : CMD_WRITE_MULTIPLE, ATA_COMMAND);
	ata_commands++;
	/* Data-out: the first block goes without an interrupt, once DRQ is up. */
	st = wait_not_busy(100000);
	if (!(st & ST_DRQ) || (st & ST_ERR))
		return;          /* the completion interrupt reports the error */
	uint32_t n = r->left < ata_mult ? r->left : ata_mult;
	r->left -= n;
	r->pos += n * ATA_SECTOR;
	outsw(ATA_DATA, r->pos - n * ATA_SECTOR, n * 256);
}

static void start(struct ata_req *r)
{
	bool ext = needs_lba48(r->lba, r->count);

	if (r->op == ATA_FLUSH) {
		outb(0x00, ATA_CONTROL);
		outb(DEV_LBA, ATA_DEVICE);
		outb(CMD_FLUSH_CACHE_EXT, ATA_COMMAND);
		ata_commands++;
		return;
	}
	if ((ext && !lba48_supported) || r->count == 0 || r->count > 65536 ||
	    r->lba + r->count > ata_sectors) {
		finish(r, ST_ERR, 0, 0);
		return;
	}
	if (r->dma)
		start_dma(r, ext);
	else
		start_pio(r, ext);
}

/* Start queued requests until one is in flight (a request refused before
 * reaching the disk completes at once). */
static void kick(void)
{
	while (head) {
		struct ata_req *r = head;
		start(r);
		if (!r->done)
			return;
	}
}

void ata_submit(struct ata_req *r)
{
	unsigned long flags = local_irq_save();
	bool idle = !head;

	r->done = false;
	r->next = NULL;
	r->status = r->error = r->bm_status = 0;
	if (tail)
		tail->next = r;
	else
		head = r;
	tail = r;
	if (idle)
		kick();
	local_irq_restore(flags);
}

void ata_wait(struct ata_req *r)
{
	unsigned long flags = local_irq_save();

	/* sti; hlt is atomic: an interrupt cannot slip in between the check
	 * and the halt (STI's interrupt shadow). */
	while (!r->done)
		__asm__ volatile("sti; hlt; cli" : : : "memory");
	local_irq_restore(flags);
}

bool ata_ok(const struct ata_req *r)
{
	return r->done && !(r->status & ST_ERR) && !(r->bm_status & BM_ERROR);
}

/* ------------------------------------------------------------ IRQ 14 */

static void dma_intr(struct ata_req *r)
{
	/* ide_dma_test_irq, then ide_dma_end */
	uint8_t bm = inb(BM_STATUS);
	outb(r->op == ATA_READ ? BM_TOMEM : 0, BM_CMD);
	uint8_t st = inb(ATA_STATUS);
	outb(bm | BM_INTR | BM_ERROR, BM_STATUS);
	finish(r, st, (st & ST_ERR) ? inb(ATA_ERROR) : 0, bm);
}

static void pio_intr(struct ata_req *r)
{
	uint8_t st = inb(ATA_STATUS);
	uint32_t n;

	if (st & ST_ERR) {
		finish(r, st, inb(ATA_ERROR), 0);
		return;
	}
	if (r->op == ATA_FLUSH) {
		finish(r, st, 0, 0);
		return;
	}
	if (r->op == ATA_WRITE) {
		if (r->left == 0) {        /* the completion interrupt */
			finish(r, st, 0, 0);
			return;
		}
		if (!(st & ST_DRQ)) {
			finish(r, st | ST_ERR, 0, 0);
			return;
		}
		n = r->left < ata_mult ? r->left : ata_mult;
		r->left -= n;
		r->pos += n * ATA_SECTOR;
		outsw(ATA_DATA, r->pos - n * ATA_SECTOR, n * 256);
		return;
	}
	/* Data-in: one block per interrupt; none after the last. */
	if (!(st & ST_DRQ)) {
		finish(r, st | ST_ERR, 0, 0);
		return;
	}
	n = r->left < ata_mult ? r->left : ata_mult;
	insw(ATA_DATA, r->pos, n * 256);
	r->pos += n * ATA_SECTOR;
	r->left -= n;
	if (r->left == 0)
		finish(r, inb(ATA_ALTSTAT), 0, 0);
}

static void ata_intr(unsigned irq)
{
	struct ata_req *r = head;

	(void)irq;
	ata_interrupts++;
	if (!r) {
		ata_spurious++;
		(void)inb(ATA_STATUS);
		return;
	}
	if (r->dma && r->op != ATA_FLUSH)
		dma_intr(r);
	else
		pio_intr(r);
	if (r->done)
		kick();
}

/* ------------------------------------------------------------ probing */

/* A polled command (nIEN set, so no interrupt): 0, or the Status. */
static int polled(uint8_t cmd, uint8_t feature, uint8_t count)
{
	uint8_t st;

	outb(feature, ATA_FEATURE);
	outb(count, ATA_NSECTOR);
	outb(DEV_LBA, ATA_DEVICE);
	outb(cmd, ATA_COMMAND);
	ata_commands++;
	st = wait_not_busy(100000);
	(void)inb(ATA_STATUS);
	return (st & (ST_BSY | ST_ERR)) ? st | 0x100 : 0;
}

int ata_init(void)
{
	uint8_t st;

	outb(CTL_NIEN, ATA_CONTROL);
	outb(DEV_LBA, ATA_DEVICE);
	st = inb(ATA_STATUS);
	if (st == 0xff || st == 0x00 || !(st & ST_DRDY)) {
		rt_printf("ata: no disk on the primary channel (status 0x%02x)\n", st);
		return -1;
	}
	outb(CMD_IDENTIFY, ATA_COMMAND);
	ata_commands++;
	st = wait_not_busy(100000);
	if (!(st & ST_DRQ)) {
		rt_printf("ata: IDENTIFY DEVICE failed (status 0x%02x)\n", st);
		return -1;
	}
	(void)inb(ATA_STATUS);
	insw(ATA_DATA, identify_words, 256);
	lba48_supported = identify_words[83] & (1u << 10);
	if (lba48_supported)
		ata_sectors = (uint64_t)identify_words[100] | (uint64_t)identify_words[101] << 16 |
			      (uint64_t)identify_words[102] << 32 | (uint64_t)identify_words[103] << 48;
	else
		ata_sectors = (uint64_t)identify_words[60] | (uint64_t)identify_words[61] << 16;
	/* Ultra DMA mode 2 (the PIIX4's UDMA/33), and the largest multiple. */
	if (polled(CMD_SET_FEATURES, 0x03, 0x42))
		rt_printf("ata: SET FEATURES (UDMA2) refused\n");
	ata_mult = identify_words[47] & 0xff;
	if (ata_mult > 16)
		ata_mult = 16;
	if (!ata_mult || polled(CMD_SET_MULTIPLE, 0, (uint8_t)ata_mult)) {
		rt_printf("ata: SET MULTIPLE MODE refused\n");
		return -1;
	}
	outb(0x00, ATA_CONTROL);            /* interrupts on; none is pending */
	request_irq(ATA_IRQ, ata_intr);
	return 0;
}
