/*
 * The recording vCPU (vm.h).  Reads pass through to the live vCPU and
 * are remembered the first time each field, register or memory range is read
 * in an exit; writes pass through untouched (with the debugger's log on,
 * every read and write is also logged in order).  A handler that reads a value
 * after writing it is replayed correctly too: replay sets the remembered
 * value before the handler runs, and the handler's own write comes first.
 */
#include <stdlib.h>
#include <string.h>

#include <vmxlab/trace.h>

#include "vm.h"

struct mem_read {
	uint64_t gpa;
	uint32_t len;
	uint32_t off;          /* into bytes[]; FAILED: the read failed */
};
#define FAILED UINT32_MAX

struct input_rec {
	struct vmx_vcpu vcpu;  /* first: handed to the handler */
	struct vmx_vcpu *live;
	uint32_t fields[128];
	uint64_t field_val[128];
	unsigned nfields;
	uint32_t regs_seen;    /* bit per enum vmx_gpr */
	uint64_t reg_val[VREG_COUNT];
	struct mem_read *mem;
	unsigned nmem, capmem;
	uint8_t *bytes;
	size_t nbytes, capbytes;
	/* the debugger's log (vm.h) */
	struct input_access *log;
	unsigned nlog;
	bool log_truncated;
};

static struct input_rec *of(struct vmx_vcpu *v)
{
	return (struct input_rec *)v;
}

static struct input_access *log_add(struct input_rec *r, enum input_access_kind kind, uint32_t id)
{
	if (!r->log)
		return NULL;
	if (r->nlog == INPUT_LOG_MAX) {
		r->log_truncated = true;
		return NULL;
	}
	struct input_access *a = &r->log[r->nlog++];
	memset(a, 0, sizeof(*a));
	a->kind = (uint8_t)kind;
	a->id = id;
	return a;
}

static void log_mem(struct input_rec *r, enum input_access_kind kind, uint64_t gpa, const void *buf, size_t len,
		    int rc)
{
	struct input_access *a = log_add(r, kind, 0);

	if (!a)
		return;
	a->gpa = gpa;
	a->len = (uint32_t)len;
	a->rc = rc;
	if (rc == 0)
		memcpy(a->bytes, buf, len < INPUT_ACC_BYTES ? len : INPUT_ACC_BYTES);
}

static int r_vmread(struct vmx_vcpu *v, uint32_t field, uint64_t *val)
{
	struct input_rec *r = of(v);
	int rc = r->live->ops->vmread(r->live, field, val);
	struct input_access *a = log_add(r, INPUT_ACC_VMREAD, field);

	if (a) {
		a->rc = rc;
		a->val = rc == VMXERR_NONE ? *val : 0;
	}
	if (rc != VMXERR_NONE)
		return rc;
	for (unsigned i = 0; i < r->nfields; i++)
		if (r->fields[i] == field)
			return rc;
	if (r->nfields < sizeof(r->fields) / sizeof(r->fields[0])) {
		r->fields[r->nfields] = field;
		r->field_val[r->nfields++] = *val;
	}
	return rc;
}

static int r_vmwrite(struct vmx_vcpu *v, uint32_t field, uint64_t val)
{
	struct input_rec *r = of(v);
	uint64_t old = 0;

	if (r->log && r->live->ops->vmread(r->live, field, &old) != VMXERR_NONE)
		old = 0;
	int rc = r->live->ops->vmwrite(r->live, field, val);
	struct input_access *a = log_add(r, INPUT_ACC_VMWRITE, field);
	if (a) {
		a->rc = rc;
		a->old = old;
		a->val = val;
	}
	return rc;
}

static uint64_t r_gpr_read(struct vmx_vcpu *v, enum vmx_gpr g)
{
	struct input_rec *r = of(v);
	uint64_t x = r->live->ops->gpr_read(r->live, g);
	struct input_access *a = log_add(r, INPUT_ACC_REG_READ, (uint32_t)g);

	if (a)
		a->val = x;
	if ((unsigned)g < VREG_COUNT && !(r->regs_seen & (1u << g))) {
		r->regs_seen |= 1u << g;
		r->reg_val[g] = x;
	}
	return x;
}

static void r_gpr_write(struct vmx_vcpu *v, enum vmx_gpr g, uint64_t val)
{
	struct input_rec *r = of(v);
	uint64_t old = r->log ? r->live->ops->gpr_read(r->live, g) : 0;
	struct input_access *a = log_add(r, INPUT_ACC_REG_WRITE, (uint32_t)g);

	if (a) {
		a->old = old;
		a->val = val;
	}
	r->live->ops->gpr_write(r->live, g, val);
}

/* buf NULL: the read failed (not RAM). */
static void remember_mem(struct input_rec *r, uint64_t gpa, const void *buf, size_t len)
{
	for (unsigned i = 0; i < r->nmem; i++)
		if (r->mem[i].gpa == gpa && r->mem[i].len == len)
			return;
	if (!buf)
		len = 0;
	if (r->nmem == r->capmem) {
		unsigned cap = r->capmem ? r->capmem * 2 : 64;
		struct mem_read *m = realloc(r->mem, cap * sizeof(*m));
		if (!m)
			return;
		r->mem = m;
		r->capmem = cap;
	}
	if (r->nbytes + len > r->capbytes) {
		size_t cap = r->capbytes ? r->capbytes * 2 : 4096;
		while (cap < r->nbytes + len)
			cap *= 2;
		uint8_t *b = realloc(r->bytes, cap);
		if (!b)
			return;
		r->bytes = b;
		r->capbytes = cap;
	}
	if (!buf) {
		r->mem[r->nmem++] = (struct mem_read){ gpa, 0, FAILED };
		return;
	}
	memcpy(r->bytes + r->nbytes, buf, len);
	r->mem[r->nmem++] = (struct mem_read){ gpa, (uint32_t)len, (uint32_t)r->nbytes };
	r->nbytes += len;
}

static int r_gpa_read(struct vmx_vcpu *v, uint64_t gpa, void *buf, size_t len)
{
	struct input_rec *r = of(v);
	int rc = r->live->ops->gpa_read(r->live, gpa, buf, len);

	remember_mem(r, gpa, rc == 0 ? buf : NULL, len);
	log_mem(r, INPUT_ACC_MEM_READ, gpa, buf, len, rc);
	return rc;
}

static int r_gpa_write(struct vmx_vcpu *v, uint64_t gpa, const void *buf, size_t len)
{
	struct input_rec *r = of(v);
	int rc = r->live->ops->gpa_write(r->live, gpa, buf, len);

	log_mem(r, INPUT_ACC_MEM_WRITE, gpa, buf, len, rc);
	return rc;
}

static const struct vmx_vcpu_ops rec_ops = {
	.vmread = r_vmread, .vmwrite = r_vmwrite, .gpr_read = r_gpr_read, .gpr_write = r_gpr_write,
	.gpa_read = r_gpa_read, .gpa_write = r_gpa_write,
};

struct input_rec *input_rec_new(struct vmx_vcpu *live)
{
	struct input_rec *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->vcpu.ops = &rec_ops;
	r->vcpu.id = live->id;
	r->live = live;
	return r;
}

void input_rec_free(struct input_rec *r)
{
	if (!r)
		return;
	free(r->mem);
	free(r->bytes);
	free(r->log);
	free(r);
}

struct vmx_vcpu *input_rec_vcpu(struct input_rec *r)
{
	return &r->vcpu;
}

void input_rec_begin(struct input_rec *r)
{
	r->nfields = 0;
	r->regs_seen = 0;
	r->nmem = 0;
	r->nbytes = 0;
	r->nlog = 0;
	r->log_truncated = false;
}

int input_rec_set_log(struct input_rec *r, bool on)
{
	if (!on) {
		free(r->log);
		r->log = NULL;
	} else if (!r->log && !(r->log = calloc(INPUT_LOG_MAX, sizeof(*r->log)))) {
		return -1;
	}
	r->nlog = 0;
	r->log_truncated = false;
	return 0;
}

const struct input_access *input_rec_log(const struct input_rec *r, unsigned *n, bool *truncated)
{
	*n = r->nlog;
	if (truncated)
		*truncated = r->log_truncated;
	return r->log;
}

void input_rec_retarget(struct input_rec *r, struct vmx_vcpu *live)
{
	r->live = live;
	r->vcpu.id = live->id;
}

/* Triples (id, lo, hi), two per record. */
static void put_pairs(input_put_fn put, void *ctx, uint32_t event, const uint32_t *ids, const uint64_t *vals,
		      unsigned n)
{
	for (unsigned i = 0; i < n; i += 2) {
		uint32_t w[6];
		unsigned k = 0;
		for (unsigned j = i; j < n && j < i + 2; j++) {
			w[k++] = ids[j];
			w[k++] = (uint32_t)vals[j];
			w[k++] = (uint32_t)(vals[j] >> 32);
		}
		put(ctx, event, w, k);
	}
}

void input_rec_emit(struct input_rec *r, input_put_fn put, void *ctx)
{
	uint32_t ids[VREG_COUNT];
	uint64_t vals[VREG_COUNT];
	unsigned n = 0;

	put_pairs(put, ctx, TRC_VMXLAB_VMCS_READ, r->fields, r->field_val, r->nfields);
	for (unsigned g = 0; g < VREG_COUNT; g++)
		if (r->regs_seen & (1u << g)) {
			ids[n] = g;
			vals[n++] = r->reg_val[g];
		}
	put_pairs(put, ctx, TRC_VMXLAB_REG_READ, ids, vals, n);
	for (unsigned i = 0; i < r->nmem; i++) {
		const struct mem_read *m = &r->mem[i];
		if (m->off == FAILED) {
			uint32_t w[2] = { (uint32_t)m->gpa, (uint32_t)(m->gpa >> 32) };
			put(ctx, TRC_VMXLAB_MEM_FAIL, w, 2);
			continue;
		}
		for (uint32_t off = 0; off < m->len; off += 16) {
			uint32_t w[7] = { (uint32_t)(m->gpa + off), (uint32_t)((m->gpa + off) >> 32) };
			uint32_t chunk = m->len - off < 16 ? m->len - off : 16;
			w[2] = chunk;
			memcpy(&w[3], r->bytes + m->off + off, chunk);
			put(ctx, TRC_VMXLAB_MEM_READ, w, 3 + (chunk + 3) / 4);
		}
	}
}
