/*
 * The Linux guest's three build tools, run as programs (guests/linux/):
 *
 * mkinitramfs: a spec with every entry type is written and read back by the
 * small newc reader below (written from the format, not from the tool):
 * names, modes, sizes, device numbers, symlink targets, 4-byte alignment,
 * the trailer, inode numbers in order, owner/mtime 0, and the same bytes a
 * second time.  Malformed spec lines give an error naming SPEC:LINE and
 * leave no output.  The initramfs `make` built comes out again byte for
 * byte from its spec, holds what /init needs and no path of the build.
 *
 * extract-vmlinux: bzImage-like files without "HdrS", with an old boot
 * protocol, with a payload past the end of the file, with a payload that is
 * not xz and with a corrupt xz stream each give an error naming the file and
 * the offset; a real xz payload is decompressed and what follows the ELF
 * dropped; the kernel of the Debian package gives an ELF64 whose entry is
 * 0x1000000 and whose PT_LOAD segments lie at physical 0x1000000-0x4a00000;
 * make's build/linux/vmlinux has the same program headers and loadable bytes.
 *
 * kallsyms-elf: a hand-made ELF whose .rodata holds kallsyms tables written
 * here from the format (the Debian 6.1.y layout with kallsyms_seqs_of_names
 * and absolute per-cpu symbols, and plain 6.1: no sequence table, every
 * offset relative) comes out with a .symtab that gives every symbol back:
 * name, address, type, binding, section, size; locals first; the rest of
 * the file as it was; the same bytes twice.  Tables that are missing, cut
 * short or inconsistent (markers, num_syms, the sequence table, unsorted
 * addresses, an address outside the image, a byte that cannot be in a name)
 * and a file that already has a .symtab give an error naming the file and
 * the offset, and no output.  On the kernel of the Debian package it finds
 * more than 80,000 symbols, startup_64 and _text at 0xffffffff81000000,
 * start_kernel in .init.text, and gives make's build/linux/vmlinux again.
 *
 * BUILD (default build) is where make put the tools and build/linux.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ------------------------------------------------------------ helpers */

static char dir[64];
static char linux_dir[512], tool_mk[sizeof(linux_dir) + 32], tool_ex[sizeof(linux_dir) + 32],
	tool_ks[sizeof(linux_dir) + 32];

static int setup(void **state)
{
	const char *b = getenv("BUILD");
	(void)state;
	if (!b || !*b)
		b = "build";
	snprintf(linux_dir, sizeof(linux_dir), "%s/linux", b);
	snprintf(tool_mk, sizeof(tool_mk), "%s/tools/mkinitramfs", linux_dir);
	snprintf(tool_ex, sizeof(tool_ex), "%s/tools/extract-vmlinux", linux_dir);
	snprintf(tool_ks, sizeof(tool_ks), "%s/tools/kallsyms-elf", linux_dir);
	snprintf(dir, sizeof(dir), "/tmp/vmxlab-linux-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void tmp_path(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", dir, name);
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0, got;

	if (!f)
		return NULL;
	do {
		if (n == cap) {
			cap = cap ? cap * 2 : 1 << 16;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got);
	fclose(f);
	*len = n;
	return buf;
}

/* Runs `tool a b`; its exit status, its stderr in err. */
static int run(const char *tool, const char *a, const char *b, char *err, size_t errlen)
{
	char cmd[2048], errpath[128];
	size_t n = 0;

	tmp_path(errpath, sizeof(errpath), "stderr");
	snprintf(cmd, sizeof(cmd), "'%s' '%s' '%s' 2>'%s'", tool, a, b, errpath);
	int st = system(cmd);
	uint8_t *e = read_file(errpath, &n);
	if (err) {
		size_t k = n < errlen - 1 ? n : errlen - 1;
		memcpy(err, e ? (char *)e : "", e ? k : 0);
		err[e ? k : 0] = '\0';
	}
	free(e);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

/* ------------------------------------------------------------ a newc reader */

struct centry {
	char name[256];
	uint32_t ino, mode, uid, gid, nlink, mtime, size, rmaj, rmin;
	const uint8_t *data;
};

static uint32_t hex8(const uint8_t *p)
{
	char s[9];
	memcpy(s, p, 8);
	s[8] = '\0';
	for (int i = 0; i < 8; i++)
		assert_true((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'F') || (s[i] >= 'a' && s[i] <= 'f'));
	return (uint32_t)strtoul(s, NULL, 16);
}

/* Every entry of a newc archive, the trailer last; the count.  Fails the
 * test on a header that is not 4-aligned, a bad magic, a name without its
 * NUL, data past the end, or bytes after the trailer's padding. */
static size_t parse_newc(const uint8_t *a, size_t len, struct centry *out, size_t max)
{
	size_t off = 0, n = 0;

	for (;;) {
		assert_true(n < max);
		assert_int_equal(off % 4, 0);
		assert_true(off + 110 <= len);
		assert_memory_equal(a + off, "070701", 6);
		struct centry *e = &out[n++];
		const uint8_t *h = a + off + 6;
		e->ino = hex8(h);
		e->mode = hex8(h + 8);
		e->uid = hex8(h + 16);
		e->gid = hex8(h + 24);
		e->nlink = hex8(h + 32);
		e->mtime = hex8(h + 40);
		e->size = hex8(h + 48);
		assert_int_equal(hex8(h + 56), 0);	/* devmajor */
		assert_int_equal(hex8(h + 64), 0);	/* devminor */
		e->rmaj = hex8(h + 72);
		e->rmin = hex8(h + 80);
		uint32_t namesize = hex8(h + 88);
		assert_int_equal(hex8(h + 96), 0);	/* check */
		assert_true(namesize >= 2 && namesize <= sizeof(e->name));
		assert_true(off + 110 + namesize <= len);
		assert_int_equal(a[off + 110 + namesize - 1], 0);
		memcpy(e->name, a + off + 110, namesize);
		assert_int_equal(strlen(e->name), namesize - 1);
		off += 110 + namesize;
		for (; off % 4; off++)
			assert_int_equal(a[off], 0);
		assert_true(e->size <= len - off);
		e->data = a + off;
		off += e->size;
		for (; off % 4 && off < len; off++)
			assert_int_equal(a[off], 0);
		if (strcmp(e->name, "TRAILER!!!") == 0)
			break;
	}
	assert_int_equal(off, len);
	return n;
}

static const struct centry *find(const struct centry *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return &v[i];
	return NULL;
}

/* ------------------------------------------------------------ mkinitramfs */

static void mk_sources(void)
{
	char p[128];
	static const char *bodies[] = { "", "a", "abc", "abcd", "abcde" };
	static const char *names[] = { "f0", "f1", "f3", "f4", "f5" };

	for (int i = 0; i < 5; i++) {
		tmp_path(p, sizeof(p), names[i]);
		write_file(p, bodies[i], strlen(bodies[i]));
	}
}

static void write_spec(const char *name, const char *text)
{
	char p[128];
	tmp_path(p, sizeof(p), name);
	write_file(p, text, strlen(text));
}

static void test_mkinitramfs_round_trip(void **state)
{
	char spec[128], out[128], out2[128], text[2048], err[1024];
	(void)state;
	mk_sources();
	snprintf(text, sizeof(text),
		 "# a comment\n"
		 "\n"
		 "dir /dev 0755\n"
		 "nod /dev/console 0600 c 5 1\n"
		 "nod /dev/null 0666 c 1 3\n"
		 "nod /dev/sda 0660 b 8 0\n"
		 "  dir   /bin   0755  \n"
		 "file /bin/f0 0644 %s/f0\n"
		 "file /bin/f1 0755 %s/f1\n"
		 "file /bin/f3 0600 %s/f3\n"
		 "file /bin/f4 0644 %s/f4\n"
		 "file /bin/f5 04755 %s/f5\n"
		 "slink /bin/sh f5\n"
		 "dir /tmp 1777\n"
		 "file /init 0755 %s/f3\n",
		 dir, dir, dir, dir, dir, dir);
	write_spec("spec", text);
	tmp_path(spec, sizeof(spec), "spec");
	tmp_path(out, sizeof(out), "out.cpio");
	tmp_path(out2, sizeof(out2), "out2.cpio");
	assert_int_equal(run(tool_mk, spec, out, err, sizeof(err)), 0);
	assert_string_equal(err, "");

	size_t len, len2;
	uint8_t *a = read_file(out, &len);
	assert_non_null(a);
	struct centry e[32];
	size_t n = parse_newc(a, len, e, 32);
	static const struct {
		const char *name;
		uint32_t mode, size, rmaj, rmin, nlink;
		const char *data;
	} want[] = {
		{ "dev", 040755, 0, 0, 0, 2, "" },
		{ "dev/console", 020600, 0, 5, 1, 1, "" },
		{ "dev/null", 020666, 0, 1, 3, 1, "" },
		{ "dev/sda", 060660, 0, 8, 0, 1, "" },
		{ "bin", 040755, 0, 0, 0, 2, "" },
		{ "bin/f0", 0100644, 0, 0, 0, 1, "" },
		{ "bin/f1", 0100755, 1, 0, 0, 1, "a" },
		{ "bin/f3", 0100600, 3, 0, 0, 1, "abc" },
		{ "bin/f4", 0100644, 4, 0, 0, 1, "abcd" },
		{ "bin/f5", 0104755, 5, 0, 0, 1, "abcde" },
		{ "bin/sh", 0120777, 2, 0, 0, 1, "f5" },
		{ "tmp", 041777, 0, 0, 0, 2, "" },
		{ "init", 0100755, 3, 0, 0, 1, "abc" },
	};
	size_t nw = sizeof(want) / sizeof(want[0]);
	assert_int_equal(n, nw + 1);
	for (size_t i = 0; i < nw; i++) {
		assert_string_equal(e[i].name, want[i].name);
		assert_int_equal(e[i].ino, i + 1);
		assert_int_equal(e[i].mode, want[i].mode);
		assert_int_equal(e[i].size, want[i].size);
		assert_int_equal(e[i].rmaj, want[i].rmaj);
		assert_int_equal(e[i].rmin, want[i].rmin);
		assert_int_equal(e[i].nlink, want[i].nlink);
		assert_int_equal(e[i].uid, 0);
		assert_int_equal(e[i].gid, 0);
		assert_int_equal(e[i].mtime, 0);
		assert_memory_equal(e[i].data, want[i].data, want[i].size);
	}
	const struct centry *t = &e[nw];
	assert_string_equal(t->name, "TRAILER!!!");
	assert_int_equal(t->ino, 0);
	assert_int_equal(t->mode, 0);
	assert_int_equal(t->nlink, 1);
	assert_int_equal(t->size, 0);

	/* The sources' own times and modes do not matter: the same bytes. */
	char f3[128];
	tmp_path(f3, sizeof(f3), "f3");
	assert_int_equal(chmod(f3, 0777), 0);
	sleep(1);
	write_file(f3, "abc", 3);
	assert_int_equal(run(tool_mk, spec, out2, err, sizeof(err)), 0);
	uint8_t *b = read_file(out2, &len2);
	assert_non_null(b);
	assert_int_equal(len, len2);
	assert_memory_equal(a, b, len);
	free(a);
	free(b);
}

/* Each malformed spec: exit 1, SPEC:LINE and the reason on stderr, no OUT. */
static void test_mkinitramfs_errors(void **state)
{
	static const struct {
		const char *body;
		unsigned line;
		const char *says;
	} bad[] = {
		{ "nod /dev/console 0600 c 5 1\nfoo /x 0755\n", 3, "unknown entry type 'foo'" },
		{ "nod /dev/console 0600 c 5 1\ndir /x\n", 3, "dir NAME MODE" },
		{ "nod /dev/console 0600 c 5 1\ndir /x 0755 extra\n", 3, "dir NAME MODE" },
		{ "nod /dev/console 0600 c 5 1\ndir /x 0789\n", 3, "mode '0789'" },
		{ "nod /dev/console 0600 c 5 1\ndir /x 17777\n", 3, "mode '17777'" },
		{ "nod /dev/console 0600 c 5 1\nnod /dev/x 0600 z 1 2\n", 3, "neither c nor b" },
		{ "nod /dev/console 0600 c 5 1\nnod /dev/x 0600 c one 2\n", 3, "MAJOR 'one'" },
		{ "nod /dev/console 0600 c 5 1\ndir /x 0755\ndir /x 0755\n", 4, "listed twice" },
		{ "nod /dev/console 0600 c 5 1\nslink /bin/sh busybox\n", 3, "parent of '/bin/sh'" },
		{ "nod /dev/console 0600 c 5 1\nslink /x busybox\nslink /x/y z\n", 4, "not a dir" },
		{ "nod /dev/console 0600 c 5 1\ndir x 0755\n", 3, "absolute path" },
		{ "nod /dev/console 0600 c 5 1\ndir /a/../b 0755\n", 3, "'..'" },
		{ "nod /dev/console 0600 c 5 1\nfile /x 0644 /nonexistent/file\n", 3, "cannot open /nonexistent/file" },
		{ "nod /dev/console 0600 c 5 2\n", 2, "/dev/console must be c 5 1" },
	};
	char spec[128], out[128], err[1024], want[256];
	(void)state;
	tmp_path(spec, sizeof(spec), "bad.spec");
	tmp_path(out, sizeof(out), "bad.cpio");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char body[512];
		/* Line 1 is a directory every case needs. */
		snprintf(body, sizeof(body), "dir /dev 0755\n%s", bad[i].body);
		write_spec("bad.spec", body);
		assert_int_equal(run(tool_mk, spec, out, err, sizeof(err)), 1);
		snprintf(want, sizeof(want), "%s:%u: ", spec, bad[i].line);
		if (!strstr(err, want) || !strstr(err, bad[i].says))
			fail_msg("case %zu: stderr '%s' lacks '%s' or '%s'", i, err, want, bad[i].says);
		assert_int_equal(access(out, F_OK), -1);
		char tmp[160];
		snprintf(tmp, sizeof(tmp), "%s.tmp", out);
		assert_int_equal(access(tmp, F_OK), -1);
	}

	/* No /dev/console at all: named, no output. */
	write_spec("bad.spec", "dir /dev 0755\n");
	assert_int_equal(run(tool_mk, spec, out, err, sizeof(err)), 1);
	assert_non_null(strstr(err, "/dev/console"));
	assert_int_equal(access(out, F_OK), -1);
}

/* The initramfs `make` built: its spec gives the same bytes again; what
 * /init needs is in it; no path of the build tree is. */
static void test_real_initramfs(void **state)
{
	char spec[sizeof(linux_dir) + 32], built[sizeof(linux_dir) + 32], again[128], cwd[512], err[1024];
	size_t len, len2;
	(void)state;
	snprintf(spec, sizeof(spec), "%s/initramfs.spec", linux_dir);
	snprintf(built, sizeof(built), "%s/initramfs.cpio", linux_dir);
	tmp_path(again, sizeof(again), "again.cpio");
	uint8_t *a = read_file(built, &len);
	if (!a)
		fail_msg("no %s: run make first", built);
	assert_int_equal(run(tool_mk, spec, again, err, sizeof(err)), 0);
	uint8_t *b = read_file(again, &len2);
	assert_non_null(b);
	assert_int_equal(len, len2);
	assert_memory_equal(a, b, len);

	struct centry *e = calloc(4096, sizeof(*e));
	assert_non_null(e);
	size_t n = parse_newc(a, len, e, 4096);
	const struct centry *c = find(e, n, "dev/console");
	assert_non_null(c);
	assert_int_equal(c->mode, 020600);
	assert_int_equal(c->rmaj, 5);
	assert_int_equal(c->rmin, 1);
	assert_non_null(find(e, n, "dev/null"));
	c = find(e, n, "init");
	assert_non_null(c);
	assert_int_equal(c->mode, 0100755);
	assert_memory_equal(c->data, "#!/bin/sh\n", 10);
	c = find(e, n, "bin/busybox");
	assert_non_null(c);
	assert_memory_equal(c->data, "\177ELF", 4);
	static const char *need[] = { "bin/sh", "bin/mount", "bin/insmod", "bin/dd", "bin/md5sum", "bin/usleep",
				      "bin/awk", "workloads/boot.sh", "workloads/disk.sh", "workloads/disk.modules",
				      "lib/modules/ata_piix.ko", "lib/modules/scsi_mod.ko" };
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (!find(e, n, need[i]))
			fail_msg("%s is not in %s", need[i], built);
	c = find(e, n, "bin/sh");
	assert_int_equal(c->mode, 0120777);
	assert_int_equal(c->size, 7);
	assert_memory_equal(c->data, "busybox", 7);
	c = find(e, n, "lib/modules/ata_piix.ko");
	assert_non_null(c);
	assert_memory_equal(c->data, "\177ELF", 4);
	c = find(e, n, "bin/drawfb");       /* the guest program vmxlab builds */
	assert_non_null(c);
	assert_int_equal(c->mode, 0100755);
	assert_memory_equal(c->data, "\177ELF", 4);

	/* No path of this machine's tree or build went in. */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_null(memmem(a, len, cwd, strlen(cwd)));
	char *abs = realpath(linux_dir, NULL);
	assert_non_null(abs);
	assert_null(memmem(a, len, abs, strlen(abs)));
	free(abs);
	free(e);
	free(a);
	free(b);
}

/* ------------------------------------------------------------ extract-vmlinux */

/* A bzImage-like file: setup_sects 1 (the protected-mode part at 0x400),
 * "HdrS" version `version`, the payload at 0x400 + 0x10 with `plen` bytes of
 * `payload` (the header may claim more than is there: `claim`). */
static void make_bzimage(const char *path, uint16_t version, const uint8_t *payload, uint32_t plen,
			 uint32_t claim, int magic)
{
	uint8_t img[0x2000] = { 0 };
	size_t len = 0x410 + plen;
	assert_true(len <= sizeof(img));
	img[0x1f1] = 1;
	img[0x1fe] = 0x55;
	img[0x1ff] = 0xaa;
	if (magic)
		memcpy(img + 0x202, "HdrS", 4);
	img[0x206] = (uint8_t)version;
	img[0x207] = (uint8_t)(version >> 8);
	img[0x248] = 0x10;
	for (int i = 0; i < 4; i++)
		img[0x24c + i] = (uint8_t)(claim >> (8 * i));
	memcpy(img + 0x410, payload, plen);
	write_file(path, img, len);
}

static void expect_ex_error(const char *in, const char *says)
{
	char out[128], err[1024];
	tmp_path(out, sizeof(out), "vmlinux");
	unlink(out);
	assert_int_equal(run(tool_ex, in, out, err, sizeof(err)), 1);
	if (!strstr(err, in) || !strstr(err, says))
		fail_msg("stderr '%s' lacks '%s' or '%s'", err, in, says);
	assert_int_equal(access(out, F_OK), -1);
}

static void test_extract_errors(void **state)
{
	char in[128];
	static const uint8_t notxz[32] = { 0x1f, 0x8b, 0x08 };	/* gzip */
	static const uint8_t badxz[32] = { 0xfd, '7', 'z', 'X', 'Z', 0x00, 0x00, 0x04, 0xde, 0xad };
	(void)state;
	tmp_path(in, sizeof(in), "vmlinuz");

	make_bzimage(in, 0x020f, badxz, 32, 32, 0);
	expect_ex_error(in, "no \"HdrS\" at offset 0x202");

	make_bzimage(in, 0x0206, badxz, 32, 32, 1);
	expect_ex_error(in, "boot protocol 2.06 at offset 0x206");

	make_bzimage(in, 0x020f, badxz, 32, 4096, 1);
	expect_ex_error(in, "payload at offset 0x410");
	expect_ex_error(in, "truncated");

	make_bzimage(in, 0x020f, notxz, 32, 32, 1);
	expect_ex_error(in, "the payload at offset 0x410 does not start with the xz magic");

	make_bzimage(in, 0x020f, badxz, 32, 32, 1);
	expect_ex_error(in, "xz payload at offset 0x410");

	write_file(in, "MZ", 2);
	expect_ex_error(in, "too short for a bzImage setup header");
}

/* A real xz payload (made by xz(1) when it is there): a tiny ELF64 header
 * plus trailing bytes and the 4-byte size, as the kernel's build appends. */
static void test_extract_small_elf(void **state)
{
	char elf[128], xzf[128], in[128], out[128], cmd[512], err[1024];
	uint8_t e[64 + 16] = { 0x7f, 'E', 'L', 'F', 2, 1, 1 };
	(void)state;
	if (system("command -v xz >/dev/null 2>&1") != 0)
		skip();
	e[16] = 2;		/* ET_EXEC */
	e[18] = 62;		/* EM_X86_64 */
	e[27] = 0x01;		/* e_entry 0x1000000 */
	e[52] = 64;		/* e_ehsize */
	memset(e + 64, 0xee, 16);	/* "relocations" after the ELF */
	tmp_path(elf, sizeof(elf), "elf");
	tmp_path(xzf, sizeof(xzf), "elf.xz");
	tmp_path(in, sizeof(in), "vmlinuz");
	tmp_path(out, sizeof(out), "vmlinux");
	write_file(elf, e, sizeof(e));
	snprintf(cmd, sizeof(cmd), "xz --check=crc32 -c '%s' >'%s' && printf '\\120\\0\\0\\0' >>'%s'", elf, xzf, xzf);
	assert_int_equal(system(cmd), 0);
	size_t xlen;
	uint8_t *x = read_file(xzf, &xlen);
	assert_non_null(x);
	make_bzimage(in, 0x020f, x, (uint32_t)xlen, (uint32_t)xlen, 1);
	assert_int_equal(run(tool_ex, in, out, err, sizeof(err)), 0);
	size_t olen;
	uint8_t *o = read_file(out, &olen);
	assert_non_null(o);
	assert_int_equal(olen, 64);
	assert_memory_equal(o, e, 64);
	free(o);

	/* A wrong size after the stream is an error with its offset. */
	x[xlen - 4] = 81;
	make_bzimage(in, 0x020f, x, (uint32_t)xlen, (uint32_t)xlen, 1);
	char off[32];
	snprintf(off, sizeof(off), "offset 0x%zx", (size_t)0x410 + xlen - 4);
	expect_ex_error(in, off);
	free(x);
}

static uint64_t le(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void test_extract_debian_kernel(void **state)
{
	char pat[sizeof(linux_dir) + 32], out[128], err[1024];
	glob_t g;
	(void)state;
	snprintf(pat, sizeof(pat), "%s/pkg/boot/vmlinuz-*", linux_dir);
	if (glob(pat, 0, NULL, &g) != 0 || g.gl_pathc != 1)
		fail_msg("no single %s: run make first", pat);
	tmp_path(out, sizeof(out), "vmlinux");
	assert_int_equal(run(tool_ex, g.gl_pathv[0], out, err, sizeof(err)), 0);
	globfree(&g);

	size_t len;
	uint8_t *v = read_file(out, &len);
	assert_non_null(v);
	assert_memory_equal(v, "\177ELF", 4);
	assert_int_equal(v[4], 2);		/* ELFCLASS64 */
	assert_int_equal(le(v + 18, 2), 62);	/* EM_X86_64 */
	assert_int_equal(le(v + 24, 8), 0x1000000);
	uint64_t phoff = le(v + 32, 8), lo = UINT64_MAX, hi = 0;
	unsigned phnum = (unsigned)le(v + 56, 2), loads = 0;
	for (unsigned i = 0; i < phnum; i++) {
		const uint8_t *ph = v + phoff + 56 * i;
		if (le(ph, 4) != 1)	/* PT_LOAD */
			continue;
		uint64_t pa = le(ph + 24, 8), memsz = le(ph + 40, 8);
		loads++;
		lo = pa < lo ? pa : lo;
		hi = pa + memsz > hi ? pa + memsz : hi;
	}
	assert_true(loads >= 1);
	assert_int_equal(lo, 0x1000000);
	assert_int_equal(hi, 0x4a00000);

	/* make's build/linux/vmlinux is this one with symbols (kallsyms-elf):
	 * the same program headers, the same bytes in every segment. */
	char built[sizeof(linux_dir) + 32];
	size_t blen;
	snprintf(built, sizeof(built), "%s/vmlinux", linux_dir);
	uint8_t *b = read_file(built, &blen);
	assert_non_null(b);
	assert_true(blen > len);
	assert_memory_equal(b, v, 40);	/* the ELF header up to e_shoff */
	assert_memory_equal(b + 48, v + 48, 12);
	assert_memory_equal(b + phoff, v + phoff, 56 * phnum);
	for (unsigned i = 0; i < phnum; i++) {
		const uint8_t *ph = v + phoff + 56 * i;
		uint64_t off = le(ph + 8, 8), filesz = le(ph + 32, 8);
		assert_true(off + filesz <= len);
		if (memcmp(b + off, v + off, filesz) != 0)
			fail_msg("segment %u (offset 0x%llx, 0x%llx bytes) differs between %s and the extraction", i,
				 (unsigned long long)off, (unsigned long long)filesz, built);
	}
	free(b);
	free(v);
}

/* ------------------------------------------------------------ kallsyms-elf */

static void p16(uint8_t *p, uint64_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void p32(uint8_t *p, uint64_t v)
{
	p16(p, v);
	p16(p + 2, v >> 16);
}

static void p64(uint8_t *p, uint64_t v)
{
	p32(p, v);
	p32(p + 4, v >> 32);
}

/* One symbol of a hand-made table, and what the .symtab must say of it. */
struct ksym {
	char name[256];
	char type;
	uint64_t addr;
	const char *section;	/* NULL: SHN_ABS */
	int stt, stb;
	uint64_t size;
};

#define STT_NOTYPE 0
#define STT_OBJECT 1
#define STT_FUNC 2
#define STB_LOCAL 0
#define STB_GLOBAL 1
#define STB_WEAK 2
#define SHN_ABS 0xfff1
#define NSYN 640

/* The hand-made vmlinux: sections at fixed places, the kallsyms tables in
 * .rodata (right after .text) after RO_FILL bytes of other data; .data a
 * gap after .rodata. */
#define TEXT_VA 0xffffffff81000000ull
#define TEXT_SIZE 0x4000
#define RO_VA (TEXT_VA + TEXT_SIZE)
#define RO_FILL 0x400
#define RO_SIZE 0x8000
#define DATA_VA (RO_VA + RO_SIZE + 0x1000)
#define DATA_SIZE 0x1000
#define BSS_VA (DATA_VA + DATA_SIZE)
#define BSS_SIZE 0x2000
#define PERCPU_SIZE 0x1000
#define TEXT_OFF 0x1000
#define RO_OFF (TEXT_OFF + TEXT_SIZE)
#define DATA_OFF (RO_OFF + RO_SIZE)
#define PERCPU_OFF (DATA_OFF + DATA_SIZE)
#define SHSTR_OFF (PERCPU_OFF + PERCPU_SIZE)
#define SH_OFF (SHSTR_OFF + 0x100)
#define NSECT 7
#define KIMG_LEN (SH_OFF + NSECT * 64)

static const char *const kimg_sections[NSECT] = { "", ".text", ".rodata", ".data", ".data..percpu", ".bss", ".shstrtab" };

struct kimg {
	uint8_t d[KIMG_LEN];
	struct ksym sym[NSYN];
	unsigned n;
	/* file offsets of the tables, and of each symbol's entry in names */
	size_t offsets, num_syms, names, markers, seqs, token_table, token_index;
	size_t name_at[NSYN];
};

static void add(struct kimg *k, char type, const char *name, uint64_t addr, const char *section, int stt, int stb,
		uint64_t size)
{
	assert_true(k->n < NSYN);
	struct ksym *s = &k->sym[k->n++];
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->type = type;
	s->addr = addr;
	s->section = section;
	s->stt = stt;
	s->stb = stb;
	s->size = size;
}

/* The symbols, sorted by address, with the type, binding and size the
 * .symtab must give each (the size: up to the next higher address or the
 * end of the section). */
static void symbols(struct kimg *k, bool percpu)
{
	char name[256];
	k->n = 0;
	if (percpu) {
		add(k, 'A', "fixed_percpu_data", 0, ".data..percpu", STT_OBJECT, STB_GLOBAL, 0x40);
		add(k, 'A', "cpu_number", 0x40, ".data..percpu", STT_OBJECT, STB_GLOBAL, PERCPU_SIZE - 0x40);
		add(k, 'A', "__per_cpu_end", PERCPU_SIZE, ".data..percpu", STT_OBJECT, STB_GLOBAL, 0);
		add(k, 'a', "far_absolute", 0x7fff0000, NULL, STT_NOTYPE, STB_LOCAL, 0);
	}
	add(k, 'T', "startup_64", TEXT_VA, ".text", STT_FUNC, STB_GLOBAL, 0x100);
	add(k, 'T', "_text", TEXT_VA, ".text", STT_FUNC, STB_GLOBAL, 0x100);
	add(k, 't', "verify_cpu", TEXT_VA + 0x100, ".text", STT_FUNC, STB_LOCAL, 0x100);
	for (unsigned i = 0; i < 600; i++) {
		snprintf(name, sizeof(name), "sym_%03u", i);
		add(k, i % 3 ? 't' : 'T', name, TEXT_VA + 0x200 + 0x10 * i, ".text", STT_FUNC,
		    i % 3 ? STB_LOCAL : STB_GLOBAL, i < 599 ? 0x10 : 0x90);
	}
	add(k, 'W', "weak_fn", TEXT_VA + 0x2800, ".text", STT_FUNC, STB_WEAK, 0x800);
	add(k, 'T', "start_kernel", TEXT_VA + 0x3000, ".text", STT_FUNC, STB_GLOBAL, 0x100);
	/* 205 characters: a "big" symbol, its length in two bytes */
	snprintf(name, sizeof(name), "long_%0200d", 7);
	add(k, 't', name, TEXT_VA + 0x3100, ".text", STT_FUNC, STB_LOCAL, 0xf00);
	/* where .text ends and .rodata starts: a text symbol is the end of .text */
	add(k, 'T', "_etext", TEXT_VA + TEXT_SIZE, ".text", STT_FUNC, STB_GLOBAL, 0);
	add(k, 'R', "__start_rodata", RO_VA, ".rodata", STT_OBJECT, STB_GLOBAL, 0x10);
	add(k, 'r', "ro_table", RO_VA + 0x10, ".rodata", STT_OBJECT, STB_LOCAL, RO_SIZE - 0x10);
	/* in the gap after .rodata: ld makes it relative to .rodata */
	add(k, 'D', "__end_rodata", RO_VA + RO_SIZE + 0x100, ".rodata", STT_OBJECT, STB_GLOBAL, 0);
	add(k, 'D', "jiffies", DATA_VA, ".data", STT_OBJECT, STB_GLOBAL, 0x40);
	add(k, 'd', "local_data", DATA_VA + 0x40, ".data", STT_OBJECT, STB_LOCAL, 0x40);
	add(k, 'V', "weak_obj", DATA_VA + 0x80, ".data", STT_OBJECT, STB_WEAK, DATA_SIZE - 0x80);
	add(k, 'B', "big_buffer", BSS_VA, ".bss", STT_OBJECT, STB_GLOBAL, 0x1000);
	add(k, 'b', "small_buffer", BSS_VA + 0x1000, ".bss", STT_OBJECT, STB_LOCAL, 0x1000);
	add(k, 'B', "_end", BSS_VA + BSS_SIZE, ".bss", STT_OBJECT, STB_GLOBAL, 0);
}

/* The tokens: the 94 printable characters one each, some words, and
 * fillers no name uses. */
static void tokens(char tok[256][16])
{
	static const char *words[] = { "start_", "kernel", "sym_", "_64", "percpu", "data", "long_", "00000000" };
	unsigned k = 0;
	for (int c = '!'; c <= '~'; c++, k++)
		snprintf(tok[k], 16, "%c", c);
	for (unsigned w = 0; w < sizeof(words) / sizeof(words[0]); w++, k++)
		snprintf(tok[k], 16, "%s", words[w]);
	for (unsigned f = 0; k < 256; f++, k++)
		snprintf(tok[k], 16, "zz%03u", f);
}

/* s as token numbers, the longest token first; their count. */
static size_t encode(char tok[256][16], const char *s, uint8_t *out)
{
	size_t n = 0;
	while (*s) {
		unsigned best = 256;
		size_t bl = 0;
		for (unsigned k = 0; k < 256; k++) {
			size_t l = strlen(tok[k]);
			if (l > bl && strncmp(s, tok[k], l) == 0) {
				best = k;
				bl = l;
			}
		}
		assert_true(best < 256);
		out[n++] = (uint8_t)best;
		s += bl;
	}
	return n;
}

static const struct kimg *sort_img;

static int by_name(const void *a, const void *b)
{
	return strcmp(sort_img->sym[*(const unsigned *)a].name, sort_img->sym[*(const unsigned *)b].name);
}

static size_t up8(size_t v)
{
	return (v + 7) & ~(size_t)7;
}

/* The image: ELF header, two PT_LOADs (.text and .rodata; .data and
 * .bss), the sections, .shstrtab, the section headers.  percpu: absolute
 * per-cpu symbols (CONFIG_KALLSYMS_ABSOLUTE_PERCPU), else every offset
 * relative; seqs: with kallsyms_seqs_of_names. */
static void make_kimg(struct kimg *k, bool percpu, bool seqs)
{
	char tok[256][16];
	uint8_t *d = k->d;
	uint8_t enc[512];

	memset(k, 0, sizeof(*k));
	tokens(tok);
	symbols(k, percpu);

	/* ELF header and program headers */
	memcpy(d, "\177ELF\2\1\1", 7);
	p16(d + 16, 2);			/* ET_EXEC */
	p16(d + 18, 62);		/* EM_X86_64 */
	p32(d + 20, 1);
	p64(d + 24, 0x1000000);		/* e_entry */
	p64(d + 32, 64);		/* e_phoff */
	p64(d + 40, SH_OFF);
	p16(d + 52, 64);
	p16(d + 54, 56);
	p16(d + 56, 2);
	p16(d + 58, 64);
	p16(d + 60, NSECT);
	p16(d + 62, NSECT - 1);
	static const uint64_t ph[2][6] = {
		/* flags, offset, vaddr, paddr, filesz, memsz */
		{ 5, TEXT_OFF, TEXT_VA, 0x1000000, TEXT_SIZE + RO_SIZE, TEXT_SIZE + RO_SIZE },
		{ 6, DATA_OFF, DATA_VA, 0x1000000 + (DATA_VA - TEXT_VA), DATA_SIZE, DATA_SIZE + BSS_SIZE },
	};
	for (unsigned i = 0; i < 2; i++) {
		uint8_t *p = d + 64 + 56 * i;
		p32(p, 1);
		p32(p + 4, ph[i][0]);
		p64(p + 8, ph[i][1]);
		p64(p + 16, ph[i][2]);
		p64(p + 24, ph[i][3]);
		p64(p + 32, ph[i][4]);
		p64(p + 40, ph[i][5]);
		p64(p + 48, 0x1000);
	}
	memset(d + TEXT_OFF, 0xcc, TEXT_SIZE);
	for (size_t i = 0; i < RO_FILL; i++)
		d[RO_OFF + i] = (uint8_t)(0xa0 + i);
	for (size_t i = 0; i < DATA_SIZE + PERCPU_SIZE; i++)
		d[DATA_OFF + i] = (uint8_t)(i * 7);

	/* the tables, each at a multiple of 8 */
	size_t o = RO_OFF + RO_FILL;
	k->offsets = o;
	for (unsigned i = 0; i < k->n; i++) {
		uint64_t a = k->sym[i].addr;
		int64_t v = !percpu ? (int64_t)(a - TEXT_VA) : a < TEXT_VA ? (int64_t)a : -(int64_t)(a - TEXT_VA) - 1;
		p32(d + o + 4 * i, (uint64_t)v);
	}
	o = up8(o + 4 * k->n);
	p64(d + o, TEXT_VA);		/* kallsyms_relative_base */
	k->num_syms = o + 8;
	p32(d + k->num_syms, k->n);
	o = k->names = up8(k->num_syms + 4);
	for (unsigned i = 0; i < k->n; i++) {
		char full[300];
		snprintf(full, sizeof(full), "%c%s", k->sym[i].type, k->sym[i].name);
		size_t len = encode(tok, full, enc);
		k->name_at[i] = o;
		if (len > 0x7f) {
			d[o++] = (uint8_t)(0x80 | (len & 0x7f));
			d[o++] = (uint8_t)(len >> 7);
		} else {
			d[o++] = (uint8_t)len;
		}
		memcpy(d + o, enc, len);
		o += len;
	}
	o = k->markers = up8(o);
	for (unsigned i = 0; i < k->n; i += 256, o += 4)
		p32(d + o, k->name_at[i] - k->names);
	o = up8(o);
	k->seqs = 0;
	if (seqs) {
		unsigned order[NSYN];
		for (unsigned i = 0; i < k->n; i++)
			order[i] = i;
		sort_img = k;
		qsort(order, k->n, sizeof(order[0]), by_name);
		k->seqs = o;
		for (unsigned i = 0; i < k->n; i++, o += 3) {
			d[o] = (uint8_t)(order[i] >> 16);
			d[o + 1] = (uint8_t)(order[i] >> 8);
			d[o + 2] = (uint8_t)order[i];
		}
		o = up8(o);
	}
	k->token_table = o;
	uint16_t idx[256];
	for (unsigned t = 0; t < 256; t++) {
		idx[t] = (uint16_t)(o - k->token_table);
		memcpy(d + o, tok[t], strlen(tok[t]) + 1);
		o += strlen(tok[t]) + 1;
	}
	o = k->token_index = up8(o);
	for (unsigned t = 0; t < 256; t++)
		p16(d + o + 2 * t, idx[t]);
	assert_true(o + 512 + 0x40 <= RO_OFF + RO_SIZE);
	for (size_t i = 0; i < 0x40; i++)	/* more data after the tables */
		d[o + 512 + i] = (uint8_t)(0x55 ^ i);

	/* the sections */
	static const uint64_t sh[NSECT][6] = {
		/* type, flags, addr, offset, size, align */
		{ 0 },
		{ 1, 6, TEXT_VA, TEXT_OFF, TEXT_SIZE, 4096 },
		{ 1, 2, RO_VA, RO_OFF, RO_SIZE, 4096 },
		{ 1, 3, DATA_VA, DATA_OFF, DATA_SIZE, 4096 },
		{ 1, 3, 0, PERCPU_OFF, PERCPU_SIZE, 4096 },
		{ 8, 3, BSS_VA, SHSTR_OFF, BSS_SIZE, 4096 },
		{ 3, 0, 0, SHSTR_OFF, 0, 1 },
	};
	size_t names = 1;
	for (unsigned i = 0; i < NSECT; i++) {
		uint8_t *p = d + SH_OFF + 64 * i;
		if (i) {
			p32(p, names);
			memcpy(d + SHSTR_OFF + names, kimg_sections[i], strlen(kimg_sections[i]) + 1);
			names += strlen(kimg_sections[i]) + 1;
		}
		p32(p + 4, sh[i][0]);
		p64(p + 8, sh[i][1]);
		p64(p + 16, sh[i][2]);
		p64(p + 24, sh[i][3]);
		p64(p + 32, i == NSECT - 1 ? names : sh[i][4]);
		p64(p + 48, sh[i][5]);
	}
	assert_true(names <= 0x100);
}

/* What the output's .symtab says of one symbol. */
struct osym {
	const char *name;
	uint64_t value, size;
	int stt, stb;
	const char *section;	/* NULL: SHN_ABS */
};

/* The output's symbols (without the null one) into out; their count.
 * Checks the ELF's section headers, .symtab's and .strtab's, the null
 * symbol and that the local symbols come first. */
static size_t read_symtab(const uint8_t *o, size_t len, struct osym *out, size_t max)
{
	uint64_t shoff = le(o + 40, 8);
	unsigned shnum = (unsigned)le(o + 60, 2), shstrndx = (unsigned)le(o + 62, 2), symtab = 0;
	assert_true(shoff + 64 * (uint64_t)shnum <= len);
	assert_true(shstrndx < shnum);
	const uint8_t *ss = o + shoff + 64 * shstrndx;
	const char *shnames = (const char *)o + le(ss + 24, 8);
	assert_true(le(ss + 24, 8) + le(ss + 32, 8) <= len);
	for (unsigned i = 0; i < shnum; i++)
		if (le(o + shoff + 64 * i + 4, 4) == 2) {	/* SHT_SYMTAB */
			assert_int_equal(symtab, 0);
			symtab = i;
		}
	assert_true(symtab != 0);
	const uint8_t *sh = o + shoff + 64 * symtab;
	assert_string_equal(shnames + le(sh, 4), ".symtab");
	unsigned link = (unsigned)le(sh + 40, 4), info = (unsigned)le(sh + 44, 4);
	uint64_t off = le(sh + 24, 8), size = le(sh + 32, 8);
	assert_int_equal(le(sh + 56, 8), 24);
	assert_int_equal(size % 24, 0);
	assert_true(off + size <= len);
	assert_true(link < shnum);
	const uint8_t *st = o + shoff + 64 * link;
	assert_int_equal(le(st + 4, 4), 3);	/* SHT_STRTAB */
	assert_string_equal(shnames + le(st, 4), ".strtab");
	uint64_t stroff = le(st + 24, 8), strsize = le(st + 32, 8);
	assert_true(stroff + strsize <= len && strsize > 0);
	assert_int_equal(o[stroff + strsize - 1], 0);
	size_t n = size / 24;
	assert_true(n >= 1 && n - 1 <= max);
	static const uint8_t zero[24];
	assert_memory_equal(o + off, zero, 24);
	for (size_t i = 1; i < n; i++) {
		const uint8_t *s = o + off + 24 * i;
		struct osym *y = &out[i - 1];
		assert_true(le(s, 4) < strsize);
		y->name = (const char *)o + stroff + le(s, 4);
		y->stt = s[4] & 0xf;
		y->stb = s[4] >> 4;
		assert_int_equal(s[5], 0);
		unsigned shndx = (unsigned)le(s + 6, 2);
		if (shndx == SHN_ABS) {
			y->section = NULL;
		} else {
			assert_true(shndx > 0 && shndx < shnum);
			y->section = shnames + le(o + shoff + 64 * shndx, 4);
		}
		y->value = le(s + 8, 8);
		y->size = le(s + 16, 8);
		/* sh_info: the first non-local symbol */
		assert_int_equal(y->stb == STB_LOCAL, i < info);
	}
	return n - 1;
}

static const struct osym *find_sym(const struct osym *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return &v[i];
	return NULL;
}

static void check_kimg_out(const struct kimg *k, const char *out)
{
	size_t len;
	uint8_t *o = read_file(out, &len);
	assert_non_null(o);

	/* Everything up to .shstrtab as it was, but e_shoff and e_shnum. */
	assert_memory_equal(o, k->d, 40);
	assert_memory_equal(o + 48, k->d + 48, 12);
	assert_int_equal(le(o + 60, 2), NSECT + 2);
	assert_memory_equal(o + 62, k->d + 62, SHSTR_OFF - 62);
	/* the old section headers, but .shstrtab's offset and size */
	uint64_t shoff = le(o + 40, 8);
	assert_memory_equal(o + shoff, k->d + SH_OFF, 64 * (NSECT - 1));

	struct osym *v = calloc(NSYN, sizeof(*v));
	assert_non_null(v);
	size_t n = read_symtab(o, len, v, NSYN);
	assert_int_equal(n, k->n);
	for (unsigned i = 0; i < k->n; i++) {
		const struct ksym *w = &k->sym[i];
		const struct osym *y = find_sym(v, n, w->name);
		if (!y)
			fail_msg("%s is not in the .symtab", w->name);
		if (y->value != w->addr || y->size != w->size || y->stt != w->stt || y->stb != w->stb ||
		    (!y->section) != (!w->section) || (w->section && strcmp(y->section, w->section) != 0))
			fail_msg("%s: value 0x%llx size 0x%llx type %d binding %d section %s; want 0x%llx 0x%llx %d %d %s",
				 w->name, (unsigned long long)y->value, (unsigned long long)y->size, y->stt, y->stb,
				 y->section ? y->section : "ABS", (unsigned long long)w->addr,
				 (unsigned long long)w->size, w->stt, w->stb, w->section ? w->section : "ABS");
	}
	free(v);
	free(o);
}

static void write_kimg(const struct kimg *k, const char *path)
{
	write_file(path, k->d, KIMG_LEN);
}

/* Both layouts read back exactly; the same bytes a second time; a file
 * with a .symtab is refused. */
static void test_kallsyms_round_trip(void **state)
{
	static struct kimg k;
	char in[128], out[128], out2[128], err[1024];
	(void)state;
	tmp_path(in, sizeof(in), "vmlinux");
	tmp_path(out, sizeof(out), "vmlinux.sym");
	tmp_path(out2, sizeof(out2), "vmlinux.sym2");

	for (int variant = 0; variant < 2; variant++) {
		make_kimg(&k, variant == 0, variant == 0);
		write_kimg(&k, in);
		assert_int_equal(run(tool_ks, in, out, err, sizeof(err)), 0);
		assert_string_equal(err, "");
		check_kimg_out(&k, out);
		assert_int_equal(run(tool_ks, in, out2, err, sizeof(err)), 0);
		size_t l1, l2;
		uint8_t *a = read_file(out, &l1), *b = read_file(out2, &l2);
		assert_non_null(a);
		assert_non_null(b);
		assert_int_equal(l1, l2);
		assert_memory_equal(a, b, l1);
		free(a);
		free(b);
	}

	assert_int_equal(run(tool_ks, out, out2, err, sizeof(err)), 1);
	if (!strstr(err, out) || !strstr(err, "(.symtab) is already a symbol table"))
		fail_msg("stderr '%s'", err);
}

/* Runs kallsyms-elf on k: exit 1, stderr names the file and says each of
 * the strings; no output. */
static void expect_ks_error(const struct kimg *k, const char *says, const char *says2)
{
	char in[128], out[128], tmp[160], err[1024];
	tmp_path(in, sizeof(in), "bad-vmlinux");
	tmp_path(out, sizeof(out), "bad-vmlinux.sym");
	write_kimg(k, in);
	assert_int_equal(run(tool_ks, in, out, err, sizeof(err)), 1);
	if (!strstr(err, in) || !strstr(err, says) || (says2 && !strstr(err, says2)))
		fail_msg("stderr '%s' lacks '%s' or '%s'", err, says, says2 ? says2 : "");
	assert_int_equal(access(out, F_OK), -1);
	snprintf(tmp, sizeof(tmp), "%s.tmp", out);
	assert_int_equal(access(tmp, F_OK), -1);
}

static void test_kallsyms_errors(void **state)
{
	static struct kimg k;
	char want[160], in[128], out[128], err[1024];
	(void)state;

	/* no token index: its first entry is not 0 */
	make_kimg(&k, true, true);
	k.d[k.token_index] = 1;
	snprintf(want, sizeof(want), "offsets 0x%x-0x%x", RO_OFF, RO_OFF + RO_SIZE);
	expect_ks_error(&k, "no kallsyms_token_index in .rodata", want);

	/* .rodata cut short before the token index's end */
	make_kimg(&k, true, true);
	p64(k.d + SH_OFF + 64 * 2 + 32, k.token_index + 256 - RO_OFF);
	expect_ks_error(&k, "no kallsyms_token_index in .rodata", NULL);

	/* a token index that does not fit the tokens before it */
	make_kimg(&k, true, true);
	p16(k.d + k.token_index + 2 * 7, le(k.d + k.token_index + 2 * 7, 2) + 1);
	expect_ks_error(&k, "no kallsyms_token_index", NULL);

	/* a wrong marker */
	make_kimg(&k, true, true);
	p32(k.d + k.markers + 4, le(k.d + k.markers + 4, 4) + 1);
	snprintf(want, sizeof(want), "kallsyms_markers[1] at offset 0x%zx", k.markers + 4);
	expect_ks_error(&k, want, "symbol 256 starts at");

	/* num_syms: not a count at all; more than kallsyms_offsets has room for;
	 * more than the names */
	make_kimg(&k, true, true);
	p32(k.d + k.num_syms, 0x7fffffff);
	snprintf(want, sizeof(want), "kallsyms_num_syms at offset 0x%zx is 2147483647: not a count", k.num_syms);
	expect_ks_error(&k, want, NULL);
	unsigned room = (unsigned)(k.num_syms - RO_OFF) / 4;
	assert_true(room <= (k.token_table - k.num_syms) / 2);
	p32(k.d + k.num_syms, room);
	snprintf(want, sizeof(want), "kallsyms_num_syms at offset 0x%zx says %u symbols, but their kallsyms_offsets "
		 "would start before .rodata", k.num_syms, room);
	expect_ks_error(&k, want, NULL);
	make_kimg(&k, true, true);
	p32(k.d + k.num_syms, k.n + 40);
	/* the padding after the last name is a name of length 0 */
	snprintf(want, sizeof(want), "kallsyms_num_syms at offset 0x%zx says %u symbols, but name %u", k.num_syms,
		 k.n + 40, k.n);
	expect_ks_error(&k, want, "is empty");

	/* names that end early: num_syms smaller (the markers do not follow) */
	make_kimg(&k, true, true);
	p32(k.d + k.num_syms, k.n - 1);
	expect_ks_error(&k, "neither right after them nor after a kallsyms_seqs_of_names", NULL);

	/* an empty name; a length that runs past the names */
	make_kimg(&k, true, false);
	k.d[k.name_at[300]] = 0;
	snprintf(want, sizeof(want), "name 300 (offset 0x%zx) is empty", k.name_at[300]);
	expect_ks_error(&k, want, NULL);
	make_kimg(&k, true, false);
	k.d[k.name_at[k.n - 1]] = 0x80 | 0x7f;
	k.d[k.name_at[k.n - 1] + 1] = 0x7f;
	snprintf(want, sizeof(want), "name %u (offset 0x%zx) runs into the token table at 0x%zx", k.n - 1,
		 k.name_at[k.n - 1], k.token_table);
	expect_ks_error(&k, want, NULL);

	/* the sequence table: a symbol twice */
	make_kimg(&k, true, true);
	memcpy(k.d + k.seqs + 3 * 5, k.d + k.seqs + 3 * 4, 3);
	snprintf(want, sizeof(want), "kallsyms_seqs_of_names[5] at offset 0x%zx", k.seqs + 15);
	expect_ks_error(&k, want, "a second time");

	/* addresses out of order */
	make_kimg(&k, true, true);
	p32(k.d + k.offsets + 4 * 10, le(k.d + k.offsets + 4 * 9, 4) + 1);	/* 2 bytes below its predecessor */
	snprintf(want, sizeof(want), "kallsyms_offsets[10] at offset 0x%zx", k.offsets + 40);
	expect_ks_error(&k, want, "not sorted");

	/* the last symbol far past the image (relative mode: offsets from _text) */
	make_kimg(&k, false, false);
	p32(k.d + k.offsets + 4 * (k.n - 1), 0x40000000);
	snprintf(want, sizeof(want), "kallsyms_offsets[%u] at offset 0x%zx: _end (type B)", k.n - 1,
		 k.offsets + 4 * (k.n - 1));
	expect_ks_error(&k, want, "lies in no section");

	/* a byte no name has: a token made "z\001" that symbol 7 uses */
	make_kimg(&k, true, true);
	unsigned filler = 255;
	size_t tt = k.token_table + le(k.d + k.token_index + 2 * filler, 2);
	k.d[tt + 1] = 1;
	k.d[k.name_at[7] + 2] = (uint8_t)filler;
	snprintf(want, sizeof(want), "symbol 7 (kallsyms_names, offset 0x%zx): byte 0x01", k.name_at[7]);
	expect_ks_error(&k, want, NULL);

	/* a file cut short: its section headers are gone */
	make_kimg(&k, true, true);
	tmp_path(in, sizeof(in), "cut-vmlinux");
	tmp_path(out, sizeof(out), "cut-vmlinux.sym");
	write_file(in, k.d, RO_OFF + 0x100);
	assert_int_equal(run(tool_ks, in, out, err, sizeof(err)), 1);
	snprintf(want, sizeof(want), "the section headers (offset 0x%x, %u of them) lie outside the file", SH_OFF, NSECT);
	if (!strstr(err, in) || !strstr(err, want))
		fail_msg("stderr '%s' lacks '%s'", err, want);
	assert_int_equal(access(out, F_OK), -1);
}

/* The Debian kernel: a fresh extraction gives make's vmlinux again, with
 * the symbols gdb needs where the kernel has them. */
static void test_kallsyms_debian_kernel(void **state)
{
	char pat[sizeof(linux_dir) + 32], ex[128], out[128], err[1024], built[sizeof(linux_dir) + 32];
	glob_t g;
	(void)state;
	snprintf(pat, sizeof(pat), "%s/pkg/boot/vmlinuz-*", linux_dir);
	if (glob(pat, 0, NULL, &g) != 0 || g.gl_pathc != 1)
		fail_msg("no single %s: run make first", pat);
	tmp_path(ex, sizeof(ex), "vmlinux.stripped");
	tmp_path(out, sizeof(out), "vmlinux");
	assert_int_equal(run(tool_ex, g.gl_pathv[0], ex, err, sizeof(err)), 0);
	globfree(&g);
	assert_int_equal(run(tool_ks, ex, out, err, sizeof(err)), 0);

	size_t len, blen;
	uint8_t *o = read_file(out, &len);
	snprintf(built, sizeof(built), "%s/vmlinux", linux_dir);
	uint8_t *b = read_file(built, &blen);
	assert_non_null(o);
	assert_non_null(b);
	assert_int_equal(len, blen);
	assert_memory_equal(o, b, len);
	free(b);

	size_t max = 1 << 20, funcs = 0;
	struct osym *v = calloc(max, sizeof(*v));
	assert_non_null(v);
	size_t n = read_symtab(o, len, v, max);
	for (size_t i = 0; i < n; i++)
		funcs += v[i].stt == STT_FUNC;
	print_message("%zu symbols, %zu functions\n", n, funcs);
	assert_true(n > 80000);
	assert_true(funcs > 45000);
	static const struct {
		const char *name;
		uint64_t value;	/* 0: not checked */
		const char *section;
		int stt, stb;
	} want[] = {
		{ "startup_64", 0xffffffff81000000, ".text", STT_FUNC, STB_GLOBAL },
		{ "_text", 0xffffffff81000000, ".text", STT_FUNC, STB_GLOBAL },
		{ "start_kernel", 0, ".init.text", STT_FUNC, STB_GLOBAL },
		{ "x86_64_start_kernel", 0, ".init.text", STT_FUNC, STB_GLOBAL },
		{ "schedule", 0, ".text", STT_FUNC, STB_GLOBAL },
		{ "jiffies", 0, ".data", STT_OBJECT, STB_GLOBAL },
		{ "fixed_percpu_data", 0, ".data..percpu", STT_OBJECT, STB_GLOBAL },
		{ "linux_banner", 0, ".rodata", STT_OBJECT, STB_GLOBAL },
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct osym *y = find_sym(v, n, want[i].name);
		if (!y)
			fail_msg("no %s in the .symtab", want[i].name);
		if ((want[i].value && y->value != want[i].value) || !y->section ||
		    strcmp(y->section, want[i].section) != 0 || y->stt != want[i].stt || y->stb != want[i].stb)
			fail_msg("%s: 0x%llx in %s, type %d binding %d", want[i].name, (unsigned long long)y->value,
				 y->section ? y->section : "ABS", y->stt, y->stb);
	}
	free(v);
	free(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mkinitramfs_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mkinitramfs_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_real_initramfs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_extract_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_extract_small_elf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_extract_debian_kernel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kallsyms_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kallsyms_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kallsyms_debian_kernel, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
