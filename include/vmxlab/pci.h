/*
 * pci.h - PCI configuration space: the type 0 header's layout, configuration
 * mechanism #1's address register, and a function's configuration space as
 * a device model keeps it in its state.
 *
 * The hypervisor decodes configuration mechanism #1 (ports 0xcf8/0xcfc,
 * hv/pci.c) and calls the function's device (dev.h cfg_read / cfg_write)
 * wherever it is placed; the device keeps its functions' registers in a
 * struct pci_cfg each and serves them with pci_cfg_read / pci_cfg_write
 * (devices/pci.c), adding registers of its own past the header.
 * References: PCI Local Bus Specification 3.0 (PCI 3.0) chapter 6.
 */
#ifndef VMXLAB_PCI_H
#define VMXLAB_PCI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/*
 * CONFIG_ADDRESS, port 0xcf8, 32-bit accesses only (PCI 3.0 3.2.2.3.2):
 *
 *   31      30..24    23..16   15..11   10..8     7..2      1..0
 *   +------+--------+--------+--------+--------+----------+----+
 *   |enable|reserved|  bus   | device |function| register | 00 |
 *   +------+--------+--------+--------+--------+----------+----+
 *
 * CONFIG_DATA, ports 0xcfc-0xcff: the addressed dword, any byte of it.
 */
#define PCI_CONFIG_ADDRESS 0xcf8
#define PCI_CONFIG_DATA    0xcfc
#define PCI_CA_ENABLE      0x80000000u
#define PCI_CA_MASK        0x80fffffcu    /* the bits CONFIG_ADDRESS keeps */
#define PCI_CA_BUS(a)      (((a) >> 16) & 0xff)
#define PCI_CA_DEVFN(a)    (((a) >> 8) & 0xff)
#define PCI_CA_REG(a)      ((a) & 0xfc)
#define PCI_DEVFN(dev, fn) ((uint8_t)(((dev) << 3) | (fn)))

/* The type 0 header (PCI 3.0 6.1, figure 6-1). */
#define PCI_VENDOR_ID      0x00    /* 16 */
#define PCI_DEVICE_ID      0x02    /* 16 */
#define PCI_COMMAND        0x04    /* 16 */
#define PCI_STATUS         0x06    /* 16 */
#define PCI_REVISION_ID    0x08    /* 8; class code 0x09-0x0b: prog-if, subclass, class */
#define PCI_CACHE_LINE     0x0c
#define PCI_LATENCY_TIMER  0x0d
#define PCI_HEADER_TYPE    0x0e    /* bit 7: multi-function device */
#define PCI_BAR0           0x10    /* six 32-bit BARs, 0x10-0x27 */
#define PCI_SUBSYS_VENDOR  0x2c
#define PCI_SUBSYS_ID      0x2e
#define PCI_ROM_ADDRESS    0x30
#define PCI_CAP_PTR        0x34
#define PCI_INTERRUPT_LINE 0x3c    /* written by firmware/OS, read by drivers */
#define PCI_INTERRUPT_PIN  0x3d    /* 0 none, 1-4 INTA#-INTD# */
#define PCI_HEADER_END     0x40    /* device-specific registers from here */
#define PCI_NUM_BARS       6

/*
 * Command register (PCI 3.0 6.2.2):
 *   15..11  10          9    8      7   6       5  4    3    2      1     0
 *   rsvd  | INTx dis | FBB | SERR | - | PERR | VGA| MWI| SC | MASTER| MEM | IO |
 */
#define PCI_CMD_IO         0x0001
#define PCI_CMD_MEM        0x0002
#define PCI_CMD_MASTER     0x0004
#define PCI_CMD_INTX_DIS   0x0400

#define PCI_HEADER_MULTIFN 0x80

/*
 * Base Address Register (PCI 3.0 6.2.5.1):
 *   I/O:     31..2 address | 1 reserved | 0 = 1
 *   memory:  31..4 address | 3 prefetchable | 2..1 type (00: 32-bit) | 0 = 0
 * Sizing: the guest writes all ones and reads back ~(size - 1) | flag bits.
 */
#define PCI_BAR_IO         0x1u
#define PCI_BAR_PREFETCH   0x8u
#define PCI_BAR_IO_MASK    0xfffffffcu
#define PCI_BAR_MEM_MASK   0xfffffff0u

/* One function's 256 bytes of configuration space. */
struct pci_cfg {
	uint8_t regs[256];
	uint8_t wmask[256];           /* bits a configuration write may change */
	uint32_t bar_size[PCI_NUM_BARS]; /* power of two, 0: no BAR */
};

/* The header of a function: IDs, class (class << 16 | subclass << 8 |
 * prog-if), revision, header type; everything else reads 0 and only the
 * command register's I/O, memory and bus-master bits, the interrupt line
 * and the latency timer are writable until the device adds to wmask. */
void pci_cfg_init(struct pci_cfg *c, uint16_t vendor, uint16_t device, uint32_t class_code, uint8_t revision,
		  uint8_t header_type);
/* BAR n: size a power of two (I/O >= 4, memory >= 16 bytes), at `addr`
 * (its value after reset, as firmware would leave it: there is none). */
void pci_cfg_bar(struct pci_cfg *c, unsigned n, uint32_t size, bool io, bool prefetch, uint32_t addr);
/* Any aligned or unaligned 1, 2 or 4 byte access inside the 256 bytes;
 * outside, reads are all ones and writes are dropped. */
uint32_t pci_cfg_read(const struct pci_cfg *c, unsigned off, unsigned size);
void pci_cfg_write(struct pci_cfg *c, unsigned off, unsigned size, uint32_t val);
/* BAR n's base address as the guest programmed it (flag bits off). */
uint32_t pci_cfg_bar_base(const struct pci_cfg *c, unsigned n);
uint16_t pci_cfg_command(const struct pci_cfg *c);
/* Restore the registers from a save image: -1 (nothing changed) when a
 * read-only bit differs from this function's - a damaged image or another
 * function's. */
int pci_cfg_restore(struct pci_cfg *c, const uint8_t regs[256]);
/* The header's registers in one or two lines, for state dumps. */
void pci_cfg_dump(const struct pci_cfg *c, const char *name, FILE *out);

#endif
