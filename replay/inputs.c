/*
 * An exit's inputs rebuilt in its synthetic vCPU (replay.h):
 *   - from vmxlab's own input records (TRC_VMXLAB_EXIT_TIME..MEM_READ): the
 *     values the handler read during the run, exactly;
 *   - from a Xen capture's VMEXIT and the handler records around it (port,
 *     data, MSR, CR, CPUID leaf, vector, GPA ...), inferring or defaulting
 *     the rest; the fidelity says which (docs/replay.md).
 */
#include <string.h>

#include "engine_priv.h"

/* ------------------------------------------------------------ inputs: vmxlab traces */

bool replay_is_input_record(uint32_t ev)
{
	return (ev >= TRC_VMXLAB_EXIT_TIME && ev <= TRC_VMXLAB_MEM_FAIL && ev != TRC_VMXLAB_RUN_END &&
		ev != TRC_VMXLAB_DEVICE) || dmplay_is_record(ev);
}

void replay_apply_recorded(struct engine *e, struct vctx *c, const struct exitbuf *x, vtime_t *charge0)
{
	struct vmx_vcpu *v = c->v;

	for (unsigned i = 0; i < x->n; i++) {
		const struct trc_record *r = &x->rec[i];
		switch (r->event) {
		case TRC_VMXLAB_EXIT_TIME:
			if (r->n >= 4) {
				e->now = u64(r->d);
				*charge0 = u64(r->d + 2);
			}
			break;
		case TRC_VMXLAB_VMCS_READ:
			for (unsigned k = 0; k + 3 <= r->n; k += 3)
				vmx_synth_set(v, r->d[k], u64(r->d + k + 1));
			break;
		case TRC_VMXLAB_REG_READ:
			for (unsigned k = 0; k + 3 <= r->n; k += 3)
				if (r->d[k] < VREG_COUNT)
					v->ops->gpr_write(v, (enum vmx_gpr)r->d[k], u64(r->d + k + 1));
			break;
		case TRC_VMXLAB_MEM_READ:
			if (r->n >= 3 && r->d[2] <= 16 && (uint32_t)(r->n - 3) * 4 >= r->d[2])
				v->ops->gpa_write(v, u64(r->d), &r->d[3], r->d[2]);
			break;
		case TRC_VMXLAB_MEM_FAIL:
			if (r->n >= 2 && c->holes < 16 && vmx_synth_add_hole(v, u64(r->d) & ~0xfffull, 0x1000) == 0)
				c->holes++;
			break;
		}
	}
}

/* ------------------------------------------------------------ inputs: Xen traces */

const struct trc_record *exit_find(const struct exitbuf *x, uint32_t ev)
{
	for (unsigned i = 0; i < x->n; i++)
		if (x->rec[i].event == ev)
			return &x->rec[i];
	return NULL;
}

static const struct trc_record *find_any(const struct exitbuf *x, const uint32_t *evs, unsigned n)
{
	for (unsigned i = 0; i < x->n; i++)
		for (unsigned k = 0; k < n; k++)
			if (x->rec[i].event == evs[k])
				return &x->rec[i];
	return NULL;
}

static unsigned size_of_value(uint64_t v)
{
	return v > 0xffffffffull ? 8 : v > 0xffff ? 4 : v > 0xff ? 2 : 1;
}

/* Guest state a Xen record does not carry: interrupts enabled, paging off
 * (guest-linear = guest-physical, so a synthesized instruction at RIP can
 * be fetched), long mode when the exit was VMEXIT64. */
static void default_guest_state(struct vmx_vcpu *v, const struct exitbuf *x)
{
	vmx_synth_set(v, VMCS_GUEST_RFLAGS, 0x202);
	vmx_synth_set(v, VMCS_GUEST_CR0, X86_CR0_PE | X86_CR0_NE | X86_CR0_ET);
	vmx_synth_set(v, VMCS_GUEST_CR4, X86_CR4_VMXE);
	vmx_synth_set(v, VMCS_GUEST_IA32_EFER, x->rip64 ? X86_EFER_LME | X86_EFER_LMA : 0);
	vmx_synth_set(v, VMCS_GUEST_CS_AR_BYTES, x->rip64 ? 0xa09b : 0xc09b);
	vmx_synth_set(v, VMCS_GUEST_INTERRUPTIBILITY_INFO, 0);
	vmx_synth_set(v, VMCS_GUEST_ACTIVITY_STATE, 0);
}

/* An instruction doing the recorded MMIO access: mov [rbx], reg or
 * mov reg, [rbx] of the recorded size (x86 encodings, SDM Vol. 2 "MOV"). */
static void synthesize_mmio(struct vmx_vcpu *v, uint64_t rip, uint64_t gpa, bool write, uint64_t data, unsigned size)
{
	uint8_t code[4];
	unsigned n = 0;

	if (size == 2)
		code[n++] = 0x66;
	if (size == 8)
		code[n++] = 0x48;
	code[n++] = (uint8_t)(size == 1 ? (write ? 0x88 : 0x8a) : (write ? 0x89 : 0x8b));
	code[n++] = 0x03; /* ModRM: reg = rax, r/m = [rbx] */
	v->ops->gpa_write(v, rip, code, n);
	vcpu_set_gpr(v, GPR_RBX, gpa);
	if (write)
		vcpu_set_gpr(v, GPR_RAX, data);
}

enum fidelity replay_infer_inputs(struct engine *e, struct vctx *c, const struct exitbuf *x, uint32_t reason,
				  uint32_t *inferred, uint32_t *defaulted, const char **why)
{
	struct vmx_vcpu *v = c->v;
	const struct trc_record *r;
	uint32_t len = 0;

	default_guest_state(v, x);
	vmx_synth_set(v, VMCS_EXIT_QUALIFICATION, 0);
	vmx_synth_set(v, VMCS_VM_EXIT_INTR_INFO, 0);
	vmx_synth_set(v, VMCS_IDT_VECTORING_INFO, 0);
	vmx_synth_set(v, VMCS_VMX_INSTRUCTION_INFO, 0);
	switch (reason) {
	case EXIT_REASON_IO_INSTRUCTION: {
		static const uint32_t evs[] = { TRC_HVM_IOPORT_READ, TRC_HVM_IOPORT_WRITE };
		r = find_any(x, evs, 2);
		if (!r) {
			*why = "no IOPORT record (the exit was closed before its handler record)";
			return FID_SKIPPED;
		}
		bool in = r->event == TRC_HVM_IOPORT_READ;
		struct vmx_io_qual q = { .port = (uint16_t)r->d[0], .in = in, .size = 1 };
		if (r->n == 1) {
			/* rep ins/outs: Xen records the port only (data_is_ptr). */
			q.string = q.rep = true;
			vcpu_set_gpr(v, GPR_RCX, 1);
			vmx_synth_set(v, VMCS_VMX_INSTRUCTION_INFO, (x->rip64 ? 2u : 1u) << 7 | SEG_DS << 15);
			*defaulted |= IN_STRING | IN_SIZE;
		} else {
			q.size = (uint8_t)size_of_value(r->d[1]);
			if (q.size == 8)
				q.size = 4;
			if (!in)
				vcpu_set_gpr(v, GPR_RAX, r->d[1]);
			*inferred |= IN_SIZE;
		}
		vmx_synth_set(v, VMCS_EXIT_QUALIFICATION, vmx_io_qual_encode(&q));
		len = 1;
		*defaulted |= IN_INSN_LEN;
		break;
	}
	case EXIT_REASON_CPUID:
		if ((r = exit_find(x, TRC_HVM_CPUID))) {
			vcpu_set_gpr(v, GPR_RAX, r->d[0]);
			vcpu_set_gpr(v, GPR_RCX, r->n > 1 ? r->d[1] : 0);
		} else {
			*why = "no CPUID record";
			return FID_SKIPPED;
		}
		len = 2;
		break;
	case EXIT_REASON_MSR_READ:
	case EXIT_REASON_MSR_WRITE:
		r = exit_find(x, reason == EXIT_REASON_MSR_READ ? TRC_HVM_MSR_READ : TRC_HVM_MSR_WRITE);
		if (!r || r->n < 3) {
			*why = "no MSR record";
			return FID_SKIPPED;
		}
		vcpu_set_gpr(v, GPR_RCX, r->d[0]);
		if (reason == EXIT_REASON_MSR_WRITE) {
			vcpu_set_gpr(v, GPR_RAX, r->d[1]);
			vcpu_set_gpr(v, GPR_RDX, r->d[2]);
		}
		len = 2;
		break;
	case EXIT_REASON_CR_ACCESS: {
		struct vmx_cr_qual q = { 0 };
		if ((r = exit_find(x, TRC_HVM_CR_WRITE64)) || (r = exit_find(x, TRC_HVM_CR_WRITE))) {
			q.type = CR_MOV_TO;
			q.cr = (uint8_t)r->d[0];
			q.gpr = GPR_RAX;
			vcpu_set_gpr(v, GPR_RAX, r->n >= 3 ? u64(r->d + 1) : r->d[1]);
			*inferred |= IN_GPR;
		} else if ((r = exit_find(x, TRC_HVM_CR_READ64)) || (r = exit_find(x, TRC_HVM_CR_READ))) {
			q.type = CR_MOV_FROM;
			q.cr = (uint8_t)r->d[0];
			q.gpr = GPR_RAX;
			*inferred |= IN_GPR;
		} else if (exit_find(x, TRC_HVM_CLTS)) {
			q.type = CR_CLTS;
		} else if ((r = exit_find(x, TRC_HVM_LMSW)) || (r = exit_find(x, TRC_HVM_LMSW64))) {
			q.type = CR_LMSW;
			q.lmsw_source = (uint16_t)r->d[0];
		} else {
			*why = "no CR record";
			return FID_SKIPPED;
		}
		vmx_synth_set(v, VMCS_EXIT_QUALIFICATION, vmx_cr_qual_encode(&q));
		len = 3;
		*defaulted |= IN_INSN_LEN;
		break;
	}
	case EXIT_REASON_EPT_VIOLATION: {
		static const uint32_t evs[] = { TRC_HVM_IOMEM_READ, TRC_HVM_IOMEM_WRITE, TRC_HVM_IOMEM_READ64,
						TRC_HVM_IOMEM_WRITE64 };
		const struct trc_record *npf = exit_find(x, TRC_HVM_NPF);
		r = find_any(x, evs, 4);
		if (!r) {
			*why = npf ? "not MMIO (no IOMEM record after the NPF)" : "no NPF or IOMEM record";
			return FID_SKIPPED;
		}
		bool wide = r->event & TRC_64_FLAG, write = r->event & TRC_HVM_IOWRITE_FLAG;
		uint64_t gpa = wide ? u64(r->d) : r->d[0];
		uint64_t data = wide ? (r->n >= 4 ? u64(r->d + 2) : 0) : (r->n >= 2 ? r->d[1] : 0);
		vmx_synth_set(v, VMCS_GUEST_PHYSICAL_ADDRESS, gpa);
		vmx_synth_set(v, VMCS_EXIT_QUALIFICATION, npf && npf->n >= 5 ? npf->d[4] : (write ? 0x182u : 0x181u));
		synthesize_mmio(v, x->rip, gpa, write, data, size_of_value(data));
		*inferred |= IN_MMIO_INSN | IN_SIZE;
		if (!npf)
			*defaulted |= IN_QUAL;
		break;
	}
	case EXIT_REASON_EXTERNAL_INTERRUPT:
		if ((r = exit_find(x, TRC_HVM_INTR)))
			vmx_synth_set(v, VMCS_VM_EXIT_INTR_INFO, 0x80000000u | (r->d[0] & 0xff));
		break;
	case EXIT_REASON_EXCEPTION_NMI:
		if ((r = exit_find(x, TRC_HVM_PF_XEN64)) || (r = exit_find(x, TRC_HVM_PF_XEN))) {
			vmx_synth_set(v, VMCS_VM_EXIT_INTR_INFO, 0x80000b0eu);
			vmx_synth_set(v, VMCS_VM_EXIT_INTR_ERROR_CODE, r->d[0]);
			vmx_synth_set(v, VMCS_EXIT_QUALIFICATION, r->n >= 3 ? u64(r->d + 1) : r->d[1]);
		} else if ((r = exit_find(x, TRC_HVM_TRAP))) {
			vmx_synth_set(v, VMCS_VM_EXIT_INTR_INFO, 0x80000300u | (r->d[0] & 0xff));
		} else if (exit_find(x, TRC_HVM_NMI)) {
			vmx_synth_set(v, VMCS_VM_EXIT_INTR_INFO, 0x80000202u);
		} else {
			*why = "no TRAP, PF or NMI record";
			return FID_SKIPPED;
		}
		break;
	case EXIT_REASON_VMCALL:
		if ((r = exit_find(x, TRC_HVM_VMMCALL)))
			vcpu_set_gpr(v, GPR_RAX, r->d[0]);
		else
			*defaulted |= IN_DATA;
		len = 3;
		break;
	case EXIT_REASON_RDTSC:
	case EXIT_REASON_RDTSCP:
		if ((r = exit_find(x, TRC_HVM_RDTSC)) && r->n >= 2)
			e->tsc_now = u64(r->d);
		len = reason == EXIT_REASON_RDTSC ? 2 : 3;
		break;
	case EXIT_REASON_INVLPG:
		if ((r = exit_find(x, TRC_HVM_INVLPG64)) && r->n >= 3)
			vmx_synth_set(v, VMCS_EXIT_QUALIFICATION, u64(r->d + 1));
		else if ((r = exit_find(x, TRC_HVM_INVLPG)) && r->n >= 2)
			vmx_synth_set(v, VMCS_EXIT_QUALIFICATION, r->d[1]);
		else
			*defaulted |= IN_QUAL;
		len = 3;
		*defaulted |= IN_INSN_LEN;
		break;
	case EXIT_REASON_XSETBV:
		if ((r = exit_find(x, TRC_HVM_XCR_WRITE64)) && r->n >= 3) {
			vcpu_set_gpr(v, GPR_RCX, r->d[0]);
			vcpu_set_gpr(v, GPR_RAX, r->d[1]);
			vcpu_set_gpr(v, GPR_RDX, r->d[2]);
		} else {
			*why = "no XCR record";
			return FID_SKIPPED;
		}
		len = 3;
		break;
	case EXIT_REASON_HLT:
		len = 1;
		break;
	/* Exits no instruction caused: nothing to advance over. */
	case EXIT_REASON_INTERRUPT_WINDOW:
	case EXIT_REASON_NMI_WINDOW:
	case EXIT_REASON_TRIPLE_FAULT:
	case EXIT_REASON_INIT_SIGNAL:
	case EXIT_REASON_SIPI:
	case EXIT_REASON_MONITOR_TRAP_FLAG:
	case EXIT_REASON_PREEMPTION_TIMER:
	case EXIT_REASON_TPR_BELOW_THRESHOLD:
	case EXIT_REASON_EPT_MISCONFIG:
		break;
	default:
		len = 2;
		*defaulted |= IN_INSN_LEN;
		break;
	}
	vmx_synth_set(v, VMCS_VM_EXIT_INSTRUCTION_LEN, len);
	if (*defaulted)
		return FID_DEFAULTED;
	return *inferred ? FID_INFERRED : FID_RECORDED;
}

