/*
 * Guest page walk for handler code (SDM Vol. 3A chapter 4): translate a
 * guest-linear address with the guest's own paging structures, read from
 * guest RAM through the vcpu backend.  Shared by the live and synthetic
 * backends, so handlers behave the same under run and replay.
 *
 * Paging-structure entry (4-level / PAE, SDM Tables 4-14..4-20):
 *
 *   63  62     52 51            12 11  9 8 7  6 5 4   3   2   1  0
 *  +--+---------+----------------+-----+-+--+-+-+---+---+---+---+--+
 *  |XD| ignored |  address 51:12 | ign |G|PS|D|A|PCD|PWT|U/S|R/W| P|
 *  +--+---------+----------------+-----+-+--+-+-+---+---+---+---+--+
 */
#include <string.h>

#include <vmxlab/vcpu.h>

#define PTE_P   (1ull << 0)
#define PTE_RW  (1ull << 1)
#define PTE_US  (1ull << 2)
#define PTE_PS  (1ull << 7)
#define PTE_XD  (1ull << 63)
#define ADDR_MASK 0x000ffffffffff000ull

/* #PF error code (SDM 4.7, Figure 4-12). */
#define PFEC_P    (1u << 0)
#define PFEC_W    (1u << 1)
#define PFEC_U    (1u << 2)
#define PFEC_RSVD (1u << 3)
#define PFEC_I    (1u << 4)

struct walk_ctx {
	struct vmx_vcpu *v;
	enum vmx_access acc;
	bool user, wp, nxe;
	bool allow_write, allow_user, allow_exec; /* AND over the levels */
};

static uint32_t pfec(const struct walk_ctx *c, bool present)
{
	uint32_t e = present ? PFEC_P : 0;

	if (c->acc == VMX_ACCESS_WRITE)
		e |= PFEC_W;
	if (c->user)
		e |= PFEC_U;
	if (c->acc == VMX_ACCESS_FETCH && c->nxe)
		e |= PFEC_I;
	return e;
}

static enum vmx_walk_result fail(struct vmx_walk *w, enum vmx_walk_result r, int level, uint32_t e)
{
	w->result = r;
	w->level = level;
	w->pf_error = e;
	return r;
}

static void note_rights(struct walk_ctx *c, uint64_t e, bool has_xd)
{
	c->allow_write &= !!(e & PTE_RW);
	c->allow_user &= !!(e & PTE_US);
	if (has_xd && c->nxe && (e & PTE_XD))
		c->allow_exec = false;
}

/* Final permission check (SDM 4.6): supervisor writes to read-only pages
 * fault only with CR0.WP; user accesses need U/S at every level. */
static enum vmx_walk_result finish(struct walk_ctx *c, struct vmx_walk *w, uint64_t gpa, int level)
{
	bool bad = false;

	if (c->user && !c->allow_user)
		bad = true;
	if (c->acc == VMX_ACCESS_WRITE && !c->allow_write && (c->user || c->wp))
		bad = true;
	if (c->acc == VMX_ACCESS_FETCH && !c->allow_exec)
		bad = true;
	if (bad)
		return fail(w, WALK_PROTECTION, level, pfec(c, true));
	w->gpa = gpa;
	w->level = level;
	w->result = WALK_OK;
	w->pf_error = 0;
	return WALK_OK;
}

static int read_entry(struct walk_ctx *c, uint64_t addr, uint64_t *e, unsigned size)
{
	uint32_t e32 = 0;

	if (size == 4) {
		if (c->v->ops->gpa_read(c->v, addr, &e32, 4))
			return -1;
		*e = e32;
		return 0;
	}
	return c->v->ops->gpa_read(c->v, addr, e, 8);
}

/* 32-bit paging (SDM 4.3): two levels of 4-byte entries, 4M pages with CR4.PSE. */
static enum vmx_walk_result walk32(struct walk_ctx *c, uint64_t cr3, bool pse, uint32_t gla,
				   struct vmx_walk *w)
{
	uint64_t pde, pte;

	if (read_entry(c, (cr3 & 0xfffff000u) + ((gla >> 22) & 0x3ff) * 4, &pde, 4))
		return fail(w, WALK_BAD_TABLE, 2, 0);
	if (!(pde & PTE_P))
		return fail(w, WALK_NOT_PRESENT, 2, pfec(c, false));
	note_rights(c, pde, false);
	if (pse && (pde & PTE_PS)) {
		/* 4M page: bits 31:22 of the address in 31:22, bits 39:32 in 20:13. */
		uint64_t base = (pde & 0xffc00000u) | (((pde >> 13) & 0xff) << 32);
		return finish(c, w, base | (gla & 0x3fffff), 2);
	}
	if (read_entry(c, (pde & 0xfffff000u) + ((gla >> 12) & 0x3ff) * 4, &pte, 4))
		return fail(w, WALK_BAD_TABLE, 1, 0);
	if (!(pte & PTE_P))
		return fail(w, WALK_NOT_PRESENT, 1, pfec(c, false));
	note_rights(c, pte, false);
	return finish(c, w, (pte & 0xfffff000u) | (gla & 0xfff), 1);
}

/* PAE and 4/5-level paging (SDM 4.4, 4.5): 8-byte entries, 9 bits a level.
 * `table` is the physical address of the top table, `top` its level. */
static enum vmx_walk_result walk64(struct walk_ctx *c, uint64_t table, int top, uint64_t gla,
				   struct vmx_walk *w)
{
	for (int level = top; level >= 1; level--) {
		unsigned shift = 12 + 9 * (unsigned)(level - 1);
		uint64_t e;

		if (read_entry(c, (table & ADDR_MASK) + ((gla >> shift) & 0x1ff) * 8, &e, 8))
			return fail(w, WALK_BAD_TABLE, level, 0);
		if (!(e & PTE_P))
			return fail(w, WALK_NOT_PRESENT, level, pfec(c, false));
		if (!c->nxe && (e & PTE_XD))
			return fail(w, WALK_RESERVED, level, pfec(c, true) | PFEC_RSVD);
		note_rights(c, e, true);
		bool large = (e & PTE_PS) && (level == 2 || level == 3);
		if ((e & PTE_PS) && level > 3)
			return fail(w, WALK_RESERVED, level, pfec(c, true) | PFEC_RSVD);
		if (large || level == 1) {
			uint64_t mask = (1ull << shift) - 1;
			/* Large pages keep the PAT bit at bit 12: clear it from the frame. */
			uint64_t frame = e & ADDR_MASK & ~mask;
			return finish(c, w, frame | (gla & mask), level);
		}
		table = e;
	}
	return fail(w, WALK_RESERVED, 0, 0);
}

enum vmx_walk_result vmx_gla_to_gpa(struct vmx_vcpu *v, uint64_t gla, enum vmx_access acc,
				    bool user, struct vmx_walk *w)
{
	uint64_t cr0 = vmcs_read(v, VMCS_GUEST_CR0);
	uint64_t cr3 = vmcs_read(v, VMCS_GUEST_CR3);
	uint64_t cr4 = vmcs_read(v, VMCS_GUEST_CR4);
	uint64_t efer = vmcs_read(v, VMCS_GUEST_IA32_EFER);
	struct walk_ctx c = {
		.v = v, .acc = acc, .user = user,
		.wp = !!(cr0 & X86_CR0_WP), .nxe = !!(efer & X86_EFER_NXE),
		.allow_write = true, .allow_user = true, .allow_exec = true,
	};

	memset(w, 0, sizeof(*w));
	if (!(cr0 & X86_CR0_PG)) {
		w->gpa = gla;
		return WALK_OK;
	}
	if (!(cr4 & X86_CR4_PAE)) {
		c.nxe = false;
		return walk32(&c, cr3, !!(cr4 & X86_CR4_PSE), (uint32_t)gla, w);
	}
	if (efer & X86_EFER_LMA)
		return walk64(&c, cr3, (cr4 & X86_CR4_LA57) ? 5 : 4, gla, w);

	/* PAE: with EPT the four PDPTEs come from the VMCS (SDM 28.3.2.4 /
	 * 29.3.3), otherwise from the 32-byte table at CR3[31:5]. */
	uint32_t i = ((uint32_t)gla >> 30) & 3;
	uint64_t pdpte;
	if (vmcs_read(v, VMCS_SECONDARY_VM_EXEC_CONTROL) & CPU2_ENABLE_EPT) {
		pdpte = vmcs_read(v, VMCS_GUEST_PDPTE0 + 2 * i);
	} else if (read_entry(&c, (cr3 & 0xffffffe0u) + i * 8, &pdpte, 8)) {
		return fail(w, WALK_BAD_TABLE, 3, 0);
	}
	if (!(pdpte & PTE_P))
		return fail(w, WALK_NOT_PRESENT, 3, pfec(&c, false));
	return walk64(&c, pdpte, 2, (uint32_t)gla, w);
}

static int gla_copy(struct vmx_vcpu *v, uint64_t gla, void *buf, size_t len, bool write)
{
	uint8_t *p = buf;

	while (len) {
		struct vmx_walk w;
		size_t n = 4096 - (gla & 0xfff);
		if (n > len)
			n = len;
		if (vmx_gla_to_gpa(v, gla, write ? VMX_ACCESS_WRITE : VMX_ACCESS_READ, false, &w) != WALK_OK)
			return -1;
		int rc = write ? v->ops->gpa_write(v, w.gpa, p, n) : v->ops->gpa_read(v, w.gpa, p, n);
		if (rc)
			return -1;
		p += n;
		gla += n;
		len -= n;
	}
	return 0;
}

int vmx_gla_read(struct vmx_vcpu *v, uint64_t gla, void *buf, size_t len)
{
	return gla_copy(v, gla, buf, len, false);
}

int vmx_gla_write(struct vmx_vcpu *v, uint64_t gla, const void *buf, size_t len)
{
	return gla_copy(v, gla, (void *)buf, len, true);
}
