/*
 * libFuzzer target for the PCI bus as a hostile guest programs it: each
 * input is a script of port accesses - CONFIG_ADDRESS values, CONFIG_DATA
 * reads and writes of any size at any byte, accesses to wherever the BARs
 * now point and to random ports - played as I/O exits through the
 * reference handler build (hv/pci.c, hv/route.c) onto the real i440fx, ide
 * and vga models (five functions, an I/O and a memory BAR), placed hv or
 * behind an in-process stand-in for vmxlab-dm's ioreq (the first byte
 * chooses).
 *
 * What must hold besides no crash, leak or sanitizer report: every exit
 * resumes the guest; the read-only registers (IDs, class, header type, the
 * BARs' flag bits) never change; no configuration request reaches a device
 * with a function index or register outside its table; and at the end a
 * guest that programs BAR4 and the command register properly reaches the
 * bus-master registers there.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmxlab/hv.h>
#include <vmxlab/hypercall.h>
#include <vmxlab/pci.h>
#include <vmxlab/platform.h>
#include <vmxlab/vcpu.h>
#include <vmxlab/vmx.h>

extern const struct vmxlab_hv vmxlab_hv;

#define FZ_MAX_OPS 256
#define FZ_RAM (1u << 20)

static void fz_die(const char *why)
{
	fprintf(stderr, "fuzz_pci: %s\n", why);
	__builtin_trap();
}

static uint8_t fz_ram[FZ_RAM];

static int fz_ioreq(void *ctx, struct vmx_dev *dev, struct vmx_ioreq *req)
{
	(void)ctx;
	switch (req->type) {
	case IOREQ_PCI_CFG:
		if ((req->addr >> 8) >= dev->ops->npci || (req->addr & 0xff) + req->size > 256 ||
		    (req->size != 1 && req->size != 2 && req->size != 4))
			fz_die("a configuration request outside the function table or the 256 bytes");
		if (req->dir)
			req->data = dev->ops->cfg_read(dev->state, (unsigned)(req->addr >> 8), req->addr & 0xff, req->size);
		else
			dev->ops->cfg_write(dev->state, (unsigned)(req->addr >> 8), req->addr & 0xff, req->size,
					    (uint32_t)req->data);
		return 0;
	case IOREQ_PIO:
		if (req->range >= dev->ops->nranges || req->addr >= dev->ops->ranges[req->range].len)
			fz_die("a port request outside the device's window");
		if (req->dir)
			req->data = dev->ops->pio_read(dev->state, req->range, (uint16_t)req->addr, req->size);
		else
			dev->ops->pio_write(dev->state, req->range, (uint16_t)req->addr, req->size, (uint32_t)req->data);
		return 0;
	default:
		fz_die("an unexpected request type");
		return -1;
	}
}

static vtime_t fz_now(void *ctx)
{
	(void)ctx;
	return 0;
}

static void fz_log(void *ctx, int level, const char *fmt, va_list ap)
{
	(void)ctx, (void)level, (void)fmt, (void)ap;
}

static void fz_trace(void *ctx, uint32_t ev, const uint32_t *w, unsigned n)
{
	(void)ctx, (void)ev, (void)w, (void)n;
}

static uint32_t fz_io(void *hv, struct vmx_vcpu *v, bool in, uint16_t port, unsigned size, uint32_t val)
{
	struct hv_exit out;
	uint64_t qual = (uint64_t)port << 16 | (in ? 1u << 3 : 0) | (size - 1);

	if (!in && size == 1 && port == VMXLAB_EXIT_PORT)
		return 0;   /* the guest may end its run there (hypercall.h); not this target's */

	vcpu_vmwrite(v, VMCS_GUEST_RIP, 0x1000);
	vcpu_set_gpr(v, GPR_RAX, val);
	vmx_synth_set(v, VMCS_VM_EXIT_REASON, EXIT_REASON_IO_INSTRUCTION);
	vmx_synth_set(v, VMCS_EXIT_QUALIFICATION, qual);
	vmx_synth_set(v, VMCS_VM_EXIT_INSTRUCTION_LEN, 1);
	vmx_synth_set(v, VMCS_IDT_VECTORING_INFO, 0);
	vcpu_vmwrite(v, VMCS_VM_ENTRY_INTR_INFO, 0);
	enum hv_verdict verdict = vmxlab_hv.handle_exit(hv, v, &out);
	if (verdict != HV_RESUME) {
		fprintf(stderr, "fuzz_pci: %s of port 0x%x (%u bytes): verdict %d: %s\n", in ? "read" : "write", port,
			size, verdict, out.msg);
		fz_die("a port access did not resume the guest");
	}
	return (uint32_t)vcpu_gpr(v, GPR_RAX);
}

struct fz_input {
	const uint8_t *p;
	size_t left;
};

static uint32_t fz_take(struct fz_input *in, unsigned n)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < n && in->left; i++, in->p++, in->left--)
		v |= (uint32_t)*in->p << (8 * i);
	return v;
}

#define FZ_DEVS 3
#define FZ_FNS 4

/* The bits of each function's first 16 bytes and BARs that no write may
 * change: IDs, class, revision, header type, BAR flag bits. */
static void fz_snapshot(struct vmx_dev *const *devs, uint8_t out[FZ_FNS][0x28])
{
	unsigned k = 0;
	for (unsigned d = 0; d < FZ_DEVS; d++)
		for (unsigned f = 0; f < devs[d]->ops->npci; f++, k++)
			for (unsigned r = 0; r < 0x28; r++)
				out[k][r] = (uint8_t)devs[d]->ops->cfg_read(devs[d]->state, f, r, 1);
}

static void fz_check_fixed(struct vmx_dev *const *devs, uint8_t before[FZ_FNS][0x28])
{
	static const uint8_t fixed[] = { 0, 1, 2, 3, 8, 9, 10, 11, 14 };
	uint8_t now[FZ_FNS][0x28];

	fz_snapshot(devs, now);
	for (unsigned k = 0; k < FZ_FNS; k++) {
		for (unsigned i = 0; i < sizeof(fixed); i++)
			if (now[k][fixed[i]] != before[k][fixed[i]])
				fz_die("a read-only ID, class or header type register changed");
		for (unsigned b = 0; b < 6; b++) {
			uint8_t was = before[k][0x10 + 4 * b], mask = was & PCI_BAR_IO ? 0x03 : 0x0f;
			if ((now[k][0x10 + 4 * b] ^ was) & mask)
				fz_die("a BAR's flag bits changed");
		}
	}
}

static const uint8_t fz_devfns[] = { PCI_DEVFN(0, 0), PCI_DEVFN(1, 0), PCI_DEVFN(1, 1), PCI_DEVFN(2, 0) };

/* The devices of both placements, made once (the VGA's 7 MiB of buffers
 * per input would be most of the target's time) and reset before each
 * input, as a machine reset does; the handler build and the vCPU are new
 * each input. */
static struct platform *fz_plat[2];
static struct vmx_dev *fz_devs[2][FZ_DEVS];

static struct vmx_dev *const *fz_machine(bool dm)
{
	static const char *const names[FZ_DEVS] = { "i440fx", "ide", "vga" };
	static const char *const opts[FZ_DEVS] = { "", "size=64K", "vram=trap,refresh_hz=0" };
	char err[256];

	if (!fz_plat[dm]) {
		struct platform_config pc = { .ram = fz_ram, .ram_size = FZ_RAM };
		if (!(fz_plat[dm] = platform_new(&pc)))
			fz_die("out of memory");
		for (unsigned i = 0; i < FZ_DEVS; i++)
			if (!(fz_devs[dm][i] = platform_add(fz_plat[dm], vmx_dev_lookup(names[i]), opts[i],
							     dm ? PLACE_DM : PLACE_HV, true, err, sizeof(err))))
				fz_die(err);
	}
	for (unsigned i = 0; i < FZ_DEVS; i++)
		fz_devs[dm][i]->ops->reset(fz_devs[dm][i]->state);
	return fz_devs[dm];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_input in = { data, size };
	bool dm = fz_take(&in, 1) & 1;
	char err[256];
	struct vmx_dev *const *devs = fz_machine(dm);
	struct hv_host host = { .ndevs = FZ_DEVS, .devs = devs, .ioreq = fz_ioreq, .now = fz_now, .trace = fz_trace,
				.log = fz_log };
	void *hv = vmxlab_hv.init(&host, err, sizeof(err));
	struct vmx_vcpu *v = vmx_synth_create(0);
	if (!hv || !v)
		fz_die("init");
	vmx_synth_add_ram(v, 0, FZ_RAM);
	vcpu_vmwrite(v, VMCS_GUEST_CR0, X86_CR0_PE | X86_CR0_NE | X86_CR0_ET);
	vcpu_vmwrite(v, VMCS_GUEST_RFLAGS, 0x2);

	uint8_t fixed[FZ_FNS][0x28];
	fz_snapshot(devs, fixed);
	for (unsigned n = 0; in.left && n < FZ_MAX_OPS; n++) {
		uint8_t op = (uint8_t)fz_take(&in, 1);
		unsigned sz = 1u << ((op >> 3) % 3);
		switch (op & 7) {
		case 0:         /* CONFIG_ADDRESS: a real function and register, or anything */
			if (op & 0x80)
				fz_io(hv, v, false, PCI_CONFIG_ADDRESS, 4, fz_take(&in, 4));
			else
				fz_io(hv, v, false, PCI_CONFIG_ADDRESS, 4,
				      PCI_CA_ENABLE | (uint32_t)fz_devfns[(op >> 5) & 3] << 8 | (fz_take(&in, 1) & 0xfc));
			break;
		case 1:         /* CONFIG_DATA read at any byte lane, any size */
			(void)fz_io(hv, v, true, (uint16_t)(PCI_CONFIG_DATA + fz_take(&in, 1) % 4), sz, 0);
			break;
		case 2:         /* CONFIG_DATA write */
		case 3:
			fz_io(hv, v, false, (uint16_t)(PCI_CONFIG_DATA + fz_take(&in, 1) % 4), sz, fz_take(&in, 4));
			fz_check_fixed(devs, fixed);
			break;
		case 4:         /* a port near where BAR4 points now, or its reset place */
		{
			uint32_t bar = devs[1]->ops->cfg_read(devs[1]->state, 0, PCI_BAR0 + 16, 4) & PCI_BAR_IO_MASK;
			uint16_t port = (uint16_t)(((op & 0x80) ? 0xc000 : bar) + fz_take(&in, 1) % 20);
			if (op & 0x40)
				fz_io(hv, v, false, port, sz, fz_take(&in, 4));
			else
				(void)fz_io(hv, v, true, port, sz, 0);
			break;
		}
		case 5:         /* CONFIG_ADDRESS read back, byte accesses to 0xcf8-0xcfb */
			if (op & 0x80)
				(void)fz_io(hv, v, true, PCI_CONFIG_ADDRESS, 4, 0);
			else
				fz_io(hv, v, false, (uint16_t)(PCI_CONFIG_ADDRESS + fz_take(&in, 1) % 4), 1, fz_take(&in, 1));
			break;
		default:        /* any port, any size */
		{
			uint16_t port = (uint16_t)fz_take(&in, 2);
			if (op & 0x40)
				fz_io(hv, v, false, port, sz, fz_take(&in, 4));
			else
				(void)fz_io(hv, v, true, port, sz, 0);
			break;
		}
		}
	}

	/* A guest that programs the function properly gets its registers. */
	fz_io(hv, v, false, PCI_CONFIG_ADDRESS, 4, PCI_CA_ENABLE | PCI_DEVFN(1, 1) << 8 | (PCI_BAR0 + 16));
	fz_io(hv, v, false, PCI_CONFIG_DATA, 4, 0xc400);
	fz_io(hv, v, false, PCI_CONFIG_ADDRESS, 4, PCI_CA_ENABLE | PCI_DEVFN(1, 1) << 8 | PCI_COMMAND);
	fz_io(hv, v, false, PCI_CONFIG_DATA, 2, PCI_CMD_IO | PCI_CMD_MASTER);
	fz_io(hv, v, false, 0xc404, 4, 0x4000);
	if (fz_io(hv, v, true, 0xc404, 4, 0) != 0x4000)
		fz_die("BAR4 programmed to 0xc400 with I/O decode on, but the bus-master registers do not answer there");
	vmxlab_hv.fini(hv);
	vmx_synth_destroy(v);
	return 0;
}
