/*
 * uart.c - COM1: a 16550A UART (datasheet "PC16550D Universal Asynchronous
 * Receiver/Transmitter with FIFOs", National Semiconductor / TI) at
 * 0x3f8-0x3ff on ISA IRQ 4, clocked at 1.8432 MHz.
 *
 * Modelling choices:
 * - Transmission takes no virtual time: a byte written to THR goes to the
 *   console (or, in loopback, to the receiver) at once, so THR and the
 *   transmitter are empty again after every write: LSR.THRE and LSR.TEMT
 *   always read 1 and the TX FIFO never fills.  Guest output speed is not
 *   what vmxlab measures, and baud delays would only slow runs down.  The
 *   write still clears the THRE interrupt before the byte "leaves", so the
 *   INTR line falls and rises again around each write, as on the chip.
 * - Reception does take time where the datasheet makes it visible: the FIFO
 *   character timeout fires after four character times at the programmed
 *   divisor and frame format, on a platform timer.
 * - The line is error-free: parity, framing and break errors never occur;
 *   overrun does (uart_receive into a full receiver).
 * - Modem inputs: the far end is always there, so CTS, DSR and DCD are
 *   asserted and RI is not (as QEMU reports a connected back-end).
 * - PC wiring: INTR reaches IRQ 4 only while MCR.OUT2 is set (the PC gates
 *   the IRQ buffer with OUT2); in loopback OUT2 is forced inactive, so the
 *   interrupt is visible in IIR but not on IRQ 4.
 * - Power-on: the datasheet leaves the divisor latch undefined; reset sets
 *   it to 12 (9600 baud).  Master reset leaves SCR alone; power-on sets 0.
 *
 * Register accesses are byte-wide; wider ones are split into byte accesses
 * at off, off+1, ... (little-endian); bytes past 0x3ff read 0xff and are
 * dropped on write.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <vmxlab/dev.h>

#include "uart.h"

#define UART_IRQ     4
#define UART_CLOCK   1843200ull   /* Hz; the baud rate is UART_CLOCK / (16 * divisor) */
#define NS_PER_S     1000000000ull
#define FIFO_SIZE    16
#define NEVER        UINT64_MAX
#define RESET_DIVISOR 12

/* Register offsets ("Register Addresses" table), DLAB = LCR bit 7. */
enum {
	REG_RBR_THR_DLL = 0,
	REG_IER_DLM = 1,
	REG_IIR_FCR = 2,
	REG_LCR = 3,
	REG_MCR = 4,
	REG_LSR = 5,
	REG_MSR = 6,
	REG_SCR = 7,
};

/*
 * IER, Interrupt Enable Register:
 *
 *     7   6   5   4     3      2      1      0
 *   +---+---+---+---+-------+------+-------+-------+
 *   | 0 | 0 | 0 | 0 | EDSSI | ELSI | ETBEI | ERBFI |
 *   +---+---+---+---+-------+------+-------+-------+
 *   ERBFI: received data available (and FIFO timeout)  ETBEI: THR empty
 *   ELSI:  receiver line status                         EDSSI: modem status
 */
#define IER_ERBFI 0x01
#define IER_ETBEI 0x02
#define IER_ELSI  0x04
#define IER_EDSSI 0x08
#define IER_BITS  0x0f

/*
 * IIR, Interrupt Identification Register (read):
 *
 *      7        6      5   4    3     2     1     0
 *   +-------+-------+---+---+-----+-----+-----+------+
 *   | FIFOs enabled | 0 | 0 | ID3 | ID2 | ID1 | !INT |
 *   +-------+-------+---+---+-----+-----+-----+------+
 *   bits 3-0, highest priority first ("Interrupt Control Functions"):
 *   0110 receiver line status   0100 received data available
 *   1100 character timeout      0010 THR empty   0000 modem status
 *   0001 none pending
 */
#define IIR_NONE    0x01
#define IIR_RLS     0x06
#define IIR_RDA     0x04
#define IIR_CTI     0x0c
#define IIR_THRE    0x02
#define IIR_MSI     0x00
#define IIR_FIFO_ON 0xc0

/*
 * FCR, FIFO Control Register (write):
 *
 *      7        6      5   4     3       2        1        0
 *   +--------+--------+---+---+------+--------+--------+--------+
 *   | RCVR trigger    | 0 | 0 | DMA  | XMIT   | RCVR   | FIFO   |
 *   | (1, 4, 8, 14)   |   |   | mode | reset  | reset  | enable |
 *   +--------+--------+---+---+------+--------+--------+--------+
 */
#define FCR_ENABLE     0x01
#define FCR_RX_RESET   0x02
#define FCR_TX_RESET   0x04
#define FCR_DMA        0x08
#define FCR_TRIGGER(v) (((unsigned)(v) >> 6) & 3)
#define FCR_KEPT       0xc9   /* what FCR remembers: trigger, DMA, enable */

/*
 * LCR, Line Control Register:
 *
 *     7     6      5      4     3     2     1     0
 *   +------+-----+-------+-----+-----+-----+-----+-----+
 *   | DLAB | SBR | STICK | EPS | PEN | STB | WLS1| WLS0|
 *   +------+-----+-------+-----+-----+-----+-----+-----+
 *   WLS: 5 + n data bits   STB: 1 = 1.5 (5 bits) or 2 stop bits
 *   PEN: parity enable     SBR: set break   DLAB: divisor latch access
 */
#define LCR_WLS  0x03
#define LCR_STB  0x04
#define LCR_PEN  0x08
#define LCR_DLAB 0x80

/*
 * MCR, Modem Control Register:
 *
 *     7   6   5    4      3      2      1     0
 *   +---+---+---+------+------+------+-----+-----+
 *   | 0 | 0 | 0 | LOOP | OUT2 | OUT1 | RTS | DTR |
 *   +---+---+---+------+------+------+-----+-----+
 */
#define MCR_DTR  0x01
#define MCR_RTS  0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define MCR_BITS 0x1f

/*
 * LSR, Line Status Register:
 *
 *       7         6      5     4    3    2    1    0
 *   +---------+------+------+----+----+----+----+----+
 *   | RX FIFO | TEMT | THRE | BI | FE | PE | OE | DR |
 *   |  error  |      |      |    |    |    |    |    |
 *   +---------+------+------+----+----+----+----+----+
 */
#define LSR_DR   0x01
#define LSR_OE   0x02
#define LSR_THRE 0x20
#define LSR_TEMT 0x40

/*
 * MSR, Modem Status Register:
 *
 *     7     6    5     4     3      2      1      0
 *   +-----+----+-----+-----+------+------+------+------+
 *   | DCD | RI | DSR | CTS | DDCD | TERI | DDSR | DCTS |
 *   +-----+----+-----+-----+------+------+------+------+
 *   In loopback: CTS = RTS, DSR = DTR, RI = OUT1, DCD = OUT2.
 */
#define MSR_DCTS   0x01
#define MSR_DDSR   0x02
#define MSR_TERI   0x04
#define MSR_DDCD   0x08
#define MSR_DELTAS 0x0f
#define MSR_CTS    0x10
#define MSR_DSR    0x20
#define MSR_RI     0x40
#define MSR_DCD    0x80
#define MSR_REMOTE (MSR_DCD | MSR_DSR | MSR_CTS)

static const uint8_t rx_trigger[4] = { 1, 4, 8, 14 };

struct uart_state {
	const struct vmx_platform *plat;
	uint8_t rbr;          /* Receiver Buffer Register: last character read */
	uint8_t ier;          /* Interrupt Enable Register */
	uint8_t fcr;          /* FIFO Control Register (FCR_KEPT bits) */
	uint8_t lcr;          /* Line Control Register */
	uint8_t mcr;          /* Modem Control Register */
	uint8_t lsr_err;      /* LSR error bits (OE) until LSR is read */
	uint8_t msr;          /* Modem Status Register: inputs and deltas */
	uint8_t scr;          /* Scratch Register */
	uint8_t dll, dlm;     /* Divisor Latch, LS and MS bytes */
	/* Receiver: RBR alone (FIFOs off) or the 16-byte RCVR FIFO. */
	uint8_t rx[FIFO_SIZE];
	uint8_t rx_head;
	uint8_t rx_count;
	bool thr_ipending;    /* THRE interrupt not yet cleared (IIR read/THR write) */
	bool timeout_ipending;/* character timeout indication */
	bool irq;             /* level driven on IRQ 4 */
	int timer;            /* character timeout */
	vtime_t timeout_deadline;
};

#define uart_log(u, ...) \
	((u)->plat && (u)->plat->log ? (u)->plat->log((u)->plat->ctx, "uart", __VA_ARGS__) : (void)0)

/* ---------------------------------------------------------------- interrupts */

static bool fifo_on(const struct uart_state *u)
{
	return u->fcr & FCR_ENABLE;
}

static unsigned rx_capacity(const struct uart_state *u)
{
	return fifo_on(u) ? FIFO_SIZE : 1;
}

/* The highest-priority pending interrupt, as IIR bits 3-0. */
static uint8_t iir_id(const struct uart_state *u)
{
	if ((u->ier & IER_ELSI) && (u->lsr_err & LSR_OE))
		return IIR_RLS;
	if (u->ier & IER_ERBFI) {
		unsigned level = fifo_on(u) ? rx_trigger[FCR_TRIGGER(u->fcr)] : 1;

		if (u->rx_count >= level)
			return IIR_RDA;
		if (u->timeout_ipending)
			return IIR_CTI;
	}
	if ((u->ier & IER_ETBEI) && u->thr_ipending)
		return IIR_THRE;
	if ((u->ier & IER_EDSSI) && (u->msr & MSR_DELTAS))
		return IIR_MSI;
	return IIR_NONE;
}

static void update_irq(struct uart_state *u)
{
	bool level = iir_id(u) != IIR_NONE && (u->mcr & MCR_OUT2) && !(u->mcr & MCR_LOOP);

	if (level == u->irq)
		return;
	u->irq = level;
	u->plat->set_irq(u->plat->ctx, UART_IRQ, level);
}

/* ---------------------------------------------------------------- receiver */

static unsigned divisor(const struct uart_state *u)
{
	unsigned d = (unsigned)u->dlm << 8 | u->dll;
	return d ? d : 65536;
}

/* Four character times at the present divisor and frame ("FIFO Interrupt
 * Mode Operation": the timeout is four characters). */
static vtime_t timeout_ns(const struct uart_state *u)
{
	unsigned wls = 5 + (u->lcr & LCR_WLS);
	/* Half-bits: start, data, parity, stop (1.5 stop bits for 5-bit words). */
	uint64_t half = 2 + 2 * wls + ((u->lcr & LCR_PEN) ? 2 : 0) +
			((u->lcr & LCR_STB) ? (wls == 5 ? 3 : 4) : 2);

	return 4 * half * divisor(u) * 16 * NS_PER_S / (2 * UART_CLOCK);
}

static vtime_t uart_now(const struct uart_state *u)
{
	return u->plat->now(u->plat->ctx);
}

static void timeout_restart(struct uart_state *u)
{
	if (u->timer < 0)
		return;
	if (fifo_on(u) && u->rx_count > 0) {
		u->timeout_deadline = uart_now(u) + timeout_ns(u);
		u->plat->timer_arm(u->plat->ctx, u->timer, u->timeout_deadline);
	} else {
		u->timeout_deadline = NEVER;
		u->plat->timer_cancel(u->plat->ctx, u->timer);
	}
}

static void timeout_fired(void *s, vtime_t now)
{
	struct uart_state *u = s;

	(void)now;
	u->timeout_deadline = NEVER;
	if (fifo_on(u) && u->rx_count > 0)
		u->timeout_ipending = true;
	update_irq(u);
}

static uint8_t word_mask(const struct uart_state *u)
{
	return (uint8_t)(0xff >> (3 - (u->lcr & LCR_WLS)));
}

/*
 * A character completes reception ("Line Status Register", OE): with FIFOs,
 * a full FIFO keeps its contents and the new character is lost; without,
 * it overwrites the unread RBR.
 */
static bool rx_push(struct uart_state *u, uint8_t c)
{
	c &= word_mask(u);
	if (u->rx_count >= rx_capacity(u)) {
		u->lsr_err |= LSR_OE;
		if (fifo_on(u))
			return false;
		u->rx[u->rx_head] = c;
		return true;
	}
	u->rx[(u->rx_head + u->rx_count) % FIFO_SIZE] = c;
	u->rx_count++;
	if (!u->timeout_ipending)
		timeout_restart(u);
	return true;
}

static void rx_clear(struct uart_state *u)
{
	u->rx_head = 0;
	u->rx_count = 0;
	u->timeout_ipending = false;
	timeout_restart(u);
}

int uart_receive(void *s, const uint8_t *buf, size_t len)
{
	struct uart_state *u = s;
	int stored = 0;

	if (u->mcr & MCR_LOOP)
		return 0;
	if (len > INT_MAX)
		len = INT_MAX;
	for (size_t i = 0; i < len; i++)
		stored += rx_push(u, buf[i]);
	update_irq(u);
	return stored;
}

size_t uart_rx_room(const void *s)
{
	const struct uart_state *u = s;

	if (u->mcr & MCR_LOOP)
		return 0;
	return rx_capacity(u) - u->rx_count;
}

/* ---------------------------------------------------------------- registers */

static uint8_t read_rbr(struct uart_state *u)
{
	if (u->rx_count) {
		u->rbr = u->rx[u->rx_head];
		u->rx_head = (u->rx_head + 1) % FIFO_SIZE;
		u->rx_count--;
	}
	u->timeout_ipending = false;
	timeout_restart(u);
	return u->rbr;
}

/* Reading IIR clears a THRE interrupt it reports. */
static uint8_t read_iir(struct uart_state *u)
{
	uint8_t id = iir_id(u);

	if (id == IIR_THRE)
		u->thr_ipending = false;
	return (uint8_t)((fifo_on(u) ? IIR_FIFO_ON : 0) | id);
}

/* Reading LSR clears the error bits and the line status interrupt. */
static uint8_t read_lsr(struct uart_state *u)
{
	uint8_t v = (uint8_t)(LSR_THRE | LSR_TEMT | u->lsr_err | (u->rx_count ? LSR_DR : 0));

	u->lsr_err = 0;
	return v;
}

/* Reading MSR clears the delta bits and the modem status interrupt. */
static uint8_t read_msr(struct uart_state *u)
{
	uint8_t v = u->msr;

	u->msr &= (uint8_t)~MSR_DELTAS;
	return v;
}

/* The modem inputs: the far end, or the MCR outputs in loopback. */
static uint8_t modem_inputs(const struct uart_state *u)
{
	if (!(u->mcr & MCR_LOOP))
		return MSR_REMOTE;
	return (uint8_t)(((u->mcr & MCR_RTS) ? MSR_CTS : 0) | ((u->mcr & MCR_DTR) ? MSR_DSR : 0) |
			 ((u->mcr & MCR_OUT1) ? MSR_RI : 0) | ((u->mcr & MCR_OUT2) ? MSR_DCD : 0));
}

/* New input levels set the delta bits; TERI is RI's trailing edge only. */
static void modem_update(struct uart_state *u)
{
	uint8_t old = u->msr & (uint8_t)~MSR_DELTAS;
	uint8_t now = modem_inputs(u);
	uint8_t changed = old ^ now;
	uint8_t deltas = u->msr & MSR_DELTAS;

	if (changed & MSR_CTS)
		deltas |= MSR_DCTS;
	if (changed & MSR_DSR)
		deltas |= MSR_DDSR;
	if ((old & MSR_RI) && !(now & MSR_RI))
		deltas |= MSR_TERI;
	if (changed & MSR_DCD)
		deltas |= MSR_DDCD;
	u->msr = now | deltas;
}

/* A character leaves the transmitter: to the console, or looped back. */
static void write_thr(struct uart_state *u, uint8_t val)
{
	uint8_t c = val & word_mask(u);

	u->thr_ipending = false;
	update_irq(u);
	if (u->mcr & MCR_LOOP)
		rx_push(u, c);
	else if (u->plat->console)
		u->plat->console(u->plat->ctx, (const char *)&c, 1);
	u->thr_ipending = true;
}

static void write_ier(struct uart_state *u, uint8_t val)
{
	uint8_t old = u->ier;

	u->ier = val & IER_BITS;
	/* Enabling ETBEI with THR empty raises the THRE interrupt at once. */
	if ((u->ier & IER_ETBEI) && !(old & IER_ETBEI))
		u->thr_ipending = true;
}

static void write_fcr(struct uart_state *u, uint8_t val)
{
	/* Changing FCR0 clears both FIFOs; other bits need FCR0 = 1. */
	if ((val ^ u->fcr) & FCR_ENABLE) {
		u->fcr = val & FCR_ENABLE;
		rx_clear(u);
	}
	if (!(val & FCR_ENABLE))
		return;
	u->fcr = val & FCR_KEPT;
	if (val & FCR_RX_RESET)
		rx_clear(u);
	if (val & FCR_TX_RESET)
		u->thr_ipending = (u->ier & IER_ETBEI) != 0;
}

static void write_mcr(struct uart_state *u, uint8_t val)
{
	if (val & ~MCR_BITS)
		uart_log(u, "MCR=%#04x: reserved bits 7-5 set", val);
	u->mcr = val & MCR_BITS;
	modem_update(u);
}

static uint8_t read_reg(struct uart_state *u, unsigned off)
{
	bool dlab = u->lcr & LCR_DLAB;

	switch (off) {
	case REG_RBR_THR_DLL:
		return dlab ? u->dll : read_rbr(u);
	case REG_IER_DLM:
		return dlab ? u->dlm : u->ier;
	case REG_IIR_FCR:
		return read_iir(u);
	case REG_LCR:
		return u->lcr;
	case REG_MCR:
		return u->mcr;
	case REG_LSR:
		return read_lsr(u);
	case REG_MSR:
		return read_msr(u);
	case REG_SCR:
		return u->scr;
	default:
		return 0xff;
	}
}

static void write_reg(struct uart_state *u, unsigned off, uint8_t val)
{
	bool dlab = u->lcr & LCR_DLAB;

	switch (off) {
	case REG_RBR_THR_DLL:
		if (dlab)
			u->dll = val;
		else
			write_thr(u, val);
		break;
	case REG_IER_DLM:
		if (dlab)
			u->dlm = val;
		else
			write_ier(u, val);
		break;
	case REG_IIR_FCR:
		write_fcr(u, val);
		break;
	case REG_LCR:
		u->lcr = val;
		break;
	case REG_MCR:
		write_mcr(u, val);
		break;
	case REG_LSR:
	case REG_MSR:
		uart_log(u, "write %#04x to read-only %s ignored", val, off == REG_LSR ? "LSR" : "MSR");
		break;
	case REG_SCR:
		u->scr = val;
		break;
	default:
		break;
	}
}

static bool access_ok(struct uart_state *u, unsigned range, uint16_t off, unsigned size,
		      const char *what)
{
	if (range == 0 && (size == 1 || size == 2 || size == 4))
		return true;
	uart_log(u, "bad %s: range %u offset %u size %u", what, range, off, size);
	return false;
}

static uint32_t uart_pio_read(void *s, unsigned range, uint16_t off, unsigned size)
{
	struct uart_state *u = s;
	uint32_t val = 0;

	if (!access_ok(u, range, off, size, "read"))
		return 0xffffffff;
	for (unsigned i = 0; i < size; i++)
		val |= (uint32_t)read_reg(u, (unsigned)off + i) << (8 * i);
	update_irq(u);
	return val;
}

static void uart_pio_write(void *s, unsigned range, uint16_t off, unsigned size, uint32_t val)
{
	struct uart_state *u = s;

	if (!access_ok(u, range, off, size, "write"))
		return;
	for (unsigned i = 0; i < size; i++)
		write_reg(u, (unsigned)off + i, (uint8_t)(val >> (8 * i)));
	update_irq(u);
}

/* ---------------------------------------------------------------- lifecycle */

/* Master reset ("Reset Control"): registers and outputs to their reset values. */
static void uart_reset(void *s)
{
	struct uart_state *u = s;

	u->ier = 0;
	u->fcr = 0;
	u->lcr = 0;
	u->mcr = 0;
	u->lsr_err = 0;
	u->thr_ipending = false;
	u->scr = 0;
	u->dll = RESET_DIVISOR;
	u->dlm = 0;
	u->rbr = 0;
	u->msr = modem_inputs(u);
	rx_clear(u);
	update_irq(u);
}

static int uart_init(void *s, const struct vmx_platform *plat, const char *options)
{
	struct uart_state *u = s;

	u->plat = plat;
	u->timer = -1;
	if (options && *options) {
		uart_log(u, "unknown options \"%s\"", options);
		return -1;
	}
	u->timer = plat->timer_new(plat->ctx, timeout_fired, u);
	if (u->timer < 0) {
		uart_log(u, "no platform timer for the FIFO timeout");
		return -1;
	}
	uart_reset(u);
	return 0;
}

static void uart_fini(void *s)
{
	struct uart_state *u = s;

	if (u->timer >= 0)
		u->plat->timer_cancel(u->plat->ctx, u->timer);
}

/* ---------------------------------------------------------------- save/restore */

#define UART_IMAGE_MAGIC   0x54524155u /* "UART" */
#define UART_IMAGE_VERSION 1

#define IMG_THR_IPENDING     0x01
#define IMG_TIMEOUT_IPENDING 0x02
#define IMG_IRQ              0x04
#define IMG_FLAGS            0x07

struct uart_image {
	uint32_t magic;
	uint16_t version;
	uint16_t size;
	uint64_t timeout_deadline;
	uint8_t rbr, ier, fcr, lcr, mcr, lsr_err, msr, scr;
	uint8_t dll, dlm, rx_head, rx_count, flags, pad[3];
	uint8_t rx[FIFO_SIZE];
};

_Static_assert(sizeof(struct uart_image) == 48, "uart image layout is fixed");

static long uart_save(const void *s, void *buf, size_t len)
{
	const struct uart_state *u = s;
	struct uart_image img;

	if (len < sizeof(img))
		return -1;
	memset(&img, 0, sizeof(img));
	img.magic = UART_IMAGE_MAGIC;
	img.version = UART_IMAGE_VERSION;
	img.size = sizeof(img);
	img.timeout_deadline = u->timeout_deadline;
	img.rbr = u->rbr;
	img.ier = u->ier;
	img.fcr = u->fcr;
	img.lcr = u->lcr;
	img.mcr = u->mcr;
	img.lsr_err = u->lsr_err;
	img.msr = u->msr;
	img.scr = u->scr;
	img.dll = u->dll;
	img.dlm = u->dlm;
	img.rx_head = u->rx_head;
	img.rx_count = u->rx_count;
	img.flags = (uint8_t)((u->thr_ipending ? IMG_THR_IPENDING : 0) |
			      (u->timeout_ipending ? IMG_TIMEOUT_IPENDING : 0) |
			      (u->irq ? IMG_IRQ : 0));
	memcpy(img.rx, u->rx, FIFO_SIZE);
	memcpy(buf, &img, sizeof(img));
	return (long)sizeof(img);
}

static bool image_ok(const struct uart_image *img)
{
	unsigned cap = (img->fcr & FCR_ENABLE) ? FIFO_SIZE : 1;

	return !(img->ier & ~IER_BITS) && !(img->fcr & ~FCR_KEPT) &&
	       ((img->fcr & FCR_ENABLE) || img->fcr == 0) &&
	       !(img->mcr & ~MCR_BITS) && !(img->lsr_err & ~LSR_OE) &&
	       img->rx_head < FIFO_SIZE && img->rx_count <= cap &&
	       !(img->flags & ~IMG_FLAGS);
}

static int uart_restore(void *s, const void *buf, size_t len)
{
	struct uart_state *u = s;
	struct uart_image img;

	if (len != sizeof(img))
		return -1;
	memcpy(&img, buf, sizeof(img));
	if (img.magic != UART_IMAGE_MAGIC || img.version != UART_IMAGE_VERSION ||
	    img.size != sizeof(img))
		return -1;
	if (!image_ok(&img)) {
		uart_log(u, "restore: image out of range");
		return -1;
	}
	u->rbr = img.rbr;
	u->ier = img.ier;
	u->fcr = img.fcr;
	u->lcr = img.lcr;
	u->mcr = img.mcr;
	u->lsr_err = img.lsr_err;
	u->msr = img.msr;
	u->scr = img.scr;
	u->dll = img.dll;
	u->dlm = img.dlm;
	u->rx_head = img.rx_head;
	u->rx_count = img.rx_count;
	u->thr_ipending = img.flags & IMG_THR_IPENDING;
	u->timeout_ipending = img.flags & IMG_TIMEOUT_IPENDING;
	u->irq = img.flags & IMG_IRQ;
	memcpy(u->rx, img.rx, FIFO_SIZE);
	u->timeout_deadline = img.timeout_deadline;
	if (u->timer >= 0) {
		if (u->timeout_deadline == NEVER)
			u->plat->timer_cancel(u->plat->ctx, u->timer);
		else
			u->plat->timer_arm(u->plat->ctx, u->timer, u->timeout_deadline);
	}
	update_irq(u);
	return 0;
}

/* ---------------------------------------------------------------- dump */

static void uart_dump(const void *s, FILE *out)
{
	const struct uart_state *u = s;
	unsigned d = divisor(u);
	uint8_t lsr = (uint8_t)(LSR_THRE | LSR_TEMT | u->lsr_err | (u->rx_count ? LSR_DR : 0));

	fprintf(out, "uart IER=%02x IIR=%02x FCR=%02x LCR=%02x MCR=%02x LSR=%02x MSR=%02x "
		"SCR=%02x DLL=%02x DLM=%02x\n",
		u->ier, (fifo_on(u) ? IIR_FIFO_ON : 0) | iir_id(u), u->fcr, u->lcr, u->mcr,
		lsr, u->msr, u->scr, u->dll, u->dlm);
	fprintf(out, "uart %llu baud %u%c%s dlab=%d loop=%d fifo=%s trigger=%u "
		"thre-int=%d timeout-int=%d IRQ4=%d timeout=",
		(unsigned long long)(UART_CLOCK / 16 / d), 5 + (u->lcr & LCR_WLS),
		(u->lcr & LCR_PEN) ? 'P' : 'N', (u->lcr & LCR_STB) ? "2" : "1",
		!!(u->lcr & LCR_DLAB), !!(u->mcr & MCR_LOOP), fifo_on(u) ? "on" : "off",
		rx_trigger[FCR_TRIGGER(u->fcr)], u->thr_ipending, u->timeout_ipending, u->irq);
	if (u->timeout_deadline == NEVER)
		fprintf(out, "idle\n");
	else
		fprintf(out, "%llu ns\n", (unsigned long long)u->timeout_deadline);
	fprintf(out, "uart rx %u/%u:", u->rx_count, rx_capacity(u));
	for (unsigned i = 0; i < u->rx_count; i++)
		fprintf(out, " %02x", u->rx[(u->rx_head + i) % FIFO_SIZE]);
	fputc('\n', out);
}

const struct vmx_dev_ops uart_dev_ops = {
	.name = "uart",
	.state_size = sizeof(struct uart_state),
	.init = uart_init,
	.fini = uart_fini,
	.reset = uart_reset,
	.pio_read = uart_pio_read,
	.pio_write = uart_pio_write,
	.save = uart_save,
	.restore = uart_restore,
	.dump = uart_dump,
	.nranges = 1,
	.ranges = {
		{ .base = 0x3f8, .len = 8 },
	},
};
