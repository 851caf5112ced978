/*
 * test_uart.c - outside-in tests of devices/uart.c (16550A at 0x3f8, IRQ 4),
 * driven through its ports and uart_receive, following the PC16550D
 * datasheet: registers, DLAB, FIFOs and trigger levels, interrupt
 * priorities, loopback and the modem lines, overrun and the FIFO timeout.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "devtest.h"
#include "../../devices/uart.h"

#define COM1 0x3f8
#define RBR  (COM1 + 0)
#define THR  (COM1 + 0)
#define DLL  (COM1 + 0)
#define IER  (COM1 + 1)
#define DLM  (COM1 + 1)
#define IIR  (COM1 + 2)
#define FCR  (COM1 + 2)
#define LCR  (COM1 + 3)
#define MCR  (COM1 + 4)
#define LSR  (COM1 + 5)
#define MSR  (COM1 + 6)
#define SCR  (COM1 + 7)

#define IRQ 4

static int setup(void **state)
{
	*state = devtest_new(&uart_dev_ops, NULL);
	return 0;
}

static int teardown(void **state)
{
	devtest_free(*state);
	return 0;
}

/* 8N1 at 115200 / divisor, DTR RTS OUT2, the given FCR and IER. */
static void com_init(struct devtest *t, uint16_t divisor, uint8_t fcr, uint8_t ier)
{
	devtest_outb(t, LCR, 0x80);
	devtest_outb(t, DLL, (uint8_t)divisor);
	devtest_outb(t, DLM, (uint8_t)(divisor >> 8));
	devtest_outb(t, LCR, 0x03);
	devtest_outb(t, FCR, fcr);
	devtest_outb(t, MCR, 0x0b);
	devtest_outb(t, IER, ier);
}

static int receive(struct devtest *t, const char *s)
{
	return uart_receive(t->dev, (const uint8_t *)s, strlen(s));
}

/* ---------------------------------------------------------------- registers */

/* Master reset values ("Reset Functions" table). */
static void test_reset_values(void **state)
{
	struct devtest *t = *state;

	assert_int_equal(devtest_inb(t, IER), 0x00);
	assert_int_equal(devtest_inb(t, IIR), 0x01);
	assert_int_equal(devtest_inb(t, LCR), 0x00);
	assert_int_equal(devtest_inb(t, MCR), 0x00);
	assert_int_equal(devtest_inb(t, LSR), 0x60);
	assert_int_equal(devtest_inb(t, MSR), 0xb0);        /* DCD DSR CTS, no deltas */
	assert_int_equal(devtest_inb(t, SCR), 0x00);
	devtest_outb(t, LCR, 0x80);
	assert_int_equal(devtest_inb(t, DLL), 12);
	assert_int_equal(devtest_inb(t, DLM), 0);
	assert_false(t->line[IRQ]);

	/* Reset drops a raised IRQ 4 and keeps nothing of the programming. */
	com_init(t, 1, 0xc7, 0x02);
	assert_true(t->line[IRQ]);
	devtest_outb(t, SCR, 0x5a);
	t->ops->reset(t->dev);
	assert_false(t->line[IRQ]);
	assert_int_equal(devtest_inb(t, IIR), 0x01);
	assert_int_equal(devtest_inb(t, SCR), 0x00);
	assert_int_equal(devtest_inb(t, LSR), 0x60);
}

static void test_dlab_and_scratch(void **state)
{
	struct devtest *t = *state;

	devtest_outb(t, IER, 0x05);
	devtest_outb(t, LCR, 0x83);
	devtest_outb(t, DLL, 0x01);                         /* not a THR write */
	devtest_outb(t, DLM, 0x02);                         /* not an IER write */
	assert_int_equal(devtest_inb(t, DLL), 0x01);
	assert_int_equal(devtest_inb(t, DLM), 0x02);
	assert_int_equal(t->console_len, 0);
	devtest_outb(t, LCR, 0x03);
	assert_int_equal(devtest_inb(t, IER), 0x05);
	devtest_outb(t, IER, 0xff);
	assert_int_equal(devtest_inb(t, IER), 0x0f);        /* bits 7-4 are 0 */
	devtest_outb(t, SCR, 0xa5);
	assert_int_equal(devtest_inb(t, SCR), 0xa5);
	devtest_outb(t, LCR, 0x80);
	assert_int_equal(devtest_inb(t, SCR), 0xa5);        /* SCR ignores DLAB */
	assert_int_equal(devtest_inb(t, LCR), 0x80);
}

/* ---------------------------------------------------------------- transmit */

static void test_transmit_to_console(void **state)
{
	struct devtest *t = *state;
	const char *msg = "hello, vmxlab\n";

	com_init(t, 1, 0x07, 0x00);
	for (const char *p = msg; *p; p++) {
		assert_int_equal(devtest_inb(t, LSR) & 0x60, 0x60);
		devtest_outb(t, THR, (uint8_t)*p);
	}
	assert_int_equal(t->console_len, strlen(msg));
	assert_memory_equal(t->console, msg, strlen(msg));
	assert_int_equal(devtest_inb(t, LSR), 0x60);        /* THRE and TEMT at once */

	/* 7-bit words: bit 7 never leaves the transmitter. */
	devtest_outb(t, LCR, 0x02);
	devtest_outb(t, THR, 0xc1);
	assert_int_equal((uint8_t)t->console[t->console_len - 1], 0x41);
}

/* THRE: raised by enabling ETBEI with THR empty and by each transmitted
 * byte; cleared by reading IIR while it is reported, or by writing THR. */
static void test_thre_interrupt(void **state)
{
	struct devtest *t = *state;

	com_init(t, 1, 0x00, 0x00);
	assert_false(t->line[IRQ]);
	devtest_outb(t, IER, 0x02);
	assert_true(t->line[IRQ]);
	assert_int_equal(devtest_inb(t, IIR), 0x02);
	assert_false(t->line[IRQ]);                         /* the IIR read cleared it */
	assert_int_equal(devtest_inb(t, IIR), 0x01);
	devtest_outb(t, IER, 0x02);                         /* still enabled: no new one */
	assert_false(t->line[IRQ]);

	devtest_outb(t, THR, 'x');
	assert_true(t->line[IRQ]);
	assert_int_equal(t->rises[IRQ], 2);
	devtest_outb(t, THR, 'y');                          /* INTR falls and rises */
	assert_int_equal(t->rises[IRQ], 3);
	assert_true(t->line[IRQ]);

	devtest_outb(t, IER, 0x00);                         /* masked, still pending */
	assert_false(t->line[IRQ]);
	assert_int_equal(devtest_inb(t, IIR), 0x01);
	devtest_outb(t, IER, 0x02);
	assert_true(t->line[IRQ]);
}

/* On the PC, INTR reaches IRQ 4 only through the OUT2 gate. */
static void test_out2_gates_irq(void **state)
{
	struct devtest *t = *state;

	com_init(t, 1, 0x00, 0x00);
	devtest_outb(t, MCR, 0x03);
	devtest_outb(t, IER, 0x02);
	assert_false(t->line[IRQ]);
	devtest_outb(t, MCR, 0x0b);
	assert_true(t->line[IRQ]);
	devtest_outb(t, MCR, 0x03);
	assert_false(t->line[IRQ]);
	assert_int_equal(devtest_inb(t, IIR), 0x02);        /* pending all along */
}

/* ---------------------------------------------------------------- receive */

static void test_receive_without_fifo(void **state)
{
	struct devtest *t = *state;

	com_init(t, 1, 0x00, 0x05);
	assert_int_equal(uart_rx_room(t->dev), 1);
	assert_int_equal(receive(t, "a"), 1);
	assert_true(t->line[IRQ]);
	assert_int_equal(devtest_inb(t, LSR), 0x61);
	assert_int_equal(devtest_inb(t, IIR), 0x04);
	assert_int_equal(devtest_inb(t, RBR), 'a');
	assert_false(t->line[IRQ]);
	assert_int_equal(devtest_inb(t, LSR), 0x60);
	assert_int_equal(devtest_inb(t, RBR), 'a');         /* RBR keeps the last one */

	/* Overrun: the unread character is destroyed by the next one. */
	assert_int_equal(receive(t, "bc"), 2);
	assert_int_equal(devtest_inb(t, IIR), 0x06);        /* line status first */
	assert_int_equal(devtest_inb(t, LSR), 0x63);
	assert_int_equal(devtest_inb(t, LSR), 0x61);        /* OE cleared by the read */
	assert_int_equal(devtest_inb(t, IIR), 0x04);
	assert_int_equal(devtest_inb(t, RBR), 'c');
	assert_int_equal(devtest_inb(t, IIR), 0x01);
}

/* RCVR trigger levels 1, 4, 8, 14 (FCR bits 7-6). */
static void test_fifo_trigger_levels(void **state)
{
	struct devtest *t = *state;
	static const unsigned level[4] = { 1, 4, 8, 14 };

	for (unsigned tl = 0; tl < 4; tl++) {
		com_init(t, 1, (uint8_t)(0x07 | tl << 6), 0x01);
		for (unsigned i = 0; i + 1 < level[tl]; i++)
			assert_int_equal(receive(t, "z"), 1);
		assert_int_equal(devtest_inb(t, IIR), 0xc1);
		assert_false(t->line[IRQ]);
		assert_int_equal(receive(t, "z"), 1);
		assert_int_equal(devtest_inb(t, IIR), 0xc4);
		assert_true(t->line[IRQ]);
		(void)devtest_inb(t, RBR);
		assert_int_equal(devtest_inb(t, IIR), 0xc1);
		assert_false(t->line[IRQ]);
		assert_int_equal(devtest_inb(t, LSR) & 1, level[tl] > 1);
	}
}

static void test_fifo_order_and_overrun(void **state)
{
	struct devtest *t = *state;
	char in[21] = "0123456789abcdefghij";

	com_init(t, 1, 0xc7, 0x05);
	assert_int_equal(uart_rx_room(t->dev), 16);
	assert_int_equal(receive(t, in), 16);               /* four lost: FIFO full */
	assert_int_equal(uart_rx_room(t->dev), 0);
	assert_int_equal(devtest_inb(t, IIR), 0xc6);
	assert_int_equal(devtest_inb(t, LSR), 0x63);
	assert_int_equal(devtest_inb(t, IIR), 0xc4);
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(devtest_inb(t, RBR), in[i]);   /* the FIFO kept the first 16 */
	assert_int_equal(devtest_inb(t, LSR), 0x60);
	assert_int_equal(uart_rx_room(t->dev), 16);

	/* Received characters lose the bits above the word length. */
	devtest_outb(t, LCR, 0x00);
	assert_int_equal(uart_receive(t->dev, (const uint8_t *)"\xff", 1), 1);
	assert_int_equal(devtest_inb(t, RBR), 0x1f);
}

/* Character timeout: 4 character times with no FIFO activity. */
static void test_fifo_timeout(void **state)
{
	struct devtest *t = *state;
	/* 9600 8N1: 10 bits * 12 * 16 / 1843200 Hz = 1.0417 ms per character. */
	const vtime_t four = 4166666;
	vtime_t t0;

	com_init(t, 12, 0xc7, 0x01);
	devtest_run_until(t, 1000000);
	t0 = t->now;
	assert_int_equal(receive(t, "abc"), 3);
	assert_int_equal(devtest_next_deadline(t), t0 + four);
	devtest_run_until(t, t0 + four - 1);
	assert_int_equal(devtest_inb(t, IIR), 0xc1);
	devtest_run_until(t, t0 + four);
	assert_true(t->line[IRQ]);
	assert_int_equal(devtest_inb(t, IIR), 0xcc);

	/* A new character does not clear a pending timeout. */
	assert_int_equal(receive(t, "d"), 1);
	assert_int_equal(devtest_inb(t, IIR), 0xcc);
	assert_int_equal(devtest_next_deadline(t), DEVTEST_NEVER);
	/* Reading one clears it and restarts the timer. */
	assert_int_equal(devtest_inb(t, RBR), 'a');
	assert_false(t->line[IRQ]);
	assert_int_equal(devtest_next_deadline(t), t->now + four);
	/* Receiving restarts the timer while no timeout is pending. */
	devtest_run_until(t, t->now + four / 2);
	assert_int_equal(receive(t, "e"), 1);
	assert_int_equal(devtest_next_deadline(t), t->now + four);

	/* 7E2 at divisor 3: (1 + 7 + 1 + 2) bits * 3 * 16 per character. */
	devtest_outb(t, LCR, 0x80);
	devtest_outb(t, DLL, 3);
	devtest_outb(t, LCR, 0x1e);
	(void)devtest_inb(t, RBR);
	assert_int_equal(devtest_next_deadline(t), t->now + 4 * 11 * 3 * 16 * 1000000000ull / 1843200);
	/* Empty FIFO: no timer. */
	while (devtest_inb(t, LSR) & 1)
		(void)devtest_inb(t, RBR);
	assert_int_equal(devtest_next_deadline(t), DEVTEST_NEVER);
	devtest_run_until(t, t->now + 100 * four);
	assert_int_equal(devtest_inb(t, IIR), 0xc1);
}

static void test_fcr(void **state)
{
	struct devtest *t = *state;

	com_init(t, 1, 0x01, 0x01);
	assert_int_equal(devtest_inb(t, IIR) & 0xc0, 0xc0);
	receive(t, "abcd");
	devtest_outb(t, FCR, 0xc1);                         /* trigger 14, no reset */
	assert_int_equal(devtest_inb(t, LSR) & 1, 1);
	assert_int_equal(devtest_inb(t, IIR), 0xc1);        /* 4 < 14 */
	devtest_outb(t, FCR, 0xc3);                         /* RCVR reset */
	assert_int_equal(devtest_inb(t, LSR), 0x60);
	receive(t, "abcd");
	devtest_outb(t, FCR, 0x00);                         /* FIFOs off: cleared */
	assert_int_equal(devtest_inb(t, LSR), 0x60);
	assert_int_equal(devtest_inb(t, IIR), 0x01);
	devtest_outb(t, FCR, 0xc0);                         /* FCR0 = 0: ignored */
	assert_int_equal(uart_rx_room(t->dev), 1);
	devtest_outb(t, FCR, 0x01);
	receive(t, "abcd");
	assert_int_equal(devtest_inb(t, IIR), 0xc4);        /* trigger back at 1 */
	devtest_outb(t, FCR, 0x01);                         /* unchanged: not cleared */
	assert_int_equal(uart_rx_room(t->dev), 12);
}

/* ---------------------------------------------------------------- interrupts */

/* "Interrupt Control Functions": line status > data > THRE > modem status,
 * each cleared by its own action. */
static void test_iir_priorities(void **state)
{
	struct devtest *t = *state;

	com_init(t, 1, 0x00, 0x00);
	devtest_outb(t, MCR, 0x12);                         /* loopback, RTS */
	devtest_outb(t, THR, 'p');
	devtest_outb(t, THR, 'q');                          /* overrun */
	devtest_outb(t, IER, 0x0f);
	assert_int_equal(devtest_inb(t, IIR), 0x06);
	assert_int_equal(devtest_inb(t, IIR), 0x06);        /* reading IIR does not clear it */
	assert_int_equal(devtest_inb(t, LSR), 0x63);
	assert_int_equal(devtest_inb(t, IIR), 0x04);
	assert_int_equal(devtest_inb(t, RBR), 'q');
	assert_int_equal(devtest_inb(t, IIR), 0x02);
	assert_int_equal(devtest_inb(t, IIR), 0x00);        /* THRE cleared by the last read */
	assert_int_equal(devtest_inb(t, MSR), 0x1a);        /* CTS; DCD and DSR fell */
	assert_int_equal(devtest_inb(t, IIR), 0x01);
	assert_false(t->line[IRQ]);                         /* loopback: OUT2 gate closed */

	/* The same order with the IRQ line in normal mode. */
	devtest_outb(t, MCR, 0x0b);
	assert_true(t->line[IRQ]);
	assert_int_equal(devtest_inb(t, IIR), 0x00);        /* DCD DSR back */
	assert_int_equal(devtest_inb(t, MSR), 0xba);
	assert_false(t->line[IRQ]);
	receive(t, "r");
	assert_int_equal(devtest_inb(t, IIR), 0x04);
	devtest_outb(t, THR, 's');
	assert_int_equal(devtest_inb(t, IIR), 0x04);        /* data beats THRE */
	(void)devtest_inb(t, RBR);
	assert_int_equal(devtest_inb(t, IIR), 0x02);
	assert_false(t->line[IRQ]);
}

/* ---------------------------------------------------------------- loopback */

static void test_loopback(void **state)
{
	struct devtest *t = *state;

	com_init(t, 1, 0x07, 0x01);
	(void)devtest_inb(t, MSR);
	devtest_outb(t, MCR, 0x10);                         /* loop, all outputs off */
	assert_int_equal(devtest_inb(t, MSR), 0x0b);        /* DCD DSR CTS fell */
	devtest_outb(t, THR, 'L');
	assert_int_equal(t->console_len, 0);                /* not on the wire */
	assert_int_equal(devtest_inb(t, LSR), 0x61);
	assert_int_equal(devtest_inb(t, IIR), 0xc4);
	assert_false(t->line[IRQ]);
	assert_int_equal(devtest_inb(t, RBR), 'L');
	assert_int_equal(receive(t, "x"), 0);               /* SIN disconnected */
	assert_int_equal(uart_rx_room(t->dev), 0);

	/* Outputs to inputs: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD. */
	devtest_outb(t, MCR, 0x11);
	assert_int_equal(devtest_inb(t, MSR), 0x22);
	devtest_outb(t, MCR, 0x12);
	assert_int_equal(devtest_inb(t, MSR), 0x13);
	devtest_outb(t, MCR, 0x14);
	assert_int_equal(devtest_inb(t, MSR), 0x41);        /* RI rose: no TERI */
	devtest_outb(t, MCR, 0x18);
	assert_int_equal(devtest_inb(t, MSR), 0x8c);        /* RI fell: TERI */
	devtest_outb(t, MCR, 0x18);
	assert_int_equal(devtest_inb(t, MSR), 0x80);        /* no change, no delta */

	/* Leaving loopback: the line is back, output goes to the console. */
	devtest_outb(t, MCR, 0x0b);
	assert_int_equal(devtest_inb(t, MSR), 0xb3);
	devtest_outb(t, THR, 'W');
	assert_int_equal(t->console_len, 1);
	assert_int_equal(receive(t, "x"), 1);
}

/* ---------------------------------------------------------------- ABI */

static void test_multibyte_and_bad_access(void **state)
{
	struct devtest *t = *state;

	devtest_outb(t, SCR, 0x42);
	assert_int_equal(devtest_in(t, MSR, 2), 0x42b0);
	assert_int_equal(devtest_in(t, SCR, 2), 0xff42);    /* 0x400 is not ours */
	devtest_out(t, LCR, 2, 0x0b03);                     /* LCR, then MCR */
	assert_int_equal(devtest_inb(t, LCR), 0x03);
	assert_int_equal(devtest_inb(t, MCR), 0x0b);
	assert_int_equal(t->nlogs, 0);
	devtest_outb(t, LSR, 0);
	devtest_outb(t, MSR, 0);
	assert_int_equal(t->nlogs, 2);
	assert_int_equal(t->ops->pio_read(t->dev, 1, 0, 1), 0xffffffff);
	assert_int_equal(t->ops->pio_read(t->dev, 0, 0, 8), 0xffffffff);
	t->ops->pio_write(t->dev, 0, 0, 3, 0);
	assert_int_equal(t->nlogs, 5);
	t->ops->pio_write(t->dev, 0, 0xfffe, 4, 0x41414141); /* past the range */
	assert_int_equal(t->console_len, 0);
}

static void test_save_restore(void **state)
{
	struct devtest *t = *state;
	char *before, *after;
	size_t len;
	void *img;
	uint8_t *bad;
	vtime_t deadline;

	com_init(t, 12, 0x87, 0x0f);
	devtest_run_until(t, 5000);
	receive(t, "saved");
	devtest_outb(t, SCR, 0x77);
	devtest_outb(t, LCR, 0x9b);
	before = devtest_dump(t);
	deadline = devtest_next_deadline(t);
	img = devtest_save(t, &len);

	for (uint64_t seed = 1, i = 0; i < 500; i++) {
		uint64_t r = devtest_rand(&seed);

		if (r % 3 == 0)
			(void)devtest_inb(t, (uint16_t)(COM1 + (r >> 8) % 8));
		else
			devtest_outb(t, (uint16_t)(COM1 + (r >> 8) % 8), (uint8_t)(r >> 16));
	}
	assert_int_equal(t->ops->restore(t->dev, img, len), 0);
	after = devtest_dump(t);
	assert_string_equal(before, after);
	assert_int_equal(devtest_next_deadline(t), deadline);
	free(after);
	devtest_outb(t, LCR, 0x1b);
	assert_int_equal(devtest_inb(t, RBR), 's');
	assert_int_equal(devtest_inb(t, SCR), 0x77);

	assert_int_equal(t->ops->restore(t->dev, img, len), 0);
	bad = malloc(len);
	memcpy(bad, img, len);
	memcpy(bad, "PIT ", 4);
	assert_int_equal(t->ops->restore(t->dev, bad, len), -1);
	memcpy(bad, img, len);
	bad[4] = 9;
	assert_int_equal(t->ops->restore(t->dev, bad, len), -1);
	memcpy(bad, img, len);
	bad[16 + 11] = 17;                                  /* rx_count */
	assert_int_equal(t->ops->restore(t->dev, bad, len), -1);
	assert_int_equal(t->ops->restore(t->dev, img, len - 1), -1);
	after = devtest_dump(t);
	assert_string_equal(before, after);

	free(after);
	free(bad);
	free(before);
	free(img);
}

static void test_hostile_ports(void **state)
{
	struct devtest *t = *state;
	uint64_t seed = 0x16550;

	for (int round = 0; round < 200; round++) {
		size_t len, room, n;
		void *img;
		uint8_t buf[40];
		int got;

		for (int i = 0; i < 100; i++) {
			uint64_t r = devtest_rand(&seed);
			unsigned sizes[] = { 1, 2, 4, 3, 0, 8 };

			switch (r % 6) {
			case 0:
				(void)devtest_inb(t, (uint16_t)(COM1 + (r >> 8) % 8));
				break;
			case 1:
				memset(buf, (int)(r >> 8), sizeof(buf));
				n = (r >> 16) % sizeof(buf);
				room = uart_rx_room(t->dev);
				got = uart_receive(t->dev, buf, n);
				assert_true(got >= 0 && (size_t)got <= n);
				assert_true((size_t)got >= (n < room ? n : room));
				break;
			case 2:
				devtest_run_until(t, t->now + (r >> 20) % 3000000);
				break;
			case 3:
				t->ops->pio_write(t->dev, (unsigned)(r >> 8) % 2, (uint16_t)((r >> 12) % 10),
						  sizes[(r >> 20) % 6], (uint32_t)(r >> 32));
				break;
			default:
				devtest_outb(t, (uint16_t)(COM1 + (r >> 8) % 8), (uint8_t)(r >> 16));
				break;
			}
		}
		room = uart_rx_room(t->dev);
		assert_true(room <= 16);
		img = devtest_save(t, &len);
		assert_int_equal(t->ops->restore(t->dev, img, len), 0);
		free(img);
		free(devtest_dump(t));
	}
	assert_int_equal(t->bad_lines, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_reset_values),
		T(test_dlab_and_scratch),
		T(test_transmit_to_console),
		T(test_thre_interrupt),
		T(test_out2_gates_irq),
		T(test_receive_without_fifo),
		T(test_fifo_trigger_levels),
		T(test_fifo_order_and_overrun),
		T(test_fifo_timeout),
		T(test_fcr),
		T(test_iir_priorities),
		T(test_loopback),
		T(test_multibyte_and_bad_access),
		T(test_save_restore),
		T(test_hostile_ports),
#undef T
	};

	return cmocka_run_group_tests_name("uart", tests, NULL, NULL);
}
