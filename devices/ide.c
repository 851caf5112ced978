/*
 * ide.c - the primary IDE channel of a PIIX-style PCI IDE controller with one
 * ATA hard disk (device 0, no device 1), backed by a raw image file, and its
 * bus-master DMA engine.
 *
 * References:
 *   [ATA6]  ANSI INCITS 361-2002, AT Attachment with Packet Interface - 6
 *           (ATA/ATAPI-6): registers (section 7), commands (8), protocols (9)
 *   [BMIDE] "Programming Interface for Bus Master IDE Controller", rev 1.0
 *           (SFF-8038i), as implemented by the Intel 82371 PIIX family
 *           ("Bus Master IDE Function" of the PIIX/PIIX3/PIIX4 datasheets)
 *
 * The model is one state struct (ide_priv.h) in four files:
 *   ide.c          this file: the port ranges, Device Control and resets,
 *                  INTRQ and IRQ 14, options, init/fini, save/restore, dump
 *   ide_ata.c      the command block, the ATA command set, PIO, IDENTIFY
 *   ide_dma.c      the bus-master registers and DMA engine
 *   ide_backend.c  host I/O in place or on the worker thread, disk time
 *
 * Ranges:
 *   0 = 0x1f0-0x1f7  command block (Data, Error/Features, Sector Count,
 *                    LBA Low/Mid/High, Device, Status/Command)
 *   1 = 0x3f6        control block (Alternate Status / Device Control);
 *                    0x3f7 belongs to the floppy controller and is not ours
 *   2 = BAR4, 16 ports (0xc000 after reset): the bus-master registers,
 *                    primary channel at 0-7 (Command, -, Status, -, PRD
 *                    Table Pointer), the absent secondary's at 8-15 (read 0)
 *
 * PCI function 00:01.1 (with the i440fx device's 00:00.0 and 00:01.0, the
 * PIIX3 datasheet's "IDE Function"): 8086:7010, class 01.01, prog-if 0x80
 * (bus master; both channels in compatibility mode, so the command and
 * control blocks stay at their legacy ports and IRQ 14 whatever the BARs
 * say, and Interrupt Pin reads 0).  BAR4 (BMIBA) places the bus-master
 * registers; the PCI command register's I/O Space Enable gates them (the
 * hypervisor drops the window) and Bus Master Enable gates DMA (a transfer
 * without it fails like a bad PRD table, logged).  IDETIM (0x40 primary,
 * 0x42 secondary) and SIDETIM (0x44) are writable timing registers; the
 * primary's IDE Decode Enable (bit 15) is set and the secondary's clear, so
 * a driver that honours them (Linux ata_piix) leaves the absent channel
 * alone.  No firmware runs: the function comes out of reset as a BIOS
 * leaves it - I/O decode and bus mastering enabled, BAR4 at 0xc000,
 * primary decode on.  The decode bits and timings have no other effect:
 * the legacy ports are always decoded, and the disk model's time does not
 * follow the programmed PIO or DMA timings.
 *
 * INTRQ drives ISA IRQ 14 (legacy mode).  The line carries INTRQ's level:
 * it rises when the device asserts INTRQ and falls when the host clears it
 * (a Status read, a Command write, SRST) or disables it (nIEN).
 *
 * Options (init, "key=value,key=value"; unknown keys are refused):
 *   image=PATH   the raw image file.  A relative PATH is resolved against
 *                the working directory of the process the model runs in
 *                (vmxlab for placement hv, vmxlab-dm for dm, which inherits
 *                vmxlab's).  The file is locked (flock) for the run.
 *                Without image= the disk is a scratch disk: an unlinked
 *                temporary file in $TMPDIR (or /tmp), zero-filled, gone at
 *                exit; its size is size= or 8 MiB.
 *   size=N       disk size in bytes (K, M, G, T = KiB, MiB, GiB, TiB), a
 *                multiple of 512.  With image=, a missing file is created
 *                and a shorter one extended with zeros; a longer file is
 *                left alone and only its first N bytes are the disk.
 *                Without size=, the image file must exist and its size
 *                (rounded down to whole sectors) is the disk's.
 *   dma=sync|async  how bus-master transfers are served (default sync, the
 *                seed's 2006 baseline; see "Time" below)
 *   latency=D    access time of a command that does not continue the
 *                previous one: seek + rotational latency (default 12.67ms;
 *                ns, us, ms or s, decimals allowed)
 *   rate=R       media transfer rate (default 60MB/s; B/s, KB/s, MB/s or
 *                GB/s in decimal units, as disk data sheets give it)
 *
 * Time.  Virtual time decides everything the guest sees; the host's own I/O
 * time decides nothing.  A command's modelled disk time is
 *     (LBA == where the previous media access ended ? 0 : latency)
 *     + bytes / rate
 * The defaults are a 2006 7200 rpm desktop disk: 8.5 ms average seek (data
 * sheets of the time give 8.5-8.9 ms), 4.17 ms average rotational latency
 * (half a revolution at 7200 rpm) and 60 MB/s sustained media rate; a
 * command that continues the previous one streams from the drive's
 * look-ahead buffer at media rate.  There is no write-back cache: a write
 * pays its media time, and FLUSH CACHE costs no modelled time.
 * - PIO commands and READ VERIFY are served during the access that needs
 *   the media (the Command write, the Data access that ends a block) and
 *   charge their disk time to the vCPU (vmx_platform.charge), like the
 *   synchronous device models of 2006.
 * - DMA, dma=sync: the whole transfer happens during the access that starts
 *   it (the Start write, or the Command write if Start was set first): the
 *   vCPU is charged the disk time and INTRQ rises at once.
 * - DMA, dma=async: the access snapshots the request, hands the host I/O to
 *   the device's worker thread and arms a timer at now + disk time; the vCPU
 *   goes on.  When the timer fires the model waits for the worker (it has
 *   almost always finished) and completes the command exactly as dma=sync
 *   would.  Guest memory changes only in the device's own thread, at the
 *   completion's virtual time, so runs stay deterministic.
 * In both variants the PRD table is walked when the transfer starts, the
 * data of a write is taken from guest memory then, and the data of a read
 * is placed in guest memory at completion; the guest sees the same
 * registers, interrupts and memory at every virtual time at which it can
 * look (a vCPU that is charged the disk time cannot look in between).
 *
 * Durability: a write is in the image file (pwrite) before its completion is
 * signalled; FLUSH CACHE calls fsync.  A host I/O error is an ATA error (a
 * read: ERR + UNC; a write or flush: ERR + ABRT; the LBA registers name the
 * first sector not done) and a log line.
 *
 * Modelling choices: the ATA ones head ide_ata.c, the bus-master ones
 * ide_dma.c.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE     /* mkostemp */
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vmxlab/dev.h>

#include "ide_priv.h"

#define IDE_IRQ        14
#define MAX_SECTORS    (1ull << 48)        /* 48-bit addressing */
#define SCRATCH_SIZE   (8ull << 20)
#define DEF_LATENCY_NS 12670000ull         /* 8.5 ms seek + 4.17 ms rotation */
#define DEF_RATE       60000000ull         /* bytes per second */
#define MAX_LATENCY_NS (10ull * NS_PER_S)
#define MAX_RATE       100000000000ull

#define RANGE_CMD 0
#define RANGE_CTL 1
#define RANGE_BM  2
#define BM_BASE   0xc000
#define BM_LEN    16             /* PIIX3 BMIBA: both channels' registers */

/* PIIX3 IDE function registers past the PCI header. */
#define PCI_IDETIM_PRI  0x40     /* 16 bits, bit 15 IDE Decode Enable */
#define PCI_IDETIM_SEC  0x42
#define PCI_SIDETIM     0x44
#define IDETIM_IDE      0x8000

static const char *const phase_name[PH_COUNT] = {
	"idle", "pio-in", "pio-out", "dma-wait", "dma-busy", "reset",
};

/* ---------------------------------------------------------------- interrupts */

/* INTRQ reaches IRQ 14 when pending, enabled (nIEN = 0), device 0 selected
 * and not in reset; each rising edge sets bus-master Interrupt. */
void ide_irq_update(struct ide_state *s)
{
	bool level = s->intrq && !(s->control & CTL_NIEN) && !(s->device & DEV_DEV) &&
		     s->phase != PH_RESET;

	if (level == s->line)
		return;
	s->line = level;
	if (level)
		s->bm_status |= BM_ST_INTR;
	s->plat->set_irq(s->plat->ctx, IDE_IRQ, level);
}

void ide_raise_intrq(struct ide_state *s)
{
	s->intrq = true;
	ide_irq_update(s);
}

void ide_clear_intrq(struct ide_state *s)
{
	s->intrq = false;
	ide_irq_update(s);
}

/* ---------------------------------------------------------------- resets */

/* The PCI function as a BIOS leaves it (see the top of the file). */
static void pci_reset(struct ide_state *s)
{
	struct pci_cfg *c = &s->pci;

	pci_cfg_init(c, 0x8086, 0x7010, 0x010180, 0x00, 0x00);
	pci_cfg_bar(c, 4, BM_LEN, true, false, BM_BASE);
	c->regs[PCI_COMMAND] = PCI_CMD_IO | PCI_CMD_MASTER;
	memset(c->wmask + PCI_IDETIM_PRI, 0xff, PCI_SIDETIM - PCI_IDETIM_PRI + 1);
	c->regs[PCI_IDETIM_PRI + 1] = IDETIM_IDE >> 8;
}

static uint32_t ide_cfg_read(void *opaque, unsigned fn, unsigned off, unsigned size)
{
	struct ide_state *s = opaque;

	return fn == 0 ? pci_cfg_read(&s->pci, off, size) : 0xffffffffu;
}

static void ide_cfg_write(void *opaque, unsigned fn, unsigned off, unsigned size, uint32_t val)
{
	struct ide_state *s = opaque;

	if (fn == 0)
		pci_cfg_write(&s->pci, off, size, val);
}

/* Abandon whatever the channel is doing (for SRST, reset, restore, fini). */
static void abandon(struct ide_state *s)
{
	if (s->phase == PH_DMA_BUSY)
		ide_dma_cancel(s);
	ide_free_bounce(s);
	s->phase = PH_IDLE;
	s->buf_pos = s->buf_len = 0;
	s->xfer_left = 0;
}

/* The end of a software reset ([ATA6] 9.2). */
static void srst_done(struct ide_state *s)
{
	ide_set_signature(s);
	s->status = ST_READY;
	s->phase = PH_IDLE;
	s->intrq = false;
	if (s->revert) {
		s->mult = 0;
		s->xfer_mode = XFER_PIO_DEFAULT;
		s->lookahead = true;
	}
	ide_irq_update(s);
}

static void ide_reset(void *opaque)
{
	struct ide_state *s = opaque;

	abandon(s);
	s->feature = s->feature_hob = 0;
	s->nsector_hob = s->lba_low_hob = s->lba_mid_hob = s->lba_high_hob = 0;
	s->control = 0;
	s->command = 0;
	s->mult = 0;
	s->xfer_mode = XFER_PIO_DEFAULT;
	s->lookahead = true;
	s->revert = false;
	s->xflags = 0;
	s->xfer_lba = 0;
	s->xfer_bs = 0;
	s->next_seq = NEVER;
	s->bm_cmd = 0;
	s->bm_status = 0;
	s->bm_prdt = 0;
	s->bm_armed = false;
	s->deadline = NEVER;
	memset(&s->job, 0, sizeof(s->job));
	memset(s->buf, 0, sizeof(s->buf));
	memset(&s->stats, 0, sizeof(s->stats));
	pci_reset(s);
	srst_done(s);
}

static void write_control(struct ide_state *s, uint8_t v)
{
	bool was = s->control & CTL_SRST;

	s->control = v & (CTL_HOB | CTL_SRST | CTL_NIEN);
	if ((v & CTL_SRST) && !was) {
		abandon(s);
		s->phase = PH_RESET;
		s->status = ST_BSY;
		s->intrq = false;
	} else if (!(v & CTL_SRST) && was) {
		srst_done(s);
	}
	ide_irq_update(s);
}

/* ---------------------------------------------------------------- registers */

static bool access_ok(struct ide_state *s, unsigned range, unsigned size, const char *what)
{
	if (range <= RANGE_BM && (size == 1 || size == 2 || size == 4))
		return true;
	ide_log(s, "bad %s: range %u size %u", what, range, size);
	return false;
}

static uint32_t ide_pio_read(void *opaque, unsigned range, uint16_t off, unsigned size)
{
	struct ide_state *s = opaque;
	uint32_t v = 0;

	if (!access_ok(s, range, size, "read"))
		return 0xffffffff;
	if (range == RANGE_CMD && off == REG_DATA) {
		v = ide_data_read_word(s);
		if (size == 4)
			v |= (uint32_t)ide_data_read_word(s) << 16;
		else if (size == 1)
			v &= 0xff;
		return v;
	}
	for (unsigned i = 0; i < size; i++) {
		unsigned o = (unsigned)off + i;
		uint8_t b;

		if (range == RANGE_CMD)
			b = o < 8 ? ide_cmd_read(s, o) : 0xff;
		else if (range == RANGE_CTL)
			b = o == 0 ? (s->device & DEV_DEV ? 0x00 : s->status) : 0xff;
		else
			b = o < 8 ? ide_bm_read(s, o) : o < BM_LEN ? 0 : 0xff;
		v |= (uint32_t)b << (8 * i);
	}
	return v;
}

static void ide_pio_write(void *opaque, unsigned range, uint16_t off, unsigned size, uint32_t val)
{
	struct ide_state *s = opaque;

	if (!access_ok(s, range, size, "write"))
		return;
	if (range == RANGE_CMD && off == REG_DATA) {
		if (s->status & ST_BSY)
			return;
		s->control &= (uint8_t)~CTL_HOB;
		ide_data_write_word(s, (uint16_t)(size == 1 ? val & 0xff : val));
		if (size == 4)
			ide_data_write_word(s, (uint16_t)(val >> 16));
		return;
	}
	for (unsigned i = 0; i < size; i++) {
		unsigned o = (unsigned)off + i;
		uint8_t b = (uint8_t)(val >> (8 * i));

		if (range == RANGE_CMD) {
			if (o < 8)
				ide_cmd_write(s, o, b);
		} else if (range == RANGE_CTL) {
			if (o == 0)
				write_control(s, b);
		} else if (o < 8) {
			ide_bm_write(s, o, b);
		}
	}
}

/* ---------------------------------------------------------------- options */

/* A decimal number with an optional fraction, times `unit`, rounded down. */
static bool parse_scaled(const char *p, const char **end, uint64_t unit, uint64_t *out)
{
	uint64_t ip = 0, frac = 0, div = 1;
	bool digits = false;

	while (*p >= '0' && *p <= '9') {
		if (ip > (UINT64_MAX - 9) / 10)
			return false;
		ip = ip * 10 + (uint64_t)(*p++ - '0');
		digits = true;
	}
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9') {
			if (div < 1000000000ull) {
				frac = frac * 10 + (uint64_t)(*p - '0');
				div *= 10;
			}
			p++;
			digits = true;
		}
	}
	if (!digits || (unit && ip > UINT64_MAX / unit))
		return false;
	*out = ip * unit + (unsigned __int128)frac * unit / div;
	*end = p;
	return true;
}

struct unit {
	const char *suffix;
	uint64_t scale;
};

/* NUMBER followed by exactly one of the suffixes. */
static bool parse_with_units(const char *v, const struct unit *units, uint64_t *out)
{
	for (const struct unit *u = units; u->suffix; u++) {
		size_t vl = strlen(v), sl = strlen(u->suffix);
		const char *end;
		char num[64];

		if (vl <= sl || vl - sl >= sizeof(num) || strcmp(v + vl - sl, u->suffix))
			continue;
		memcpy(num, v, vl - sl);
		num[vl - sl] = '\0';
		if (parse_scaled(num, &end, u->scale, out) && *end == '\0')
			return true;
	}
	return false;
}

static const struct unit duration_units[] = {
	{ "ns", 1 }, { "us", 1000 }, { "ms", 1000000 }, { "s", NS_PER_S }, { NULL, 0 },
};

static const struct unit rate_units[] = {
	{ "KB/s", 1000 }, { "MB/s", 1000000 }, { "GB/s", 1000000000 }, { "B/s", 1 }, { NULL, 0 },
};

static const struct unit size_units[] = {
	{ "K", 1ull << 10 }, { "M", 1ull << 20 }, { "G", 1ull << 30 }, { "T", 1ull << 40 }, { "", 1 },
	{ NULL, 0 },
};

struct ide_options {
	char image[sizeof(((struct ide_state *)0)->image)];
	uint64_t size;      /* 0: not given */
	bool async;
	uint64_t latency_ns;
	uint64_t rate;
};

static int parse_options(struct ide_state *s, const char *options, struct ide_options *o)
{
	char buf[1024];
	char *save = NULL;

	*o = (struct ide_options){ .latency_ns = DEF_LATENCY_NS, .rate = DEF_RATE };
	if (!options || !*options)
		return 0;
	if (strlen(options) >= sizeof(buf)) {
		ide_log(s, "options too long");
		return -1;
	}
	strcpy(buf, options);
	for (char *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');
		const char *v;

		if (!eq) {
			ide_log(s, "option \"%s\" is not key=value", kv);
			return -1;
		}
		*eq = '\0';
		v = eq + 1;
		if (!strcmp(kv, "image")) {
			if (!*v || strlen(v) >= sizeof(o->image)) {
				ide_log(s, "image= needs a path of 1-%zu bytes", sizeof(o->image) - 1);
				return -1;
			}
			strcpy(o->image, v);
		} else if (!strcmp(kv, "size")) {
			if (!parse_with_units(v, size_units, &o->size) || o->size == 0 || o->size % SECTOR ||
			    o->size / SECTOR > MAX_SECTORS) {
				ide_log(s, "size=%s: want a multiple of 512 bytes up to 128 PiB, e.g. 64M", v);
				return -1;
			}
		} else if (!strcmp(kv, "dma")) {
			if (strcmp(v, "sync") && strcmp(v, "async")) {
				ide_log(s, "dma=%s: want sync or async", v);
				return -1;
			}
			o->async = !strcmp(v, "async");
		} else if (!strcmp(kv, "latency")) {
			if (!parse_with_units(v, duration_units, &o->latency_ns) || o->latency_ns > MAX_LATENCY_NS) {
				ide_log(s, "latency=%s: want a duration up to 10s, e.g. 12.67ms", v);
				return -1;
			}
		} else if (!strcmp(kv, "rate")) {
			if (!parse_with_units(v, rate_units, &o->rate) || o->rate == 0 || o->rate > MAX_RATE) {
				ide_log(s, "rate=%s: want a transfer rate like 60MB/s (B/s, KB/s, MB/s, GB/s)", v);
				return -1;
			}
		} else {
			ide_log(s, "unknown option \"%s\" (known: image, size, dma, latency, rate)", kv);
			return -1;
		}
	}
	return 0;
}

static int open_scratch(struct ide_state *s, uint64_t size)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/vmxlab-ide-XXXXXX", dir && *dir ? dir : "/tmp");
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0) {
		ide_log(s, "cannot create a scratch disk in %s: %s", dir && *dir ? dir : "/tmp", strerror(errno));
		return -1;
	}
	unlink(path);
	if (ftruncate(fd, (off_t)size)) {
		ide_log(s, "cannot size the scratch disk: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int open_image(struct ide_state *s, const struct ide_options *o, uint64_t *size)
{
	struct stat st;
	int fd = open(o->image, O_RDWR | O_CLOEXEC | (o->size ? O_CREAT : 0), 0644);

	if (fd < 0) {
		ide_log(s, "cannot open image %s: %s%s", o->image, strerror(errno),
			errno == ENOENT && !o->size ? " (size= creates it)" : "");
		return -1;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		ide_log(s, "image %s is not a regular file", o->image);
		close(fd);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		ide_log(s, "image %s is in use by another process", o->image);
		close(fd);
		return -1;
	}
	if (o->size && (uint64_t)st.st_size < o->size && ftruncate(fd, (off_t)o->size)) {
		ide_log(s, "cannot extend image %s to %llu bytes: %s", o->image,
			(unsigned long long)o->size, strerror(errno));
		close(fd);
		return -1;
	}
	*size = o->size ? o->size : (uint64_t)st.st_size / SECTOR * SECTOR;
	if (*size < SECTOR || *size / SECTOR > MAX_SECTORS) {
		ide_log(s, "image %s: %llu bytes is not a disk (1 sector to 2^48 sectors)", o->image,
			(unsigned long long)st.st_size);
		close(fd);
		return -1;
	}
	return fd;
}

/* ---------------------------------------------------------------- lifecycle */

static int ide_init(void *opaque, const struct vmx_platform *plat, const char *options)
{
	struct ide_state *s = opaque;
	struct ide_options o;
	uint64_t size = 0;
	uint64_t cyls;

	s->plat = plat;
	s->fd = -1;
	s->timer = -1;
	if (parse_options(s, options, &o))
		return -1;
	s->regions = calloc(PRD_MAX, sizeof(*s->regions));
	if (!s->regions)
		return -1;
	s->scratch = !o.image[0];
	if (s->scratch) {
		size = o.size ? o.size : SCRATCH_SIZE;
		s->fd = open_scratch(s, size);
	} else {
		snprintf(s->image, sizeof(s->image), "%s", o.image);
		s->fd = open_image(s, &o, &size);
	}
	if (s->fd < 0)
		goto fail;
	s->sectors = size / SECTOR;
	cyls = s->sectors / (CHS_HEADS * CHS_SPT);
	s->cyls = (uint32_t)(cyls > CHS_MAX_CYLS ? CHS_MAX_CYLS : cyls);
	s->dma_async = o.async;
	s->latency_ns = o.latency_ns;
	s->rate = o.rate;
	s->timer = plat->timer_new(plat->ctx, ide_timer_fired, s);
	if (s->timer < 0) {
		ide_log(s, "no platform timer for DMA completion");
		goto fail;
	}
	if (pthread_mutex_init(&s->worker.lock, NULL))
		goto fail;
	if (pthread_cond_init(&s->worker.cond, NULL)) {
		pthread_mutex_destroy(&s->worker.lock);
		goto fail;
	}
	s->worker.fd = s->fd;
	s->worker_init = true;
	ide_reset(s);
	return 0;
fail:
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	free(s->regions);
	s->regions = NULL;
	return -1;
}

static void ide_fini(void *opaque)
{
	struct ide_state *s = opaque;

	if (s->worker_init)
		abandon(s);
	ide_worker_stop(s);
	ide_free_bounce(s);
	if (s->timer >= 0)
		s->plat->timer_cancel(s->plat->ctx, s->timer);
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	free(s->regions);
	s->regions = NULL;
}

/* ---------------------------------------------------------------- save/restore */

#define IDE_IMAGE_MAGIC   0x20454449u /* "IDE " */
#define IDE_IMAGE_VERSION 2   /* 2: the PCI function's registers */

#define IMG_INTRQ     0x01
#define IMG_LOOKAHEAD 0x02
#define IMG_REVERT    0x04
#define IMG_ARMED     0x08
#define IMG_EXHAUSTED 0x10
#define IMG_FLAGS     0x1f

/*
 * The image.  An asynchronous transfer in flight is saved by waiting for the
 * worker and keeping the command and its host result: a write's data is
 * already in the file; a read is read again at restore and its PRD table
 * walked again from guest memory (restored with the machine).
 */
struct ide_image {
	uint32_t magic;
	uint16_t version;
	uint16_t size;
	uint64_t sectors;
	uint64_t xfer_lba, next_seq, deadline;
	uint64_t stats[6];
	uint32_t xfer_left, buf_pos, buf_len, bm_prdt;
	int32_t job_err;
	uint32_t job_done;
	uint16_t xfer_bs;
	uint8_t feature[2], nsector[2], lba_low[2], lba_mid[2], lba_high[2];
	uint8_t device, status, error, control, command, mult, xfer_mode, phase;
	uint8_t xflags, bm_cmd, bm_status, flags;
	uint8_t pad[4];
	uint8_t buf[MAX_MULT * SECTOR];
	uint8_t pci[256];
};

_Static_assert(sizeof(struct ide_image) == 8592, "ide image layout is fixed");

static long ide_save(const void *opaque, void *out, size_t len)
{
	/* Waiting for the worker changes no guest-visible state. */
	struct ide_state *s = (struct ide_state *)opaque;
	struct ide_image *img;

	if (len < sizeof(*img))
		return -1;
	img = calloc(1, sizeof(*img));
	if (!img)
		return -1;
	if (s->phase == PH_DMA_BUSY)
		ide_worker_wait(s);
	img->magic = IDE_IMAGE_MAGIC;
	img->version = IDE_IMAGE_VERSION;
	img->size = sizeof(*img);
	img->sectors = s->sectors;
	img->xfer_lba = s->xfer_lba;
	img->next_seq = s->next_seq;
	img->deadline = s->deadline;
	img->stats[0] = s->stats.commands;
	img->stats[1] = s->stats.sectors_read;
	img->stats[2] = s->stats.sectors_written;
	img->stats[3] = s->stats.dma_transfers;
	img->stats[4] = s->stats.errors;
	img->stats[5] = s->stats.flushes;
	img->xfer_left = s->xfer_left;
	img->buf_pos = s->buf_pos;
	img->buf_len = s->buf_len;
	img->bm_prdt = s->bm_prdt;
	img->job_err = s->phase == PH_DMA_BUSY ? s->job.err : 0;
	img->job_done = s->phase == PH_DMA_BUSY ? (uint32_t)s->job.done : 0;
	img->xfer_bs = s->xfer_bs;
	img->feature[0] = s->feature;
	img->feature[1] = s->feature_hob;
	img->nsector[0] = s->nsector;
	img->nsector[1] = s->nsector_hob;
	img->lba_low[0] = s->lba_low;
	img->lba_low[1] = s->lba_low_hob;
	img->lba_mid[0] = s->lba_mid;
	img->lba_mid[1] = s->lba_mid_hob;
	img->lba_high[0] = s->lba_high;
	img->lba_high[1] = s->lba_high_hob;
	img->device = s->device;
	img->status = s->status;
	img->error = s->error;
	img->control = s->control;
	img->command = s->command;
	img->mult = s->mult;
	img->xfer_mode = s->xfer_mode;
	img->phase = (uint8_t)s->phase;
	img->xflags = s->xflags;
	img->bm_cmd = s->bm_cmd;
	img->bm_status = s->bm_status;
	img->flags = (uint8_t)((s->intrq ? IMG_INTRQ : 0) | (s->lookahead ? IMG_LOOKAHEAD : 0) |
			       (s->revert ? IMG_REVERT : 0) | (s->bm_armed ? IMG_ARMED : 0) |
			       (s->exhausted ? IMG_EXHAUSTED : 0));
	memcpy(img->buf, s->buf, sizeof(img->buf));
	memcpy(img->pci, s->pci.regs, sizeof(img->pci));
	memcpy(out, img, sizeof(*img));
	free(img);
	return (long)sizeof(struct ide_image);
}

static bool image_ok(const struct ide_state *s, const struct ide_image *img)
{
	bool pio = img->phase == PH_PIO_IN || img->phase == PH_PIO_OUT;
	bool dma = img->phase == PH_DMA_WAIT || img->phase == PH_DMA_BUSY;

	if (img->magic != IDE_IMAGE_MAGIC || img->version != IDE_IMAGE_VERSION || img->size != sizeof(*img))
		return false;
	if (img->sectors != s->sectors || img->phase >= PH_COUNT || (img->flags & ~IMG_FLAGS) ||
	    (img->bm_prdt & 3) || (img->bm_cmd & ~(BM_CMD_START | BM_CMD_RWCON)) ||
	    (img->bm_status & 0x98) || (img->control & ~(CTL_HOB | CTL_SRST | CTL_NIEN)) ||
	    img->mult > MAX_MULT || (img->mult & (img->mult - 1)) || !ide_xfer_mode_ok(img->xfer_mode) ||
	    img->buf_pos > img->buf_len || img->buf_len > sizeof(img->buf) || (img->buf_pos & 1) ||
	    (img->buf_len % SECTOR))
		return false;
	if ((img->phase == PH_RESET) != !!(img->control & CTL_SRST))
		return false;
	if (pio && (img->buf_len == 0 || img->buf_pos == img->buf_len || img->xfer_bs > MAX_MULT))
		return false;
	if (img->phase == PH_DMA_BUSY && !(img->bm_cmd & BM_CMD_START))
		return false;
	if ((pio || dma) && (img->xflags & XF_DISK)) {
		uint64_t room = img->xfer_lba <= s->sectors ? s->sectors - img->xfer_lba : 0;
		uint64_t block = img->buf_len / SECTOR;

		if (img->xfer_lba > s->sectors)
			return false;
		if (dma && (img->xfer_left == 0 || img->xfer_left > 65536 || img->xfer_left > room))
			return false;
		/* PIO: the block in buf, then xfer_left more (data-in), or
		 * xfer_left including the block (data-out). */
		if (pio && (img->xfer_bs == 0 || block > img->xfer_bs))
			return false;
		if (img->phase == PH_PIO_IN && block + img->xfer_left > room)
			return false;
		if (img->phase == PH_PIO_OUT && (block > img->xfer_left || img->xfer_left > room))
			return false;
	} else if (dma || img->phase == PH_PIO_OUT) {
		return false;
	}
	if (img->phase == PH_DMA_BUSY && (img->job_err < 0 || img->job_done > img->xfer_left * SECTOR))
		return false;
	return true;
}

static int ide_restore(void *opaque, const void *in, size_t len)
{
	struct ide_state *s = opaque;
	struct ide_image *img;

	if (len != sizeof(*img))
		return -1;
	img = malloc(sizeof(*img));
	if (!img)
		return -1;
	memcpy(img, in, sizeof(*img));
	struct pci_cfg pci = s->pci;
	if (!image_ok(s, img) || pci_cfg_restore(&pci, img->pci)) {
		ide_log(s, "restore: not an image of this disk, or out of range");
		free(img);
		return -1;
	}
	abandon(s);
	s->pci = pci;
	s->xfer_lba = img->xfer_lba;
	s->next_seq = img->next_seq;
	s->deadline = img->deadline;
	s->stats = (struct ide_stats){ img->stats[0], img->stats[1], img->stats[2],
				       img->stats[3], img->stats[4], img->stats[5] };
	s->xfer_left = img->xfer_left;
	s->buf_pos = img->buf_pos;
	s->buf_len = img->buf_len;
	s->bm_prdt = img->bm_prdt;
	s->xfer_bs = img->xfer_bs;
	s->feature = img->feature[0];
	s->feature_hob = img->feature[1];
	s->nsector = img->nsector[0];
	s->nsector_hob = img->nsector[1];
	s->lba_low = img->lba_low[0];
	s->lba_low_hob = img->lba_low[1];
	s->lba_mid = img->lba_mid[0];
	s->lba_mid_hob = img->lba_mid[1];
	s->lba_high = img->lba_high[0];
	s->lba_high_hob = img->lba_high[1];
	s->device = img->device;
	s->status = img->status;
	s->error = img->error;
	s->control = img->control;
	s->command = img->command;
	s->mult = img->mult;
	s->xfer_mode = img->xfer_mode;
	s->phase = (enum ide_phase)img->phase;
	s->xflags = img->xflags;
	s->bm_cmd = img->bm_cmd;
	s->bm_status = img->bm_status;
	s->intrq = img->flags & IMG_INTRQ;
	s->lookahead = img->flags & IMG_LOOKAHEAD;
	s->revert = img->flags & IMG_REVERT;
	s->bm_armed = img->flags & IMG_ARMED;
	s->exhausted = img->flags & IMG_EXHAUSTED;
	memcpy(s->buf, img->buf, sizeof(s->buf));
	if (s->phase == PH_DMA_BUSY) {
		/* The transfer completes at its deadline, as it would have. */
		bool write = s->xflags & XF_WRITE;
		uint64_t blen = (uint64_t)s->xfer_left * SECTOR;
		const char *why = ide_prd_walk(s, blen);

		s->job = (struct ide_job){ .op = write ? JOB_WRITE : JOB_READ, .offset = s->xfer_lba * SECTOR,
					   .len = blen, .err = img->job_err, .done = img->job_done };
		s->bounce = why ? NULL : malloc(blen);
		if (!s->bounce) {
			/* Complete with a DMA error at the deadline. */
			s->job.err = 0;
			s->nregions = 0;
		} else {
			s->bounce_len = blen;
			s->job.buf = s->bounce;
			if (!write && !s->job.err)
				ide_job_run(&s->job, s->fd);
		}
		s->plat->timer_arm(s->plat->ctx, s->timer, s->deadline);
	}
	free(img);
	ide_irq_update(s);
	return 0;
}

/* ---------------------------------------------------------------- dump */

static const char *xfer_name(uint8_t v, char *buf, size_t len)
{
	switch (v & 0xf8) {
	case XFER_PIO_FC:
		snprintf(buf, len, "pio%u", v & 7);
		break;
	case XFER_MWDMA:
		snprintf(buf, len, "mwdma%u", v & 7);
		break;
	case XFER_UDMA:
		snprintf(buf, len, "udma%u", v & 7);
		break;
	default:
		snprintf(buf, len, "pio-default");
		break;
	}
	return buf;
}

static void ide_dump(const void *opaque, FILE *out)
{
	const struct ide_state *s = opaque;
	char mode[16];

	fprintf(out, "ide disk %llu sectors (%llu KiB) image=%s dma=%s latency=%lluns rate=%lluB/s chs=%u/%u/%u\n",
		(unsigned long long)s->sectors, (unsigned long long)(s->sectors / 2),
		s->scratch ? "(scratch)" : s->image, s->dma_async ? "async" : "sync",
		(unsigned long long)s->latency_ns, (unsigned long long)s->rate, s->cyls, CHS_HEADS, CHS_SPT);
	fprintf(out, "ide ata status=%02x error=%02x feature=%02x/%02x count=%02x/%02x "
		"lba=%02x%02x%02x/%02x%02x%02x device=%02x control=%02x command=%02x\n",
		s->status, s->error, s->feature, s->feature_hob, s->nsector, s->nsector_hob,
		s->lba_high, s->lba_mid, s->lba_low, s->lba_high_hob, s->lba_mid_hob, s->lba_low_hob,
		s->device, s->control, s->command);
	fprintf(out, "ide phase=%s intrq=%d irq14=%d mult=%u xfer=%s lookahead=%d revert=%d",
		phase_name[s->phase], s->intrq, s->line, s->mult, xfer_name(s->xfer_mode, mode, sizeof(mode)),
		s->lookahead, s->revert);
	if (s->phase != PH_IDLE && s->phase != PH_RESET)
		fprintf(out, " lba=%llu left=%u block=%u data=%u/%u",
			(unsigned long long)s->xfer_lba, s->xfer_left, s->xfer_bs, s->buf_pos, s->buf_len);
	if (s->phase == PH_DMA_BUSY)
		fprintf(out, " completes-at=%llu ns", (unsigned long long)s->deadline);
	fputc('\n', out);
	fprintf(out, "ide bus-master command=%02x status=%02x prdt=%08x armed=%d\n",
		s->bm_cmd, s->bm_status, s->bm_prdt, s->bm_armed);
	pci_cfg_dump(&s->pci, "ide 00:01.1 PIIX3 IDE", out);
	fprintf(out, "ide IDETIM primary=%04x secondary=%04x SIDETIM=%02x\n",
		pci_cfg_read(&s->pci, PCI_IDETIM_PRI, 2), pci_cfg_read(&s->pci, PCI_IDETIM_SEC, 2),
		pci_cfg_read(&s->pci, PCI_SIDETIM, 1));
	fprintf(out, "ide stats commands=%llu read=%llu written=%llu dma=%llu errors=%llu flushes=%llu\n",
		(unsigned long long)s->stats.commands, (unsigned long long)s->stats.sectors_read,
		(unsigned long long)s->stats.sectors_written, (unsigned long long)s->stats.dma_transfers,
		(unsigned long long)s->stats.errors, (unsigned long long)s->stats.flushes);
}

const struct vmx_dev_ops ide_dev_ops = {
	.name = "ide",
	.state_size = sizeof(struct ide_state),
	.init = ide_init,
	.fini = ide_fini,
	.reset = ide_reset,
	.pio_read = ide_pio_read,
	.pio_write = ide_pio_write,
	.save = ide_save,
	.restore = ide_restore,
	.dump = ide_dump,
	.nranges = 3,
	.ranges = {
		[RANGE_CMD] = { .base = 0x1f0, .len = 8 },
		[RANGE_CTL] = { .base = 0x3f6, .len = 1 },
		[RANGE_BM] = { .base = BM_BASE, .len = BM_LEN, .bar = VMX_DEV_BAR(4) },
	},
	.cfg_read = ide_cfg_read,
	.cfg_write = ide_cfg_write,
	.npci = 1,
	.pci_devfn = { PCI_DEVFN(1, 1) },
};
