/*
 * test_sim_exits.c - VM exits of the Bochs CPU as handler code sees them,
 * in the shape of kvm-unit-tests: one tiny guest per case (guests.S) and
 * the exits it must produce, in order.  Each row checks the basic exit
 * reason and the guest RIP, plus the fields its CK_* flags name; then the
 * harness acts like a minimal handler (harness.h).
 *
 * Qualification layouts: SDM 28.2.1 (I/O Table 28-5, CR access Table 28-3,
 * EPT violation Table 28-7); interruption information: SDM 25.9.2.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "harness.h"

GUEST_SYM(io_imm);
AT_SYM(io_imm, 1); AT_SYM(io_imm, 2); AT_SYM(io_imm, 3); AT_SYM(io_imm, 4);
GUEST_SYM(io_dx);
AT_SYM(io_dx, 1); AT_SYM(io_dx, 2); AT_SYM(io_dx, 3); AT_SYM(io_dx, 4); AT_SYM(io_dx, 5);
GUEST_SYM(io_string);
AT_SYM(io_string, 1); AT_SYM(io_string, 2); AT_SYM(io_string, 3); AT_SYM(io_string, data);
GUEST_SYM(misc);
AT_SYM(misc, 1); AT_SYM(misc, 2); AT_SYM(misc, 3); AT_SYM(misc, 4); AT_SYM(misc, 5);
GUEST_SYM(msr);
AT_SYM(msr, 1); AT_SYM(msr, 2); AT_SYM(msr, 3); AT_SYM(msr, 4);
GUEST_SYM(cr);
AT_SYM(cr, 1); AT_SYM(cr, 2); AT_SYM(cr, 3); AT_SYM(cr, 4); AT_SYM(cr, 5);
GUEST_SYM(ept);
AT_SYM(ept, 1); AT_SYM(ept, 2); AT_SYM(ept, 3); AT_SYM(ept, 4);
GUEST_SYM(exc);
AT_SYM(exc, 1); AT_SYM(exc, 2); AT_SYM(exc, 3);
GUEST_SYM(irq_window);
AT_SYM(irq_window, 1); AT_SYM(irq_window, 2);
GUEST_SYM(inject);
AT_SYM(inject, 1); AT_SYM(inject, 2); AT_SYM(inject, 3); AT_SYM(inject, 4); AT_SYM(inject, 5);
AT_SYM(inject, 6); AT_SYM(inject, 10); AT_SYM(inject, 11); AT_SYM(inject, 12);
GUEST_SYM(extint);
AT_SYM(extint, 1); AT_SYM(extint, 2);
GUEST_SYM(triple);
AT_SYM(triple, 1);
GUEST_SYM(real);
AT_SYM(real, 1); AT_SYM(real, 2); AT_SYM(real, 3); AT_SYM(real, 4); AT_SYM(real, 5);
AT_SYM(real, 6);

/* I/O qualification: port << 16 | imm << 6 | rep << 5 | string << 4 | in << 3 | size - 1 */
#define IOQ(port, size, in, str, rep, imm) \
	((uint64_t)(port) << 16 | (imm) << 6 | (rep) << 5 | (str) << 4 | (in) << 3 | ((size) - 1))
/* CR-access qualification: gpr << 8 | type << 4 | cr (type 0: MOV to CR) */
#define CRQ(cr, gpr) ((uint64_t)(gpr) << 8 | (cr))
/* EPT violation: access (bit 0 read, 1 write, 2 fetch) | 7 linear address
 * valid | 8 translation of it | 9 user-mode address | 10 R/W page */
#define EPTQ(access) ((access) | 0x780)
/* Interruption information: valid | error code valid << 11 | type << 8 | vector */
#define INTR(type, vector, ecode) (0x80000000u | (ecode) << 11 | (type) << 8 | (vector))
/* VMX_INSTRUCTION_INFO for INS/OUTS: address size (2: 64-bit) << 7 | segment << 15 */
#define STRINFO(asize, seg) ((asize) << 7 | (seg) << 15)

#define EXIT(r) .reason = EXIT_REASON_##r

static void setup_msr(struct sim_machine *m)
{
	sim_intercept_msr(m, 0xc0000100, false, false); /* FS_BASE goes straight through */
}

static void setup_ept(struct sim_machine *m)
{
	if (sim_map_mmio(m, GUEST_MMIO, 0x1000))
		fail_msg("sim_map_mmio: %s", sim_error(m));
}

static void setup_exc(struct sim_machine *m)
{
	vmw(m, VMCS_EXCEPTION_BITMAP, 1u << 6 | 1u << 14);
}

static void setup_irq_window(struct sim_machine *m)
{
	vmw(m, VMCS_CPU_BASED_VM_EXEC_CONTROL,
	    vmr(m, VMCS_CPU_BASED_VM_EXEC_CONTROL) | CPU_INTERRUPT_WINDOW_EXITING);
}

static void raise_intr(void *ctx, vtime_t now)
{
	(void)now;
	sim_set_intr(ctx, true, 0x20);
}

static void setup_extint(struct sim_machine *m)
{
	sim_timer_arm(m, sim_timer_new(m, raise_intr, m), 5000);
}

static void setup_real(struct sim_machine *m)
{
	if (sim_map_mmio(m, 0xb8000, 0x1000)) /* VGA text memory */
		fail_msg("sim_map_mmio: %s", sim_error(m));
}

static const struct guest_case cases[] = {
	{ "out/in imm8", GUEST_REF(io_imm), SIM_MODE_LONG64, NULL, {
		{ EXIT(IO_INSTRUCTION), at_io_imm_1, CK_QUAL | CK_LEN, .qual = IOQ(0x80, 1, 0, 0, 0, 1), .len = 2 },
		{ EXIT(IO_INSTRUCTION), at_io_imm_2, CK_QUAL | CK_LEN, .qual = IOQ(0x21, 1, 1, 0, 0, 1), .len = 2,
		  .act = ACT_IN, .arg = 0x77 },
		{ EXIT(IO_INSTRUCTION), at_io_imm_3, CK_QUAL | CK_RAX, .qual = IOQ(0x81, 1, 0, 0, 0, 1), .rax = 0x77 },
		{ EXIT(HLT), at_io_imm_4, CK_LEN, .len = 1, .act = ACT_STOP },
	} },
	{ "out/in dx", GUEST_REF(io_dx), SIM_MODE_LONG64, NULL, {
		{ EXIT(IO_INSTRUCTION), at_io_dx_1, CK_QUAL | CK_LEN, .qual = IOQ(0x3f8, 1, 0, 0, 0, 0), .len = 1 },
		{ EXIT(IO_INSTRUCTION), at_io_dx_2, CK_QUAL | CK_LEN, .qual = IOQ(0x3f8, 2, 0, 0, 0, 0), .len = 2 },
		{ EXIT(IO_INSTRUCTION), at_io_dx_3, CK_QUAL | CK_LEN, .qual = IOQ(0x3f8, 4, 0, 0, 0, 0), .len = 1 },
		{ EXIT(IO_INSTRUCTION), at_io_dx_4, CK_QUAL | CK_LEN, .qual = IOQ(0x3f8, 4, 1, 0, 0, 0), .len = 1 },
		{ EXIT(HLT), at_io_dx_5, 0, .act = ACT_STOP },
	} },
	{ "rep outsb/insw", GUEST_REF(io_string), SIM_MODE_LONG64, NULL, {
		{ EXIT(IO_INSTRUCTION), at_io_string_1, CK_QUAL | CK_LEN | CK_INFO | CK_GLA,
		  .qual = IOQ(0x80, 1, 0, 1, 1, 0), .len = 2, .info = STRINFO(2, SEG_DS),
		  .gla_at = at_io_string_data },
		/* INS always uses ES: the segment bits are undefined (SDM Table
		 * 28-8) and Bochs stores DS there; only the address size is checked */
		{ EXIT(IO_INSTRUCTION), at_io_string_2, CK_QUAL | CK_LEN | CK_INFO | CK_GLA,
		  .qual = IOQ(0x1f0, 2, 1, 1, 1, 0), .len = 3, .info = STRINFO(2, 0),
		  .info_mask = STRINFO(7, 0), .gla = GUEST_DATA },
		{ EXIT(HLT), at_io_string_3, 0, .act = ACT_STOP },
	} },
	{ "cpuid rdtsc vmcall invlpg hlt", GUEST_REF(misc), SIM_MODE_LONG64, NULL, {
		{ EXIT(CPUID), at_misc_1, CK_LEN, .len = 2 },
		{ EXIT(RDTSC), at_misc_2, CK_LEN, .len = 2 },
		{ EXIT(VMCALL), at_misc_3, CK_LEN, .len = 3 },
		{ EXIT(INVLPG), at_misc_4, CK_QUAL | CK_LEN, .qual = 0x123000, .len = 3 },
		{ EXIT(HLT), at_misc_5, CK_LEN, .len = 1, .act = ACT_STOP },
	} },
	{ "rdmsr/wrmsr with MSR bitmap", GUEST_REF(msr), SIM_MODE_LONG64, setup_msr, {
		{ EXIT(MSR_READ), at_msr_1, CK_LEN, .len = 2, .act = ACT_RDMSR, .arg = 0xfee00900 },
		{ EXIT(MSR_WRITE), at_msr_2, CK_LEN | CK_RAX, .len = 2, .rax = 0xfee00900 },
		{ EXIT(IO_INSTRUCTION), at_msr_3, CK_QUAL | CK_RAX, .qual = IOQ(0x80, 4, 0, 0, 0, 1), .rax = 0x1234 },
		{ EXIT(HLT), at_msr_4, 0, .act = ACT_STOP },
	} },
	{ "mov to cr0/cr3/cr4/cr8", GUEST_REF(cr), SIM_MODE_LONG64, NULL, {
		{ EXIT(CR_ACCESS), at_cr_1, CK_QUAL | CK_LEN, .qual = CRQ(0, GPR_RAX), .len = 3 },
		{ EXIT(CR_ACCESS), at_cr_2, CK_QUAL | CK_LEN, .qual = CRQ(3, GPR_RBX), .len = 3 },
		{ EXIT(CR_ACCESS), at_cr_3, CK_QUAL | CK_LEN, .qual = CRQ(4, GPR_RCX), .len = 3 },
		{ EXIT(CR_ACCESS), at_cr_4, CK_QUAL | CK_LEN, .qual = CRQ(8, GPR_RDX), .len = 4 },
		{ EXIT(HLT), at_cr_5, 0, .act = ACT_STOP },
	} },
	{ "EPT violation read/write/fetch", GUEST_REF(ept), SIM_MODE_LONG64, setup_ept, {
		{ EXIT(EPT_VIOLATION), at_ept_1, CK_QUAL | CK_GPA | CK_GLA | CK_LEN, .qual = EPTQ(1),
		  .gpa = GUEST_MMIO + 8, .gla = GUEST_MMIO + 8, .len = 2 },
		{ EXIT(EPT_VIOLATION), at_ept_2, CK_QUAL | CK_GPA | CK_GLA | CK_LEN, .qual = EPTQ(2),
		  .gpa = GUEST_MMIO + 8, .gla = GUEST_MMIO + 8, .len = 6 },
		{ EXIT(EPT_VIOLATION), NULL, CK_RIP | CK_QUAL | CK_GPA | CK_GLA, .rip = GUEST_MMIO,
		  .qual = EPTQ(4), .gpa = GUEST_MMIO, .gla = GUEST_MMIO, .act = ACT_RESUME_RBX },
		{ EXIT(HLT), at_ept_4, 0, .act = ACT_STOP },
	} },
	{ "#UD and #PF through the exception bitmap", GUEST_REF(exc), SIM_MODE_LONG64, setup_exc, {
		{ EXIT(EXCEPTION_NMI), at_exc_1, CK_INTR | CK_LEN, .intr = INTR(INTR_TYPE_HARD_EXCEPTION, 6, 0),
		  .len = 2 },
		{ EXIT(EXCEPTION_NMI), at_exc_2, CK_INTR | CK_ECODE | CK_QUAL | CK_LEN,
		  .intr = INTR(INTR_TYPE_HARD_EXCEPTION, 14, 1), .ecode = 0, .qual = 0x100000000, .len = 2 },
		{ EXIT(HLT), at_exc_3, 0, .act = ACT_STOP },
	} },
	{ "interrupt window", GUEST_REF(irq_window), SIM_MODE_LONG64, setup_irq_window, {
		{ EXIT(INTERRUPT_WINDOW), at_irq_window_1, 0, .act = ACT_CLEAR_IRQ_WINDOW },
		{ EXIT(HLT), at_irq_window_2, 0, .act = ACT_STOP },
	} },
	{ "injected interrupt and exceptions reach the guest", GUEST_REF(inject), SIM_MODE_LONG64, NULL, {
		{ EXIT(HLT), at_inject_1, 0, .act = ACT_SKIP_INJECT, .arg = INTR(INTR_TYPE_EXT_INTR, 0x20, 0) },
		{ EXIT(IO_INSTRUCTION), at_inject_10, CK_QUAL, .qual = IOQ(0xe0, 1, 0, 0, 0, 1) },
		{ EXIT(IO_INSTRUCTION), at_inject_2, CK_QUAL, .qual = IOQ(0xe1, 1, 0, 0, 0, 1) },
		{ EXIT(HLT), at_inject_3, 0, .act = ACT_SKIP_INJECT, .arg = INTR(INTR_TYPE_HARD_EXCEPTION, 6, 0) },
		{ EXIT(IO_INSTRUCTION), at_inject_11, CK_QUAL, .qual = IOQ(0xe6, 1, 0, 0, 0, 1) },
		{ EXIT(HLT), at_inject_4, 0, .act = ACT_SKIP_INJECT,
		  .arg = (uint64_t)0x1234 << 32 | INTR(INTR_TYPE_HARD_EXCEPTION, 13, 1) },
		{ EXIT(IO_INSTRUCTION), at_inject_12, CK_QUAL | CK_RAX, .qual = IOQ(0xe7, 4, 0, 0, 0, 1),
		  .rax = 0x1234 },
		{ EXIT(IO_INSTRUCTION), at_inject_5, CK_QUAL, .qual = IOQ(0xe3, 1, 0, 0, 0, 1) },
		{ EXIT(HLT), at_inject_6, 0, .act = ACT_STOP },
	} },
	{ "external interrupt", GUEST_REF(extint), SIM_MODE_LONG64, setup_extint, {
		{ EXIT(EXTERNAL_INTERRUPT), at_extint_1, CK_INTR, .intr = 0, .act = ACT_ACK_INJECT,
		  .arg = INTR(INTR_TYPE_EXT_INTR, 0x20, 0) },
		{ EXIT(IO_INSTRUCTION), at_extint_2, CK_QUAL, .qual = IOQ(0xe0, 1, 0, 0, 0, 1), .act = ACT_STOP },
	} },
	{ "triple fault", GUEST_REF(triple), SIM_MODE_LONG64, NULL, {
		{ EXIT(TRIPLE_FAULT), at_triple_1, 0, .act = ACT_STOP },
	} },
	{ "real mode", GUEST_REF(real), SIM_MODE_REAL, setup_real, {
		{ EXIT(IO_INSTRUCTION), at_real_1, CK_QUAL | CK_LEN, .qual = IOQ(0x80, 1, 0, 0, 0, 1), .len = 2 },
		{ EXIT(IO_INSTRUCTION), at_real_2, CK_QUAL | CK_LEN, .qual = IOQ(0x60, 1, 1, 0, 0, 1), .len = 2,
		  .act = ACT_IN, .arg = 0x33 },
		{ EXIT(CPUID), at_real_3, CK_LEN, .len = 2 },
		{ EXIT(IO_INSTRUCTION), at_real_4, CK_QUAL | CK_LEN, .qual = IOQ(0x3f8, 1, 0, 0, 0, 0),
		  .len = 1 },
		/* with CR0.PG = 0 every linear address counts as user-mode and
		 * read/write: bits 9 and 10 are set (SDM Table 28-7) */
		{ EXIT(EPT_VIOLATION), at_real_5, CK_QUAL | CK_GPA | CK_LEN, .qual = EPTQ(2),
		  .gpa = 0xb8000, .len = 6 },
		{ EXIT(HLT), at_real_6, 0, .act = ACT_STOP },
	} },
};

static void run_case(void **state)
{
	harness_run_case(*state);
}

static void triple_fault_is_reported(void **state)
{
	(void)state;
	static const struct guest g = GUEST_REF(triple);
	struct sim_machine *m = harness_machine(&g, SIM_MODE_LONG64);
	assert_int_equal(sim_run(m), SIM_STOP_EXIT);
	assert_int_equal(vmr(m, VMCS_VM_EXIT_REASON), EXIT_REASON_TRIPLE_FAULT);
	assert_non_null(strstr(sim_error(m), "triple fault"));
}

int main(void)
{
	enum { N = sizeof cases / sizeof cases[0] };
	struct CMUnitTest tests[N + 1];
	for (size_t i = 0; i < N; i++)
		tests[i] = (struct CMUnitTest){ cases[i].name, run_case, NULL, harness_teardown,
						(void *)&cases[i] };
	tests[N] = (struct CMUnitTest){ "triple fault is reported", triple_fault_is_reported, NULL,
					harness_teardown, NULL };
	return _cmocka_run_group_tests("sim exits", tests, N + 1, NULL, NULL);
}
