/* The floor handler build (tests/hv-builds/floor.c): it loads like any
 * build, resumes every exit, steps RIP over exactly the instruction exits
 * and touches nothing else. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../vm/vm.h"

struct fixture {
	struct hv_build b;
	struct hv_host host;
	void *ctx;
	struct vmx_vcpu *v;
};

static char floor_so[512];

static int setup(void **state)
{
	static struct fixture f;
	char err[512];

	if (hv_load(floor_so, &f.b, err, sizeof(err))) {
		fprintf(stderr, "%s (make %s builds it)\n", err, floor_so);
		return -1;
	}
	f.ctx = f.b.hv->init(&f.host, err, sizeof(err));
	f.v = vmx_synth_create(0);
	if (!f.ctx || !f.v)
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	vmx_synth_destroy(f->v);
	f->b.hv->fini(f->ctx);
	hv_unload(&f->b);
	return 0;
}

static enum hv_verdict exit_at(struct fixture *f, uint32_t raw, uint64_t rip, uint64_t len)
{
	struct hv_exit out = { 0 };

	vmx_synth_set(f->v, VMCS_VM_EXIT_REASON, raw);
	vmx_synth_set(f->v, VMCS_GUEST_RIP, rip);
	vmx_synth_set(f->v, VMCS_VM_EXIT_INSTRUCTION_LEN, len);
	return f->b.hv->handle_exit(f->ctx, f->v, &out);
}

static void instruction_exits_step_over_the_instruction(void **state)
{
	struct fixture *f = *state;
	static const uint32_t insn[] = { EXIT_REASON_CPUID, EXIT_REASON_HLT, EXIT_REASON_IO_INSTRUCTION,
					 EXIT_REASON_MSR_READ, EXIT_REASON_MSR_WRITE, EXIT_REASON_CR_ACCESS,
					 EXIT_REASON_RDTSC, EXIT_REASON_VMCALL, EXIT_REASON_XSETBV };

	assert_string_equal(f->b.hv->name, "vmxlab-floor");
	for (size_t i = 0; i < sizeof(insn) / sizeof(insn[0]); i++) {
		assert_int_equal(exit_at(f, insn[i], 0x1000, 3), HV_RESUME);
		assert_int_equal(vmcs_read(f->v, VMCS_GUEST_RIP), 0x1003);
		assert_int_equal(f->b.hv->exit_counts(f->ctx)[insn[i]], 1);
	}
}

static void other_exits_resume_at_the_same_rip(void **state)
{
	struct fixture *f = *state;
	static const uint32_t other[] = { EXIT_REASON_EXTERNAL_INTERRUPT, EXIT_REASON_INTERRUPT_WINDOW,
					  EXIT_REASON_EPT_VIOLATION, EXIT_REASON_EXCEPTION_NMI,
					  EXIT_REASON_VMCLEAR, EXIT_REASON_TRIPLE_FAULT };

	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
		assert_int_equal(exit_at(f, other[i], 0x2000, 3), HV_RESUME);
		assert_int_equal(vmcs_read(f->v, VMCS_GUEST_RIP), 0x2000);
		assert_int_equal(f->b.hv->exit_counts(f->ctx)[other[i]], 1);
	}
	/* Not an architectural reason: resumed, counted nowhere. */
	assert_int_equal(exit_at(f, 0xffff, 0x2000, 3), HV_RESUME);
	assert_int_equal(vmcs_read(f->v, VMCS_GUEST_RIP), 0x2000);
	/* The flag bits of the exit-reason field do not change the basic reason. */
	assert_int_equal(exit_at(f, EXIT_REASON_CPUID | VMX_EXIT_REASON_PENDING_MTF, 0x2000, 2), HV_RESUME);
	assert_int_equal(vmcs_read(f->v, VMCS_GUEST_RIP), 0x2002);
	assert_int_equal(f->b.hv->exit_counts(f->ctx)[EXIT_REASON_CPUID], 1);
}

int main(void)
{
	const char *b = getenv("BUILD");
	snprintf(floor_so, sizeof(floor_so), "%s/tests/libvmxlab-hv-floor.so", b && *b ? b : "build");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(instruction_exits_step_over_the_instruction, setup, teardown),
		cmocka_unit_test_setup_teardown(other_exits_resume_at_the_same_rip, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
