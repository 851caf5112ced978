/*
 * loader.c - guest images: ELF64 and ELF32 executables (PT_LOAD segments at
 * their physical addresses, zero-filled up to p_memsz), anything else as a
 * flat binary; and a Linux kernel by its 64-bit boot protocol.  Every check
 * fails with a message in sim_error; nothing is written to guest RAM unless
 * the whole image fits.
 */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "machine.h"

/* A loadable piece: file bytes [off, off+filesz) to gpa, then zeros up to memsz. */
struct piece {
	uint64_t gpa, off, filesz, memsz;
};
#define MAX_PIECES 64

static int read_file(struct sim_machine *m, const char *path, uint8_t **data, size_t *size)
{
	if (!path || !*path) {
		sim_set_error(m, "no image file given");
		return -1;
	}
	struct stat st;
	FILE *f = fopen(path, "rb");
	if (!f) {
		sim_set_error(m, "cannot open image %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		fclose(f);
		sim_set_error(m, "image %s is not a regular file", path);
		return -1;
	}
	if ((uint64_t)st.st_size > m->cfg.ram_size) {
		fclose(f);
		sim_set_error(m, "image %s (%lld bytes) is larger than guest RAM", path,
			      (long long)st.st_size);
		return -1;
	}
	uint8_t *buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	size_t n = buf ? fread(buf, 1, (size_t)st.st_size, f) : 0;
	fclose(f);
	if (!buf || n != (size_t)st.st_size) {
		free(buf);
		sim_set_error(m, "cannot read image %s%s", path, buf ? "" : ": out of memory");
		return -1;
	}
	*data = buf;
	*size = n;
	return 0;
}

/* The program headers of a 32- or 64-bit ELF file as pieces. */
static int elf_pieces(struct sim_machine *m, const char *path, const uint8_t *d, size_t size,
		      struct piece *p, unsigned *np, uint64_t *entry)
{
	bool is64 = d[EI_CLASS] == ELFCLASS64;
	uint64_t phoff, phentsize, phnum;
	unsigned machine, type;

	if ((d[EI_CLASS] != ELFCLASS32 && !is64) || d[EI_DATA] != ELFDATA2LSB) {
		sim_set_error(m, "%s: not a little-endian ELF32/ELF64 file", path);
		return -1;
	}
	if (size < (is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr))) {
		sim_set_error(m, "%s: truncated ELF header", path);
		return -1;
	}
	if (is64) {
		const Elf64_Ehdr *h = (const Elf64_Ehdr *)d;
		type = h->e_type, machine = h->e_machine, *entry = h->e_entry;
		phoff = h->e_phoff, phentsize = h->e_phentsize, phnum = h->e_phnum;
	} else {
		const Elf32_Ehdr *h = (const Elf32_Ehdr *)d;
		type = h->e_type, machine = h->e_machine, *entry = h->e_entry;
		phoff = h->e_phoff, phentsize = h->e_phentsize, phnum = h->e_phnum;
	}
	if (type != ET_EXEC || machine != (is64 ? EM_X86_64 : EM_386)) {
		sim_set_error(m, "%s: not an x86 executable (type %u, machine %u)", path, type, machine);
		return -1;
	}
	if (phentsize != (is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr)) || phoff > size ||
	    phnum > (size - phoff) / phentsize) {
		sim_set_error(m, "%s: program headers outside the file", path);
		return -1;
	}
	*np = 0;
	for (uint64_t i = 0; i < phnum; i++) {
		struct piece q;
		const uint8_t *ph = d + phoff + i * phentsize;
		if (is64) {
			const Elf64_Phdr *h = (const Elf64_Phdr *)ph;
			if (h->p_type != PT_LOAD)
				continue;
			q = (struct piece){ h->p_paddr, h->p_offset, h->p_filesz, h->p_memsz };
		} else {
			const Elf32_Phdr *h = (const Elf32_Phdr *)ph;
			if (h->p_type != PT_LOAD)
				continue;
			q = (struct piece){ h->p_paddr, h->p_offset, h->p_filesz, h->p_memsz };
		}
		if (q.filesz > q.memsz || q.off > size || q.filesz > size - q.off) {
			sim_set_error(m, "%s: segment %llu lies outside the file", path,
				      (unsigned long long)i);
			return -1;
		}
		if (*np == MAX_PIECES) {
			sim_set_error(m, "%s: more than %d loadable segments", path, MAX_PIECES);
			return -1;
		}
		p[(*np)++] = q;
	}
	if (!*np) {
		sim_set_error(m, "%s: no loadable segment", path);
		return -1;
	}
	return 0;
}

/* All of [gpa, gpa+len) must be RAM below sim's boot area. */
static int check_piece(struct sim_machine *m, const char *path, const struct piece *q)
{
	uint64_t limit = m->cfg.mode == SIM_MODE_LONG64 ? sim_boot_area(m) : m->cfg.ram_size;
	if (q->gpa > limit || q->memsz > limit - q->gpa || sim_gpa_check(m, q->gpa, q->memsz)) {
		sim_set_error(m, "%s: segment 0x%llx+0x%llx is not inside guest RAM (below 0x%llx)", path,
			      (unsigned long long)q->gpa, (unsigned long long)q->memsz,
			      (unsigned long long)limit);
		return -1;
	}
	return 0;
}

static int load_pieces(struct sim_machine *m, const char *path, const uint8_t *d,
		       const struct piece *p, unsigned np)
{
	for (unsigned i = 0; i < np; i++)
		if (check_piece(m, path, &p[i]))
			return -1;
	for (unsigned i = 0; i < np; i++) {
		uint8_t *ram = sim_ram(m, NULL);
		memcpy(ram + p[i].gpa, d + p[i].off, p[i].filesz);
		memset(ram + p[i].gpa + p[i].filesz, 0, p[i].memsz - p[i].filesz);
		glue_code_written(p[i].gpa, p[i].memsz);
	}
	return 0;
}

int sim_load_image(struct sim_machine *m, const char *path, uint64_t flat_gpa)
{
	uint8_t *d;
	size_t size;
	struct piece p[MAX_PIECES];
	unsigned np = 1;
	uint64_t entry = flat_gpa;
	int rc = -1;

	if (read_file(m, path, &d, &size))
		return -1;
	if (size >= 4 && memcmp(d, ELFMAG, SELFMAG) == 0) {
		if (elf_pieces(m, path, d, size, p, &np, &entry))
			goto out;
	} else if (size == 0) {
		sim_set_error(m, "image %s is empty", path);
		goto out;
	} else {
		p[0] = (struct piece){ flat_gpa, 0, size, size };
	}
	if (load_pieces(m, path, d, p, np) == 0)
		rc = sim_set_entry(m, entry);
out:
	free(d);
	return rc;
}

/* ---------------------------------------------------------------- Linux */

/*
 * struct boot_params (arch/x86/include/uapi/asm/bootparam.h), the "zero
 * page", by offset:
 *
 *   0x000  screen_info (0x40 bytes)
 *            +0x00 orig_x  +0x01 orig_y  +0x06 orig_video_mode
 *            +0x07 orig_video_cols  +0x0a orig_video_ega_bx (u16)
 *            +0x0e orig_video_lines  +0x0f orig_video_isVGA
 *            +0x10 orig_video_points (u16)
 *   0x1e8  e820_entries (u8)
 *   0x1f1  struct setup_header (boot.rst, "The Real-Mode Kernel Header"):
 *            0x1fe boot_flag 0xaa55  0x202 "HdrS"  0x206 version
 *            0x210 type_of_loader  0x211 loadflags  0x218 ramdisk_image
 *            0x21c ramdisk_size  0x228 cmd_line_ptr  0x22c initrd_addr_max
 *            0x238 cmdline_size  0x250 setup_data (u64)
 *   0x2d0  e820_table: 128 x { u64 addr, u64 size, u32 type }
 */
#define BP_SCREEN_INFO   0x000
#define BP_E820_ENTRIES  0x1e8
#define BP_BOOT_FLAG     0x1fe
#define BP_HEADER        0x202
#define BP_VERSION       0x206
#define BP_LOADER_TYPE   0x210
#define BP_LOADFLAGS     0x211
#define BP_RAMDISK_IMAGE 0x218
#define BP_RAMDISK_SIZE  0x21c
#define BP_CMD_LINE_PTR  0x228
#define BP_INITRD_MAX    0x22c
#define BP_CMDLINE_SIZE  0x238
#define BP_SETUP_DATA    0x250
#define BP_E820_TABLE    0x2d0
#define E820_MAX         128
#define E820_RAM         1
#define E820_RESERVED    2
#define SETUP_RNG_SEED   9
#define LOADED_HIGH      0x01
/* Below 1 MiB, what a PC's BIOS keeps: the EBDA, video memory, option ROMs. */
#define LOW_RESERVED_START 0x9f000ull
#define LOW_RESERVED_END   0x100000ull

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

struct span {
	uint64_t start, end;
};

static int span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* The e820 map: RAM, less what is not the guest's to use. */
static unsigned build_e820(struct sim_machine *m, uint8_t *zp)
{
	struct span hole[SIM_MAX_RANGES + 2];
	unsigned nh = 0, n = 0;
	uint64_t top = m->cfg.ram_size;

	hole[nh++] = (struct span){ LOW_RESERVED_START, LOW_RESERVED_END };
	hole[nh++] = (struct span){ sim_boot_area(m), top };
	for (unsigned i = 0; i < m->nranges; i++)
		if (m->ranges[i].gpa < top)
			hole[nh++] = (struct span){ m->ranges[i].gpa,
						    m->ranges[i].gpa + m->ranges[i].len < top ? m->ranges[i].gpa + m->ranges[i].len : top };
	qsort(hole, nh, sizeof hole[0], span_cmp);

	uint64_t at = 0;
	for (unsigned i = 0; i < nh && n + 2 <= E820_MAX; i++) {
		uint64_t start = hole[i].start < at ? at : hole[i].start, end = hole[i].end;
		while (i + 1 < nh && hole[i + 1].start <= end) {
			if (hole[i + 1].end > end)
				end = hole[i + 1].end;
			i++;
		}
		if (start > at) {
			uint8_t *e = zp + BP_E820_TABLE + 20 * n++;
			put64(e, at), put64(e + 8, start - at), put32(e + 16, E820_RAM);
		}
		if (end > start) {
			uint8_t *e = zp + BP_E820_TABLE + 20 * n++;
			put64(e, start), put64(e + 8, end - start), put32(e + 16, E820_RESERVED);
		}
		if (end > at)
			at = end;
	}
	if (at < top && n < E820_MAX) {
		uint8_t *e = zp + BP_E820_TABLE + 20 * n++;
		put64(e, at), put64(e + 8, top - at), put32(e + 16, E820_RAM);
	}
	zp[BP_E820_ENTRIES] = (uint8_t)n;
	return n;
}

/* A bzImage carries "HdrS" at 0x202 (and an EFI stub's "MZ" at 0). */
static bool is_bzimage(const uint8_t *d, size_t size)
{
	return size >= 0x206 && memcmp(d + BP_HEADER, "HdrS", 4) == 0;
}

int sim_load_linux(struct sim_machine *m, const struct sim_linux *lx)
{
	uint8_t *k = NULL, *rd = NULL;
	size_t ksize, rdsize = 0;
	struct piece p[MAX_PIECES];
	unsigned np = 0;
	uint64_t entry, kend = 0, rd_gpa = 0;
	int rc = -1;

	if (m->cfg.mode != SIM_MODE_LONG64) {
		sim_set_error(m, "a Linux kernel needs machine.mode long (the 64-bit boot protocol)");
		return -1;
	}
	size_t cmdlen = lx->cmdline ? strlen(lx->cmdline) : 0;
	if (cmdlen > SIM_LINUX_CMDLINE_MAX) {
		sim_set_error(m, "Linux command line of %zu bytes: at most %u", cmdlen, SIM_LINUX_CMDLINE_MAX);
		return -1;
	}
	if (lx->rng_seed_len > 256) {
		sim_set_error(m, "RNG seed of %zu bytes: at most 256", lx->rng_seed_len);
		return -1;
	}
	if (read_file(m, lx->kernel, &k, &ksize))
		return -1;
	if (is_bzimage(k, ksize)) {
		sim_set_error(m, "%s is a bzImage (a compressed kernel behind its decompressor, which costs about "
			      "eight times the kernel's own boot); give the vmlinux inside it (`make linux` extracts "
			      "build/linux/vmlinux from Debian's vmlinuz)", lx->kernel);
		goto out;
	}
	if (ksize < 4 || memcmp(k, ELFMAG, SELFMAG) != 0 || k[EI_CLASS] != ELFCLASS64) {
		sim_set_error(m, "%s: not a vmlinux (an ELF64 file)", lx->kernel);
		goto out;
	}
	if (elf_pieces(m, lx->kernel, k, ksize, p, &np, &entry))
		goto out;
	for (unsigned i = 0; i < np; i++) {
		if (check_piece(m, lx->kernel, &p[i]))
			goto out;
		if (p[i].gpa < LOW_RESERVED_END) {
			sim_set_error(m, "%s: segment 0x%llx+0x%llx lies below 1 MiB, where the zero page goes",
				      lx->kernel, (unsigned long long)p[i].gpa, (unsigned long long)p[i].memsz);
			goto out;
		}
		if (p[i].gpa + p[i].memsz > kend)
			kend = p[i].gpa + p[i].memsz;
	}
	if (lx->initrd && *lx->initrd) {
		if (read_file(m, lx->initrd, &rd, &rdsize))
			goto out;
		uint64_t top = sim_boot_area(m) & ~0xfffull;
		kend = (kend + 0xfff) & ~0xfffull;
		if (rdsize > top || ((top - rdsize) & ~0xfffull) < kend) {
			sim_set_error(m, "initramfs %s (%zu bytes) does not fit in guest RAM between the kernel's end "
				      "(0x%llx) and 0x%llx: give the machine more RAM", lx->initrd, rdsize,
				      (unsigned long long)kend, (unsigned long long)top);
			goto out;
		}
		rd_gpa = (top - rdsize) & ~0xfffull;
	}

	uint8_t zp[4096];
	memset(zp, 0, sizeof zp);
	if (lx->vga_text) {
		zp[BP_SCREEN_INFO + 0x06] = 3;        /* mode 3: 80x25 colour text */
		zp[BP_SCREEN_INFO + 0x07] = 80;
		zp[BP_SCREEN_INFO + 0x0e] = 25;
		zp[BP_SCREEN_INFO + 0x0f] = 1;        /* isVGA */
		put16(zp + BP_SCREEN_INFO + 0x10, 16); /* character height */
	}
	put16(zp + BP_BOOT_FLAG, 0xaa55);
	memcpy(zp + BP_HEADER, "HdrS", 4);
	put16(zp + BP_VERSION, 0x020f);
	zp[BP_LOADER_TYPE] = 0xff;                    /* a boot loader without an assigned id */
	zp[BP_LOADFLAGS] = LOADED_HIGH;
	put32(zp + BP_RAMDISK_IMAGE, (uint32_t)rd_gpa);
	put32(zp + BP_RAMDISK_SIZE, (uint32_t)rdsize);
	put32(zp + BP_CMD_LINE_PTR, SIM_LINUX_CMDLINE);
	put32(zp + BP_INITRD_MAX, 0x7fffffff);
	put32(zp + BP_CMDLINE_SIZE, SIM_LINUX_CMDLINE_MAX);
	build_e820(m, zp);

	/* struct setup_data: u64 next, u32 type, u32 len, data */
	uint8_t sd[16 + 256];
	memset(sd, 0, sizeof sd);
	if (lx->rng_seed && lx->rng_seed_len) {
		put32(sd + 8, SETUP_RNG_SEED);
		put32(sd + 12, (uint32_t)lx->rng_seed_len);
		memcpy(sd + 16, lx->rng_seed, lx->rng_seed_len);
		put64(zp + BP_SETUP_DATA, SIM_LINUX_SETUP_DATA);
	}
	char cmd[SIM_LINUX_CMDLINE_MAX + 1];
	memcpy(cmd, lx->cmdline ? lx->cmdline : "", cmdlen);
	cmd[cmdlen] = '\0';

	if (load_pieces(m, lx->kernel, k, p, np) ||
	    (rdsize && sim_load_bytes(m, rd_gpa, rd, rdsize)) ||
	    sim_load_bytes(m, SIM_LINUX_ZERO_PAGE, zp, sizeof zp) ||
	    sim_load_bytes(m, SIM_LINUX_SETUP_DATA, sd, sizeof sd) ||
	    sim_load_bytes(m, SIM_LINUX_CMDLINE, cmd, cmdlen + 1) ||
	    sim_set_entry(m, entry))
		goto out;
	vcpu_set_gpr(&m->vcpu, GPR_RSI, SIM_LINUX_ZERO_PAGE);
	rc = 0;
out:
	free(k);
	free(rd);
	return rc;
}
