/*
 * console.c - guest text output: the 16550A UART at 0x3f8 when the machine
 * has one, else the console hypercall.
 *
 * Detection: the 16550A's scratch register (SCR, base+7) is a plain
 * read/write byte (NS16550A datasheet, "Scratchpad Register"); a port nobody
 * claims reads all ones and drops writes.  Two patterns must read back.
 *
 * UART output imitates Linux 2.6's early serial console
 * (arch/x86_64/kernel/early_printk.c): 8N1 with FIFOs and interrupts off,
 * DTR|RTS, then per character a poll of LSR.THRE (bounded to 0xffff reads)
 * and one write to THR, with "\n" sent as "\r\n".  Each character is thus at
 * least two port accesses.
 *
 * Hypercall output is buffered and sent a line at a time (or when 4096
 * bytes, VMXLAB_HC_CONSOLE_MAX, are pending); rt_exit flushes the rest.
 */
#include "io.h"
#include "rt.h"

#define UART_BASE 0x3f8
#define UART_THR  0   /* transmit holding (write, DLAB=0) */
#define UART_DLL  0   /* divisor latch low (DLAB=1) */
#define UART_IER  1   /* interrupt enable (DLAB=0) */
#define UART_DLM  1   /* divisor latch high (DLAB=1) */
#define UART_FCR  2   /* FIFO control (write) */
#define UART_LCR  3   /* line control */
#define UART_MCR  4   /* modem control */
#define UART_LSR  5   /* line status */
#define UART_SCR  7   /* scratch */

#define LCR_8N1   0x03
#define LCR_DLAB  0x80
#define MCR_DTR   0x01
#define MCR_RTS   0x02
#define LSR_THRE  0x20
/* 1.8432 MHz / 16 / 115200 = 1 (datasheet, "Programmable Baud Generator") */
#define UART_DIVISOR_115200 1

static bool have_uart;
static char hc_buf[VMXLAB_HC_CONSOLE_MAX];
static size_t hc_len;

static bool uart_probe(void)
{
	outb(0x55, UART_BASE + UART_SCR);
	if (inb(UART_BASE + UART_SCR) != 0x55)
		return false;
	outb(0xaa, UART_BASE + UART_SCR);
	return inb(UART_BASE + UART_SCR) == 0xaa;
}

void console_init(void)
{
	have_uart = uart_probe();
	if (!have_uart)
		return;
	outb(LCR_8N1, UART_BASE + UART_LCR);
	outb(0, UART_BASE + UART_IER);
	outb(0, UART_BASE + UART_FCR);
	outb(MCR_DTR | MCR_RTS, UART_BASE + UART_MCR);
	outb(LCR_8N1 | LCR_DLAB, UART_BASE + UART_LCR);
	outb(UART_DIVISOR_115200 & 0xff, UART_BASE + UART_DLL);
	outb(UART_DIVISOR_115200 >> 8, UART_BASE + UART_DLM);
	outb(LCR_8N1, UART_BASE + UART_LCR);
}

bool console_has_uart(void)
{
	return have_uart;
}

static void uart_putc(char c)
{
	unsigned timeout = 0xffff;
	while (!(inb(UART_BASE + UART_LSR) & LSR_THRE) && --timeout)
		cpu_relax();
	outb((uint8_t)c, UART_BASE + UART_THR);
}

void console_flush(void)
{
	if (hc_len)
		hc_console(hc_buf, hc_len);
	hc_len = 0;
}

void console_write(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (have_uart) {
			if (s[i] == '\n')
				uart_putc('\r');
			uart_putc(s[i]);
			continue;
		}
		hc_buf[hc_len++] = s[i];
		if (s[i] == '\n' || hc_len == sizeof(hc_buf))
			console_flush();
	}
}
