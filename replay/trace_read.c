/*
 * trace_read.c - the streaming xentrace reader.
 *
 * The file (xentrace.md 1.1; xentrace.c:119-130, 346-420) is a chain of
 * windows, each a CPU_CHANGE record and window_size bytes of one pcpu's ring:
 *
 *   offset 0          12                12+size        24+size
 *   | CPU_CHANGE cpu size | records of cpu | CPU_CHANGE cpu' size' | ...
 *
 * Windows of different pcpus are interleaved roughly in time order, not
 * sorted.  Like xenalyze (xenalyze.c:9035-9400: init_pcpus() scans the chain,
 * then each pcpu keeps its own file offset and skips the windows of others,
 * and records are merged across pcpus by TSC) the reader:
 *
 *   1. scans the CPU_CHANGE chain once (open): finds every pcpu and lists
 *      the offsets of its windows, reports a truncated last window, and in
 *      strict mode fails on a broken chain before any record is returned;
 *   2. gives each pcpu a cursor with its own small buffer (and, for gzip, its
 *      own zlib stream) that jumps forward from one of its windows to the
 *      next (xenalyze hops over the others' headers: P^2 reads for P pcpus);
 *   3. merges the cursors' next records with a binary heap keyed on
 *      (tsc, cpu).  Records without a TSC take their pcpu's last TSC
 *      (xenalyze __fill_in_record_info: ri->tsc = p->last_tsc).
 *
 * Reading costs O(records * log pcpus).  Memory is one buffer per pcpu, the
 * heap and 8 bytes per window (a window is usually tens of KiB): it does not
 * grow with the records.  Cursors only move forward, so a gzip stream per
 * cursor never has to seek back (except when tolerant mode resynchronises).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <vmxlab/trace.h>

#define CPU_CHANGE_HDR (TRC_TRACE_CPU_CHANGE | (2u << 28)) /* 0x2001f003: 2 words, no TSC */
#define HDR_BYTES 12u
#define BUF_LARGE (64u * 1024)   /* per-cursor buffer with few pcpus */
#define BUF_SMALL (8u * 1024)    /* ... with many */
#define MANY_CPUS 16u
#define GZ_MAX_CPUS 256u         /* one zlib stream each (~90 KiB) */
/* A window larger than this is taken as corrupt (Xen's trace buffers are
 * at most a few MiB per pcpu; xentrace's default is 131064 bytes). */
#define WINDOW_SANE_MAX (256u << 20)

/* ------------------------------------------------------------------ sources
 * A byte source with a read buffer: pread on a plain file, or one zlib
 * stream on a gzip file.  src_get() returns a pointer into the buffer. */
struct src {
	int fd;                 /* plain file (shared by all sources; not owned) */
	gzFile gz;              /* gzip: this source's own stream */
	uint64_t gz_pos;        /* offset of the stream's next byte */
	uint64_t size;          /* bytes in the file, UINT64_MAX while unknown (gzip) */
	uint8_t *buf;
	size_t cap;
	uint64_t buf_off;
	size_t buf_len;
	uint64_t *reads;        /* the reader's count of read calls */
	char err[160];
};

static int src_init(struct src *s, int fd, const char *gzpath, uint64_t size, size_t cap, uint64_t *reads)
{
	memset(s, 0, sizeof(*s));
	s->reads = reads;
	s->fd = fd;
	s->size = size;
	s->cap = cap;
	s->buf = malloc(cap);
	if (!s->buf) {
		snprintf(s->err, sizeof(s->err), "out of memory");
		return -1;
	}
	if (gzpath) {
		s->gz = gzopen(gzpath, "rb");
		if (!s->gz) {
			snprintf(s->err, sizeof(s->err), "%s", strerror(errno ? errno : ENOMEM));
			return -1;
		}
		gzbuffer(s->gz, 16384);
	}
	return 0;
}

static void src_fini(struct src *s)
{
	if (s->gz)
		gzclose(s->gz);
	free(s->buf);
	s->gz = NULL;
	s->buf = NULL;
}

/* Fill the buffer from `off`.  0, or -1 with s->err.  A gzip stream only
 * reads forward: a record that crosses the buffer's end keeps its first
 * bytes, moved to the front, and the rest comes from where the stream
 * stands (a seek back would inflate the file again from its start). */
static int src_fill(struct src *s, uint64_t off)
{
	size_t got = 0;

	if (s->gz && off >= s->buf_off && off < s->buf_off + s->buf_len && s->buf_off + s->buf_len == s->gz_pos) {
		got = (size_t)(s->buf_off + s->buf_len - off);
		memmove(s->buf, s->buf + (off - s->buf_off), got);
	}
	s->buf_off = off;
	s->buf_len = got;
	if (off >= s->size)
		return 0;
	if (!s->gz) {
		size_t want = s->cap;
		if (s->size - off < want)
			want = (size_t)(s->size - off);
		while (got < want) {
			ssize_t k = pread(s->fd, s->buf + got, want - got, (off_t)(off + got));
			(*s->reads)++;
			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0) {
				snprintf(s->err, sizeof(s->err), "read at offset %llu: %s",
					 (unsigned long long)(off + got), strerror(errno));
				return -1;
			}
			if (k == 0)
				break;
			got += (size_t)k;
		}
		s->buf_len = got;
		return 0;
	}
	if (off + got != s->gz_pos) {
		/* Forward: zlib decompresses and drops; backward: rewinds (only
		 * tolerant resynchronisation can ask for that). */
		if (gzseek(s->gz, (z_off_t)off, SEEK_SET) < 0) {
			int e;
			snprintf(s->err, sizeof(s->err), "gzip seek to offset %llu: %s",
				 (unsigned long long)off, gzerror(s->gz, &e));
			return -1;
		}
		s->gz_pos = off;
	}
	while (got < s->cap) {
		int k = gzread(s->gz, s->buf + got, (unsigned)(s->cap - got));
		(*s->reads)++;
		if (k < 0) {
			int e;
			snprintf(s->err, sizeof(s->err), "gzip data near offset %llu: %s",
				 (unsigned long long)(off + got), gzerror(s->gz, &e));
			return -1;
		}
		if (k == 0) {
			/* The end.  A cut-off stream reads as a short one (zlib
			 * reports Z_BUF_ERROR "unexpected end of file"). */
			s->size = off + got;
			break;
		}
		got += (size_t)k;
	}
	s->gz_pos = off + got;
	s->buf_len = got;
	return 0;
}

/* Up to `len` bytes at `off`: returns a pointer and sets *avail (fewer only
 * at the end of the file), or NULL on a read error. */
static inline const uint8_t *src_get(struct src *s, uint64_t off, size_t len, size_t *avail)
{
	if (__builtin_expect(off < s->buf_off || off + len > s->buf_off + s->buf_len, 0)) {
		if (!(off >= s->buf_off && s->buf_off + s->buf_len >= s->size && off <= s->size)) {
			if (src_fill(s, off))
				return NULL;
		}
	}
	size_t have = (size_t)(s->buf_off + s->buf_len - off);
	*avail = have < len ? have : len;
	return s->buf + (off - s->buf_off);
}

static inline uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ------------------------------------------------------------------ reader */

struct window {
	uint64_t hdr;           /* offset of the CPU_CHANGE record */
	uint32_t cpu;
	uint64_t start, end;    /* the records: [start, end), end clamped to the file */
	bool truncated;         /* the file ends before the declared size */
};

struct cursor {
	uint32_t cpu;
	struct src src;
	uint64_t next_hdr;      /* where this pcpu's next window is searched from */
	uint64_t *wins;         /* the header offsets of this pcpu's windows (scan) */
	uint32_t nwins, iwin;   /* ... how many, and the next one to read */
	uint64_t pos, end;      /* the current window's unread records */
	bool win_truncated;
	uint64_t last_tsc;
	bool done;
	bool warned_backwards;
	struct trc_item head;   /* the next record, when !done */
	uint32_t dom, vcpu;     /* running on this pcpu (runstate records) */
};

struct trc_reader {
	char *path;
	char fdpath[32];        /* what gzopen opens: the file, or the copy of standard input */
	unsigned flags;
	trc_diag_fn diag;
	void *diag_ctx;
	int fd;
	bool gz;
	struct src scan;        /* the chain scan at open; resync helper */
	struct cursor *cur;     /* one per pcpu, in order of first window */
	unsigned ncur;
	unsigned *cpu_map;      /* open-addressed: cpu -> cursor index + 1 (0: free) */
	unsigned map_cap;       /* a power of two, over twice ncur */
	unsigned *heap;         /* cursor indexes, min-heap on (head.rec.tsc, cpu) */
	unsigned nheap;
	bool pending;           /* heap[0]'s head was returned: advance it first */
	uint64_t runner_tsc;    /* the best head after heap[0]'s (set_runner_up) */
	uint32_t runner_cpu;
	struct trc_reader_stats st;
	uint64_t trunc_hdr;     /* the truncated last window's header, if st.truncated */
	char err[1024];
	bool failed;
};

static void warn_at(struct trc_reader *r, uint64_t off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void warn_at(struct trc_reader *r, uint64_t off, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->st.warnings++;
	if (r->diag)
		r->diag(r->diag_ctx, 1, off, msg);
	else
		fprintf(stderr, "warning: %.512s: offset %llu: %s\n", r->path, (unsigned long long)off, msg);
}

static int fail_at(struct trc_reader *r, uint64_t off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail_at(struct trc_reader *r, uint64_t off, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(r->err, sizeof(r->err), "%.512s: offset %llu: %s", r->path, (unsigned long long)off, msg);
	r->failed = true;
	return -1;
}

static int io_fail(struct trc_reader *r, const struct src *s)
{
	snprintf(r->err, sizeof(r->err), "%.512s: %s", r->path, s->err);
	r->failed = true;
	return -1;
}

/* What is wrong with a CPU_CHANGE header, or NULL. */
static const char *bad_header(const uint8_t *p, char *why, size_t len)
{
	uint32_t h = le32(p), cpu = le32(p + 4), size = le32(p + 8);

	if (h != CPU_CHANGE_HDR)
		snprintf(why, len, "expected a CPU_CHANGE record (0x%08x), found 0x%08x", CPU_CHANGE_HDR, h);
	else if (cpu >= TRC_MAX_CPUS)
		snprintf(why, len, "CPU_CHANGE names cpu %u (at most %u)", cpu, TRC_MAX_CPUS - 1);
	else if (size % 4)
		snprintf(why, len, "window size %u is not a multiple of 4", size);
	else if (size > WINDOW_SANE_MAX)
		snprintf(why, len, "window size %u is implausible (over %u)", size, WINDOW_SANE_MAX);
	else
		return NULL;
	return why;
}

/* The 12 bytes of a window header at `off` into hdr: *avail set (fewer at
 * the end of the file).  A cursor hops over the windows of other pcpus this
 * way; on a plain file that is one small pread, not a buffer refill. */
static const uint8_t *src_header(struct src *s, uint64_t off, uint8_t *hdr, size_t *avail)
{
	if (s->gz || (off >= s->buf_off && off + HDR_BYTES <= s->buf_off + s->buf_len))
		return src_get(s, off, HDR_BYTES, avail);
	size_t got = 0;
	while (got < HDR_BYTES && off + got < s->size) {
		ssize_t k = pread(s->fd, hdr + got, HDR_BYTES - got, (off_t)(off + got));
		(*s->reads)++;
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			snprintf(s->err, sizeof(s->err), "read at offset %llu: %s", (unsigned long long)(off + got),
				 strerror(errno));
			return NULL;
		}
		if (k == 0)
			break;
		got += (size_t)k;
	}
	*avail = got;
	return hdr;
}

/* Tolerant mode: the offset of the next plausible CPU_CHANGE header after
 * `off`, at any byte alignment, or the end of the file. */
static int resync(struct trc_reader *r, struct src *s, uint64_t off, uint64_t *found)
{
	char why[128];

	for (uint64_t at = off + 1;; ) {
		size_t avail;
		const uint8_t *p = src_get(s, at, s->cap, &avail);
		if (!p)
			return io_fail(r, s);
		if (avail < HDR_BYTES) {
			*found = at + avail;
			return 0;
		}
		for (size_t i = 0; i + HDR_BYTES <= avail; i++)
			if (p[i] == (CPU_CHANGE_HDR & 0xff) && !bad_header(p + i, why, sizeof(why))) {
				*found = at + i;
				return 0;
			}
		at += avail - (HDR_BYTES - 1);
	}
}

/*
 * The window at or after `off` (of `cpu`, or of any cpu if cpu is
 * UINT32_MAX).  1 with *w, 0 at the end of the chain, -1 on error.  `report`
 * is set for the scan at open, so that each problem is reported once.
 */
static int chain_next(struct trc_reader *r, struct src *s, uint64_t off, uint32_t cpu, struct window *w,
		      bool report)
{
	char why[128];

	for (;;) {
		size_t avail;
		uint8_t hdr[HDR_BYTES];
		const uint8_t *p = src_header(s, off, hdr, &avail);
		if (!p)
			return io_fail(r, s);
		if (avail == 0)
			return 0;
		if (avail < HDR_BYTES) {
			if (report) {
				r->st.truncated = true;
				warn_at(r, off, "the trace ends inside a CPU_CHANGE record (%zu of 12 bytes)", avail);
			}
			return 0;
		}
		if (bad_header(p, why, sizeof(why))) {
			uint64_t next;
			if (!(r->flags & TRC_READ_TOLERANT))
				return fail_at(r, off, "%s", why);
			if (resync(r, s, off, &next))
				return -1;
			if (report) {
				r->st.corrupt++;
				r->st.skipped_bytes += next - off;
				warn_at(r, off, "%s; skipped %llu bytes to the next CPU_CHANGE record", why,
					(unsigned long long)(next - off));
			}
			off = next;
			continue;
		}
		w->hdr = off;
		w->cpu = le32(p + 4);
		w->start = off + HDR_BYTES;
		w->end = w->start + le32(p + 8);
		if (cpu != UINT32_MAX && w->cpu != cpu) {
			off = w->end;
			continue;
		}
		/* Is all of the window there?  Only the scan checks (for gzip
		 * by reading up to its end); cursors learn it from the scan. */
		w->truncated = false;
		if (report && w->end > w->start) {
			uint64_t have;
			if (s->size == UINT64_MAX) {
				p = src_get(s, w->end - 1, 1, &avail);
				if (!p)
					return io_fail(r, s);
			}
			if (w->end > s->size) {
				have = s->size - w->start;
				r->st.truncated = true;
				r->trunc_hdr = off;
				warn_at(r, off, "last window (cpu %u) declares %llu bytes but the trace ends after %llu: truncated",
					w->cpu, (unsigned long long)(w->end - w->start), (unsigned long long)have);
				w->end = s->size;
				w->truncated = true;
			}
		} else if (!report && off == r->trunc_hdr) {
			w->end = r->st.bytes;
			w->truncated = true;
		}
		return 1;
	}
}

/* ------------------------------------------------------------------ cursors */

static void corrupt_skip(struct trc_reader *r, struct cursor *c, uint64_t off, const char *why)
{
	r->st.corrupt++;
	r->st.skipped_bytes += c->end - off;
	warn_at(r, off, "%s; skipped the rest of the window (%llu bytes)", why,
		(unsigned long long)(c->end - off));
	c->pos = c->end;
}

/* xenalyze's view of who runs on a pcpu (xentrace.md 1.4): a runstate
 * record X->running makes dom:vcpu current; running->X of the current vcpu
 * leaves the pcpu to the default domain until the next one. */
static void track_runstate(struct cursor *c, struct trc_item *it)
{
	uint32_t ev = it->rec.event;
	uint32_t dom, vcpu;

	if ((ev & 0x0ffff000u) != (TRC_SCHED_RUNSTATE_CHANGE & 0x0ffff000u) || it->rec.n < 1)
		return;
	dom = it->rec.d[0] >> 16;
	vcpu = it->rec.d[0] & 0xffff;
	it->dom = dom;
	it->vcpu = vcpu;
	if ((ev & 0xf) == (TRC_SCHED_CONTINUE_RUNNING & 0xf)) {
		c->dom = dom;
		c->vcpu = vcpu;
	} else if ((ev & 0xf) == (TRC_SCHED_RUNSTATE_CHANGE & 0xf)) {
		unsigned old_state = (ev >> 8) & 0xf, new_state = (ev >> 4) & 0xf;
		if (new_state == RUNSTATE_RUNNING) {
			c->dom = dom;
			c->vcpu = vcpu;
		} else if (old_state == RUNSTATE_RUNNING && c->dom == dom && c->vcpu == vcpu) {
			c->dom = TRC_DOM_DEFAULT;
			c->vcpu = 0;
		}
	}
}

/* Decode the record at c->pos into *it.  1 ok (c->pos advanced), 0 skip
 * (wrap record or tolerated corruption), -1 error. */
static int decode_one(struct trc_reader *r, struct cursor *c, struct trc_item *it)
{
	uint64_t off = c->pos;
	size_t left = (size_t)(c->end - off < TRC_REC_MAX_BYTES ? c->end - off : TRC_REC_MAX_BYTES);
	size_t avail;
	const uint8_t *p = src_get(&c->src, off, left, &avail);
	char why[200];

	if (!p)
		return io_fail(r, &c->src);
	if (avail < left || left < 4) {
		/* Only a truncated last window ends early (reported at open). */
		c->pos = c->end;
		return 0;
	}
	uint32_t h = le32(p);
	uint32_t size = TRC_REC_SIZE(h);
	uint32_t ev = TRC_HD_EVENT(h);
	uint32_t main_class = (ev >> 16) & 0xfff;

	if (size > c->end - off) {
		if (c->win_truncated) {
			/* The cut-off tail of the truncated last window
			 * (reported by the scan). */
			c->pos = c->end;
			return 0;
		}
		snprintf(why, sizeof(why), "record 0x%08x of %u bytes crosses the end of its window (cpu %u) at offset %llu",
			 h, size, c->cpu, (unsigned long long)c->end);
		goto corrupt;
	}
	if (ev == TRC_TRACE_CPU_CHANGE) {
		snprintf(why, sizeof(why), "CPU_CHANGE record inside a window (cpu %u)", c->cpu);
		goto corrupt;
	}
	/* Exactly one main-class bit (xentrace.md 1.2; xenalyze treats any
	 * other count as fatal). */
	if (main_class == 0 || (main_class & (main_class - 1))) {
		snprintf(why, sizeof(why), "record header 0x%08x: event class bits 27:16 (0x%03x) must have exactly one bit set",
			 h, main_class);
		goto corrupt;
	}
	if (ev == TRC_LOST_RECORDS && size != 28) {
		snprintf(why, sizeof(why), "LOST_RECORDS record of %u bytes (always 28: a TSC and 4 words)", size);
		goto corrupt;
	}
	c->pos = off + size;
	if (ev == TRC_TRACE_WRAP_BUFFER) {
		/* Padding to the ring's end; payload and any TSC are garbage
		 * (insert_wrap_record). */
		r->st.wraps++;
		if (!(r->flags & TRC_READ_KEEP_WRAP))
			return 0;
	}

	struct trc_record *rec = &it->rec;
	unsigned n = TRC_HD_EXTRA(h);
	const uint8_t *q = p + 4;
	rec->event = ev;
	rec->cpu = c->cpu;
	rec->n = (uint8_t)n;
	rec->offset = off;
	rec->has_tsc = !!(h & TRC_HD_CYCLES);
	if (rec->has_tsc) {
		uint64_t tsc = (uint64_t)le32(q) | (uint64_t)le32(q + 4) << 32;
		q += 8;
		if (ev != TRC_TRACE_WRAP_BUFFER) {
			if (tsc < c->last_tsc) {
				r->st.tsc_backwards++;
				if (!c->warned_backwards) {
					c->warned_backwards = true;
					warn_at(r, off, "cpu %u: TSC goes back from %llu to %llu (reported once per cpu)",
						c->cpu, (unsigned long long)c->last_tsc, (unsigned long long)tsc);
				}
			}
			c->last_tsc = tsc;
		}
		rec->tsc = tsc;
	} else {
		rec->tsc = c->last_tsc;
	}
	memset(rec->d, 0, sizeof(rec->d));
	for (unsigned i = 0; i < n; i++, q += 4)
		rec->d[i] = le32(q);
	it->dom = c->dom;
	it->vcpu = c->vcpu;
	if (ev == TRC_LOST_RECORDS) {
		/* u32 lost; u16 domid, vcpuid; u64 first_tsc.  What ran after
		 * the gap is unknown until the next runstate record. */
		r->st.lost_records += rec->d[0];
		r->st.lost_events++;
		c->dom = TRC_DOM_DEFAULT;
		c->vcpu = 0;
	} else {
		track_runstate(c, it);
	}
	return 1;

corrupt:
	if (!(r->flags & TRC_READ_TOLERANT))
		return fail_at(r, off, "%s", why);
	corrupt_skip(r, c, off, why);
	return 0;
}

/* Load the cursor's next record into c->head, or mark it done. */
static int cursor_advance(struct trc_reader *r, struct cursor *c)
{
	for (;;) {
		if (c->pos >= c->end) {
			struct window w;
			/* The scan listed this pcpu's windows: jump to the next one
			 * instead of hopping over every other pcpu's (which made a
			 * trace of P pcpus cost P^2 header reads). */
			if (c->iwin < c->nwins)
				c->next_hdr = c->wins[c->iwin++];
			else if (c->wins)
				c->next_hdr = r->st.bytes;
			int k = chain_next(r, &c->src, c->next_hdr, c->cpu, &w, false);
			if (k < 0)
				return -1;
			if (k == 0) {
				c->done = true;
				return 0;
			}
			c->pos = w.start;
			c->end = w.end;
			c->win_truncated = w.truncated;
			c->next_hdr = w.end;
			continue;
		}
		int k = decode_one(r, c, &c->head);
		if (k < 0)
			return -1;
		if (k > 0)
			return 1;
	}
}

/* ------------------------------------------------------------------ heap */

static bool before(const struct trc_reader *r, unsigned a, unsigned b)
{
	const struct trc_record *x = &r->cur[a].head.rec, *y = &r->cur[b].head.rec;

	return x->tsc < y->tsc || (x->tsc == y->tsc && x->cpu < y->cpu);
}

static void heap_down(struct trc_reader *r, unsigned i)
{
	for (;;) {
		unsigned l = 2 * i + 1, m = i;
		if (l < r->nheap && before(r, r->heap[l], r->heap[m]))
			m = l;
		if (l + 1 < r->nheap && before(r, r->heap[l + 1], r->heap[m]))
			m = l + 1;
		if (m == i)
			return;
		unsigned t = r->heap[i];
		r->heap[i] = r->heap[m];
		r->heap[m] = t;
		i = m;
	}
}

static void heap_up(struct trc_reader *r, unsigned i)
{
	while (i > 0) {
		unsigned p = (i - 1) / 2;
		if (!before(r, r->heap[i], r->heap[p]))
			return;
		unsigned t = r->heap[i];
		r->heap[i] = r->heap[p];
		r->heap[p] = t;
		i = p;
	}
}

/* The smallest head below the root: the root's better child. */
static void set_runner_up(struct trc_reader *r)
{
	unsigned best = 1;

	if (r->nheap < 2) {
		r->runner_tsc = UINT64_MAX;
		r->runner_cpu = UINT32_MAX;
		return;
	}
	if (r->nheap > 2 && before(r, r->heap[2], r->heap[1]))
		best = 2;
	r->runner_tsc = r->cur[r->heap[best]].head.rec.tsc;
	r->runner_cpu = r->cur[r->heap[best]].head.rec.cpu;
}

static bool still_first(const struct trc_reader *r, const struct cursor *c)
{
	const struct trc_record *x = &c->head.rec;

	return x->tsc < r->runner_tsc || (x->tsc == r->runner_tsc && x->cpu < r->runner_cpu);
}

/* ------------------------------------------------------------------ open */

static unsigned cpu_slot(const struct trc_reader *r, uint32_t cpu)
{
	unsigned i = (cpu * 2654435761u) & (r->map_cap - 1);

	while (r->cpu_map[i] && r->cur[r->cpu_map[i] - 1].cpu != cpu)
		i = (i + 1) & (r->map_cap - 1);
	return i;
}

/* The cursor of `cpu`, made if new; NULL when out of memory. */
static struct cursor *cursor_of(struct trc_reader *r, uint32_t cpu)
{
	if (r->map_cap && r->cpu_map[cpu_slot(r, cpu)])
		return &r->cur[r->cpu_map[cpu_slot(r, cpu)] - 1];
	if (2 * (r->ncur + 1) > r->map_cap) {
		unsigned cap = r->map_cap ? 2 * r->map_cap : 32;
		unsigned *map = calloc(cap, sizeof(*map));
		struct cursor *cur = realloc(r->cur, cap / 2 * sizeof(*cur));
		if (!map || !cur) {
			free(map);
			if (cur)
				r->cur = cur;
			return NULL;
		}
		free(r->cpu_map);
		r->cur = cur;
		r->cpu_map = map;
		r->map_cap = cap;
		for (unsigned i = 0; i < r->ncur; i++)
			r->cpu_map[cpu_slot(r, r->cur[i].cpu)] = i + 1;
	}
	struct cursor *c = &r->cur[r->ncur];
	memset(c, 0, sizeof(*c));
	c->cpu = cpu;
	r->cpu_map[cpu_slot(r, cpu)] = ++r->ncur;
	return c;
}

static int add_window(struct cursor *c, uint64_t hdr)
{
	if ((c->nwins & (c->nwins - 1)) == 0) {
		uint64_t *w = realloc(c->wins, (c->nwins ? 2 * (size_t)c->nwins : 1) * sizeof(*w));
		if (!w)
			return -1;
		c->wins = w;
	}
	c->wins[c->nwins++] = hdr;
	return 0;
}

/* Pass 1: every window header, so that every pcpu is known up front. */
static int scan_chain(struct trc_reader *r)
{
	struct window w;
	uint64_t off = 0;
	int k;

	while ((k = chain_next(r, &r->scan, off, UINT32_MAX, &w, true)) > 0) {
		r->st.windows++;
		struct cursor *c = cursor_of(r, w.cpu);
		if (!c || add_window(c, w.hdr))
			return fail_at(r, w.hdr, "out of memory");
		off = w.end;
	}
	if (k < 0)
		return -1;
	r->st.bytes = r->scan.size == UINT64_MAX ? off : r->scan.size;
	r->st.cpus = r->ncur;
	return 0;
}

static int open_cursors(struct trc_reader *r)
{
	size_t cap = r->ncur > MANY_CPUS ? BUF_SMALL : BUF_LARGE;

	if (r->gz && r->ncur > GZ_MAX_CPUS)
		return fail_at(r, 0, "a gzip-compressed trace with %u pcpus (at most %u): gunzip it first", r->ncur,
			       GZ_MAX_CPUS);
	r->heap = calloc(r->ncur ? r->ncur : 1, sizeof(*r->heap));
	if (!r->heap)
		return fail_at(r, 0, "out of memory");
	for (unsigned i = 0; i < r->ncur; i++) {
		struct cursor *c = &r->cur[i];
		uint64_t first = c->wins[0];
		if (src_init(&c->src, r->fd, r->gz ? r->fdpath : NULL, r->gz ? UINT64_MAX : r->st.bytes, cap,
			     &r->st.reads)) {
			snprintf(r->err, sizeof(r->err), "%.512s: %s", r->path, c->src.err);
			return -1;
		}
		c->dom = TRC_DOM_DEFAULT;
		c->next_hdr = first;
	}
	/* Prime the heap with each pcpu's first record. */
	for (unsigned i = 0; i < r->ncur; i++) {
		int k = cursor_advance(r, &r->cur[i]);
		if (k < 0)
			return -1;
		if (k > 0) {
			r->heap[r->nheap++] = i;
			heap_up(r, r->nheap - 1);
		}
	}
	set_runner_up(r);
	return 0;
}

/* Files a user may take for a trace, by their first bytes: named in the
 * error instead of a complaint about a record header. */
static const char *known_format(const uint8_t *b, size_t n)
{
	static const struct { const char *magic; size_t len; const char *what; } k[] = {
		{ "PERFILE2", 8, "a perf.data file (perf record)" },
		{ "\x17\x08\x44tracing", 10, "a trace-cmd trace.dat file" },
		{ "\x7f" "ELF", 4, "an ELF file" },
		{ "\x89PNG", 4, "a PNG image" },
		{ "\x1f\x8b", 2, "a gzip file inside a gzip file" },
		{ "PK\x03\x04", 4, "a zip file" },
		{ "\xfd" "7zXZ", 6, "an xz file (unxz it first)" },
		{ "BZh", 3, "a bzip2 file (bunzip2 it first)" },
		{ "# tracer:", 9, "ftrace text output" },
	};
	for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++)
		if (n >= k[i].len && !memcmp(b, k[i].magic, k[i].len))
			return k[i].what;
	size_t text = 0;
	while (text < n && (b[text] == '\n' || b[text] == '\t' || b[text] == '\r' || (b[text] >= 0x20 && b[text] < 0x7f)))
		text++;
	if (n >= 16 && text == n)
		return b[0] == '{' || b[0] == '[' ? "a JSON file" : "a text file";
	return NULL;
}

/* `-`: standard input, copied into memory first (the reader goes back and
 * forth between the pcpus' windows).  A descriptor, or -1 with errno. */
int trc_copy_stdin(void)
{
	int fd = memfd_create("vmxlab-stdin-trace", MFD_CLOEXEC);
	char buf[65536];
	ssize_t n;

	if (fd < 0)
		return -1;
	while ((n = read(STDIN_FILENO, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
		for (ssize_t done = 0; n > 0 && done < n;) {
			ssize_t w = write(fd, buf + done, (size_t)(n - done));
			if (w < 0 && errno != EINTR) {
				close(fd);
				return -1;
			}
			done += w > 0 ? w : 0;
		}
	if (n < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static bool is_gzip(int fd)
{
	uint8_t m[2];

	return pread(fd, m, 2, 0) == 2 && m[0] == 0x1f && m[1] == 0x8b;
}

struct trc_reader *trc_reader_open(const char *path, unsigned flags, trc_diag_fn diag, void *diag_ctx,
				   char *err, size_t errlen)
{
	struct trc_reader *r = calloc(1, sizeof(*r));
	struct stat sb;

	if (!r) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	r->fd = -1;
	r->trunc_hdr = UINT64_MAX;
	r->path = strdup(path);
	if (!r->path) {
		snprintf(err, errlen, "%s: out of memory", path);
		free(r);
		return NULL;
	}
	r->flags = flags;
	r->diag = diag;
	r->diag_ctx = diag_ctx;
	r->fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : trc_copy_stdin();
	if (r->fd < 0 || fstat(r->fd, &sb) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		trc_reader_close(r);
		return NULL;
	}
	if (!S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		trc_reader_close(r);
		return NULL;
	}
	r->gz = is_gzip(r->fd);
	r->st.gzip = r->gz;
	snprintf(r->fdpath, sizeof(r->fdpath), "/proc/self/fd/%d", r->fd);
	if (src_init(&r->scan, r->fd, r->gz ? r->fdpath : NULL, r->gz ? UINT64_MAX : (uint64_t)sb.st_size,
		     r->gz ? BUF_LARGE : 4096, &r->st.reads)) {
		snprintf(err, errlen, "%s: %s", path, r->scan.err);
		trc_reader_close(r);
		return NULL;
	}
	size_t have = 0;
	const uint8_t *head = src_get(&r->scan, 0, 64, &have);
	const char *what = head ? known_format(head, have) : NULL;
	if (what) {
		snprintf(err, errlen, "%s: offset 0: this is %s%s; vmxlab reads xentrace files (docs/traces.md)", path,
			 r->gz ? "a gzip file holding " : "", what);
		trc_reader_close(r);
		return NULL;
	}
	if (scan_chain(r) || open_cursors(r)) {
		snprintf(err, errlen, "%s", r->err);
		trc_reader_close(r);
		return NULL;
	}
	src_fini(&r->scan);
	if (r->gz && r->st.bytes == 0) {
		snprintf(err, errlen, "%s: a gzip file with no data in it (cut off or corrupt)", path);
		trc_reader_close(r);
		return NULL;
	}
	if (r->st.bytes == 0)
		warn_at(r, 0, "empty trace: no records");
	return r;
}

/* The cursor whose head was handed out last moves on only at the next call,
 * so the caller can use the record in place. */
const struct trc_item *trc_reader_next_ref(struct trc_reader *r, int *status)
{
	if (r->failed) {
		*status = -1;
		return NULL;
	}
	if (r->pending) {
		struct cursor *c = &r->cur[r->heap[0]];
		r->pending = false;
		int k = cursor_advance(r, c);
		if (k < 0) {
			*status = -1;
			return NULL;
		}
		if (k == 0)
			r->heap[0] = r->heap[--r->nheap];
		/* Most of the time the same pcpu is still first (an exit's
		 * records share a TSC): one compare against the best of the
		 * others instead of a sift-down. */
		if (r->nheap > 1 && !(k > 0 && still_first(r, c))) {
			heap_down(r, 0);
			set_runner_up(r);
		}
	}
	if (r->nheap == 0) {
		*status = 0;
		return NULL;
	}
	r->pending = true;
	r->st.records++;
	*status = 1;
	return &r->cur[r->heap[0]].head;
}

int trc_reader_next(struct trc_reader *r, struct trc_item *it)
{
	int status;
	const struct trc_item *p = trc_reader_next_ref(r, &status);

	if (p)
		*it = *p;
	return status;
}

const char *trc_reader_error(const struct trc_reader *r)
{
	return r->err;
}

const struct trc_reader_stats *trc_reader_stats(const struct trc_reader *r)
{
	return &r->st;
}

void trc_reader_close(struct trc_reader *r)
{
	if (!r)
		return;
	for (unsigned i = 0; i < r->ncur; i++) {
		src_fini(&r->cur[i].src);
		free(r->cur[i].wins);
	}
	src_fini(&r->scan);
	free(r->cur);
	free(r->cpu_map);
	free(r->heap);
	if (r->fd >= 0)
		close(r->fd);
	free(r->path);
	free(r);
}
