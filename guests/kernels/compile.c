/*
 * compile.c - the timer workload's unit of work: a caricature of what a C
 * compiler does with a small file (the integer, branchy, table-driven kind
 * of code a kernel build runs between timer ticks).
 */
#include "kernels.h"

#define SRC_CAP  1024   /* the generated text stops short of this */
#define SRC_FILL 720
#define SYM_SLOTS 256   /* open addressing, power of two */

static char src[SRC_CAP];
static uint32_t sym_hash[SYM_SLOTS];
static uint16_t sym_count[SYM_SLOTS];
static uint32_t sorted[SYM_SLOTS];

static const char *const keywords[] = {
	"int", "char", "static", "const", "return", "if", "else", "while",
	"for", "struct", "unsigned", "void", "sizeof", "break",
};
#define NKEYWORDS (sizeof(keywords) / sizeof(keywords[0]))
static const char punct[] = "{}()[];,=+-*/<>&|!";

static uint32_t xorshift32(uint32_t *s)
{
	uint32_t x = *s;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

static unsigned gen_source(uint32_t k)
{
	uint32_t rng = k * 0x9e3779b9u + 0x6d2b79f5u;
	unsigned n = 0, col = 0;

	if (!rng)
		rng = 1;
	while (n < SRC_FILL) {
		uint32_t r = xorshift32(&rng);
		unsigned kind = r & 7;
		if (kind <= 2) {
			const char *w = keywords[(r >> 3) % NKEYWORDS];
			while (*w)
				src[n++] = *w++;
		} else if (kind <= 4) {
			unsigned len = 1 + ((r >> 3) & 7);
			src[n++] = (char)('a' + (r >> 6) % 26);
			for (unsigned i = 1; i < len; i++) {
				uint32_t c = xorshift32(&rng) % 38;
				src[n++] = c < 26 ? (char)('a' + c) : c < 36 ? (char)('0' + c - 26) : '_';
			}
		} else if (kind == 5) {
			uint32_t v = (r >> 3) % 100000;
			char digits[8];
			unsigned d = 0;
			do {
				digits[d++] = (char)('0' + v % 10);
				v /= 10;
			} while (v);
			while (d)
				src[n++] = digits[--d];
		} else {
			src[n++] = punct[(r >> 3) % (sizeof(punct) - 1)];
		}
		col++;
		src[n++] = (col & 15) == 0 ? '\n' : ' ';
	}
	src[n] = '\0';
	return n;
}

static bool is_ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

uint32_t compile_unit(uint32_t chain, uint32_t k)
{
	unsigned len = gen_source(k);
	uint32_t numsum = 0, lines = 0, puncts = 0, pmix = 0;
	unsigned nsyms = 0;

	for (unsigned i = 0; i < SYM_SLOTS; i++) {
		sym_hash[i] = 0;
		sym_count[i] = 0;
	}

	/* Lex: identifiers (FNV-1a into the symbol table), numbers, punctuation. */
	for (unsigned i = 0; i < len;) {
		char c = src[i];
		if (c == ' ') {
			i++;
		} else if (c == '\n') {
			lines++;
			i++;
		} else if (is_ident_start(c)) {
			uint32_t h = 0x811c9dc5u;
			while (i < len && (is_ident_start(src[i]) || is_digit(src[i])))
				h = (h ^ (uint8_t)src[i++]) * 0x01000193u;
			h |= 1;  /* 0 marks an empty slot */
			if (nsyms == SYM_SLOTS - 1)
				continue;  /* full (never with SRC_FILL): the probe must end */
			unsigned slot = h & (SYM_SLOTS - 1);
			while (sym_hash[slot] && sym_hash[slot] != h)
				slot = (slot + 1) & (SYM_SLOTS - 1);
			if (!sym_hash[slot]) {
				sym_hash[slot] = h;
				nsyms++;
			}
			sym_count[slot]++;
		} else if (is_digit(c)) {
			uint32_t v = 0;
			while (i < len && is_digit(src[i]))
				v = v * 10 + (uint32_t)(src[i++] - '0');
			numsum += v;
		} else {
			puncts++;
			pmix = (pmix << 3 | pmix >> 29) ^ (uint8_t)c;
			i++;
		}
	}

	/* The symbol table in hash order: insertion sort. */
	unsigned n = 0;
	for (unsigned i = 0; i < SYM_SLOTS; i++) {
		if (!sym_hash[i])
			continue;
		uint32_t v = sym_hash[i] ^ ((uint32_t)sym_count[i] << 24);
		unsigned j = n++;
		while (j && sorted[j - 1] > v) {
			sorted[j] = sorted[j - 1];
			j--;
		}
		sorted[j] = v;
	}

	uint32_t h = chain ^ k;
	for (unsigned i = 0; i < n; i++)
		h = (h ^ sorted[i]) * 0x01000193u;
	h ^= numsum * 0x9e3779b1u;
	h ^= (lines << 24) ^ (puncts << 12) ^ nsyms;
	h = (h ^ pmix) * 0x85ebca6bu;
	return h ^ (h >> 13);
}

uint32_t compile_checksum(uint64_t n)
{
	uint32_t chain = COMPILE_CHAIN_INIT;
	for (uint64_t k = 0; k < n; k++)
		chain = compile_unit(chain, (uint32_t)k);
	return chain;
}
