/*
 * Event injection and interrupt delivery.
 *
 * VM-entry interruption-information field (SDM 25.8.3):
 *
 *   31   30    12 11        10  8 7      0
 *  +-----+-------+---------+-----+--------+
 *  |valid|   0   |deliver  |type | vector |
 *  |     |       |err code |     |        |
 *  +-----+-------+---------+-----+--------+
 *
 * Order on the way back to the guest (one event per VM entry, SDM 27.6):
 * an event whose delivery caused the exit (IDT-vectoring information) is
 * re-queued first; then an exception a handler raised; then an external
 * interrupt from the PIC if the guest can take it now (RFLAGS.IF = 1, no
 * STI / MOV SS shadow, CR8 allows it), else interrupt-window exiting is
 * turned on so the next opportunity exits (reason 7).
 */
#include "hv_priv.h"

#define ENTRY_VALID (1u << 31)

/* Exceptions that push an error code (SDM Vol. 3A 6.3.1, Table 6-1). */
static bool has_error_code(uint8_t vector)
{
	return vector == 8 || (vector >= 10 && vector <= 14) || vector == 17 || vector == 21;
}

void inject_exception(struct hv *hv, uint8_t vector, bool has_error, uint32_t error)
{
	hv->exc_pending = true;
	hv->exc_vector = vector;
	hv->exc_has_error = has_error;
	hv->exc_error = error;
}

void inject_gp(struct hv *hv)
{
	inject_exception(hv, 13, true, 0);
}

void inject_ud(struct hv *hv)
{
	inject_exception(hv, 6, false, 0);
}

/* SDM 28.2.4: bit 12 of IDT-vectoring info is undefined; software
 * interrupts and exceptions need the instruction length to re-inject. */
void reinject_idt_vectoring(struct hv *hv, struct vmx_vcpu *v)
{
	struct vmx_intr_info info;
	uint32_t raw = (uint32_t)vmcs_read(v, VMCS_IDT_VECTORING_INFO);

	(void)hv;
	vmx_intr_info_decode(raw, &info);
	if (!info.valid)
		return;
	info.nmi_unblocking = false;
	vcpu_vmwrite(v, VMCS_VM_ENTRY_INTR_INFO, vmx_intr_info_encode(&info));
	if (info.error_code_valid)
		vcpu_vmwrite(v, VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, vmcs_read(v, VMCS_IDT_VECTORING_ERROR_CODE));
	if (info.type == INTR_TYPE_SOFT_INTR || info.type == INTR_TYPE_PRIV_SW_EXCEPTION ||
	    info.type == INTR_TYPE_SOFT_EXCEPTION)
		vcpu_vmwrite(v, VMCS_VM_ENTRY_INSTRUCTION_LEN, vmcs_read(v, VMCS_VM_EXIT_INSTRUCTION_LEN));
}

static void write_pending_exception(struct hv *hv, struct vmx_vcpu *v)
{
	struct vmx_intr_info info = {
		.valid = true, .vector = hv->exc_vector, .type = INTR_TYPE_HARD_EXCEPTION,
		.error_code_valid = hv->exc_has_error && has_error_code(hv->exc_vector),
	};

	vcpu_vmwrite(v, VMCS_VM_ENTRY_INTR_INFO, vmx_intr_info_encode(&info));
	if (info.error_code_valid)
		vcpu_vmwrite(v, VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, hv->exc_error);
	hv_trace(hv, TRC_HVM_INJ_EXC, 2, (uint32_t)hv->exc_vector, info.error_code_valid ? hv->exc_error : 0u);
	hv->exc_pending = false;
}

static bool can_take_interrupt(struct hv *hv, struct vmx_vcpu *v, int vector)
{
	uint64_t intr = vmcs_read(v, VMCS_GUEST_INTERRUPTIBILITY_INFO);
	uint64_t act = vmcs_read(v, VMCS_GUEST_ACTIVITY_STATE);

	if (!(vmcs_read(v, VMCS_GUEST_RFLAGS) & X86_RFLAGS_IF))
		return false;
	if (intr & (INTR_BLOCKING_STI | INTR_BLOCKING_MOV_SS))
		return false;
	if (act != ACTIVITY_ACTIVE && act != ACTIVITY_HLT)
		return false;
	/* CR8 (TPR) masks priority classes at or below it (SDM Vol. 3A 10.8.6.1). */
	return ((unsigned)vector >> 4) > hv->tpr;
}

static void set_window_exiting(struct vmx_vcpu *v, bool on)
{
	uint64_t ctl = vmcs_read(v, VMCS_CPU_BASED_VM_EXEC_CONTROL);
	uint64_t want = on ? ctl | CPU_INTERRUPT_WINDOW_EXITING : ctl & ~(uint64_t)CPU_INTERRUPT_WINDOW_EXITING;

	if (want != ctl)
		vcpu_vmwrite(v, VMCS_CPU_BASED_VM_EXEC_CONTROL, want);
}

int deliver_events(struct hv *hv, struct vmx_vcpu *v)
{
	uint32_t entry = (uint32_t)vmcs_read(v, VMCS_VM_ENTRY_INTR_INFO);
	bool busy = entry & ENTRY_VALID;

	if (hv->exc_pending) {
		if (busy)
			hv_log(hv, 1, "exception %u replaces a re-queued event 0x%x", hv->exc_vector, entry);
		write_pending_exception(hv, v);
		busy = true;
	}
	int vector = pic_pending(hv);
	if (vector == -2)
		return -1;
	if (vector < 0) {
		set_window_exiting(v, false);
		return 0;
	}
	if (!busy && can_take_interrupt(hv, v, vector)) {
		vector = pic_ack(hv);
		if (vector == -2)
			return -1;
		struct vmx_intr_info info = { .valid = true, .vector = (uint8_t)vector, .type = INTR_TYPE_EXT_INTR };
		vcpu_vmwrite(v, VMCS_VM_ENTRY_INTR_INFO, vmx_intr_info_encode(&info));
		hv_trace(hv, TRC_HVM_INJ_VIRQ, 2, (uint32_t)vector, 0u);
		vector = pic_pending(hv);
		if (vector == -2)
			return -1;
		set_window_exiting(v, vector >= 0);
		return 0;
	}
	hv_trace(hv, TRC_HVM_INTR_WINDOW, 3, (uint32_t)vector, (uint32_t)INTR_SRC_PIC,
		 busy ? (uint32_t)(vmcs_read(v, VMCS_VM_ENTRY_INTR_INFO) & 0xff) : 0xffffffffu);
	set_window_exiting(v, true);
	return 0;
}

/*
 * Exception or NMI (reason 0) through the exception bitmap: record it and
 * reflect it into the guest unchanged - vmxlab intercepts exceptions to see
 * them, not to change them.  VM-exit interruption information (SDM 28.2.2)
 * has the vector; a #PF's qualification holds the faulting address (CR2).
 */
enum exit_result handle_exception_nmi(struct hv *hv, struct vmx_vcpu *v, uint32_t reason)
{
	struct vmx_intr_info info;
	uint32_t err = (uint32_t)vmcs_read(v, VMCS_VM_EXIT_INTR_ERROR_CODE);

	(void)reason;
	vmx_intr_info_decode((uint32_t)vmcs_read(v, VMCS_VM_EXIT_INTR_INFO), &info);
	if (!info.valid)
		return hv_fail(hv, EXIT_ERROR, "exception exit without valid interruption information");
	/* NMI unblocking due to IRET (SDM 28.2.3): the IRET's unblocking is
	 * undone so the re-executed IRET sees NMIs blocked again. */
	if (info.nmi_unblocking && info.vector != 8)
		vcpu_vmwrite(v, VMCS_GUEST_INTERRUPTIBILITY_INFO,
			     vmcs_read(v, VMCS_GUEST_INTERRUPTIBILITY_INFO) | INTR_BLOCKING_NMI);
	if (info.type == INTR_TYPE_NMI) {
		hv_trace(hv, TRC_HVM_NMI, 0);
	} else if (info.vector == 14) {
		uint64_t cr2 = vmcs_read(v, VMCS_EXIT_QUALIFICATION);
		vcpu_set_gpr(v, VREG_CR2, cr2);
		hv_trace(hv, TRC_HVM_PF_XEN64, 3, err, (uint32_t)cr2, (uint32_t)(cr2 >> 32));
	} else {
		hv_trace(hv, TRC_HVM_TRAP, 1, (uint32_t)info.vector);
	}
	info.nmi_unblocking = false;
	vcpu_vmwrite(v, VMCS_VM_ENTRY_INTR_INFO, vmx_intr_info_encode(&info));
	if (info.error_code_valid)
		vcpu_vmwrite(v, VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, err);
	if (info.type == INTR_TYPE_SOFT_EXCEPTION || info.type == INTR_TYPE_PRIV_SW_EXCEPTION)
		vcpu_vmwrite(v, VMCS_VM_ENTRY_INSTRUCTION_LEN, vmcs_read(v, VMCS_VM_EXIT_INSTRUCTION_LEN));
	return EXIT_RESUME;
}

/* External interrupts belong to the host; the simulated machine has no host
 * interrupt sources, but a trace or a future host may deliver them. */
enum exit_result handle_external_interrupt(struct hv *hv, struct vmx_vcpu *v, uint32_t reason)
{
	struct vmx_intr_info info;

	(void)reason;
	vmx_intr_info_decode((uint32_t)vmcs_read(v, VMCS_VM_EXIT_INTR_INFO), &info);
	hv_trace(hv, TRC_HVM_INTR, 1, info.valid ? (uint32_t)info.vector : 0u);
	return EXIT_RESUME;
}

enum exit_result handle_interrupt_window(struct hv *hv, struct vmx_vcpu *v, uint32_t reason)
{
	(void)hv;
	(void)reason;
	set_window_exiting(v, false);
	return EXIT_RESUME;
}

enum exit_result handle_triple_fault(struct hv *hv, struct vmx_vcpu *v, uint32_t reason)
{
	(void)reason;
	return hv_fail(hv, EXIT_GUEST_DEAD,
		       "guest triple fault at RIP 0x%llx (CR0 0x%llx, CR3 0x%llx, IDTR base 0x%llx limit 0x%llx): "
		       "an exception could not be delivered",
		       (unsigned long long)vmcs_read(v, VMCS_GUEST_RIP), (unsigned long long)vmcs_read(v, VMCS_GUEST_CR0),
		       (unsigned long long)vmcs_read(v, VMCS_GUEST_CR3),
		       (unsigned long long)vmcs_read(v, VMCS_GUEST_IDTR_BASE),
		       (unsigned long long)vmcs_read(v, VMCS_GUEST_IDTR_LIMIT));
}
