/*
 * platform.h - the device side of a machine: device instances, their timers
 * in virtual time, interrupt-line routing to the PIC, DMA bounded to guest
 * RAM, and the device registry.  It is the standard implementation of
 * dev.h's struct vmx_platform.
 *
 * Implemented by devices/platform.c and devices/registry.c.  Used by the
 * simulator's machine (devices placed hv), by the device-model process
 * devices/dm/ (devices placed dm), by replay and by device tests.
 *
 * Time does not flow by itself here: the owner sets it (platform_run_until)
 * from its virtual clock, which is what keeps runs deterministic.
 */
#ifndef VMXLAB_PLATFORM_H
#define VMXLAB_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dev.h"

#define VTIME_NEVER ((vtime_t)-1)
#define PLATFORM_MAX_DEVS 16
#define PLATFORM_MAX_TIMERS 64

struct platform;

struct platform_config {
	void *ctx;
	uint8_t *ram;              /* guest RAM, for DMA; NULL: no DMA */
	uint64_t ram_size;
	void (*console)(void *ctx, const char *buf, size_t len);
	/* One line about a device (already rate-limited per device). */
	void (*log)(void *ctx, const char *dev, const char *msg);
	/* Interrupt lines when no PIC is instantiated here (it lives in the
	 * other process); NULL drops them. */
	void (*irq_out)(void *ctx, unsigned line, bool level);
	/* A device's vmx_platform.charge; NULL ignores it. */
	void (*charge)(void *ctx, vtime_t ns);
	/* A device's vmx_platform.map_shared; NULL: devices get no shared
	 * memory (their map_shared service is NULL). */
	void *(*map_shared)(void *ctx, uint64_t gpa, uint64_t len);
};

struct platform *platform_new(const struct platform_config *cfg);
void platform_free(struct platform *p);

/* Add a device.  instantiate: allocate its state, run init with `options`
 * and reset it here; otherwise the device runs elsewhere and only its
 * windows and placement are known (state NULL).  NULL with err on failure. */
struct vmx_dev *platform_add(struct platform *p, const struct vmx_dev_ops *ops, const char *options,
			     enum vmx_placement placement, bool instantiate, char *err, size_t errlen);
unsigned platform_ndevs(const struct platform *p);
struct vmx_dev *platform_dev(struct platform *p, unsigned i);
struct vmx_dev *const *platform_devs(struct platform *p);
struct vmx_dev *platform_find(struct platform *p, const char *name);

/* The device whose window holds `addr` (ports or guest-physical), by the
 * windows' reset places (a BAR the guest moved is not followed), or NULL.
 * platform_owner_name adds "pci" for the configuration ports 0xcf8-0xcff
 * when a device has PCI functions (the hypervisor decodes them). */
const struct vmx_dev *platform_owner(struct platform *p, bool mmio, uint64_t addr);
const char *platform_owner_name(struct platform *p, bool mmio, uint64_t addr);

/* Interrupt line into the local PIC (or out through irq_out). */
void platform_irq(struct platform *p, unsigned line, bool level);

/* Virtual time.  platform_run_until fires every timer due at or before
 * `now` in deadline order (ties by creation order), then sets the clock. */
vtime_t platform_now(const struct platform *p);
vtime_t platform_next_deadline(const struct platform *p);
void platform_run_until(struct platform *p, vtime_t now);

/* The device registry: "pic", "pit", "uart", ... or NULL. */
const struct vmx_dev_ops *vmx_dev_lookup(const char *name);
/* Names of all registered models, NULL-terminated. */
extern const char *const vmx_dev_names[];

#endif
