/*
 * memory.c - guest RAM (a memfd), the host area, the guest-physical memory
 * map (MMIO holes, shared buffers), the EPT paging structures that express
 * it, and the identity page tables long-mode guests start with.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "machine.h"

#define PAGE_SIZE 0x1000ull
#define PAGE_MASK (~(PAGE_SIZE - 1))
#define LARGE_SIZE 0x200000ull

/* Long-mode boot area, at the top of RAM (sim.h). */
#define BOOT_PML4 0x0000
#define BOOT_PDPT 0x1000
#define BOOT_PD   0x2000      /* four page directories, 0x2000..0x5fff */
#define BOOT_GDT  0x6000
#define BOOT_TSS  0x7000

int sim_mem_alloc(struct sim_machine *m, char *err, size_t errlen)
{
	m->ram_fd = memfd_create("vmxlab-guest-ram", MFD_CLOEXEC);
	if (m->ram_fd < 0) {
		snprintf(err, errlen, "memfd_create for guest RAM: %s", strerror(errno));
		return -1;
	}
	if (ftruncate(m->ram_fd, (off_t)m->cfg.ram_size) != 0) {
		struct rlimit fsize;
		/* Guest RAM is a file (shared with vmxlab-dm), so RLIMIT_FSIZE applies. */
		if (errno == EFBIG && getrlimit(RLIMIT_FSIZE, &fsize) == 0 && fsize.rlim_cur != RLIM_INFINITY)
			snprintf(err, errlen,
				 "guest RAM (%llu MiB, a shared-memory file) is larger than the file-size limit "
				 "(ulimit -f: %llu KiB)", (unsigned long long)(m->cfg.ram_size >> 20),
				 (unsigned long long)(fsize.rlim_cur >> 10));
		else
			snprintf(err, errlen, "cannot size guest RAM to %llu bytes: %s",
				 (unsigned long long)m->cfg.ram_size, strerror(errno));
		return -1;
	}
	m->ram = mmap(NULL, m->cfg.ram_size, PROT_READ | PROT_WRITE, MAP_SHARED, m->ram_fd, 0);
	if (m->ram == MAP_FAILED) {
		m->ram = NULL;
		snprintf(err, errlen, "cannot map guest RAM: %s", strerror(errno));
		return -1;
	}
	m->host = mmap(NULL, HOST_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m->host == MAP_FAILED) {
		m->host = NULL;
		snprintf(err, errlen, "cannot allocate the host area: %s", strerror(errno));
		return -1;
	}
	return 0;
}

void sim_mem_free(struct sim_machine *m)
{
	if (m->ram)
		munmap(m->ram, m->cfg.ram_size);
	if (m->host)
		munmap(m->host, HOST_SIZE);
	if (m->ram_fd >= 0)
		close(m->ram_fd);
}

static uint8_t *host_ptr(struct sim_machine *m, uint64_t hpa)
{
	return m->host + (hpa - HOST_BASE);
}

void sim_mem_publish(struct sim_machine *m)
{
	struct glue_memmap map = { .ram = m->ram, .ram_size = m->cfg.ram_size, .host = m->host };
	for (unsigned i = 0; i < m->nranges && map.nshared < GLUE_MAX_SHARED; i++) {
		if (!m->ranges[i].host)
			continue;
		map.shared[map.nshared++] = (struct glue_shared){
			.hpa = m->ranges[i].hpa, .len = m->ranges[i].len, .host = m->ranges[i].host,
		};
	}
	glue_set_memmap(&map);
}

/* ------------------------------------------------------------ the map */

static const struct sim_range *range_at(const struct sim_machine *m, uint64_t gpa)
{
	for (unsigned i = 0; i < m->nranges; i++)
		if (gpa >= m->ranges[i].gpa && gpa - m->ranges[i].gpa < m->ranges[i].len)
			return &m->ranges[i];
	return NULL;
}

static bool range_overlaps(const struct sim_machine *m, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < m->nranges; i++)
		if (gpa < m->ranges[i].gpa + m->ranges[i].len && m->ranges[i].gpa < gpa + len)
			return true;
	return false;
}

uint8_t *sim_gpa_page(struct sim_machine *m, uint64_t gpa, uint64_t *hpa)
{
	const struct sim_range *r = range_at(m, gpa);
	if (r) {
		if (!r->host)
			return NULL;
		*hpa = r->hpa + (gpa - r->gpa);
		return r->host + (gpa - r->gpa);
	}
	if (gpa >= m->cfg.ram_size)
		return NULL;
	*hpa = gpa;
	return m->ram + gpa;
}

/* Every byte must be RAM or shared; nothing is copied otherwise. */
int sim_gpa_check(struct sim_machine *m, uint64_t gpa, size_t len)
{
	uint64_t hpa;
	if (gpa + len < gpa)
		return -1;
	for (uint64_t p = gpa & PAGE_MASK; p < gpa + len; p += PAGE_SIZE)
		if (!sim_gpa_page(m, p, &hpa))
			return -1;
	return 0;
}

int sim_gpa_read(struct sim_machine *m, uint64_t gpa, void *buf, size_t len)
{
	if (sim_gpa_check(m, gpa, len))
		return -1;
	for (size_t done = 0; done < len;) {
		uint64_t hpa, a = gpa + done;
		size_t n = PAGE_SIZE - (a & ~PAGE_MASK);
		if (n > len - done)
			n = len - done;
		memcpy((uint8_t *)buf + done, sim_gpa_page(m, a, &hpa), n);
		done += n;
	}
	return 0;
}

int sim_gpa_write(struct sim_machine *m, uint64_t gpa, const void *buf, size_t len)
{
	if (sim_gpa_check(m, gpa, len))
		return -1;
	for (size_t done = 0; done < len;) {
		uint64_t hpa, a = gpa + done;
		size_t n = PAGE_SIZE - (a & ~PAGE_MASK);
		if (n > len - done)
			n = len - done;
		memcpy(sim_gpa_page(m, a, &hpa), (const uint8_t *)buf + done, n);
		glue_code_written(hpa, n);
		done += n;
	}
	return 0;
}

static int range_add(struct sim_machine *m, uint64_t gpa, uint64_t len, void *host)
{
	if (!len || (gpa | len) & ~PAGE_MASK || gpa + len < gpa || gpa + len > (1ull << 39)) {
		sim_set_error(m, "range 0x%llx+0x%llx: must be page-aligned, non-empty, below 512 GiB",
			      (unsigned long long)gpa, (unsigned long long)len);
		return -1;
	}
	if (host && ((uintptr_t)host & ~PAGE_MASK)) {
		sim_set_error(m, "shared buffer for 0x%llx is not page-aligned", (unsigned long long)gpa);
		return -1;
	}
	if (m->nranges == SIM_MAX_RANGES || range_overlaps(m, gpa, len)) {
		sim_set_error(m, "range 0x%llx+0x%llx overlaps another one (or %d ranges already)",
			      (unsigned long long)gpa, (unsigned long long)len, SIM_MAX_RANGES);
		return -1;
	}
	if (m->cfg.mode == SIM_MODE_LONG64 && gpa < m->cfg.ram_size &&
	    gpa + len > sim_boot_area(m)) {
		sim_set_error(m, "range 0x%llx+0x%llx covers sim's boot area at 0x%llx",
			      (unsigned long long)gpa, (unsigned long long)len,
			      (unsigned long long)sim_boot_area(m));
		return -1;
	}
	unsigned nshared = 0;
	for (unsigned i = 0; i < m->nranges; i++)
		nshared += m->ranges[i].host != NULL;
	if (host && (nshared == GLUE_MAX_SHARED ||
		     m->shared_next + len > SHARED_HPA_BASE + SHARED_HPA_SIZE)) {
		sim_set_error(m, "shared buffers: at most %d, 0x%llx bytes in all", GLUE_MAX_SHARED,
			      SHARED_HPA_SIZE);
		return -1;
	}
	struct sim_range *r = &m->ranges[m->nranges++];
	*r = (struct sim_range){ .gpa = gpa, .len = len, .host = host, .hpa = m->shared_next };
	if (sim_ept_build(m)) {
		m->nranges--;
		sim_ept_build(m);
		return -1;
	}
	if (host)
		m->shared_next += len;
	sim_mem_publish(m);
	glue_tlb_flush();
	return 0;
}

int sim_map_mmio(struct sim_machine *m, uint64_t gpa, uint64_t len)
{
	return range_add(m, gpa, len, NULL);
}

int sim_map_shared(struct sim_machine *m, uint64_t gpa, uint64_t len, void *host)
{
	if (!host) {
		sim_set_error(m, "sim_map_shared: no buffer");
		return -1;
	}
	return range_add(m, gpa, len, host);
}

/* ------------------------------------------------------------ EPT
 *
 * Four levels (SDM 29.3.2), built from scratch on every map change in the
 * host area's pool.  Entry formats used here:
 *
 *   non-leaf (PML4E, PDPTE, PDE):  next-table HPA | 0x7
 *   2 MiB leaf (PDE):  HPA | 0xb7     4 KiB leaf (PTE):  HPA | 0x37
 *
 *    63  52 51      12 11  8 7  6 5   3 2 1 0
 *   +------+----------+-----+--+--+-----+-+-+-+
 *   |  0   | address  |  0  |PS|IP| MT  |X|W|R|
 *   +------+----------+-----+--+--+-----+-+-+-+
 *   MT (memory type, leaves only) 6 = write-back; PS: this PDE maps 2 MiB.
 * RAM chunks of 2 MiB with nothing else in them get a 2 MiB leaf; the rest
 * is mapped page by page, MMIO pages left out so that accesses to them
 * cause EPT violations.
 */
#define EPT_RWX     0x7ull
#define EPT_WB      (6ull << 3)
#define EPT_LARGE   (1ull << 7)
#define EPT_ADDR    0x000ffffffffff000ull

uint64_t sim_ept_pointer(void)
{
	/* EPTP (SDM 25.6.11): PML4 HPA | (walk length - 1) << 3 | memory type. */
	return HOST_EPT_POOL | (3ull << 3) | 6;
}

static uint64_t ept_alloc(struct sim_machine *m)
{
	if (m->ept_next >= HOST_EPT_POOL_END)
		return 0;
	uint64_t hpa = m->ept_next;
	m->ept_next += PAGE_SIZE;
	memset(host_ptr(m, hpa), 0, PAGE_SIZE);
	return hpa;
}

/* The entry for `gpa` at `level` (3 = PML4 ... 0 = PT), creating tables on
 * the way down.  NULL when the pool is exhausted. */
static uint64_t *ept_entry(struct sim_machine *m, uint64_t gpa, int level)
{
	uint64_t table = HOST_EPT_POOL;
	for (int l = 3;; l--) {
		uint64_t *e = (uint64_t *)host_ptr(m, table) + ((gpa >> (12 + 9 * l)) & 0x1ff);
		if (l == level)
			return e;
		if (!*e) {
			uint64_t next = ept_alloc(m);
			if (!next)
				return NULL;
			*e = next | EPT_RWX;
		}
		table = *e & EPT_ADDR;
	}
}

static int ept_map(struct sim_machine *m, uint64_t gpa, uint64_t hpa, bool large)
{
	uint64_t *e = ept_entry(m, gpa, large ? 1 : 0);
	if (!e) {
		sim_set_error(m, "EPT: out of table pages (too many small mappings)");
		return -1;
	}
	*e = hpa | EPT_WB | EPT_RWX | (large ? EPT_LARGE : 0);
	return 0;
}

static int ept_map_page(struct sim_machine *m, uint64_t gpa)
{
	uint64_t hpa;
	if (!sim_gpa_page(m, gpa, &hpa))
		return 0; /* MMIO or nothing: no entry */
	return ept_map(m, gpa, hpa, false);
}

int sim_ept_build(struct sim_machine *m)
{
	m->ept_next = HOST_EPT_POOL;
	ept_alloc(m); /* the PML4 */

	for (uint64_t c = 0; c < m->cfg.ram_size; c += LARGE_SIZE) {
		if (c + LARGE_SIZE <= m->cfg.ram_size && !range_overlaps(m, c, LARGE_SIZE)) {
			if (ept_map(m, c, c, true))
				return -1;
			continue;
		}
		for (uint64_t p = c; p < c + LARGE_SIZE && p < m->cfg.ram_size; p += PAGE_SIZE)
			if (ept_map_page(m, p))
				return -1;
	}
	for (unsigned i = 0; i < m->nranges; i++) {
		const struct sim_range *r = &m->ranges[i];
		if (!r->host)
			continue;
		for (uint64_t p = r->gpa; p < r->gpa + r->len; p += PAGE_SIZE)
			if (p >= m->cfg.ram_size && ept_map_page(m, p))
				return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ long-mode boot
 *
 * Identity map of the first 4 GiB with 2 MiB pages (SDM Vol. 3A 4.5):
 * PML4[0] -> PDPT, PDPT[0..3] -> PD[0..3], PD[i][j] maps (i << 30 | j << 21).
 * Entries are P|RW|US (+PS for the 2 MiB leaves).
 */
#define PTE_P_RW_US 0x7ull
#define PTE_PS      0x80ull

uint64_t sim_boot_area(const struct sim_machine *m)
{
	return m->cfg.ram_size - SIM_BOOT_AREA_SIZE;
}

static void boot_page_tables(struct sim_machine *m, uint64_t base)
{
	uint64_t *pml4 = (uint64_t *)(m->ram + base + BOOT_PML4);
	uint64_t *pdpt = (uint64_t *)(m->ram + base + BOOT_PDPT);

	pml4[0] = (base + BOOT_PDPT) | PTE_P_RW_US;
	for (uint64_t i = 0; i < 4; i++) {
		uint64_t pd_gpa = base + BOOT_PD + i * PAGE_SIZE;
		uint64_t *pd = (uint64_t *)(m->ram + pd_gpa);
		pdpt[i] = pd_gpa | PTE_P_RW_US;
		for (uint64_t j = 0; j < 512; j++)
			pd[j] = (i << 30 | j << 21) | PTE_P_RW_US | PTE_PS;
	}
}

/* GDT as in sim.h; descriptor layout in trampoline.S. */
static void boot_gdt(struct sim_machine *m, uint64_t base)
{
	uint64_t *gdt = (uint64_t *)(m->ram + base + BOOT_GDT);
	uint64_t tss = base + BOOT_TSS;

	gdt[0] = 0;
	gdt[SIM_GDT_CODE64 / 8] = 0x00af9b000000ffffull;
	gdt[SIM_GDT_DATA / 8] = 0x00cf93000000ffffull;
	gdt[SIM_GDT_CODE32 / 8] = 0x00cf9b000000ffffull;
	/* 64-bit TSS, busy (type 11), limit 0x67: 16 bytes */
	gdt[SIM_GDT_TSS / 8] = 0x67 | (tss & 0xffffff) << 16 | 0x8bull << 40 |
			       ((tss >> 24) & 0xff) << 56;
	gdt[SIM_GDT_TSS / 8 + 1] = tss >> 32;
}

void sim_guest_boot_build(struct sim_machine *m)
{
	uint64_t base = sim_boot_area(m);
	memset(m->ram + base, 0, SIM_BOOT_AREA_SIZE);
	boot_page_tables(m, base);
	boot_gdt(m, base);
	glue_code_written(base, SIM_BOOT_AREA_SIZE);
}

uint64_t sim_boot_gdt(const struct sim_machine *m)
{
	return sim_boot_area(m) + BOOT_GDT;
}

uint64_t sim_boot_tss(const struct sim_machine *m)
{
	return sim_boot_area(m) + BOOT_TSS;
}

/* ------------------------------------------------------------ public API */

void *sim_ram(struct sim_machine *m, uint64_t *size)
{
	if (size)
		*size = m->cfg.ram_size;
	return m->ram;
}

int sim_ram_fd(const struct sim_machine *m)
{
	return m->ram_fd;
}

int sim_load_bytes(struct sim_machine *m, uint64_t gpa, const void *buf, size_t len)
{
	if (sim_gpa_write(m, gpa, buf, len)) {
		sim_set_error(m, "cannot load %zu bytes at 0x%llx: not all of it is guest RAM", len,
			      (unsigned long long)gpa);
		return -1;
	}
	return 0;
}

/* Bitmaps (SDM 25.6.4, 25.6.9): a set bit makes the access exit.
 *   I/O bitmap A ports 0x0000-0x7fff, B 0x8000-0xffff, one bit per port.
 *   MSR bitmap: read low (MSRs 0-0x1fff) at 0, read high (0xc0000000-
 *   0xc0001fff) at 1024, write low at 2048, write high at 3072; MSRs outside
 *   both ranges always exit. */
static void bit_set(uint8_t *map, unsigned bit, bool on)
{
	if (on)
		map[bit / 8] |= (uint8_t)(1u << (bit % 8));
	else
		map[bit / 8] &= (uint8_t)~(1u << (bit % 8));
}

void sim_bitmaps_publish(struct sim_machine *m)
{
	memcpy(host_ptr(m, HOST_IO_BITMAP_A), m->io_bitmap, sizeof m->io_bitmap);
	memcpy(host_ptr(m, HOST_MSR_BITMAP), m->msr_bitmap, sizeof m->msr_bitmap);
}

void sim_intercept_io(struct sim_machine *m, uint16_t port, bool exit)
{
	bit_set(m->io_bitmap, port, exit);
	sim_bitmaps_publish(m);
}

void sim_intercept_msr(struct sim_machine *m, uint32_t msr, bool read_exits, bool write_exits)
{
	unsigned off;
	if (msr <= 0x1fff)
		off = 0;
	else if (msr >= 0xc0000000u && msr <= 0xc0001fffu)
		off = 1024 * 8;
	else
		return; /* always exits */
	unsigned bit = msr & 0x1fff;
	bit_set(m->msr_bitmap, off + bit, read_exits);
	bit_set(m->msr_bitmap, off + 2048 * 8 + bit, write_exits);
	sim_bitmaps_publish(m);
}

void sim_set_pio_passthrough(struct sim_machine *m, sim_pio_fn fn, void *ctx)
{
	m->pio_fn = fn;
	m->pio_ctx = ctx;
	glue_set_pio(fn, ctx);
}
