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
 * Ranges (fixed: vmxlab has no PCI configuration space, so the guest driver
 * uses the bus-master base below instead of reading BAR4):
 *   0 = 0x1f0-0x1f7  command block (Data, Error/Features, Sector Count,
 *                    LBA Low/Mid/High, Device, Status/Command)
 *   1 = 0x3f6        control block (Alternate Status / Device Control);
 *                    0x3f7 belongs to the floppy controller and is not ours
 *   2 = 0xc000-0xc007 bus-master registers of the primary channel
 *                    (Command, -, Status, -, PRD Table Pointer)
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

#define IDE_IRQ        14
#define SECTOR         512u
#define MAX_MULT       16u                 /* IDENTIFY word 47: READ/WRITE MULTIPLE block limit */
#define NS_PER_S       1000000000ull
#define NEVER          UINT64_MAX
#define MAX_SECTORS    (1ull << 48)        /* 48-bit addressing */
#define SCRATCH_SIZE   (8ull << 20)
#define DEF_LATENCY_NS 12670000ull         /* 8.5 ms seek + 4.17 ms rotation */
#define DEF_RATE       60000000ull         /* bytes per second */
#define MAX_LATENCY_NS (10ull * NS_PER_S)
#define MAX_RATE       100000000000ull
#define VERIFY_CHUNK   (64u * 1024u)

/* Default CHS translation (IDENTIFY words 1, 3, 6). */
#define CHS_HEADS      16u
#define CHS_SPT        63u
#define CHS_MAX_CYLS   16383u

#define RANGE_CMD 0
#define RANGE_CTL 1
#define RANGE_BM  2
#define BM_BASE   0xc000

/* Command block offsets ([ATA6] 7.1, Table 6). */
enum {
	REG_DATA = 0,
	REG_ERROR_FEATURE = 1,
	REG_NSECTOR = 2,
	REG_LBA_LOW = 3,
	REG_LBA_MID = 4,
	REG_LBA_HIGH = 5,
	REG_DEVICE = 6,
	REG_STATUS_COMMAND = 7,
};

/*
 * Status register ([ATA6] 7.15):
 *
 *     7     6      5     4      3     2      1     0
 *   +-----+------+----+------+-----+------+-----+-----+
 *   | BSY | DRDY | DF | DSC  | DRQ | obs  | obs | ERR |
 *   +-----+------+----+------+-----+------+-----+-----+
 *   DSC (Device Seek Complete) is obsolete in ATA-6 (bit 4 is "command
 *   dependent"); like the drives of 2006 the model keeps it set when ready.
 */
#define ST_BSY  0x80
#define ST_DRDY 0x40
#define ST_DF   0x20
#define ST_DSC  0x10
#define ST_DRQ  0x08
#define ST_ERR  0x01
#define ST_READY (ST_DRDY | ST_DSC)
#define ST_DATA  (ST_DRDY | ST_DSC | ST_DRQ)
#define ST_BUSY  (ST_BSY | ST_DRDY | ST_DSC)

/*
 * Error register ([ATA6] 7.11):
 *
 *     7      6     5    4      3     2      1    0
 *   +------+-----+----+------+-----+------+----+-----+
 *   | ICRC | UNC | MC | IDNF | MCR | ABRT | NM | obs |
 *   +------+-----+----+------+-----+------+----+-----+
 *   After a reset or EXECUTE DEVICE DIAGNOSTIC it holds the diagnostic
 *   code instead: 01h = device 0 passed, device 1 not present.
 */
#define ER_UNC  0x40
#define ER_IDNF 0x10
#define ER_ABRT 0x04
#define DIAG_PASSED 0x01

/*
 * Device register ([ATA6] 7.10):
 *
 *     7     6     5     4     3    2    1    0
 *   +-----+-----+-----+-----+----+----+----+----+
 *   | obs | LBA | obs | DEV |  LBA 27:24 / head |
 *   +-----+-----+-----+-----+----+----+----+----+
 */
#define DEV_LBA 0x40
#define DEV_DEV 0x10

/*
 * Device Control register ([ATA6] 7.9):
 *
 *     7     6    5    4    3    2      1     0
 *   +-----+----+----+----+----+------+------+---+
 *   | HOB | r  | r  | r  | r  | SRST | nIEN | 0 |
 *   +-----+----+----+----+----+------+------+---+
 */
#define CTL_HOB  0x80
#define CTL_SRST 0x04
#define CTL_NIEN 0x02

/*
 * Bus Master IDE Command register (BMIBA + 0, [BMIDE]):
 *
 *     7   6   5   4     3     2   1     0
 *   +---+---+---+---+-------+---+---+-------+
 *   |     reserved  | RWCON |  rsvd | START |
 *   +---+---+---+---+-------+---+---+-------+
 *   RWCON: 1 = the bus master writes memory (a disk read)
 */
#define BM_CMD_START 0x01
#define BM_CMD_RWCON 0x08

/*
 * Bus Master IDE Status register (BMIBA + 2, [BMIDE]):
 *
 *      7        6       5      4   3     2       1       0
 *   +--------+-------+-------+---+---+-------+-------+--------+
 *   | SIMPLX | DRV1  | DRV0  | rsvd  | INTR  | ERROR | ACTIVE |
 *   |  (RO)  |DMA cap|DMA cap|       | (RWC) | (RWC) |  (RO)  |
 *   +--------+-------+-------+---+---+-------+-------+--------+
 */
#define BM_ST_ACTIVE 0x01
#define BM_ST_ERROR  0x02
#define BM_ST_INTR   0x04
#define BM_ST_CAP    0x60

/*
 * Physical Region Descriptor ([BMIDE], PIIX "Physical Region Descriptor
 * Table Entry"), 8 bytes, little-endian:
 *
 *   dword 0:  | memory region physical base address [31:1] | 0 |
 *   dword 1:  | EOT | reserved [30:16] | byte count [15:1] | 0 |
 *   A byte count of 0 means 64 KiB.
 */
#define PRD_EOT        0x80000000u
#define PRD_TABLE_SPAN 0x10000u
#define PRD_MAX        (PRD_TABLE_SPAN / 8)

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

/* Transfer mode values (Sector Count of SET FEATURES 03h). */
#define XFER_PIO_DEFAULT 0x00
#define XFER_PIO_NOIORDY 0x01
#define XFER_PIO_FC      0x08   /* | mode 0-4 */
#define XFER_MWDMA       0x20   /* | mode 0-2 */
#define XFER_UDMA        0x40   /* | mode 0-5 */

/* What the channel is doing. */
enum ide_phase {
	PH_IDLE = 0,      /* no command: ready, or ended with an error */
	PH_PIO_IN,        /* DRQ: a block for the host to read */
	PH_PIO_OUT,       /* DRQ: a block for the host to write */
	PH_DMA_WAIT,      /* DRQ: a DMA command waits for the bus master */
	PH_DMA_BUSY,      /* BSY: an asynchronous DMA transfer is in flight */
	PH_RESET,         /* SRST asserted */
	PH_COUNT
};

static const char *const phase_name[PH_COUNT] = {
	"idle", "pio-in", "pio-out", "dma-wait", "dma-busy", "reset",
};

/* Flags of the command in progress. */
#define XF_EXT    0x01     /* 48-bit command */
#define XF_CHS    0x02     /* 28-bit command with CHS addressing */
#define XF_WRITE  0x04     /* data from the host to the disk */
#define XF_DISK   0x08     /* PIO data comes from the disk (not IDENTIFY) */

/* A region of guest memory taken from the PRD table. */
struct ide_region {
	uint64_t gpa;
	uint32_t len;
};

/* Host I/O handed to the worker (or run in place for dma=sync). */
enum { JOB_READ = 1, JOB_WRITE = 2 };
enum { W_IDLE = 0, W_QUEUED, W_DONE };

struct ide_job {
	int op;
	uint64_t offset;
	size_t len;
	uint8_t *buf;
	int err;            /* 0 or an errno value (EIO for a short read) */
	size_t done;        /* bytes done before the error */
};

struct ide_worker {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool started;       /* the thread exists (created at the first job) */
	bool quit;
	int state;          /* W_IDLE, W_QUEUED, W_DONE */
	int fd;
	struct ide_job job; /* owned by the worker while W_QUEUED */
};

struct ide_stats {
	uint64_t commands, sectors_read, sectors_written, dma_transfers, errors, flushes;
};

struct ide_state {
	const struct vmx_platform *plat;

	/* configuration (init) */
	int fd;
	uint64_t sectors;
	bool scratch;
	char image[160];
	bool dma_async;
	uint64_t latency_ns;
	uint64_t rate;      /* bytes per second */
	uint32_t cyls;      /* default CHS geometry */

	/* ATA task file ([ATA6] 7): *_hob is the "previous content" */
	uint8_t feature, feature_hob;
	uint8_t nsector, nsector_hob;
	uint8_t lba_low, lba_low_hob;
	uint8_t lba_mid, lba_mid_hob;
	uint8_t lba_high, lba_high_hob;
	uint8_t device;
	uint8_t status;
	uint8_t error;
	uint8_t control;
	uint8_t command;    /* the last command accepted */

	/* device settings */
	uint8_t mult;       /* READ/WRITE MULTIPLE block, 0 = disabled */
	uint8_t xfer_mode;  /* last SET FEATURES 03h value */
	bool lookahead;
	bool revert;        /* SET FEATURES CCh: revert to defaults on SRST */

	/* INTRQ: pending in the device; `line` is the level IRQ 14 was driven to */
	bool intrq;
	bool line;

	/* the command in progress */
	enum ide_phase phase;
	uint8_t xflags;
	uint64_t xfer_lba;   /* PIO: LBA of the block in buf; DMA: first LBA */
	uint32_t xfer_left;  /* PIO: sectors after the block in buf; DMA: sectors */
	uint16_t xfer_bs;    /* PIO: sectors per DRQ block */
	uint32_t buf_pos, buf_len;
	uint8_t buf[MAX_MULT * SECTOR];

	/* the disk model: where the last media access ended */
	uint64_t next_seq;

	/* bus master ([BMIDE]) */
	uint8_t bm_cmd;
	uint8_t bm_status;
	uint32_t bm_prdt;
	bool bm_armed;       /* Start went 0->1 and no transfer used it yet */

	/* a DMA transfer between its start and its completion */
	struct ide_region *regions;   /* PRD_MAX entries, allocated at init */
	unsigned nregions;
	bool exhausted;      /* the transfer ends exactly at an EOT entry's end */
	uint8_t *bounce;
	size_t bounce_len;
	struct ide_job job;  /* its result once done */
	vtime_t deadline;    /* completion time of an asynchronous transfer */
	int timer;

	struct ide_worker worker;
	bool worker_init;

	struct ide_stats stats;
};

#define ide_log(s, ...) \
	((s)->plat && (s)->plat->log ? (s)->plat->log((s)->plat->ctx, "ide", __VA_ARGS__) : (void)0)

static vtime_t ide_now(const struct ide_state *s)
{
	return s->plat->now(s->plat->ctx);
}

static void ide_charge(struct ide_state *s, vtime_t ns)
{
	if (ns && s->plat->charge)
		s->plat->charge(s->plat->ctx, ns);
}

/* ---------------------------------------------------------------- host I/O */

/* Whole-buffer pread/pwrite; a read past the end of the file is EIO. */
static int host_rw(int fd, bool write, uint8_t *buf, size_t len, uint64_t off, size_t *done)
{
	size_t n = 0;

	while (n < len) {
		ssize_t r = write ? pwrite(fd, buf + n, len - n, (off_t)(off + n))
				  : pread(fd, buf + n, len - n, (off_t)(off + n));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			*done = n;
			return r < 0 ? errno : EIO;
		}
		n += (size_t)r;
	}
	*done = n;
	return 0;
}

static void job_run(struct ide_job *j, int fd)
{
	j->err = host_rw(fd, j->op == JOB_WRITE, j->buf, j->len, j->offset, &j->done);
}

static void *worker_main(void *arg)
{
	struct ide_worker *w = arg;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (w->state != W_QUEUED && !w->quit)
			pthread_cond_wait(&w->cond, &w->lock);
		if (w->quit)
			break;
		pthread_mutex_unlock(&w->lock);
		job_run(&w->job, w->fd);
		pthread_mutex_lock(&w->lock);
		w->state = W_DONE;
		pthread_cond_broadcast(&w->cond);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* Queue a job; false if no thread could be started (the caller runs it). */
static bool worker_submit(struct ide_state *s, const struct ide_job *j)
{
	struct ide_worker *w = &s->worker;

	if (!w->started) {
		if (pthread_create(&w->thread, NULL, worker_main, w)) {
			ide_log(s, "cannot start the DMA worker thread; serving this transfer in place");
			return false;
		}
		w->started = true;
	}
	pthread_mutex_lock(&w->lock);
	w->job = *j;
	w->state = W_QUEUED;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	return true;
}

/* Wait for the queued job, if any, and take its result into s->job. */
static void worker_wait(struct ide_state *s)
{
	struct ide_worker *w = &s->worker;

	if (!w->started)
		return;
	pthread_mutex_lock(&w->lock);
	while (w->state == W_QUEUED)
		pthread_cond_wait(&w->cond, &w->lock);
	if (w->state == W_DONE) {
		s->job = w->job;
		w->state = W_IDLE;
	}
	pthread_mutex_unlock(&w->lock);
}

static void worker_stop(struct ide_state *s)
{
	struct ide_worker *w = &s->worker;

	if (!s->worker_init)
		return;
	worker_wait(s);
	if (w->started) {
		pthread_mutex_lock(&w->lock);
		w->quit = true;
		pthread_cond_broadcast(&w->cond);
		pthread_mutex_unlock(&w->lock);
		pthread_join(w->thread, NULL);
		w->started = false;
	}
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	s->worker_init = false;
}

/* ---------------------------------------------------------------- interrupts */

/* INTRQ reaches IRQ 14 when pending, enabled (nIEN = 0), device 0 selected
 * and not in reset; each rising edge sets bus-master Interrupt. */
static void irq_update(struct ide_state *s)
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

static void raise_intrq(struct ide_state *s)
{
	s->intrq = true;
	irq_update(s);
}

static void clear_intrq(struct ide_state *s)
{
	s->intrq = false;
	irq_update(s);
}

/* ---------------------------------------------------------------- disk model */

static vtime_t disk_time(struct ide_state *s, uint64_t lba, uint64_t count)
{
	uint64_t bytes = count * SECTOR;
	vtime_t t = lba == s->next_seq ? 0 : s->latency_ns;

	/* bytes <= 2^25 and NS_PER_S < 2^30: no overflow. */
	t += (bytes * NS_PER_S + s->rate - 1) / s->rate;
	s->next_seq = lba + count;
	return t;
}

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

static void cmd_ok(struct ide_state *s)
{
	s->phase = PH_IDLE;
	s->status = ST_READY;
	raise_intrq(s);
}

static void cmd_error(struct ide_state *s, uint8_t err)
{
	s->phase = PH_IDLE;
	s->error = err;
	s->status = ST_READY | ST_ERR;
	s->stats.errors++;
	raise_intrq(s);
}

/* A host I/O error at sector `lba` of the command in progress. */
static void io_error(struct ide_state *s, uint64_t lba, bool write, int err)
{
	ide_log(s, "host %s error at LBA %llu of %s: %s", write ? "write" : "read",
		(unsigned long long)lba, s->scratch ? "the scratch disk" : s->image, strerror(err));
	set_address(s, lba, s->xflags);
	cmd_error(s, write ? ER_ABRT : ER_UNC);
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
	ide_charge(s, disk_time(s, s->xfer_lba, s->buf_len / SECTOR));
	err = host_rw(s->fd, false, s->buf, s->buf_len, s->xfer_lba * SECTOR, &done);
	if (err) {
		io_error(s, s->xfer_lba + done / SECTOR, false, err);
		return;
	}
	s->xfer_left -= s->buf_len / SECTOR;
	s->stats.sectors_read += s->buf_len / SECTOR;
	s->phase = PH_PIO_IN;
	s->status = ST_DATA;
	raise_intrq(s);
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

	ide_charge(s, disk_time(s, s->xfer_lba, n));
	err = host_rw(s->fd, true, s->buf, s->buf_len, s->xfer_lba * SECTOR, &done);
	if (err) {
		io_error(s, s->xfer_lba + done / SECTOR, true, err);
		return;
	}
	s->stats.sectors_written += n;
	s->xfer_lba += n;
	s->xfer_left -= n;
	if (s->xfer_left == 0) {
		s->buf_pos = s->buf_len = 0;
		cmd_ok(s);
		return;
	}
	pio_block_size(s);
	s->status = ST_DATA;
	raise_intrq(s);
}

static uint16_t data_read_word(struct ide_state *s)
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

static void data_write_word(struct ide_state *s, uint16_t v)
{
	if (s->phase != PH_PIO_OUT || (s->device & DEV_DEV) || s->buf_pos + 2 > s->buf_len)
		return;
	s->buf[s->buf_pos] = (uint8_t)v;
	s->buf[s->buf_pos + 1] = (uint8_t)(v >> 8);
	s->buf_pos += 2;
	if (s->buf_pos == s->buf_len)
		pio_out_done(s);
}

/* ---------------------------------------------------------------- DMA */

static void free_bounce(struct ide_state *s)
{
	free(s->bounce);
	s->bounce = NULL;
	s->bounce_len = 0;
}

/*
 * A bus-master error: nothing moved, Error set, Active cleared, the command
 * ends with ABRT and INTRQ.
 */
static void dma_error(struct ide_state *s, const char *why)
{
	ide_log(s, "DMA error (PRD table at %#x): %s", s->bm_prdt, why);
	free_bounce(s);
	s->bm_armed = false;
	s->bm_status = (uint8_t)((s->bm_status | BM_ST_ERROR) & ~BM_ST_ACTIVE);
	cmd_error(s, ER_ABRT);
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
static const char *prd_walk(struct ide_state *s, uint64_t need)
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
		free_bounce(s);
		io_error(s, s->xfer_lba + s->job.done / SECTOR, write, s->job.err);
		return;
	}
	if (!write && dma_copy(s, true)) {
		dma_error(s, "memory region outside guest RAM at completion");
		return;
	}
	free_bounce(s);
	if (write)
		s->stats.sectors_written += s->xfer_left;
	else
		s->stats.sectors_read += s->xfer_left;
	if (s->exhausted)
		s->bm_status &= (uint8_t)~BM_ST_ACTIVE;
	cmd_ok(s);
}

/* Start the transfer: the command is in and the bus master is armed. */
static void dma_begin(struct ide_state *s)
{
	bool write = s->xflags & XF_WRITE;
	uint64_t len = (uint64_t)s->xfer_left * SECTOR;
	const char *why;
	struct ide_job j;
	vtime_t t;

	if (!!(s->bm_cmd & BM_CMD_RWCON) == write) {
		dma_error(s, write ? "WRITE DMA with Read/Write Control = 1 (memory write)"
				   : "READ DMA with Read/Write Control = 0 (memory read)");
		return;
	}
	why = prd_walk(s, len);
	if (why) {
		dma_error(s, why);
		return;
	}
	s->bounce = malloc(len);
	if (!s->bounce) {
		ide_log(s, "out of memory for a %llu-byte transfer", (unsigned long long)len);
		cmd_error(s, ER_ABRT);
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
	t = disk_time(s, s->xfer_lba, s->xfer_left);
	if (s->dma_async && worker_submit(s, &j)) {
		s->job = j;
		s->phase = PH_DMA_BUSY;
		s->status = ST_BUSY;
		s->deadline = ide_now(s) + t;
		s->plat->timer_arm(s->plat->ctx, s->timer, s->deadline);
		return;
	}
	job_run(&j, s->fd);
	s->job = j;
	ide_charge(s, t);
	dma_finish(s);
}

static void ide_timer_fired(void *opaque, vtime_t now)
{
	struct ide_state *s = opaque;

	(void)now;
	if (s->phase != PH_DMA_BUSY)
		return;
	worker_wait(s);
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
static void dma_cancel(struct ide_state *s)
{
	worker_wait(s);
	free_bounce(s);
	s->deadline = NEVER;
	s->plat->timer_cancel(s->plat->ctx, s->timer);
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
static void set_signature(struct ide_state *s)
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
		cmd_error(s, ER_IDNF);
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
			dma_begin(s);
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
		cmd_error(s, ER_IDNF);
		return;
	}
	s->xflags = xf;
	ide_charge(s, disk_time(s, lba, count));
	for (uint64_t off = 0; off < (uint64_t)count * SECTOR; off += VERIFY_CHUNK) {
		uint64_t n = (uint64_t)count * SECTOR - off;
		size_t done;
		int err;

		if (n > VERIFY_CHUNK)
			n = VERIFY_CHUNK;
		err = host_rw(s->fd, false, scratch, n, lba * SECTOR + off, &done);
		if (err) {
			io_error(s, lba + (off + done) / SECTOR, false, err);
			return;
		}
	}
	cmd_ok(s);
}

static bool xfer_mode_ok(uint8_t v)
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
		if (!xfer_mode_ok(s->nsector)) {
			cmd_error(s, ER_ABRT);
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
		cmd_error(s, ER_ABRT);
		return;
	}
	cmd_ok(s);
}

static void do_flush(struct ide_state *s)
{
	s->stats.flushes++;
	if (fsync(s->fd)) {
		int err = errno;
		ide_log(s, "fsync of %s failed: %s", s->scratch ? "the scratch disk" : s->image, strerror(err));
		cmd_error(s, ER_ABRT);
		return;
	}
	cmd_ok(s);
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
	clear_intrq(s);
	free_bounce(s);
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
			cmd_error(s, ER_ABRT);    /* multiple mode disabled */
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
			cmd_error(s, ER_ABRT);
			break;
		}
		s->mult = s->nsector;
		cmd_ok(s);
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
		raise_intrq(s);
		break;
	case CMD_EXECUTE_DIAGNOSTIC:
		set_signature(s);
		s->phase = PH_IDLE;
		s->status = ST_READY;
		raise_intrq(s);
		break;
	case CMD_CHECK_POWER_MODE:
		s->nsector = 0xff;            /* active or idle */
		cmd_ok(s);
		break;
	default:
		/* NOP and every command not implemented: command aborted. */
		cmd_error(s, ER_ABRT);
		break;
	}
}

/* ---------------------------------------------------------------- resets */

/* Abandon whatever the channel is doing (for SRST, reset, restore, fini). */
static void abandon(struct ide_state *s)
{
	if (s->phase == PH_DMA_BUSY)
		dma_cancel(s);
	free_bounce(s);
	s->phase = PH_IDLE;
	s->buf_pos = s->buf_len = 0;
	s->xfer_left = 0;
}

/* The end of a software reset ([ATA6] 9.2). */
static void srst_done(struct ide_state *s)
{
	set_signature(s);
	s->status = ST_READY;
	s->phase = PH_IDLE;
	s->intrq = false;
	if (s->revert) {
		s->mult = 0;
		s->xfer_mode = XFER_PIO_DEFAULT;
		s->lookahead = true;
	}
	irq_update(s);
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
	irq_update(s);
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
			dma_begin(s);
	} else if (!start && (s->bm_cmd & BM_CMD_START)) {
		s->bm_cmd = v & BM_CMD_RWCON;
		s->bm_status &= (uint8_t)~BM_ST_ACTIVE;
		s->bm_armed = false;
		if (s->phase == PH_DMA_BUSY) {
			ide_log(s, "bus master stopped during a transfer: command aborted");
			dma_cancel(s);
			cmd_error(s, ER_ABRT);
		}
	} else if (!(s->bm_status & BM_ST_ACTIVE)) {
		/* RWCON "must not be changed when the bus master is active" */
		s->bm_cmd = (uint8_t)((s->bm_cmd & BM_CMD_START) | (v & BM_CMD_RWCON));
	}
}

static uint8_t bm_read(struct ide_state *s, unsigned off)
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

static void bm_write(struct ide_state *s, unsigned off, uint8_t v)
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

/* ---------------------------------------------------------------- registers */

static uint8_t cmd_read(struct ide_state *s, unsigned off)
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
			clear_intrq(s);
		return s->status;
	default:
		return 0xff;
	}
}

static void cmd_write(struct ide_state *s, unsigned off, uint8_t v)
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
		irq_update(s);   /* INTRQ follows the selected device */
		break;
	case REG_STATUS_COMMAND:
		execute(s, v);
		break;
	default:
		break;
	}
}

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
		v = data_read_word(s);
		if (size == 4)
			v |= (uint32_t)data_read_word(s) << 16;
		else if (size == 1)
			v &= 0xff;
		return v;
	}
	for (unsigned i = 0; i < size; i++) {
		unsigned o = (unsigned)off + i;
		uint8_t b;

		if (range == RANGE_CMD)
			b = o < 8 ? cmd_read(s, o) : 0xff;
		else if (range == RANGE_CTL)
			b = o == 0 ? (s->device & DEV_DEV ? 0x00 : s->status) : 0xff;
		else
			b = o < 8 ? bm_read(s, o) : 0xff;
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
		data_write_word(s, (uint16_t)(size == 1 ? val & 0xff : val));
		if (size == 4)
			data_write_word(s, (uint16_t)(val >> 16));
		return;
	}
	for (unsigned i = 0; i < size; i++) {
		unsigned o = (unsigned)off + i;
		uint8_t b = (uint8_t)(val >> (8 * i));

		if (range == RANGE_CMD) {
			if (o < 8)
				cmd_write(s, o, b);
		} else if (range == RANGE_CTL) {
			if (o == 0)
				write_control(s, b);
		} else if (o < 8) {
			bm_write(s, o, b);
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
	worker_stop(s);
	free_bounce(s);
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
#define IDE_IMAGE_VERSION 1

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
};

_Static_assert(sizeof(struct ide_image) == 8336, "ide image layout is fixed");

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
		worker_wait(s);
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
	    img->mult > MAX_MULT || (img->mult & (img->mult - 1)) || !xfer_mode_ok(img->xfer_mode) ||
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
	if (!image_ok(s, img)) {
		ide_log(s, "restore: not an image of this disk, or out of range");
		free(img);
		return -1;
	}
	abandon(s);
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
		const char *why = prd_walk(s, blen);

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
				job_run(&s->job, s->fd);
		}
		s->plat->timer_arm(s->plat->ctx, s->timer, s->deadline);
	}
	free(img);
	irq_update(s);
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
		[RANGE_BM] = { .base = BM_BASE, .len = 8 },
	},
};
