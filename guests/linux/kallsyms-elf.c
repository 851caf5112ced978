/*
 * kallsyms-elf.c - give a stripped vmlinux its symbol table back, from the
 * kernel's own kallsyms tables.
 *
 *   kallsyms-elf VMLINUX OUT
 *
 * The vmlinux inside Debian's vmlinuz is stripped, and the package's
 * System.map is a placeholder; but a kernel built with CONFIG_KALLSYMS
 * carries every symbol's name, type letter and address in its .rodata, for
 * /proc/kallsyms.  This reads those tables and writes OUT: VMLINUX with a
 * .symtab and a .strtab added, so that gdb, readelf and objdump name the
 * kernel's addresses.
 *
 * A program of its own rather than a step of extract-vmlinux: its input is
 * an ELF, not a bzImage, so the tests give it hand-made images directly, and
 * extract-vmlinux's output stays the plain extraction the result is checked
 * against (guests/linux/linux.mk runs one after the other).
 *
 * The tables (Linux 6.1: scripts/kallsyms.c writes them, kernel/kallsyms.c
 * reads them; CONFIG_KALLSYMS_BASE_RELATIVE), one after the other in
 * .rodata, each starting at a multiple of 8:
 *
 *   kallsyms_offsets        s32[num_syms], sorted by address
 *   kallsyms_relative_base  u64
 *   kallsyms_num_syms       u32
 *   kallsyms_names          num_syms entries: a length, then that many
 *                           token numbers (bytes); the length is one byte,
 *                           or two when the first has bit 7 set ("big"
 *                           symbols: (b0 & 0x7f) | b1 << 7)
 *   kallsyms_markers        u32[(num_syms + 255) / 256]: where in names
 *                           symbol 0, 256, 512 ... starts
 *   kallsyms_seqs_of_names  3 bytes (big-endian) per symbol: the symbols'
 *                           numbers in name order.  From 6.2 on, and in
 *                           Debian 12's 6.1.y (6.1.0-57 has it); both
 *                           layouts are accepted
 *   kallsyms_token_table    256 NUL-terminated tokens
 *   kallsyms_token_index    u16[256]: where each token starts in the table
 *
 * A symbol's expanded tokens are its type letter (as nm prints it) and its
 * name.  Its address: with CONFIG_KALLSYMS_ABSOLUTE_PERCPU (x86-64 SMP) an
 * offset >= 0 is the address itself (the per-cpu variables, at 0 ...) and a
 * negative one is relative_base - 1 - offset; without it every offset is
 * relative_base + (u32)offset.  No kernel is 2 GiB long, so offsets below 0
 * occur in the first mode only: that is how the mode is told apart.
 *
 * Finding them: the token index is the anchor.  At each multiple of 8 in
 * .rodata, 256 u16s that start at 0, grow by at least 2 (no empty token)
 * and fit exactly the NUL-terminated strings right before them are an index
 * and its table.  Going down from the table, num_syms is the first u32 at a
 * multiple of 8 whose relative_base (the u64 before it) lies in an
 * executable section and whose names, markers and sequence table run up to
 * the token table as above.  Every marker, every name (printable, at most
 * KSYM_NAME_LEN 512 bytes) and every address (in order; inside a section
 * of the image, at its end or in the padding after it: only 'A' symbols may
 * lie elsewhere) is checked; anything else is an error naming the file and the offset.  The
 * build stops then: a vmlinux without symbols would leave gdb blind
 * without saying so.
 *
 * The symbols written: in kallsyms' order, the local ones first (ELF wants
 * them so); st_value the address; st_shndx the section that contains it
 * (or, for an end marker like _etext, the one it ends; for __end_rodata,
 * in the padding after .BTF_ids, that one), SHN_ABS when none does; STT_FUNC for t/T (and W/w in an executable section), STT_OBJECT for
 * the data letters (and A/a and W/w in another section), STT_NOTYPE
 * otherwise; binding STB_WEAK for W/w/V/v, else STB_GLOBAL for a capital
 * letter and STB_LOCAL for a small one.  st_size is what the kernel itself
 * takes for a symbol's size: up to the next higher address, or to the end of
 * its section.
 *
 * The output: VMLINUX's bytes unchanged up to the end of its last segment or
 * section (its section names and section headers, when they come last, are
 * left out), then .symtab, .strtab, the section names again with the two new
 * ones, and the section headers; the old sections keep their numbers, the
 * two new ones come last, and the ELF header's e_shoff and e_shnum change.
 * So every program header and every byte a loader reads stay as they were.
 * Written to OUT.tmp and renamed; the same input gives the same bytes.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

#define KSYM_NAME_LEN	512		/* Linux 6.1, include/linux/kallsyms.h */
#define MAX_SYMS	(1u << 22)	/* a sanity bound: Debian 12's 6.1 has 94,266 */
#define MAX_SECTIONS	0xff00u		/* SHN_LORESERVE */

/* ELF64 (the System V ABI, "Object Files") */
#define EH_SIZE		64
#define PH_SIZE		56
#define SH_SIZE		64
#define SYM_SIZE	24
#define SHT_SYMTAB	2
#define SHT_STRTAB	3
#define SHT_NOBITS	8
#define SHF_ALLOC	0x2
#define SHF_EXECINSTR	0x4
#define SHN_ABS		0xfff1
#define PT_LOAD		1
#define STB_LOCAL	0
#define STB_GLOBAL	1
#define STB_WEAK	2
#define STT_NOTYPE	0
#define STT_OBJECT	1
#define STT_FUNC	2

static const char *in_path;

/* s for an error message: at most 80 bytes, '?' for what is not printable. */
static const char *shown(const char *s)
{
	static char b[84];
	size_t n = 0;

	for (; s[n] && n < 80; n++)
		b[n] = s[n] >= ' ' && s[n] <= '~' ? s[n] : '?';
	strcpy(b + n, s[n] ? "..." : "");
	return b;
}

static void *xmalloc(size_t n)
{
	void *p = calloc(n ? n : 1, 1);
	if (!p)
		die("out of memory (%zu bytes)", n);
	return p;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t align8(uint64_t v)
{
	return (v + 7) & ~(uint64_t)7;
}

/* ---------------------------------------------------------------- the ELF */

struct section {
	const char *name;
	uint32_t type;
	uint64_t flags, addr, off, size;
};

struct elf {
	const uint8_t *d;
	size_t len;
	uint64_t phoff, shoff;
	unsigned phnum, shnum, shstrndx;
	struct section *sec;
	size_t keep;		/* the bytes kept as they are */
};

static void read_elf(struct elf *e, const uint8_t *d, size_t len)
{
	e->d = d;
	e->len = len;
	if (len < EH_SIZE || memcmp(d, "\177ELF", 4) != 0)
		die("%s: not an ELF file", in_path);
	if (d[4] != 2 || d[5] != 1 || get16(d + 18) != 62)
		die("%s: not a little-endian ELF64 file for x86-64", in_path);
	e->phoff = get64(d + 32);
	e->shoff = get64(d + 40);
	e->phnum = get16(d + 56);
	e->shnum = get16(d + 60);
	e->shstrndx = get16(d + 62);
	if (e->phnum && get16(d + 54) != PH_SIZE)
		die("%s: e_phentsize at offset 0x36 is %u, not %u", in_path, get16(d + 54), PH_SIZE);
	if (get16(d + 58) != SH_SIZE)
		die("%s: e_shentsize at offset 0x3a is %u, not %u", in_path, get16(d + 58), SH_SIZE);
	if (e->phoff > len || (uint64_t)e->phnum * PH_SIZE > len - e->phoff)
		die("%s: the program headers (offset 0x%llx, %u of them) lie outside the file (%zu bytes)", in_path,
		    (unsigned long long)e->phoff, e->phnum, len);
	if (e->shnum == 0 || e->shoff > len || (uint64_t)e->shnum * SH_SIZE > len - e->shoff)
		die("%s: the section headers (offset 0x%llx, %u of them) lie outside the file (%zu bytes)", in_path,
		    (unsigned long long)e->shoff, e->shnum, len);
	if (e->shstrndx == 0 || e->shstrndx >= e->shnum)
		die("%s: e_shstrndx at offset 0x3e is %u: no section names", in_path, e->shstrndx);

	const uint8_t *ss = d + e->shoff + (uint64_t)e->shstrndx * SH_SIZE;
	uint64_t nameoff = get64(ss + 24), namesz = get64(ss + 32);
	if (get32(ss + 4) != SHT_STRTAB || nameoff > len || namesz > len - nameoff || namesz == 0 ||
	    d[nameoff + namesz - 1] != 0)
		die("%s: the section names (section %u, offset 0x%llx) are not a string table inside the file", in_path,
		    e->shstrndx, (unsigned long long)nameoff);

	e->sec = xmalloc(e->shnum * sizeof(*e->sec));
	uint64_t keep = EH_SIZE;
	if (e->phoff + (uint64_t)e->phnum * PH_SIZE > keep)
		keep = e->phoff + (uint64_t)e->phnum * PH_SIZE;
	for (unsigned i = 0; i < e->phnum; i++) {
		const uint8_t *ph = d + e->phoff + (uint64_t)i * PH_SIZE;
		uint64_t o = get64(ph + 8), sz = get64(ph + 32);
		if (o > len || sz > len - o)
			die("%s: segment %u (program header at offset 0x%llx) lies outside the file", in_path, i,
			    (unsigned long long)(e->phoff + (uint64_t)i * PH_SIZE));
		if (o + sz > keep)
			keep = o + sz;
	}
	for (unsigned i = 0; i < e->shnum; i++) {
		const uint8_t *sh = d + e->shoff + (uint64_t)i * SH_SIZE;
		struct section *s = &e->sec[i];
		uint32_t name = get32(sh);
		if (name >= namesz)
			die("%s: section %u's name (offset 0x%llx) lies outside the section names", in_path, i,
			    (unsigned long long)(e->shoff + (uint64_t)i * SH_SIZE));
		s->name = (const char *)d + nameoff + name;
		s->type = get32(sh + 4);
		s->flags = get64(sh + 8);
		s->addr = get64(sh + 16);
		s->off = get64(sh + 24);
		s->size = get64(sh + 32);
		if (s->type == SHT_SYMTAB)
			die("%s: section %u (%s) is already a symbol table", in_path, i, shown(s->name));
		if (s->type == SHT_NOBITS || i == 0)
			continue;
		if (s->off > len || s->size > len - s->off)
			die("%s: section %u (%s, offset 0x%llx, 0x%llx bytes) lies outside the file (%zu bytes)", in_path,
			    i, shown(s->name), (unsigned long long)s->off, (unsigned long long)s->size, len);
		if (i != e->shstrndx && s->off + s->size > keep)
			keep = s->off + s->size;
	}
	/* The section names and headers are written again: when nothing else
	 * comes after them, the old ones are left out. */
	if (nameoff >= keep && e->shoff >= keep)
		e->keep = (size_t)keep;
	else
		e->keep = len;
}

/* The section of a symbol at addr: the one that contains it (but for a
 * text symbol, an executable section that ends there rather than another
 * that starts there); else the one that ends at it (an end marker like
 * _etext) or before it, in a gap of less than 2 MiB (PMD_SIZE, the largest
 * alignment of x86's linker script) before the next section: ld makes a
 * symbol assigned between two output sections relative to the one before
 * (__end_rodata, in the padding after .BTF_ids); else 0. */
static unsigned section_of(const struct elf *e, uint64_t addr, bool text)
{
	unsigned in = 0, below = 0, exec_end = 0;
	uint64_t below_end = 0, next = UINT64_MAX;

	for (unsigned i = 1; i < e->shnum; i++) {
		const struct section *s = &e->sec[i];
		if (!(s->flags & SHF_ALLOC) || s->size == 0)
			continue;
		if (addr >= s->addr && addr - s->addr < s->size) {
			if (!in)
				in = i;
			continue;
		}
		if (s->addr > addr && s->addr < next)
			next = s->addr;
		if (addr >= s->addr && (!below || s->addr + s->size > below_end)) {
			below = i;
			below_end = s->addr + s->size;
		}
		if (text && !exec_end && (s->flags & SHF_EXECINSTR) && addr - s->addr == s->size)
			exec_end = i;
	}
	if (in)
		return exec_end && !(e->sec[in].flags & SHF_EXECINSTR) ? exec_end : in;
	if (below && (addr == below_end || (next != UINT64_MAX && next - below_end < (2u << 20))))
		return below;
	return 0;
}

static bool in_exec_section(const struct elf *e, uint64_t addr)
{
	unsigned i = section_of(e, addr, true);
	return i && (e->sec[i].flags & SHF_EXECINSTR) && addr - e->sec[i].addr < e->sec[i].size;
}

/* ---------------------------------------------------------------- finding the tables */

struct kallsyms {
	/* file offsets */
	size_t offsets, num_syms, names, markers, seqs, token_table, token_index;
	uint32_t n;
	uint64_t relative_base;
	bool abs_percpu;
};

/* The section being searched: file offsets [lo, hi), and the address of lo. */
struct area {
	size_t lo, hi;
	uint64_t addr;
};

static bool aligned8(const struct area *a, size_t off)
{
	return ((a->addr + (off - a->lo)) & 7) == 0;
}

/* The first offset at or after off whose address is a multiple of 8 (where
 * the next table starts: scripts/kallsyms.c aligns each one so). */
static uint64_t up8(const struct area *a, uint64_t off)
{
	return off + ((8 - ((a->addr + (off - a->lo)) & 7)) & 7);
}

/* The first reason a likely candidate was turned down, for the error. */
static char why[512];

static void note(const char *fmt, ...)
{
	va_list ap;

	if (why[0])
		return;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
}

/* Whether the 256 u16s at ti index a token table that ends right before
 * them (up to 7 bytes of padding); its offset into *tt. */
static bool token_tables_at(const uint8_t *d, const struct area *a, size_t ti, size_t *tt)
{
	uint16_t idx[256];

	if (ti + 512 > a->hi)
		return false;
	for (unsigned k = 0; k < 256; k++)
		idx[k] = get16(d + ti + 2 * k);
	if (idx[0] != 0)
		return false;
	for (unsigned k = 1; k < 256; k++)
		if (idx[k] < idx[k - 1] + 2)
			return false;
	/* The table starts at a multiple of 8, idx[255] + the last token's
	 * length + 1 bytes before the index (give or take the padding). */
	size_t span = (size_t)idx[255] + 2 + KSYM_NAME_LEN + 8;
	for (size_t t = ti - a->lo < span ? a->lo : ti - span; t + idx[255] + 2 <= ti; t++) {
		if (!aligned8(a, t))
			continue;
		bool ok = true;
		for (unsigned k = 0; k < 256 && ok; k++) {
			size_t s = t + idx[k], end = k < 255 ? t + idx[k + 1] - 1 : 0;
			if (k == 255) {
				const uint8_t *nul = memchr(d + s, 0, ti - s);
				if (!nul || nul == d + s)
					ok = false;
				else
					end = (size_t)(nul - d);
				if (ok && up8(a, end + 1) != ti)
					ok = false;
				break;
			}
			if (d[end] != 0 || memchr(d + s, 0, end - s))
				ok = false;
		}
		if (ok) {
			*tt = t;
			return true;
		}
	}
	return false;
}

/* The name entry at off: its length and where its tokens start; false when
 * it does not end before limit. */
static bool name_entry(const uint8_t *d, size_t off, size_t limit, size_t *len, size_t *tokens)
{
	*len = 0;
	if (off >= limit)
		return false;
	*len = d[off];
	*tokens = off + 1;
	if (*len & 0x80) {
		if (off + 1 >= limit)
			return false;
		*len = (*len & 0x7f) | (size_t)d[off + 1] << 7;
		*tokens = off + 2;
	}
	return *len > 0 && *len <= limit - *tokens;
}

/* Whether num_syms at p starts a complete set of tables below the token
 * table at k->token_table; fills k. */
static bool tables_at(const struct elf *e, const struct area *a, size_t p, struct kallsyms *k)
{
	const uint8_t *d = e->d;
	size_t tt = k->token_table;
	uint32_t n = get32(d + p);

	uint64_t base = get64(d + p - 8);
	if (!in_exec_section(e, base))
		return false;
	/* From here on it looks like the real thing: say why it is not. */
	if (n == 0 || n > MAX_SYMS || n > (tt - p) / 2) {
		note("kallsyms_num_syms at offset 0x%zx is %u: not a count of symbols whose names fit in the "
		     "0x%zx bytes up to the token table at 0x%zx",
		     p, n, tt - p, tt);
		return false;
	}
	if (p - a->lo < 8 + align8(4 * (uint64_t)n)) {
		note("kallsyms_num_syms at offset 0x%zx says %u symbols, but their kallsyms_offsets would start "
		     "before .rodata (offset 0x%zx)",
		     p, n, a->lo);
		return false;
	}
	size_t off = p + 8, len, tokens;
	size_t nmarkers = (n + 255) / 256;
	for (uint32_t i = 0; i < n; i++) {
		if (!name_entry(d, off, tt, &len, &tokens)) {
			if (off < tt && len == 0)
				note("kallsyms_num_syms at offset 0x%zx says %u symbols, but name %u (offset 0x%zx) "
				     "is empty",
				     p, n, i, off);
			else
				note("kallsyms_num_syms at offset 0x%zx says %u symbols, but name %u (offset 0x%zx) "
				     "runs into the token table at 0x%zx",
				     p, n, i, off, tt);
			return false;
		}
		off = tokens + len;
	}
	size_t markers = (size_t)up8(a, off), mend = markers + 4 * nmarkers, seqs = 0;
	if (mend > tt) {
		note("kallsyms_markers at offset 0x%zx (%zu of them for %u symbols) run into the token table at 0x%zx",
		     markers, nmarkers, n, tt);
		return false;
	}
	size_t after = (size_t)up8(a, mend);
	if (after != tt) {
		if (up8(a, after + 3 * (uint64_t)n) != tt) {
			note("kallsyms_markers at offset 0x%zx end at 0x%zx; the token table starts at 0x%zx: "
			     "neither right after them nor after a kallsyms_seqs_of_names of %u symbols",
			     markers, mend, tt, n);
			return false;
		}
		seqs = after;
	}
	/* every 256th name where its marker says */
	off = p + 8;
	for (uint32_t i = 0; i < n; i++) {
		if (i % 256 == 0 && get32(d + markers + 4 * (i / 256)) != off - (p + 8)) {
			note("kallsyms_markers[%u] at offset 0x%zx is 0x%x; symbol %u starts at 0x%zx in kallsyms_names",
			     i / 256, markers + 4 * (i / 256), get32(d + markers + 4 * (i / 256)), i, off - (p + 8));
			return false;
		}
		name_entry(d, off, tt, &len, &tokens);
		off = tokens + len;
	}
	k->n = n;
	k->num_syms = p;
	k->relative_base = base;
	k->offsets = p - 8 - (size_t)align8(4 * (uint64_t)n);
	k->names = p + 8;
	k->markers = markers;
	k->seqs = seqs;
	return true;
}

static void find_kallsyms(const struct elf *e, struct kallsyms *k)
{
	const uint8_t *d = e->d;
	unsigned ro = 0;
	bool found = false;
	size_t tokens_seen = 0;

	for (unsigned i = 1; i < e->shnum; i++)
		if (strcmp(e->sec[i].name, ".rodata") == 0 && e->sec[i].type != SHT_NOBITS)
			ro = i;
	if (!ro)
		die("%s: no .rodata section: the kallsyms tables live there", in_path);
	struct area a = { e->sec[ro].off, e->sec[ro].off + e->sec[ro].size, e->sec[ro].addr };

	for (size_t ti = a.lo; ti + 512 <= a.hi; ti++) {
		struct kallsyms c = { 0 };
		if (!aligned8(&a, ti) || d[ti] || d[ti + 1] || !token_tables_at(d, &a, ti, &c.token_table))
			continue;
		c.token_index = ti;
		tokens_seen++;
		for (size_t p = c.token_table; p >= a.lo + 16;) {
			p -= 8;
			if (tables_at(e, &a, p, &c)) {
				if (found)
					die("%s: two sets of kallsyms tables in .rodata, with token tables at offsets 0x%zx "
					    "and 0x%zx",
					    in_path, k->token_table, c.token_table);
				*k = c;
				found = true;
				break;
			}
		}
	}
	if (!found && !tokens_seen)
		die("%s: no kallsyms_token_index in .rodata (offsets 0x%zx-0x%zx): 256 u16 offsets from 0 into "
		    "the 256 NUL-terminated tokens before them; is the kernel built with CONFIG_KALLSYMS?",
		    in_path, a.lo, a.hi);
	if (!found)
		die("%s: no kallsyms_num_syms, kallsyms_names and kallsyms_markers (the Linux 6.1 layout) before "
		    "the token table%s%s",
		    in_path, why[0] ? ": " : "", why[0] ? why : " (no relative_base in an executable section)");
}

/* ---------------------------------------------------------------- the symbols */

struct sym {
	uint64_t addr, size;
	uint32_t name;		/* into strtab */
	unsigned shndx;
	uint8_t info;
};

static uint8_t sym_info(const struct elf *e, char type, unsigned shndx)
{
	bool exec = shndx && shndx != SHN_ABS && (e->sec[shndx].flags & SHF_EXECINSTR);
	uint8_t bind = isupper((unsigned char)type) ? STB_GLOBAL : STB_LOCAL, t = STT_NOTYPE;

	switch (tolower((unsigned char)type)) {
	case 't':
		t = STT_FUNC;
		break;
	case 'w':
		t = exec ? STT_FUNC : STT_OBJECT;
		bind = STB_WEAK;
		break;
	case 'v':
		t = STT_OBJECT;
		bind = STB_WEAK;
		break;
	case 'a':
		t = shndx == SHN_ABS ? STT_NOTYPE : STT_OBJECT;
		break;
	case 'b':
	case 'd':
	case 'g':
	case 'r':
	case 's':
		t = STT_OBJECT;
		break;
	}
	return (uint8_t)(bind << 4 | t);
}

struct strtab {
	char *b;
	size_t len, cap;
};

static uint32_t str_add(struct strtab *s, const char *str, size_t n)
{
	if (s->len + n + 1 > UINT32_MAX)
		die("%s: the symbol names exceed 4 GiB", in_path);
	while (s->len + n + 1 > s->cap) {
		s->cap = s->cap ? s->cap * 2 : 1 << 20;
		s->b = realloc(s->b, s->cap);
		if (!s->b)
			die("out of memory");
	}
	uint32_t at = (uint32_t)s->len;
	memcpy(s->b + s->len, str, n);
	s->b[s->len + n] = '\0';
	s->len += n + 1;
	return at;
}

static struct sym *read_symbols(const struct elf *e, struct kallsyms *k, struct strtab *st)
{
	const uint8_t *d = e->d;
	struct sym *v = xmalloc(k->n * sizeof(*v));
	char name[KSYM_NAME_LEN + 2];

	for (uint32_t i = 0; i < k->n; i++)
		if ((int32_t)get32(d + k->offsets + 4 * (size_t)i) < 0)
			k->abs_percpu = true;

	if (k->seqs) {
		uint8_t *seen = xmalloc(k->n);
		for (uint32_t i = 0; i < k->n; i++) {
			const uint8_t *p = d + k->seqs + 3 * (size_t)i;
			uint32_t seq = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
			if (seq >= k->n || seen[seq])
				die("%s: kallsyms_seqs_of_names[%u] at offset 0x%zx is %u: %s", in_path, i,
				    k->seqs + 3 * (size_t)i, seq, seq >= k->n ? "no such symbol" : "a second time");
			seen[seq] = 1;
		}
		free(seen);
	}

	str_add(st, "", 0);
	size_t off = k->names;
	for (uint32_t i = 0; i < k->n; i++) {
		size_t len, tokens, nlen = 0;
		name_entry(d, off, k->token_table, &len, &tokens);
		for (size_t j = 0; j < len; j++) {
			const char *t = (const char *)d + k->token_table + get16(d + k->token_index + 2 * d[tokens + j]);
			size_t tl = strlen(t);
			if (nlen + tl > KSYM_NAME_LEN)
				die("%s: symbol %u (kallsyms_names, offset 0x%zx) is longer than %u bytes", in_path, i, off,
				    KSYM_NAME_LEN);
			memcpy(name + nlen, t, tl);
			nlen += tl;
		}
		name[nlen] = '\0';
		if (nlen < 2 || !isalpha((unsigned char)name[0]))
			die("%s: symbol %u (kallsyms_names, offset 0x%zx) has no type letter and name: \"%s\"", in_path,
			    i, off, shown(name));
		for (size_t j = 1; j < nlen; j++)
			if (name[j] <= ' ' || name[j] > '~')
				die("%s: symbol %u (kallsyms_names, offset 0x%zx): byte 0x%02x in its name", in_path, i,
				    off, (unsigned char)name[j]);

		int32_t o = (int32_t)get32(d + k->offsets + 4 * (size_t)i);
		uint64_t addr;
		if (!k->abs_percpu)
			addr = k->relative_base + (uint32_t)o;
		else if (o >= 0)
			addr = (uint64_t)o;
		else
			addr = k->relative_base - 1 - (uint64_t)(int64_t)o;
		if (i && addr < v[i - 1].addr)
			die("%s: kallsyms_offsets[%u] at offset 0x%zx: %s at 0x%llx comes after an address 0x%llx: "
			    "the table is not sorted",
			    in_path, i, k->offsets + 4 * (size_t)i, name + 1, (unsigned long long)addr,
			    (unsigned long long)v[i - 1].addr);
		char t = (char)tolower((unsigned char)name[0]);
		unsigned sh = section_of(e, addr, t == 't' || t == 'w');
		if (!sh) {
			if (name[0] != 'A' && name[0] != 'a')
				die("%s: kallsyms_offsets[%u] at offset 0x%zx: %s (type %c) at 0x%llx lies in no section "
				    "of the image",
				    in_path, i, k->offsets + 4 * (size_t)i, name + 1, name[0], (unsigned long long)addr);
			sh = SHN_ABS;
		}
		v[i].addr = addr;
		v[i].shndx = sh;
		v[i].info = sym_info(e, name[0], sh);
		v[i].name = str_add(st, name + 1, nlen - 1);
		off = tokens + len;
	}

	/* sizes: up to the next higher address, or the section's end */
	size_t next = 0;
	for (uint32_t i = 0; i < k->n; i++) {
		if (next <= i)
			for (next = i + 1; next < k->n && v[next].addr == v[i].addr; next++)
				;
		if (v[i].shndx == SHN_ABS)
			continue;
		const struct section *s = &e->sec[v[i].shndx];
		uint64_t end = s->addr + s->size;
		if (next < k->n && v[next].addr < end)
			end = v[next].addr;
		v[i].size = end > v[i].addr ? end - v[i].addr : 0;
	}
	return v;
}

/* ---------------------------------------------------------------- the output */

static void write_out(const char *out, const struct elf *e, const struct sym *v, uint32_t n,
		      const struct strtab *st)
{
	const uint8_t *d = e->d;
	const struct section *ss = &e->sec[e->shstrndx];
	static const char new_names[] = ".symtab\0.strtab";
	unsigned shnum = e->shnum + 2;

	if (shnum >= MAX_SECTIONS)
		die("%s: %u sections: no room for two more", in_path, e->shnum);
	uint64_t symoff = align8(e->keep), symsz = (uint64_t)(n + 1) * SYM_SIZE;
	uint64_t stroff = symoff + symsz;
	uint64_t shsoff = stroff + st->len, shssz = ss->size + sizeof(new_names);
	uint64_t shoff = align8(shsoff + shssz), total = shoff + (uint64_t)shnum * SH_SIZE;
	uint8_t *o = xmalloc((size_t)total);

	memcpy(o, d, e->keep);
	put64(o + 40, shoff);
	put16(o + 60, (uint16_t)shnum);

	/* .symtab: the null symbol, the local ones, then the others */
	uint8_t *p = o + symoff + SYM_SIZE;
	uint32_t first_global = 1;
	for (int pass = 0; pass < 2; pass++)
		for (uint32_t i = 0; i < n; i++) {
			if ((v[i].info >> 4 == STB_LOCAL) != (pass == 0))
				continue;
			put32(p, v[i].name);
			p[4] = v[i].info;
			p[5] = 0;
			put16(p + 6, (uint16_t)v[i].shndx);
			put64(p + 8, v[i].addr);
			put64(p + 16, v[i].size);
			p += SYM_SIZE;
			if (pass == 0)
				first_global++;
		}
	memcpy(o + stroff, st->b, st->len);
	memcpy(o + shsoff, d + ss->off, ss->size);
	memcpy(o + shsoff + ss->size, new_names, sizeof(new_names));

	/* The old section headers, the names' moved; then the two new ones. */
	memcpy(o + shoff, d + e->shoff, (size_t)e->shnum * SH_SIZE);
	uint8_t *sh = o + shoff + (uint64_t)e->shstrndx * SH_SIZE;
	put64(sh + 24, shsoff);
	put64(sh + 32, shssz);
	sh = o + shoff + (uint64_t)e->shnum * SH_SIZE;
	put32(sh, (uint32_t)ss->size);
	put32(sh + 4, SHT_SYMTAB);
	put64(sh + 24, symoff);
	put64(sh + 32, symsz);
	put32(sh + 40, e->shnum + 1);	/* sh_link: .strtab */
	put32(sh + 44, first_global);	/* sh_info: the first non-local symbol */
	put64(sh + 48, 8);
	put64(sh + 56, SYM_SIZE);
	sh += SH_SIZE;
	put32(sh, (uint32_t)ss->size + 8);
	put32(sh + 4, SHT_STRTAB);
	put64(sh + 24, stroff);
	put64(sh + 32, st->len);
	put64(sh + 48, 1);

	size_t nl = strlen(out) + 5;
	char *tmp = xmalloc(nl);
	snprintf(tmp, nl, "%s.tmp", out);
	FILE *f = fopen(tmp, "wb");
	if (!f)
		die("%s: %s", tmp, strerror(errno));
	tool_tmp_path = tmp;
	if (fwrite(o, 1, (size_t)total, f) != total || fclose(f) != 0)
		die("%s: write error: %s", tmp, strerror(errno));
	if (rename(tmp, out) != 0)
		die("%s: %s", out, strerror(errno));
	tool_tmp_path = NULL;
	free(tmp);
	free(o);
}

int main(int argc, char **argv)
{
	tool_prog = "kallsyms-elf";
	if (argc != 3) {
		fprintf(stderr, "usage: %s VMLINUX OUT\n", tool_prog);
		return 2;
	}
	in_path = argv[1];
	size_t len;
	uint8_t *d = read_all(in_path, &len);
	struct elf e = { 0 };
	struct kallsyms k = { 0 };
	struct strtab st = { 0 };

	read_elf(&e, d, len);
	find_kallsyms(&e, &k);
	struct sym *v = read_symbols(&e, &k, &st);
	write_out(argv[2], &e, v, k.n, &st);

	uint32_t text = 0;
	for (uint32_t i = 0; i < k.n; i++)
		text += (v[i].info & 0xf) == STT_FUNC;
	printf("%s: %u symbols (%u functions) from kallsyms at offset 0x%zx%s%s\n", tool_prog, k.n, text, k.offsets,
	       k.abs_percpu ? ", per-cpu symbols absolute" : "", k.seqs ? ", with kallsyms_seqs_of_names" : "");
	free(v);
	free(st.b);
	free(e.sec);
	free(d);
	return 0;
}
