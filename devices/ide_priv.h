/*
 * ide_priv.h - what the files of the IDE model share (devices/ide.c,
 * ide_ata.c, ide_dma.c, ide_backend.c): the one state struct, the register
 * bit layouts of [ATA6] section 7 and [BMIDE], the PRD entry, and the
 * functions one file calls in another.  Private to those files.
 *
 * References (see ide.c):
 *   [ATA6]  ANSI INCITS 361-2002, AT Attachment with Packet Interface - 6
 *   [BMIDE] "Programming Interface for Bus Master IDE Controller", rev 1.0
 *           (SFF-8038i)
 */
#ifndef VMXLAB_DEVICES_IDE_PRIV_H
#define VMXLAB_DEVICES_IDE_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vmxlab/dev.h>
#include <vmxlab/pci.h>

#define SECTOR         512u
#define MAX_MULT       16u                 /* IDENTIFY word 47: READ/WRITE MULTIPLE block limit */
#define NS_PER_S       1000000000ull
#define NEVER          UINT64_MAX

/* Default CHS translation (IDENTIFY words 1, 3, 6). */
#define CHS_HEADS      16u
#define CHS_SPT        63u
#define CHS_MAX_CYLS   16383u

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

	/* PCI function 00:01.1, the PIIX3 IDE controller (ide.c) */
	struct pci_cfg pci;

	/* the kinds of DMA error already logged (ide_dma.c), diagnostics only */
#define IDE_DMA_ERROR_KINDS 8
	const char *dma_logged[IDE_DMA_ERROR_KINDS];

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

static inline vtime_t ide_now(const struct ide_state *s)
{
	return s->plat->now(s->plat->ctx);
}

static inline void ide_charge(struct ide_state *s, vtime_t ns)
{
	if (ns && s->plat->charge)
		s->plat->charge(s->plat->ctx, ns);
}

/* ide.c: INTRQ and IRQ 14 */
void ide_irq_update(struct ide_state *s);
void ide_raise_intrq(struct ide_state *s);
void ide_clear_intrq(struct ide_state *s);

/* ide_ata.c: the command block and the command set ([ATA6]) */
uint8_t ide_cmd_read(struct ide_state *s, unsigned off);
void ide_cmd_write(struct ide_state *s, unsigned off, uint8_t v);
uint16_t ide_data_read_word(struct ide_state *s);
void ide_data_write_word(struct ide_state *s, uint16_t v);
void ide_cmd_ok(struct ide_state *s);
void ide_cmd_error(struct ide_state *s, uint8_t err);
void ide_io_error(struct ide_state *s, uint64_t lba, bool write, int err);
void ide_set_signature(struct ide_state *s);
bool ide_xfer_mode_ok(uint8_t v);

/* ide_dma.c: the bus master ([BMIDE]) */
uint8_t ide_bm_read(struct ide_state *s, unsigned off);
void ide_bm_write(struct ide_state *s, unsigned off, uint8_t v);
void ide_dma_begin(struct ide_state *s);
void ide_dma_cancel(struct ide_state *s);
void ide_free_bounce(struct ide_state *s);
const char *ide_prd_walk(struct ide_state *s, uint64_t need);
void ide_timer_fired(void *opaque, vtime_t now);

/* ide_backend.c: host I/O in place or on the worker thread, disk time */
int ide_host_rw(int fd, bool write, uint8_t *buf, size_t len, uint64_t off, size_t *done);
void ide_job_run(struct ide_job *j, int fd);
bool ide_worker_submit(struct ide_state *s, const struct ide_job *j);
void ide_worker_wait(struct ide_state *s);
void ide_worker_stop(struct ide_state *s);
vtime_t ide_disk_time(struct ide_state *s, uint64_t lba, uint64_t count);

#endif
