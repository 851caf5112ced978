/*
 * ne2k.h - the NE2000 (DP8390) model's host side, beside its vmx_dev_ops.
 */
#ifndef VMXLAB_DEVICES_NE2K_H
#define VMXLAB_DEVICES_NE2K_H

#include <stddef.h>
#include <stdint.h>

#include <vmxlab/dev.h>

extern const struct vmx_dev_ops ne2k_dev_ops;

#define NE2K_BASE   0x300
#define NE2K_IRQ    9

/* What became of a frame offered by the wire (ne2k_receive). */
enum ne2k_rx {
	NE2K_RX_STORED = 0,    /* in the receive ring, ISR.PRX set */
	NE2K_RX_REJECTED = 1,  /* address filter, runt, monitor mode: discarded */
	NE2K_RX_NO_ROOM = 2,   /* the ring has no room for it now: not taken */
	NE2K_RX_STOPPED = 3,   /* NIC stopped or in loopback: not taken */
	NE2K_RX_OVERFLOW = 4,  /* larger than the whole ring: lost, ISR.OVW set */
};

/*
 * A frame (without FCS; the model appends it) arriving from the wire at the
 * present virtual time, bypassing the back-end: for tests and the fuzz
 * target.  Any length is safe; lengths above 65527 are lost as overflows.
 */
enum ne2k_rx ne2k_receive(void *s, const uint8_t *frame, size_t len);

/* The largest image ne2k_dev_ops.save writes. */
size_t ne2k_save_size(void);

#endif
