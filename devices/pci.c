/*
 * A PCI function's configuration space as its device model keeps it
 * (pci.h): the type 0 header, BAR sizing, the writable-bit mask.
 * PCI Local Bus Specification 3.0 chapter 6.
 */
#include <string.h>

#include <vmxlab/pci.h>

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static uint32_t get32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void pci_cfg_init(struct pci_cfg *c, uint16_t vendor, uint16_t device, uint32_t class_code, uint8_t revision,
		  uint8_t header_type)
{
	memset(c, 0, sizeof(*c));
	put16(c->regs + PCI_VENDOR_ID, vendor);
	put16(c->regs + PCI_DEVICE_ID, device);
	c->regs[PCI_REVISION_ID] = revision;
	c->regs[PCI_REVISION_ID + 1] = (uint8_t)class_code;
	c->regs[PCI_REVISION_ID + 2] = (uint8_t)(class_code >> 8);
	c->regs[PCI_REVISION_ID + 3] = (uint8_t)(class_code >> 16);
	c->regs[PCI_HEADER_TYPE] = header_type;
	c->wmask[PCI_COMMAND] = PCI_CMD_IO | PCI_CMD_MEM | PCI_CMD_MASTER;
	c->wmask[PCI_COMMAND + 1] = PCI_CMD_INTX_DIS >> 8;
	c->wmask[PCI_CACHE_LINE] = 0xff;
	c->wmask[PCI_LATENCY_TIMER] = 0xff;
	c->wmask[PCI_INTERRUPT_LINE] = 0xff;
}

void pci_cfg_bar(struct pci_cfg *c, unsigned n, uint32_t size, bool io, bool prefetch, uint32_t addr)
{
	if (n >= PCI_NUM_BARS || size < (io ? 4u : 16u) || (size & (size - 1)))
		return;
	uint32_t flags = io ? PCI_BAR_IO : prefetch ? PCI_BAR_PREFETCH : 0;
	uint32_t mask = ~(size - 1) & (io ? PCI_BAR_IO_MASK : PCI_BAR_MEM_MASK);
	c->bar_size[n] = size;
	put32(c->regs + PCI_BAR0 + 4 * n, (addr & mask) | flags);
	put32(c->wmask + PCI_BAR0 + 4 * n, mask);
}

uint32_t pci_cfg_read(const struct pci_cfg *c, unsigned off, unsigned size)
{
	uint32_t v = 0;

	if (size > 4 || off > 256 - size)
		return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)c->regs[off + i] << (8 * i);
	return v;
}

void pci_cfg_write(struct pci_cfg *c, unsigned off, unsigned size, uint32_t val)
{
	if (size > 4 || off > 256 - size)
		return;
	for (unsigned i = 0; i < size; i++) {
		uint8_t m = c->wmask[off + i], b = (uint8_t)(val >> (8 * i));
		c->regs[off + i] = (uint8_t)((c->regs[off + i] & ~m) | (b & m));
	}
}

uint32_t pci_cfg_bar_base(const struct pci_cfg *c, unsigned n)
{
	if (n >= PCI_NUM_BARS || !c->bar_size[n])
		return 0;
	uint32_t v = get32(c->regs + PCI_BAR0 + 4 * n);
	return v & (v & PCI_BAR_IO ? PCI_BAR_IO_MASK : PCI_BAR_MEM_MASK);
}

uint16_t pci_cfg_command(const struct pci_cfg *c)
{
	return (uint16_t)pci_cfg_read(c, PCI_COMMAND, 2);
}

int pci_cfg_restore(struct pci_cfg *c, const uint8_t regs[256])
{
	for (unsigned i = 0; i < 256; i++)
		if ((regs[i] ^ c->regs[i]) & ~c->wmask[i])
			return -1;
	memcpy(c->regs, regs, 256);
	return 0;
}

void pci_cfg_dump(const struct pci_cfg *c, const char *name, FILE *out)
{
	fprintf(out, "%s: pci %04x:%04x class %06x command 0x%04x irq line %u", name,
		pci_cfg_read(c, PCI_VENDOR_ID, 2), pci_cfg_read(c, PCI_DEVICE_ID, 2),
		pci_cfg_read(c, PCI_REVISION_ID, 4) >> 8, pci_cfg_command(c), c->regs[PCI_INTERRUPT_LINE]);
	for (unsigned n = 0; n < PCI_NUM_BARS; n++)
		if (c->bar_size[n])
			fprintf(out, " bar%u %s 0x%x+0x%x", n, get32(c->regs + PCI_BAR0 + 4 * n) & PCI_BAR_IO ? "io" : "mem",
				pci_cfg_bar_base(c, n), c->bar_size[n]);
	fputc('\n', out);
}
