/*
 * libFuzzer target for the reference handler build: each input is a
 * sequence of exits a hostile guest could cause - any handled reason, any
 * qualification, registers, instruction bytes at RIP, page tables and
 * guest state - run on a synthetic vCPU against a device with port and MMIO
 * windows.  The handler must never crash, hang or touch memory it does not
 * own; errors it reports are fine.
 */
#include <stdint.h>
#include <string.h>

#include <vmxlab/hv.h>

extern const struct vmxlab_hv vmxlab_hv;

static uint8_t regs[0x1000];

static uint32_t f_pio_read(void *s, unsigned r, uint16_t off, unsigned size)
{
	(void)s;
	(void)r;
	return regs[off & 0xfff] * 0x01010101u & (size >= 4 ? ~0u : (1u << (8 * size)) - 1);
}

static void f_pio_write(void *s, unsigned r, uint16_t off, unsigned size, uint32_t val)
{
	(void)s;
	(void)r;
	(void)size;
	regs[off & 0xfff] = (uint8_t)val;
}

static uint64_t f_mmio_read(void *s, unsigned r, uint64_t off, unsigned size)
{
	uint64_t v = 0;
	(void)s;
	(void)r;
	for (unsigned i = 0; i < size && off + i < sizeof(regs); i++)
		v |= (uint64_t)regs[off + i] << (8 * i);
	return v;
}

static void f_mmio_write(void *s, unsigned r, uint64_t off, unsigned size, uint64_t val)
{
	(void)s;
	(void)r;
	for (unsigned i = 0; i < size && off + i < sizeof(regs); i++)
		regs[off + i] = (uint8_t)(val >> (8 * i));
}

static int pending = -1;
static int f_pending(void *s) { (void)s; return pending; }
static int f_ack(void *s) { (void)s; int v = pending; pending = -1; return v < 0 ? 0x27 : v; }

static const struct vmx_dev_ops dev_ops = {
	.name = "fuzzdev", .pio_read = f_pio_read, .pio_write = f_pio_write, .mmio_read = f_mmio_read,
	.mmio_write = f_mmio_write, .intr_pending = f_pending, .intr_ack = f_ack, .nranges = 2,
	.ranges = { { .base = 0x20, .len = 0x100, .mmio = false }, { .base = 0xfed00000, .len = 0x1000, .mmio = true } },
};

static unsigned idles;
static vtime_t f_idle(void *ctx)
{
	(void)ctx;
	if (++idles > 3)
		return (vtime_t)-1;
	pending = 0x30;
	return idles * 1000;
}

static const uint32_t reasons[] = {
	EXIT_REASON_EXCEPTION_NMI, EXIT_REASON_EXTERNAL_INTERRUPT, EXIT_REASON_TRIPLE_FAULT,
	EXIT_REASON_INTERRUPT_WINDOW, EXIT_REASON_CPUID, EXIT_REASON_HLT, EXIT_REASON_INVLPG, EXIT_REASON_RDTSC,
	EXIT_REASON_VMCALL, EXIT_REASON_VMXON, EXIT_REASON_CR_ACCESS, EXIT_REASON_IO_INSTRUCTION,
	EXIT_REASON_MSR_READ, EXIT_REASON_MSR_WRITE, EXIT_REASON_EPT_VIOLATION, EXIT_REASON_EPT_MISCONFIG,
	EXIT_REASON_XSETBV, EXIT_REASON_WBINVD, EXIT_REASON_RDTSCP, EXIT_REASON_APIC_ACCESS, 0xffff,
};

struct cursor {
	const uint8_t *p;
	size_t n;
};

static uint64_t take(struct cursor *c, unsigned bytes)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < bytes && c->n; i++, c->p++, c->n--)
		v |= (uint64_t)*c->p << (8 * i);
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cursor c = { data, size };
	struct vmx_dev dev = { &dev_ops, NULL, PLACE_HV, 0 };
	struct vmx_dev *devs[] = { &dev };
	struct hv_host host = { .ndevs = 1, .devs = devs, .idle = f_idle };
	char err[256];
	void *hv = vmxlab_hv.init(&host, err, sizeof(err));
	struct vmx_vcpu *v = vmx_synth_create(0);

	if (!hv || !v)
		__builtin_trap();
	idles = 0;
	pending = -1;
	/* RAM: the first 2 MiB (page tables, code, buffers) and a window at 4 GiB. */
	vmx_synth_add_ram(v, 0, 2u << 20);
	vmx_synth_add_ram(v, 0x100000000ull, 0x10000);
	/* Guest state and memory from the input. */
	vmx_synth_set(v, VMCS_GUEST_CR0, take(&c, 4));
	vmx_synth_set(v, VMCS_GUEST_CR3, take(&c, 3) & ~0xfffull);
	vmx_synth_set(v, VMCS_GUEST_CR4, take(&c, 2));
	vmx_synth_set(v, VMCS_GUEST_IA32_EFER, take(&c, 2));
	vmx_synth_set(v, VMCS_GUEST_CS_AR_BYTES, take(&c, 2));
	vmx_synth_set(v, VMCS_GUEST_RFLAGS, take(&c, 4));
	for (int i = 0; i < 4 && c.n; i++) {
		uint64_t gpa = take(&c, 3) & 0x1ffff8;
		uint64_t val = take(&c, 8);
		v->ops->gpa_write(v, gpa, &val, 8);
	}
	for (unsigned exits = 0; exits < 16 && c.n; exits++) {
		struct hv_exit out;
		uint64_t rip = take(&c, 3) & 0x1fffff;
		uint8_t code[15];
		for (unsigned i = 0; i < sizeof(code); i++)
			code[i] = (uint8_t)take(&c, 1);
		v->ops->gpa_write(v, rip, code, rip + sizeof(code) <= (2u << 20) ? sizeof(code) : 1);
		vmx_synth_set(v, VMCS_VM_EXIT_REASON, reasons[take(&c, 1) % (sizeof(reasons) / sizeof(reasons[0]))] |
							     (take(&c, 1) == 0xff ? VMX_EXIT_REASON_ENTRY_FAIL : 0));
		vmx_synth_set(v, VMCS_GUEST_RIP, rip);
		vmx_synth_set(v, VMCS_EXIT_QUALIFICATION, take(&c, 8));
		vmx_synth_set(v, VMCS_VM_EXIT_INSTRUCTION_LEN, take(&c, 1) & 0xf);
		vmx_synth_set(v, VMCS_VMX_INSTRUCTION_INFO, take(&c, 4));
		vmx_synth_set(v, VMCS_VM_EXIT_INTR_INFO, take(&c, 4));
		vmx_synth_set(v, VMCS_IDT_VECTORING_INFO, take(&c, 1) & 1 ? take(&c, 4) : 0);
		vmx_synth_set(v, VMCS_GUEST_PHYSICAL_ADDRESS, take(&c, 1) & 1 ? 0xfed00000 + take(&c, 2) % 0x1004 : take(&c, 5));
		vmx_synth_set(v, VMCS_GUEST_INTERRUPTIBILITY_INFO, take(&c, 1) & 0x1f);
		vcpu_vmwrite(v, VMCS_VM_ENTRY_INTR_INFO, 0);
		for (int r = 0; r < GPR_COUNT && c.n; r++)
			vcpu_set_gpr(v, r, take(&c, 1) & 1 ? take(&c, 8) : take(&c, 1));
		if (take(&c, 1) & 1)
			pending = (int)take(&c, 1);
		enum hv_verdict verdict = vmxlab_hv.handle_exit(hv, v, &out);
		if (verdict != HV_RESUME)
			break;
	}
	vmxlab_hv.fini(hv);
	vmx_synth_destroy(v);
	return 0;
}
