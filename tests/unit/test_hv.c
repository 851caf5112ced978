/*
 * The reference handler build (hv/) driven through the synthetic vCPU: each
 * case sets up an exit the way the processor would, calls handle_exit, and
 * checks the VMCS, GPRs, devices, injected events and trace records.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include <vmxlab/hv.h>
#include <vmxlab/hypercall.h>
#include <vmxlab/trace.h>

#include "../../hv/hv_priv.h" /* the build's own counters and record id */

extern const struct vmxlab_hv vmxlab_hv;

/* ------------------------------------------------------------ fake devices */

struct testdev {
	uint8_t port_regs[8];
	uint8_t mmio[0x1000];
	unsigned writes, reads;
	uint64_t last_off, last_val;
	unsigned last_size;
};

static uint32_t td_pio_read(void *s, unsigned range, uint16_t off, unsigned size)
{
	struct testdev *d = s;
	uint32_t v = 0;
	(void)range;
	for (unsigned i = 0; i < size && off + i < 8; i++)
		v |= (uint32_t)d->port_regs[off + i] << (8 * i);
	d->reads++;
	return v;
}

static void td_pio_write(void *s, unsigned range, uint16_t off, unsigned size, uint32_t val)
{
	struct testdev *d = s;
	(void)range;
	for (unsigned i = 0; i < size && off + i < 8; i++)
		d->port_regs[off + i] = (uint8_t)(val >> (8 * i));
	d->writes++;
	d->last_off = off;
	d->last_val = val;
	d->last_size = size;
}

static uint64_t td_mmio_read(void *s, unsigned range, uint64_t off, unsigned size)
{
	struct testdev *d = s;
	uint64_t v = 0;
	(void)range;
	for (unsigned i = 0; i < size && off + i < sizeof(d->mmio); i++)
		v |= (uint64_t)d->mmio[off + i] << (8 * i);
	d->reads++;
	return v;
}

static void td_mmio_write(void *s, unsigned range, uint64_t off, unsigned size, uint64_t val)
{
	struct testdev *d = s;
	(void)range;
	for (unsigned i = 0; i < size && off + i < sizeof(d->mmio); i++)
		d->mmio[off + i] = (uint8_t)(val >> (8 * i));
	d->writes++;
	d->last_off = off;
	d->last_val = val;
	d->last_size = size;
}

static const struct vmx_dev_ops testdev_ops = {
	.name = "testdev",
	.state_size = sizeof(struct testdev),
	.pio_read = td_pio_read,
	.pio_write = td_pio_write,
	.mmio_read = td_mmio_read,
	.mmio_write = td_mmio_write,
	.nranges = 2,
	.ranges = { { .base = 0x60, .len = 8, .mmio = false }, { .base = 0xfed00000, .len = 0x1000, .mmio = true } },
};

struct fakepic {
	int pending;     /* vector or -1 */
	int acks;
};

static int fp_pending(void *s) { return ((struct fakepic *)s)->pending; }
static int fp_ack(void *s)
{
	struct fakepic *p = s;
	int v = p->pending;
	p->pending = -1;
	p->acks++;
	return v < 0 ? 0x27 : v;
}

static const struct vmx_dev_ops fakepic_ops = {
	.name = "fakepic",
	.intr_pending = fp_pending,
	.intr_ack = fp_ack,
	.nranges = 0,
};

/* ------------------------------------------------------------ fake host */

struct rec {
	uint32_t ev;
	unsigned n;
	uint32_t w[TRC_REC_MAX_EXTRA];
};

static struct {
	struct hv_host host;
	struct testdev dev;
	struct fakepic pic;
	struct vmx_dev devs[2];
	struct vmx_dev *devp[2];
	struct rec trace[512];
	unsigned ntrace;
	char console[8192];
	size_t nconsole;
	char log[8192];         /* every level */
	char log_shown[8192];   /* errors and warnings: what a host shows without VMXLAB_VERBOSE */
	vtime_t now;
	uint64_t tsc;
	int idle_rounds;        /* idle() calls before the PIC raises wake_vector */
	int wake_vector;
	unsigned idle_calls;
	unsigned phase;
	int ioreq_fail;
	unsigned nreq;
	struct vmx_ioreq last_req;
} H;

static void h_trace(void *ctx, uint32_t ev, const uint32_t *w, unsigned n)
{
	(void)ctx;
	if (H.ntrace < 512) {
		H.trace[H.ntrace].ev = ev;
		H.trace[H.ntrace].n = n;
		memcpy(H.trace[H.ntrace].w, w, n * sizeof(uint32_t));
		H.ntrace++;
	}
}

static void h_console(void *ctx, const char *b, size_t n)
{
	(void)ctx;
	memcpy(H.console + H.nconsole, b, n);
	H.nconsole += n;
}

static void h_log(void *ctx, int level, const char *fmt, va_list ap)
{
	size_t n = strlen(H.log);
	va_list copy;
	(void)ctx;
	va_copy(copy, ap);
	vsnprintf(H.log + n, sizeof(H.log) - n, fmt, ap);
	if (level < 2) {
		n = strlen(H.log_shown);
		vsnprintf(H.log_shown + n, sizeof(H.log_shown) - n, fmt, copy);
	}
	va_end(copy);
}

static vtime_t h_now(void *ctx) { (void)ctx; return H.now; }
static uint64_t h_tsc(void *ctx) { (void)ctx; return H.tsc; }
static void h_phase(void *ctx, uint32_t p) { (void)ctx; H.phase = p; }

static vtime_t h_idle(void *ctx)
{
	(void)ctx;
	H.idle_calls++;
	if (H.idle_rounds < 0)
		return (vtime_t)-1;
	H.now += 1000000;
	if (--H.idle_rounds <= 0)
		H.pic.pending = H.wake_vector;
	return H.now;
}

/* The device-model side of a dm-placed device: call the device in-process. */
static int h_ioreq(void *ctx, struct vmx_dev *dev, struct vmx_ioreq *req)
{
	(void)ctx;
	H.nreq++;
	H.last_req = *req;
	if (H.ioreq_fail)
		return -1;
	if (req->type == IOREQ_PIO && req->dir)
		req->data = dev->ops->pio_read(&H.dev, req->range, (uint16_t)req->addr, req->size);
	else if (req->type == IOREQ_PIO)
		dev->ops->pio_write(&H.dev, req->range, (uint16_t)req->addr, req->size, (uint32_t)req->data);
	else if (req->type == IOREQ_MMIO && req->dir)
		req->data = dev->ops->mmio_read(&H.dev, req->range, req->addr, req->size);
	else if (req->type == IOREQ_MMIO)
		dev->ops->mmio_write(&H.dev, req->range, req->addr, req->size, req->data);
	return 0;
}

/* ------------------------------------------------------------ the machine */

static struct vmx_vcpu *v;
static void *hv;
static struct hv_exit out;

#define CODE 0x10000ull
#define MMIO 0xfed00000ull

static void *make_hv(const char *options, enum vmx_placement placement)
{
	char err[256] = "";
	void *h;

	H.host.options = options;
	H.devs[0] = (struct vmx_dev){ &testdev_ops, &H.dev, placement, 0 };
	h = vmxlab_hv.init(&H.host, err, sizeof(err));
	if (!h)
		print_message("init: %s\n", err);
	return h;
}

static int setup_with(const char *options, enum vmx_placement placement)
{
	memset(&H, 0, sizeof(H));
	H.pic.pending = -1;
	H.host = (struct hv_host){
		.ctx = &H, .ndevs = 2, .devs = H.devp, .ioreq = h_ioreq, .now = h_now, .tsc = h_tsc,
		.idle = h_idle, .trace = h_trace, .console = h_console, .phase = h_phase, .log = h_log,
	};
	H.devs[1] = (struct vmx_dev){ &fakepic_ops, &H.pic, PLACE_HV, 1 };
	H.devp[0] = &H.devs[0];
	H.devp[1] = &H.devs[1];
	v = vmx_synth_create(0);
	vmx_synth_add_ram(v, 0, 16 << 20);
	/* 64-bit mode, identity map of the first 4 GiB with 1G pages (PML4 at
	 * 0x1000, PDPT at 0x2000). */
	uint64_t pml4 = 0x2000 | 3, pdpt[4];
	for (unsigned i = 0; i < 4; i++)
		pdpt[i] = ((uint64_t)i << 30) | 0x83;
	v->ops->gpa_write(v, 0x1000, &pml4, 8);
	v->ops->gpa_write(v, 0x2000, pdpt, sizeof(pdpt));
	vcpu_vmwrite(v, VMCS_GUEST_CR0, X86_CR0_PE | X86_CR0_PG | X86_CR0_NE | X86_CR0_ET);
	vcpu_vmwrite(v, VMCS_GUEST_CR3, 0x1000);
	vcpu_vmwrite(v, VMCS_GUEST_CR4, X86_CR4_PAE | X86_CR4_VMXE);
	vcpu_vmwrite(v, VMCS_GUEST_IA32_EFER, X86_EFER_LME | X86_EFER_LMA);
	vcpu_vmwrite(v, VMCS_VM_ENTRY_CONTROLS, ENTRY_IA32E_MODE_GUEST);
	vcpu_vmwrite(v, VMCS_GUEST_CS_AR_BYTES, 0xa09b);
	vcpu_vmwrite(v, VMCS_GUEST_RFLAGS, 0x2);
	vcpu_vmwrite(v, VMCS_GUEST_RIP, CODE);
	hv = make_hv(options, placement);
	return hv ? 0 : -1;
}

static int setup(void **state)
{
	(void)state;
	return setup_with(NULL, PLACE_HV);
}

static int setup_dm(void **state)
{
	(void)state;
	return setup_with(NULL, PLACE_DM);
}

static int teardown(void **state)
{
	(void)state;
	vmxlab_hv.fini(hv);
	vmx_synth_destroy(v);
	return 0;
}

/* What the processor does on a VM exit. */
static void exit_with(uint32_t reason, uint64_t qual, uint32_t len)
{
	vmx_synth_set(v, VMCS_VM_EXIT_REASON, reason);
	vmx_synth_set(v, VMCS_EXIT_QUALIFICATION, qual);
	vmx_synth_set(v, VMCS_VM_EXIT_INSTRUCTION_LEN, len);
	vmx_synth_set(v, VMCS_IDT_VECTORING_INFO, 0);
	vcpu_vmwrite(v, VMCS_VM_ENTRY_INTR_INFO, 0);
	H.ntrace = 0;
}

static enum hv_verdict run_exit(void)
{
	memset(&out, 0, sizeof(out));
	return vmxlab_hv.handle_exit(hv, v, &out);
}

static void put_code(const uint8_t *bytes, size_t n)
{
	assert_int_equal(v->ops->gpa_write(v, CODE, bytes, n), 0);
}

static const struct rec *find_rec(uint32_t ev)
{
	for (unsigned i = 0; i < H.ntrace; i++)
		if (H.trace[i].ev == ev)
			return &H.trace[i];
	return NULL;
}

static uint64_t rip(void) { return vmcs_read(v, VMCS_GUEST_RIP); }
static uint64_t entry_info(void) { return vmcs_read(v, VMCS_VM_ENTRY_INTR_INFO); }

/* ------------------------------------------------------------ port I/O */

struct io_case {
	const char *name;
	uint64_t qual;
	uint64_t rax_before;
	uint8_t regs[8];
	uint64_t rax_after;
	uint8_t regs_after[8];
};

static const struct io_case io_cases[] = {
	{ "OUT 0x60, AL", 0x600040, 0x1122334455667788ull, { 0 }, 0x1122334455667788ull, { 0x88 } },
	{ "OUT DX=0x62, AX", 0x620001, 0xbeef, { 0 }, 0xbeef, { 0, 0, 0xef, 0xbe } },
	{ "OUT DX=0x64, EAX", 0x640003, 0xffffffffa1b2c3d4ull, { 0 }, 0xffffffffa1b2c3d4ull, { 0, 0, 0, 0, 0xd4, 0xc3, 0xb2, 0xa1 } },
	{ "IN AL, 0x61 keeps RAX's upper bits", 0x610048, 0xffffffffffffffffull, { 0, 0x42 }, 0xffffffffffffff42ull, { 0, 0x42 } },
	{ "IN AX, DX=0x60", 0x600009, 0xffffffffffffffffull, { 0x34, 0x12 }, 0xffffffffffff1234ull, { 0x34, 0x12 } },
	{ "IN EAX, DX=0x60 zero-extends", 0x60000b, 0xffffffffffffffffull, { 1, 2, 3, 4 }, 0x04030201ull, { 1, 2, 3, 4 } },
	{ "IN AL from an unclaimed port reads ones", 0x700048, 0, { 0 }, 0xff, { 0 } },
	{ "IN EAX from an unclaimed port", 0x70000b, 0, { 0 }, 0xffffffffull, { 0 } },
};

static void port_io_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(io_cases) / sizeof(io_cases[0]); i++) {
		const struct io_case *c = &io_cases[i];
		print_message("case: %s\n", c->name);
		memcpy(H.dev.port_regs, c->regs, 8);
		vcpu_vmwrite(v, VMCS_GUEST_RIP, CODE);
		vcpu_set_gpr(v, GPR_RAX, c->rax_before);
		exit_with(EXIT_REASON_IO_INSTRUCTION, c->qual, 2);
		assert_int_equal(run_exit(), HV_RESUME);
		assert_int_equal(vcpu_gpr(v, GPR_RAX), c->rax_after);
		assert_memory_equal(H.dev.port_regs, c->regs_after, 8);
		assert_int_equal(rip(), CODE + 2);
		/* VMEXIT64 first, VMENTRY last, the IOPORT record between. */
		assert_int_equal(H.trace[0].ev, TRC_HVM_VMEXIT64);
		assert_int_equal(H.trace[0].w[0], EXIT_REASON_IO_INSTRUCTION);
		assert_int_equal(H.trace[0].w[1], (uint32_t)CODE);
		assert_int_equal(H.trace[H.ntrace - 1].ev, TRC_HVM_VMENTRY);
		struct vmx_io_qual q;
		vmx_io_qual_decode(c->qual, &q);
		const struct rec *r = find_rec(q.in ? TRC_HVM_IOPORT_READ : TRC_HVM_IOPORT_WRITE);
		assert_non_null(r);
		assert_int_equal(r->n, 2);
		assert_int_equal(r->w[0], q.port);
	}
	/* The unclaimed port was reported once, not per access. */
	assert_non_null(strstr(H.log, "unclaimed port 0x70"));
	assert_null(strstr(strstr(H.log, "unclaimed port 0x70") + 1, "unclaimed port 0x70"));
	assert_int_equal(vmxlab_hv.exit_counts(hv)[EXIT_REASON_IO_INSTRUCTION], 8);
}

static void rep_outsb_walks_guest_memory(void **state)
{
	(void)state;
	const char msg[] = "hello";
	v->ops->gpa_write(v, 0x300000, msg, 5);
	vcpu_set_gpr(v, GPR_RSI, 0x300000);
	vcpu_set_gpr(v, GPR_RCX, 5);
	/* REP OUTSB to DX=0x63: string, rep, 1 byte; 64-bit address size, DS. */
	exit_with(EXIT_REASON_IO_INSTRUCTION, 0x630030, 2);
	vmx_synth_set(v, VMCS_VMX_INSTRUCTION_INFO, (2u << 7) | (SEG_DS << 15));
	assert_int_equal(run_exit(), HV_RESUME);
	assert_int_equal(H.dev.writes, 5);
	assert_int_equal(H.dev.last_val, 'o');
	assert_int_equal(vcpu_gpr(v, GPR_RSI), 0x300005);
	assert_int_equal(vcpu_gpr(v, GPR_RCX), 0);
	assert_int_equal(rip(), CODE + 2);
	const struct rec *r = find_rec(TRC_HVM_IOPORT_WRITE);
	assert_non_null(r);
	assert_int_equal(r->n, 1); /* port only: data is in guest memory */
}

static void rep_insw_is_bounded_per_exit(void **state)
{
	(void)state;
	H.dev.port_regs[0] = 0x34;
	H.dev.port_regs[1] = 0x12;
	vcpu_set_gpr(v, GPR_RDI, 0x400000);
	vcpu_set_gpr(v, GPR_RCX, 3000);
	/* REP INSW from DX=0x60, 64-bit addressing. */
	exit_with(EXIT_REASON_IO_INSTRUCTION, 0x600039, 2);
	vmx_synth_set(v, VMCS_VMX_INSTRUCTION_INFO, 2u << 7);
	assert_int_equal(run_exit(), HV_RESUME);
	assert_int_equal(vcpu_gpr(v, GPR_RCX), 3000 - 1024);
	assert_int_equal(vcpu_gpr(v, GPR_RDI), 0x400000 + 2 * 1024);
	assert_int_equal(rip(), CODE); /* runs again for the rest */
	uint16_t w = 0;
	v->ops->gpa_read(v, 0x400000 + 2 * 1023, &w, 2);
	assert_int_equal(w, 0x1234);
	/* A hostile count of 2^64-1 does not hang: one batch per exit. */
	vcpu_set_gpr(v, GPR_RCX, ~0ull);
	vcpu_set_gpr(v, GPR_RDI, 0x400000);
	exit_with(EXIT_REASON_IO_INSTRUCTION, 0x600039, 2);
	assert_int_equal(run_exit(), HV_RESUME);
	assert_int_equal(vcpu_gpr(v, GPR_RCX), ~0ull - 1024);
}

static void rep_insb_into_unmapped_memory_injects_page_fault(void **state)
{
	(void)state;
	vcpu_set_gpr(v, GPR_RDI, 0x100000000ull * 8); /* PML4 entry 0 only maps 512 GiB; PDPT 4.. absent */
	vcpu_set_gpr(v, GPR_RCX, 4);
	exit_with(EXIT_REASON_IO_INSTRUCTION, 0x600038, 2);
	vmx_synth_set(v, VMCS_VMX_INSTRUCTION_INFO, 2u << 7);
	assert_int_equal(run_exit(), HV_RESUME);
	assert_int_equal(entry_info(), 0x80000b0e); /* #PF with error code */
	assert_int_equal(vcpu_gpr(v, VREG_CR2), 0x100000000ull * 8);
	assert_int_equal(rip(), CODE);
}

/* ------------------------------------------------------------ CPUID, MSRs, CRs */

static void cpuid_hides_vmx_and_names_the_vendor(void **state)
{
	(void)state;
	vcpu_set_gpr(v, GPR_RAX, 1);
	exit_with(EXIT_REASON_CPUID, 0, 2);
	assert_int_equal(run_exit(), HV_RESUME);
	assert_int_equal(vcpu_gpr(v, GPR_RCX) & (1u << 5), 0);
	assert_int_not_equal(vcpu_gpr(v, GPR_RCX) & (1u << 31), 0);
	const struct rec *r = find_rec(TRC_HVM_CPUID);
	assert_non_null(r);
	assert_int_equal(r->n, 6);
	assert_int_equal(r->w[0], 1);
	vcpu_set_gpr(v, GPR_RAX, 0);
	exit_with(EXIT_REASON_CPUID, 0, 2);
	run_exit();
	char vendor[13] = { 0 };
	uint32_t regs[3] = { (uint32_t)vcpu_gpr(v, GPR_RBX), (uint32_t)vcpu_gpr(v, GPR_RDX), (uint32_t)vcpu_gpr(v, GPR_RCX) };
	memcpy(vendor, regs, 12);
	assert_string_equal(vendor, "GenuineIntel");
}

static void cpuid_policy_from_options_but_vmx_stays_hidden(void **state)
{
	(void)state;
	teardown(NULL);
	assert_int_equal(setup_with("cpuid=1=0x806c1,0,0xffffffff,0\ncpuid=0x7:0=0,0x209,0,0\n", PLACE_HV), 0);
	vcpu_set_gpr(v, GPR_RAX, 1);
	exit_with(EXIT_REASON_CPUID, 0, 2);
	run_exit();
	assert_int_equal(vcpu_gpr(v, GPR_RAX), 0x806c1);
	assert_int_equal(vcpu_gpr(v, GPR_RCX), 0xffffffdf); /* VMX (bit 5) cleared */
	vcpu_set_gpr(v, GPR_RAX, 7);
	vcpu_set_gpr(v, GPR_RCX, 0);
	exit_with(EXIT_REASON_CPUID, 0, 2);
	run_exit();
	assert_int_equal(vcpu_gpr(v, GPR_RBX), 0x209);
	/* A bad option is an init error naming it. */
	char err[256];
	H.host.options = "cpuid=banana";
	assert_null(vmxlab_hv.init(&H.host, err, sizeof(err)));
	assert_non_null(strstr(err, "cpuid=banana"));
	H.host.options = "frobnicate=1";
	assert_null(vmxlab_hv.init(&H.host, err, sizeof(err)));
	assert_non_null(strstr(err, "frobnicate"));
}

static void unknown_msr_injects_gp(void **state)
{
	(void)state;
	vcpu_set_gpr(v, GPR_RCX, 0x12345678);
	exit_with(EXIT_REASON_MSR_READ, 0, 2);
	assert_int_equal(run_exit(), HV_RESUME);
	assert_int_equal(entry_info(), 0x80000b0d); /* #GP, error code 0 */
	assert_int_equal(vmcs_read(v, VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE), 0);
	assert_int_equal(rip(), CODE);
	assert_non_null(find_rec(TRC_HVM_INJ_EXC));
	vcpu_set_gpr(v, GPR_RCX, 0x3a);  /* FEATURE_CONTROL is read-only */
	exit_with(EXIT_REASON_MSR_WRITE, 0, 2);
	assert_int_equal(run_exit(), HV_RESUME);
	assert_int_equal(entry_info(), 0x80000b0d);
}

static void msr_values_round_trip(void **state)
{
	(void)state;
	vcpu_set_gpr(v, GPR_RCX, 0xc0000082); /* LSTAR, kept by the hypervisor */
	vcpu_set_gpr(v, GPR_RAX, 0x89abcdef);
	vcpu_set_gpr(v, GPR_RDX, 0xffffffff01234567ull);
	exit_with(EXIT_REASON_MSR_WRITE, 0, 2);
	assert_int_equal(run_exit(), HV_RESUME);
	vcpu_set_gpr(v, GPR_RAX, ~0ull);
	vcpu_set_gpr(v, GPR_RDX, ~0ull);
	exit_with(EXIT_REASON_MSR_READ, 0, 2);
	assert_int_equal(run_exit(), HV_RESUME);
	assert_int_equal(vcpu_gpr(v, GPR_RAX), 0x89abcdef);
	assert_int_equal(vcpu_gpr(v, GPR_RDX), 0x01234567);
	assert_int_equal(rip(), CODE + 4);
	const struct rec *r = find_rec(TRC_HVM_MSR_READ);
	assert_non_null(r);
	assert_int_equal(r->w[0], 0xc0000082);
	assert_int_equal(r->w[2], 0x01234567);
	/* IA32_PAT lives in the VMCS. */
	vcpu_set_gpr(v, GPR_RCX, 0x277);
	vcpu_set_gpr(v, GPR_RAX, 0x00070406);
	vcpu_set_gpr(v, GPR_RDX, 0x00070406);
	exit_with(EXIT_REASON_MSR_WRITE, 0, 2);
	run_exit();
	assert_int_equal(vmcs_read(v, VMCS_GUEST_IA32_PAT), 0x0007040600070406ull);
}

static void efer_and_cr0_switch_long_mode(void **state)
{
	(void)state;
	/* Start in protected mode without paging. */
	vcpu_vmwrite(v, VMCS_GUEST_CR0, X86_CR0_PE | X86_CR0_NE | X86_CR0_ET);
	vcpu_vmwrite(v, VMCS_CR0_READ_SHADOW, X86_CR0_PE);
	vcpu_vmwrite(v, VMCS_GUEST_IA32_EFER, 0);
	vcpu_vmwrite(v, VMCS_VM_ENTRY_CONTROLS, 0);
	vcpu_set_gpr(v, GPR_RCX, 0xc0000080);
	vcpu_set_gpr(v, GPR_RAX, X86_EFER_LME);
	vcpu_set_gpr(v, GPR_RDX, 0);
	exit_with(EXIT_REASON_MSR_WRITE, 0, 2);
	assert_int_equal(run_exit(), HV_RESUME);
	assert_int_equal(vmcs_read(v, VMCS_GUEST_IA32_EFER), X86_EFER_LME);
	/* MOV CR0, rbx with PG: LMA and the IA-32e entry control follow. */
	vcpu_set_gpr(v, GPR_RBX, X86_CR0_PE | X86_CR0_PG);
	exit_with(EXIT_REASON_CR_ACCESS, 0x300, 3); /* CR0, MOV to, GPR 3 */
	assert_int_equal(run_exit(), HV_RESUME);
	assert_int_equal(vmcs_read(v, VMCS_GUEST_IA32_EFER), X86_EFER_LME | X86_EFER_LMA);
	assert_true(vmcs_read(v, VMCS_VM_ENTRY_CONTROLS) & ENTRY_IA32E_MODE_GUEST);
	assert_int_equal(vmcs_read(v, VMCS_CR0_READ_SHADOW), X86_CR0_PE | X86_CR0_PG);
	assert_int_equal(vmcs_read(v, VMCS_GUEST_CR0), X86_CR0_PE | X86_CR0_PG | X86_CR0_NE | X86_CR0_ET);
	const struct rec *r = find_rec(TRC_HVM_CR_WRITE64);
	assert_non_null(r);
	assert_int_equal(r->w[0], 0);
	/* Clearing LME while paging is on is a #GP. */
	vcpu_set_gpr(v, GPR_RAX, 0);
	exit_with(EXIT_REASON_MSR_WRITE, 0, 2);
	run_exit();
	assert_int_equal(entry_info(), 0x80000b0d);
}

static void cr_access_forms(void **state)
{
	(void)state;
	/* MOV CR4 <- rax with VMXE: the bit is reserved to the guest. */
	vcpu_set_gpr(v, GPR_RAX, X86_CR4_PAE | X86_CR4_VMXE);
	exit_with(EXIT_REASON_CR_ACCESS, 0x004, 3);
	run_exit();
	assert_int_equal(entry_info(), 0x80000b0d);
	/* MOV CR4 <- rax: shadow holds the guest's value, CR4 keeps VMXE. */
	vcpu_set_gpr(v, GPR_RAX, X86_CR4_PAE | X86_CR4_PGE);
	exit_with(EXIT_REASON_CR_ACCESS, 0x004, 3);
	run_exit();
	assert_int_equal(vmcs_read(v, VMCS_CR4_READ_SHADOW), X86_CR4_PAE | X86_CR4_PGE);
	assert_int_equal(vmcs_read(v, VMCS_GUEST_CR4), X86_CR4_PAE | X86_CR4_PGE | X86_CR4_VMXE);
	/* MOV CR3 <- rdx drops the no-flush bit. */
	vcpu_set_gpr(v, GPR_RDX, (1ull << 63) | 0x5000);
	exit_with(EXIT_REASON_CR_ACCESS, 0x203, 3);
	run_exit();
	assert_int_equal(vmcs_read(v, VMCS_GUEST_CR3), 0x5000);
	/* MOV CR8 <- rcx, then MOV rsi <- CR8. */
	vcpu_set_gpr(v, GPR_RCX, 9);
	exit_with(EXIT_REASON_CR_ACCESS, 0x108, 4);
	run_exit();
	exit_with(EXIT_REASON_CR_ACCESS, 0x618, 4);
	run_exit();
	assert_int_equal(vcpu_gpr(v, GPR_RSI), 9);
	assert_non_null(find_rec(TRC_HVM_CR_READ64));
	/* CLTS clears TS in both CR0 and its shadow. */
	vcpu_vmwrite(v, VMCS_GUEST_CR0, vmcs_read(v, VMCS_GUEST_CR0) | X86_CR0_TS);
	vcpu_vmwrite(v, VMCS_CR0_READ_SHADOW, X86_CR0_PE | X86_CR0_PG | X86_CR0_TS);
	exit_with(EXIT_REASON_CR_ACCESS, 0x20, 2);
	run_exit();
	assert_int_equal(vmcs_read(v, VMCS_GUEST_CR0) & X86_CR0_TS, 0);
	assert_int_equal(vmcs_read(v, VMCS_CR0_READ_SHADOW) & X86_CR0_TS, 0);
	assert_non_null(find_rec(TRC_HVM_CLTS));
	/* LMSW 0 cannot clear PE. */
	exit_with(EXIT_REASON_CR_ACCESS, 0x30, 3);
	run_exit();
	assert_true(vmcs_read(v, VMCS_CR0_READ_SHADOW) & X86_CR0_PE);
}

/* ------------------------------------------------------------ HLT, RDTSC, VMCALL */

static void hlt_with_interrupts_off_is_halted_forever(void **state)
{
	(void)state;
	exit_with(EXIT_REASON_HLT, 0, 1);
	assert_int_equal(run_exit(), HV_GUEST_DEAD);
	assert_non_null(strstr(out.msg, "halted forever"));
	assert_non_null(strstr(out.msg, "RFLAGS.IF=0"));
}

static void hlt_sleeps_until_an_interrupt_then_injects_it(void **state)
{
	(void)state;
	vcpu_vmwrite(v, VMCS_GUEST_RFLAGS, 0x202);
	H.idle_rounds = 3;
	H.wake_vector = 0x20;
	exit_with(EXIT_REASON_HLT, 0, 1);
	assert_int_equal(run_exit(), HV_RESUME);
	assert_int_equal(H.idle_calls, 3);
	assert_int_equal(rip(), CODE + 1);
	assert_int_equal(entry_info(), 0x80000020);
	assert_int_equal(H.pic.acks, 1);
	const struct rec *r = find_rec(TRC_HVM_HLT);
	assert_non_null(r);
	assert_int_equal(r->w[0], 0);  /* it blocked */
	r = find_rec(TRC_HVM_INJ_VIRQ);
	assert_non_null(r);
	assert_int_equal(r->w[0], 0x20);
}

static void hlt_with_nothing_left_to_wake_it(void **state)
{
	(void)state;
	vcpu_vmwrite(v, VMCS_GUEST_RFLAGS, 0x202);
	H.idle_rounds = -1;
	exit_with(EXIT_REASON_HLT, 0, 1);
	assert_int_equal(run_exit(), HV_GUEST_DEAD);
	assert_non_null(strstr(out.msg, "no timer or device event pending"));
}

static void rdtsc_returns_virtual_tsc_plus_offset(void **state)
{
	(void)state;
	H.tsc = 0x123456789abull;
	vcpu_vmwrite(v, VMCS_TSC_OFFSET, 0x1000);
	vcpu_vmwrite(v, VMCS_CPU_BASED_VM_EXEC_CONTROL, CPU_USE_TSC_OFFSETTING);
	exit_with(EXIT_REASON_RDTSC, 0, 2);
	run_exit();
	assert_int_equal(vcpu_gpr(v, GPR_RAX), (0x123456789abull + 0x1000) & 0xffffffff);
	assert_int_equal(vcpu_gpr(v, GPR_RDX), (0x123456789abull + 0x1000) >> 32);
}

static void vmcall_console_phase_exit_and_unknown(void **state)
{
	(void)state;
	v->ops->gpa_write(v, 0x200000, "result: ok\n", 11);
	vcpu_set_gpr(v, GPR_RAX, VMXLAB_HC_CONSOLE);
	vcpu_set_gpr(v, GPR_RBX, 0x200000);
	vcpu_set_gpr(v, GPR_RCX, 11);
	exit_with(EXIT_REASON_VMCALL, 0, 3);
	assert_int_equal(run_exit(), HV_RESUME);
	assert_int_equal(H.nconsole, 11);
	assert_memory_equal(H.console, "result: ok\n", 11);
	assert_int_equal(vcpu_gpr(v, GPR_RAX), 0);
	/* Too long, and unmapped. */
	vcpu_set_gpr(v, GPR_RAX, VMXLAB_HC_CONSOLE);
	vcpu_set_gpr(v, GPR_RCX, VMXLAB_HC_CONSOLE_MAX + 1);
	exit_with(EXIT_REASON_VMCALL, 0, 3);
	run_exit();
	assert_int_equal((int64_t)vcpu_gpr(v, GPR_RAX), VMXLAB_HC_EINVAL);
	vcpu_set_gpr(v, GPR_RAX, VMXLAB_HC_CONSOLE);
	vcpu_set_gpr(v, GPR_RBX, 0x8000000000ull);
	vcpu_set_gpr(v, GPR_RCX, 4);
	exit_with(EXIT_REASON_VMCALL, 0, 3);
	run_exit();
	assert_int_equal((int64_t)vcpu_gpr(v, GPR_RAX), VMXLAB_HC_EFAULT);
	vcpu_set_gpr(v, GPR_RAX, VMXLAB_HC_PHASE);
	vcpu_set_gpr(v, GPR_RBX, 7);
	exit_with(EXIT_REASON_VMCALL, 0, 3);
	run_exit();
	assert_int_equal(H.phase, 7);
	vcpu_set_gpr(v, GPR_RAX, 99);
	exit_with(EXIT_REASON_VMCALL, 0, 3);
	run_exit();
	assert_int_equal((int64_t)vcpu_gpr(v, GPR_RAX), VMXLAB_HC_ENOSYS);
	vcpu_set_gpr(v, GPR_RAX, VMXLAB_HC_EXIT);
	vcpu_set_gpr(v, GPR_RBX, 3);
	exit_with(EXIT_REASON_VMCALL, 0, 3);
	assert_int_equal(run_exit(), HV_GUEST_EXIT);
	assert_int_equal(out.status, 3);
}

static void vmx_instructions_are_undefined_to_the_guest(void **state)
{
	(void)state;
	static const uint32_t reasons[] = { EXIT_REASON_VMXON, EXIT_REASON_VMREAD, EXIT_REASON_INVEPT, EXIT_REASON_GETSEC };
	for (size_t i = 0; i < 4; i++) {
		exit_with(reasons[i], 0, 3);
		assert_int_equal(run_exit(), HV_RESUME);
		assert_int_equal(entry_info(), 0x80000306);
		assert_int_equal(rip(), CODE);
	}
}

/* ------------------------------------------------------------ MMIO */

struct mmio_case {
	const char *name;
	uint8_t code[16];
	unsigned len;
	uint64_t off;                /* RBX = MMIO + off; the access is at off + disp */
	unsigned disp;
	uint64_t rax, rcx;           /* before */
	uint32_t dev_before;         /* little-endian at off + disp */
	uint32_t dev_after;
	bool check_rax;
	uint64_t rax_after;
	uint64_t flags_set, flags_clear;
};

#define F_CF X86_RFLAGS_CF
#define F_ZF X86_RFLAGS_ZF
#define F_SF X86_RFLAGS_SF
#define F_OF X86_RFLAGS_OF

static const struct mmio_case mmio_cases[] = {
	{ "mov [rbx], eax", { 0x89, 0x03 }, 2, 0x10, 0, 0xdeadbeef, 0, 0, 0xdeadbeef, false, 0, 0, 0 },
	{ "mov eax, [rbx] zero-extends", { 0x8b, 0x03 }, 2, 0x20, 0, ~0ull, 0, 0x11223344, 0x11223344, true, 0x11223344, 0, 0 },
	{ "mov byte [rbx], 0x5a", { 0xc6, 0x03, 0x5a }, 3, 0x30, 0, 0, 0, 0xffffffff, 0xffffff5a, false, 0, 0, 0 },
	{ "mov ah, [rbx] merges", { 0x8a, 0x23 }, 2, 0x40, 0, 0x1111, 0, 0x77, 0x77, true, 0x7711, 0, 0 },
	{ "movzx eax, byte [rbx+4]", { 0x0f, 0xb6, 0x43, 0x04 }, 4, 0x50, 4, ~0ull, 0, 0x99, 0x99, true, 0x99, 0, 0 },
	{ "movsx rax, word [rbx]", { 0x48, 0x0f, 0xbf, 0x03 }, 4, 0x60, 0, 0, 0, 0x8001, 0x8001, true, 0xffffffffffff8001ull, 0, 0 },
	{ "or dword [rbx], 0x10", { 0x83, 0x0b, 0x10 }, 3, 0x70, 0, 0, 0, 0x1, 0x11, false, 0, 0, F_ZF | F_CF },
	{ "and eax, [rbx]", { 0x23, 0x03 }, 2, 0x80, 0, 0xff00ff00ull, 0, 0x0f0f0f0f, 0x0f0f0f0f, true, 0x0f000f00, 0, F_ZF },
	{ "add [rbx], ecx sets CF and ZF", { 0x01, 0x0b }, 2, 0x90, 0, 0, 1, 0xffffffff, 0, false, 0, F_CF | F_ZF, F_SF },
	{ "sub dword [rbx], 1 wraps", { 0x83, 0x2b, 0x01 }, 3, 0xa0, 0, 0, 0, 0, 0xffffffff, false, 0, F_CF | F_SF, F_ZF },
	{ "cmp byte [rbx], 5 leaves the device", { 0x80, 0x3b, 0x05 }, 3, 0xb0, 0, 0, 0, 3, 3, false, 0, F_CF | F_SF, F_ZF | F_OF },
	{ "test dword [rbx], 0x80", { 0xf7, 0x03, 0x80, 0, 0, 0 }, 6, 0xc0, 0, 0, 0, 0x7f, 0x7f, false, 0, F_ZF, F_CF },
	{ "xor [rbx], al", { 0x30, 0x03 }, 2, 0xd0, 0, 0xff, 0, 0x0f, 0xf0, true, 0xff, F_SF, F_ZF },
	{ "mov qword [rbx], rcx", { 0x48, 0x89, 0x0b }, 3, 0xe0, 0, 0, 0x0123456789abcdefull, 0, 0x89abcdef, false, 0, 0, 0 },
};

static void mmio_forms_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(mmio_cases) / sizeof(mmio_cases[0]); i++) {
		const struct mmio_case *c = &mmio_cases[i];
		uint64_t at = c->off + c->disp;
		uint32_t after;
		print_message("case: %s\n", c->name);
		put_code(c->code, c->len);
		vcpu_vmwrite(v, VMCS_GUEST_RIP, CODE);
		vcpu_vmwrite(v, VMCS_GUEST_RFLAGS, 0x2 | (c->flags_clear & ~c->flags_set));
		vcpu_set_gpr(v, GPR_RAX, c->rax);
		vcpu_set_gpr(v, GPR_RCX, c->rcx);
		vcpu_set_gpr(v, GPR_RBX, MMIO + c->off);
		memcpy(H.dev.mmio + at, &c->dev_before, 4);
		exit_with(EXIT_REASON_EPT_VIOLATION, 0x181, 0);
		vmx_synth_set(v, VMCS_GUEST_PHYSICAL_ADDRESS, MMIO + at);
		assert_int_equal(run_exit(), HV_RESUME);
		memcpy(&after, H.dev.mmio + at, 4);
		assert_int_equal(after, c->dev_after);
		if (c->check_rax)
			assert_int_equal(vcpu_gpr(v, GPR_RAX), c->rax_after);
		uint64_t rf = vmcs_read(v, VMCS_GUEST_RFLAGS);
		assert_int_equal(rf & c->flags_set, c->flags_set);
		assert_int_equal(rf & c->flags_clear, 0);
		assert_int_equal(rip(), CODE + c->len); /* from the decoder, not the exit */
		const struct rec *r = find_rec(TRC_HVM_NPF);
		assert_non_null(r);
		assert_int_equal(r->w[5], TRC_P2M_MMIO_DM);
	}
	/* The 64-bit store wrote all eight bytes. */
	uint64_t q;
	memcpy(&q, H.dev.mmio + 0xe0, 8);
	assert_int_equal(q, 0x0123456789abcdefull);
}

static void rep_stosd_to_mmio_and_movsb_from_mmio(void **state)
{
	(void)state;
	static const uint8_t stos[] = { 0xf3, 0xab };
	put_code(stos, 2);
	vcpu_set_gpr(v, GPR_RDI, MMIO + 0x100);
	vcpu_set_gpr(v, GPR_RCX, 4);
	vcpu_set_gpr(v, GPR_RAX, 0xa5a5a5a5);
	exit_with(EXIT_REASON_EPT_VIOLATION, 0x182, 0);
	vmx_synth_set(v, VMCS_GUEST_PHYSICAL_ADDRESS, MMIO + 0x100);
	assert_int_equal(run_exit(), HV_RESUME);
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(H.dev.mmio[0x100 + i], 0xa5);
	assert_int_equal(vcpu_gpr(v, GPR_RCX), 0);
	assert_int_equal(vcpu_gpr(v, GPR_RDI), MMIO + 0x110);
	assert_int_equal(rip(), CODE + 2);
	/* MOVSB: device -> RAM */
	static const uint8_t movsb[] = { 0xa4 };
	put_code(movsb, 1);
	vcpu_vmwrite(v, VMCS_GUEST_RIP, CODE);
	H.dev.mmio[0x200] = 0x3c;
	vcpu_set_gpr(v, GPR_RSI, MMIO + 0x200);
	vcpu_set_gpr(v, GPR_RDI, 0x500000);
	exit_with(EXIT_REASON_EPT_VIOLATION, 0x181, 0);
	vmx_synth_set(v, VMCS_GUEST_PHYSICAL_ADDRESS, MMIO + 0x200);
	assert_int_equal(run_exit(), HV_RESUME);
	uint8_t b = 0;
	v->ops->gpa_read(v, 0x500000, &b, 1);
	assert_int_equal(b, 0x3c);
	assert_int_equal(vcpu_gpr(v, GPR_RSI), MMIO + 0x201);
}

static void unsupported_mmio_instruction_names_itself(void **state)
{
	(void)state;
	static const uint8_t xchg[] = { 0x87, 0x03 };
	put_code(xchg, 2);
	vcpu_set_gpr(v, GPR_RBX, MMIO);
	exit_with(EXIT_REASON_EPT_VIOLATION, 0x182, 0);
	vmx_synth_set(v, VMCS_GUEST_PHYSICAL_ADDRESS, MMIO);
	assert_int_equal(run_exit(), HV_ERROR);
	assert_non_null(strstr(out.msg, "xchg"));
	assert_non_null(strstr(out.msg, "87 03"));
	assert_non_null(strstr(out.msg, "testdev"));
}

/* Nothing answers outside RAM and the devices' windows: reads give all
 * ones, writes are dropped, each page is logged once, the guest goes on. */
static void ept_violation_outside_any_window_reads_all_ones(void **state)
{
	(void)state;
	static const uint8_t mov_load[] = { 0x8b, 0x03 }, mov_store[] = { 0x89, 0x0b };
	put_code(mov_load, 2);
	vcpu_set_gpr(v, GPR_RBX, 0xc0000010);
	vcpu_set_gpr(v, GPR_RAX, 0x1234);
	exit_with(EXIT_REASON_EPT_VIOLATION, 0x181, 0);
	vmx_synth_set(v, VMCS_GUEST_PHYSICAL_ADDRESS, 0xc0000010);
	assert_int_equal(run_exit(), HV_RESUME);
	assert_int_equal(vcpu_gpr(v, GPR_RAX), 0xffffffffu);
	assert_int_equal(rip(), CODE + 2);
	assert_non_null(strstr(H.log, "GPA 0xc0000010"));
	/* the same page again: not logged again; a write is dropped */
	H.log[0] = '\0';
	put_code(mov_store, 2);
	vcpu_vmwrite(v, VMCS_GUEST_RIP, CODE);
	vcpu_set_gpr(v, GPR_RBX, 0xc0000020);
	exit_with(EXIT_REASON_EPT_VIOLATION, 0x182, 0);
	vmx_synth_set(v, VMCS_GUEST_PHYSICAL_ADDRESS, 0xc0000020);
	assert_int_equal(run_exit(), HV_RESUME);
	assert_int_equal(rip(), CODE + 2);
	assert_string_equal(H.log, "");
}

/* ------------------------------------------------------------ events */

static void interrupt_injected_when_the_guest_can_take_it(void **state)
{
	(void)state;
	vcpu_vmwrite(v, VMCS_GUEST_RFLAGS, 0x202);
	H.pic.pending = 0x21;
	exit_with(EXIT_REASON_CPUID, 0, 2);
	run_exit();
	assert_int_equal(entry_info(), 0x80000021);
	assert_int_equal(vmcs_read(v, VMCS_CPU_BASED_VM_EXEC_CONTROL) & CPU_INTERRUPT_WINDOW_EXITING, 0);
}

static void interrupt_waits_for_the_window(void **state)
{
	(void)state;
	/* IF = 0: no injection, window exiting on. */
	H.pic.pending = 0x22;
	exit_with(EXIT_REASON_CPUID, 0, 2);
	run_exit();
	assert_int_equal(entry_info(), 0);
	assert_true(vmcs_read(v, VMCS_CPU_BASED_VM_EXEC_CONTROL) & CPU_INTERRUPT_WINDOW_EXITING);
	const struct rec *r = find_rec(TRC_HVM_INTR_WINDOW);
	assert_non_null(r);
	assert_int_equal(r->w[0], 0x22);
	assert_int_equal(r->w[1], INTR_SRC_PIC);
	/* STI shadow: still blocked. */
	vcpu_vmwrite(v, VMCS_GUEST_RFLAGS, 0x202);
	vcpu_vmwrite(v, VMCS_GUEST_INTERRUPTIBILITY_INFO, INTR_BLOCKING_STI);
	exit_with(EXIT_REASON_INTERRUPT_WINDOW, 0, 0);
	run_exit();
	assert_int_equal(entry_info(), 0);
	/* The window opens: the interrupt goes in, window exiting goes off. */
	vcpu_vmwrite(v, VMCS_GUEST_INTERRUPTIBILITY_INFO, 0);
	exit_with(EXIT_REASON_INTERRUPT_WINDOW, 0, 0);
	assert_int_equal(run_exit(), HV_RESUME);
	assert_int_equal(entry_info(), 0x80000022);
	assert_int_equal(vmcs_read(v, VMCS_CPU_BASED_VM_EXEC_CONTROL) & CPU_INTERRUPT_WINDOW_EXITING, 0);
	assert_int_equal(rip(), CODE + 2); /* only the CPUID advanced it */
}

static void cr8_masks_lower_priority_classes(void **state)
{
	(void)state;
	vcpu_vmwrite(v, VMCS_GUEST_RFLAGS, 0x202);
	vcpu_set_gpr(v, GPR_RCX, 3);
	exit_with(EXIT_REASON_CR_ACCESS, 0x108, 4); /* MOV CR8 <- rcx */
	run_exit();
	H.pic.pending = 0x31; /* class 3: masked by TPR 3 */
	exit_with(EXIT_REASON_CPUID, 0, 2);
	run_exit();
	assert_int_equal(entry_info(), 0);
	H.pic.pending = 0x41; /* class 4: goes in */
	exit_with(EXIT_REASON_CPUID, 0, 2);
	run_exit();
	assert_int_equal(entry_info(), 0x80000041);
}

static void event_cut_short_by_the_exit_is_requeued(void **state)
{
	(void)state;
	H.pic.pending = 0x30;
	vcpu_vmwrite(v, VMCS_GUEST_RFLAGS, 0x202);
	exit_with(EXIT_REASON_EPT_VIOLATION, 0x181, 0);
	static const uint8_t movl[] = { 0x8b, 0x03 };
	put_code(movl, 2);
	vcpu_set_gpr(v, GPR_RBX, MMIO);
	vmx_synth_set(v, VMCS_GUEST_PHYSICAL_ADDRESS, MMIO);
	/* A #PF (with error code 2) was being delivered when the exit came. */
	vmx_synth_set(v, VMCS_IDT_VECTORING_INFO, 0x80000b0e);
	vmx_synth_set(v, VMCS_IDT_VECTORING_ERROR_CODE, 2);
	run_exit();
	assert_int_equal(entry_info(), 0x80000b0e);
	assert_int_equal(vmcs_read(v, VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE), 2);
	assert_int_equal(H.pic.acks, 0); /* the interrupt waits for a window */
	assert_true(vmcs_read(v, VMCS_CPU_BASED_VM_EXEC_CONTROL) & CPU_INTERRUPT_WINDOW_EXITING);
}

static void intercepted_page_fault_is_reflected_with_cr2(void **state)
{
	(void)state;
	exit_with(EXIT_REASON_EXCEPTION_NMI, 0xdead000, 0);
	vmx_synth_set(v, VMCS_VM_EXIT_INTR_INFO, 0x80000b0e);
	vmx_synth_set(v, VMCS_VM_EXIT_INTR_ERROR_CODE, 0x6);
	assert_int_equal(run_exit(), HV_RESUME);
	assert_int_equal(vcpu_gpr(v, VREG_CR2), 0xdead000);
	assert_int_equal(entry_info(), 0x80000b0e);
	assert_int_equal(vmcs_read(v, VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE), 6);
	assert_non_null(find_rec(TRC_HVM_PF_XEN64));
	/* #UD */
	exit_with(EXIT_REASON_EXCEPTION_NMI, 0, 0);
	vmx_synth_set(v, VMCS_VM_EXIT_INTR_INFO, 0x80000306);
	run_exit();
	assert_int_equal(entry_info(), 0x80000306);
	const struct rec *r = find_rec(TRC_HVM_TRAP);
	assert_non_null(r);
	assert_int_equal(r->w[0], 6);
}

static void triple_fault_and_unknown_exits_end_the_run(void **state)
{
	(void)state;
	exit_with(EXIT_REASON_TRIPLE_FAULT, 0, 0);
	assert_int_equal(run_exit(), HV_GUEST_DEAD);
	assert_non_null(strstr(out.msg, "triple fault"));
	exit_with(EXIT_REASON_ENCLS, 0x1234, 3);
	assert_int_equal(run_exit(), HV_ERROR);
	/* One line naming the reason, RIP and qualification... */
	assert_non_null(strstr(out.msg, "ENCLS"));
	assert_non_null(strstr(out.msg, "RIP 0x10000"));
	assert_non_null(strstr(out.msg, "qualification 0x1234"));
	assert_null(strchr(out.msg, '\n'));
	/* ...and the VMCS dump only at the level a host shows when verbose. */
	assert_null(strstr(H.log_shown, "*** Guest State ***"));
	assert_non_null(strstr(H.log, "*** Guest State ***"));
	assert_non_null(strstr(H.log, "*** Control State ***"));
	exit_with(0x1234, 0, 0);
	assert_int_equal(run_exit(), HV_ERROR);
	assert_non_null(strstr(out.msg, "4660"));
	exit_with(VMX_EXIT_REASON_ENTRY_FAIL | EXIT_REASON_INVALID_GUEST_STATE, 0, 0);
	assert_int_equal(run_exit(), HV_ERROR);
	assert_non_null(strstr(out.msg, "VM-entry failed"));
}

/* ------------------------------------------------------------ MOV DR */

/* Exit qualification of MOV DR (SDM Table 28-4). */
#define DR_QUAL(dr, from, gpr) ((uint64_t)(dr) | ((from) ? 0x10u : 0u) | ((uint64_t)(gpr) << 8))

static void dr_file_round_trips_through_mov_dr(void **state)
{
	(void)state;
	/* MOV DR3, RAX then MOV RBX, DR3: the value lives in the vCPU's DR3. */
	vcpu_set_gpr(v, GPR_RAX, 0xffffffff81234567ull);
	exit_with(EXIT_REASON_DR_ACCESS, DR_QUAL(3, 0, GPR_RAX), 3);
	assert_int_equal(run_exit(), HV_RESUME);
	assert_int_equal(vcpu_gpr(v, VREG_DR3), 0xffffffff81234567ull);
	assert_int_equal(rip(), CODE + 3);
	assert_non_null(find_rec(TRC_HVM_DR_WRITE));
	exit_with(EXIT_REASON_DR_ACCESS, DR_QUAL(3, 1, GPR_RBX), 3);
	assert_int_equal(run_exit(), HV_RESUME);
	assert_int_equal(vcpu_gpr(v, GPR_RBX), 0xffffffff81234567ull);
	assert_int_equal(rip(), CODE + 6);
	/* DR7 keeps bit 10 set and reserved bits 12, 14, 15 clear (GD, bit 13,
	 * stays clear here); it lives in GUEST_DR7 and reads back through DR5
	 * while CR4.DE = 0. */
	vcpu_set_gpr(v, GPR_RCX, 0xffffd3ffull);
	exit_with(EXIT_REASON_DR_ACCESS, DR_QUAL(7, 0, GPR_RCX), 3);
	assert_int_equal(run_exit(), HV_RESUME);
	assert_int_equal(vmcs_read(v, VMCS_GUEST_DR7), 0xffff07ffull);
	exit_with(EXIT_REASON_DR_ACCESS, DR_QUAL(5, 1, GPR_R9), 3);
	assert_int_equal(run_exit(), HV_RESUME);
	assert_int_equal(vcpu_gpr(v, GPR_R9), 0xffff07ffull);
	/* DR6 through its alias DR4: only B0-B3, BD, BS, BT are writable. */
	vcpu_set_gpr(v, GPR_RDX, 0);
	exit_with(EXIT_REASON_DR_ACCESS, DR_QUAL(4, 0, GPR_RDX), 3);
	assert_int_equal(run_exit(), HV_RESUME);
	assert_int_equal(vcpu_gpr(v, VREG_DR6), 0xffff0ff0ull);
	assert_int_equal(rip(), CODE + 15);
	/* Outside 64-bit mode the operand is 32 bits. */
	vcpu_vmwrite(v, VMCS_GUEST_CS_AR_BYTES, 0xc09b);
	vcpu_vmwrite(v, VMCS_GUEST_IA32_EFER, 0);
	vcpu_set_gpr(v, GPR_RSI, 0x1234567800abcdefull);
	exit_with(EXIT_REASON_DR_ACCESS, DR_QUAL(0, 0, GPR_RSI), 3);
	assert_int_equal(run_exit(), HV_RESUME);
	assert_int_equal(vcpu_gpr(v, VREG_DR0), 0x00abcdefull);
	assert_int_equal(vmxlab_hv.exit_counts(hv)[EXIT_REASON_DR_ACCESS], 6);
}

struct dr_fault_case {
	const char *name;
	uint64_t qual;
	uint64_t gpr_value;     /* in RAX */
	uint64_t cr4_extra, ss_ar, dr7;
	uint32_t entry_info;    /* the exception injected */
};

static const struct dr_fault_case dr_fault_cases[] = {
	{ "MOV DR4 with CR4.DE=1 is #UD", DR_QUAL(4, 1, GPR_RAX), 0, 1u << 3, 0x93, 0x400, 0x80000306 },
	{ "MOV DR5 with CR4.DE=1 is #UD", DR_QUAL(5, 0, GPR_RAX), 0, 1u << 3, 0x93, 0x400, 0x80000306 },
	{ "MOV DR0 at CPL 3 is #GP", DR_QUAL(0, 0, GPR_RAX), 0, 0, 0xf3, 0x400, 0x80000b0d },
	{ "MOV to DR7 with bit 32 set is #GP", DR_QUAL(7, 0, GPR_RAX), 1ull << 32, 0, 0x93, 0x400, 0x80000b0d },
	{ "MOV to DR6 with bit 63 set is #GP", DR_QUAL(6, 0, GPR_RAX), 1ull << 63, 0, 0x93, 0x400, 0x80000b0d },
	{ "DR7.GD makes any MOV DR a #DB", DR_QUAL(2, 1, GPR_RAX), 0, 0, 0x93, 0x2400, 0x80000301 },
};

static void dr_access_faults_the_exit_takes_priority_over(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(dr_fault_cases) / sizeof(dr_fault_cases[0]); i++) {
		const struct dr_fault_case *c = &dr_fault_cases[i];
		print_message("case: %s\n", c->name);
		vcpu_vmwrite(v, VMCS_GUEST_RIP, CODE);
		vcpu_vmwrite(v, VMCS_GUEST_CR4, X86_CR4_PAE | X86_CR4_VMXE | c->cr4_extra);
		vcpu_vmwrite(v, VMCS_GUEST_SS_AR_BYTES, c->ss_ar);
		vcpu_vmwrite(v, VMCS_GUEST_DR7, c->dr7);
		vcpu_set_gpr(v, VREG_DR6, 0xffff0ff0ull);
		vcpu_set_gpr(v, GPR_RAX, c->gpr_value);
		exit_with(EXIT_REASON_DR_ACCESS, c->qual, 3);
		assert_int_equal(run_exit(), HV_RESUME);
		assert_int_equal(entry_info(), c->entry_info);
		assert_int_equal(rip(), CODE);
	}
	/* The general-detect #DB set DR6.BD and cleared DR7.GD (SDM 18.3.1.2). */
	assert_int_equal(vcpu_gpr(v, VREG_DR6), 0xffff0ff0ull | (1u << 13));
	assert_int_equal(vmcs_read(v, VMCS_GUEST_DR7), 0x400);
}

/* ------------------------------------------------------------ MONITOR, MWAIT, PAUSE, preemption timer */

static void monitor_mwait_and_the_preemption_timer_resume(void **state)
{
	(void)state;
	static const uint32_t nops[] = { EXIT_REASON_MONITOR, EXIT_REASON_MWAIT, EXIT_REASON_PAUSE };
	for (size_t i = 0; i < 3; i++) {
		vcpu_vmwrite(v, VMCS_GUEST_RIP, CODE);
		exit_with(nops[i], 0, 3);
		assert_int_equal(run_exit(), HV_RESUME);
		assert_int_equal(rip(), CODE + 3);
		assert_int_equal(entry_info(), 0);
	}
	/* The timer is a host event: nothing advances, nothing is injected. */
	vcpu_vmwrite(v, VMCS_GUEST_RIP, CODE);
	exit_with(EXIT_REASON_PREEMPTION_TIMER, 0, 0);
	assert_int_equal(run_exit(), HV_RESUME);
	assert_int_equal(rip(), CODE);
	assert_int_equal(entry_info(), 0);
	assert_int_equal(H.trace[H.ntrace - 1].ev, TRC_HVM_VMENTRY);
	assert_int_equal(vmxlab_hv.exit_counts(hv)[EXIT_REASON_PREEMPTION_TIMER], 1);
	assert_int_equal(vmxlab_hv.exit_counts(hv)[EXIT_REASON_MWAIT], 1);
}

/* ------------------------------------------------------------ RDRAND, RDSEED */

/* VM-exit instruction information for RDRAND/RDSEED: reg 6:3, size 12:11. */
#define RAND_INFO(reg, opsize) (((uint32_t)(reg) << 3) | ((uint32_t)(opsize) << 11))

struct rand_case {
	const char *name;
	uint32_t reason;
	enum vmx_gpr reg;
	unsigned opsize;        /* 0 16-bit, 1 32-bit, 2 64-bit */
	uint64_t keep_mask;     /* bits of the register's old value that stay */
	uint64_t value_mask;    /* bits the random value may occupy */
};

static const struct rand_case rand_cases[] = {
	{ "RDRAND R9 (64-bit)", EXIT_REASON_RDRAND, GPR_R9, 2, 0, ~0ull },
	{ "RDRAND EAX zero-extends", EXIT_REASON_RDRAND, GPR_RAX, 1, 0, 0xffffffffull },
	{ "RDSEED BX keeps bits 63:16", EXIT_REASON_RDSEED, GPR_RBX, 0, ~0xffffull, 0xffffull },
	{ "RDSEED R15 (64-bit)", EXIT_REASON_RDSEED, GPR_R15, 2, 0, ~0ull },
};

static void rdrand_and_rdseed_fill_the_destination_and_set_cf(void **state)
{
	(void)state;
	uint64_t seen[4];
	for (size_t i = 0; i < sizeof(rand_cases) / sizeof(rand_cases[0]); i++) {
		const struct rand_case *c = &rand_cases[i];
		const uint64_t old = 0xa5a5a5a5a5a5a5a5ull;
		print_message("case: %s\n", c->name);
		vcpu_vmwrite(v, VMCS_GUEST_RIP, CODE);
		vcpu_vmwrite(v, VMCS_GUEST_RFLAGS, 0x2 | X86_RFLAGS_ZF | X86_RFLAGS_SF | X86_RFLAGS_OF |
							 X86_RFLAGS_PF | X86_RFLAGS_AF | X86_RFLAGS_IF);
		vcpu_set_gpr(v, c->reg, old);
		exit_with(c->reason, 0, 4);
		vmx_synth_set(v, VMCS_VMX_INSTRUCTION_INFO, RAND_INFO(c->reg, c->opsize));
		assert_int_equal(run_exit(), HV_RESUME);
		uint64_t got = vcpu_gpr(v, c->reg);
		assert_int_equal(got & c->keep_mask, old & c->keep_mask);
		assert_int_equal(got & ~c->keep_mask & ~c->value_mask, 0);
		assert_int_not_equal(got & c->value_mask, old & c->value_mask);
		seen[i] = got & c->value_mask;
		assert_int_equal(vmcs_read(v, VMCS_GUEST_RFLAGS), 0x2 | X86_RFLAGS_CF | X86_RFLAGS_IF);
		assert_int_equal(rip(), CODE + 4);
	}
	assert_int_not_equal(seen[0], seen[3]);
	/* Deterministic: a new machine draws the same first value. */
	vmxlab_hv.fini(hv);
	hv = make_hv(NULL, PLACE_HV);
	assert_non_null(hv);
	exit_with(EXIT_REASON_RDRAND, 0, 4);
	vmx_synth_set(v, VMCS_VMX_INSTRUCTION_INFO, RAND_INFO(GPR_R9, 2));
	assert_int_equal(run_exit(), HV_RESUME);
	assert_int_equal(vcpu_gpr(v, GPR_R9), seen[0]);
}

/* ------------------------------------------------------------ INVPCID */

static void invpcid_checks_the_type(void **state)
{
	(void)state;
	/* The type is in the register of bits 31:28 (RDX here); 64-bit address size. */
	const uint32_t info = (GPR_RDX << 28) | (2u << 7) | (SEG_DS << 15);
	for (uint64_t type = 0; type <= 3; type++) {
		vcpu_vmwrite(v, VMCS_GUEST_RIP, CODE);
		vcpu_set_gpr(v, GPR_RDX, type);
		exit_with(EXIT_REASON_INVPCID, 0, 5);
		vmx_synth_set(v, VMCS_VMX_INSTRUCTION_INFO, info);
		assert_int_equal(run_exit(), HV_RESUME);
		assert_int_equal(entry_info(), 0);
		assert_int_equal(rip(), CODE + 5);
	}
	static const uint64_t bad[] = { 4, 0x100000000ull, ~0ull };
	for (size_t i = 0; i < 3; i++) {
		vcpu_vmwrite(v, VMCS_GUEST_RIP, CODE);
		vcpu_set_gpr(v, GPR_RDX, bad[i]);
		exit_with(EXIT_REASON_INVPCID, 0, 5);
		vmx_synth_set(v, VMCS_VMX_INSTRUCTION_INFO, info);
		assert_int_equal(run_exit(), HV_RESUME);
		assert_int_equal(entry_info(), 0x80000b0d); /* #GP(0) */
		assert_int_equal(rip(), CODE);
	}
	/* Outside 64-bit mode the register is 32 bits: 2^32 is type 0. */
	vcpu_vmwrite(v, VMCS_GUEST_CS_AR_BYTES, 0xc09b);
	vcpu_vmwrite(v, VMCS_GUEST_IA32_EFER, 0);
	vcpu_set_gpr(v, GPR_RDX, 0x100000000ull);
	exit_with(EXIT_REASON_INVPCID, 0, 5);
	vmx_synth_set(v, VMCS_VMX_INSTRUCTION_INFO, info);
	assert_int_equal(run_exit(), HV_RESUME);
	assert_int_equal(entry_info(), 0);
	assert_int_equal(vmxlab_hv.exit_counts(hv)[EXIT_REASON_INVPCID], 8);
}

/* ------------------------------------------------------------ APIC virtualization: no local APIC */

/* APIC-access qualification (SDM Table 28-6): offset 11:0, type 15:12. */
#define APIC_QUAL(type, offset) (((uint64_t)(type) << 12) | (offset))

static const struct rec *not_modelled_rec(void)
{
	return find_rec(TRC_VMXLAB_NOT_MODELLED);
}

static uint64_t not_modelled_count(uint32_t reason)
{
	return ((struct hv *)hv)->not_modelled[reason];
}

static void apic_access_is_an_absent_device_and_not_modelled(void **state)
{
	(void)state;
	/* mov eax, [rbx]: a read of the APIC version register returns all ones. */
	static const uint8_t load[] = { 0x8b, 0x03 };
	put_code(load, 2);
	vcpu_set_gpr(v, GPR_RAX, 0x1122334455667788ull);
	vcpu_set_gpr(v, GPR_RBX, 0xfee00030);
	exit_with(EXIT_REASON_APIC_ACCESS, APIC_QUAL(0, 0x30), 2);
	vmx_synth_set(v, VMCS_APIC_ACCESS_ADDR, 0x7f000000); /* host-physical: not the guest's view */
	assert_int_equal(run_exit(), HV_RESUME);
	assert_int_equal(vcpu_gpr(v, GPR_RAX), 0xffffffffull);
	assert_int_equal(rip(), CODE + 2);
	const struct rec *r = find_rec(TRC_HVM_IOMEM_READ);
	assert_non_null(r);
	assert_int_equal(r->w[0], 0xfee00030);
	assert_int_equal(r->w[1], 0xffffffff);
	r = not_modelled_rec();
	assert_non_null(r);
	assert_int_equal(r->n, 4);
	assert_int_equal(r->w[0], EXIT_REASON_APIC_ACCESS);
	assert_int_equal(r->w[1], NM_LOCAL_APIC);
	assert_int_equal(r->w[2], APIC_QUAL(0, 0x30));
	assert_int_equal(H.trace[H.ntrace - 1].ev, TRC_HVM_VMENTRY);
	assert_int_equal(H.trace[H.ntrace - 2].ev, TRC_VMXLAB_NOT_MODELLED);
	assert_int_equal(not_modelled_count(EXIT_REASON_APIC_ACCESS), 1);
	assert_non_null(strstr(H.log, "APIC_ACCESS exit at RIP 0x10000: no local APIC in the reference build"));
	/* mov [rbx], eax: an EOI write goes nowhere, and no device sees it. */
	static const uint8_t store[] = { 0x89, 0x03 };
	put_code(store, 2);
	vcpu_vmwrite(v, VMCS_GUEST_RIP, CODE);
	vcpu_set_gpr(v, GPR_RBX, 0xfee000b0);
	exit_with(EXIT_REASON_APIC_ACCESS, APIC_QUAL(1, 0xb0), 2);
	assert_int_equal(run_exit(), HV_RESUME);
	assert_int_equal(rip(), CODE + 2);
	assert_int_equal(H.dev.writes, 0);
	r = find_rec(TRC_HVM_IOMEM_WRITE);
	assert_non_null(r);
	assert_int_equal(r->w[0], 0xfee000b0);
	assert_int_equal(not_modelled_count(EXIT_REASON_APIC_ACCESS), 2);
	/* Said once per exit reason, counted every time. */
	const char *said = strstr(H.log, "no local APIC");
	assert_null(strstr(said + 1, "no local APIC"));
	/* During event delivery there is no instruction to complete: the run
	 * ends with one line, no VMCS dump. */
	vcpu_vmwrite(v, VMCS_GUEST_RIP, CODE);
	exit_with(EXIT_REASON_APIC_ACCESS, APIC_QUAL(3, 0x10), 0);
	assert_int_equal(run_exit(), HV_ERROR);
	assert_non_null(strstr(out.msg, "event delivery"));
	assert_non_null(strstr(out.msg, "models none"));
	assert_null(strstr(H.log, "*** Guest State ***"));
	assert_int_equal(not_modelled_count(EXIT_REASON_APIC_ACCESS), 3);
	assert_int_equal(vmxlab_hv.exit_counts(hv)[EXIT_REASON_APIC_ACCESS], 3);
}

static void apic_access_that_cannot_be_decoded_says_no_local_apic(void **state)
{
	(void)state;
	/* 0f 0b is UD2: no access to emulate. */
	static const uint8_t ud2[] = { 0x0f, 0x0b };
	put_code(ud2, 2);
	exit_with(EXIT_REASON_APIC_ACCESS, APIC_QUAL(0, 0x20), 2);
	assert_int_equal(run_exit(), HV_ERROR);
	assert_non_null(strstr(out.msg, "no local APIC in the reference build"));
	assert_null(strchr(out.msg, '\n'));
	assert_non_null(not_modelled_rec());
	assert_int_equal(not_modelled_count(EXIT_REASON_APIC_ACCESS), 1);
}

struct apic_trap_case {
	const char *name;
	uint32_t reason;
	uint64_t qual;
};

static const struct apic_trap_case apic_trap_cases[] = {
	{ "APIC write to the TPR", EXIT_REASON_APIC_WRITE, 0x80 },
	{ "EOI of vector 0xec", EXIT_REASON_VIRTUALIZED_EOI, 0xec },
	{ "TPR below threshold", EXIT_REASON_TPR_BELOW_THRESHOLD, 0 },
};

/* Trap-like: RIP already points past the instruction and stays. */
static void apic_trap_like_exits_resume_unmodelled(void **state)
{
	(void)state;
	vcpu_vmwrite(v, VMCS_TPR_THRESHOLD, 5);
	for (size_t i = 0; i < sizeof(apic_trap_cases) / sizeof(apic_trap_cases[0]); i++) {
		const struct apic_trap_case *c = &apic_trap_cases[i];
		print_message("case: %s\n", c->name);
		vcpu_vmwrite(v, VMCS_GUEST_RIP, CODE + 0x40);
		exit_with(c->reason, c->qual, 3);
		assert_int_equal(run_exit(), HV_RESUME);
		assert_int_equal(rip(), CODE + 0x40);
		assert_int_equal(entry_info(), 0);
		const struct rec *r = not_modelled_rec();
		assert_non_null(r);
		assert_int_equal(r->w[0], c->reason);
		assert_int_equal(r->w[1], NM_LOCAL_APIC);
		assert_int_equal(r->w[2], (uint32_t)c->qual);
		assert_int_equal(not_modelled_count(c->reason), 1);
		assert_int_equal(vmxlab_hv.exit_counts(hv)[c->reason], 1);
	}
	/* Nothing waits for the TPR to drop: the threshold is cleared, or VM
	 * entry would exit again at once. */
	assert_int_equal(vmcs_read(v, VMCS_TPR_THRESHOLD), 0);
	assert_non_null(strstr(H.log, "APIC_WRITE exit"));
	assert_non_null(strstr(H.log, "VIRTUALIZED_EOI exit"));
	assert_non_null(strstr(H.log, "TPR_BELOW_THRESHOLD exit"));
	/* Information, not warnings: nothing shown without VMXLAB_VERBOSE. */
	assert_string_equal(H.log_shown, "");
}

/* ------------------------------------------------------------ placement dm */

static void dm_placed_device_goes_through_ioreq(void **state)
{
	(void)state;
	H.dev.port_regs[1] = 0x77;
	exit_with(EXIT_REASON_IO_INSTRUCTION, 0x610048, 2);
	assert_int_equal(run_exit(), HV_RESUME);
	assert_int_equal(vcpu_gpr(v, GPR_RAX) & 0xff, 0x77);
	assert_int_equal(H.nreq, 1);
	assert_int_equal(H.last_req.type, IOREQ_PIO);
	assert_int_equal(H.last_req.addr, 1);
	assert_int_equal(H.last_req.dir, 1);
	/* The device-model process is gone: the run ends naming the device and request. */
	H.ioreq_fail = 1;
	vcpu_set_gpr(v, GPR_RAX, 0x42);
	exit_with(EXIT_REASON_IO_INSTRUCTION, 0x620040, 2);
	assert_int_equal(run_exit(), HV_ERROR);
	assert_non_null(strstr(out.msg, "testdev"));
	assert_non_null(strstr(out.msg, "port write"));
}

static void overlapping_devices_are_refused(void **state)
{
	(void)state;
	static struct vmx_dev_ops twin;
	twin = testdev_ops;
	twin.name = "twin";
	struct vmx_dev d = { &twin, &H.dev, PLACE_HV, 1 };
	H.devp[1] = &d;
	char err[256];
	assert_null(vmxlab_hv.init(&H.host, err, sizeof(err)));
	assert_non_null(strstr(err, "both claim"));
	H.devp[1] = &H.devs[1];
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(port_io_table, setup, teardown),
		cmocka_unit_test_setup_teardown(rep_outsb_walks_guest_memory, setup, teardown),
		cmocka_unit_test_setup_teardown(rep_insw_is_bounded_per_exit, setup, teardown),
		cmocka_unit_test_setup_teardown(rep_insb_into_unmapped_memory_injects_page_fault, setup, teardown),
		cmocka_unit_test_setup_teardown(cpuid_hides_vmx_and_names_the_vendor, setup, teardown),
		cmocka_unit_test_setup_teardown(cpuid_policy_from_options_but_vmx_stays_hidden, setup, teardown),
		cmocka_unit_test_setup_teardown(unknown_msr_injects_gp, setup, teardown),
		cmocka_unit_test_setup_teardown(msr_values_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(efer_and_cr0_switch_long_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(cr_access_forms, setup, teardown),
		cmocka_unit_test_setup_teardown(hlt_with_interrupts_off_is_halted_forever, setup, teardown),
		cmocka_unit_test_setup_teardown(hlt_sleeps_until_an_interrupt_then_injects_it, setup, teardown),
		cmocka_unit_test_setup_teardown(hlt_with_nothing_left_to_wake_it, setup, teardown),
		cmocka_unit_test_setup_teardown(rdtsc_returns_virtual_tsc_plus_offset, setup, teardown),
		cmocka_unit_test_setup_teardown(vmcall_console_phase_exit_and_unknown, setup, teardown),
		cmocka_unit_test_setup_teardown(vmx_instructions_are_undefined_to_the_guest, setup, teardown),
		cmocka_unit_test_setup_teardown(mmio_forms_table, setup, teardown),
		cmocka_unit_test_setup_teardown(rep_stosd_to_mmio_and_movsb_from_mmio, setup, teardown),
		cmocka_unit_test_setup_teardown(unsupported_mmio_instruction_names_itself, setup, teardown),
		cmocka_unit_test_setup_teardown(ept_violation_outside_any_window_reads_all_ones, setup, teardown),
		cmocka_unit_test_setup_teardown(interrupt_injected_when_the_guest_can_take_it, setup, teardown),
		cmocka_unit_test_setup_teardown(interrupt_waits_for_the_window, setup, teardown),
		cmocka_unit_test_setup_teardown(cr8_masks_lower_priority_classes, setup, teardown),
		cmocka_unit_test_setup_teardown(event_cut_short_by_the_exit_is_requeued, setup, teardown),
		cmocka_unit_test_setup_teardown(intercepted_page_fault_is_reflected_with_cr2, setup, teardown),
		cmocka_unit_test_setup_teardown(triple_fault_and_unknown_exits_end_the_run, setup, teardown),
		cmocka_unit_test_setup_teardown(dr_file_round_trips_through_mov_dr, setup, teardown),
		cmocka_unit_test_setup_teardown(dr_access_faults_the_exit_takes_priority_over, setup, teardown),
		cmocka_unit_test_setup_teardown(monitor_mwait_and_the_preemption_timer_resume, setup, teardown),
		cmocka_unit_test_setup_teardown(rdrand_and_rdseed_fill_the_destination_and_set_cf, setup, teardown),
		cmocka_unit_test_setup_teardown(invpcid_checks_the_type, setup, teardown),
		cmocka_unit_test_setup_teardown(apic_access_is_an_absent_device_and_not_modelled, setup, teardown),
		cmocka_unit_test_setup_teardown(apic_access_that_cannot_be_decoded_says_no_local_apic, setup, teardown),
		cmocka_unit_test_setup_teardown(apic_trap_like_exits_resume_unmodelled, setup, teardown),
		cmocka_unit_test_setup_teardown(dm_placed_device_goes_through_ioreq, setup_dm, teardown),
		cmocka_unit_test_setup_teardown(overlapping_devices_are_refused, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
