/*
 * loader.c - guest images: ELF64 and ELF32 executables (PT_LOAD segments at
 * their physical addresses, zero-filled up to p_memsz), anything else as a
 * flat binary.  Every check fails with a message in sim_error; nothing is
 * written to guest RAM unless the whole image fits.
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
