/*
 * The direct index from VMCS encoding to field (vmx-model/vmcs_fields.c)
 * against the rules of SDM Vol. 3 Appendix B and against the binary search
 * it replaced, kept here as the oracle: both must give the same answer for
 * every 16-bit encoding and for a sample of encodings with bits 31:16 set.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>

#include <vmxlab/vmx.h>

static int cmp_encoding(const void *key, const void *elem)
{
	uint32_t k = *(const uint32_t *)key;
	uint32_t e = ((const struct vmcs_field_info *)elem)->encoding;
	return (k > e) - (k < e);
}

/* vmcs_field_lookup as it was: reserved bits, the high access of a field
 * that is not 64-bit, then a binary search of the sorted table. */
static const struct vmcs_field_info *bsearch_lookup(uint32_t encoding)
{
	uint32_t full = encoding;

	if (encoding & VMCS_ENC_RESERVED)
		return NULL;
	if (VMCS_ENC_HIGH(encoding)) {
		if (VMCS_ENC_WIDTH(encoding) != VMCS_W64)
			return NULL;
		full = encoding & ~1u;
	}
	return bsearch(&full, vmcs_field_table, vmcs_field_count, sizeof(vmcs_field_table[0]), cmp_encoding);
}

static void agrees_with_the_oracle(uint32_t enc)
{
	const struct vmcs_field_info *want = bsearch_lookup(enc);
	int row = vmcs_field_index(enc);

	if (vmcs_field_lookup(enc) != want)
		fail_msg("encoding 0x%x: direct index says %s, the binary search %s", enc,
			 vmcs_field_lookup(enc) ? vmcs_field_lookup(enc)->name : "none", want ? want->name : "none");
	assert_int_equal(row, want ? (int)(want - vmcs_field_table) : -1);
}

static void every_field_round_trips_through_the_index(void **state)
{
	(void)state;
	for (size_t i = 0; i < vmcs_field_count; i++) {
		const struct vmcs_field_info *f = &vmcs_field_table[i];
		assert_int_equal(vmcs_field_index(f->encoding), (int)i);
		assert_ptr_equal(vmcs_field_lookup(f->encoding), f);
		/* The high access names the same row, for 64-bit fields only. */
		assert_int_equal(vmcs_field_index(f->encoding | 1), f->width == VMCS_W64 ? (int)i : -1);
	}
}

static void invalid_encodings_are_refused(void **state)
{
	(void)state;
	for (size_t i = 0; i < vmcs_field_count; i++) {
		uint32_t enc = vmcs_field_table[i].encoding;
		/* bit 12 and each of bits 31:15 (SDM App. B: reserved, must be 0) */
		assert_int_equal(vmcs_field_index(enc | 1u << 12), -1);
		for (unsigned b = 15; b < 32; b++) {
			assert_int_equal(vmcs_field_index(enc | 1u << b), -1);
			assert_int_equal(vmcs_field_index(enc | 1u << b | 1), -1);
		}
	}
	/* High access of a 16-bit, 32-bit and natural-width field. */
	assert_int_equal(vmcs_field_index(VMCS_GUEST_CS_SELECTOR | 1), -1);
	assert_int_equal(vmcs_field_index(VMCS_VM_EXIT_REASON | 1), -1);
	assert_int_equal(vmcs_field_index(VMCS_GUEST_RIP | 1), -1);
	/* Indexes the architecture leaves unused, in each width and type. */
	assert_int_equal(vmcs_field_index(0x482c), -1);
	assert_int_equal(vmcs_field_index(0x03fe), -1);
	assert_int_equal(vmcs_field_index(0x27fe), -1);
	assert_int_equal(vmcs_field_index(0x6ffe), -1);
	/* The largest values: every reserved bit, every key bit. */
	assert_int_equal(vmcs_field_index(0xffffffffu), -1);
	assert_int_equal(vmcs_field_index(0x7fffu), -1);
	assert_int_equal(vmcs_field_index(0x6fffu), -1);
	assert_null(vmcs_field_lookup(0x80000000u | VMCS_GUEST_RIP));
}

static void agrees_with_the_binary_search_for_every_16_bit_encoding(void **state)
{
	unsigned found = 0;

	(void)state;
	for (uint32_t enc = 0; enc <= 0xffff; enc++) {
		agrees_with_the_oracle(enc);
		found += vmcs_field_index(enc) >= 0;
	}
	/* Every field once, and the high half of every 64-bit field. */
	unsigned w64 = 0;
	for (size_t i = 0; i < vmcs_field_count; i++)
		w64 += vmcs_field_table[i].width == VMCS_W64;
	assert_int_equal(found, vmcs_field_count + w64);
}

static void agrees_with_the_binary_search_with_high_bits_set(void **state)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;

	(void)state;
	/* Each 16-bit encoding under a few fixed upper halves ... */
	static const uint32_t upper[] = { 0x00010000u, 0x80000000u, 0xffff0000u, 0x12340000u };
	for (size_t u = 0; u < sizeof(upper) / sizeof(upper[0]); u++)
		for (uint32_t enc = 0; enc <= 0xffff; enc++)
			agrees_with_the_oracle(upper[u] | enc);
	/* ... and a million pseudo-random 32-bit encodings (xorshift64). */
	for (unsigned i = 0; i < 1000000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		agrees_with_the_oracle((uint32_t)x);
		agrees_with_the_oracle((uint32_t)x & 0x7fffu);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_field_round_trips_through_the_index),
		cmocka_unit_test(invalid_encodings_are_refused),
		cmocka_unit_test(agrees_with_the_binary_search_for_every_16_bit_encoding),
		cmocka_unit_test(agrees_with_the_binary_search_with_high_bits_set),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
