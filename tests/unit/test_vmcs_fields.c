/* The VMCS field table and exit-reason table against the SDM's encoding rules. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <ctype.h>
#include <string.h>

#include <vmxlab/vmx.h>

/* Width and type written in the table agree with the encoding's own bits
 * 14:13 and 11:10; bit 0 (access type) is 0; reserved bits are 0. */
static void every_field_width_and_type_match_its_encoding(void **state)
{
	(void)state;
	for (size_t i = 0; i < vmcs_field_count; i++) {
		const struct vmcs_field_info *f = &vmcs_field_table[i];
		assert_int_equal(f->width, VMCS_ENC_WIDTH(f->encoding));
		assert_int_equal(f->type, VMCS_ENC_TYPE(f->encoding));
		assert_int_equal(VMCS_ENC_HIGH(f->encoding), 0);
		assert_int_equal(f->encoding & VMCS_ENC_RESERVED, 0);
	}
}

static void table_is_sorted_and_names_unique(void **state)
{
	(void)state;
	assert_true(vmcs_field_count > 150);
	for (size_t i = 0; i < vmcs_field_count; i++) {
		const char *n = vmcs_field_table[i].name;
		assert_true(strlen(n) > 2);
		for (const char *c = n; *c; c++)
			assert_true(isupper((unsigned char)*c) || isdigit((unsigned char)*c) || *c == '_');
		if (i)
			assert_true(vmcs_field_table[i - 1].encoding < vmcs_field_table[i].encoding);
		for (size_t j = i + 1; j < vmcs_field_count; j++)
			assert_string_not_equal(n, vmcs_field_table[j].name);
	}
}

static void every_field_is_found_by_encoding_and_name(void **state)
{
	(void)state;
	for (size_t i = 0; i < vmcs_field_count; i++) {
		const struct vmcs_field_info *f = &vmcs_field_table[i];
		assert_ptr_equal(vmcs_field_lookup(f->encoding), f);
		assert_ptr_equal(vmcs_field_by_name(f->name), f);
		/* The high half exists exactly for 64-bit fields (SDM 25.11.2). */
		if (f->width == VMCS_W64)
			assert_ptr_equal(vmcs_field_lookup(f->encoding | 1), f);
		else
			assert_null(vmcs_field_lookup(f->encoding | 1));
	}
}

static void known_sdm_encodings(void **state)
{
	static const struct { uint32_t enc; const char *name; enum vmcs_width w; enum vmcs_type t; } known[] = {
		{ 0x0000, "VIRTUAL_PROCESSOR_ID", VMCS_W16, VMCS_T_CTRL },
		{ 0x0802, "GUEST_CS_SELECTOR", VMCS_W16, VMCS_T_GUEST },
		{ 0x0c0c, "HOST_TR_SELECTOR", VMCS_W16, VMCS_T_HOST },
		{ 0x2000, "IO_BITMAP_A", VMCS_W64, VMCS_T_CTRL },
		{ 0x201a, "EPT_POINTER", VMCS_W64, VMCS_T_CTRL },
		{ 0x2400, "GUEST_PHYSICAL_ADDRESS", VMCS_W64, VMCS_T_EXIT },
		{ 0x2806, "GUEST_IA32_EFER", VMCS_W64, VMCS_T_GUEST },
		{ 0x4002, "CPU_BASED_VM_EXEC_CONTROL", VMCS_W32, VMCS_T_CTRL },
		{ 0x401e, "SECONDARY_VM_EXEC_CONTROL", VMCS_W32, VMCS_T_CTRL },
		{ 0x4402, "VM_EXIT_REASON", VMCS_W32, VMCS_T_EXIT },
		{ 0x440e, "VMX_INSTRUCTION_INFO", VMCS_W32, VMCS_T_EXIT },
		{ 0x4824, "GUEST_INTERRUPTIBILITY_INFO", VMCS_W32, VMCS_T_GUEST },
		{ 0x482e, "VMX_PREEMPTION_TIMER_VALUE", VMCS_W32, VMCS_T_GUEST },
		{ 0x4c00, "HOST_IA32_SYSENTER_CS", VMCS_W32, VMCS_T_HOST },
		{ 0x6400, "EXIT_QUALIFICATION", VMCS_WNAT, VMCS_T_EXIT },
		{ 0x640a, "GUEST_LINEAR_ADDRESS", VMCS_WNAT, VMCS_T_EXIT },
		{ 0x681e, "GUEST_RIP", VMCS_WNAT, VMCS_T_GUEST },
		{ 0x6820, "GUEST_RFLAGS", VMCS_WNAT, VMCS_T_GUEST },
		{ 0x6c16, "HOST_RIP", VMCS_WNAT, VMCS_T_HOST },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		const struct vmcs_field_info *f = vmcs_field_lookup(known[i].enc);
		assert_non_null(f);
		assert_string_equal(f->name, known[i].name);
		assert_int_equal(f->width, known[i].w);
		assert_int_equal(f->type, known[i].t);
	}
	assert_int_equal(VMCS_GUEST_RIP, 0x681e);
	assert_int_equal(vmcs_width_bits(VMCS_W16), 16);
	assert_int_equal(vmcs_width_bits(VMCS_W32), 32);
	assert_int_equal(vmcs_width_bits(VMCS_WNAT), 64);
}

static void non_architectural_encodings_are_not_found(void **state)
{
	(void)state;
	assert_null(vmcs_field_lookup(0x482c));     /* gap in B.3.3 */
	assert_null(vmcs_field_lookup(0x1000));     /* bit 12 reserved */
	assert_null(vmcs_field_lookup(0x10000));    /* bits 31:15 reserved */
	assert_null(vmcs_field_lookup(0x681e | 0x8000));
	assert_null(vmcs_field_lookup(0x4403));     /* high of a 32-bit field */
	assert_null(vmcs_field_by_name("GUEST_NOTHING"));
	assert_non_null(vmcs_field_by_name("guest_rip"));
}

static void exit_reasons_cover_0_to_77_with_sdm_names(void **state)
{
	(void)state;
	for (uint32_t r = 0; r <= 77; r++) {
		bool unused = r == 35 || r == 38 || r == 42 || r == 71;
		if (unused) {
			assert_null(vmx_exit_reason_name(r));
			continue;
		}
		const char *n = vmx_exit_reason_name(r);
		assert_non_null(n);
		assert_non_null(vmx_exit_reason_desc(r));
		assert_int_equal(vmx_exit_reason_by_name(n), (int)r);
	}
	assert_string_equal(vmx_exit_reason_name(30), "IO_INSTRUCTION");
	assert_string_equal(vmx_exit_reason_desc(30), "I/O instruction");
	assert_string_equal(vmx_exit_reason_name(48), "EPT_VIOLATION");
	assert_string_equal(vmx_exit_reason_name(56), "APIC_WRITE");
	assert_string_equal(vmx_exit_reason_name(74), "BUS_LOCK");
	assert_string_equal(vmx_exit_reason_name(77), "TDCALL");
	assert_int_equal(EXIT_REASON_HLT, 12);
	assert_int_equal(EXIT_REASON_XSETBV, 55);
	assert_null(vmx_exit_reason_name(VMX_EXIT_REASON_COUNT));
	assert_null(vmx_exit_reason_name(0xffff));
	assert_int_equal(vmx_exit_reason_by_name("cpuid"), 10);
	assert_int_equal(vmx_exit_reason_by_name("NOT_A_REASON"), -1);
}

static void exit_reason_field_flags(void **state)
{
	(void)state;
	uint32_t raw = 0x80000021; /* entry failure, invalid guest state */
	assert_int_equal(VMX_EXIT_REASON_BASIC(raw), EXIT_REASON_INVALID_GUEST_STATE);
	assert_true(raw & VMX_EXIT_REASON_ENTRY_FAIL);
	assert_false(raw & VMX_EXIT_REASON_PENDING_MTF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_field_width_and_type_match_its_encoding),
		cmocka_unit_test(table_is_sorted_and_names_unique),
		cmocka_unit_test(every_field_is_found_by_encoding_and_name),
		cmocka_unit_test(known_sdm_encodings),
		cmocka_unit_test(non_architectural_encodings_are_not_found),
		cmocka_unit_test(exit_reasons_cover_0_to_77_with_sdm_names),
		cmocka_unit_test(exit_reason_field_flags),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
