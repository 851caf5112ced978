/*
 * The synthetic vCPU backend: an in-memory VMCS with the access rules of
 * VMREAD/VMWRITE (SDM 31.3, "VMREAD" and "VMWRITE" operation sections), 16
 * GPRs and sparse guest RAM.  Replay fills it from trace records; unit tests
 * fill it by hand.  Handlers see it through struct vmx_vcpu_ops only.
 */
#include <stdlib.h>
#include <string.h>

#include <vmxlab/vcpu.h>

#define PAGE_SIZE 4096u
#define MAX_RAM_RANGES 16

struct synth_page {
	uint64_t pfn;
	uint8_t *data;
};

struct synth_range {
	uint64_t start, end; /* [start, end) */
};

struct synth_vcpu {
	struct vmx_vcpu vcpu;    /* first: the handle handlers get */
	uint64_t *field;         /* indexed like vmcs_field_table */
	uint64_t gpr[VREG_COUNT]; /* gpr[GPR_RSP] unused: RSP lives in GUEST_RSP */
	struct synth_range ram[MAX_RAM_RANGES];
	unsigned nram;
	struct synth_range hole[MAX_RAM_RANGES];
	unsigned nhole;
	struct synth_page *pages; /* sorted by pfn */
	size_t npages, cap;
};

static struct synth_vcpu *to_synth(struct vmx_vcpu *v)
{
	return (struct synth_vcpu *)v;
}

static uint64_t width_mask(enum vmcs_width w)
{
	switch (w) {
	case VMCS_W16:
		return 0xffffull;
	case VMCS_W32:
		return 0xffffffffull;
	default:
		return ~0ull;
	}
}

/*
 * Every access finds its slot with vmcs_field_index, a direct index by
 * encoding (vmx-model/vmcs_fields.c).  The width and type bits of a valid
 * encoding are its field's (vmcs_fields.c checks every row at compile
 * time), so they are taken from the encoding rather than the table.
 */
static int synth_read(struct vmx_vcpu *v, uint32_t enc, uint64_t *val)
{
	int i = vmcs_field_index(enc);

	if (i < 0)
		return VMXERR_UNSUPPORTED_VMCS_COMPONENT;
	uint64_t x = to_synth(v)->field[i];
	*val = VMCS_ENC_HIGH(enc) ? x >> 32 : x;
	return VMXERR_NONE;
}

static void store(struct synth_vcpu *s, int i, uint32_t enc, uint64_t val)
{
	uint64_t *slot = &s->field[i];

	if (VMCS_ENC_HIGH(enc))
		*slot = (*slot & 0xffffffffull) | (val << 32);
	else
		*slot = val & width_mask(VMCS_ENC_WIDTH(enc));
}

static int synth_write(struct vmx_vcpu *v, uint32_t enc, uint64_t val)
{
	int i = vmcs_field_index(enc);

	if (i < 0)
		return VMXERR_UNSUPPORTED_VMCS_COMPONENT;
	/* Without IA32_VMX_MISC bit 29 the exit-information fields are read-only. */
	if (VMCS_ENC_TYPE(enc) == VMCS_T_EXIT)
		return VMXERR_VMWRITE_READ_ONLY_COMPONENT;
	store(to_synth(v), i, enc, val);
	return VMXERR_NONE;
}

int vmx_synth_set(struct vmx_vcpu *v, uint32_t field, uint64_t val)
{
	int i = vmcs_field_index(field);

	if (i < 0)
		return VMXERR_UNSUPPORTED_VMCS_COMPONENT;
	store(to_synth(v), i, field, val);
	return VMXERR_NONE;
}

static uint64_t synth_gpr_read(struct vmx_vcpu *v, enum vmx_gpr r)
{
	if (r == GPR_RSP)
		return vmcs_read(v, VMCS_GUEST_RSP);
	return (unsigned)r < VREG_COUNT ? to_synth(v)->gpr[r] : 0;
}

static void synth_gpr_write(struct vmx_vcpu *v, enum vmx_gpr r, uint64_t val)
{
	if (r == GPR_RSP)
		vmx_synth_set(v, VMCS_GUEST_RSP, val);
	else if ((unsigned)r < VREG_COUNT)
		to_synth(v)->gpr[r] = val;
}

static bool is_ram(const struct synth_vcpu *s, uint64_t gpa, size_t len)
{
	if (len == 0)
		return true;
	if (gpa + len < gpa)
		return false;
	for (unsigned i = 0; i < s->nhole; i++)
		if (gpa < s->hole[i].end && gpa + len > s->hole[i].start)
			return false;
	for (unsigned i = 0; i < s->nram; i++)
		if (gpa >= s->ram[i].start && gpa + len <= s->ram[i].end)
			return true;
	return false;
}

static struct synth_page *find_page(struct synth_vcpu *s, uint64_t pfn, size_t *insert_at)
{
	size_t lo = 0, hi = s->npages;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->pages[mid].pfn == pfn)
			return &s->pages[mid];
		if (s->pages[mid].pfn < pfn)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (insert_at)
		*insert_at = lo;
	return NULL;
}

static uint8_t *page_for_write(struct synth_vcpu *s, uint64_t pfn)
{
	size_t at = 0;
	struct synth_page *p = find_page(s, pfn, &at);

	if (p)
		return p->data;
	if (s->npages == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct synth_page *np = realloc(s->pages, cap * sizeof(*np));
		if (!np)
			return NULL;
		s->pages = np;
		s->cap = cap;
	}
	uint8_t *data = calloc(1, PAGE_SIZE);
	if (!data)
		return NULL;
	memmove(&s->pages[at + 1], &s->pages[at], (s->npages - at) * sizeof(s->pages[0]));
	s->pages[at] = (struct synth_page){ pfn, data };
	s->npages++;
	return data;
}

static int synth_gpa_read(struct vmx_vcpu *v, uint64_t gpa, void *buf, size_t len)
{
	struct synth_vcpu *s = to_synth(v);
	uint8_t *out = buf;

	if (!is_ram(s, gpa, len))
		return -1;
	while (len) {
		size_t off = gpa % PAGE_SIZE, n = PAGE_SIZE - off;
		if (n > len)
			n = len;
		struct synth_page *p = find_page(s, gpa / PAGE_SIZE, NULL);
		if (p)
			memcpy(out, p->data + off, n);
		else
			memset(out, 0, n);
		out += n;
		gpa += n;
		len -= n;
	}
	return 0;
}

static int synth_gpa_write(struct vmx_vcpu *v, uint64_t gpa, const void *buf, size_t len)
{
	struct synth_vcpu *s = to_synth(v);
	const uint8_t *in = buf;

	if (!is_ram(s, gpa, len))
		return -1;
	while (len) {
		size_t off = gpa % PAGE_SIZE, n = PAGE_SIZE - off;
		if (n > len)
			n = len;
		uint8_t *page = page_for_write(s, gpa / PAGE_SIZE);
		if (!page)
			return -1;
		memcpy(page + off, in, n);
		in += n;
		gpa += n;
		len -= n;
	}
	return 0;
}

static const struct vmx_vcpu_ops synth_ops = {
	.vmread = synth_read,
	.vmwrite = synth_write,
	.gpr_read = synth_gpr_read,
	.gpr_write = synth_gpr_write,
	.gpa_read = synth_gpa_read,
	.gpa_write = synth_gpa_write,
};

struct vmx_vcpu *vmx_synth_create(unsigned id)
{
	struct synth_vcpu *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->field = calloc(vmcs_field_count, sizeof(s->field[0]));
	if (!s->field) {
		free(s);
		return NULL;
	}
	s->vcpu.ops = &synth_ops;
	s->vcpu.id = id;
	return &s->vcpu;
}

void vmx_synth_destroy(struct vmx_vcpu *v)
{
	struct synth_vcpu *s = to_synth(v);

	if (!s)
		return;
	for (size_t i = 0; i < s->npages; i++)
		free(s->pages[i].data);
	free(s->pages);
	free(s->field);
	free(s);
}

int vmx_synth_add_ram(struct vmx_vcpu *v, uint64_t gpa, uint64_t len)
{
	struct synth_vcpu *s = to_synth(v);

	if (len == 0 || gpa + len < gpa || s->nram == MAX_RAM_RANGES)
		return -1;
	s->ram[s->nram++] = (struct synth_range){ gpa, gpa + len };
	return 0;
}

int vmx_synth_add_hole(struct vmx_vcpu *v, uint64_t gpa, uint64_t len)
{
	struct synth_vcpu *s = to_synth(v);

	if (len == 0 || gpa + len < gpa || s->nhole == MAX_RAM_RANGES)
		return -1;
	s->hole[s->nhole++] = (struct synth_range){ gpa, gpa + len };
	return 0;
}

void vmx_synth_clear(struct vmx_vcpu *v)
{
	struct synth_vcpu *s = to_synth(v);

	memset(s->field, 0, vmcs_field_count * sizeof(s->field[0]));
	memset(s->gpr, 0, sizeof(s->gpr));
}
