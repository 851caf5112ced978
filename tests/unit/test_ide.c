/*
 * test_ide.c - outside-in tests of devices/ide.c: ATA commands programmed
 * through ports 0x1f0-0x1f7 and 0x3f6, bus-master DMA through 0xc000-0xc007
 * with PRD tables built in the fake platform's guest RAM, IRQ 14 transitions
 * and status bits asserted, data checked in temporary image files.  Both
 * dma=sync and dma=async are played side by side to show that the guest
 * sees the same thing at the same virtual times.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dirent.h>

#include "devtest.h"
#include "../fuzz/fuzz_ide.c"

#define IRQ       14
#define DATA      0x1f0
#define ERROR     0x1f1
#define FEATURE   0x1f1
#define NSECTOR   0x1f2
#define LBA_LOW   0x1f3
#define LBA_MID   0x1f4
#define LBA_HIGH  0x1f5
#define DEVICE    0x1f6
#define STATUS    0x1f7
#define COMMAND   0x1f7
#define ALTSTATUS 0x3f6
#define CONTROL   0x3f6
#define BM_CMD    0xc000
#define BM_STATUS 0xc002
#define BM_PRDT   0xc004

#define ST_BSY  0x80
#define ST_DRQ  0x08
#define ST_ERR  0x01
#define ST_OK   0x50   /* DRDY | DSC */
#define ST_DATA 0x58   /* DRDY | DSC | DRQ */
#define ST_FAIL 0x51
#define ST_BUSY 0xd0

#define ER_UNC  0x40
#define ER_IDNF 0x10
#define ER_ABRT 0x04

#define BM_ACTIVE 0x01
#define BM_ERROR  0x02
#define BM_INTR   0x04

/* With latency=2ms,rate=51200000B/s a sector takes exactly 10 us. */
#define LAT_NS    2000000ull
#define SECT_NS   10000ull
#define TIMING    "latency=2ms,rate=51200000B/s"

#define RAM_SIZE  (1u << 20)
#define PRDT      0x1000u      /* PRD tables live here */
#define BUF       0x10000u     /* data buffers from here */

/* ---------------------------------------------------------------- the rig */

/* A device on the fake platform, with guest RAM, charges and an image. */
struct rig {
	struct devtest *t;
	uint8_t *ram;
	vtime_t charged;
	unsigned ncharges;
	char path[64];
};

static struct rig *rigs[8];

static struct rig *rig_of(void *ctx)
{
	for (unsigned i = 0; i < 8; i++)
		if (rigs[i] && rigs[i]->t == ctx)
			return rigs[i];
	fail_msg("no rig for this platform");
	return NULL;
}

static int rig_dma_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	struct rig *r = rig_of(ctx);

	if (len > RAM_SIZE || gpa > RAM_SIZE - len)
		return -1;
	memcpy(buf, r->ram + gpa, len);
	return 0;
}

static int rig_dma_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	struct rig *r = rig_of(ctx);

	if (len > RAM_SIZE || gpa > RAM_SIZE - len)
		return -1;
	memcpy(r->ram + gpa, buf, len);
	return 0;
}

static void rig_charge(void *ctx, vtime_t ns)
{
	struct rig *r = rig_of(ctx);

	r->charged += ns;
	r->ncharges++;
}

/* The pattern byte i of sector k of a fresh image. */
static uint8_t pattern(uint64_t k, unsigned i)
{
	return (uint8_t)(k * 7 + i * 13 + (k >> 8) * 3 + 1);
}

static void make_image(char *path, uint64_t sectors)
{
	int fd;
	uint8_t sec[512];

	strcpy(path, "/tmp/test-ide-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	for (uint64_t k = 0; k < sectors; k++) {
		for (unsigned i = 0; i < 512; i++)
			sec[i] = pattern(k, i);
		assert_int_equal(pwrite(fd, sec, 512, (off_t)(k * 512)), 512);
	}
	close(fd);
}

/* A rig on a fresh patterned image of `sectors`, with extra options. */
static struct rig *rig_new(uint64_t sectors, const char *extra)
{
	struct rig *r = calloc(1, sizeof(*r));
	char opts[512];
	unsigned i;

	assert_non_null(r);
	r->ram = calloc(1, RAM_SIZE);
	assert_non_null(r->ram);
	make_image(r->path, sectors);
	snprintf(opts, sizeof(opts), "image=%s%s%s", r->path, extra && *extra ? "," : "", extra ? extra : "");
	for (i = 0; i < 8 && rigs[i]; i++)
		;
	assert_true(i < 8);
	rigs[i] = r;
	/* devtest_new runs init; the services are read at call time. */
	r->t = devtest_new(&ide_dev_ops, opts);
	r->t->plat.dma_read = rig_dma_read;
	r->t->plat.dma_write = rig_dma_write;
	r->t->plat.charge = rig_charge;
	return r;
}

static void rig_free(struct rig *r)
{
	if (!r)
		return;
	devtest_free(r->t);
	for (unsigned i = 0; i < 8; i++)
		if (rigs[i] == r)
			rigs[i] = NULL;
	if (r->path[0])
		unlink(r->path);
	free(r->ram);
	free(r);
}

static int teardown(void **state)
{
	rig_free(*state);
	*state = NULL;
	return 0;
}

static int setup_small(void **state)
{
	*state = rig_new(256, TIMING);
	return 0;
}

static int setup_async(void **state)
{
	*state = rig_new(256, TIMING ",dma=async");
	return 0;
}

/* ---------------------------------------------------------------- ATA helpers */

static uint8_t inb(struct rig *r, uint16_t port)
{
	return devtest_inb(r->t, port);
}

static void outb(struct rig *r, uint16_t port, uint8_t v)
{
	devtest_outb(r->t, port, v);
}

static uint16_t inw(struct rig *r, uint16_t port)
{
	return (uint16_t)devtest_in(r->t, port, 2);
}

static void outw(struct rig *r, uint16_t port, uint16_t v)
{
	devtest_out(r->t, port, 2, v);
}

static void lba28(struct rig *r, uint32_t lba, uint8_t count)
{
	outb(r, NSECTOR, count);
	outb(r, LBA_LOW, (uint8_t)lba);
	outb(r, LBA_MID, (uint8_t)(lba >> 8));
	outb(r, LBA_HIGH, (uint8_t)(lba >> 16));
	outb(r, DEVICE, (uint8_t)(0xe0 | ((lba >> 24) & 0x0f)));
}

static void lba48(struct rig *r, uint64_t lba, uint16_t count)
{
	outb(r, NSECTOR, (uint8_t)(count >> 8));
	outb(r, LBA_LOW, (uint8_t)(lba >> 24));
	outb(r, LBA_MID, (uint8_t)(lba >> 32));
	outb(r, LBA_HIGH, (uint8_t)(lba >> 40));
	outb(r, NSECTOR, (uint8_t)count);
	outb(r, LBA_LOW, (uint8_t)lba);
	outb(r, LBA_MID, (uint8_t)(lba >> 8));
	outb(r, LBA_HIGH, (uint8_t)(lba >> 16));
	outb(r, DEVICE, 0x40);
}

static void command(struct rig *r, uint8_t cmd)
{
	outb(r, COMMAND, cmd);
}

static void read_words(struct rig *r, uint8_t *buf, size_t bytes)
{
	for (size_t i = 0; i < bytes; i += 2) {
		uint16_t w = inw(r, DATA);
		buf[i] = (uint8_t)w;
		buf[i + 1] = (uint8_t)(w >> 8);
	}
}

static void write_words(struct rig *r, const uint8_t *buf, size_t bytes)
{
	for (size_t i = 0; i < bytes; i += 2)
		outw(r, DATA, (uint16_t)(buf[i] | buf[i + 1] << 8));
}

static void expect_pattern(const uint8_t *buf, uint64_t lba, unsigned sectors)
{
	for (unsigned k = 0; k < sectors; k++)
		for (unsigned i = 0; i < 512; i++)
			if (buf[k * 512 + i] != pattern(lba + k, i))
				fail_msg("sector %llu byte %u is %#x, want %#x", (unsigned long long)(lba + k), i,
					 buf[k * 512 + i], pattern(lba + k, i));
}

static void file_read(struct rig *r, uint64_t lba, uint8_t *buf, size_t bytes)
{
	int fd = open(r->path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, buf, bytes, (off_t)(lba * 512)), (ssize_t)bytes);
	close(fd);
}

static void fill(uint8_t *buf, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		buf[i] = (uint8_t)(seed >> 16);
	}
}

static void prd(struct rig *r, uint32_t table, unsigned i, uint32_t base, uint32_t count, bool eot)
{
	uint8_t *e = r->ram + table + 8 * i;

	e[0] = (uint8_t)base;
	e[1] = (uint8_t)(base >> 8);
	e[2] = (uint8_t)(base >> 16);
	e[3] = (uint8_t)(base >> 24);
	e[4] = (uint8_t)count;
	e[5] = (uint8_t)(count >> 8);
	e[6] = 0;
	e[7] = eot ? 0x80 : 0;
}

static void set_prdt(struct rig *r, uint32_t table)
{
	devtest_out(r->t, BM_PRDT, 4, table);
}

/* Start the bus master; `to_memory` for READ DMA. */
static void bm_start(struct rig *r, bool to_memory)
{
	outb(r, BM_CMD, (uint8_t)((to_memory ? 0x08 : 0) | 0x01));
}

static void bm_stop(struct rig *r)
{
	outb(r, BM_CMD, 0);
}

static unsigned rises(struct rig *r)
{
	return r->t->rises[IRQ];
}

/* Acknowledge: read Status (clears INTRQ), clear bus-master Interrupt/Error. */
static uint8_t ack(struct rig *r)
{
	uint8_t st = inb(r, STATUS);

	outb(r, BM_STATUS, BM_INTR | BM_ERROR);
	return st;
}

/* ---------------------------------------------------------------- reset, identify */

static void test_signature_and_ports(void **state)
{
	struct rig *r = *state;

	assert_int_equal(inb(r, NSECTOR), 0x01);
	assert_int_equal(inb(r, LBA_LOW), 0x01);
	assert_int_equal(inb(r, LBA_MID), 0x00);
	assert_int_equal(inb(r, LBA_HIGH), 0x00);
	assert_int_equal(inb(r, ERROR), 0x01);          /* diagnostic: passed, no device 1 */
	assert_int_equal(inb(r, ALTSTATUS), ST_OK);
	assert_int_equal(inb(r, STATUS), ST_OK);
	assert_int_equal(inb(r, BM_CMD), 0);
	assert_int_equal(inb(r, BM_STATUS), 0);
	assert_int_equal(devtest_in(r->t, BM_PRDT, 4), 0);
	assert_int_equal(inb(r, 0xc001), 0);           /* reserved */
	assert_false(r->t->line[IRQ]);
	/* PRD pointer bits 1:0 are reserved. */
	devtest_out(r->t, BM_PRDT, 4, 0x12345677);
	assert_int_equal(devtest_in(r->t, BM_PRDT, 4), 0x12345674);
	outb(r, 0xc006, 0xab);
	assert_int_equal(devtest_in(r->t, BM_PRDT, 4), 0x12ab5674);
	/* Drive DMA-capable bits are read/write, the others read only. */
	outb(r, BM_STATUS, 0xff);
	assert_int_equal(inb(r, BM_STATUS), 0x60);
	assert_int_equal(r->t->nlogs, 0);
}

static void test_identify(void **state)
{
	struct rig *r = *state;
	uint8_t id[512];
	uint16_t w[256];
	uint8_t sum = 0;
	char model[41];

	outb(r, DEVICE, 0xa0);
	command(r, 0xec);
	assert_int_equal(rises(r), 1);
	assert_true(r->t->line[IRQ]);
	assert_int_equal(inb(r, ALTSTATUS), ST_DATA);
	assert_true(r->t->line[IRQ]);                   /* Alternate Status has no side effect */
	assert_int_equal(inb(r, STATUS), ST_DATA);
	assert_false(r->t->line[IRQ]);                  /* Status acknowledges */
	assert_int_equal(inb(r, BM_STATUS) & BM_INTR, BM_INTR);
	read_words(r, id, 512);
	assert_int_equal(inb(r, STATUS), ST_OK);
	assert_int_equal(rises(r), 1);                  /* no interrupt after the last block */
	assert_int_equal(devtest_in(r->t, DATA, 2), 0xffff);
	for (unsigned i = 0; i < 256; i++)
		w[i] = (uint16_t)(id[2 * i] | id[2 * i + 1] << 8);
	for (unsigned i = 0; i < 512; i++)
		sum = (uint8_t)(sum + id[i]);
	assert_int_equal(sum, 0);
	assert_int_equal(w[255] & 0xff, 0xa5);
	assert_int_equal(w[0], 0x0040);
	assert_int_equal(w[47], 0x8010);
	assert_int_equal(w[49] & 0x0300, 0x0300);       /* LBA and DMA */
	assert_int_equal(w[83] & 0x0400, 0x0400);       /* 48-bit */
	assert_int_equal(w[86] & 0x0400, 0x0400);
	assert_int_equal(w[60] | (uint32_t)w[61] << 16, 256);
	assert_int_equal(w[100] | (uint64_t)w[101] << 16 | (uint64_t)w[102] << 32 | (uint64_t)w[103] << 48, 256);
	assert_int_equal(w[59], 0x0100);                /* multiple mode off */
	for (unsigned i = 0; i < 20; i++) {
		model[2 * i] = (char)(w[27 + i] >> 8);
		model[2 * i + 1] = (char)w[27 + i];
	}
	model[40] = 0;
	assert_true(strncmp(model, "VMXLAB HARDDISK ", 16) == 0);
	assert_int_equal(w[3], 16);
	assert_int_equal(w[6], 63);
	assert_int_equal(w[1], 0);                      /* 256 sectors: less than a cylinder */
	assert_int_equal(r->charged, 0);
}

/* Data register widths: a dword moves two words, a byte one word. */
static void test_data_widths(void **state)
{
	struct rig *r = *state;
	uint32_t d;

	lba28(r, 3, 1);
	command(r, 0x20);
	d = devtest_in(r->t, DATA, 4);
	assert_int_equal(d & 0xff, pattern(3, 0));
	assert_int_equal((d >> 8) & 0xff, pattern(3, 1));
	assert_int_equal((d >> 16) & 0xff, pattern(3, 2));
	assert_int_equal(d >> 24, pattern(3, 3));
	d = devtest_in(r->t, DATA, 1);                 /* word 2: low byte only */
	assert_int_equal(d, pattern(3, 4));
	d = devtest_in(r->t, DATA, 2);                 /* word 3 */
	assert_int_equal(d, (uint32_t)(pattern(3, 6) | pattern(3, 7) << 8));
	for (unsigned i = 4; i < 256; i++)
		(void)inw(r, DATA);
	assert_int_equal(inb(r, STATUS), ST_OK);
	/* Writes: 2 words per dword, 1 (zero high byte) per byte. */
	lba28(r, 4, 1);
	command(r, 0x30);
	assert_int_equal(inb(r, STATUS), ST_DATA);
	devtest_out(r->t, DATA, 4, 0x44332211);
	devtest_out(r->t, DATA, 1, 0x1a55);
	for (unsigned i = 3; i < 256; i++)
		outw(r, DATA, 0xbeef);
	assert_int_equal(inb(r, STATUS), ST_OK);
	uint8_t b[6];
	file_read(r, 4, b, 6);
	assert_int_equal(b[0], 0x11);
	assert_int_equal(b[1], 0x22);
	assert_int_equal(b[2], 0x33);
	assert_int_equal(b[3], 0x44);
	assert_int_equal(b[4], 0x55);
	assert_int_equal(b[5], 0x00);
}

/* ---------------------------------------------------------------- PIO */

static void test_pio_read_lba28(void **state)
{
	struct rig *r = *state;
	uint8_t buf[3 * 512];

	lba28(r, 5, 3);
	command(r, 0x20);
	assert_int_equal(r->charged, LAT_NS + SECT_NS);       /* access + first sector */
	for (unsigned k = 0; k < 3; k++) {
		assert_int_equal(rises(r), k + 1);            /* one interrupt per block */
		assert_int_equal(inb(r, STATUS), ST_DATA);
		read_words(r, buf + 512 * k, 512);
	}
	assert_int_equal(r->charged, LAT_NS + 3 * SECT_NS);   /* later blocks stream */
	assert_int_equal(rises(r), 3);
	assert_int_equal(inb(r, STATUS), ST_OK);
	expect_pattern(buf, 5, 3);
	/* 21h (without retries) is the same command; the next command is
	 * sequential, so it pays no access time. */
	lba28(r, 8, 1);
	command(r, 0x21);
	assert_int_equal(r->charged, LAT_NS + 4 * SECT_NS);
	read_words(r, buf, 512);
	expect_pattern(buf, 8, 1);
	/* Count 0 means 256 sectors. */
	lba28(r, 0, 0);
	command(r, 0x20);
	for (unsigned k = 0; k < 256; k++) {
		assert_int_equal(inb(r, STATUS), ST_DATA);
		read_words(r, buf, 512);
		expect_pattern(buf, k, 1);
	}
	assert_int_equal(inb(r, STATUS), ST_OK);
}

static void test_pio_write_lba28(void **state)
{
	struct rig *r = *state;
	uint8_t data[2 * 512], back[2 * 512];

	fill(data, sizeof(data), 1);
	lba28(r, 100, 2);
	command(r, 0x30);
	assert_int_equal(rises(r), 0);                /* data-out: DRQ, no interrupt */
	assert_int_equal(inb(r, ALTSTATUS), ST_DATA);
	write_words(r, data, 512);
	assert_int_equal(rises(r), 1);                /* the next block */
	assert_int_equal(r->charged, LAT_NS + SECT_NS);
	assert_int_equal(inb(r, STATUS), ST_DATA);
	write_words(r, data + 512, 512);
	assert_int_equal(rises(r), 2);                /* command completion */
	assert_int_equal(inb(r, STATUS), ST_OK);
	assert_int_equal(r->charged, LAT_NS + 2 * SECT_NS);
	file_read(r, 100, back, sizeof(back));        /* in the file at completion */
	assert_memory_equal(data, back, sizeof(data));
	/* Neighbours untouched. */
	file_read(r, 99, back, 512);
	expect_pattern(back, 99, 1);
	file_read(r, 102, back, 512);
	expect_pattern(back, 102, 1);
}

/* LBA48 above the 28-bit limit, on a sparse 160 GiB image. */
static void test_pio_lba48(void **state)
{
	struct rig *r;
	uint64_t lba = (1ull << 28) + 0x1234567ull;
	uint8_t data[2 * 512], back[2 * 512];
	uint16_t w[256];
	uint8_t id[512];

	(void)state;
	r = rig_new(0, TIMING ",size=160G");
	*state = r;
	command(r, 0xec);
	read_words(r, id, 512);
	for (unsigned i = 0; i < 256; i++)
		w[i] = (uint16_t)(id[2 * i] | id[2 * i + 1] << 8);
	assert_int_equal(w[60] | (uint32_t)w[61] << 16, 0x0fffffff);   /* LBA28 capacity saturates */
	assert_int_equal(w[100] | (uint64_t)w[101] << 16 | (uint64_t)w[102] << 32, 160ull << 21);
	assert_int_equal(w[1], 16383);

	fill(data, sizeof(data), 2);
	lba48(r, lba, 2);
	command(r, 0x34);
	write_words(r, data, 1024);
	assert_int_equal(inb(r, STATUS), ST_OK);
	file_read(r, lba, back, sizeof(back));
	assert_memory_equal(data, back, sizeof(data));

	/* HOB reads the previous content. */
	outb(r, CONTROL, 0x80);
	assert_int_equal(inb(r, LBA_LOW), (uint8_t)(lba >> 24));
	assert_int_equal(inb(r, LBA_MID), (uint8_t)(lba >> 32));
	assert_int_equal(inb(r, NSECTOR), 0);
	outb(r, FEATURE, 0);                            /* a command block write clears HOB */
	assert_int_equal(inb(r, LBA_LOW), (uint8_t)lba);

	memset(back, 0, sizeof(back));
	lba48(r, lba, 2);
	command(r, 0x24);
	read_words(r, back, 1024);
	assert_int_equal(inb(r, STATUS), ST_OK);
	assert_memory_equal(data, back, sizeof(data));
	/* The same sectors through LBA28 cannot be reached: bits 27:24 only. */
	lba48(r, (160ull << 21) - 1, 2);              /* one past the end */
	command(r, 0x24);
	assert_int_equal(inb(r, STATUS), ST_FAIL);
	assert_int_equal(inb(r, ERROR), ER_IDNF);
}

static void test_multiple(void **state)
{
	struct rig *r = *state;
	uint8_t buf[10 * 512], data[6 * 512], id[512];
	unsigned before;

	lba28(r, 0, 10);
	command(r, 0xc4);                               /* multiple mode disabled */
	assert_int_equal(inb(r, STATUS), ST_FAIL);
	assert_int_equal(inb(r, ERROR), ER_ABRT);
	outb(r, NSECTOR, 3);
	command(r, 0xc6);                               /* not a power of two */
	assert_int_equal(inb(r, STATUS), ST_FAIL);
	outb(r, NSECTOR, 32);
	command(r, 0xc6);                               /* above word 47's 16 */
	assert_int_equal(inb(r, STATUS), ST_FAIL);
	outb(r, NSECTOR, 4);
	before = rises(r);
	command(r, 0xc6);
	assert_int_equal(rises(r), before + 1);
	assert_int_equal(inb(r, STATUS), ST_OK);
	command(r, 0xec);
	read_words(r, id, 512);
	assert_int_equal(id[118] | id[119] << 8, 0x0104);   /* word 59 */

	/* 10 sectors in blocks of 4, 4, 2: one interrupt per block. */
	lba28(r, 20, 10);
	before = rises(r);
	command(r, 0xc4);
	for (unsigned b = 0; b < 3; b++) {
		unsigned n = b < 2 ? 4 : 2;
		assert_int_equal(rises(r), before + b + 1);
		assert_int_equal(inb(r, STATUS), ST_DATA);
		read_words(r, buf + 2048 * b, n * 512);
	}
	assert_int_equal(inb(r, STATUS), ST_OK);
	assert_int_equal(rises(r), before + 3);
	expect_pattern(buf, 20, 10);

	/* WRITE MULTIPLE EXT: 6 sectors in 4 + 2. */
	fill(data, sizeof(data), 3);
	lba48(r, 200, 6);
	before = rises(r);
	command(r, 0x39);
	assert_int_equal(rises(r), before);
	write_words(r, data, 4 * 512);
	assert_int_equal(rises(r), before + 1);
	assert_int_equal(inb(r, STATUS), ST_DATA);
	write_words(r, data + 2048, 2 * 512);
	assert_int_equal(rises(r), before + 2);
	assert_int_equal(inb(r, STATUS), ST_OK);
	file_read(r, 200, buf, sizeof(data));
	assert_memory_equal(buf, data, sizeof(data));
	/* READ MULTIPLE EXT and WRITE MULTIPLE (28-bit) too. */
	lba48(r, 200, 6);
	command(r, 0x29);
	read_words(r, buf, 6 * 512);
	assert_int_equal(inb(r, STATUS), ST_OK);
	assert_memory_equal(buf, data, sizeof(data));
	lba28(r, 210, 1);
	command(r, 0xc5);
	write_words(r, data, 512);
	assert_int_equal(inb(r, STATUS), ST_OK);
	/* 0 disables again. */
	outb(r, NSECTOR, 0);
	command(r, 0xc6);
	assert_int_equal(inb(r, STATUS), ST_OK);
	lba28(r, 0, 1);
	command(r, 0xc4);
	assert_int_equal(inb(r, STATUS), ST_FAIL);
}

/* CHS addressing with the default translation of IDENTIFY words 1/3/6. */
static void test_chs(void **state)
{
	struct rig *r;
	uint8_t buf[512];
	uint64_t lba = (1ull * 16 + 2) * 63 + 5 - 1;   /* C=1 H=2 S=5 */

	(void)state;
	r = rig_new(3 * 16 * 63, TIMING);
	*state = r;
	outb(r, NSECTOR, 1);
	outb(r, LBA_LOW, 5);
	outb(r, LBA_MID, 1);
	outb(r, LBA_HIGH, 0);
	outb(r, DEVICE, 0xa2);
	command(r, 0x20);
	read_words(r, buf, 512);
	assert_int_equal(inb(r, STATUS), ST_OK);
	expect_pattern(buf, lba, 1);
	outb(r, LBA_LOW, 0);                            /* sector 0 does not exist */
	command(r, 0x20);
	assert_int_equal(inb(r, STATUS), ST_FAIL);
	assert_int_equal(inb(r, ERROR), ER_IDNF);
	outb(r, LBA_LOW, 1);
	outb(r, LBA_MID, 3);                            /* cylinder 3 of 0-2 */
	command(r, 0x20);
	assert_int_equal(inb(r, ERROR), ER_IDNF);
}

/* ---------------------------------------------------------------- non-data commands */

static void test_errors_and_nondata(void **state)
{
	struct rig *r = *state;
	unsigned before = rises(r);
	uint8_t id[512];

	command(r, 0x00);                               /* NOP always aborts */
	assert_int_equal(rises(r), before + 1);
	assert_int_equal(inb(r, STATUS), ST_FAIL);
	assert_int_equal(inb(r, ERROR), ER_ABRT);
	command(r, 0xb0);                               /* SMART: not implemented */
	assert_int_equal(inb(r, ERROR), ER_ABRT);
	assert_int_equal(inb(r, STATUS), ST_FAIL);
	command(r, 0x91);                               /* INITIALIZE DEVICE PARAMETERS: no */
	assert_int_equal(inb(r, STATUS), ST_FAIL);

	/* Out of range: LBA28 PIO, DMA, verify. */
	lba28(r, 255, 2);
	command(r, 0x20);
	assert_int_equal(inb(r, STATUS), ST_FAIL);
	assert_int_equal(inb(r, ERROR), ER_IDNF);
	lba28(r, 256, 1);
	command(r, 0xc8);
	assert_int_equal(inb(r, STATUS), ST_FAIL);
	assert_int_equal(inb(r, ERROR), ER_IDNF);
	lba28(r, 0, 0);                                 /* 256 sectors: all of it */
	command(r, 0x40);
	assert_int_equal(inb(r, STATUS), ST_OK);
	assert_int_equal(r->charged, LAT_NS + 256 * SECT_NS);
	lba48(r, 1, 256);
	command(r, 0x42);
	assert_int_equal(inb(r, STATUS), ST_FAIL);
	assert_int_equal(inb(r, ERROR), ER_IDNF);
	lba28(r, 10, 1);
	command(r, 0x41);
	assert_int_equal(inb(r, STATUS), ST_OK);

	/* SET FEATURES. */
	outb(r, FEATURE, 0x03);
	outb(r, NSECTOR, 0x45);                         /* UDMA 5 */
	command(r, 0xef);
	assert_int_equal(inb(r, STATUS), ST_OK);
	outb(r, FEATURE, 0x03);
	outb(r, NSECTOR, 0x46);                         /* UDMA 6: not supported */
	command(r, 0xef);
	assert_int_equal(inb(r, STATUS), ST_FAIL);
	outb(r, FEATURE, 0x55);                         /* read look-ahead off */
	command(r, 0xef);
	assert_int_equal(inb(r, STATUS), ST_OK);
	outb(r, FEATURE, 0x02);                         /* write cache: not supported */
	command(r, 0xef);
	assert_int_equal(inb(r, STATUS), ST_FAIL);
	assert_int_equal(inb(r, ERROR), ER_ABRT);
	command(r, 0xec);
	read_words(r, id, 512);
	assert_int_equal(id[176] | id[177] << 8, 0x203f);   /* word 88: UDMA 5 selected */
	assert_int_equal((id[170] | id[171] << 8) & 0x40, 0);   /* word 85: look-ahead off */
	outb(r, FEATURE, 0x03);
	outb(r, NSECTOR, 0x22);                         /* MWDMA 2 */
	command(r, 0xef);
	command(r, 0xec);
	read_words(r, id, 512);
	assert_int_equal(id[126] | id[127] << 8, 0x0407);   /* word 63 */
	assert_int_equal(id[176] | id[177] << 8, 0x003f);

	/* FLUSH CACHE (EXT), CHECK POWER MODE, EXECUTE DEVICE DIAGNOSTIC. */
	before = rises(r);
	command(r, 0xe7);
	assert_int_equal(rises(r), before + 1);
	assert_int_equal(inb(r, STATUS), ST_OK);
	command(r, 0xea);
	assert_int_equal(inb(r, STATUS), ST_OK);
	command(r, 0xe5);
	assert_int_equal(inb(r, STATUS), ST_OK);
	assert_int_equal(inb(r, NSECTOR), 0xff);
	lba28(r, 0x123456, 9);
	command(r, 0x90);
	assert_int_equal(inb(r, STATUS), ST_OK);
	assert_int_equal(inb(r, ERROR), 0x01);
	assert_int_equal(inb(r, NSECTOR), 1);
	assert_int_equal(inb(r, LBA_LOW), 1);
	assert_int_equal(inb(r, LBA_HIGH), 0);
}

/* nIEN, device 1, SRST. */
static void test_interrupt_control_and_reset(void **state)
{
	struct rig *r = *state;
	unsigned before;

	outb(r, CONTROL, 0x02);                         /* nIEN */
	before = rises(r);
	command(r, 0xe7);
	assert_int_equal(rises(r), before);
	assert_int_equal(inb(r, BM_STATUS) & BM_INTR, 0);
	outb(r, CONTROL, 0x00);                         /* pending INTRQ now reaches IRQ 14 */
	assert_int_equal(rises(r), before + 1);
	assert_int_equal(inb(r, BM_STATUS) & BM_INTR, BM_INTR);
	assert_int_equal(inb(r, STATUS), ST_OK);
	assert_false(r->t->line[IRQ]);

	/* Device 1 is absent: status 00h, commands ignored, INTRQ released. */
	command(r, 0xe7);
	assert_true(r->t->line[IRQ]);
	outb(r, DEVICE, 0xb0);
	assert_false(r->t->line[IRQ]);
	assert_int_equal(inb(r, STATUS), 0x00);
	assert_int_equal(inb(r, ALTSTATUS), 0x00);
	before = rises(r);
	command(r, 0xec);
	assert_int_equal(rises(r), before);
	assert_int_equal(devtest_in(r->t, DATA, 2), 0xffff);
	outb(r, DEVICE, 0xa0);
	assert_true(r->t->line[IRQ]);                   /* still pending on device 0 */
	assert_int_equal(inb(r, STATUS), ST_OK);        /* IDENTIFY never ran */
	outb(r, DEVICE, 0xb0);
	command(r, 0x90);                               /* EXECUTE DEVICE DIAGNOSTIC runs */
	assert_int_equal(inb(r, DEVICE), 0x00);
	assert_int_equal(inb(r, STATUS), ST_OK);

	/* SRST in the middle of a PIO read. */
	outb(r, NSECTOR, 4);
	command(r, 0xc6);
	lba28(r, 0, 2);
	command(r, 0x20);
	assert_true(r->t->line[IRQ]);
	outb(r, CONTROL, 0x04);
	assert_false(r->t->line[IRQ]);
	assert_int_equal(inb(r, ALTSTATUS), ST_BSY);
	assert_int_equal(inb(r, STATUS), ST_BSY);
	command(r, 0xec);                               /* ignored while BSY */
	outb(r, LBA_LOW, 0x77);
	outb(r, CONTROL, 0x00);
	assert_int_equal(inb(r, STATUS), ST_OK);
	assert_int_equal(inb(r, LBA_LOW), 1);           /* signature */
	assert_int_equal(inb(r, ERROR), 1);
	assert_false(r->t->line[IRQ]);
	assert_int_equal(devtest_in(r->t, DATA, 2), 0xffff);
	/* Settings survive SRST unless "revert to defaults" is enabled. */
	lba28(r, 0, 8);
	command(r, 0xc4);
	assert_int_equal(inb(r, STATUS), ST_DATA);
	outb(r, FEATURE, 0xcc);
	outb(r, CONTROL, 0x04);
	outb(r, CONTROL, 0x00);
	command(r, 0xef);
	outb(r, CONTROL, 0x04);
	outb(r, CONTROL, 0x00);
	lba28(r, 0, 8);
	command(r, 0xc4);
	assert_int_equal(inb(r, STATUS), ST_FAIL);      /* multiple mode reverted */
}

/* ---------------------------------------------------------------- DMA */

static void test_dma_read_sync(void **state)
{
	struct rig *r = *state;
	vtime_t t0 = 5000000;

	devtest_run_until(r->t, t0);
	prd(r, PRDT, 0, BUF, 3 * 512, false);
	prd(r, PRDT, 1, BUF + 0x8000, 5 * 512, true);
	set_prdt(r, PRDT);
	lba28(r, 40, 8);
	command(r, 0xc8);
	assert_int_equal(inb(r, ALTSTATUS), ST_DATA);   /* waits for the bus master */
	assert_int_equal(rises(r), 0);
	bm_start(r, true);
	/* Served during the Start write: charged, interrupt at once. */
	assert_int_equal(r->charged, LAT_NS + 8 * SECT_NS);
	assert_int_equal(rises(r), 1);
	assert_int_equal(r->t->ev[r->t->nev - 1].t, t0);
	assert_int_equal(inb(r, BM_STATUS), BM_INTR);   /* Active cleared: exact fit */
	assert_int_equal(inb(r, STATUS), ST_OK);
	expect_pattern(r->ram + BUF, 40, 3);
	expect_pattern(r->ram + BUF + 0x8000, 43, 5);
	assert_int_equal(r->ram[BUF + 3 * 512], 0);     /* nothing past the region */
	assert_int_equal(devtest_next_deadline(r->t), DEVTEST_NEVER);
	bm_stop(r);
	outb(r, BM_STATUS, BM_INTR);
	assert_int_equal(inb(r, BM_STATUS), 0);

	/* Start first, then the command (the other order). READ DMA EXT. */
	memset(r->ram + BUF, 0, 4096);
	prd(r, PRDT, 0, BUF, 4 * 512, true);
	bm_start(r, true);
	assert_int_equal(inb(r, BM_STATUS), BM_ACTIVE);
	lba48(r, 60, 4);
	command(r, 0x25);
	assert_int_equal(inb(r, BM_STATUS), BM_INTR);
	assert_int_equal(inb(r, STATUS), ST_OK);
	expect_pattern(r->ram + BUF, 60, 4);
	/* A transfer needs a new 0->1 of Start. */
	lba48(r, 70, 1);
	command(r, 0x25);
	assert_int_equal(inb(r, STATUS), ST_DATA);
	bm_stop(r);
	bm_start(r, true);
	assert_int_equal(inb(r, STATUS), ST_OK);
	expect_pattern(r->ram + BUF, 70, 1);
	bm_stop(r);
}

static void test_dma_write_async(void **state)
{
	struct rig *r = *state;
	vtime_t t0 = 7000000, done = t0 + LAT_NS + 6 * SECT_NS;
	uint8_t back[6 * 512];

	fill(r->ram + BUF, 6 * 512, 9);
	devtest_run_until(r->t, t0);
	prd(r, PRDT, 0, BUF, 6 * 512, true);
	set_prdt(r, PRDT);
	lba48(r, 120, 6);
	command(r, 0x35);
	bm_start(r, false);
	/* In flight: BSY, no charge, no interrupt, completion armed. */
	assert_int_equal(r->charged, 0);
	assert_int_equal(rises(r), 0);
	assert_int_equal(inb(r, ALTSTATUS), ST_BUSY);
	assert_int_equal(inb(r, STATUS), ST_BUSY);
	assert_int_equal(inb(r, BM_STATUS), BM_ACTIVE);
	assert_int_equal(devtest_next_deadline(r->t), done);
	/* Register writes while BSY are ignored. */
	outb(r, LBA_LOW, 0x99);
	command(r, 0xec);
	/* The guest changing its buffer now does not change what is written. */
	memset(r->ram + BUF, 0xee, 512);
	devtest_run_until(r->t, done - 1);
	assert_int_equal(rises(r), 0);
	devtest_run_until(r->t, done);
	assert_int_equal(rises(r), 1);
	assert_int_equal(r->t->ev[r->t->nev - 1].t, done);
	assert_int_equal(inb(r, BM_STATUS), BM_INTR);
	assert_int_equal(inb(r, STATUS), ST_OK);
	assert_int_equal(inb(r, LBA_LOW), 120);
	bm_stop(r);
	file_read(r, 120, back, sizeof(back));
	memset(r->ram + BUF, 0, 512);
	fill(r->ram + BUF, 6 * 512, 9);
	assert_memory_equal(back, r->ram + BUF, sizeof(back));
	assert_int_equal(r->charged, 0);

	/* Read it back asynchronously: memory changes only at completion. */
	memset(r->ram + BUF + 0x10000, 0, 6 * 512);
	prd(r, PRDT, 0, BUF + 0x10000, 6 * 512, true);
	lba28(r, 120, 6);
	command(r, 0xc8);
	bm_start(r, true);
	vtime_t d2 = devtest_next_deadline(r->t);
	assert_int_equal(d2, r->t->now + LAT_NS + 6 * SECT_NS);   /* not where the write ended */
	devtest_run_until(r->t, d2 - 1);
	assert_int_equal(r->ram[BUF + 0x10000], 0);
	devtest_run_until(r->t, d2);
	assert_memory_equal(back, r->ram + BUF + 0x10000, sizeof(back));
	ack(r);
	bm_stop(r);
}

/* The bad PRD tables: each is a DMA error with nothing moved. */
static void expect_dma_error(struct rig *r, unsigned rises_before, const char *what)
{
	if (rises(r) != rises_before + 1)
		fail_msg("%s: %u interrupts, want 1", what, rises(r) - rises_before);
	if (inb(r, BM_STATUS) != (BM_ERROR | BM_INTR))
		fail_msg("%s: bus-master status %#x", what, inb(r, BM_STATUS));
	if (inb(r, STATUS) != ST_FAIL || inb(r, ERROR) != ER_ABRT)
		fail_msg("%s: ATA status %#x error %#x", what, inb(r, ALTSTATUS), inb(r, ERROR));
	assert_true(r->t->nlogs > 0);
	bm_stop(r);
	outb(r, BM_STATUS, BM_ERROR | BM_INTR);
}

static void bad_prd_cases(struct rig *r)
{
	unsigned before;
	uint8_t back[512];

	set_prdt(r, PRDT);
	/* The table itself outside RAM. */
	set_prdt(r, RAM_SIZE - 4);
	before = rises(r);
	lba28(r, 0, 1);
	command(r, 0xc8);
	bm_start(r, true);
	expect_dma_error(r, before, "table outside RAM");
	assert_int_equal(r->charged, 0);

	/* A region outside RAM (read and write). */
	set_prdt(r, PRDT);
	prd(r, PRDT, 0, RAM_SIZE - 256, 512, true);
	before = rises(r);
	command(r, 0xc8);
	bm_start(r, true);
	expect_dma_error(r, before, "read region outside RAM");
	assert_int_equal(r->ram[RAM_SIZE - 1], 0);
	prd(r, PRDT, 0, 0xfffff000u, 512, true);
	before = rises(r);
	lba28(r, 9, 1);
	command(r, 0xca);
	bm_start(r, false);
	expect_dma_error(r, before, "write region outside RAM");
	file_read(r, 9, back, 512);
	expect_pattern(back, 9, 1);

	/* No EOT before the 64 KiB boundary: 8 entries of 2 bytes short of it. */
	set_prdt(r, 0x20000 - 64);
	for (unsigned i = 0; i < 8; i++)
		prd(r, 0x20000 - 64, i, BUF, 2, false);
	prd(r, 0x20000, 0, BUF, 512, true);             /* beyond the boundary: never read */
	before = rises(r);
	lba28(r, 0, 1);
	command(r, 0xc8);
	bm_start(r, true);
	expect_dma_error(r, before, "no EOT");
	/* A whole 64 KiB table (8192 entries) without EOT. */
	set_prdt(r, 0x30000);
	for (unsigned i = 0; i < 8192; i++)
		prd(r, 0x30000, i, BUF, 2, false);
	before = rises(r);
	lba28(r, 0, 64);                                /* 32 KiB > 8192 * 2 bytes */
	command(r, 0xc8);
	bm_start(r, true);
	expect_dma_error(r, before, "8192 entries without EOT");
	memset(r->ram + 0x30000, 0, 0x10000);

	/* A table whose EOT entry ends before the transfer does. */
	set_prdt(r, PRDT);
	prd(r, PRDT, 0, BUF, 512, false);
	prd(r, PRDT, 1, BUF + 512, 512, true);
	before = rises(r);
	memset(r->ram + BUF, 0, 4096);
	lba28(r, 0, 3);
	command(r, 0xc8);
	bm_start(r, true);
	expect_dma_error(r, before, "short table");
	assert_int_equal(r->ram[BUF], 0);               /* nothing moved */

	/* Direction mismatch. */
	prd(r, PRDT, 0, BUF, 512, true);
	before = rises(r);
	lba28(r, 0, 1);
	command(r, 0xc8);
	bm_start(r, false);
	expect_dma_error(r, before, "READ DMA with RWCON=0");

	/* A zero byte count is 64 KiB: valid, one entry for 128 sectors... */
	set_prdt(r, PRDT);
	prd(r, PRDT, 0, 0x40000, 0, true);
	before = rises(r);
	lba28(r, 0, 128);
	command(r, 0xc8);
	bm_start(r, true);
	assert_int_equal(rises(r), before + 1);
	assert_int_equal(inb(r, BM_STATUS), BM_INTR);
	assert_int_equal(inb(r, STATUS), ST_OK);
	expect_pattern(r->ram + 0x40000, 0, 128);
	bm_stop(r);
	outb(r, BM_STATUS, BM_INTR);
	/* ... and an error when those 64 KiB are not all RAM. */
	prd(r, PRDT, 0, RAM_SIZE - 0x8000, 0, true);
	before = rises(r);
	lba28(r, 0, 128);
	command(r, 0xc8);
	bm_start(r, true);
	expect_dma_error(r, before, "zero count = 64 KiB past RAM");
	/* Regions larger than the transfer: Interrupt with Active still set. */
	prd(r, PRDT, 0, BUF, 4096, true);
	before = rises(r);
	lba28(r, 0, 1);
	command(r, 0xc8);
	bm_start(r, true);
	assert_int_equal(rises(r), before + 1);
	assert_int_equal(inb(r, BM_STATUS), BM_INTR | BM_ACTIVE);
	assert_int_equal(inb(r, STATUS), ST_OK);
	bm_stop(r);
	assert_int_equal(inb(r, BM_STATUS), BM_INTR);
	outb(r, BM_STATUS, BM_INTR);
}

static void test_bad_prds_sync(void **state)
{
	bad_prd_cases(*state);
}

static void test_bad_prds_async(void **state)
{
	struct rig *r = *state;

	/* Errors found when the transfer starts complete at once in both
	 * variants; the valid ones above complete on the timer here. */
	unsigned before;

	set_prdt(r, RAM_SIZE - 4);
	before = rises(r);
	lba28(r, 0, 1);
	command(r, 0xc8);
	bm_start(r, true);
	expect_dma_error(r, before, "async: table outside RAM");
	assert_int_equal(devtest_next_deadline(r->t), DEVTEST_NEVER);
	set_prdt(r, PRDT);
	prd(r, PRDT, 0, BUF, 512, true);
	before = rises(r);
	lba28(r, 0, 2);
	command(r, 0xc8);
	bm_start(r, true);
	expect_dma_error(r, before, "async: short table");
}

/* Start = 0 while an asynchronous transfer is in flight. */
static void test_bm_stop_async(void **state)
{
	struct rig *r = *state;
	unsigned before = rises(r);

	set_prdt(r, PRDT);
	prd(r, PRDT, 0, BUF, 2 * 512, true);
	lba28(r, 10, 2);
	command(r, 0xc8);
	bm_start(r, true);
	assert_int_equal(inb(r, ALTSTATUS), ST_BUSY);
	bm_stop(r);
	assert_int_equal(rises(r), before + 1);
	assert_int_equal(inb(r, STATUS), ST_FAIL);
	assert_int_equal(inb(r, ERROR), ER_ABRT);
	assert_int_equal(inb(r, BM_STATUS) & BM_ACTIVE, 0);
	assert_int_equal(r->ram[BUF], 0);               /* the data was discarded */
	assert_int_equal(devtest_next_deadline(r->t), DEVTEST_NEVER);
	devtest_run_until(r->t, 1000000000);
	assert_int_equal(rises(r), before + 1);

	/* SRST during a transfer in flight. */
	outb(r, BM_STATUS, BM_INTR);
	command(r, 0xc8);
	bm_start(r, true);
	outb(r, CONTROL, 0x04);
	outb(r, CONTROL, 0x00);
	assert_int_equal(inb(r, STATUS), ST_OK);
	assert_int_equal(devtest_next_deadline(r->t), DEVTEST_NEVER);
	devtest_run_until(r->t, 2000000000);
	assert_int_equal(rises(r), before + 1);
	assert_int_equal(r->ram[BUF], 0);
	bm_stop(r);
}

/*
 * The same operations on a dma=sync and a dma=async device: at every
 * completion time the guest-visible state (registers, IRQ 14, bus-master
 * status, memory, image) is identical, and the asynchronous completion
 * happens exactly when the synchronous vCPU would resume.
 */
struct op {
	uint8_t cmd;
	bool ext;
	uint64_t lba;
	uint16_t count;
	uint32_t prd[4][2];     /* base offset from BUF, bytes (0 = 64 KiB); end = {0,0} */
	bool eot;               /* EOT on the last entry */
};

static void play(struct rig *r, const struct op *o, vtime_t at)
{
	unsigned n = 0;

	devtest_run_until(r->t, at);
	for (n = 0; n < 4 && (o->prd[n][0] || o->prd[n][1]); n++)
		;
	for (unsigned i = 0; i < n; i++)
		prd(r, PRDT, i, BUF + o->prd[i][0], o->prd[i][1], o->eot && i == n - 1);
	set_prdt(r, PRDT);
	if (o->ext)
		lba48(r, o->lba, o->count);
	else
		lba28(r, (uint32_t)o->lba, (uint8_t)o->count);
	command(r, o->cmd);
	bm_start(r, o->cmd == 0xc8 || o->cmd == 0x25);
}

static void snapshot(struct rig *r, uint8_t *regs)
{
	regs[0] = inb(r, ALTSTATUS);
	regs[1] = inb(r, ERROR);
	regs[2] = inb(r, NSECTOR);
	regs[3] = inb(r, LBA_LOW);
	regs[4] = inb(r, LBA_MID);
	regs[5] = inb(r, LBA_HIGH);
	regs[6] = inb(r, DEVICE);
	regs[7] = inb(r, BM_STATUS);
	regs[8] = r->t->line[IRQ];
	regs[9] = (uint8_t)rises(r);
}

static void test_sync_async_identical(void **state)
{
	static const struct op ops[] = {
		{ 0xca, false, 10, 8, { { 0, 4096 } }, true },
		{ 0xc8, false, 10, 8, { { 0x8000, 1024 }, { 0x9000, 3072 } }, true },
		{ 0x35, true, 200, 16, { { 0x20000, 0 } }, true },                    /* 64 KiB entry, larger */
		{ 0x25, true, 200, 16, { { 0x30000, 8192 } }, true },
		{ 0xc8, false, 250, 10, { { 0, 8192 } }, true },                      /* IDNF */
		{ 0xc8, false, 0, 4, { { 0, 1024 } }, true },                         /* short table */
		{ 0xca, false, 30, 2, { { 0x40000, 512 }, { 0x40400, 512 } }, true },
		{ 0xc8, false, 31, 1, { { 0x50000, 512 } }, false },                  /* no EOT, exact */
	};
	struct rig *a = rig_new(256, TIMING ",dma=sync");
	struct rig *b = rig_new(256, TIMING ",dma=async");
	vtime_t t = 1000000;
	uint8_t ra[16], rb[16];
	uint8_t fa[256 * 512], fb[256 * 512];

	(void)state;
	for (unsigned i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		vtime_t ca = a->charged, done;

		fill(a->ram + BUF, 0x60000, i + 100);
		memcpy(b->ram + BUF, a->ram + BUF, 0x60000);
		play(a, &ops[i], t);
		play(b, &ops[i], t);
		done = t + (a->charged - ca);
		if (b->t->now < done && devtest_next_deadline(b->t) != DEVTEST_NEVER)
			assert_int_equal(devtest_next_deadline(b->t), done);
		/* The sync vCPU resumes at `done`; look at both then. */
		devtest_run_until(a->t, done);
		devtest_run_until(b->t, done);
		assert_int_equal(b->charged, 0);
		snapshot(a, ra);
		snapshot(b, rb);
		if (memcmp(ra, rb, 10))
			fail_msg("op %u: registers differ: sync st=%02x er=%02x bm=%02x irq=%d/%d, "
				 "async st=%02x er=%02x bm=%02x irq=%d/%d", i, ra[0], ra[1], ra[7], ra[8], ra[9],
				 rb[0], rb[1], rb[7], rb[8], rb[9]);
		assert_memory_equal(a->ram, b->ram, RAM_SIZE);
		/* The interrupt rose at the same virtual time as seen by the guest:
		 * sync during the Start write (charged), async at `done`. */
		if (ops[i].lba + ops[i].count <= 256 && i != 5) {
			assert_int_equal(b->t->ev[b->t->nev - 1].t, done);
			assert_int_equal(a->t->ev[a->t->nev - 1].t + (a->charged - ca), done);
		}
		ack(a);
		ack(b);
		bm_stop(a);
		bm_stop(b);
		t = done + 123457;
	}
	file_read(a, 0, fa, sizeof(fa));
	file_read(b, 0, fb, sizeof(fb));
	assert_memory_equal(fa, fb, sizeof(fa));
	assert_int_equal(a->t->nlogs, b->t->nlogs);
	char *da = devtest_dump(a->t), *db = devtest_dump(b->t);
	/* Same state apart from the configuration line. */
	assert_string_equal(strchr(da, '\n'), strchr(db, '\n'));
	free(da);
	free(db);
	rig_free(a);
	rig_free(b);
}

/* ---------------------------------------------------------------- host errors */

/* Point the device's image descriptor somewhere else (found by path). */
static void swap_image_fd(struct rig *r, const char *target, int flags)
{
	char link[64], where[256];
	int fd = open(target, flags);

	assert_true(fd >= 0);
	for (int i = 3; i < 1024; i++) {
		ssize_t n;
		snprintf(link, sizeof(link), "/proc/self/fd/%d", i);
		n = readlink(link, where, sizeof(where) - 1);
		if (n <= 0)
			continue;
		where[n] = 0;
		if (!strcmp(where, r->path)) {
			assert_int_equal(dup2(fd, i), i);
			close(fd);
			return;
		}
	}
	fail_msg("the device's descriptor for %s was not found", r->path);
}

static void test_host_write_errors(void **state)
{
	struct rig *r = *state;
	unsigned before = rises(r);
	uint8_t data[512];

	swap_image_fd(r, "/dev/full", O_RDWR);          /* every write: ENOSPC */
	fill(r->ram + BUF, 1024, 5);
	prd(r, PRDT, 0, BUF, 1024, true);
	set_prdt(r, PRDT);
	lba28(r, 77, 2);
	command(r, 0xca);
	bm_start(r, false);
	assert_int_equal(rises(r), before + 1);
	assert_int_equal(inb(r, STATUS), ST_FAIL);
	assert_int_equal(inb(r, ERROR), ER_ABRT);
	assert_int_equal(inb(r, LBA_LOW), 77);          /* the first sector not written */
	assert_non_null(strstr(r->t->last_log, "LBA 77"));
	assert_int_equal(inb(r, BM_STATUS) & BM_ERROR, 0);   /* not a bus error */
	bm_stop(r);
	/* PIO write. */
	memset(data, 1, sizeof(data));
	lba28(r, 5, 1);
	command(r, 0x30);
	write_words(r, data, 512);
	assert_int_equal(inb(r, STATUS), ST_FAIL);
	assert_int_equal(inb(r, ERROR), ER_ABRT);
	/* FLUSH CACHE: fsync on a character device fails. */
	command(r, 0xe7);
	assert_int_equal(inb(r, STATUS), ST_FAIL);
	assert_int_equal(inb(r, ERROR), ER_ABRT);
}

static void test_host_read_errors(void **state)
{
	struct rig *r = *state;
	unsigned before;

	/* The image shrinks under the model: reads past its end fail. */
	assert_int_equal(truncate(r->path, 100 * 512), 0);
	before = rises(r);
	lba28(r, 99, 3);
	command(r, 0x20);
	assert_int_equal(rises(r), before + 1);
	assert_int_equal(inb(r, STATUS), ST_DATA);      /* sector 99 is still there */
	uint8_t buf[512];
	read_words(r, buf, 512);
	expect_pattern(buf, 99, 1);
	assert_int_equal(rises(r), before + 2);         /* the error is reported with INTRQ */
	assert_int_equal(inb(r, STATUS), ST_FAIL);
	assert_int_equal(inb(r, ERROR), ER_UNC);
	assert_int_equal(inb(r, LBA_LOW), 100);
	prd(r, PRDT, 0, BUF, 4 * 512, true);
	set_prdt(r, PRDT);
	lba48(r, 98, 4);
	command(r, 0x25);
	bm_start(r, true);
	assert_int_equal(inb(r, STATUS), ST_FAIL);
	assert_int_equal(inb(r, ERROR), ER_UNC);
	assert_int_equal(inb(r, LBA_LOW), 100);
	bm_stop(r);
	lba28(r, 90, 20);
	command(r, 0x40);
	assert_int_equal(inb(r, STATUS), ST_FAIL);
	assert_int_equal(inb(r, ERROR), ER_UNC);
	/* A write-only descriptor: every read is EBADF. */
	swap_image_fd(r, r->path, O_WRONLY);
	lba28(r, 1, 1);
	command(r, 0x20);
	assert_int_equal(inb(r, ERROR), ER_UNC);
	assert_int_equal(inb(r, LBA_LOW), 1);
}

static void test_host_error_async(void **state)
{
	struct rig *r = *state;

	swap_image_fd(r, "/dev/full", O_RDWR);
	prd(r, PRDT, 0, BUF, 512, true);
	set_prdt(r, PRDT);
	lba28(r, 3, 1);
	command(r, 0xca);
	bm_start(r, false);
	assert_int_equal(inb(r, STATUS), ST_BUSY);
	devtest_run_until(r->t, r->t->now + LAT_NS + SECT_NS);
	assert_int_equal(inb(r, STATUS), ST_FAIL);
	assert_int_equal(inb(r, ERROR), ER_ABRT);
}

/* ---------------------------------------------------------------- save/restore */

static void *save(struct rig *r, size_t *len)
{
	static char probe[16384];
	long n = r->t->ops->save(r->t->dev, probe, sizeof(probe));
	void *buf;

	assert_true(n > 0);
	assert_int_equal(r->t->ops->save(r->t->dev, probe, (size_t)n - 1), -1);
	buf = malloc((size_t)n);
	assert_non_null(buf);
	memcpy(buf, probe, (size_t)n);
	*len = (size_t)n;
	return buf;
}

static void test_save_restore_pio(void **state)
{
	struct rig *r = *state;
	uint8_t first[512], again[512], data[1024], back[1024];
	size_t len;
	void *img;
	char *d1, *d2;

	outb(r, NSECTOR, 2);
	command(r, 0xc6);
	lba28(r, 30, 3);
	command(r, 0xc4);
	(void)inb(r, STATUS);
	read_words(r, first, 512);                     /* half of the first block */
	img = save(r, &len);
	d1 = devtest_dump(r->t);
	read_words(r, first, 512);
	expect_pattern(first, 31, 1);
	/* Do something else entirely, then go back. */
	outb(r, CONTROL, 0x04);
	outb(r, CONTROL, 0x00);
	command(r, 0xec);
	assert_int_equal(r->t->ops->restore(r->t->dev, img, len), 0);
	d2 = devtest_dump(r->t);
	assert_string_equal(d1, d2);
	read_words(r, again, 512);
	expect_pattern(again, 31, 1);
	assert_int_equal(inb(r, STATUS), ST_DATA);
	read_words(r, again, 512);
	expect_pattern(again, 32, 1);
	assert_int_equal(inb(r, STATUS), ST_OK);
	free(img);
	free(d1);
	free(d2);

	/* In the middle of a PIO write: the partial block is in the image. */
	fill(data, sizeof(data), 11);
	lba28(r, 50, 2);
	command(r, 0x30);
	write_words(r, data, 300);
	img = save(r, &len);
	write_words(r, back, 212);                      /* garbage, then restore */
	assert_int_equal(r->t->ops->restore(r->t->dev, img, len), 0);
	write_words(r, data + 300, 1024 - 300);
	assert_int_equal(inb(r, STATUS), ST_OK);
	file_read(r, 50, back, sizeof(back));
	assert_memory_equal(back, data, sizeof(data));

	/* Refused images. */
	uint8_t *bad = malloc(len);
	memcpy(bad, img, len);
	bad[0] ^= 1;
	assert_int_equal(r->t->ops->restore(r->t->dev, bad, len), -1);
	assert_int_equal(r->t->ops->restore(r->t->dev, img, len - 1), -1);
	memcpy(bad, img, len);
	bad[8] ^= 1;                                    /* another disk's size */
	assert_int_equal(r->t->ops->restore(r->t->dev, bad, len), -1);
	free(bad);
	free(img);
	assert_int_equal(inb(r, STATUS), ST_OK);        /* state unchanged by refusals */
}

static void test_save_restore_async(void **state)
{
	struct rig *r = *state;
	vtime_t done;
	size_t len;
	void *img;

	devtest_run_until(r->t, 3000000);
	prd(r, PRDT, 0, BUF, 4 * 512, true);
	set_prdt(r, PRDT);
	lba28(r, 12, 4);
	command(r, 0xc8);
	bm_start(r, true);
	done = devtest_next_deadline(r->t);
	assert_int_equal(done, 3000000 + LAT_NS + 4 * SECT_NS);
	img = save(r, &len);
	/* Reset everything, then restore: the transfer completes at `done`. */
	r->t->ops->reset(r->t->dev);
	assert_int_equal(devtest_next_deadline(r->t), DEVTEST_NEVER);
	assert_int_equal(inb(r, STATUS), ST_OK);
	assert_int_equal(r->t->ops->restore(r->t->dev, img, len), 0);
	assert_int_equal(inb(r, ALTSTATUS), ST_BUSY);
	assert_int_equal(devtest_next_deadline(r->t), done);
	assert_int_equal(r->ram[BUF], 0);
	devtest_run_until(r->t, done);
	assert_int_equal(inb(r, STATUS), ST_OK);
	assert_int_equal(inb(r, BM_STATUS), BM_INTR);
	expect_pattern(r->ram + BUF, 12, 4);
	assert_int_equal(r->t->line[IRQ], false);
	free(img);
	bm_stop(r);
}

/* ---------------------------------------------------------------- options */

static void test_options(void **state)
{
	static const char *const bad[] = {
		"colour=blue", "dma=maybe", "size=1000", "size=0", "size=12Q", "latency=5", "latency=11s",
		"latency=ms", "rate=0MB/s", "rate=60", "rate=60MiB/s", "image=", "image", "dma",
		"image=/nonexistent-dir/x.img,size=1M", "image=/tmp/vmxlab-ide-does-not-exist.img",
		"image=/dev/null",
	};
	struct devtest *t;
	char path[64], opts[256];
	struct stat st;
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		void *dev = calloc(1, ide_dev_ops.state_size);
		t = devtest_new(&ide_dev_ops, "");
		if (ide_dev_ops.init(dev, &t->plat, bad[i]) != -1)
			fail_msg("options \"%s\" accepted", bad[i]);
		assert_true(t->nlogs > 0);
		free(dev);
		devtest_free(t);
	}
	/* "" is an 8 MiB scratch disk. */
	t = devtest_new(&ide_dev_ops, "");
	char *d = devtest_dump(t);
	assert_non_null(strstr(d, "16384 sectors"));
	assert_non_null(strstr(d, "image=(scratch)"));
	assert_non_null(strstr(d, "dma=sync"));
	assert_non_null(strstr(d, "latency=12670000ns rate=60000000B/s"));
	free(d);
	devtest_free(t);
	/* size= creates the file; a second device cannot share it. */
	strcpy(path, "/tmp/test-ide-new-XXXXXX");
	close(mkstemp(path));
	unlink(path);
	snprintf(opts, sizeof(opts), "image=%s,size=1.5M,dma=async,latency=4.17ms,rate=66.6MB/s", path);
	t = devtest_new(&ide_dev_ops, opts);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 1536 * 1024);
	d = devtest_dump(t);
	assert_non_null(strstr(d, "3072 sectors"));
	assert_non_null(strstr(d, "latency=4170000ns rate=66600000B/s"));
	free(d);
	void *dev = calloc(1, ide_dev_ops.state_size);
	assert_int_equal(ide_dev_ops.init(dev, &t->plat, opts), -1);
	assert_non_null(strstr(t->last_log, "in use"));
	free(dev);
	devtest_free(t);
	/* Without size= the file's own size counts (rounded down to sectors);
	 * a larger size= extends it. */
	assert_int_equal(truncate(path, 4096 + 100), 0);
	snprintf(opts, sizeof(opts), "image=%s", path);
	t = devtest_new(&ide_dev_ops, opts);
	d = devtest_dump(t);
	assert_non_null(strstr(d, " 8 sectors"));
	free(d);
	devtest_free(t);
	snprintf(opts, sizeof(opts), "image=%s,size=64K", path);
	t = devtest_new(&ide_dev_ops, opts);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 65536);
	devtest_free(t);
	unlink(path);
}

/* ---------------------------------------------------------------- hostile input */

static void hostile(const char *extra, uint64_t seed0)
{
	static const uint16_t ports[] = { 0x1f0, 0x1f1, 0x1f2, 0x1f3, 0x1f4, 0x1f5, 0x1f6, 0x1f7,
					  0x3f6, 0xc000, 0xc001, 0xc002, 0xc003, 0xc004, 0xc005,
					  0xc006, 0xc007 };
	static const uint8_t cmds[] = { 0x20, 0x24, 0x25, 0x29, 0x30, 0x34, 0x35, 0x39, 0x40, 0x42,
					0xc4, 0xc5, 0xc6, 0xc8, 0xca, 0xe7, 0xea, 0xec, 0xef, 0x90 };
	struct rig *r = rig_new(64, extra);
	uint64_t seed = seed0;
	uint8_t id[512];

	for (unsigned i = 0; i < 40000; i++) {
		uint64_t x = devtest_rand(&seed);
		uint16_t port = ports[(x >> 8) % (sizeof(ports) / sizeof(ports[0]))];
		unsigned size = 1u << ((x >> 16) % 3);
		uint32_t v = (uint32_t)(x >> 32);

		switch (x % 10) {
		case 0: case 1: case 2:
			(void)devtest_in(r->t, port, size);
			break;
		case 3:
			/* Mostly plausible commands, so that transfers happen. */
			if ((x >> 20) & 1) {
				uint64_t y = devtest_rand(&seed);
				if (y & 1)
					lba28(r, (uint32_t)((y >> 8) % 64), (uint8_t)(1 + (y >> 16) % 8));
				else
					lba48(r, (y >> 8) % 64, (uint16_t)(1 + (y >> 16) % 8));
				if ((y >> 24) & 1)
					outb(r, BM_CMD, (uint8_t)((y >> 25) & 0x09));
			}
			outb(r, COMMAND, cmds[(x >> 24) % sizeof(cmds)]);
			break;
		case 4:
			/* Point the PRD table into RAM with random, mostly sane entries. */
			devtest_out(r->t, BM_PRDT, 4, (x >> 60) ? PRDT : (uint32_t)((x >> 24) % (RAM_SIZE + 0x1000)));
			for (unsigned k = 0; k < 4; k++) {
				uint64_t y = devtest_rand(&seed);
				uint32_t count = (y >> 62) ? (uint32_t)(512 * (1 + (y >> 32) % 8)) : (uint32_t)(y >> 32) & 0xffff;
				prd(r, PRDT, k, (uint32_t)(y % (RAM_SIZE + 0x10000)), count, (y >> 48) & 1);
			}
			if ((x >> 20) & 1)
				outb(r, BM_CMD, (uint8_t)(((x >> 21) & 0x08) | 1));
			break;
		case 6:
			/* A whole block through the Data register. */
			for (unsigned k = 0; k < 256; k++) {
				if ((x >> 22) & 1)
					(void)inw(r, DATA);
				else
					outw(r, DATA, (uint16_t)(k * x));
			}
			break;
		case 5:
			devtest_run_until(r->t, r->t->now + (x >> 40) % 5000000);
			break;
		default:
			devtest_out(r->t, port, size, v);
			break;
		}
		assert_int_equal(r->t->bad_lines, 0);
	}
	assert_int_equal(r->t->ntimers, 1);
	/* Whatever happened, SRST brings the disk back. */
	bm_stop(r);
	devtest_run_until(r->t, r->t->now + 1000000000);
	outb(r, CONTROL, 0x04);
	outb(r, CONTROL, 0x00);
	outb(r, DEVICE, 0xa0);
	assert_int_equal(inb(r, STATUS), ST_OK);
	command(r, 0xec);
	assert_int_equal(inb(r, STATUS), ST_DATA);
	read_words(r, id, 512);
	assert_int_equal(inb(r, STATUS), ST_OK);
	assert_int_equal(id[510], 0xa5);
	char *d = devtest_dump(r->t);
	print_message("%s", strstr(d, "ide stats"));
	free(d);
	rig_free(r);
}

static void test_hostile_sync(void **state)
{
	(void)state;
	hostile(TIMING, 0x1234567887654321ull);
}

static void test_hostile_async(void **state)
{
	(void)state;
	hostile(TIMING ",dma=async", 0x0badc0ffee0ddf00ull);
}

/* The fuzz target's seeds and a batch of pseudo-random scripts, through the
 * same harness as `make fuzz-ide` (tests/fuzz/fuzz_ide.c, included above). */
static void test_fuzz_harness(void **state)
{
	static uint8_t buf[4096];
	DIR *d = opendir("tests/fuzz/ide-seeds");
	struct dirent *e;
	unsigned n = 0;
	uint64_t seed = 0x5eed1de5eed1de00ull;

	(void)state;
	assert_non_null(d);
	while ((e = readdir(d))) {
		char p[512];
		FILE *f;
		size_t len;

		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "tests/fuzz/ide-seeds/%s", e->d_name);
		f = fopen(p, "rb");
		assert_non_null(f);
		len = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		LLVMFuzzerTestOneInput(buf, len);
		n++;
	}
	closedir(d);
	assert_true(n >= 10);
	for (unsigned i = 0; i < 300; i++) {
		size_t len = 64 + devtest_rand(&seed) % 960;
		for (size_t k = 0; k < len; k++)
			buf[k] = (uint8_t)devtest_rand(&seed);
		LLVMFuzzerTestOneInput(buf, len);
	}
}

static void test_dump(void **state)
{
	struct rig *r = *state;
	char *d;

	lba28(r, 1, 2);
	command(r, 0x20);
	d = devtest_dump(r->t);
	assert_non_null(strstr(d, "ide ata status=58"));
	assert_non_null(strstr(d, "phase=pio-in"));
	assert_non_null(strstr(d, "irq14=1"));
	assert_non_null(strstr(d, "ide bus-master command=00"));
	assert_non_null(strstr(d, "commands=1 read=1"));
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_signature_and_ports, setup_small, teardown),
		cmocka_unit_test_setup_teardown(test_identify, setup_small, teardown),
		cmocka_unit_test_setup_teardown(test_data_widths, setup_small, teardown),
		cmocka_unit_test_setup_teardown(test_pio_read_lba28, setup_small, teardown),
		cmocka_unit_test_setup_teardown(test_pio_write_lba28, setup_small, teardown),
		cmocka_unit_test_teardown(test_pio_lba48, teardown),
		cmocka_unit_test_setup_teardown(test_multiple, setup_small, teardown),
		cmocka_unit_test_teardown(test_chs, teardown),
		cmocka_unit_test_setup_teardown(test_errors_and_nondata, setup_small, teardown),
		cmocka_unit_test_setup_teardown(test_interrupt_control_and_reset, setup_small, teardown),
		cmocka_unit_test_setup_teardown(test_dma_read_sync, setup_small, teardown),
		cmocka_unit_test_setup_teardown(test_dma_write_async, setup_async, teardown),
		cmocka_unit_test_setup_teardown(test_bad_prds_sync, setup_small, teardown),
		cmocka_unit_test_setup_teardown(test_bad_prds_async, setup_async, teardown),
		cmocka_unit_test_setup_teardown(test_bm_stop_async, setup_async, teardown),
		cmocka_unit_test(test_sync_async_identical),
		cmocka_unit_test_setup_teardown(test_host_write_errors, setup_small, teardown),
		cmocka_unit_test_setup_teardown(test_host_read_errors, setup_small, teardown),
		cmocka_unit_test_setup_teardown(test_host_error_async, setup_async, teardown),
		cmocka_unit_test_setup_teardown(test_save_restore_pio, setup_small, teardown),
		cmocka_unit_test_setup_teardown(test_save_restore_async, setup_async, teardown),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_hostile_sync),
		cmocka_unit_test(test_hostile_async),
		cmocka_unit_test(test_fuzz_harness),
		cmocka_unit_test_setup_teardown(test_dump, setup_small, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
