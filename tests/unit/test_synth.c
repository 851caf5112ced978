/* The synthetic vCPU backend: VMREAD/VMWRITE rules of SDM 31.3, GPRs, RAM. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include <vmxlab/vcpu.h>

static int setup(void **state)
{
	*state = vmx_synth_create(0);
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	vmx_synth_destroy(*state);
	return 0;
}

static void unknown_encodings_fail_with_error_12(void **state)
{
	struct vmx_vcpu *v = *state;
	uint64_t x = 42;
	assert_int_equal(vcpu_vmread(v, 0x482c, &x), VMXERR_UNSUPPORTED_VMCS_COMPONENT);
	assert_int_equal(x, 42);
	assert_int_equal(vcpu_vmwrite(v, 0x1000, 1), VMXERR_UNSUPPORTED_VMCS_COMPONENT);
	assert_int_equal(vcpu_vmread(v, VMCS_VM_EXIT_REASON | 1, &x), VMXERR_UNSUPPORTED_VMCS_COMPONENT);
	assert_int_equal(vmx_synth_set(v, 0x482c, 1), VMXERR_UNSUPPORTED_VMCS_COMPONENT);
}

static void exit_information_is_read_only_to_handlers(void **state)
{
	struct vmx_vcpu *v = *state;
	/* Every exit-information field refuses VMWRITE with error 13 ... */
	for (size_t i = 0; i < vmcs_field_count; i++) {
		const struct vmcs_field_info *f = &vmcs_field_table[i];
		int rc = vcpu_vmwrite(v, f->encoding, 1);
		assert_int_equal(rc, f->type == VMCS_T_EXIT ? VMXERR_VMWRITE_READ_ONLY_COMPONENT : VMXERR_NONE);
	}
	assert_int_equal(vmcs_read(v, VMCS_EXIT_QUALIFICATION), 0);
	/* ... while the "processor" side (replay) sets them. */
	assert_int_equal(vmx_synth_set(v, VMCS_EXIT_QUALIFICATION, 0x210048), VMXERR_NONE);
	assert_int_equal(vmcs_read(v, VMCS_EXIT_QUALIFICATION), 0x210048);
}

static void writes_truncate_to_field_width(void **state)
{
	struct vmx_vcpu *v = *state;
	assert_int_equal(vcpu_vmwrite(v, VMCS_GUEST_CS_SELECTOR, 0x123456789ull), VMXERR_NONE);
	assert_int_equal(vmcs_read(v, VMCS_GUEST_CS_SELECTOR), 0x6789);
	assert_int_equal(vcpu_vmwrite(v, VMCS_EXCEPTION_BITMAP, 0xfedcba9876543210ull), VMXERR_NONE);
	assert_int_equal(vmcs_read(v, VMCS_EXCEPTION_BITMAP), 0x76543210);
	assert_int_equal(vcpu_vmwrite(v, VMCS_GUEST_RIP, 0xffffffff80001000ull), VMXERR_NONE);
	assert_int_equal(vmcs_read(v, VMCS_GUEST_RIP), 0xffffffff80001000ull);
	assert_int_equal(vcpu_vmwrite(v, VMCS_EPT_POINTER, 0x8877665544332211ull), VMXERR_NONE);
	assert_int_equal(vmcs_read(v, VMCS_EPT_POINTER), 0x8877665544332211ull);
}

static void high_encoding_addresses_upper_half(void **state)
{
	struct vmx_vcpu *v = *state;
	uint64_t x;
	assert_int_equal(vcpu_vmwrite(v, VMCS_TSC_OFFSET, 0x1111111122222222ull), VMXERR_NONE);
	assert_int_equal(vcpu_vmread(v, VMCS_TSC_OFFSET | 1, &x), VMXERR_NONE);
	assert_int_equal(x, 0x11111111);
	/* Writing the high half keeps the low half (SDM 25.11.2). */
	assert_int_equal(vcpu_vmwrite(v, VMCS_TSC_OFFSET | 1, 0xabcdef01ull), VMXERR_NONE);
	assert_int_equal(vmcs_read(v, VMCS_TSC_OFFSET), 0xabcdef0122222222ull);
	/* A full write replaces both halves. */
	assert_int_equal(vcpu_vmwrite(v, VMCS_TSC_OFFSET, 5), VMXERR_NONE);
	assert_int_equal(vmcs_read(v, VMCS_TSC_OFFSET | 1), 0);
	/* The high half of an exit-information field is read-only too. */
	assert_int_equal(vcpu_vmwrite(v, VMCS_GUEST_PHYSICAL_ADDRESS | 1, 1), VMXERR_VMWRITE_READ_ONLY_COMPONENT);
}

static uint64_t field_mask(enum vmcs_width w)
{
	return w == VMCS_W16 ? 0xffffull : w == VMCS_W32 ? 0xffffffffull : ~0ull;
}

/* A value of its own for every row: if two encodings shared a slot, the
 * later write would show through the earlier field. */
static uint64_t pattern(size_t row)
{
	return 0x0123456789abcdefull * (row + 1) ^ (uint64_t)row << 40;
}

static void every_field_round_trips_through_its_own_slot(void **state)
{
	struct vmx_vcpu *v = *state;
	uint64_t x;

	for (size_t i = 0; i < vmcs_field_count; i++)
		assert_int_equal(vmx_synth_set(v, vmcs_field_table[i].encoding, pattern(i)), VMXERR_NONE);
	for (size_t i = 0; i < vmcs_field_count; i++) {
		const struct vmcs_field_info *f = &vmcs_field_table[i];
		uint64_t want = pattern(i) & field_mask(f->width);
		assert_int_equal(vcpu_vmread(v, f->encoding, &x), VMXERR_NONE);
		assert_int_equal(x, want);
		if (f->width == VMCS_W64) {
			assert_int_equal(vcpu_vmread(v, f->encoding | 1, &x), VMXERR_NONE);
			assert_int_equal(x, want >> 32);
		}
	}
	/* The same through VMWRITE, for the fields a handler may write. */
	for (size_t i = 0; i < vmcs_field_count; i++) {
		const struct vmcs_field_info *f = &vmcs_field_table[i];
		if (f->type != VMCS_T_EXIT)
			assert_int_equal(vcpu_vmwrite(v, f->encoding, ~pattern(i)), VMXERR_NONE);
	}
	for (size_t i = 0; i < vmcs_field_count; i++) {
		const struct vmcs_field_info *f = &vmcs_field_table[i];
		uint64_t want = (f->type == VMCS_T_EXIT ? pattern(i) : ~pattern(i)) & field_mask(f->width);
		assert_int_equal(vmcs_read(v, f->encoding), want);
	}
}

/* VMREAD, VMWRITE and the processor's own set against vmcs_field_lookup
 * for every 16-bit encoding and some with bits 31:16 set: 12 (unsupported
 * component) exactly where the table has no field, nothing read or written
 * then; otherwise success, or 13 for a VMWRITE to exit information. */
static void check_access_rules(struct vmx_vcpu *v, uint32_t enc)
{
	const struct vmcs_field_info *f = vmcs_field_lookup(enc);
	uint64_t x = 0x5a5a5a5a5a5a5a5aull;

	if (!f) {
		assert_int_equal(vcpu_vmread(v, enc, &x), VMXERR_UNSUPPORTED_VMCS_COMPONENT);
		assert_int_equal(x, 0x5a5a5a5a5a5a5a5aull);
		assert_int_equal(vcpu_vmwrite(v, enc, 1), VMXERR_UNSUPPORTED_VMCS_COMPONENT);
		assert_int_equal(vmx_synth_set(v, enc, 1), VMXERR_UNSUPPORTED_VMCS_COMPONENT);
		return;
	}
	assert_int_equal(vcpu_vmread(v, enc, &x), VMXERR_NONE);
	assert_int_equal(vcpu_vmwrite(v, enc, x), f->type == VMCS_T_EXIT ? VMXERR_VMWRITE_READ_ONLY_COMPONENT : VMXERR_NONE);
	assert_int_equal(vmx_synth_set(v, enc, x), VMXERR_NONE);
}

static void every_encoding_follows_the_vmread_vmwrite_rules(void **state)
{
	struct vmx_vcpu *v = *state;

	for (uint32_t enc = 0; enc <= 0xffff; enc++) {
		check_access_rules(v, enc);
		check_access_rules(v, enc | 0x80000000u);
		check_access_rules(v, enc | 0x00010000u);
	}
	check_access_rules(v, 0xffffffffu);
}

static void gprs_sit_beside_the_vmcs_and_rsp_is_guest_rsp(void **state)
{
	struct vmx_vcpu *v = *state;
	for (int r = 0; r < GPR_COUNT; r++)
		vcpu_set_gpr(v, r, 0x1000 + r);
	for (int r = 0; r < GPR_COUNT; r++)
		assert_int_equal(vcpu_gpr(v, r), 0x1000 + r);
	assert_int_equal(vmcs_read(v, VMCS_GUEST_RSP), 0x1000 + GPR_RSP);
	vcpu_vmwrite(v, VMCS_GUEST_RSP, 0x7ff0);
	assert_int_equal(vcpu_gpr(v, GPR_RSP), 0x7ff0);
	assert_int_equal(vcpu_gpr(v, GPR_RBP), 0x1000 + GPR_RBP);
}

static void ram_is_zero_until_written_and_bounded(void **state)
{
	struct vmx_vcpu *v = *state;
	uint8_t buf[8192], out[8192];

	assert_int_equal(vmx_synth_add_ram(v, 0x100000, 0x10000), 0);
	assert_int_equal(vmx_synth_add_ram(v, 0, 0), -1);
	assert_int_equal(vmx_synth_add_ram(v, ~0ull - 10, 100), -1);
	memset(out, 0xcc, sizeof(out));
	assert_int_equal(v->ops->gpa_read(v, 0x100000, out, 16), 0);
	for (int i = 0; i < 16; i++)
		assert_int_equal(out[i], 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7);
	/* Across a page boundary. */
	assert_int_equal(v->ops->gpa_write(v, 0x100ff0, buf, sizeof(buf)), 0);
	assert_int_equal(v->ops->gpa_read(v, 0x100ff0, out, sizeof(out)), 0);
	assert_memory_equal(buf, out, sizeof(buf));
	/* Outside RAM, or straddling its end: refused, nothing written. */
	assert_int_equal(v->ops->gpa_read(v, 0xfee00000, out, 4), -1);
	assert_int_equal(v->ops->gpa_write(v, 0x10fffe, buf, 4), -1);
	assert_int_equal(v->ops->gpa_read(v, 0x10fffe, out, 2), 0);
	assert_int_equal(out[0], 0);
	assert_int_equal(out[1], 0);
	assert_int_equal(v->ops->gpa_read(v, ~0ull - 1, out, 4), -1);
}

static void holes_cut_mmio_out_of_ram(void **state)
{
	struct vmx_vcpu *v = *state;
	uint8_t b[8] = { 0 };

	assert_int_equal(vmx_synth_add_ram(v, 0, ~0ull), 0);
	assert_int_equal(v->ops->gpa_read(v, 0xffffffff81000000ull, b, 8), 0);
	assert_int_equal(vmx_synth_add_hole(v, 0xfee00000, 0x1000), 0);
	assert_int_equal(v->ops->gpa_read(v, 0xfee00ffc, b, 4), -1);
	assert_int_equal(v->ops->gpa_write(v, 0xfedffffc, b, 8), -1);  /* straddles into it */
	assert_int_equal(v->ops->gpa_read(v, 0xfee01000, b, 4), 0);
	assert_int_equal(vmx_synth_add_hole(v, 5, 0), -1);
}

static void clear_forgets_fields_and_gprs_not_ram(void **state)
{
	struct vmx_vcpu *v = *state;
	uint32_t word = 0xdeadbeef, back = 0;

	vmx_synth_add_ram(v, 0, 0x1000);
	v->ops->gpa_write(v, 0x10, &word, 4);
	vcpu_vmwrite(v, VMCS_GUEST_CR3, 0x5000);
	vcpu_set_gpr(v, GPR_RAX, 9);
	vmx_synth_clear(v);
	assert_int_equal(vmcs_read(v, VMCS_GUEST_CR3), 0);
	assert_int_equal(vcpu_gpr(v, GPR_RAX), 0);
	v->ops->gpa_read(v, 0x10, &back, 4);
	assert_int_equal(back, word);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(unknown_encodings_fail_with_error_12, setup, teardown),
		cmocka_unit_test_setup_teardown(exit_information_is_read_only_to_handlers, setup, teardown),
		cmocka_unit_test_setup_teardown(writes_truncate_to_field_width, setup, teardown),
		cmocka_unit_test_setup_teardown(high_encoding_addresses_upper_half, setup, teardown),
		cmocka_unit_test_setup_teardown(every_field_round_trips_through_its_own_slot, setup, teardown),
		cmocka_unit_test_setup_teardown(every_encoding_follows_the_vmread_vmwrite_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(gprs_sit_beside_the_vmcs_and_rsp_is_guest_rsp, setup, teardown),
		cmocka_unit_test_setup_teardown(ram_is_zero_until_written_and_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(holes_cut_mmio_out_of_ram, setup, teardown),
		cmocka_unit_test_setup_teardown(clear_forgets_fields_and_gprs_not_ram, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
