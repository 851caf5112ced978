/*
 * mkinitramfs.c - write a newc cpio archive (a Linux initramfs) from a spec.
 *
 *   mkinitramfs SPEC OUT
 *
 * SPEC has one entry a line; blank lines and lines starting with '#' are
 * skipped.  Fields are separated by blanks:
 *
 *   dir   NAME MODE                      a directory
 *   nod   NAME MODE c|b MAJOR MINOR      a character or block device node
 *   file  NAME MODE SOURCE               a regular file, its bytes read from SOURCE
 *   slink NAME TARGET                    a symbolic link (mode 0777)
 *
 * NAME is an absolute path in the archive (/bin/sh); its parent must be the
 * root or a dir listed earlier, and no NAME may come twice.  MODE is octal
 * permission bits (0755, up to 07777).  SOURCE is a path on the build host,
 * relative to the working directory.  The archive must have /dev/console
 * (nod, c 5 1): the kernel opens it for /init's stdin, stdout and stderr
 * before anything else could make it.
 *
 * The output depends on the spec and the sources' bytes only: entries are
 * written in spec order, owner and group 0, mtime 0, inode numbers 1, 2, 3
 * ... in that order, the mode from the spec (never the source's).  It is
 * written to OUT.tmp and renamed.
 *
 * The format (the kernel's Documentation/driver-api/early-userspace/
 * buffer-format.rst, "newc"): for each entry a 110-byte header
 *
 *   "070701"  magic
 *   13 fields of 8 hex digits: ino, mode, uid, gid, nlink, mtime, filesize,
 *             devmajor, devminor, rdevmajor, rdevminor, namesize, check
 *
 * then the name and its NUL (namesize counts the NUL), padded with NULs to a
 * multiple of 4 from the header's start, then filesize bytes of data (a
 * symlink's data is its target, without a NUL), padded to a multiple of 4.
 * The last entry is named "TRAILER!!!", all fields 0 but nlink 1.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tool.h"

#define NEWC_MAGIC	"070701"
#define NEWC_HDR_LEN	110
#define MAX_NAME	4096
#define MAX_ENTRIES	65536

/* The spec file and the line being read, for errors. */
static const char *spec_path;
static unsigned spec_line;

/* die()'s place in the spec. */
static void spec_where(void)
{
	if (spec_line)
		fprintf(stderr, "%s:%u: ", spec_path, spec_line);
}

/* ---------------------------------------------------------------- output */

struct out {
	FILE *f;
	const char *path;
	uint64_t off;		/* bytes written so far, for the padding */
	uint32_t ino;		/* the last inode number given out */
};

static void put(struct out *o, const void *p, size_t n)
{
	if (n && fwrite(p, 1, n, o->f) != n)
		die("%s: write error: %s", o->path, strerror(errno));
	o->off += n;
}

static void pad4(struct out *o)
{
	static const char zero[4];

	put(o, zero, (4 - o->off % 4) % 4);
}

struct hdr {
	uint32_t ino, mode, nlink, filesize, rdevmajor, rdevminor;
};

static void put_hdr(struct out *o, const struct hdr *h, const char *name)
{
	char buf[128];
	uint32_t namesize = (uint32_t)strlen(name) + 1;	/* at most MAX_NAME + 1 */

	/* uid, gid, mtime, devmajor, devminor and check are always 0. */
	snprintf(buf, sizeof(buf), "%s%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", NEWC_MAGIC, h->ino,
		 h->mode, 0u, 0u, h->nlink, 0u, h->filesize, 0u, 0u, h->rdevmajor, h->rdevminor, namesize, 0u);
	put(o, buf, NEWC_HDR_LEN);
	put(o, name, namesize);
	pad4(o);
}

/* ---------------------------------------------------------------- the spec */

/* The names so far, to refuse duplicates and check parents. */
struct names {
	char **v;
	uint8_t *is_dir;
	size_t n, cap;
};

static int find_name(const struct names *s, const char *name, size_t len)
{
	for (size_t i = 0; i < s->n; i++)
		if (strlen(s->v[i]) == len && memcmp(s->v[i], name, len) == 0)
			return (int)i;
	return -1;
}

static void add_name(struct names *s, const char *name, int is_dir)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		s->is_dir = realloc(s->is_dir, s->cap);
		if (!s->v || !s->is_dir)
			die("out of memory");
	}
	s->v[s->n] = strdup(name);
	if (!s->v[s->n])
		die("out of memory");
	s->is_dir[s->n++] = (uint8_t)is_dir;
}

/* NAME: absolute, no empty, "." or ".." component, not a duplicate, its
 * parent a dir of the spec (or the root). */
static void check_name(struct names *s, const char *name)
{
	size_t len = strlen(name);

	if (name[0] != '/' || len < 2)
		die("name '%s' must be an absolute path below / (like /bin/sh)", name);
	if (len > MAX_NAME)
		die("name '%.40s...' is longer than %d bytes", name, MAX_NAME);
	if (name[len - 1] == '/')
		die("name '%s' ends in '/'", name);
	for (const char *c = name; *c; ) {
		const char *e = strchr(c + 1, '/');
		size_t cl = (e ? (size_t)(e - c) : strlen(c)) - 1;
		if (cl == 0 || (cl == 1 && c[1] == '.') || (cl == 2 && c[1] == '.' && c[2] == '.'))
			die("name '%s' has an empty, '.' or '..' component", name);
		if (!e)
			break;
		c = e;
	}
	if (s->n >= MAX_ENTRIES)
		die("more than %d entries", MAX_ENTRIES);
	if (find_name(s, name, len) >= 0)
		die("'%s' is listed twice", name);
	const char *slash = strrchr(name, '/');
	if (slash != name) {
		int p = find_name(s, name, (size_t)(slash - name));
		if (p < 0)
			die("the parent of '%s' is not a dir listed before it", name);
		if (!s->is_dir[p])
			die("the parent of '%s' is not a dir", name);
	}
}

static uint32_t parse_mode(const char *s)
{
	char *end;
	unsigned long m;

	if (!s)
		die("missing MODE");
	errno = 0;
	m = strtoul(s, &end, 8);
	if (errno || end == s || *end || s[0] == '-' || m > 07777)
		die("mode '%s' is not octal permission bits (0 to 07777)", s);
	return (uint32_t)m;
}

static uint32_t parse_num(const char *s, const char *what, unsigned long max)
{
	char *end;
	unsigned long v;

	if (!s)
		die("missing %s", what);
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v > max)
		die("%s '%s' is not a decimal number from 0 to %lu", what, s, max);
	return (uint32_t)v;
}

static uint8_t *read_source(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	uint8_t *buf;

	if (!f)
		die("cannot open %s: %s", path, strerror(errno));
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode))
		die("%s is not a regular file", path);
	if ((uint64_t)st.st_size > UINT32_MAX)
		die("%s is %lld bytes; newc holds files up to 4 GiB - 1", path, (long long)st.st_size);
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf)
		die("%s: out of memory", path);
	*len = fread(buf, 1, (size_t)st.st_size, f);
	if (ferror(f) || *len != (size_t)st.st_size)
		die("%s: read error (or it changed while read)", path);
	fclose(f);
	return buf;
}

/* One spec line, split into fields (in place); the count. */
static int split(char *line, char **f, int max)
{
	int n = 0;

	for (char *t = strtok(line, " \t\r\n"); t; t = strtok(NULL, " \t\r\n")) {
		if (n == max)
			return max + 1;
		f[n++] = t;
	}
	return n;
}

static void want_fields(int n, int want, const char *usage)
{
	if (n != want)
		die("%s entry needs %d fields: %s", usage, want - 1, usage);
}

static void entry(struct out *o, struct names *s, char **f, int n, int *console)
{
	struct hdr h = { .ino = ++o->ino, .nlink = 1 };
	const char *type = f[0], *name = n > 1 ? f[1] : "";
	uint8_t *data = NULL;
	size_t len = 0;

	if (strcmp(type, "dir") == 0) {
		want_fields(n, 3, "dir NAME MODE");
		check_name(s, name);
		h.mode = S_IFDIR | parse_mode(f[2]);
		h.nlink = 2;
		add_name(s, name, 1);
	} else if (strcmp(type, "nod") == 0) {
		want_fields(n, 6, "nod NAME MODE c|b MAJOR MINOR");
		check_name(s, name);
		if (strcmp(f[3], "c") != 0 && strcmp(f[3], "b") != 0)
			die("device type '%s' is neither c nor b", f[3]);
		h.mode = (f[3][0] == 'c' ? S_IFCHR : S_IFBLK) | parse_mode(f[2]);
		h.rdevmajor = parse_num(f[4], "MAJOR", 4095);
		h.rdevminor = parse_num(f[5], "MINOR", 1048575);
		if (strcmp(name, "/dev/console") == 0) {
			if (f[3][0] != 'c' || h.rdevmajor != 5 || h.rdevminor != 1)
				die("/dev/console must be c 5 1");
			*console = 1;
		}
		add_name(s, name, 0);
	} else if (strcmp(type, "file") == 0) {
		want_fields(n, 4, "file NAME MODE SOURCE");
		check_name(s, name);
		h.mode = S_IFREG | parse_mode(f[2]);
		data = read_source(f[3], &len);
		add_name(s, name, 0);
	} else if (strcmp(type, "slink") == 0) {
		want_fields(n, 3, "slink NAME TARGET");
		check_name(s, name);
		h.mode = S_IFLNK | 0777;
		len = strlen(f[2]);
		if (len > MAX_NAME)
			die("symlink target of '%s' is longer than %d bytes", name, MAX_NAME);
		data = (uint8_t *)strdup(f[2]);
		if (!data)
			die("out of memory");
		add_name(s, name, 0);
	} else {
		die("unknown entry type '%s' (want dir, nod, file or slink)", type);
	}
	h.filesize = (uint32_t)len;
	put_hdr(o, &h, name + 1);	/* names in the archive are relative: bin/sh */
	put(o, data, len);
	pad4(o);
	free(data);
}

int main(int argc, char **argv)
{
	tool_prog = "mkinitramfs";
	tool_where = spec_where;
	if (argc != 3) {
		fprintf(stderr, "usage: %s SPEC OUT\n", tool_prog);
		return 2;
	}
	const char *out = argv[2];
	FILE *spec = fopen(argv[1], "r");
	if (!spec)
		die("%s: %s", argv[1], strerror(errno));

	size_t tl = strlen(out) + 5;
	char *tmp = malloc(tl);
	if (!tmp)
		die("out of memory");
	snprintf(tmp, tl, "%s.tmp", out);
	struct out o = { .f = fopen(tmp, "wb"), .path = tmp };
	if (!o.f)
		die("%s: %s", tmp, strerror(errno));
	tool_tmp_path = tmp;

	struct names names = { 0 };
	char *line = NULL;
	size_t cap = 0;
	int console = 0;
	spec_path = argv[1];
	ssize_t got;
	while ((got = getline(&line, &cap, spec)) >= 0) {
		char *f[8] = { 0 };
		spec_line++;
		if (strlen(line) != (size_t)got)
			die("the line holds a NUL byte");
		const char *p = line + strspn(line, " \t\r\n");
		if (*p == '\0' || *p == '#')
			continue;
		int n = split(line, f, 7);
		if (n > 7)
			die("too many fields");
		entry(&o, &names, f, n, &console);
	}
	if (ferror(spec))
		die("read error: %s", strerror(errno));
	spec_line = 0;
	fclose(spec);
	free(line);
	if (!console)
		die("%s: no 'nod /dev/console MODE c 5 1': /init would run without stdin, stdout and stderr",
		    spec_path);

	struct hdr trailer = { .nlink = 1 };
	put_hdr(&o, &trailer, "TRAILER!!!");
	if (fclose(o.f) != 0)
		die("%s: write error: %s", tmp, strerror(errno));
	if (rename(tmp, out) != 0)
		die("%s: %s", out, strerror(errno));
	tool_tmp_path = NULL;
	for (size_t i = 0; i < names.n; i++)
		free(names.v[i]);
	free(names.v);
	free(names.is_dir);
	free(tmp);
	return 0;
}
