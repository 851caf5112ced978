/*
 * ide_ata.c - the ATA device of the IDE model (devices/ide.c): the command
 * block registers, the command set with its PIO data transfers and IDENTIFY
 * DEVICE data, and how a command ends (Status, Error, INTRQ).  A DMA command
 * is handed to the bus master (ide_dma.c) once its address is checked.
 *
 * Implements [ATA6] = ANSI INCITS 361-2002, AT Attachment with Packet
 * Interface - 6 (ATA/ATAPI-6): registers (section 7), commands (8),
 * protocols (9).
 *
 * ATA, modelling choices:
 * - Commands: NOP (aborts, as [ATA6] requires), READ/WRITE SECTORS (20h/21h,
 *   30h/31h) and EXT (24h, 34h), READ/WRITE MULTIPLE (C4h, C5h) and EXT
 *   (29h, 39h), READ/WRITE DMA (C8h/C9h, CAh/CBh) and EXT (25h, 35h), READ
 *   VERIFY SECTORS (40h/41h) and EXT (42h), SET MULTIPLE MODE (C6h), SET
 *   FEATURES (EFh: 03h transfer mode, AAh/55h read look-ahead, CCh/66h
 *   revert to defaults on SRST), FLUSH CACHE (E7h) and EXT (EAh), IDENTIFY
 *   DEVICE (ECh), EXECUTE DEVICE DIAGNOSTIC (90h), CHECK POWER MODE (E5h).
 *   Anything else ends with ERR + ABRT.
 * - 28-bit commands use LBA (Device bit 6) or CHS with the default geometry
 *   of IDENTIFY words 1/3/6 (16 heads, 63 sectors); EXT commands are always
 *   LBA.  Count 0 means 256 (65536 for EXT).  An address range past the end
 *   of the disk, or an invalid CHS address, ends with ERR + IDNF.
 * - Status while a command runs: 58h (DRDY, DSC, DRQ) while a PIO block or
 *   a DMA transfer waits for the host, D0h (BSY) while an asynchronous DMA
 *   transfer is in flight, 80h while SRST is asserted.  Writes to the
 *   command block while BSY is set are ignored; a command written while DRQ
 *   is set abandons the command in progress.
 * - Device 1 is absent: with DEV = 1 selected, Status and Alternate Status
 *   read 00h, commands other than EXECUTE DEVICE DIAGNOSTIC are ignored,
 *   the Data register reads FFFFh, and device 0 releases INTRQ ([ATA6]:
 *   INTRQ is driven by the selected device only).
 * - The Data register moves one 16-bit word per access of 1 or 2 bytes (a
 *   byte read returns the low byte; a byte write sends the word with a zero
 *   high byte) and two words per 4-byte access.  Other registers are bytes;
 *   wider accesses are split into byte accesses at off, off+1, ...; bytes
 *   past a range read FFh and are dropped on write.
 * - HOB (Device Control bit 7) selects the "previous content" of the 48-bit
 *   FIFO registers for reads; a write to any command block register clears
 *   it ([ATA6] 7.9).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "ide_priv.h"

#define VERIFY_CHUNK   (64u * 1024u)

/* Command opcodes ([ATA6] section 8). */
enum {
	CMD_NOP = 0x00,
	CMD_READ_SECTORS = 0x20,
	CMD_READ_SECTORS_NR = 0x21,
	CMD_READ_SECTORS_EXT = 0x24,
	CMD_READ_DMA_EXT = 0x25,
	CMD_READ_MULTIPLE_EXT = 0x29,
	CMD_WRITE_SECTORS = 0x30,
	CMD_WRITE_SECTORS_NR = 0x31,
	CMD_WRITE_SECTORS_EXT = 0x34,
	CMD_WRITE_DMA_EXT = 0x35,
	CMD_WRITE_MULTIPLE_EXT = 0x39,
	CMD_READ_VERIFY = 0x40,
	CMD_READ_VERIFY_NR = 0x41,
	CMD_READ_VERIFY_EXT = 0x42,
	CMD_EXECUTE_DIAGNOSTIC = 0x90,
	CMD_READ_MULTIPLE = 0xc4,
	CMD_WRITE_MULTIPLE = 0xc5,
	CMD_SET_MULTIPLE = 0xc6,
	CMD_READ_DMA = 0xc8,
	CMD_READ_DMA_NR = 0xc9,
	CMD_WRITE_DMA = 0xca,
	CMD_WRITE_DMA_NR = 0xcb,
	CMD_CHECK_POWER_MODE = 0xe5,
	CMD_FLUSH_CACHE = 0xe7,
	CMD_FLUSH_CACHE_EXT = 0xea,
	CMD_IDENTIFY = 0xec,
	CMD_SET_FEATURES = 0xef,
};

/* SET FEATURES subcommands (Features register, [ATA6] 8.37). */
enum {
	SF_XFER_MODE = 0x03,
	SF_DISABLE_REVERT = 0x66,
	SF_DISABLE_LOOKAHEAD = 0x55,
	SF_ENABLE_LOOKAHEAD = 0xaa,
	SF_ENABLE_REVERT = 0xcc,
};

/* ---------------------------------------------------------------- addresses */

/* Write `lba` back into the address registers (the error outputs). */
static void set_address(struct ide_state *s, uint64_t lba, uint8_t xflags)
{
	if (xflags & XF_EXT) {
		s->lba_low = (uint8_t)lba;
		s->lba_mid = (uint8_t)(lba >> 8);
		s->lba_high = (uint8_t)(lba >> 16);
		s->lba_low_hob = (uint8_t)(lba >> 24);
		s->lba_mid_hob = (uint8_t)(lba >> 32);
		s->lba_high_hob = (uint8_t)(lba >> 40);
	} else if (xflags & XF_CHS) {
		uint32_t cyl = (uint32_t)(lba / (CHS_HEADS * CHS_SPT));
		uint32_t rest = (uint32_t)(lba % (CHS_HEADS * CHS_SPT));

		s->lba_low = (uint8_t)(rest % CHS_SPT + 1);
		s->lba_mid = (uint8_t)cyl;
		s->lba_high = (uint8_t)(cyl >> 8);
		s->device = (uint8_t)((s->device & 0xf0) | (rest / CHS_SPT));
	} else {
		s->lba_low = (uint8_t)lba;
		s->lba_mid = (uint8_t)(lba >> 8);
		s->lba_high = (uint8_t)(lba >> 16);
		s->device = (uint8_t)((s->device & 0xf0) | ((lba >> 24) & 0x0f));
	}
}

/*
 * The address and count of a read/write/verify command ([ATA6] 7.1 and the
 * 48-bit FIFO of 6.19).  false if the address is not a user-accessible one.
 */
static bool cmd_address(struct ide_state *s, bool ext, uint64_t *lba, uint32_t *count, uint8_t *xflags)
{
	if (ext) {
		*lba = (uint64_t)s->lba_high_hob << 40 | (uint64_t)s->lba_mid_hob << 32 |
		       (uint64_t)s->lba_low_hob << 24 | (uint64_t)s->lba_high << 16 |
		       (uint64_t)s->lba_mid << 8 | s->lba_low;
		*count = (uint32_t)s->nsector_hob << 8 | s->nsector;
		if (!*count)
			*count = 65536;
		*xflags |= XF_EXT;
	} else if (s->device & DEV_LBA) {
		*lba = (uint64_t)(s->device & 0x0f) << 24 | (uint64_t)s->lba_high << 16 |
		       (uint64_t)s->lba_mid << 8 | s->lba_low;
		*count = s->nsector ? s->nsector : 256;
	} else {
		uint32_t cyl = (uint32_t)s->lba_high << 8 | s->lba_mid;
		uint32_t head = s->device & 0x0f;
		uint32_t sec = s->lba_low;

		*xflags |= XF_CHS;
		*count = s->nsector ? s->nsector : 256;
		if (sec == 0 || sec > CHS_SPT || cyl >= s->cyls)
			return false;
		*lba = ((uint64_t)cyl * CHS_HEADS + head) * CHS_SPT + sec - 1;
	}
	return *lba < s->sectors && *count <= s->sectors - *lba;
}

/* ---------------------------------------------------------------- completion */

void ide_cmd_ok(struct ide_state *s)
{
	s->phase = PH_IDLE;
	s->status = ST_READY;
	ide_raise_intrq(s);
}

void ide_cmd_error(struct ide_state *s, uint8_t err)
{
	s->phase = PH_IDLE;
	s->error = err;
	s->status = ST_READY | ST_ERR;
	s->stats.errors++;
	ide_raise_intrq(s);
}

/* A host I/O error at sector `lba` of the command in progress. */
void ide_io_error(struct ide_state *s, uint64_t lba, bool write, int err)
{
	ide_log(s, "host %s error at LBA %llu of %s: %s", write ? "write" : "read",
		(unsigned long long)lba, s->scratch ? "the scratch disk" : s->image, strerror(err));
	set_address(s, lba, s->xflags);
	ide_cmd_error(s, write ? ER_ABRT : ER_UNC);
}

/* ---------------------------------------------------------------- PIO */

static void pio_block_size(struct ide_state *s)
{
	uint32_t n = s->xfer_left < s->xfer_bs ? s->xfer_left : s->xfer_bs;

	s->buf_len = n * SECTOR;
	s->buf_pos = 0;
}

/* Read the next block from the disk and offer it to the host (DRQ, INTRQ). */
static void pio_in_block(struct ide_state *s)
{
	size_t done;
	int err;

	pio_block_size(s);
	ide_charge(s, ide_disk_time(s, s->xfer_lba, s->buf_len / SECTOR));
	err = ide_host_rw(s->fd, false, s->buf, s->buf_len, s->xfer_lba * SECTOR, &done);
	if (err) {
		ide_io_error(s, s->xfer_lba + done / SECTOR, false, err);
		return;
	}
	s->xfer_left -= s->buf_len / SECTOR;
	s->stats.sectors_read += s->buf_len / SECTOR;
	s->phase = PH_PIO_IN;
	s->status = ST_DATA;
	ide_raise_intrq(s);
}

/* The host has read the whole block. */
static void pio_in_done(struct ide_state *s)
{
	if (!(s->xflags & XF_DISK) || s->xfer_left == 0) {
		/* PIO data-in: no interrupt after the last block ([ATA6] 9.7). */
		s->phase = PH_IDLE;
		s->status = ST_READY;
		s->buf_pos = s->buf_len = 0;
		return;
	}
	s->xfer_lba += s->buf_len / SECTOR;
	pio_in_block(s);
}

/* The host has written the whole block: to the disk, then DRQ again or done. */
static void pio_out_done(struct ide_state *s)
{
	uint32_t n = s->buf_len / SECTOR;
	size_t done;
	int err;

	ide_charge(s, ide_disk_time(s, s->xfer_lba, n));
	err = ide_host_rw(s->fd, true, s->buf, s->buf_len, s->xfer_lba * SECTOR, &done);
	if (err) {
		ide_io_error(s, s->xfer_lba + done / SECTOR, true, err);
		return;
	}
	s->stats.sectors_written += n;
	s->xfer_lba += n;
	s->xfer_left -= n;
	if (s->xfer_left == 0) {
		s->buf_pos = s->buf_len = 0;
		ide_cmd_ok(s);
		return;
	}
	pio_block_size(s);
	s->status = ST_DATA;
	ide_raise_intrq(s);
}

uint16_t ide_data_read_word(struct ide_state *s)
{
	uint16_t v;

	if (s->phase != PH_PIO_IN || (s->device & DEV_DEV) || s->buf_pos + 2 > s->buf_len)
		return 0xffff;
	v = (uint16_t)(s->buf[s->buf_pos] | s->buf[s->buf_pos + 1] << 8);
	s->buf_pos += 2;
	if (s->buf_pos == s->buf_len)
		pio_in_done(s);
	return v;
}

void ide_data_write_word(struct ide_state *s, uint16_t v)
{
	if (s->phase != PH_PIO_OUT || (s->device & DEV_DEV) || s->buf_pos + 2 > s->buf_len)
		return;
	s->buf[s->buf_pos] = (uint8_t)v;
	s->buf[s->buf_pos + 1] = (uint8_t)(v >> 8);
	s->buf_pos += 2;
	if (s->buf_pos == s->buf_len)
		pio_out_done(s);
}

/* ---------------------------------------------------------------- IDENTIFY */

static void id_string(uint16_t *w, unsigned first, unsigned words, const char *str)
{
	size_t len = strlen(str);

	for (unsigned i = 0; i < words * 2; i++) {
		uint8_t c = i < len ? (uint8_t)str[i] : ' ';
		/* [ATA6] 3.2.7: the first character is in bits 15:8 of each word. */
		if (i & 1)
			w[first + i / 2] |= c;
		else
			w[first + i / 2] = (uint16_t)(c << 8);
	}
}

/* IDENTIFY DEVICE data ([ATA6] 8.15, Table 27). */
static void identify_data(const struct ide_state *s, uint8_t *out)
{
	uint16_t w[256];
	uint64_t lba28 = s->sectors < 0x0fffffff ? s->sectors : 0x0fffffff;
	uint32_t chs = s->cyls * CHS_HEADS * CHS_SPT;
	uint8_t sum = 0;

	memset(w, 0, sizeof(w));
	w[0] = 0x0040;                        /* ATA device, fixed */
	w[1] = (uint16_t)s->cyls;             /* default cylinders, heads, sectors/track */
	w[3] = CHS_HEADS;
	w[6] = CHS_SPT;
	id_string(w, 10, 10, "VMXLAB00000000000001");   /* serial number */
	id_string(w, 23, 4, "1.0");                     /* firmware revision */
	id_string(w, 27, 20, "VMXLAB HARDDISK");        /* model number */
	w[47] = 0x8000 | MAX_MULT;            /* READ/WRITE MULTIPLE: up to 16 sectors */
	w[49] = 0x0f00;                       /* IORDY, IORDY may be disabled, LBA, DMA */
	w[50] = 0x4000;
	w[51] = 0x0200;                       /* obsolete PIO/DMA timing modes */
	w[52] = 0x0200;
	w[53] = 0x0007;                       /* words 54-58, 64-70 and 88 are valid */
	w[54] = (uint16_t)s->cyls;            /* current CHS translation */
	w[55] = CHS_HEADS;
	w[56] = CHS_SPT;
	w[57] = (uint16_t)chs;
	w[58] = (uint16_t)(chs >> 16);
	w[59] = (uint16_t)(0x0100 | s->mult); /* multiple setting valid */
	w[60] = (uint16_t)lba28;
	w[61] = (uint16_t)(lba28 >> 16);
	w[63] = 0x0007;                       /* multiword DMA 0-2 supported */
	if ((s->xfer_mode & 0xf8) == XFER_MWDMA)
		w[63] |= (uint16_t)(0x100 << (s->xfer_mode & 7));
	w[64] = 0x0003;                       /* PIO modes 3 and 4 */
	w[65] = w[66] = w[67] = w[68] = 120;  /* cycle times, ns */
	w[80] = 0x007e;                       /* ATA-1 to ATA-6 */
	w[82] = 0x4040;                       /* NOP, look-ahead supported */
	w[83] = 0x7400;                       /* FLUSH CACHE EXT, FLUSH CACHE, 48-bit */
	w[84] = 0x4000;
	w[85] = (uint16_t)(0x4000 | (s->lookahead ? 0x0040 : 0));
	w[86] = 0x3400;
	w[87] = 0x4000;
	w[88] = 0x003f;                       /* Ultra DMA 0-5 supported */
	if ((s->xfer_mode & 0xf8) == XFER_UDMA)
		w[88] |= (uint16_t)(0x100 << (s->xfer_mode & 7));
	w[93] = 0x400b;                       /* device 0, by jumper, diagnostics passed */
	for (unsigned i = 0; i < 4; i++)
		w[100 + i] = (uint16_t)(s->sectors >> (16 * i));
	w[255] = 0x00a5;                      /* integrity word: signature, then checksum */
	for (unsigned i = 0; i < 256; i++) {
		out[2 * i] = (uint8_t)w[i];
		out[2 * i + 1] = (uint8_t)(w[i] >> 8);
	}
	for (unsigned i = 0; i < 511; i++)
		sum = (uint8_t)(sum + out[i]);
	out[511] = (uint8_t)-sum;
}

/* ---------------------------------------------------------------- commands */

/* Signature and diagnostic code after a reset or EXECUTE DEVICE DIAGNOSTIC
 * ([ATA6] 9.12): an ATA device 0, device 1 not present. */
void ide_set_signature(struct ide_state *s)
{
	s->nsector = 0x01;
	s->lba_low = 0x01;
	s->lba_mid = 0x00;
	s->lba_high = 0x00;
	s->device = 0x00;
	s->error = DIAG_PASSED;
}

static void start_rw(struct ide_state *s, bool ext, bool write, bool dma, uint16_t bs)
{
	uint64_t lba = 0;
	uint32_t count = 0;
	uint8_t xf = (uint8_t)(write ? XF_WRITE : 0);

	if (!cmd_address(s, ext, &lba, &count, &xf)) {
		s->xflags = xf;
		ide_cmd_error(s, ER_IDNF);
		return;
	}
	s->xflags = (uint8_t)(xf | XF_DISK);
	s->xfer_lba = lba;
	s->xfer_left = count;
	s->xfer_bs = bs;
	if (dma) {
		s->phase = PH_DMA_WAIT;
		s->status = ST_DATA;
		if ((s->bm_cmd & BM_CMD_START) && s->bm_armed)
			ide_dma_begin(s);
		return;
	}
	if (!write) {
		pio_in_block(s);
		return;
	}
	/* PIO data-out: DRQ for the first block without an interrupt. */
	pio_block_size(s);
	s->phase = PH_PIO_OUT;
	s->status = ST_DATA;
}

static void do_verify(struct ide_state *s, bool ext)
{
	static uint8_t scratch[VERIFY_CHUNK];   /* contents unused: one thread per device call */
	uint64_t lba = 0;
	uint32_t count = 0;
	uint8_t xf = 0;

	if (!cmd_address(s, ext, &lba, &count, &xf)) {
		s->xflags = xf;
		ide_cmd_error(s, ER_IDNF);
		return;
	}
	s->xflags = xf;
	ide_charge(s, ide_disk_time(s, lba, count));
	for (uint64_t off = 0; off < (uint64_t)count * SECTOR; off += VERIFY_CHUNK) {
		uint64_t n = (uint64_t)count * SECTOR - off;
		size_t done;
		int err;

		if (n > VERIFY_CHUNK)
			n = VERIFY_CHUNK;
		err = ide_host_rw(s->fd, false, scratch, n, lba * SECTOR + off, &done);
		if (err) {
			ide_io_error(s, lba + (off + done) / SECTOR, false, err);
			return;
		}
	}
	ide_cmd_ok(s);
}

bool ide_xfer_mode_ok(uint8_t v)
{
	switch (v & 0xf8) {
	case 0x00:
		return v <= XFER_PIO_NOIORDY;
	case XFER_PIO_FC:
		return (v & 7) <= 4;
	case XFER_MWDMA:
		return (v & 7) <= 2;
	case XFER_UDMA:
		return (v & 7) <= 5;
	default:
		return false;
	}
}

static void do_set_features(struct ide_state *s)
{
	switch (s->feature) {
	case SF_XFER_MODE:
		if (!ide_xfer_mode_ok(s->nsector)) {
			ide_cmd_error(s, ER_ABRT);
			return;
		}
		s->xfer_mode = s->nsector;
		break;
	case SF_ENABLE_LOOKAHEAD:
	case SF_DISABLE_LOOKAHEAD:
		s->lookahead = s->feature == SF_ENABLE_LOOKAHEAD;
		break;
	case SF_ENABLE_REVERT:
	case SF_DISABLE_REVERT:
		s->revert = s->feature == SF_ENABLE_REVERT;
		break;
	default:
		ide_cmd_error(s, ER_ABRT);
		return;
	}
	ide_cmd_ok(s);
}

static void do_flush(struct ide_state *s)
{
	s->stats.flushes++;
	if (fsync(s->fd)) {
		int err = errno;
		ide_log(s, "fsync of %s failed: %s", s->scratch ? "the scratch disk" : s->image, strerror(err));
		ide_cmd_error(s, ER_ABRT);
		return;
	}
	ide_cmd_ok(s);
}

/* A write to the Command register ([ATA6] section 8). */
static void execute(struct ide_state *s, uint8_t cmd)
{
	if (s->status & ST_BSY)
		return;       /* host must not write while BSY: ignored */
	if (s->device & DEV_DEV) {
		/* Device 1 is absent; device 0 runs only EXECUTE DEVICE DIAGNOSTIC. */
		if (cmd != CMD_EXECUTE_DIAGNOSTIC)
			return;
	}
	/* Writing a command clears a pending interrupt and abandons a command
	 * waiting for data (DRQ). */
	ide_clear_intrq(s);
	ide_free_bounce(s);
	s->command = cmd;
	s->stats.commands++;
	s->error = 0;
	s->xflags = 0;
	s->buf_pos = s->buf_len = 0;
	switch (cmd) {
	case CMD_READ_SECTORS:
	case CMD_READ_SECTORS_NR:
		start_rw(s, false, false, false, 1);
		break;
	case CMD_READ_SECTORS_EXT:
		start_rw(s, true, false, false, 1);
		break;
	case CMD_WRITE_SECTORS:
	case CMD_WRITE_SECTORS_NR:
		start_rw(s, false, true, false, 1);
		break;
	case CMD_WRITE_SECTORS_EXT:
		start_rw(s, true, true, false, 1);
		break;
	case CMD_READ_MULTIPLE:
	case CMD_READ_MULTIPLE_EXT:
	case CMD_WRITE_MULTIPLE:
	case CMD_WRITE_MULTIPLE_EXT:
		if (!s->mult) {
			ide_cmd_error(s, ER_ABRT);    /* multiple mode disabled */
			break;
		}
		start_rw(s, cmd == CMD_READ_MULTIPLE_EXT || cmd == CMD_WRITE_MULTIPLE_EXT,
			 cmd == CMD_WRITE_MULTIPLE || cmd == CMD_WRITE_MULTIPLE_EXT, false, s->mult);
		break;
	case CMD_READ_DMA:
	case CMD_READ_DMA_NR:
		start_rw(s, false, false, true, 0);
		break;
	case CMD_READ_DMA_EXT:
		start_rw(s, true, false, true, 0);
		break;
	case CMD_WRITE_DMA:
	case CMD_WRITE_DMA_NR:
		start_rw(s, false, true, true, 0);
		break;
	case CMD_WRITE_DMA_EXT:
		start_rw(s, true, true, true, 0);
		break;
	case CMD_READ_VERIFY:
	case CMD_READ_VERIFY_NR:
		do_verify(s, false);
		break;
	case CMD_READ_VERIFY_EXT:
		do_verify(s, true);
		break;
	case CMD_SET_MULTIPLE:
		/* 0 disables; otherwise a power of two up to word 47's limit. */
		if (s->nsector > MAX_MULT || (s->nsector & (s->nsector - 1))) {
			ide_cmd_error(s, ER_ABRT);
			break;
		}
		s->mult = s->nsector;
		ide_cmd_ok(s);
		break;
	case CMD_SET_FEATURES:
		do_set_features(s);
		break;
	case CMD_FLUSH_CACHE:
	case CMD_FLUSH_CACHE_EXT:
		do_flush(s);
		break;
	case CMD_IDENTIFY:
		identify_data(s, s->buf);
		s->buf_pos = 0;
		s->buf_len = SECTOR;
		s->phase = PH_PIO_IN;
		s->status = ST_DATA;
		ide_raise_intrq(s);
		break;
	case CMD_EXECUTE_DIAGNOSTIC:
		ide_set_signature(s);
		s->phase = PH_IDLE;
		s->status = ST_READY;
		ide_raise_intrq(s);
		break;
	case CMD_CHECK_POWER_MODE:
		s->nsector = 0xff;            /* active or idle */
		ide_cmd_ok(s);
		break;
	default:
		/* NOP and every command not implemented: command aborted. */
		ide_cmd_error(s, ER_ABRT);
		break;
	}
}

/* ---------------------------------------------------------------- command block */

uint8_t ide_cmd_read(struct ide_state *s, unsigned off)
{
	bool hob = s->control & CTL_HOB;

	switch (off) {
	case REG_ERROR_FEATURE:
		return s->error;
	case REG_NSECTOR:
		return hob ? s->nsector_hob : s->nsector;
	case REG_LBA_LOW:
		return hob ? s->lba_low_hob : s->lba_low;
	case REG_LBA_MID:
		return hob ? s->lba_mid_hob : s->lba_mid;
	case REG_LBA_HIGH:
		return hob ? s->lba_high_hob : s->lba_high;
	case REG_DEVICE:
		return s->device;
	case REG_STATUS_COMMAND:
		if (s->device & DEV_DEV)
			return 0x00;
		/* Reading Status acknowledges the interrupt ([ATA6] 7.15). */
		if (s->phase != PH_RESET)
			ide_clear_intrq(s);
		return s->status;
	default:
		return 0xff;
	}
}

void ide_cmd_write(struct ide_state *s, unsigned off, uint8_t v)
{
	if (s->status & ST_BSY)
		return;
	s->control &= (uint8_t)~CTL_HOB;
	switch (off) {
	case REG_ERROR_FEATURE:
		s->feature_hob = s->feature;
		s->feature = v;
		break;
	case REG_NSECTOR:
		s->nsector_hob = s->nsector;
		s->nsector = v;
		break;
	case REG_LBA_LOW:
		s->lba_low_hob = s->lba_low;
		s->lba_low = v;
		break;
	case REG_LBA_MID:
		s->lba_mid_hob = s->lba_mid;
		s->lba_mid = v;
		break;
	case REG_LBA_HIGH:
		s->lba_high_hob = s->lba_high;
		s->lba_high = v;
		break;
	case REG_DEVICE:
		s->device = v;
		ide_irq_update(s);   /* INTRQ follows the selected device */
		break;
	case REG_STATUS_COMMAND:
		execute(s, v);
		break;
	default:
		break;
	}
}
