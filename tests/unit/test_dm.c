/*
 * The device-model process and its protocol: a real vmxlab-dm, a real
 * shared page and eventfds; requests validated; death noticed at once.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vmxlab/ioreq.h>

static char dm_exe[512];
static struct dm_client *c;
static char err[512];

static int setup(void **state)
{
	static const char *const devs[] = { "pic" };
	(void)state;
	c = dm_spawn(dm_exe, -1, 0, 1, devs, err, sizeof(err));
	if (!c)
		print_message("dm_spawn: %s\n", err);
	return c ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	dm_close(c);
	return 0;
}

/* One port access to the PIC (device 0): range 0 is 0x20-0x21. */
static int pic_port(unsigned range, unsigned off, int dir, uint32_t *val)
{
	struct vmx_ioreq r = { .addr = off, .data = *val, .size = 1, .type = IOREQ_PIO, .dir = (uint8_t)dir,
			       .range = (uint16_t)range };
	int rc = dm_call(c, DM_OP_IO, 0, &r, err, sizeof(err));
	*val = (uint32_t)r.data;
	return rc;
}

static void out8(unsigned range, unsigned off, uint32_t val)
{
	assert_int_equal(pic_port(range, off, 0, &val), 0);
}

static void pic_in_the_process_raises_and_acks_an_interrupt(void **state)
{
	(void)state;
	/* ICW1 edge/cascade/ICW4, ICW2 base 0x20, ICW3 slave on IRQ2, ICW4 8086, unmask all. */
	out8(0, 0, 0x11);
	out8(0, 1, 0x20);
	out8(0, 1, 0x04);
	out8(0, 1, 0x01);
	out8(0, 1, 0x00);
	assert_int_equal(dm_page(c)->pic_pending, -1);
	struct vmx_ioreq irq = { .addr = 0, .data = 1 };
	assert_int_equal(dm_call(c, DM_OP_IRQ, 0, &irq, err, sizeof(err)), 0);
	/* The answer publishes the PIC's output: no round trip needed to see it. */
	assert_int_equal(dm_page(c)->pic_pending, 0x20);
	struct vmx_ioreq ack = { .type = IOREQ_INTR_ACK, .dir = 1, .size = 1 };
	assert_int_equal(dm_call(c, DM_OP_IO, 0, &ack, err, sizeof(err)), 0);
	assert_int_equal(ack.data, 0x20);
	assert_int_equal(dm_page(c)->pic_pending, -1);
	/* ISR bit 0 is set until the EOI: read ISR with OCW3. */
	uint32_t isr = 0;
	out8(0, 0, 0x0b);
	assert_int_equal(pic_port(0, 0, 1, &isr), 0);
	assert_int_equal(isr & 1, 1);
	out8(0, 0, 0x20);
	assert_int_equal(pic_port(0, 0, 1, &isr), 0);
	assert_int_equal(isr & 1, 0);
	struct vmx_ioreq dump = { 0 };
	assert_int_equal(dm_call(c, DM_OP_DUMP, 0, &dump, err, sizeof(err)), 0);
	assert_true(strlen(dm_page(c)->dump) > 10);
}

static void bad_requests_are_refused_and_the_process_carries_on(void **state)
{
	struct vmx_ioreq r;
	(void)state;

	r = (struct vmx_ioreq){ .type = IOREQ_PIO, .size = 1, .dir = 1 };
	assert_int_equal(dm_call(c, DM_OP_IO, 7, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "device 7"));
	r = (struct vmx_ioreq){ .type = IOREQ_PIO, .size = 3, .dir = 1 };
	assert_int_equal(dm_call(c, DM_OP_IO, 0, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "size 3"));
	r = (struct vmx_ioreq){ .type = IOREQ_PIO, .size = 1, .dir = 1, .range = 9 };
	assert_int_equal(dm_call(c, DM_OP_IO, 0, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "window 9"));
	r = (struct vmx_ioreq){ .type = IOREQ_PIO, .size = 1, .dir = 1, .addr = 0x1000 };
	assert_int_equal(dm_call(c, DM_OP_IO, 0, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "outside window"));
	r = (struct vmx_ioreq){ .type = IOREQ_MMIO, .size = 1, .dir = 1 };
	assert_int_equal(dm_call(c, DM_OP_IO, 0, &r, err, sizeof(err)), -1);
	r = (struct vmx_ioreq){ .type = 77 };
	assert_int_equal(dm_call(c, DM_OP_IO, 0, &r, err, sizeof(err)), -1);
	r = (struct vmx_ioreq){ .addr = 99 };
	assert_int_equal(dm_call(c, DM_OP_IRQ, 0, &r, err, sizeof(err)), -1);
	assert_int_equal(dm_call(c, (enum dm_op)42, 0, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown operation"));
	/* Still serving. */
	uint32_t v = 0;
	assert_int_equal(pic_port(0, 1, 1, &v), 0);
}

static double since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void a_killed_process_is_noticed_within_a_second(void **state)
{
	struct timespec t0;
	uint32_t v = 0;
	(void)state;

	assert_int_equal(pic_port(0, 1, 1, &v), 0);
	kill(dm_pid(c), SIGKILL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(pic_port(0, 1, 1, &v), -1);
	assert_true(since(&t0) < 1.0);
	assert_non_null(strstr(err, "killed by signal 9"));
	/* Later calls fail the same way without waiting. */
	assert_int_equal(pic_port(0, 1, 1, &v), -1);
}

/* A stopped process (SIGSTOP) holds vmxlab only until dm_abandon (what
 * SIGINT/SIGTERM call): the call fails at once, and dm_close kills it. */
static void an_abandoned_wait_ends_at_once(void **state)
{
	struct timespec t0;
	uint32_t v = 0;
	(void)state;

	assert_int_equal(pic_port(0, 1, 1, &v), 0);
	kill(dm_pid(c), SIGSTOP);
	dm_abandon(c);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(pic_port(0, 1, 1, &v), -1);
	assert_true(since(&t0) < 1.0);
	assert_non_null(strstr(err, "left unanswered"));
	pid_t pid = dm_pid(c);
	dm_close(c);
	c = NULL;
	assert_int_equal(kill(pid, 0), -1);
}

static void unknown_device_model_fails_to_start(void **state)
{
	static const char *const devs[] = { "flux-capacitor" };
	(void)state;
	struct dm_client *bad = dm_spawn(dm_exe, -1, 0, 1, devs, err, sizeof(err));
	assert_null(bad);
	assert_non_null(strstr(err, "exited with status 2"));
	bad = dm_spawn("/nonexistent/vmxlab-dm", -1, 0, 0, NULL, err, sizeof(err));
	assert_null(bad);
	assert_non_null(strstr(err, "exited with status 127"));
}

static void irq_log_keeps_order_then_coalesces_what_a_pic_latches(void **state)
{
	struct dm_irq_log l;
	(void)state;

	dm_irq_log_reset(&l);
	dm_irq_log_add(&l, 4, true);
	dm_irq_log_add(&l, 4, false);
	dm_irq_log_finish(&l);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.ev[0].line, 4);
	assert_int_equal(l.ev[0].level, 1);
	assert_int_equal(l.ev[1].level, 0);
	/* A fast timer: 1000 pulses on line 0, line 3 ends high, line 5 ends
	 * low without ever rising. */
	dm_irq_log_reset(&l);
	for (int i = 0; i < 1000; i++) {
		dm_irq_log_add(&l, 0, true);
		dm_irq_log_add(&l, 0, false);
	}
	dm_irq_log_add(&l, 3, true);
	dm_irq_log_add(&l, 5, false);
	dm_irq_log_finish(&l);
	assert_true(l.overflow);
	assert_int_equal(l.n, 4);
	assert_int_equal(l.ev[0].line, 0);
	assert_int_equal(l.ev[0].level, 1);  /* it rose ... */
	assert_int_equal(l.ev[1].line, 0);
	assert_int_equal(l.ev[1].level, 0);  /* ... and ended low */
	assert_int_equal(l.ev[2].line, 3);
	assert_int_equal(l.ev[2].level, 1);
	assert_int_equal(l.ev[3].line, 5);
	assert_int_equal(l.ev[3].level, 0);
}

int main(void)
{
	const char *b = getenv("BUILD");
	snprintf(dm_exe, sizeof(dm_exe), "%s/asan/vmxlab-dm", b && *b ? b : "build");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(pic_in_the_process_raises_and_acks_an_interrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_requests_are_refused_and_the_process_carries_on, setup, teardown),
		cmocka_unit_test_setup_teardown(a_killed_process_is_noticed_within_a_second, setup, teardown),
		cmocka_unit_test_setup_teardown(an_abandoned_wait_ends_at_once, setup, teardown),
		cmocka_unit_test(unknown_device_model_fails_to_start),
		cmocka_unit_test(irq_log_keeps_order_then_coalesces_what_a_pic_latches),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
