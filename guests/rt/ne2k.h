/*
 * ne2k.h - an NE2000 driver in the shape of Linux 2.6's drivers/net/ne.c
 * (the board: probe, reset, remote DMA block input/output) and 8390.c (the
 * DP8390: NS8390_init, ei_start_xmit with two transmit buffers,
 * ei_interrupt, ei_receive from the receive ring, ei_tx_intr, the overrun
 * recovery), reimplemented from what those drivers did to the hardware.
 *
 * The board: I/O 0x300-0x31f (data port 0x310, reset port 0x31f), IRQ 9 on
 * the slave 8259A, 16 KiB of buffer RAM at pages 0x40-0x7f: 12 pages of
 * transmit buffers (two frames), a receive ring of 52 pages (0x4c-0x7f).
 */
#ifndef VMXLAB_GUEST_NE2K_H
#define VMXLAB_GUEST_NE2K_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NE2K_IOBASE   0x300
#define NE2K_IRQ      9
#define NE2K_ETH_ZLEN 60
#define NE2K_ETH_MAX  1514

/* Called from the interrupt handler (interrupts off) for every frame taken
 * off the receive ring, without its FCS. */
typedef void (*ne2k_rx_fn)(const uint8_t *frame, size_t len);

/* Reset the board, read its station address, check the NE2000 signature and
 * the bus width.  0, or -1 with a message. */
int ne2k_probe(uint8_t mac[6]);
/* NS8390_init(dev, 1) and request_irq: the NIC receives for us (and
 * broadcasts) from now on; frames go to rx.  Interrupts off on entry. */
void ne2k_open(ne2k_rx_fn rx);
/* ei_start_xmit: pads to 60 bytes; sleeps (sti; hlt) while both transmit
 * buffers are busy.  Call with interrupts on. */
void ne2k_xmit(const uint8_t *frame, size_t len);

struct ne2k_counters {
	uint64_t interrupts, rx_frames, rx_bytes, rx_errors, tx_frames, tx_waits;
	uint64_t overruns, missed, bad_headers;
};
extern struct ne2k_counters ne2k_stats;
extern bool ne2k_word_mode;

#endif
