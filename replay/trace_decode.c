/*
 * trace_decode.c - event names and the decoding of VMEXIT records, shared
 * by the summary, the replay engine and dumps.  Ids: trace.h (xentrace.md
 * 1.3-1.5, from Xen 4.17 xen/include/public/trace.h).
 */
#include <stddef.h>

#include <vmxlab/trace.h>

const char *trc_event_name(uint32_t event)
{
	/* RUNSTATE_CHANGE carries the old and new states in its minor id
	 * (0x00021001 | old<<8 | new<<4, xentrace.md 1.4). */
	if ((event & 0x0ffff00fu) == TRC_SCHED_RUNSTATE_CHANGE)
		return "RUNSTATE_CHANGE";
	/* A switch: the summary asks for every handler record. */
	switch (event) {
	case TRC_LOST_RECORDS: return "LOST_RECORDS";
	case TRC_TRACE_WRAP_BUFFER: return "WRAP_BUFFER";
	case TRC_TRACE_CPU_CHANGE: return "CPU_CHANGE";
	case TRC_SCHED_CONTINUE_RUNNING: return "CONTINUE_RUNNING";
	case TRC_SCHED_DOM_ADD: return "SCHED_DOM_ADD";
	case TRC_SCHED_DOM_REM: return "SCHED_DOM_REM";
	case TRC_SCHED_SLEEP: return "SCHED_SLEEP";
	case TRC_SCHED_WAKE: return "SCHED_WAKE";
	case TRC_SCHED_YIELD: return "SCHED_YIELD";
	case TRC_SCHED_BLOCK: return "SCHED_BLOCK";
	case TRC_SCHED_SWITCH: return "SCHED_SWITCH";
	case TRC_SCHED_SWITCH_INFPREV: return "SWITCH_INFPREV";
	case TRC_SCHED_SWITCH_INFNEXT: return "SWITCH_INFNEXT";
	case TRC_SCHED_SWITCH_INFCONT: return "SWITCH_INFCONT";
	case TRC_HVM_VMENTRY: return "VMENTRY";
	case TRC_HVM_VMEXIT: return "VMEXIT";
	case TRC_HVM_VMEXIT64: return "VMEXIT64";
	case TRC_HVM_PF_XEN: return "PF_XEN";
	case TRC_HVM_PF_XEN64: return "PF_XEN64";
	case TRC_HVM_PF_INJECT: return "PF_INJECT";
	case TRC_HVM_PF_INJECT64: return "PF_INJECT64";
	case TRC_HVM_INJ_EXC: return "INJ_EXC";
	case TRC_HVM_INJ_VIRQ: return "INJ_VIRQ";
	case TRC_HVM_REINJ_VIRQ: return "REINJ_VIRQ";
	case TRC_HVM_IO_READ: return "IO_READ";
	case TRC_HVM_IO_WRITE: return "IO_WRITE";
	case TRC_HVM_CR_READ: return "CR_READ";
	case TRC_HVM_CR_READ64: return "CR_READ64";
	case TRC_HVM_CR_WRITE: return "CR_WRITE";
	case TRC_HVM_CR_WRITE64: return "CR_WRITE64";
	case TRC_HVM_DR_READ: return "DR_READ";
	case TRC_HVM_DR_WRITE: return "DR_WRITE";
	case TRC_HVM_MSR_READ: return "MSR_READ";
	case TRC_HVM_MSR_WRITE: return "MSR_WRITE";
	case TRC_HVM_CPUID: return "CPUID";
	case TRC_HVM_INTR: return "INTR";
	case TRC_HVM_NMI: return "NMI";
	case TRC_HVM_SMI: return "SMI";
	case TRC_HVM_VMMCALL: return "VMMCALL";
	case TRC_HVM_HLT: return "HLT";
	case TRC_HVM_INVLPG: return "INVLPG";
	case TRC_HVM_INVLPG64: return "INVLPG64";
	case TRC_HVM_MCE: return "MCE";
	case TRC_HVM_IOPORT_READ: return "IOPORT_READ";
	case TRC_HVM_IOPORT_WRITE: return "IOPORT_WRITE";
	case TRC_HVM_IOMEM_READ: return "IOMEM_READ";
	case TRC_HVM_IOMEM_WRITE: return "IOMEM_WRITE";
	case TRC_HVM_IOMEM_READ64: return "IOMEM_READ64";
	case TRC_HVM_IOMEM_WRITE64: return "IOMEM_WRITE64";
	case TRC_HVM_CLTS: return "CLTS";
	case TRC_HVM_LMSW: return "LMSW";
	case TRC_HVM_LMSW64: return "LMSW64";
	case TRC_HVM_RDTSC: return "RDTSC";
	case TRC_HVM_INTR_WINDOW: return "INTR_WINDOW";
	case TRC_HVM_NPF: return "NPF";
	case TRC_HVM_REALMODE_EMULATE: return "REALMODE_EMULATE";
	case TRC_HVM_TRAP: return "TRAP";
	case TRC_HVM_TRAP_DEBUG: return "TRAP_DEBUG";
	case TRC_HVM_VLAPIC: return "VLAPIC";
	case TRC_HVM_XCR_READ64: return "XCR_READ64";
	case TRC_HVM_XCR_WRITE64: return "XCR_WRITE64";
	case TRC_VMXLAB_NATIVE_COST: return "VMXLAB_NATIVE_COST";
	case TRC_VMXLAB_RUN_INFO: return "VMXLAB_RUN_INFO";
	case TRC_VMXLAB_PHASE: return "VMXLAB_PHASE";
	case TRC_VMXLAB_DM_ROUNDTRIP: return "VMXLAB_DM_ROUNDTRIP";
	case TRC_VMXLAB_NOT_MODELLED: return "VMXLAB_NOT_MODELLED";
	default: return NULL;
	}
}

bool trc_is_vmexit(uint32_t event)
{
	return event == TRC_HVM_VMEXIT || event == TRC_HVM_VMEXIT64;
}

/*
 * VMEXIT   [0] exit_reason  [1] eip              (vmx.c:4066)
 * VMEXIT64 [0] exit_reason  [1] rip lo [2] rip hi (vmx.c:4063)
 * exit_reason is the whole VM_EXIT_REASON field; bits 15:0 are the basic
 * reason.
 */
bool trc_vmexit_decode(const struct trc_record *r, uint32_t *exit_reason, uint64_t *rip)
{
	if (r->event == TRC_HVM_VMEXIT64 && r->n >= 3) {
		*exit_reason = r->d[0];
		*rip = (uint64_t)r->d[1] | (uint64_t)r->d[2] << 32;
		return true;
	}
	if (r->event == TRC_HVM_VMEXIT && r->n >= 2) {
		*exit_reason = r->d[0];
		*rip = r->d[1];
		return true;
	}
	return false;
}
