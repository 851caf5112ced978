/*
 * The exits of APIC virtualization (SDM ch. 29), which the reference build
 * takes without a local APIC: its guests read IA32_APIC_BASE with the
 * enable bit clear (cpu.c) and take their interrupts from the PIC.  A
 * capture from a host that virtualizes the APIC (Xen, KVM) holds these
 * exits all the same.  Each one resumes the guest in a defined way, is
 * counted in hv->not_modelled[] and ends its handler records with
 * TRC_VMXLAB_NOT_MODELLED (hv_not_modelled, hv.c), so that a report can tell
 * it from an exit a model handled:
 *
 *   APIC access (44)          the access, emulated against an absent device:
 *                             reads return all ones, writes are dropped
 *   virtualized EOI (45)      trap-like: no in-service vector to end
 *   APIC write (56)           trap-like: no register to act on the write
 *   TPR below threshold (43)  trap-like: no pending interrupt to wait for
 */
#include "hv_priv.h"

/*
 * Exit qualification of APIC-access VM exits (SDM 28.2.1, Table 28-6):
 *
 *   63       17  16   15  12 11         0
 *  +-----------+-----+------+------------+
 *  |     0     |async| type |   offset   |
 *  +-----------+-----+------+------------+
 *  type: 0 linear access, data read during instruction execution;
 *        1 linear access, data write during instruction execution;
 *        2 linear access for an instruction fetch;
 *        3 linear access during event delivery;
 *        10 guest-physical access during event delivery;
 *        15 guest-physical access for an instruction fetch or during
 *           instruction execution
 *  offset: of the access in the APIC page (linear accesses)
 *  async: an access neither of an instruction nor of event delivery
 */
#define APIC_QUAL_OFFSET(q) ((q) & 0xfffu)
#define APIC_QUAL_TYPE(q)   ((unsigned)((q) >> 12) & 0xfu)
#define APIC_QUAL_ASYNC     (1u << 16)

enum apic_access_type {
	APIC_LINEAR_READ = 0,
	APIC_LINEAR_WRITE = 1,
	APIC_LINEAR_FETCH = 2,
	APIC_LINEAR_EVENT = 3,
	APIC_GPA_EVENT = 10,
	APIC_GPA_INSN = 15,
};

static const char *apic_access_type_name(unsigned type)
{
	switch (type) {
	case APIC_LINEAR_FETCH:
		return "an instruction fetch from the APIC page";
	case APIC_LINEAR_EVENT:
	case APIC_GPA_EVENT:
		return "an access during event delivery";
	case APIC_GPA_INSN:
		return "a guest-physical access (a fetch, or a paging-structure access)";
	default:
		return "a reserved access type";
	}
}

/*
 * An APIC access is fault-like (SDM 29.4, "Virtualizing Memory-Mapped APIC
 * Accesses"): the instruction has not run.  A data access of an instruction
 * is performed against the page of the guest's APIC base, where nothing
 * answers, and the instruction completes.  Anything else (a fetch, event
 * delivery, a guest-physical or asynchronous access) has no instruction to
 * complete and would exit again on resume: the run ends, saying why.
 */
enum exit_result handle_apic_access(struct hv *hv, struct vmx_vcpu *v, uint32_t reason)
{
	uint64_t qual = vmcs_read(v, VMCS_EXIT_QUALIFICATION);
	uint64_t rip = vmcs_read(v, VMCS_GUEST_RIP);
	unsigned type = APIC_QUAL_TYPE(qual);
	enum exit_result res;

	if ((type == APIC_LINEAR_READ || type == APIC_LINEAR_WRITE) && !(qual & APIC_QUAL_ASYNC))
		res = mmio_emulate(hv, v, NULL, APIC_DEFAULT_BASE | APIC_QUAL_OFFSET(qual),
				   "the local APIC page (no local APIC in the reference build)");
	else
		res = hv_fail(hv, EXIT_ERROR,
			      "APIC access at RIP 0x%llx, qualification 0x%llx: %s%s cannot be completed without a "
			      "local APIC, and the reference build models none",
			      (unsigned long long)rip, (unsigned long long)qual,
			      (qual & APIC_QUAL_ASYNC) ? "an asynchronous access, " : "", apic_access_type_name(type));
	hv_not_modelled(hv, reason, NM_LOCAL_APIC, qual, rip);
	return res;
}

/* APIC-write VM exits (SDM 29.4.3.3, "APIC-Write VM Exits") are trap-like:
 * the write is in the virtual-APIC page and RIP is past the instruction.
 * Bits 11:0 of the qualification are the register's offset. */
enum exit_result handle_apic_write(struct hv *hv, struct vmx_vcpu *v, uint32_t reason)
{
	hv_not_modelled(hv, reason, NM_LOCAL_APIC, vmcs_read(v, VMCS_EXIT_QUALIFICATION),
			vmcs_read(v, VMCS_GUEST_RIP));
	return EXIT_RESUME;
}

/* EOI-induced VM exits (SDM 29.1.3) are trap-like; bits 7:0 of the
 * qualification are the vector whose EOI was virtualized. */
enum exit_result handle_eoi_induced(struct hv *hv, struct vmx_vcpu *v, uint32_t reason)
{
	hv_not_modelled(hv, reason, NM_LOCAL_APIC, vmcs_read(v, VMCS_EXIT_QUALIFICATION),
			vmcs_read(v, VMCS_GUEST_RIP));
	return EXIT_RESUME;
}

/* TPR below threshold (SDM 29.1.2) is trap-like: the guest lowered its TPR
 * under the threshold a hypervisor sets while an interrupt waits for it.
 * Nothing waits here, so the threshold goes to 0, as KVM sets it when no
 * interrupt is pending; left as it is, VM entry would exit again at once
 * (SDM 27.7.7, "VM Exits Induced by the TPR Threshold"). */
enum exit_result handle_tpr_below_threshold(struct hv *hv, struct vmx_vcpu *v, uint32_t reason)
{
	vcpu_vmwrite(v, VMCS_TPR_THRESHOLD, 0);
	hv_not_modelled(hv, reason, NM_LOCAL_APIC, 0, vmcs_read(v, VMCS_GUEST_RIP));
	return EXIT_RESUME;
}
