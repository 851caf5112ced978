/*
 * trace_write.c - the xentrace writer: records in, CPU_CHANGE windows out.
 *
 * A file is what xentrace writes (xentrace.md 1.1; Xen 4.17
 * tools/xentrace/xentrace.c:119-130 and write_buffer() at 346-420): no
 * header, a sequence of windows, each a CPU_CHANGE record and the raw ring
 * bytes of one physical CPU:
 *
 *   +------------+-----+-------------+------------------------------------+
 *   | 0x2001f003 | cpu | window_size | window_size bytes of records (cpu) |
 *   +------------+-----+-------------+------------------------------------+
 *     CPU_CHANGE: 2 extra words, no TSC; then the next window...
 *
 * Each pcpu gets its own buffer of at most `window` bytes (default
 * TRC_WINDOW_MAX = 32 pages * 4096 - 8, xentrace's data_size).  A record that
 * does not fit ends the window: the buffer is written out and the record
 * starts the next one, so records never cross a window (as in Xen's ring).
 * When one pcpu's buffer is full, every pcpu's buffer is written, in cpu
 * order, like one polling round of xentrace, so that windows in the file
 * follow time across pcpus.  xenalyze depends on that: Debian's 4.17
 * xenalyze stops with "FATAL: p->current not NULL" on a two-pcpu trace whose
 * second pcpu's TSCs ran far ahead of its windows' place in the file
 * (docs/traces.md: callers with several pcpus put records in time order).
 * Every write(2) adds whole windows, so the file is valid between any two
 * windows, and a failed write is cut back to the last whole window.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <vmxlab/trace.h>

struct cpubuf {
	uint8_t *data;
	size_t len;
};

struct trc_writer {
	int fd;
	size_t window;              /* bytes per window, at most TRC_WINDOW_MAX */
	struct cpubuf *cpu;         /* indexed by pcpu, grown on demand */
	unsigned ncpu;
	uint64_t written;           /* bytes of complete windows in the file */
	bool failed;                /* a write error happened: sticky */
	char err[256];
};

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static int fail(struct trc_writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct trc_writer *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->err, sizeof(w->err), fmt, ap);
	va_end(ap);
	return -1;
}

struct trc_writer *trc_writer_open(const char *path, char *err, size_t errlen)
{
	struct trc_writer *w = calloc(1, sizeof(*w));

	if (!w) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (w->fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(w);
		return NULL;
	}
	w->window = TRC_WINDOW_MAX;
	return w;
}

int trc_writer_set_window(struct trc_writer *w, size_t bytes)
{
	if (bytes < TRC_REC_MAX_BYTES || bytes > TRC_WINDOW_MAX || bytes % 4)
		return fail(w, "window size %zu: must be a multiple of 4 in [%u, %u]", bytes,
			    TRC_REC_MAX_BYTES, TRC_WINDOW_MAX);
	for (unsigned i = 0; i < w->ncpu; i++)
		if (w->cpu[i].len > bytes)
			return fail(w, "window size %zu: cpu %u already holds %zu bytes", bytes, i,
				    w->cpu[i].len);
	w->window = bytes;
	return 0;
}

/* Write all of iov, or cut the file back to its last whole window. */
static int write_all(struct trc_writer *w, struct iovec *iov, int n, size_t total)
{
	size_t done = 0;

	while (done < total) {
		ssize_t k = writev(w->fd, iov, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			int e = k < 0 ? errno : EIO;
			if (ftruncate(w->fd, (off_t)w->written) == 0)
				(void)lseek(w->fd, (off_t)w->written, SEEK_SET);
			w->failed = true;
			return fail(w, "write at offset %llu: %s", (unsigned long long)(w->written + done),
				    strerror(e));
		}
		done += (size_t)k;
		/* Step over what was written (short writes are rare). */
		while (n > 0 && (size_t)k >= iov->iov_len) {
			k -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + k;
			iov->iov_len -= (size_t)k;
		}
	}
	w->written += total;
	return 0;
}

/* One window: CPU_CHANGE(cpu, len) then the buffer. */
static int emit_window(struct trc_writer *w, unsigned cpu)
{
	struct cpubuf *b = &w->cpu[cpu];
	uint8_t hdr[12];
	struct iovec iov[2];

	if (b->len == 0)
		return 0;
	put_le32(hdr, TRC_TRACE_CPU_CHANGE | (2u << 28));
	put_le32(hdr + 4, cpu);
	put_le32(hdr + 8, (uint32_t)b->len);
	iov[0] = (struct iovec){ hdr, sizeof(hdr) };
	iov[1] = (struct iovec){ b->data, b->len };
	if (write_all(w, iov, 2, sizeof(hdr) + b->len))
		return -1;
	b->len = 0;
	return 0;
}

static struct cpubuf *cpu_buffer(struct trc_writer *w, uint32_t cpu)
{
	if (cpu >= w->ncpu) {
		unsigned n = cpu + 1 > 2 * w->ncpu ? cpu + 1 : 2 * w->ncpu;
		struct cpubuf *c = realloc(w->cpu, n * sizeof(*c));
		if (!c)
			return NULL;
		memset(c + w->ncpu, 0, (n - w->ncpu) * sizeof(*c));
		w->cpu = c;
		w->ncpu = n;
	}
	if (!w->cpu[cpu].data && !(w->cpu[cpu].data = malloc(TRC_WINDOW_MAX)))
		return NULL;
	return &w->cpu[cpu];
}

/*
 * Record layout (struct t_rec, Xen public/trace.h; xentrace.md 1.2):
 *   u32 header = event | n << 28 | has_tsc << 31
 *   [u32 tsc_lo, u32 tsc_hi]      if has_tsc
 *   u32 word[n]
 */
int trc_writer_put(struct trc_writer *w, uint32_t cpu, uint32_t event, bool has_tsc, uint64_t tsc,
		   const uint32_t *words, unsigned n)
{
	uint8_t *p;
	struct cpubuf *b;
	size_t size = 4 + (has_tsc ? 8 : 0) + 4 * (size_t)n;

	if (w->failed)
		return -1;
	if (cpu >= TRC_MAX_CPUS)
		return fail(w, "cpu %u: at most %u physical CPUs", cpu, TRC_MAX_CPUS);
	if (n > TRC_REC_MAX_EXTRA)
		return fail(w, "event 0x%08x: %u payload words, at most %u", event, n, TRC_REC_MAX_EXTRA);
	if (event & ~0x0fffffffu)
		return fail(w, "event 0x%08x: wider than 28 bits", event);
	if (event == TRC_TRACE_CPU_CHANGE)
		return fail(w, "CPU_CHANGE records are the writer's own");
	if (n && !words)
		return fail(w, "event 0x%08x: no payload", event);
	b = cpu_buffer(w, cpu);
	if (!b)
		return fail(w, "out of memory");
	if (b->len + size > w->window && trc_writer_flush(w))
		return -1;
	p = b->data + b->len;
	put_le32(p, event | (uint32_t)n << 28 | (has_tsc ? TRC_HD_CYCLES : 0));
	p += 4;
	if (has_tsc) {
		put_le32(p, (uint32_t)tsc);
		put_le32(p + 4, (uint32_t)(tsc >> 32));
		p += 8;
	}
	for (unsigned i = 0; i < n; i++, p += 4)
		put_le32(p, words[i]);
	b->len += size;
	return 0;
}

int trc_writer_runstate(struct trc_writer *w, uint32_t cpu, uint64_t tsc, uint16_t dom, uint16_t vcpu,
			enum trc_runstate old_state, enum trc_runstate new_state)
{
	uint32_t word = (uint32_t)dom << 16 | vcpu;

	if ((unsigned)old_state > 0xf || (unsigned)new_state > 0xf)
		return fail(w, "runstate %d->%d out of range", old_state, new_state);
	return trc_writer_put(w, cpu, TRC_RUNSTATE(old_state, new_state), true, tsc, &word, 1);
}

int trc_writer_flush(struct trc_writer *w)
{
	if (w->failed)
		return -1;
	for (unsigned i = 0; i < w->ncpu; i++)
		if (emit_window(w, i))
			return -1;
	return 0;
}

int trc_writer_close(struct trc_writer *w, char *err, size_t errlen)
{
	int rc;

	if (!w)
		return 0;
	rc = trc_writer_flush(w);
	if (close(w->fd) && !rc) {
		fail(w, "close: %s", strerror(errno));
		rc = -1;
	}
	if (rc && err)
		snprintf(err, errlen, "%s", w->err);
	for (unsigned i = 0; i < w->ncpu; i++)
		free(w->cpu[i].data);
	free(w->cpu);
	free(w);
	return rc;
}

const char *trc_writer_error(const struct trc_writer *w)
{
	return w->err;
}

uint64_t trc_writer_bytes(const struct trc_writer *w)
{
	return w->written;
}

bool trc_event_has_tsc(uint32_t event)
{
	if (event == TRC_TRACE_CPU_CHANGE)
		return false;
	return (event & 0x0ffff000u) != TRC_HVM_HANDLER;
}
