/*
 * dev.h - the device ABI and the platform services a device may use.
 *
 * Implemented by each device model in devices/ (PIC, PIT, UART, IDE, NIC,
 * VGA, RTC): one `const struct vmx_dev_ops` per model.  Called by the
 * handler code in hv/ (devices placed `hv`), by the device-model process
 * devices/dm/ (devices placed `dm`), by replay, by tests and by the debugger
 * (`dev NAME`).
 * The platform services are provided by whoever hosts the device: the
 * simulator (sim/), the device-model process, or a unit test.
 *
 * A device never touches guest memory, interrupt lines, time or host
 * resources except through struct vmx_platform, which is what lets the same
 * model run in either process and under replay.
 */
#ifndef VMXLAB_DEV_H
#define VMXLAB_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define VMXLAB_DEV_ABI_VERSION 2 /* 2: PCI functions, windows placed by BARs */

typedef uint64_t vtime_t; /* virtual time, nanoseconds since the machine started */

struct vmx_platform;
typedef void (*vmx_timer_fn)(void *dev_state, vtime_t now);

/* Services of the host, all deterministic: no wall clock reaches a device. */
struct vmx_platform {
	void *ctx;
	vtime_t (*now)(void *ctx);
	/* Drive interrupt line `line` (ISA IRQ 0-15) to `level` (edge devices
	 * pulse 1 then 0). */
	void (*set_irq)(void *ctx, unsigned line, bool level);
	/* One-shot timers in virtual time.  timer_new returns an id >= 0 or -1;
	 * arming an armed timer moves it; cancel of an idle timer is a no-op. */
	int (*timer_new)(void *ctx, vmx_timer_fn fn, void *dev_state);
	void (*timer_arm)(void *ctx, int timer, vtime_t deadline);
	void (*timer_cancel)(void *ctx, int timer);
	/* Bus-master DMA to and from guest RAM.  0, or -1 if any byte of
	 * [gpa, gpa+len) is outside guest RAM (nothing is transferred). */
	int (*dma_read)(void *ctx, uint64_t gpa, void *buf, size_t len);
	int (*dma_write)(void *ctx, uint64_t gpa, const void *buf, size_t len);
	/* Diagnostics a device reports about guest behaviour (bad register
	 * values, out-of-range DMA): rate-limited by the host. */
	void (*log)(void *ctx, const char *dev, const char *fmt, ...)
		__attribute__((format(printf, 3, 4)));
	/* Guest console output (UART). */
	void (*console)(void *ctx, const char *buf, size_t len);
	/* Modelled time the vCPU spends waiting for this device inside the
	 * current access (e.g. a synchronous disk transfer): added to the
	 * exit's cost in virtual time.  Outside an access it is ignored. */
	void (*charge)(void *ctx, vtime_t ns);
	/* Memory shared between the device and the guest (VGA video memory):
	 * `len` bytes of host memory, zeroed, that the guest sees at
	 * guest-physical [gpa, gpa+len) without exits (EPT maps them).  gpa and
	 * len page-aligned, the range one of the device's MMIO windows (the
	 * host then leaves that window out of MMIO emulation).  Returns the
	 * host pointer, valid until the device's fini, or NULL when the host
	 * cannot share memory (this service NULL too: e.g. the device-model
	 * process and tests without it). */
	void *(*map_shared)(void *ctx, uint64_t gpa, uint64_t len);
};

/* An I/O-port or MMIO window a device claims: fixed at `base`, or placed by
 * a Base Address Register of one of the device's PCI functions (`bar` =
 * VMX_DEV_BAR(n) for BAR n of function `pci_fn`); `base` is then where the
 * BAR points after reset, and the hypervisor moves the window wherever the
 * guest programs the BAR and drops it while the function's command
 * register disables its decode (hv/pci.c). */
struct vmx_dev_range {
	uint64_t base;
	uint64_t len;
	bool mmio;            /* false: I/O ports */
	uint8_t bar;          /* 0: fixed; VMX_DEV_BAR(n): placed by BAR n */
	uint8_t pci_fn;       /* with bar: index into vmx_dev_ops.pci_devfn */
};
#define VMX_DEV_BAR(n) ((uint8_t)((n) + 1))

#define VMX_DEV_MAX_RANGES 8
#define VMX_DEV_MAX_PCI 4

/* Fixed-signature callbacks.  `s` is the device's own state struct.
 * Accesses are 1, 2 or 4 bytes (8 for MMIO); `off` is relative to the base of
 * the range (`range` indexes vmx_dev_ops.ranges). */
struct vmx_dev_ops {
	const char *name;           /* "pic", "pit", "uart", "ide", "ne2k", "vga", "rtc" */
	size_t state_size;
	/* Called once after the state is zeroed; keeps the platform pointer. */
	int (*init)(void *s, const struct vmx_platform *plat, const char *options);
	void (*fini)(void *s);
	void (*reset)(void *s);
	uint32_t (*pio_read)(void *s, unsigned range, uint16_t off, unsigned size);
	void (*pio_write)(void *s, unsigned range, uint16_t off, unsigned size, uint32_t val);
	uint64_t (*mmio_read)(void *s, unsigned range, uint64_t off, unsigned size);
	void (*mmio_write)(void *s, unsigned range, uint64_t off, unsigned size, uint64_t val);
	/* Save into buf (returns bytes written, or -1 if len is too small) and
	 * restore (returns 0, or -1 if the image is not this device's). */
	long (*save)(const void *s, void *buf, size_t len);
	int (*restore)(void *s, const void *buf, size_t len);
	/* Human-readable register dump for reports and `vmxlab debug`. */
	void (*dump)(const void *s, FILE *out);
	/* Interrupt controllers only (the 8259A pair); NULL for other devices.
	 * irq_line: an input line changed level (devices' set_irq lands here).
	 * intr_pending: the vector an INTA cycle would deliver now, or -1;
	 * no side effects.  intr_ack: the INTA cycle itself (IRR -> ISR),
	 * returning the vector (the spurious vector when nothing is left). */
	void (*irq_line)(void *s, unsigned line, bool level);
	int (*intr_pending)(void *s);
	int (*intr_ack)(void *s);
	/* PCI functions (pci.h); NULL and 0 for ISA devices.  `fn` indexes
	 * pci_devfn; `off` + `size` (1, 2 or 4) lie inside the 256 bytes. */
	uint32_t (*cfg_read)(void *s, unsigned fn, unsigned off, unsigned size);
	void (*cfg_write)(void *s, unsigned fn, unsigned off, unsigned size, uint32_t val);
	unsigned npci;
	uint8_t pci_devfn[VMX_DEV_MAX_PCI];  /* bus 0: device << 3 | function */
	/* The device's windows (e.g. the PIC: 0x20-0x21, 0xa0-0xa1, 0x4d0-0x4d1). */
	unsigned nranges;
	struct vmx_dev_range ranges[VMX_DEV_MAX_RANGES];
};

/* Where a device model runs (ARCHITECTURE.md "Placement"). */
enum vmx_placement { PLACE_HV = 0, PLACE_DM = 1 };

/* One device instance in a machine. */
struct vmx_dev {
	const struct vmx_dev_ops *ops;
	void *state;
	enum vmx_placement placement;
	unsigned index;             /* position in the machine's device list */
};

#endif
