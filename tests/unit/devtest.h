/*
 * devtest.h - a fake struct vmx_platform for the device unit tests: a
 * virtual clock the test sets, recorded IRQ line transitions, a small timer
 * list the test advances, captured console output and counted log lines.
 * Devices are driven through their port callbacks by absolute port number,
 * so the tests also check the ranges a device claims.
 */
#ifndef DEVTEST_H
#define DEVTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vmxlab/dev.h>

#define DEVTEST_LINES       16
#define DEVTEST_TIMERS      8
#define DEVTEST_EVENTS      4096
#define DEVTEST_CONSOLE     65536
#define DEVTEST_NEVER       UINT64_MAX

struct devtest_irq_event {
	vtime_t t;
	unsigned line;
	bool level;
};

struct devtest_timer {
	vmx_timer_fn fn;
	void *dev;
	bool armed;
	vtime_t deadline;
};

struct devtest {
	struct vmx_platform plat;
	vtime_t now;

	bool line[DEVTEST_LINES];         /* present level of each IRQ line */
	unsigned rises[DEVTEST_LINES];    /* 0 -> 1 transitions per line */
	struct devtest_irq_event ev[DEVTEST_EVENTS];
	size_t nev;                       /* events recorded (capped at DEVTEST_EVENTS) */
	unsigned bad_lines;               /* set_irq calls with line >= 16 */

	struct devtest_timer timer[DEVTEST_TIMERS];
	int ntimers;

	char console[DEVTEST_CONSOLE];
	size_t console_len;

	unsigned nlogs;
	char last_log[256];

	const struct vmx_dev_ops *ops;
	void *dev;                        /* the device's state */
};

/* Allocate a zeroed devtest, init ops's device with options (asserts 0). */
struct devtest *devtest_new(const struct vmx_dev_ops *ops, const char *options);
void devtest_free(struct devtest *t);

/* Port access by absolute port number; fails the test if no range claims it. */
uint32_t devtest_in(struct devtest *t, uint16_t port, unsigned size);
void devtest_out(struct devtest *t, uint16_t port, unsigned size, uint32_t val);
uint8_t devtest_inb(struct devtest *t, uint16_t port);
void devtest_outb(struct devtest *t, uint16_t port, uint8_t val);

/* Advance the clock to `when`, firing due timers in deadline order, each at
 * its own deadline. */
void devtest_run_until(struct devtest *t, vtime_t when);
/* The earliest armed deadline, or DEVTEST_NEVER. */
vtime_t devtest_next_deadline(const struct devtest *t);

/* Clear the recorded IRQ events and rise counts (levels are kept). */
void devtest_clear_irqs(struct devtest *t);
/* Times of the rising edges of `line` recorded since the last clear. */
size_t devtest_rise_times(const struct devtest *t, unsigned line, vtime_t *out, size_t max);

/* The device's dump as a malloc'd string (the caller frees it). */
char *devtest_dump(const struct devtest *t);
/* save into a malloc'd buffer; *len gets the size.  Asserts success. */
void *devtest_save(const struct devtest *t, size_t *len);

/* A deterministic PRNG (xorshift64*) for the hostile-input tests. */
uint64_t devtest_rand(uint64_t *seed);

#endif
