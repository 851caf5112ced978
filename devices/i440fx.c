/*
 * i440fx.c - the PC's PCI chipset as configuration space: the Intel 82441FX
 * host bridge (00:00.0, "Intel 440FX PCIset" datasheet, 82441FX PMC) and the
 * 82371SB PIIX3's PCI-to-ISA bridge (00:01.0, "82371FB (PIIX) and 82371SB
 * (PIIX3) PCI ISA IDE Xcelerator" datasheet, function 0).  Its other
 * function, the IDE controller 00:01.1, is the ide device (ide.c).
 *
 * Configuration mechanism #1 itself (0xcf8/0xcfc) is the hypervisor's
 * (hv/pci.c), which sends each function's accesses to its device wherever
 * that is placed; this device serves the two functions above.  A guest
 * finds the bus through them: Linux's pci_sanity_check looks for a host
 * bridge class or an Intel vendor ID on bus 0.
 *
 * What is modelled, and what is kept but has no effect:
 * - IDs, class, revision and header type as the parts report them (the
 *   ISA bridge's header type has the multi-function bit: 00:01.1 exists).
 * - 82441FX PAM0-PAM6 (0x59-0x5f) and SMRAM (0x72) are writable and read
 *   back; vmxlab's memory below 1 MiB is always RAM, so they change nothing.
 * - PIIX3 PIRQRC[A:D] (0x60-0x63): PCI INTA#-INTD# to ISA IRQ routing.
 *
 *     7        6..4      3..0
 *   +---------+--------+----------------+
 *   | disable | rsvd 0 | IRQ (3-7,9-12, |
 *   |         |        |  14-15)        |
 *   +---------+--------+----------------+
 *
 *   Reset value 0x80 (routing disabled, as the datasheet gives it).  The
 *   registers are kept for a PCI function with an interrupt pin; none of
 *   the functions modelled today uses one (IDE in compatibility mode
 *   drives IRQ 14 directly).
 * - The host bridge's memory controller registers (DRAM rows, 0x50-0x57,
 *   0x60-0x67 of 82441FX) read 0: the guest learns its RAM from e820.
 */
#include <stdio.h>
#include <string.h>

#include <vmxlab/dev.h>
#include <vmxlab/pci.h>

enum { FN_HOST, FN_ISA, FN_COUNT };

#define PAM0     0x59
#define PAM_LAST 0x5f
#define SMRAM    0x72
#define PIRQRC   0x60    /* PIIX3 function 0: four registers, INTA#-INTD# */
#define PIRQRC_DISABLE 0x80

struct i440fx_state {
	const struct vmx_platform *plat;
	struct pci_cfg fn[FN_COUNT];    /* 00:00.0 82441FX, 00:01.0 PIIX3 ISA */
};

static void i440fx_reset(void *s)
{
	struct i440fx_state *c = s;
	struct pci_cfg *h = &c->fn[FN_HOST], *isa = &c->fn[FN_ISA];

	pci_cfg_init(h, 0x8086, 0x1237, 0x060000, 0x02, 0x00);
	memset(h->wmask + PAM0, 0xff, PAM_LAST - PAM0 + 1);
	h->wmask[SMRAM] = 0xff;
	h->regs[SMRAM] = 0x02;                  /* the datasheet's reset value */

	pci_cfg_init(isa, 0x8086, 0x7000, 0x060100, 0x00, PCI_HEADER_MULTIFN);
	for (unsigned i = 0; i < 4; i++) {
		isa->regs[PIRQRC + i] = PIRQRC_DISABLE;
		isa->wmask[PIRQRC + i] = 0x8f;
	}
	/* Command: the ISA bridge always decodes and masters (PIIX3 PCICMD
	 * bits 0-2 read 1). */
	isa->regs[PCI_COMMAND] = PCI_CMD_IO | PCI_CMD_MEM | PCI_CMD_MASTER;
	isa->wmask[PCI_COMMAND] = 0;
	h->regs[PCI_COMMAND] = PCI_CMD_MEM;
}

static int i440fx_init(void *s, const struct vmx_platform *plat, const char *options)
{
	struct i440fx_state *c = s;

	c->plat = plat;
	if (options && *options) {
		if (plat && plat->log)
			plat->log(plat->ctx, "i440fx", "takes no options (given '%s')", options);
		return -1;
	}
	return 0;
}

static uint32_t i440fx_cfg_read(void *s, unsigned fn, unsigned off, unsigned size)
{
	struct i440fx_state *c = s;

	return fn < FN_COUNT ? pci_cfg_read(&c->fn[fn], off, size) : 0xffffffffu;
}

static void i440fx_cfg_write(void *s, unsigned fn, unsigned off, unsigned size, uint32_t val)
{
	struct i440fx_state *c = s;

	if (fn < FN_COUNT)
		pci_cfg_write(&c->fn[fn], off, size, val);
}

#define I440FX_IMAGE_MAGIC 0x78663434u   /* "44fx" */

struct i440fx_image {
	uint32_t magic, size;
	uint8_t regs[FN_COUNT][256];
};

static long i440fx_save(const void *s, void *buf, size_t len)
{
	const struct i440fx_state *c = s;
	struct i440fx_image img = { I440FX_IMAGE_MAGIC, sizeof(img), { { 0 } } };

	if (len < sizeof(img))
		return -1;
	for (unsigned f = 0; f < FN_COUNT; f++)
		memcpy(img.regs[f], c->fn[f].regs, 256);
	memcpy(buf, &img, sizeof(img));
	return sizeof(img);
}

static int i440fx_restore(void *s, const void *buf, size_t len)
{
	struct i440fx_state *c = s, fresh;
	struct i440fx_image img;

	if (len != sizeof(img))
		return -1;
	memcpy(&img, buf, sizeof(img));
	fresh = *c;
	if (img.magic != I440FX_IMAGE_MAGIC || img.size != sizeof(img))
		return -1;
	for (unsigned f = 0; f < FN_COUNT; f++)
		if (pci_cfg_restore(&fresh.fn[f], img.regs[f]))
			return -1;
	*c = fresh;
	return 0;
}

static void i440fx_dump(const void *s, FILE *out)
{
	const struct i440fx_state *c = s;
	const uint8_t *isa = c->fn[FN_ISA].regs;

	pci_cfg_dump(&c->fn[FN_HOST], "00:00.0 82441FX host bridge", out);
	fprintf(out, "  PAM0-6 %02x %02x %02x %02x %02x %02x %02x SMRAM %02x\n", c->fn[FN_HOST].regs[PAM0],
		c->fn[FN_HOST].regs[PAM0 + 1], c->fn[FN_HOST].regs[PAM0 + 2], c->fn[FN_HOST].regs[PAM0 + 3],
		c->fn[FN_HOST].regs[PAM0 + 4], c->fn[FN_HOST].regs[PAM0 + 5], c->fn[FN_HOST].regs[PAM0 + 6],
		c->fn[FN_HOST].regs[SMRAM]);
	pci_cfg_dump(&c->fn[FN_ISA], "00:01.0 PIIX3 ISA bridge", out);
	fprintf(out, "  PIRQRC A-D %02x %02x %02x %02x\n", isa[PIRQRC], isa[PIRQRC + 1], isa[PIRQRC + 2],
		isa[PIRQRC + 3]);
}

const struct vmx_dev_ops i440fx_dev_ops = {
	.name = "i440fx",
	.state_size = sizeof(struct i440fx_state),
	.init = i440fx_init,
	.reset = i440fx_reset,
	.save = i440fx_save,
	.restore = i440fx_restore,
	.dump = i440fx_dump,
	.cfg_read = i440fx_cfg_read,
	.cfg_write = i440fx_cfg_write,
	.npci = FN_COUNT,
	.pci_devfn = { [FN_HOST] = PCI_DEVFN(0, 0), [FN_ISA] = PCI_DEVFN(1, 0) },
};
