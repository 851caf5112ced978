/*
 * disk.c - the "disk" workload: the seed's kernel build as far as the disk
 * is concerned.  A source tree is written to the disk, then "compiled" one
 * file at a time: read the source, compute, write the object, with the
 * next source read ahead while the current one compiles and each object
 * written behind (Linux's readahead and write-back), all through the ATA
 * driver's request queue (rt/ata.c) with bus-master DMA, or with PIO.  The
 * HZ=1000 timer ticks throughout, as in the timer workload.
 *
 * Arguments (boot args, key=value):
 *   files=N   source files (1-64, default 6)
 *   work=N    compile units per file (default 8500: about 0.3 s of a
 *             1000-MIPS guest, what gcc spent on a kernel source file in 2006)
 *   src=N     sectors per source file (1-128, default 32 = 16 KiB)
 *   obj=N     sectors per object file (1-128, default 16 = 8 KiB);
 *             files * obj at most 1024
 *   pio=1     PIO (READ/WRITE MULTIPLE) instead of DMA
 *   lba=N     where the source tree starts (default 2048); objects follow
 *             it after a 1 MiB gap
 *
 * Disk traffic, in order:
 *   before phase 1: one write per source file (sequential), FLUSH CACHE;
 *   phase 1 .. phase 2: per file one source read and one object write;
 *   FLUSH CACHE;
 *   after phase 2: one read of all objects (checked against what was
 *   written).
 *
 * Output: a header line, then
 *   result: workload=disk files=F work=W src=S obj=O checksum=0x.. mode=dma ticks=T requests=R
 * and exit status 0.  The checksum (objects read back from the disk,
 * folded in file order) depends only on F, W, S and O: guest-ref disk
 * F,W,S,O prints "files=F work=W src=S obj=O checksum=0x..".  Status 3 if a
 * source read back differs from what was written, or the objects read back
 * differ from those computed; 4 if a disk request fails.
 */
#include "kernels/build.h"
#include "rt/ata.h"
#include "rt/rt.h"

#define MAX_FILES    64
#define MAX_SECTORS  128
#define MAX_OBJ_ALL  1024
#define EXIT_IO      4

static const char *const keys[] = { "files", "work", "src", "obj", "pio", "lba", 0 };

static uint8_t src_buf[2][MAX_SECTORS * ATA_SECTOR] __attribute__((aligned(4096)));
static uint8_t check_buf[MAX_SECTORS * ATA_SECTOR];
static uint8_t obj_buf[MAX_OBJ_ALL * ATA_SECTOR] __attribute__((aligned(4096)));
static uint8_t back_buf[MAX_OBJ_ALL * ATA_SECTOR] __attribute__((aligned(4096)));
static struct ata_req src_req[2], obj_req[MAX_FILES], setup_req[2], flush_req, back_req;

static bool use_dma;

static void submit(struct ata_req *r, enum ata_op op, uint64_t lba, uint32_t count, void *buf)
{
	r->op = op;
	r->lba = lba;
	r->count = count;
	r->buf = buf;
	r->dma = use_dma;
	ata_submit(r);
}

static void wait_ok(struct ata_req *r, const char *what)
{
	ata_wait(r);
	if (!ata_ok(r)) {
		rt_printf("disk: %s failed: status 0x%02x error 0x%02x bus-master 0x%02x\n", what, r->status,
			  r->error, r->bm_status);
		rt_exit(EXIT_IO);
	}
}

static void flush(void)
{
	submit(&flush_req, ATA_FLUSH, 0, 0, 0);
	wait_ok(&flush_req, "FLUSH CACHE");
}

static uint64_t arg(const char *args, const char *key, uint64_t def, uint64_t lo, uint64_t hi)
{
	uint64_t v = args_u64(args, key, def);

	if (v < lo || v > hi) {
		rt_printf("disk: %s=%lu is outside %lu..%lu\n", key, (unsigned long)v, (unsigned long)lo,
			  (unsigned long)hi);
		rt_exit(RT_EXIT_BAD_ARGS);
	}
	return v;
}

int main(const char *args)
{
	args_check(args, keys);
	uint32_t files = (uint32_t)arg(args, "files", 6, 1, MAX_FILES);
	uint32_t work = (uint32_t)arg(args, "work", 8500, 0, 100000000);
	uint32_t src = (uint32_t)arg(args, "src", 32, 1, MAX_SECTORS);
	uint32_t obj = (uint32_t)arg(args, "obj", 16, 1, MAX_SECTORS);
	uint64_t lba0 = arg(args, "lba", 2048, 0, 1ull << 47);
	use_dma = !arg(args, "pio", 0, 0, 1);
	if (files * obj > MAX_OBJ_ALL) {
		rt_printf("disk: files * obj = %u is above %u\n", files * obj, MAX_OBJ_ALL);
		return RT_EXIT_BAD_ARGS;
	}
	uint32_t sbytes = src * ATA_SECTOR, obytes = obj * ATA_SECTOR;
	uint64_t obj0 = lba0 + (uint64_t)files * src + 2048;

	rt_printf("disk: HZ=%d files=%u work=%u src=%u obj=%u mode=%s console=%s\n", HZ, files, work, src,
		  obj, use_dma ? "dma" : "pio", console_has_uart() ? "uart" : "hypercall");

	init_8259A();
	time_init();
	if (ata_init())
		return EXIT_IO;
	if (obj0 + (uint64_t)files * obj > ata_sectors) {
		rt_printf("disk: the disk has %lu sectors; this run needs %lu\n", (unsigned long)ata_sectors,
			  (unsigned long)(obj0 + (uint64_t)files * obj));
		return RT_EXIT_BAD_ARGS;
	}
	local_irq_enable();

	/* The source tree ("tar x"): sequential writes, two buffers in flight. */
	for (uint32_t i = 0; i < files; i++) {
		struct ata_req *r = &setup_req[i & 1];
		if (i >= 2)
			wait_ok(r, "source write");
		build_source(i, src_buf[i & 1], sbytes);
		submit(r, ATA_WRITE, lba0 + (uint64_t)i * src, src, src_buf[i & 1]);
	}
	for (uint32_t i = files > 2 ? files - 2 : 0; i < files; i++)
		wait_ok(&setup_req[i & 1], "source write");
	flush();

	/* The build: read ahead one source, write objects behind. */
	uint32_t mem_sum = BUILD_SUM_INIT;
	uint64_t requests0 = ata_commands;
	hc_phase(1);
	uint64_t ticks0 = jiffies;
	submit(&src_req[0], ATA_READ, lba0, src, src_buf[0]);
	for (uint32_t i = 0; i < files; i++) {
		uint8_t *s = src_buf[i & 1];
		wait_ok(&src_req[i & 1], "source read");
		if (i + 1 < files)
			submit(&src_req[(i + 1) & 1], ATA_READ, lba0 + (uint64_t)(i + 1) * src, src,
			       src_buf[(i + 1) & 1]);
		build_source(i, check_buf, sbytes);
		if (memcmp(s, check_buf, sbytes)) {
			rt_printf("disk: source file %u read back differs from what was written\n", i);
			return RT_EXIT_SELFCHECK;
		}
		uint8_t *o = obj_buf + (size_t)i * obytes;
		mem_sum = build_mix(mem_sum, build_compile(s, sbytes, i, work, o, obytes));
		submit(&obj_req[i], ATA_WRITE, obj0 + (uint64_t)i * obj, obj, o);
	}
	for (uint32_t i = 0; i < files; i++)
		wait_ok(&obj_req[i], "object write");
	flush();
	local_irq_disable();
	uint64_t elapsed = jiffies - ticks0;
	uint64_t requests = ata_commands - requests0;
	hc_phase(2);

	/* Read every object back and check it. */
	local_irq_enable();
	submit(&back_req, ATA_READ, obj0, files * obj, back_buf);
	wait_ok(&back_req, "object read-back");
	local_irq_disable();
	disable_8259A_irq(ATA_IRQ);
	disable_8259A_irq(0);
	uint32_t disk_sum = BUILD_SUM_INIT;
	for (uint32_t i = 0; i < files; i++)
		disk_sum = build_mix(disk_sum, build_fold(BUILD_SUM_INIT, back_buf + (size_t)i * obytes, obytes));
	if (disk_sum != mem_sum || memcmp(back_buf, obj_buf, (size_t)files * obytes)) {
		rt_printf("disk: objects read back differ from those written\n");
		return RT_EXIT_SELFCHECK;
	}
	if (pit_reloads || spurious_8259A_count || ata_spurious)
		rt_printf("disk: note: pit_reloads=%lu spurious_irqs=%lu ata_spurious=%lu\n",
			  (unsigned long)pit_reloads, (unsigned long)spurious_8259A_count,
			  (unsigned long)ata_spurious);
	rt_printf("result: workload=disk files=%u work=%u src=%u obj=%u checksum=0x%08x mode=%s ticks=%lu "
		  "requests=%lu\n", files, work, src, obj, disk_sum, use_dma ? "dma" : "pio",
		  (unsigned long)elapsed, (unsigned long)requests);
	return 0;
}
