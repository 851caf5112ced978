/*
 * The PCI bus from the guest's side: configuration mechanism #1 through
 * the reference handler build (hv/pci.c) onto the real i440fx and ide
 * models, placed in this process or behind the ioreq interface; BAR sizing
 * and moves with the bus-master window following; bad programming bounded.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmxlab/hv.h>
#include <vmxlab/pci.h>
#include <vmxlab/platform.h>
#include <vmxlab/vcpu.h>
#include <vmxlab/vmx.h>

extern const struct vmxlab_hv vmxlab_hv;

static struct {
	struct platform *plat;
	struct hv_host host;
	struct vmx_dev *devp[PLATFORM_MAX_DEVS];
	unsigned nreq, ncfg;
	char log[16384];
	uint8_t ram[1 << 20];
} H;

static struct vmx_vcpu *v;
static void *hv;
static struct hv_exit out;

static void h_log(void *ctx, int level, const char *fmt, va_list ap)
{
	size_t n = strlen(H.log);
	(void)ctx;
	(void)level;
	if (n + 2 < sizeof(H.log)) {
		vsnprintf(H.log + n, sizeof(H.log) - n - 1, fmt, ap);
		strcat(H.log, "\n");
	}
}

static void h_trace(void *ctx, uint32_t ev, const uint32_t *w, unsigned n)
{
	(void)ctx, (void)ev, (void)w, (void)n;
}

static vtime_t h_now(void *ctx)
{
	(void)ctx;
	return 0;
}

/* The device-model side, in process: what vmxlab-dm's do_io does. */
static int h_ioreq(void *ctx, struct vmx_dev *dev, struct vmx_ioreq *req)
{
	(void)ctx;
	H.nreq++;
	if (req->type == IOREQ_PCI_CFG) {
		H.ncfg++;
		assert_true((req->addr >> 8) < dev->ops->npci);
		assert_true((req->addr & 0xff) + req->size <= 256);
		if (req->dir)
			req->data = dev->ops->cfg_read(dev->state, (unsigned)(req->addr >> 8), req->addr & 0xff, req->size);
		else
			dev->ops->cfg_write(dev->state, (unsigned)(req->addr >> 8), req->addr & 0xff, req->size,
					    (uint32_t)req->data);
	} else if (req->type == IOREQ_PIO) {
		if (req->dir)
			req->data = dev->ops->pio_read(dev->state, req->range, (uint16_t)req->addr, req->size);
		else
			dev->ops->pio_write(dev->state, req->range, (uint16_t)req->addr, req->size, (uint32_t)req->data);
	} else {
		return -1;
	}
	return 0;
}

static int setup_with(enum vmx_placement placement)
{
	char err[256] = "";
	memset(&H, 0, sizeof(H));
	struct platform_config pc = { .ram = H.ram, .ram_size = sizeof(H.ram) };
	H.plat = platform_new(&pc);
	const char *names[] = { "i440fx", "ide" };
	for (unsigned i = 0; i < 2; i++) {
		struct vmx_dev *d = platform_add(H.plat, vmx_dev_lookup(names[i]), "", placement, true, err,
						 sizeof(err));
		if (!d) {
			print_message("%s: %s\n", names[i], err);
			return -1;
		}
		/* placed dm: instantiated here all the same, served by h_ioreq */
		H.devp[i] = d;
	}
	H.host = (struct hv_host){ .ctx = &H, .ndevs = 2, .devs = H.devp, .ioreq = h_ioreq, .now = h_now,
				   .trace = h_trace, .log = h_log };
	v = vmx_synth_create(0);
	vmx_synth_add_ram(v, 0, 16 << 20);
	vcpu_vmwrite(v, VMCS_GUEST_CR0, X86_CR0_PE | X86_CR0_NE | X86_CR0_ET);
	vcpu_vmwrite(v, VMCS_GUEST_RFLAGS, 0x2);
	hv = vmxlab_hv.init(&H.host, err, sizeof(err));
	if (!hv)
		print_message("init: %s\n", err);
	return hv ? 0 : -1;
}

static int setup_hv(void **state)
{
	(void)state;
	return setup_with(PLACE_HV);
}

static int setup_dm(void **state)
{
	(void)state;
	return setup_with(PLACE_DM);
}

static int teardown(void **state)
{
	(void)state;
	vmxlab_hv.fini(hv);
	vmx_synth_destroy(v);
	platform_free(H.plat);
	return 0;
}

/* One IN or OUT with the port in DX (SDM Vol. 3C Table 28-5). */
static uint32_t io(bool in, uint16_t port, unsigned size, uint32_t val)
{
	uint64_t qual = (uint64_t)port << 16 | 1u << 6 | (in ? 1u << 3 : 0) | (size - 1);
	vcpu_vmwrite(v, VMCS_GUEST_RIP, 0x1000);
	vcpu_set_gpr(v, GPR_RAX, in ? 0x5a5a5a5a5a5a5a5aull : val);
	vmx_synth_set(v, VMCS_VM_EXIT_REASON, EXIT_REASON_IO_INSTRUCTION);
	vmx_synth_set(v, VMCS_EXIT_QUALIFICATION, qual);
	vmx_synth_set(v, VMCS_VM_EXIT_INSTRUCTION_LEN, 1);
	vmx_synth_set(v, VMCS_IDT_VECTORING_INFO, 0);
	vcpu_vmwrite(v, VMCS_VM_ENTRY_INTR_INFO, 0);
	memset(&out, 0, sizeof(out));
	assert_int_equal(vmxlab_hv.handle_exit(hv, v, &out), HV_RESUME);
	uint64_t rax = vcpu_gpr(v, GPR_RAX);
	return (uint32_t)(size == 4 ? rax : rax & ((1u << (8 * size)) - 1));
}

static uint32_t cfg_read(unsigned devfn, unsigned reg, unsigned size)
{
	io(false, PCI_CONFIG_ADDRESS, 4, PCI_CA_ENABLE | devfn << 8 | (reg & 0xfc));
	return io(true, (uint16_t)(PCI_CONFIG_DATA + (reg & 3)), size, 0);
}

static void cfg_write(unsigned devfn, unsigned reg, unsigned size, uint32_t val)
{
	io(false, PCI_CONFIG_ADDRESS, 4, PCI_CA_ENABLE | devfn << 8 | (reg & 0xfc));
	io(false, (uint16_t)(PCI_CONFIG_DATA + (reg & 3)), size, val);
}

#define HOST PCI_DEVFN(0, 0)
#define ISA  PCI_DEVFN(1, 0)
#define IDE  PCI_DEVFN(1, 1)

static void linux_finds_the_bus_and_the_functions(void **state)
{
	(void)state;
	/* pci_check_type1: a byte to 0xcfb is not CONFIG_ADDRESS; the dword
	 * written reads back. */
	io(false, 0xcfb, 1, 0x01);
	io(false, PCI_CONFIG_ADDRESS, 4, 0x80000000);
	assert_int_equal(io(true, PCI_CONFIG_ADDRESS, 4, 0), 0x80000000);
	assert_int_equal(cfg_read(HOST, PCI_VENDOR_ID, 4), 0x12378086);
	assert_int_equal(cfg_read(HOST, PCI_REVISION_ID + 2, 2), 0x0600);   /* host bridge */
	assert_int_equal(cfg_read(ISA, PCI_VENDOR_ID, 4), 0x70008086);
	assert_int_equal(cfg_read(ISA, PCI_HEADER_TYPE, 1) & PCI_HEADER_MULTIFN, PCI_HEADER_MULTIFN);
	assert_int_equal(cfg_read(IDE, PCI_VENDOR_ID, 4), 0x70108086);
	assert_int_equal(cfg_read(IDE, PCI_REVISION_ID, 4) >> 8, 0x010180);
	assert_int_equal(cfg_read(IDE, PCI_BAR0 + 16, 4), 0xc001);
	assert_int_equal(cfg_read(IDE, PCI_INTERRUPT_PIN, 1), 0);
	assert_int_equal(cfg_read(IDE, 0x41, 1) & 0x80, 0x80);               /* primary decode on */
	assert_int_equal(cfg_read(IDE, 0x43, 1) & 0x80, 0);                  /* secondary off */
	/* an unaligned word inside the dword, and byte lanes */
	assert_int_equal(cfg_read(IDE, PCI_DEVICE_ID, 2), 0x7010);
	assert_int_equal(cfg_read(IDE, PCI_VENDOR_ID + 1, 1), 0x80);
	/* IDs are read-only */
	cfg_write(IDE, PCI_VENDOR_ID, 4, 0);
	assert_int_equal(cfg_read(IDE, PCI_VENDOR_ID, 4), 0x70108086);
	/* absent functions and buses read all ones, logged once */
	assert_int_equal(cfg_read(PCI_DEVFN(5, 0), PCI_VENDOR_ID, 4), 0xffffffff);
	assert_int_equal(cfg_read(PCI_DEVFN(1, 2), PCI_VENDOR_ID, 2), 0xffff);
	io(false, PCI_CONFIG_ADDRESS, 4, PCI_CA_ENABLE | 1u << 16);
	assert_int_equal(io(true, PCI_CONFIG_DATA, 4, 0), 0xffffffff);
	cfg_write(PCI_DEVFN(7, 0), PCI_COMMAND, 2, 7);
	const char *first = strstr(H.log, "absent PCI function");
	assert_non_null(first);
	assert_null(strstr(first + 1, "absent PCI function"));
	/* with the enable bit clear, CONFIG_DATA is not a configuration cycle */
	io(false, PCI_CONFIG_ADDRESS, 4, IDE << 8);
	assert_int_equal(io(true, PCI_CONFIG_DATA, 4, 0), 0xffffffff);
}

static void bus_master_window_follows_bar4(void **state)
{
	(void)state;
	/* The bus-master registers answer at 0xc000 after reset: PRDT round trips. */
	io(false, 0xc004, 4, 0x12340);
	assert_int_equal(io(true, 0xc004, 4, 0), 0x12340);
	/* Linux's sizing: decode off, all ones, read back ~(16-1) | I/O. */
	cfg_write(IDE, PCI_COMMAND, 2, PCI_CMD_MASTER);
	assert_int_equal(io(true, 0xc004, 4, 0), 0xffffffff);  /* dark */
	cfg_write(IDE, PCI_BAR0 + 16, 4, 0xffffffff);
	assert_int_equal(cfg_read(IDE, PCI_BAR0 + 16, 4), 0xfffffff1);
	cfg_write(IDE, PCI_BAR0 + 16, 4, 0xd000);
	cfg_write(IDE, PCI_COMMAND, 2, PCI_CMD_IO | PCI_CMD_MASTER);
	assert_int_equal(io(true, 0xd004, 4, 0), 0x12340);
	assert_int_equal(io(true, 0xc004, 4, 0), 0xffffffff);
	/* the absent secondary channel's registers read 0 */
	assert_int_equal(io(true, 0xd00a, 1, 0), 0);
	assert_non_null(strstr(H.log, "BAR4 ports 0xd000-0xd00f decoded"));
}

static void bad_bars_stay_dark_and_are_logged_once(void **state)
{
	(void)state;
	/* onto the ATA command block: another device's ports */
	cfg_write(IDE, PCI_BAR0 + 16, 4, 0x1f0);
	assert_int_equal(io(true, 0x1f7, 1, 0) & 0x80, 0);    /* still the ATA status, not a BM register */
	assert_non_null(strstr(H.log, "both claim port"));
	/* outside the port space while decoded: dark, not logged again */
	cfg_write(IDE, PCI_BAR0 + 16, 4, 0xfffffff0);
	assert_null(strstr(strstr(H.log, "is not decoded") + 1, "is not decoded"));
	/* programmed properly again, it answers */
	io(false, PCI_CONFIG_ADDRESS, 4, PCI_CA_ENABLE | IDE << 8 | (PCI_BAR0 + 16));
	io(false, PCI_CONFIG_DATA, 4, 0xe000);
	io(false, 0xe004, 4, 0x800);
	assert_int_equal(io(true, 0xe004, 4, 0), 0x800);
	/* a dword that runs past 0xcff is split: its first byte is config data */
	io(false, PCI_CONFIG_ADDRESS, 4, PCI_CA_ENABLE | IDE << 8);
	assert_int_equal(io(true, 0xcff, 4, 0) & 0xff, 0x70);
}

/* ------------------------------------------------------------ pci.h helper */

static void bar_sizing_and_write_masks(void **state)
{
	(void)state;
	struct pci_cfg c, fresh;
	pci_cfg_init(&c, 0x1234, 0x1111, 0x030000, 2, 0);
	pci_cfg_bar(&c, 0, 16 << 20, false, true, 0xe0000000);
	fresh = c;
	assert_int_equal(pci_cfg_read(&c, PCI_BAR0, 4), 0xe0000008);
	pci_cfg_write(&c, PCI_BAR0, 4, 0xffffffff);
	assert_int_equal(pci_cfg_read(&c, PCI_BAR0, 4), 0xff000008);
	pci_cfg_write(&c, PCI_BAR0 + 3, 1, 0xc1);
	assert_int_equal(pci_cfg_bar_base(&c, 0), 0xc1000000);
	/* outside the 256 bytes */
	assert_int_equal(pci_cfg_read(&c, 255, 2), 0xffff);
	pci_cfg_write(&c, 254, 4, 0);
	/* a damaged image: a read-only bit differs */
	uint8_t img[256];
	memcpy(img, c.regs, 256);
	img[PCI_DEVICE_ID] ^= 1;
	assert_int_equal(pci_cfg_restore(&fresh, img), -1);
	assert_int_equal(pci_cfg_bar_base(&fresh, 0), 0xe0000000);
	img[PCI_DEVICE_ID] ^= 1;
	assert_int_equal(pci_cfg_restore(&fresh, img), 0);
	assert_int_equal(pci_cfg_bar_base(&fresh, 0), 0xc1000000);
}

static void chipset_and_ide_images_round_trip(void **state)
{
	(void)state;
	char err[128];
	struct platform_config pc = { 0 };
	struct platform *p = platform_new(&pc);
	struct vmx_dev *c = platform_add(p, vmx_dev_lookup("i440fx"), "", PLACE_HV, true, err, sizeof(err));
	assert_non_null(c);
	assert_null(platform_add(p, vmx_dev_lookup("i440fx"), "x=1", PLACE_HV, true, err, sizeof(err)));
	c->ops->cfg_write(c->state, 1, 0x60, 1, 0x0b);   /* PIRQRC[A] = IRQ 11 */
	uint8_t buf[1024];
	long n = c->ops->save(c->state, buf, sizeof(buf));
	assert_true(n > 0);
	c->ops->reset(c->state);
	assert_int_equal(c->ops->cfg_read(c->state, 1, 0x60, 1), 0x80);
	assert_int_equal(c->ops->restore(c->state, buf, (size_t)n), 0);
	assert_int_equal(c->ops->cfg_read(c->state, 1, 0x60, 1), 0x0b);
	buf[8] ^= 0xff;   /* the host bridge's vendor ID */
	assert_int_equal(c->ops->restore(c->state, buf, (size_t)n), -1);
	char *dump = NULL;
	size_t dlen = 0;
	FILE *f = open_memstream(&dump, &dlen);
	c->ops->dump(c->state, f);
	fclose(f);
	assert_non_null(strstr(dump, "8086:1237"));
	assert_non_null(strstr(dump, "PIRQRC A-D 0b 80 80 80"));
	free(dump);
	platform_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(linux_finds_the_bus_and_the_functions, setup_hv, teardown),
		cmocka_unit_test_setup_teardown(linux_finds_the_bus_and_the_functions, setup_dm, teardown),
		cmocka_unit_test_setup_teardown(bus_master_window_follows_bar4, setup_hv, teardown),
		cmocka_unit_test_setup_teardown(bus_master_window_follows_bar4, setup_dm, teardown),
		cmocka_unit_test_setup_teardown(bad_bars_stay_dark_and_are_logged_once, setup_hv, teardown),
		cmocka_unit_test_setup_teardown(bad_bars_stay_dark_and_are_logged_once, setup_dm, teardown),
		cmocka_unit_test(bar_sizing_and_write_masks),
		cmocka_unit_test(chipset_and_ide_images_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
