/*
 * VMCALL: the vmxlab hypercall ABI (include/vmxlab/hypercall.h,
 * docs/hypercalls.md).  RAX = number, RBX/RCX = arguments, RAX = result.
 */
#include <vmxlab/hypercall.h>

#include "hv_priv.h"

static int64_t hc_console(struct hv *hv, struct vmx_vcpu *v)
{
	uint64_t gla = vcpu_gpr(v, GPR_RBX), len = vcpu_gpr(v, GPR_RCX);
	char buf[VMXLAB_HC_CONSOLE_MAX];

	if (len > VMXLAB_HC_CONSOLE_MAX)
		return VMXLAB_HC_EINVAL;
	if (vmx_gla_read(v, gla, buf, (size_t)len))
		return VMXLAB_HC_EFAULT;
	if (hv->host->console)
		hv->host->console(hv->host->ctx, buf, (size_t)len);
	return 0;
}

enum exit_result handle_vmcall(struct hv *hv, struct vmx_vcpu *v, uint32_t reason)
{
	uint64_t nr = vcpu_gpr(v, GPR_RAX);
	int64_t ret;

	(void)reason;
	hv_trace(hv, TRC_HVM_VMMCALL, 1, (uint32_t)nr);
	switch (nr) {
	case VMXLAB_HC_CONSOLE:
		ret = hc_console(hv, v);
		break;
	case VMXLAB_HC_EXIT:
		hv->out->status = (int)(int32_t)vcpu_gpr(v, GPR_RBX);
		return EXIT_GUEST_EXIT;
	case VMXLAB_HC_PHASE:
		if (hv->host->phase)
			hv->host->phase(hv->host->ctx, (uint32_t)vcpu_gpr(v, GPR_RBX));
		ret = 0;
		break;
	default:
		ret = VMXLAB_HC_ENOSYS;
		break;
	}
	vcpu_set_gpr(v, GPR_RAX, (uint64_t)ret);
	return EXIT_ADVANCE;
}
