/*
 * uart.h - the 16550A model's host-side input, beside its vmx_dev_ops.
 */
#ifndef VMXLAB_DEVICES_UART_H
#define VMXLAB_DEVICES_UART_H

#include <stddef.h>
#include <stdint.h>

#include <vmxlab/dev.h>

extern const struct vmx_dev_ops uart_dev_ops;

/*
 * Characters arriving on the serial input (SIN), in order, at the present
 * virtual time.  Returns how many were stored in the receiver (RBR or RX
 * FIFO).  A character that finds the receiver full is lost and sets LSR.OE,
 * as on the wire; a host that must not lose input offers no more than
 * uart_rx_room().  In loopback mode SIN is disconnected: nothing is stored.
 */
int uart_receive(void *s, const uint8_t *buf, size_t len);

/* Characters the receiver can take now without an overrun. */
size_t uart_rx_room(const void *s);

#endif
