/*
 * PCI configuration mechanism #1 (PCI Local Bus Specification 3.0,
 * 3.2.2.3.2), decoded in the hypervisor as Xen does since its ioreq servers:
 * CONFIG_ADDRESS (0xcf8) is latched here and each CONFIG_DATA (0xcfc-0xcff)
 * access goes to the function's device - called directly when it is placed
 * hv, as an IOREQ_PCI_CFG request when it is placed dm.  Only bus 0 exists.
 *
 * A device's BAR-placed windows (dev.h VMX_DEV_BAR) follow the guest: after
 * a configuration write that touches the command register or a BAR, the
 * function's BARs and command are read back from the device and each window
 * is moved to its BAR's address, lit while the command register enables its
 * space (I/O Space or Memory Space Enable, PCI 3.0 6.2.2) and dark
 * otherwise.  A window the guest points outside the port space, across 4
 * GiB, onto RAM or onto another device's window stays dark until the BAR
 * is programmed again; that is logged once per function.  Accesses to an
 * absent function read all ones and drop writes (the host bridge's master
 * abort), logged once.
 */
#include <string.h>

#include <vmxlab/pci.h>

#include "hv_priv.h"

bool pci_port(const struct hv *hv, uint16_t port)
{
	return hv->pci_present && port >= PCI_CONFIG_ADDRESS && port < PCI_CONFIG_DATA + 4;
}

int pci_init(struct hv *hv, char *err, size_t errlen)
{
	for (unsigned d = 0; d < hv->host->ndevs; d++) {
		struct vmx_dev *dev = hv->host->devs[d];
		const struct vmx_dev_ops *ops = dev->ops;
		if (!ops->npci)
			continue;
		if (ops->npci > VMX_DEV_MAX_PCI || !ops->cfg_read || !ops->cfg_write) {
			snprintf(err, errlen, "device %s: bad PCI function table", ops->name);
			return -1;
		}
		for (unsigned f = 0; f < ops->npci; f++) {
			struct pci_slot *sl = &hv->pci[ops->pci_devfn[f]];
			if (sl->dev) {
				snprintf(err, errlen, "devices %s and %s are both PCI function %02x.%u", sl->dev->ops->name,
					 ops->name, ops->pci_devfn[f] >> 3, ops->pci_devfn[f] & 7);
				return -1;
			}
			*sl = (struct pci_slot){ dev, (uint8_t)f };
		}
		hv->pci_present = true;
	}
	return 0;
}

static int cfg_access(struct hv *hv, const struct pci_slot *sl, unsigned off, unsigned size, bool write,
		      uint32_t *val)
{
	struct vmx_dev *dev = sl->dev;
	uint32_t mask = size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;

	if (dev->placement == PLACE_HV) {
		if (write)
			dev->ops->cfg_write(dev->state, sl->fn, off, size, *val & mask);
		else
			*val = dev->ops->cfg_read(dev->state, sl->fn, off, size) & mask;
		return 0;
	}
	struct vmx_ioreq req = { .addr = (uint64_t)sl->fn << 8 | off, .data = write ? *val & mask : 0,
				 .size = size, .type = IOREQ_PCI_CFG, .dir = !write };
	if (dm_request(hv, dev, &req))
		return -1;
	if (!write)
		*val = (uint32_t)req.data & mask;
	return 0;
}

static void bar_trouble(struct hv *hv, uint8_t devfn, const char *fmt, const char *name, unsigned bar,
			uint64_t base, uint64_t end, const char *why)
{
	uint8_t bit = (uint8_t)(1u << (devfn & 7));

	if (hv->pci_warned[devfn >> 3] & bit)
		return;
	hv->pci_warned[devfn >> 3] |= bit;
	hv_log(hv, 1, fmt, devfn >> 3, devfn & 7, name, bar, (unsigned long long)base, (unsigned long long)end - 1,
	       why);
}

#define BAR_FMT "PCI %02x.%u (%s): BAR%u at 0x%llx-0x%llx is not decoded: %s (logged once per function)"

/* RAM anywhere in [base, end)? (the guest's writes would land in RAM, and
 * the device would never see them) */
static bool overlaps_ram(struct hv *hv, uint64_t base, uint64_t end)
{
	struct vmx_vcpu *v = hv->vcpu;
	uint8_t b;

	if (!v)
		return false;
	for (uint64_t gpa = base & ~0xfffull; gpa < end; gpa += 0x1000)
		if (v->ops->gpa_read(v, gpa < base ? base : gpa, &b, 1) == 0)
			return true;
	return false;
}

/* Move the function's BAR-placed windows where its BARs and command
 * register now say. */
static int remap(struct hv *hv, uint8_t devfn)
{
	const struct pci_slot *sl = &hv->pci[devfn];
	const struct vmx_dev_ops *ops = sl->dev->ops;
	uint32_t cmd, bar;
	char why[160];

	bool placed = false;
	for (unsigned i = 0; i < hv->nroutes; i++)
		placed |= hv->routes[i].dev == sl->dev && ops->ranges[hv->routes[i].range].bar &&
			  ops->ranges[hv->routes[i].range].pci_fn == sl->fn;
	if (!placed)
		return 0;   /* no window follows this function's BARs: nothing to read back */
	if (cfg_access(hv, sl, PCI_COMMAND, 2, false, &cmd))
		return -1;
	for (unsigned i = 0; i < hv->nroutes; i++) {
		struct route *r = &hv->routes[i];
		const struct vmx_dev_range *rg = &ops->ranges[r->range];
		if (r->dev != sl->dev || !rg->bar || rg->pci_fn != sl->fn)
			continue;
		unsigned n = rg->bar - 1u;
		if (cfg_access(hv, sl, PCI_BAR0 + 4 * n, 4, false, &bar))
			return -1;
		uint64_t base = bar & (rg->mmio ? PCI_BAR_MEM_MASK : PCI_BAR_IO_MASK);
		uint64_t end = base + rg->len;
		bool on = cmd & (rg->mmio ? PCI_CMD_MEM : PCI_CMD_IO);
		const char *bad = NULL;

		if (on && (bar & PCI_BAR_IO) == rg->mmio)
			bad = "the BAR's space does not match the window";
		else if (on && base == 0)
			bad = "its address is 0";
		else if (on && !rg->mmio && end > 0x10000)
			bad = "it runs past port 0xffff";
		else if (on && rg->mmio && end > (1ull << 32))
			bad = "it runs past 4 GiB";
		else if (on && rg->mmio && base != rg->base && overlaps_ram(hv, base, end))
			bad = "it overlaps RAM";   /* (at its reset place the host may map memory it shares) */
		if (bad) {
			bar_trouble(hv, devfn, BAR_FMT, ops->name, n, base, end, bad);
			on = false;
		}
		if (r->base == base && r->live == on)
			continue;
		if (route_move(hv, r, base, on, why, sizeof(why)))
			bar_trouble(hv, devfn, BAR_FMT, ops->name, n, base, end, why);
		else
			hv_log(hv, 2, "PCI %02x.%u (%s): BAR%u %s 0x%llx-0x%llx %s", devfn >> 3, devfn & 7, ops->name, n,
			       rg->mmio ? "memory" : "ports", (unsigned long long)base, (unsigned long long)end - 1,
			       on ? "decoded" : "off");
	}
	return 0;
}

static bool overlaps(unsigned off, unsigned size, unsigned reg, unsigned len)
{
	return off < reg + len && reg < off + size;
}

/* CONFIG_DATA byte `port` - 0xcfc + off within the addressed dword. */
static int data_access(struct hv *hv, unsigned byte, unsigned size, bool write, uint32_t *val)
{
	uint32_t a = hv->pci_address;
	uint32_t mask = size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
	const struct pci_slot *sl = &hv->pci[PCI_CA_DEVFN(a)];
	unsigned off = PCI_CA_REG(a) + byte;

	if (!(a & PCI_CA_ENABLE) || PCI_CA_BUS(a) != 0 || !sl->dev) {
		if ((a & PCI_CA_ENABLE) && !hv->pci_absent_logged) {
			hv->pci_absent_logged = true;
			hv_log(hv, 2, "guest %s configuration space of absent PCI function %02x:%02x.%u "
			       "(reads all ones; logged once)", write ? "wrote" : "read", PCI_CA_BUS(a),
			       PCI_CA_DEVFN(a) >> 3, PCI_CA_DEVFN(a) & 7);
		}
		if (!write)
			*val = mask;
		return 0;
	}
	if (cfg_access(hv, sl, off, size, write, val))
		return -1;
	if (write && (overlaps(off, size, PCI_COMMAND, 2) || overlaps(off, size, PCI_BAR0, 4 * PCI_NUM_BARS)))
		return remap(hv, PCI_CA_DEVFN(a));
	return 0;
}

/* A byte or word access to CONFIG_ADDRESS is not a configuration access:
 * it goes to the ISA bus, where nothing answers.  An access that runs past
 * 0xcff is split into bytes, as the chipset splits it. */
int pci_port_read(struct hv *hv, uint16_t port, unsigned size, uint32_t *val)
{
	if (port == PCI_CONFIG_ADDRESS && size == 4) {
		*val = hv->pci_address;
		return 0;
	}
	if (port < PCI_CONFIG_DATA) {
		*val = size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
		return 0;
	}
	if (port + size <= PCI_CONFIG_DATA + 4)
		return data_access(hv, port - PCI_CONFIG_DATA, size, false, val);
	uint32_t v = 0, b;
	for (unsigned i = 0; i < size; i++) {
		if (port_read(hv, (uint16_t)(port + i), 1, &b))
			return -1;
		v |= (b & 0xff) << (8 * i);
	}
	*val = v;
	return 0;
}

int pci_port_write(struct hv *hv, uint16_t port, unsigned size, uint32_t val)
{
	if (port == PCI_CONFIG_ADDRESS && size == 4) {
		hv->pci_address = val & PCI_CA_MASK;
		return 0;
	}
	if (port < PCI_CONFIG_DATA)
		return 0;
	if (port + size <= PCI_CONFIG_DATA + 4)
		return data_access(hv, port - PCI_CONFIG_DATA, size, true, &val);
	for (unsigned i = 0; i < size; i++)
		if (port_write(hv, (uint16_t)(port + i), 1, (val >> (8 * i)) & 0xff))
			return -1;
	return 0;
}
