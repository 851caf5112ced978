/* Guest page walk (SDM Vol. 3A ch. 4) over hand-built tables in synthetic RAM. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include <vmxlab/vcpu.h>

#define P  0x1ull
#define RW 0x2ull
#define US 0x4ull
#define PS 0x80ull
#define XD (1ull << 63)

static struct vmx_vcpu *v;

static void put64(uint64_t gpa, uint64_t val) { assert_int_equal(v->ops->gpa_write(v, gpa, &val, 8), 0); }
static void put32(uint64_t gpa, uint32_t val) { assert_int_equal(v->ops->gpa_write(v, gpa, &val, 4), 0); }

static int setup(void **state)
{
	(void)state;
	v = vmx_synth_create(0);
	return vmx_synth_add_ram(v, 0, 64ull << 20);
}

static int teardown(void **state)
{
	(void)state;
	vmx_synth_destroy(v);
	return 0;
}

static void long_mode(uint64_t cr3, bool wp, bool nxe)
{
	vcpu_vmwrite(v, VMCS_GUEST_CR0, X86_CR0_PE | X86_CR0_PG | (wp ? X86_CR0_WP : 0));
	vcpu_vmwrite(v, VMCS_GUEST_CR4, X86_CR4_PAE);
	vcpu_vmwrite(v, VMCS_GUEST_IA32_EFER, X86_EFER_LME | X86_EFER_LMA | (nxe ? X86_EFER_NXE : 0));
	vcpu_vmwrite(v, VMCS_GUEST_CR3, cr3);
}

/*
 * Tables at 0x1000 (PML4), 0x2000 (PDPT), 0x3000 (PD), 0x4000 (PT):
 *   0x0000_0000_0040_0000 + n*4K  -> 4K pages via the PT
 *   0x0000_0000_0060_0000          -> 2M page at 0x00a00000
 *   0x0000_0000_4000_0000          -> 1G page at 0x0 (PDPT entry 1)
 */
static void build_4level(uint64_t pt_flags)
{
	put64(0x1000, 0x2000 | P | RW | US);
	put64(0x2000, 0x3000 | P | RW | US);
	put64(0x2008, 0x0 | P | RW | PS);
	put64(0x3000 + 2 * 8, 0x4000 | P | RW | US);
	put64(0x3000 + 3 * 8, 0xa00000 | P | RW | PS | (1ull << 12) /* PAT */);
	put64(0x4000 + 0 * 8, 0x5000 | pt_flags);
	put64(0x4000 + 1 * 8, 0x9000 | pt_flags);
}

static void four_level_4k_2m_1g_pages(void **state)
{
	struct vmx_walk w;
	(void)state;
	build_4level(P | RW | US);
	long_mode(0x1000, true, true);
	assert_int_equal(vmx_gla_to_gpa(v, 0x400123, VMX_ACCESS_READ, false, &w), WALK_OK);
	assert_int_equal(w.gpa, 0x5123);
	assert_int_equal(w.level, 1);
	assert_int_equal(vmx_gla_to_gpa(v, 0x401ffc, VMX_ACCESS_WRITE, true, &w), WALK_OK);
	assert_int_equal(w.gpa, 0x9ffc);
	assert_int_equal(vmx_gla_to_gpa(v, 0x6abcde, VMX_ACCESS_READ, false, &w), WALK_OK);
	assert_int_equal(w.gpa, 0xaabcde);
	assert_int_equal(w.level, 2);
	assert_int_equal(vmx_gla_to_gpa(v, 0x40123456, VMX_ACCESS_FETCH, false, &w), WALK_OK);
	assert_int_equal(w.gpa, 0x123456);
	assert_int_equal(w.level, 3);
}

static void not_present_reports_level_and_error_code(void **state)
{
	struct vmx_walk w;
	(void)state;
	build_4level(P | RW | US);
	long_mode(0x1000, true, true);
	assert_int_equal(vmx_gla_to_gpa(v, 0x402000, VMX_ACCESS_WRITE, true, &w), WALK_NOT_PRESENT);
	assert_int_equal(w.level, 1);
	assert_int_equal(w.pf_error, 0x6); /* W | U, P = 0 */
	assert_int_equal(vmx_gla_to_gpa(v, 0x8000000000ull, VMX_ACCESS_READ, false, &w), WALK_NOT_PRESENT);
	assert_int_equal(w.level, 4);
}

static void write_protection_follows_cr0_wp(void **state)
{
	struct vmx_walk w;
	(void)state;
	build_4level(P | US); /* read-only 4K pages */
	long_mode(0x1000, true, true);
	assert_int_equal(vmx_gla_to_gpa(v, 0x400000, VMX_ACCESS_WRITE, false, &w), WALK_PROTECTION);
	assert_int_equal(w.pf_error, 0x3); /* P | W */
	assert_int_equal(vmx_gla_to_gpa(v, 0x400000, VMX_ACCESS_READ, false, &w), WALK_OK);
	long_mode(0x1000, false, true);
	assert_int_equal(vmx_gla_to_gpa(v, 0x400000, VMX_ACCESS_WRITE, false, &w), WALK_OK);
	assert_int_equal(vmx_gla_to_gpa(v, 0x400000, VMX_ACCESS_WRITE, true, &w), WALK_PROTECTION);
}

static void user_access_to_supervisor_page_faults(void **state)
{
	struct vmx_walk w;
	(void)state;
	build_4level(P | RW); /* supervisor-only 4K pages */
	long_mode(0x1000, true, true);
	assert_int_equal(vmx_gla_to_gpa(v, 0x400000, VMX_ACCESS_READ, true, &w), WALK_PROTECTION);
	assert_int_equal(w.pf_error, 0x5); /* P | U */
	assert_int_equal(vmx_gla_to_gpa(v, 0x400000, VMX_ACCESS_READ, false, &w), WALK_OK);
}

static void execute_disable_needs_efer_nxe(void **state)
{
	struct vmx_walk w;
	(void)state;
	build_4level(P | RW | US | XD);
	long_mode(0x1000, true, true);
	assert_int_equal(vmx_gla_to_gpa(v, 0x400000, VMX_ACCESS_FETCH, false, &w), WALK_PROTECTION);
	assert_int_equal(w.pf_error, 0x11); /* P | I/D */
	assert_int_equal(vmx_gla_to_gpa(v, 0x400000, VMX_ACCESS_READ, false, &w), WALK_OK);
	long_mode(0x1000, true, false);
	assert_int_equal(vmx_gla_to_gpa(v, 0x400000, VMX_ACCESS_READ, false, &w), WALK_RESERVED);
	assert_true(w.pf_error & 0x8);
}

static void table_outside_ram_is_reported(void **state)
{
	struct vmx_walk w;
	(void)state;
	long_mode(0x1000, true, true);
	put64(0x1000, 0x7f000000 | P | RW); /* PDPT beyond 64M of RAM */
	assert_int_equal(vmx_gla_to_gpa(v, 0x1000, VMX_ACCESS_READ, false, &w), WALK_BAD_TABLE);
	assert_int_equal(w.level, 3);
}

static void paging_off_is_identity(void **state)
{
	struct vmx_walk w;
	(void)state;
	vcpu_vmwrite(v, VMCS_GUEST_CR0, X86_CR0_PE);
	assert_int_equal(vmx_gla_to_gpa(v, 0xb8000, VMX_ACCESS_WRITE, false, &w), WALK_OK);
	assert_int_equal(w.gpa, 0xb8000);
}

static void legacy_32bit_paging_4k_and_4m(void **state)
{
	struct vmx_walk w;
	(void)state;
	vcpu_vmwrite(v, VMCS_GUEST_CR0, X86_CR0_PE | X86_CR0_PG);
	vcpu_vmwrite(v, VMCS_GUEST_CR4, X86_CR4_PSE);
	vcpu_vmwrite(v, VMCS_GUEST_IA32_EFER, 0);
	vcpu_vmwrite(v, VMCS_GUEST_CR3, 0x10000);
	put32(0x10000 + 0 * 4, 0x11000 | P | RW);
	put32(0x11000 + 5 * 4, 0x22000 | P | RW);
	put32(0x10000 + 0x300 * 4, 0x00800000 | P | RW | PS); /* 0xc0000000 -> 8M */
	assert_int_equal(vmx_gla_to_gpa(v, 0x5abc, VMX_ACCESS_READ, false, &w), WALK_OK);
	assert_int_equal(w.gpa, 0x22abc);
	assert_int_equal(vmx_gla_to_gpa(v, 0xc0123456, VMX_ACCESS_READ, false, &w), WALK_OK);
	assert_int_equal(w.gpa, 0x923456);
	/* Without CR4.PSE the PS bit is ignored: the entry is a page table. */
	vcpu_vmwrite(v, VMCS_GUEST_CR4, 0);
	assert_int_not_equal(vmx_gla_to_gpa(v, 0xc0123456, VMX_ACCESS_READ, false, &w), WALK_OK);
}

static void pae_with_ept_takes_pdptes_from_vmcs(void **state)
{
	struct vmx_walk w;
	(void)state;
	vcpu_vmwrite(v, VMCS_GUEST_CR0, X86_CR0_PE | X86_CR0_PG);
	vcpu_vmwrite(v, VMCS_GUEST_CR4, X86_CR4_PAE);
	vcpu_vmwrite(v, VMCS_GUEST_IA32_EFER, 0);
	vcpu_vmwrite(v, VMCS_GUEST_CR3, 0x30000);
	vcpu_vmwrite(v, VMCS_SECONDARY_VM_EXEC_CONTROL, CPU2_ENABLE_EPT);
	vcpu_vmwrite(v, VMCS_GUEST_PDPTE3, 0x31000 | P);
	put64(0x31000 + 1 * 8, 0x32000 | P | RW);
	put64(0x32000 + 2 * 8, 0x44000 | P | RW);
	/* gla 0xc0202000: PDPTE 3, PDE 1, PTE 2 */
	assert_int_equal(vmx_gla_to_gpa(v, 0xc0202010, VMX_ACCESS_READ, false, &w), WALK_OK);
	assert_int_equal(w.gpa, 0x44010);
	/* Without EPT the PDPTE comes from memory at CR3, where it is absent. */
	vcpu_vmwrite(v, VMCS_SECONDARY_VM_EXEC_CONTROL, 0);
	assert_int_equal(vmx_gla_to_gpa(v, 0xc0202010, VMX_ACCESS_READ, false, &w), WALK_NOT_PRESENT);
	put64(0x30000 + 3 * 8, 0x31000 | P);
	assert_int_equal(vmx_gla_to_gpa(v, 0xc0202010, VMX_ACCESS_READ, false, &w), WALK_OK);
}

static void linear_copy_crosses_discontiguous_pages(void **state)
{
	uint8_t in[32], out[32];
	(void)state;
	build_4level(P | RW | US);
	long_mode(0x1000, true, true);
	for (int i = 0; i < 32; i++)
		in[i] = (uint8_t)(0xa0 + i);
	assert_int_equal(vmx_gla_write(v, 0x400ff0, in, 32), 0);
	assert_int_equal(v->ops->gpa_read(v, 0x5ff0, out, 16), 0);
	assert_memory_equal(out, in, 16);
	assert_int_equal(v->ops->gpa_read(v, 0x9000, out, 16), 0);
	assert_memory_equal(out, in + 16, 16);
	memset(out, 0, sizeof(out));
	assert_int_equal(vmx_gla_read(v, 0x400ff0, out, 32), 0);
	assert_memory_equal(out, in, 32);
	assert_int_equal(vmx_gla_read(v, 0x401ff0, out, 32), -1); /* runs into a non-present page */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(four_level_4k_2m_1g_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(not_present_reports_level_and_error_code, setup, teardown),
		cmocka_unit_test_setup_teardown(write_protection_follows_cr0_wp, setup, teardown),
		cmocka_unit_test_setup_teardown(user_access_to_supervisor_page_faults, setup, teardown),
		cmocka_unit_test_setup_teardown(execute_disable_needs_efer_nxe, setup, teardown),
		cmocka_unit_test_setup_teardown(table_outside_ram_is_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(paging_off_is_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(legacy_32bit_paging_4k_and_4m, setup, teardown),
		cmocka_unit_test_setup_teardown(pae_with_ept_takes_pdptes_from_vmcs, setup, teardown),
		cmocka_unit_test_setup_teardown(linear_copy_crosses_discontiguous_pages, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
