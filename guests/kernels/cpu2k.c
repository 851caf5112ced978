/*
 * cpu2k.c - the cpu workload's kernels, in the shape of CPU2000's integer
 * programs: a prime sieve (array marking), an integer matrix product (dense
 * loops), CRC-32 (table lookups, 164.gzip's inner loop), quicksort
 * (branchy recursion) and an LZSS compressor and decompressor (hashing and
 * string matching, 164.gzip/256.bzip2).  Each iteration's input is derived
 * from the iteration number so no iteration repeats another's work.
 */
#include "kernels.h"

const char *const cpu_kernel_names[CPU_NKERNELS] = { "sieve", "matmul", "crc32", "qsort", "lz" };

static uint32_t xorshift32(uint32_t *s)
{
	uint32_t x = *s;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

static uint32_t seed_of(uint32_t iter, uint32_t salt)
{
	uint32_t s = (iter + 1) * 0x9e3779b9u ^ salt;
	return s ? s : 1;
}

/* ---------------------------------------------------------------- sieve */

#define SIEVE_MAX 32768
static uint8_t composite[SIEVE_MAX];

uint32_t kern_sieve(uint32_t iter)
{
	uint32_t limit = SIEVE_MAX - (iter % 256) * 8;
	uint32_t count = 0, sum = 0;

	for (uint32_t i = 0; i < limit; i++)
		composite[i] = 0;
	for (uint32_t p = 2; p * p < limit; p++)
		if (!composite[p])
			for (uint32_t m = p * p; m < limit; m += p)
				composite[m] = 1;
	for (uint32_t i = 2; i < limit; i++)
		if (!composite[i]) {
			count++;
			sum = sum * 31 + i;
		}
	return count * 0x10001u ^ sum;
}

/* ---------------------------------------------------------------- matmul */

#define MAT_N 32
static int32_t ma[MAT_N][MAT_N], mb[MAT_N][MAT_N], mc[MAT_N][MAT_N];

uint32_t kern_matmul(uint32_t iter)
{
	for (int i = 0; i < MAT_N; i++)
		for (int j = 0; j < MAT_N; j++) {
			ma[i][j] = (int32_t)(((uint32_t)(i * 7 + j * 13) + iter) % 61) - 30;
			mb[i][j] = (int32_t)(((uint32_t)(i * 11) ^ (uint32_t)(j * 3) ^ iter) % 53) - 26;
		}
	for (int i = 0; i < MAT_N; i++)
		for (int j = 0; j < MAT_N; j++) {
			int32_t acc = 0;
			for (int k = 0; k < MAT_N; k++)
				acc += ma[i][k] * mb[k][j];
			mc[i][j] = acc;
		}
	uint32_t h = 0x811c9dc5u;
	for (int i = 0; i < MAT_N; i++)
		for (int j = 0; j < MAT_N; j++)
			h = (h ^ (uint32_t)mc[i][j]) * 0x01000193u;
	return h;
}

/* ---------------------------------------------------------------- crc32 */

/* CRC-32 of IEEE 802.3 / ISO-HDLC: reflected polynomial 0xedb88320, initial
 * value and final XOR 0xffffffff. */
#define CRC_BUF 16384
static uint32_t crc_table[256];
static bool crc_table_ready;
static uint8_t crc_buf[CRC_BUF];

static void crc_init(void)
{
	for (uint32_t n = 0; n < 256; n++) {
		uint32_t c = n;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[n] = c;
	}
	crc_table_ready = true;
}

static uint32_t crc32(const uint8_t *p, uint32_t n)
{
	uint32_t c = 0xffffffffu;
	if (!crc_table_ready)
		crc_init();
	for (uint32_t i = 0; i < n; i++)
		c = crc_table[(c ^ p[i]) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffffu;
}

bool crc32_selftest(void)
{
	static const uint8_t check[] = "123456789";
	return crc32(check, 9) == 0xcbf43926u;
}

uint32_t kern_crc32(uint32_t iter)
{
	uint32_t rng = seed_of(iter, 0x43524333u);
	for (uint32_t i = 0; i < CRC_BUF; i += 4) {
		uint32_t r = xorshift32(&rng);
		crc_buf[i] = (uint8_t)r;
		crc_buf[i + 1] = (uint8_t)(r >> 8);
		crc_buf[i + 2] = (uint8_t)(r >> 16);
		crc_buf[i + 3] = (uint8_t)(r >> 24);
	}
	return crc32(crc_buf, CRC_BUF);
}

/* ---------------------------------------------------------------- qsort */

#define QS_N 4096
static uint32_t qs[QS_N];

static void insertion_sort(uint32_t *a, int n)
{
	for (int i = 1; i < n; i++) {
		uint32_t v = a[i];
		int j = i;
		while (j && a[j - 1] > v) {
			a[j] = a[j - 1];
			j--;
		}
		a[j] = v;
	}
}

static void swap(uint32_t *a, uint32_t *b)
{
	uint32_t t = *a;
	*a = *b;
	*b = t;
}

/* Median-of-three Hoare partitioning; recurse into the smaller side, loop
 * on the larger, so the depth stays below log2(QS_N). */
static void quicksort(uint32_t *a, int n)
{
	while (n > 16) {
		int mid = n / 2;
		if (a[mid] < a[0])
			swap(&a[mid], &a[0]);
		if (a[n - 1] < a[0])
			swap(&a[n - 1], &a[0]);
		if (a[n - 1] < a[mid])
			swap(&a[n - 1], &a[mid]);
		uint32_t pivot = a[mid];
		int i = -1, j = n;
		for (;;) {
			do
				i++;
			while (a[i] < pivot);
			do
				j--;
			while (a[j] > pivot);
			if (i >= j)
				break;
			swap(&a[i], &a[j]);
		}
		int left = j + 1;
		if (left < n - left) {
			quicksort(a, left);
			a += left;
			n -= left;
		} else {
			quicksort(a + left, n - left);
			n = left;
		}
	}
	insertion_sort(a, n);
}

uint32_t kern_qsort(uint32_t iter, bool *ok)
{
	uint32_t rng = seed_of(iter, 0x51534f52u);
	uint32_t sum_in = 0, sum_out = 0, h = 0;

	for (int i = 0; i < QS_N; i++) {
		/* a narrow range for some iterations: many equal keys */
		qs[i] = iter & 1 ? xorshift32(&rng) : xorshift32(&rng) % 512;
		sum_in += qs[i];
	}
	quicksort(qs, QS_N);
	for (int i = 0; i < QS_N; i++) {
		if (i && qs[i - 1] > qs[i])
			*ok = false;
		sum_out += qs[i];
		h = (h ^ qs[i]) * 0x01000193u + (uint32_t)i;
	}
	if (sum_in != sum_out)
		*ok = false;
	return h;
}

/* ---------------------------------------------------------------- lz */

/*
 * LZSS in the style of Okumura's LZSS.C: groups of eight items, each group
 * led by a flag byte (bit set: literal byte; clear: a match of two bytes,
 * 12-bit distance back and 4-bit length - 3, so lengths 3..18).  Matches
 * are found through a hash of the next three bytes (last position only).
 */
#define LZ_N      8192
#define LZ_OUTCAP (LZ_N + LZ_N / 8 + 16)
#define LZ_HASH   4096
#define LZ_MIN    3
#define LZ_MAX    18
#define LZ_WINDOW 4095

static uint8_t lz_in[LZ_N], lz_out[LZ_OUTCAP], lz_back[LZ_N];
static int32_t lz_head[LZ_HASH];

static const char *const lz_words[] = {
	"the ", "of ", "and ", "to ", "in ", "is ", "that ", "for ", "it ", "as ",
	"was ", "with ", "be ", "by ", "on ", "not ", "he ", "this ", "are ", "or ",
	"register ", "interrupt ", "controller ", "timer ", "vector ", "exit ",
	"handler ", "device ", "model ", "guest ", ".\n", ", ",
};

static uint32_t lz_fill(uint32_t iter)
{
	uint32_t rng = seed_of(iter, 0x4c5a5353u), n = 0;
	while (n < LZ_N) {
		uint32_t r = xorshift32(&rng);
		if ((r & 15) == 0) {
			lz_in[n++] = (uint8_t)(r >> 8);  /* noise: not everything compresses */
			continue;
		}
		const char *w = lz_words[(r >> 4) % (sizeof(lz_words) / sizeof(lz_words[0]))];
		while (*w && n < LZ_N)
			lz_in[n++] = (uint8_t)*w++;
	}
	return n;
}

static uint32_t lz_hash3(const uint8_t *p)
{
	return ((uint32_t)p[0] << 8 ^ (uint32_t)p[1] << 4 ^ p[2]) & (LZ_HASH - 1);
}

static uint32_t lz_compress(uint32_t n)
{
	uint32_t o = 0, flag_at = 0, items = 8;

	for (int i = 0; i < LZ_HASH; i++)
		lz_head[i] = -1;
	for (uint32_t i = 0; i < n;) {
		if (items == 8) {
			flag_at = o++;
			lz_out[flag_at] = 0;
			items = 0;
		}
		uint32_t best = 0, dist = 0;
		if (i + LZ_MIN <= n) {
			uint32_t h = lz_hash3(&lz_in[i]);
			int32_t cand = lz_head[h];
			lz_head[h] = (int32_t)i;
			if (cand >= 0 && i - (uint32_t)cand <= LZ_WINDOW) {
				uint32_t max = n - i < LZ_MAX ? n - i : LZ_MAX;
				uint32_t len = 0;
				while (len < max && lz_in[(uint32_t)cand + len] == lz_in[i + len])
					len++;
				if (len >= LZ_MIN) {
					best = len;
					dist = i - (uint32_t)cand;
				}
			}
		}
		if (best) {
			lz_out[o++] = (uint8_t)dist;
			lz_out[o++] = (uint8_t)((dist >> 8) << 4 | (best - LZ_MIN));
			/* index the positions the match covers (skipping the first) */
			for (uint32_t k = 1; k < best && i + k + LZ_MIN <= n; k++)
				lz_head[lz_hash3(&lz_in[i + k])] = (int32_t)(i + k);
			i += best;
		} else {
			lz_out[flag_at] |= (uint8_t)(1u << items);
			lz_out[o++] = lz_in[i++];
		}
		items++;
	}
	return o;
}

static uint32_t lz_decompress(uint32_t clen, uint32_t cap)
{
	uint32_t o = 0, i = 0;
	while (i < clen) {
		uint8_t flags = lz_out[i++];
		for (int b = 0; b < 8 && i < clen; b++) {
			if (flags & (1u << b)) {
				if (o == cap)
					return o + 1;
				lz_back[o++] = lz_out[i++];
				continue;
			}
			if (i + 2 > clen)
				return o + 1;
			uint32_t dist = lz_out[i] | (uint32_t)(lz_out[i + 1] >> 4) << 8;
			uint32_t len = (lz_out[i + 1] & 15u) + LZ_MIN;
			i += 2;
			if (!dist || dist > o || o + len > cap)
				return o + 1;
			for (uint32_t k = 0; k < len; k++, o++)
				lz_back[o] = lz_back[o - dist];
		}
	}
	return o;
}

uint32_t kern_lz(uint32_t iter, bool *ok)
{
	uint32_t n = lz_fill(iter);
	uint32_t clen = lz_compress(n);
	uint32_t dlen = lz_decompress(clen, LZ_N);

	if (dlen != n)
		*ok = false;
	for (uint32_t i = 0; i < n && *ok; i++)
		if (lz_back[i] != lz_in[i])
			*ok = false;
	uint32_t h = 0x811c9dc5u;
	for (uint32_t i = 0; i < clen; i++)
		h = (h ^ lz_out[i]) * 0x01000193u;
	return h ^ clen << 16;
}

/* ---------------------------------------------------------------- driver */

static uint32_t fold(uint32_t h, uint32_t v)
{
	h ^= v;
	h *= 0x9e3779b1u;
	return h ^ (h >> 15);
}

void cpu_sums_init(struct cpu_sums *s)
{
	for (int i = 0; i < CPU_NKERNELS; i++)
		s->k[i] = 0x811c9dc5u;
	s->all = 0;
	s->ok = true;
}

void cpu_iteration(struct cpu_sums *s, uint32_t iter)
{
	s->k[CPU_SIEVE] = fold(s->k[CPU_SIEVE], kern_sieve(iter));
	s->k[CPU_MATMUL] = fold(s->k[CPU_MATMUL], kern_matmul(iter));
	s->k[CPU_CRC32] = fold(s->k[CPU_CRC32], kern_crc32(iter));
	s->k[CPU_QSORT] = fold(s->k[CPU_QSORT], kern_qsort(iter, &s->ok));
	s->k[CPU_LZ] = fold(s->k[CPU_LZ], kern_lz(iter, &s->ok));
}

void cpu_sums_finish(struct cpu_sums *s)
{
	uint32_t h = 0x811c9dc5u;
	for (int i = 0; i < CPU_NKERNELS; i++)
		h = fold(h, s->k[i]);
	s->all = h;
}
