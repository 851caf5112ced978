/*
 * The Linux guest's two build tools, run as programs (guests/linux/):
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
 * 0x1000000 and whose PT_LOAD segments lie at physical 0x1000000-0x4a00000.
 *
 * BUILD (default build) is where make put the tools and build/linux.
 */
#include <stdarg.h>
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
static char linux_dir[512], tool_mk[sizeof(linux_dir) + 32], tool_ex[sizeof(linux_dir) + 32];

static int setup(void **state)
{
	const char *b = getenv("BUILD");
	(void)state;
	if (!b || !*b)
		b = "build";
	snprintf(linux_dir, sizeof(linux_dir), "%s/linux", b);
	snprintf(tool_mk, sizeof(tool_mk), "%s/tools/mkinitramfs", linux_dir);
	snprintf(tool_ex, sizeof(tool_ex), "%s/tools/extract-vmlinux", linux_dir);
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
				      "lib/modules/pata_legacy.ko", "lib/modules/scsi_mod.ko" };
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (!find(e, n, need[i]))
			fail_msg("%s is not in %s", need[i], built);
	c = find(e, n, "bin/sh");
	assert_int_equal(c->mode, 0120777);
	assert_int_equal(c->size, 7);
	assert_memory_equal(c->data, "busybox", 7);
	c = find(e, n, "lib/modules/pata_legacy.ko");
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

	/* make's build/linux/vmlinux is the same file. */
	char built[sizeof(linux_dir) + 32];
	size_t blen;
	snprintf(built, sizeof(built), "%s/vmlinux", linux_dir);
	uint8_t *b = read_file(built, &blen);
	assert_non_null(b);
	assert_int_equal(blen, len);
	assert_memory_equal(b, v, len);
	free(b);
	free(v);
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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
