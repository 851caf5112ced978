/*
 * build.c - the disk workload's sources and its "compiler" (build.h).
 */
#include "build.h"
#include "kernels.h"

static const char *const words[] = {
	"static", "int", "unsigned", "long", "struct", "return", "if", "else", "for", "while",
	"const", "void", "char", "sizeof", "#include", "#define", "spin_lock", "printk",
};
#define NWORDS (sizeof(words) / sizeof(words[0]))
static const char punct[] = "{}()[];,=+-*/<>&|!";

static uint32_t xorshift32(uint32_t *s)
{
	uint32_t x = *s;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

void build_source(uint32_t file, uint8_t *buf, uint32_t bytes)
{
	uint32_t rng = file * 0x9e3779b9u + 0x7f4a7c15u;
	uint32_t n = 0, col = 0;

	if (!rng)
		rng = 1;
	while (n < bytes) {
		uint32_t r = xorshift32(&rng);
		unsigned kind = r & 7;
		char tmp[24];
		unsigned len = 0;

		if (kind <= 2) {
			for (const char *w = words[(r >> 3) % NWORDS]; *w; w++)
				tmp[len++] = *w;
		} else if (kind <= 5) {
			unsigned l = 1 + ((r >> 3) & 7);
			tmp[len++] = (char)('a' + (r >> 6) % 26);
			for (unsigned i = 1; i < l; i++) {
				uint32_t c = xorshift32(&rng) % 38;
				tmp[len++] = c < 26 ? (char)('a' + c) : c < 36 ? (char)('0' + c - 26) : '_';
			}
		} else if (kind == 6) {
			uint32_t v = (r >> 3) % 65536;
			char d[8];
			unsigned k = 0;
			do {
				d[k++] = (char)('0' + v % 10);
				v /= 10;
			} while (v);
			while (k)
				tmp[len++] = d[--k];
		} else {
			tmp[len++] = punct[(r >> 3) % (sizeof(punct) - 1)];
		}
		tmp[len++] = (++col & 7) == 0 ? '\n' : ' ';
		for (unsigned i = 0; i < len && n < bytes; i++)
			buf[n++] = (uint8_t)tmp[i];
	}
}

uint32_t build_fold(uint32_t sum, const uint8_t *buf, uint32_t bytes)
{
	for (uint32_t i = 0; i < bytes; i++)
		sum = (sum ^ buf[i]) * 0x01000193u;
	return sum;
}

uint32_t build_compile(const uint8_t *src, uint32_t src_bytes, uint32_t file, uint32_t work,
		       uint8_t *obj, uint32_t obj_bytes)
{
	uint32_t chain = build_fold(BUILD_SUM_INIT, src, src_bytes) ^ (file * 0x85ebca6bu);
	uint32_t rng;

	for (uint32_t u = 0; u < work; u++)
		chain = compile_unit(chain, file << 16 ^ u);
	rng = chain | 1;
	for (uint32_t i = 0; i < obj_bytes; i++)
		obj[i] = (uint8_t)(src[i % src_bytes] ^ xorshift32(&rng));
	return build_fold(BUILD_SUM_INIT, obj, obj_bytes);
}

uint32_t build_mix(uint32_t all, uint32_t obj_sum)
{
	for (unsigned i = 0; i < 4; i++)
		all = (all ^ (obj_sum >> (8 * i) & 0xff)) * 0x01000193u;
	return all;
}
