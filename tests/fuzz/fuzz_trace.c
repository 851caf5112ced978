/*
 * fuzz_trace.c - libFuzzer target for the trace reader (and the summary
 * fed by it): any byte string is a trace file, plain or (with the gzip
 * magic) compressed.  Every record goes through summary_add.  The reader
 * must end every input with a result, an error or warnings - never a crash,
 * a hang or unbounded memory.  `make fuzz-trace` runs it with ASan and
 * UBSan; the crashers it found live in tests/fuzz/regress/ and
 * tests/unit/test_trace_fuzz.c replays them (with this file included) in
 * `make test`.
 *
 * Each input is read in strict mode.  Reading it again costs as much as the
 * first read, so the second readings are spent where they can tell
 * something:
 *   - tolerant mode, when strict mode failed (that is where the two modes
 *     part, and where resynchronisation runs); for an input strict mode
 *     read cleanly, tolerant mode must give the same answer - checked for
 *     one such input in 8;
 *   - the same bytes gzip-compressed must read as the plain file does -
 *     checked for one input in 8.
 * Which inputs is decided by a hash of the input, so a run of one input is
 * the same every time.  fuzz_trace_check_all makes every input get every
 * check (the unit test sets it for the kept inputs).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <zlib.h>

#include <vmxlab/trace.h>

#include "../../analysis/summary.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool fuzz_trace_check_all;

static void quiet(void *ctx, int level, uint64_t off, const char *msg)
{
	(void)ctx;
	(void)level;
	(void)off;
	(void)msg;
}

/* The input as a file: a memfd, rewritten for each input; `gz` gives a
 * second one holding the input gzip-compressed. */
static const char *input_path(const uint8_t *data, size_t size, bool gz)
{
	static int fds[2] = { -1, -1 };
	static char paths[2][64];
	int *fd = &fds[gz];

	if (*fd < 0) {
		*fd = memfd_create(gz ? "fuzz-trace-gz" : "fuzz-trace", 0);
		if (*fd < 0)
			abort();
		snprintf(paths[gz], sizeof(paths[gz]), "/proc/self/fd/%d", *fd);
	}
	if (ftruncate(*fd, 0) || lseek(*fd, 0, SEEK_SET) != 0)
		abort();
	if (!gz) {
		if (size && pwrite(*fd, data, size, 0) != (ssize_t)size)
			abort();
		return paths[gz];
	}
	gzFile z = gzdopen(dup(*fd), "wb1");
	if (!z || (size && gzwrite(z, data, (unsigned)size) != (int)size) || gzclose(z) != Z_OK)
		abort();
	return paths[gz];
}

/* Everything the reader said about a file, folded into one number; 1 when
 * a compressed trace has more pcpus than the reader takes (a documented
 * limit, GZ_MAX_CPUS in trace_read.c).  *clean: opened and read to the end
 * without an error. */
static uint64_t read_all(const char *path, unsigned flags, bool *clean)
{
	char err[1024];
	struct trc_reader *r = trc_reader_open(path, flags, quiet, NULL, err, sizeof(err));
	struct summary s;
	const struct trc_item *it;
	int status;
	uint64_t n = 0, h = 1469598103934665603ull;

	*clean = false;
	if (!r)
		return strstr(err, "gunzip it first") ? 1 : 0;
	summary_init(&s);
	while ((it = trc_reader_next_ref(r, &status))) {
		if (it->rec.n > TRC_REC_MAX_EXTRA || it->rec.offset >= trc_reader_stats(r)->bytes)
			abort();
		summary_add(&s, it);
		/* A file of N bytes has at most N/4 records. */
		if (++n > trc_reader_stats(r)->bytes / 4 + 1)
			abort();
		h = (h ^ it->rec.offset ^ (uint64_t)it->rec.event << 32 ^ it->rec.tsc ^ it->dom ^ it->rec.d[0]) *
		    1099511628211ull;
	}
	const struct trc_reader_stats *st = trc_reader_stats(r);
	h ^= (uint64_t)(status + 2) << 60 ^ st->records << 20 ^ st->corrupt << 8 ^ st->truncated;
	*clean = status == 0;
	summary_finish(&s);
	summary_free(&s);
	trc_reader_close(r);
	return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = input_path(data, size, false);
	bool plain = !(size >= 2 && data[0] == 0x1f && data[1] == 0x8b);
	uint64_t pick = 1469598103934665603ull;
	bool clean, other;

	for (size_t i = 0; i < size; i++)
		pick = (pick ^ data[i]) * 1099511628211ull;
	pick ^= pick >> 32;
	bool tolerant_too = fuzz_trace_check_all || (pick & 7) == 0;
	bool gzip_too = fuzz_trace_check_all || (pick >> 3 & 7) == 0;

	uint64_t strict = read_all(path, 0, &clean), tolerant = strict;
	if (!clean || tolerant_too) {
		tolerant = read_all(path, TRC_READ_TOLERANT, &other);
		if (clean && tolerant != strict)
			abort();
		tolerant_too = true;
	}
	/* An empty file is an empty trace, but a gzip file with no data is an
	 * error (it is most often cut off): the two cannot agree. */
	if (plain && size && gzip_too) {
		/* The same trace through zlib must read the same. */
		const char *zpath = input_path(data, size, true);
		uint64_t zs = read_all(zpath, 0, &other);
		if (zs != 1 && zs != strict)
			abort();
		if (tolerant_too) {
			uint64_t zt = read_all(zpath, TRC_READ_TOLERANT, &other);
			if (zt != 1 && zt != tolerant)
				abort();
		}
	}
	return 0;
}
