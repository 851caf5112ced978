/*
 * extract-vmlinux.c - take the vmlinux ELF out of an x86 bzImage (vmlinuz).
 *
 *   extract-vmlinux BZIMAGE VMLINUX
 *
 * A bzImage is the real-mode setup code followed by the protected-mode
 * part, the decompressor, which carries the compressed kernel as its
 * payload.  The setup header (Documentation/x86/boot.rst, "The real-mode
 * kernel header") says where:
 *
 *   file offset  size  field
 *   0x1f1        1     setup_sects      setup code is (setup_sects or 4) + 1 sectors of 512 bytes;
 *                                       the protected-mode part starts right after it
 *   0x1fe        2     boot_flag        0xaa55
 *   0x202        4     header           "HdrS"
 *   0x206        2     version          boot protocol, 0x0208 and later have the payload fields
 *   0x248        4     payload_offset   from the start of the protected-mode part
 *   0x24c        4     payload_length
 *
 * Only an xz payload is taken (Debian's kernels are CONFIG_KERNEL_XZ).  The
 * kernel's build appends the decompressed size (4 bytes, little-endian) to
 * the xz stream, and with CONFIG_RANDOMIZE_BASE the decompressed data is the
 * ELF followed by its relocation table for the decompressor's KASLR; both
 * are checked and left out, so VMLINUX is the ELF and nothing else.  The
 * result is written to VMLINUX.tmp and renamed.
 *
 * Every error names the file and, where there is one, the offset.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lzma.h>

#include "tool.h"

#define SETUP_SECTS	0x1f1
#define BOOT_FLAG	0x1fe
#define HDR_MAGIC	0x202
#define HDR_VERSION	0x206
#define PAYLOAD_OFFSET	0x248
#define PAYLOAD_LENGTH	0x24c
#define HDR_END		0x250	/* the last field read here ends at 0x250 */

static const uint8_t xz_magic[6] = { 0xfd, '7', 'z', 'X', 'Z', 0x00 };

/* The payload's place in the file, from the setup header. */
static void find_payload(const char *path, const uint8_t *img, size_t len, size_t *off, size_t *plen)
{
	if (len < HDR_END)
		die("%s: %zu bytes, too short for a bzImage setup header (it ends at offset 0x%x)", path, len,
		    HDR_END);
	if (memcmp(img + HDR_MAGIC, "HdrS", 4) != 0)
		die("%s: no \"HdrS\" at offset 0x%x: not a bzImage (boot protocol 2.00 or later)", path,
		    HDR_MAGIC);
	if (get16(img + BOOT_FLAG) != 0xaa55)
		die("%s: boot_flag at offset 0x%x is 0x%04x, not 0xaa55", path, BOOT_FLAG,
		    get16(img + BOOT_FLAG));
	uint16_t version = get16(img + HDR_VERSION);
	if (version < 0x0208)
		die("%s: boot protocol %u.%02u at offset 0x%x; payload_offset needs 2.08 or later", path,
		    version >> 8, version & 0xff, HDR_VERSION);

	unsigned sects = img[SETUP_SECTS] ? img[SETUP_SECTS] : 4;
	size_t pm = (size_t)(sects + 1) * 512;
	uint32_t po = get32(img + PAYLOAD_OFFSET), pl = get32(img + PAYLOAD_LENGTH);

	*off = pm + po;
	*plen = pl;
	if (pm > len || *off > len || pl > len - *off)
		die("%s: payload at offset 0x%zx (protected-mode part 0x%zx + payload_offset 0x%x), %u bytes, "
		    "runs past the end of the file at 0x%zx: truncated",
		    path, *off, pm, po, pl, len);
	if (pl < sizeof(xz_magic) || memcmp(img + *off, xz_magic, sizeof(xz_magic)) != 0)
		die("%s: the payload at offset 0x%zx does not start with the xz magic fd 37 7a 58 5a 00 "
		    "(a kernel built without CONFIG_KERNEL_XZ?)", path, *off);
}

static const char *xz_error(lzma_ret r)
{
	switch (r) {
	case LZMA_DATA_ERROR:
		return "corrupt data";
	case LZMA_FORMAT_ERROR:
		return "not an xz stream";
	case LZMA_BUF_ERROR:
		return "the stream ends early (truncated payload)";
	case LZMA_OPTIONS_ERROR:
		return "unsupported options";
	case LZMA_MEM_ERROR:
		return "out of memory";
	default:
		return "decoder error";
	}
}

/* Decompress the one xz stream at in[0..len); the 4 bytes after it, if
 * any, must be the decompressed size. */
static uint8_t *unxz(const char *path, size_t base, const uint8_t *in, size_t len, size_t *outlen)
{
	lzma_stream s = LZMA_STREAM_INIT;
	size_t cap = 64 << 20;
	uint8_t *out = malloc(cap);
	lzma_ret r;

	if (!out)
		die("%s: out of memory", path);
	r = lzma_stream_decoder(&s, UINT64_MAX, 0);
	if (r != LZMA_OK)
		die("%s: liblzma: cannot start a decoder (error %d)", path, (int)r);
	s.next_in = in;
	s.avail_in = len;
	s.next_out = out;
	s.avail_out = cap;
	for (;;) {
		r = lzma_code(&s, LZMA_FINISH);
		if (r == LZMA_STREAM_END)
			break;
		if (r == LZMA_OK && s.avail_out == 0) {
			size_t done = cap - s.avail_out;
			cap *= 2;
			out = realloc(out, cap);
			if (!out)
				die("%s: out of memory", path);
			s.next_out = out + done;
			s.avail_out = cap - done;
			continue;
		}
		die("%s: xz payload at offset 0x%zx: %s near offset 0x%zx (liblzma error %d)", path, base, xz_error(r),
		    base + (size_t)s.total_in, (int)r);
	}
	*outlen = (size_t)s.total_out;
	size_t rest = s.avail_in;
	lzma_end(&s);
	if (rest == 4) {
		uint32_t want = get32(in + len - 4);
		if (want != *outlen)
			die("%s: the size after the xz stream (offset 0x%zx) says %u bytes; the stream gave %zu", path,
			    base + len - 4, want, *outlen);
	} else if (rest != 0) {
		die("%s: %zu bytes after the xz stream at offset 0x%zx; expected the 4-byte size or nothing", path,
		    rest, base + len - rest);
	}
	return out;
}

/* Where the ELF in buf ends: the furthest of its program headers' file
 * ranges, its section headers' and the header tables themselves. */
static size_t elf_end(const char *path, const uint8_t *e, size_t len)
{
	if (len < 64 || memcmp(e, "\177ELF", 4) != 0)
		die("%s: the decompressed payload is not an ELF file", path);
	if (e[4] != 2 || e[5] != 1)
		die("%s: the decompressed payload is not a little-endian ELF64 file", path);
	if (get16(e + 18) != 62)
		die("%s: the decompressed ELF is for machine %u, not x86-64 (62)", path, get16(e + 18));

	uint64_t phoff = get64(e + 32), shoff = get64(e + 40);
	uint16_t phentsize = get16(e + 54), phnum = get16(e + 56);
	uint16_t shentsize = get16(e + 58), shnum = get16(e + 60);
	uint64_t end = 64;

	if (phoff > len || (uint64_t)phentsize * phnum > len - phoff || (phnum && phentsize < 56))
		die("%s: the decompressed ELF's program headers lie outside it", path);
	if (shoff > len || (uint64_t)shentsize * shnum > len - shoff || (shnum && shentsize < 64))
		die("%s: the decompressed ELF's section headers lie outside it", path);
	if (phoff + (uint64_t)phentsize * phnum > end)
		end = phoff + (uint64_t)phentsize * phnum;
	if (shoff + (uint64_t)shentsize * shnum > end)
		end = shoff + (uint64_t)shentsize * shnum;
	for (unsigned i = 0; i < phnum; i++) {
		const uint8_t *ph = e + phoff + (uint64_t)i * phentsize;
		uint64_t o = get64(ph + 8), sz = get64(ph + 32);
		if (o > len || sz > len - o)
			die("%s: the decompressed ELF's segment %u lies outside it", path, i);
		if (o + sz > end)
			end = o + sz;
	}
	for (unsigned i = 0; i < shnum; i++) {
		const uint8_t *sh = e + shoff + (uint64_t)i * shentsize;
		uint64_t o = get64(sh + 24), sz = get64(sh + 32);
		if (get32(sh + 4) == 8) /* SHT_NOBITS: no bytes in the file */
			continue;
		if (o > len || sz > len - o)
			die("%s: the decompressed ELF's section %u lies outside it", path, i);
		if (o + sz > end)
			end = o + sz;
	}
	return (size_t)end;
}

int main(int argc, char **argv)
{
	tool_prog = "extract-vmlinux";
	if (argc != 3) {
		fprintf(stderr, "usage: %s BZIMAGE VMLINUX\n", tool_prog);
		return 2;
	}
	const char *in = argv[1], *out = argv[2];
	size_t len, off, plen, vlen;
	uint8_t *img = read_all(in, &len);

	find_payload(in, img, len, &off, &plen);
	uint8_t *v = unxz(in, off, img + off, plen, &vlen);
	size_t elen = elf_end(in, v, vlen);

	size_t n = strlen(out) + 5;
	char *tmp = malloc(n);
	if (!tmp)
		die("%s: out of memory", out);
	snprintf(tmp, n, "%s.tmp", out);
	FILE *f = fopen(tmp, "wb");
	if (!f)
		die("%s: %s", tmp, strerror(errno));
	if (fwrite(v, 1, elen, f) != elen || fclose(f) != 0) {
		int e = errno;
		remove(tmp);
		die("%s: write error: %s", tmp, strerror(e));
	}
	if (rename(tmp, out) != 0) {
		int e = errno;
		remove(tmp);
		die("%s: %s", out, strerror(e));
	}
	free(tmp);
	free(v);
	free(img);
	return 0;
}
