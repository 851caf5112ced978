/*
 * The floor: a handler build that does only what every handler must do to
 * resume the guest, so that replaying a trace through it
 *
 *   vmxlab replay TRACE --hv build/tests/libvmxlab-hv-floor.so
 *
 * measures what the testbed itself puts inside the timed window of every
 * exit (vm/exit.c): the call through the handler table, and the VMREADs and
 * VMWRITEs of one minimal exit through the vCPU's ops.  The reference
 * build's handler figures minus these are the handler's own cost
 * (`make bench-replay` prints both side by side).
 *
 * What one exit does here, and no more:
 *   1. VMREAD VM_EXIT_REASON, count the exit (hv.h: exit_counts is part of
 *      the ABI);
 *   2. for an exit caused by an instruction the reference handlers complete
 *      with the VM-exit instruction length (the table below), VMREAD
 *      VM_EXIT_INSTRUCTION_LEN and GUEST_RIP and VMWRITE GUEST_RIP + length
 *      (SDM 28.2.5: the length field is valid for these exits; 27.5.3);
 *   3. return HV_RESUME.
 * So an exit costs 1 VMCS access here, or 4 for an instruction exit.
 *
 * It is not a hypervisor: no device is touched, no instruction emulated (an
 * EPT violation resumes at the same RIP: its length field is undefined,
 * SDM 28.2.5, and the reference decodes the instruction instead), no event
 * injected, no interrupt shadow ended, no trace record written, and a
 * VM-entry failure resumes like any other exit.  Its digest and its handler
 * records differ from the reference build's by design; only its timings
 * mean anything.
 */
#include <stdio.h>
#include <stdlib.h>

#include <vmxlab/hv.h>

#define FLOOR_BIT(r) (1ull << ((r) & 63))

/* Basic exit reasons 0..63 (SDM Appendix C) whose instruction the
 * reference build (hv/) steps over by VM_EXIT_INSTRUCTION_LEN; every one is
 * below 64, which _Static_assert keeps true. */
static const uint64_t advance_reasons =
	FLOOR_BIT(EXIT_REASON_CPUID) | FLOOR_BIT(EXIT_REASON_HLT) | FLOOR_BIT(EXIT_REASON_INVD) |
	FLOOR_BIT(EXIT_REASON_INVLPG) | FLOOR_BIT(EXIT_REASON_RDTSC) | FLOOR_BIT(EXIT_REASON_VMCALL) |
	FLOOR_BIT(EXIT_REASON_CR_ACCESS) | FLOOR_BIT(EXIT_REASON_IO_INSTRUCTION) |
	FLOOR_BIT(EXIT_REASON_MSR_READ) | FLOOR_BIT(EXIT_REASON_MSR_WRITE) | FLOOR_BIT(EXIT_REASON_PAUSE) |
	FLOOR_BIT(EXIT_REASON_RDTSCP) | FLOOR_BIT(EXIT_REASON_WBINVD) | FLOOR_BIT(EXIT_REASON_XSETBV);

_Static_assert(EXIT_REASON_XSETBV < 64 && EXIT_REASON_RDTSCP < 64 && EXIT_REASON_WBINVD < 64,
	       "advance_reasons is one 64-bit word");

struct floor {
	uint64_t exits[VMX_EXIT_REASON_COUNT];
};

static enum hv_verdict floor_handle_exit(void *ctx, struct vmx_vcpu *v, struct hv_exit *out)
{
	struct floor *f = ctx;
	uint32_t reason = VMX_EXIT_REASON_BASIC((uint32_t)vmcs_read(v, VMCS_VM_EXIT_REASON));

	(void)out;
	if (reason >= VMX_EXIT_REASON_COUNT)
		return HV_RESUME;
	f->exits[reason]++;
	if (reason < 64 && (advance_reasons & FLOOR_BIT(reason))) {
		uint64_t len = vmcs_read(v, VMCS_VM_EXIT_INSTRUCTION_LEN);
		vcpu_vmwrite(v, VMCS_GUEST_RIP, vmcs_read(v, VMCS_GUEST_RIP) + len);
	}
	return HV_RESUME;
}

static void *floor_init(const struct hv_host *host, char *err, size_t errlen)
{
	struct floor *f = calloc(1, sizeof(*f));

	(void)host;
	if (!f)
		snprintf(err, errlen, "out of memory");
	return f;
}

static void floor_fini(void *ctx)
{
	free(ctx);
}

static const uint64_t *floor_exit_counts(void *ctx)
{
	return ((struct floor *)ctx)->exits;
}

__attribute__((visibility("default"))) const struct vmxlab_hv vmxlab_hv = {
	.abi_version = VMXLAB_HV_ABI_VERSION,
	.name = "vmxlab-floor",
	.init = floor_init,
	.handle_exit = floor_handle_exit,
	.fini = floor_fini,
	.exit_counts = floor_exit_counts,
};
