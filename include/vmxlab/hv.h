/*
 * hv.h - the handler ABI: how `vmxlab run` and `vmxlab replay` load and call a
 * build of the exit-handler code.
 *
 * Implemented by a handler build (hv/ is the reference one, built as
 * build/libvmxlab-hv.so).  The build exports one symbol, VMXLAB_HV_SYMBOL, a
 * `const struct vmxlab_hv`.  The host (cli/ through sim/ or replay/) dlopens
 * the file, checks abi_version, calls init once per machine, handle_exit once
 * per VM exit and fini at the end.  Two builds can be loaded into one process
 * (vmxlab diff), so a build keeps all its state behind the context pointer
 * that init returns.
 *
 * The handler sees the machine only through vcpu.h (one struct vmx_vcpu per
 * exit), dev.h (the device instances) and the host services below.
 */
#ifndef VMXLAB_HV_H
#define VMXLAB_HV_H

#include <stdarg.h>
#include <stdint.h>

#include "dev.h"
#include "vcpu.h"

#define VMXLAB_HV_ABI_VERSION 2
#define VMXLAB_HV_SYMBOL "vmxlab_hv"

/* A request to a device placed in the device-model process (Xen's ioreq_t
 * in spirit).  Filled by the handler, completed by the host.  Port and MMIO
 * accesses address a range of the device, configuration accesses one of its
 * PCI functions; the interrupt-controller requests
 * stand for dev.h's intr_pending / intr_ack on a PIC placed there. */
enum vmx_ioreq_type {
	IOREQ_PIO = 0,
	IOREQ_MMIO = 1,
	IOREQ_INTR_PENDING = 2, /* data <- vector or (uint64_t)-1 */
	IOREQ_INTR_ACK = 3,     /* data <- vector */
	IOREQ_PCI_CFG = 4,      /* configuration space of a PCI function: addr =
				   fn << 8 | register (dev.h cfg_read/cfg_write) */
};
struct vmx_ioreq {
	uint64_t addr;        /* offset within the range */
	uint64_t data;        /* value written, or value read on return */
	uint32_t size;        /* bytes: 1, 2, 4 (8 for MMIO) */
	uint8_t type;         /* enum vmx_ioreq_type */
	uint8_t dir;          /* 0 write, 1 read */
	uint16_t range;       /* index into the device's ranges */
	vtime_t now;          /* virtual time of the access */
};

/* What the host provides to the handler build. */
struct hv_host {
	void *ctx;
	/* The scenario's `hv:` options, "key=value" lines, or NULL. */
	const char *options;
	/* The machine's devices, in scenario order. */
	unsigned ndevs;
	struct vmx_dev *const *devs;
	/* The device-model round trip for devices placed PLACE_DM: 0, or -1 when
	 * the device-model process is gone (the host has reported it). */
	int (*ioreq)(void *ctx, struct vmx_dev *dev, struct vmx_ioreq *req);
	vtime_t (*now)(void *ctx);
	/* The guest's virtual TSC (before TSC_OFFSET), the same clock that
	 * stamps the trace. */
	uint64_t (*tsc)(void *ctx);
	/* HLT: let virtual time run to the next timer event.  Returns the new
	 * time, or (vtime_t)-1 when no event is pending (halted forever). */
	vtime_t (*idle)(void *ctx);
	/* One xentrace record (trace.h): event id and up to 7 payload words.
	 * The host stamps it with virtual-time TSC. */
	void (*trace)(void *ctx, uint32_t event, const uint32_t *words, unsigned n);
	/* Hypercall services (docs/hypercalls.md). */
	void (*console)(void *ctx, const char *buf, size_t len);
	void (*phase)(void *ctx, uint32_t phase);
	/* Messages for the user: level 0 error, 1 warning, 2 info. */
	void (*log)(void *ctx, int level, const char *fmt, va_list ap);
	/* The guest TSC's frequency in kHz (CPUID leaves 0x15 and 0x16);
	 * 0 when unknown.  Since ABI version 2. */
	uint64_t tsc_khz;
};

/* What handle_exit tells the host to do next. */
enum hv_verdict {
	HV_RESUME = 0,        /* VM-enter the guest again */
	HV_GUEST_EXIT,        /* the guest asked to end the run (status in hv_exit.status) */
	HV_GUEST_DEAD,        /* the guest cannot go on: triple fault, halted forever (msg) */
	HV_ERROR,             /* the handler cannot go on: unknown exit, unsupported
			       * instruction, device-model failure (msg) */
};

/* Per-exit out-parameters of handle_exit. */
struct hv_exit {
	int status;           /* HV_GUEST_EXIT: the guest's exit status */
	char msg[512];        /* HV_GUEST_DEAD, HV_ERROR: names the exit and the cause */
};

struct vmxlab_hv {
	uint32_t abi_version;  /* VMXLAB_HV_ABI_VERSION */
	const char *name;      /* a label for reports, e.g. "vmxlab-reference" */
	/* Returns the build's context, or NULL with err filled. */
	void *(*init)(const struct hv_host *host, char *err, size_t errlen);
	enum hv_verdict (*handle_exit)(void *hv, struct vmx_vcpu *vcpu, struct hv_exit *out);
	void (*fini)(void *hv);
	/* Exits handled so far, indexed by basic reason (VMX_EXIT_REASON_COUNT). */
	const uint64_t *(*exit_counts)(void *hv);
};

#endif
