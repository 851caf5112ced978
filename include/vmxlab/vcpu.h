/*
 * vcpu.h - what exit-handler code is compiled against: one virtual CPU seen
 * through VMREAD/VMWRITE, its general-purpose registers and guest memory.
 *
 * Two backends implement struct vmx_vcpu_ops:
 *   live       sim/ - the Bochs CPU's own VMCS, live GPRs and guest RAM
 *   synthetic  vmx-model/synth.c - an in-memory VMCS filled by replay/tests
 * Handlers (hv/) call only these functions, so the same handler binary runs
 * under `vmxlab run` and `vmxlab replay` unchanged.  The guest page walk
 * (vmx_gla_to_gpa) is shared by both backends and lives in vmx-model/.
 */
#ifndef VMXLAB_VCPU_H
#define VMXLAB_VCPU_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vmx.h"

struct vmx_vcpu;

struct vmx_vcpu_ops {
	/* VMREAD (SDM 31.3): 16- and 32-bit fields are zero-extended; a "_HIGH"
	 * encoding (bit 0 set) of a 64-bit field reads its upper 32 bits.
	 * Returns VMXERR_NONE or VMXERR_UNSUPPORTED_VMCS_COMPONENT. */
	int (*vmread)(struct vmx_vcpu *v, uint32_t field, uint64_t *val);
	/* VMWRITE: truncates to the field width; exit-information fields give
	 * VMXERR_VMWRITE_READ_ONLY_COMPONENT, unknown ones
	 * VMXERR_UNSUPPORTED_VMCS_COMPONENT. */
	int (*vmwrite)(struct vmx_vcpu *v, uint32_t field, uint64_t val);
	/* GPRs and the REG_* registers outside the VMCS (vmx.h); GPR_RSP
	 * reads/writes GUEST_RSP. */
	uint64_t (*gpr_read)(struct vmx_vcpu *v, enum vmx_gpr r);
	void (*gpr_write)(struct vmx_vcpu *v, enum vmx_gpr r, uint64_t val);
	/* Guest-physical RAM.  0 on success, -1 when any byte is not RAM
	 * (unmapped or MMIO); nothing is transferred then. */
	int (*gpa_read)(struct vmx_vcpu *v, uint64_t gpa, void *buf, size_t len);
	int (*gpa_write)(struct vmx_vcpu *v, uint64_t gpa, const void *buf, size_t len);
};

struct vmx_vcpu {
	const struct vmx_vcpu_ops *ops;
	unsigned id;
};

static inline int vcpu_vmread(struct vmx_vcpu *v, uint32_t f, uint64_t *val)
{
	return v->ops->vmread(v, f, val);
}

static inline int vcpu_vmwrite(struct vmx_vcpu *v, uint32_t f, uint64_t val)
{
	return v->ops->vmwrite(v, f, val);
}

/* For fields the handler knows exist: an error reads as 0. */
static inline uint64_t vmcs_read(struct vmx_vcpu *v, uint32_t f)
{
	uint64_t val = 0;
	if (v->ops->vmread(v, f, &val) != VMXERR_NONE)
		return 0;
	return val;
}

static inline uint64_t vcpu_gpr(struct vmx_vcpu *v, enum vmx_gpr r)
{
	return v->ops->gpr_read(v, r);
}

static inline void vcpu_set_gpr(struct vmx_vcpu *v, enum vmx_gpr r, uint64_t val)
{
	v->ops->gpr_write(v, r, val);
}

/*
 * Guest page walk (SDM Vol. 3A ch. 4) using GUEST_CR0/CR3/CR4/IA32_EFER from
 * the VMCS and guest RAM through gpa_read: no paging, 32-bit (4M pages with
 * CR4.PSE), PAE, 4-level and 5-level.  Accessed/dirty bits are not set.
 */
enum vmx_access { VMX_ACCESS_READ = 0, VMX_ACCESS_WRITE = 1, VMX_ACCESS_FETCH = 2 };
enum vmx_walk_result {
	WALK_OK = 0,
	WALK_NOT_PRESENT,   /* a #PF the guest would take: P = 0 */
	WALK_PROTECTION,    /* a #PF for a write to a read-only page (CR0.WP) or NX fetch */
	WALK_RESERVED,      /* a reserved bit set in a paging entry */
	WALK_BAD_TABLE,     /* a paging structure lies outside guest RAM */
};
struct vmx_walk {
	uint64_t gpa;
	enum vmx_walk_result result;
	int level;          /* level of the entry that ended the walk */
	uint32_t pf_error;  /* #PF error code the guest would see */
};
enum vmx_walk_result vmx_gla_to_gpa(struct vmx_vcpu *v, uint64_t gla, enum vmx_access acc,
				    bool user, struct vmx_walk *w);
/* Copy between guest-linear memory and a buffer, page by page.  0 or -1. */
int vmx_gla_read(struct vmx_vcpu *v, uint64_t gla, void *buf, size_t len);
int vmx_gla_write(struct vmx_vcpu *v, uint64_t gla, const void *buf, size_t len);

/*
 * The VMCS as text, grouped like Linux KVM's dump_vmcs(): guest state, host
 * state, controls, exit information.  For fallback handlers and the debugger.
 */
enum vmx_dump_group {
	DUMP_GUEST = 1, DUMP_HOST = 2, DUMP_CONTROLS = 4, DUMP_EXIT_INFO = 8, DUMP_ALL = 15,
};
void vmx_dump_vmcs(struct vmx_vcpu *v, unsigned groups, FILE *out);

/*
 * The synthetic backend: an in-memory VMCS with the SDM's access rules, 16
 * GPRs and sparse guest RAM.  Replay and unit tests create one per vCPU.
 */
struct vmx_vcpu *vmx_synth_create(unsigned id);
void vmx_synth_destroy(struct vmx_vcpu *v);
/* What the processor does on a VM exit: set any field, read-only ones too. */
int vmx_synth_set(struct vmx_vcpu *v, uint32_t field, uint64_t val);
/* Declare [gpa, gpa+len) as RAM (zero-filled, pages allocated on first
 * write).  Fails with -1 if len is 0 or the range wraps. */
int vmx_synth_add_ram(struct vmx_vcpu *v, uint64_t gpa, uint64_t len);
/* Carve [gpa, gpa+len) out of RAM again: accesses there fail as MMIO does.
 * At most 16 such holes; -1 beyond that or for an empty/wrapping range. */
int vmx_synth_add_hole(struct vmx_vcpu *v, uint64_t gpa, uint64_t len);
/* Forget every field value (all read as 0 again) and the GPRs; RAM stays. */
void vmx_synth_clear(struct vmx_vcpu *v);

#endif
