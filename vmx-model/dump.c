/*
 * The VMCS as text, in the groups of Linux KVM's dump_vmcs(): what a
 * hypervisor engineer expects to see when an exit goes wrong.
 */
#include <inttypes.h>
#include <stdio.h>

#include <vmxlab/vcpu.h>

static const char *const seg_names[] = { "es", "cs", "ss", "ds", "fs", "gs", "ldtr", "tr" };

/* Selector, access rights, limit and base of guest segment i (ES..GS, LDTR,
 * TR): the encodings step by 2 in the same order in each width group. */
static void dump_seg(struct vmx_vcpu *v, unsigned i, FILE *out)
{
	fprintf(out, "%-5s sel=0x%04" PRIx64 ", attr=0x%05" PRIx64 ", limit=0x%08" PRIx64 ", base=0x%016" PRIx64 "\n",
		seg_names[i], vmcs_read(v, VMCS_GUEST_ES_SELECTOR + 2 * i),
		vmcs_read(v, VMCS_GUEST_ES_AR_BYTES + 2 * i), vmcs_read(v, VMCS_GUEST_ES_LIMIT + 2 * i),
		vmcs_read(v, VMCS_GUEST_ES_BASE + 2 * i));
}

static void dump_guest(struct vmx_vcpu *v, FILE *out)
{
	fprintf(out, "*** Guest State ***\n");
	fprintf(out, "CR0: actual=0x%016" PRIx64 ", shadow=0x%016" PRIx64 ", gh_mask=%016" PRIx64 "\n",
		vmcs_read(v, VMCS_GUEST_CR0), vmcs_read(v, VMCS_CR0_READ_SHADOW),
		vmcs_read(v, VMCS_CR0_GUEST_HOST_MASK));
	fprintf(out, "CR4: actual=0x%016" PRIx64 ", shadow=0x%016" PRIx64 ", gh_mask=%016" PRIx64 "\n",
		vmcs_read(v, VMCS_GUEST_CR4), vmcs_read(v, VMCS_CR4_READ_SHADOW),
		vmcs_read(v, VMCS_CR4_GUEST_HOST_MASK));
	fprintf(out, "CR3 = 0x%016" PRIx64 "  CR2 = 0x%016" PRIx64 "\n", vmcs_read(v, VMCS_GUEST_CR3),
		vcpu_gpr(v, VREG_CR2));
	fprintf(out, "PDPTR0 = 0x%016" PRIx64 "  PDPTR1 = 0x%016" PRIx64 "\n", vmcs_read(v, VMCS_GUEST_PDPTE0),
		vmcs_read(v, VMCS_GUEST_PDPTE1));
	fprintf(out, "PDPTR2 = 0x%016" PRIx64 "  PDPTR3 = 0x%016" PRIx64 "\n", vmcs_read(v, VMCS_GUEST_PDPTE2),
		vmcs_read(v, VMCS_GUEST_PDPTE3));
	fprintf(out, "RSP = 0x%016" PRIx64 "  RIP = 0x%016" PRIx64 "\n", vmcs_read(v, VMCS_GUEST_RSP),
		vmcs_read(v, VMCS_GUEST_RIP));
	fprintf(out, "RFLAGS=0x%08" PRIx64 "         DR7 = 0x%016" PRIx64 "\n", vmcs_read(v, VMCS_GUEST_RFLAGS),
		vmcs_read(v, VMCS_GUEST_DR7));
	for (unsigned r = 0; r < GPR_COUNT; r += 4)
		fprintf(out, "%-3s=0x%016" PRIx64 " %-3s=0x%016" PRIx64 " %-3s=0x%016" PRIx64 " %-3s=0x%016" PRIx64 "\n",
			vmx_gpr_name(r), vcpu_gpr(v, r), vmx_gpr_name(r + 1), vcpu_gpr(v, r + 1),
			vmx_gpr_name(r + 2), vcpu_gpr(v, r + 2), vmx_gpr_name(r + 3), vcpu_gpr(v, r + 3));
	fprintf(out, "Sysenter RSP=%016" PRIx64 " CS:RIP=%04" PRIx64 ":%016" PRIx64 "\n",
		vmcs_read(v, VMCS_GUEST_SYSENTER_ESP), vmcs_read(v, VMCS_GUEST_SYSENTER_CS),
		vmcs_read(v, VMCS_GUEST_SYSENTER_EIP));
	for (unsigned i = 0; i < 8; i++)
		dump_seg(v, i, out);
	fprintf(out, "GDTR:                           limit=0x%08" PRIx64 ", base=0x%016" PRIx64 "\n",
		vmcs_read(v, VMCS_GUEST_GDTR_LIMIT), vmcs_read(v, VMCS_GUEST_GDTR_BASE));
	fprintf(out, "IDTR:                           limit=0x%08" PRIx64 ", base=0x%016" PRIx64 "\n",
		vmcs_read(v, VMCS_GUEST_IDTR_LIMIT), vmcs_read(v, VMCS_GUEST_IDTR_BASE));
	fprintf(out, "EFER= 0x%016" PRIx64 "  PAT = 0x%016" PRIx64 "\n", vmcs_read(v, VMCS_GUEST_IA32_EFER),
		vmcs_read(v, VMCS_GUEST_IA32_PAT));
	fprintf(out, "DebugCtl = 0x%016" PRIx64 "  DebugExceptions = 0x%016" PRIx64 "\n",
		vmcs_read(v, VMCS_GUEST_IA32_DEBUGCTL), vmcs_read(v, VMCS_GUEST_PENDING_DBG_EXCEPTIONS));
	fprintf(out, "Interruptibility = %08" PRIx64 "  ActivityState = %08" PRIx64 "\n",
		vmcs_read(v, VMCS_GUEST_INTERRUPTIBILITY_INFO), vmcs_read(v, VMCS_GUEST_ACTIVITY_STATE));
}

static void dump_host(struct vmx_vcpu *v, FILE *out)
{
	fprintf(out, "*** Host State ***\n");
	fprintf(out, "RIP = 0x%016" PRIx64 "  RSP = 0x%016" PRIx64 "\n", vmcs_read(v, VMCS_HOST_RIP),
		vmcs_read(v, VMCS_HOST_RSP));
	fprintf(out, "CS=%04" PRIx64 " SS=%04" PRIx64 " DS=%04" PRIx64 " ES=%04" PRIx64 " FS=%04" PRIx64
		" GS=%04" PRIx64 " TR=%04" PRIx64 "\n",
		vmcs_read(v, VMCS_HOST_CS_SELECTOR), vmcs_read(v, VMCS_HOST_SS_SELECTOR),
		vmcs_read(v, VMCS_HOST_DS_SELECTOR), vmcs_read(v, VMCS_HOST_ES_SELECTOR),
		vmcs_read(v, VMCS_HOST_FS_SELECTOR), vmcs_read(v, VMCS_HOST_GS_SELECTOR),
		vmcs_read(v, VMCS_HOST_TR_SELECTOR));
	fprintf(out, "FSBase=%016" PRIx64 " GSBase=%016" PRIx64 " TRBase=%016" PRIx64 "\n",
		vmcs_read(v, VMCS_HOST_FS_BASE), vmcs_read(v, VMCS_HOST_GS_BASE), vmcs_read(v, VMCS_HOST_TR_BASE));
	fprintf(out, "GDTBase=%016" PRIx64 " IDTBase=%016" PRIx64 "\n", vmcs_read(v, VMCS_HOST_GDTR_BASE),
		vmcs_read(v, VMCS_HOST_IDTR_BASE));
	fprintf(out, "CR0=%016" PRIx64 " CR3=%016" PRIx64 " CR4=%016" PRIx64 "\n", vmcs_read(v, VMCS_HOST_CR0),
		vmcs_read(v, VMCS_HOST_CR3), vmcs_read(v, VMCS_HOST_CR4));
	fprintf(out, "EFER= 0x%016" PRIx64 "  PAT = 0x%016" PRIx64 "\n", vmcs_read(v, VMCS_HOST_IA32_EFER),
		vmcs_read(v, VMCS_HOST_IA32_PAT));
}

static void dump_controls(struct vmx_vcpu *v, FILE *out)
{
	fprintf(out, "*** Control State ***\n");
	fprintf(out, "CPUBased=0x%08" PRIx64 " SecondaryExec=0x%08" PRIx64 " TertiaryExec=0x%016" PRIx64 "\n",
		vmcs_read(v, VMCS_CPU_BASED_VM_EXEC_CONTROL), vmcs_read(v, VMCS_SECONDARY_VM_EXEC_CONTROL),
		vmcs_read(v, VMCS_TERTIARY_VM_EXEC_CONTROL));
	fprintf(out, "PinBased=0x%08" PRIx64 " EntryControls=%08" PRIx64 " ExitControls=%08" PRIx64 "\n",
		vmcs_read(v, VMCS_PIN_BASED_VM_EXEC_CONTROL), vmcs_read(v, VMCS_VM_ENTRY_CONTROLS),
		vmcs_read(v, VMCS_VM_EXIT_CONTROLS));
	fprintf(out, "ExceptionBitmap=%08" PRIx64 " PFECmask=%08" PRIx64 " PFECmatch=%08" PRIx64 "\n",
		vmcs_read(v, VMCS_EXCEPTION_BITMAP), vmcs_read(v, VMCS_PAGE_FAULT_ERROR_CODE_MASK),
		vmcs_read(v, VMCS_PAGE_FAULT_ERROR_CODE_MATCH));
	fprintf(out, "VMEntry: intr_info=%08" PRIx64 " errcode=%08" PRIx64 " ilen=%08" PRIx64 "\n",
		vmcs_read(v, VMCS_VM_ENTRY_INTR_INFO), vmcs_read(v, VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE),
		vmcs_read(v, VMCS_VM_ENTRY_INSTRUCTION_LEN));
	fprintf(out, "TSC Offset = 0x%016" PRIx64 "  TPR Threshold = 0x%02" PRIx64 "\n",
		vmcs_read(v, VMCS_TSC_OFFSET), vmcs_read(v, VMCS_TPR_THRESHOLD));
	fprintf(out, "IOBitmap A=0x%016" PRIx64 " B=0x%016" PRIx64 " MSRBitmap=0x%016" PRIx64 "\n",
		vmcs_read(v, VMCS_IO_BITMAP_A), vmcs_read(v, VMCS_IO_BITMAP_B), vmcs_read(v, VMCS_MSR_BITMAP));
	fprintf(out, "EPT pointer = 0x%016" PRIx64 "  Virtual processor ID = 0x%04" PRIx64 "\n",
		vmcs_read(v, VMCS_EPT_POINTER), vmcs_read(v, VMCS_VIRTUAL_PROCESSOR_ID));
}

static void dump_exit_info(struct vmx_vcpu *v, FILE *out)
{
	uint64_t reason = vmcs_read(v, VMCS_VM_EXIT_REASON);
	const char *name = vmx_exit_reason_name(VMX_EXIT_REASON_BASIC((uint32_t)reason));

	fprintf(out, "*** Exit Information ***\n");
	fprintf(out, "Reason=%08" PRIx64 " (%s) qualification=%016" PRIx64 "\n", reason, name ? name : "unknown",
		vmcs_read(v, VMCS_EXIT_QUALIFICATION));
	fprintf(out, "VMExit: intr_info=%08" PRIx64 " errcode=%08" PRIx64 " ilen=%08" PRIx64 " insn_info=%08" PRIx64 "\n",
		vmcs_read(v, VMCS_VM_EXIT_INTR_INFO), vmcs_read(v, VMCS_VM_EXIT_INTR_ERROR_CODE),
		vmcs_read(v, VMCS_VM_EXIT_INSTRUCTION_LEN), vmcs_read(v, VMCS_VMX_INSTRUCTION_INFO));
	fprintf(out, "        idt_vectoring_info=%08" PRIx64 " errcode=%08" PRIx64 "\n",
		vmcs_read(v, VMCS_IDT_VECTORING_INFO), vmcs_read(v, VMCS_IDT_VECTORING_ERROR_CODE));
	fprintf(out, "Guest physical=%016" PRIx64 " linear=%016" PRIx64 " VM-instruction error=%" PRIu64 "\n",
		vmcs_read(v, VMCS_GUEST_PHYSICAL_ADDRESS), vmcs_read(v, VMCS_GUEST_LINEAR_ADDRESS),
		vmcs_read(v, VMCS_VM_INSTRUCTION_ERROR));
}

void vmx_dump_vmcs(struct vmx_vcpu *v, unsigned groups, FILE *out)
{
	if (groups & DUMP_GUEST)
		dump_guest(v, out);
	if (groups & DUMP_HOST)
		dump_host(v, out);
	if (groups & DUMP_CONTROLS)
		dump_controls(v, out);
	if (groups & DUMP_EXIT_INFO)
		dump_exit_info(v, out);
}
