/*
 * devtest.c - the fake platform of devtest.h.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devtest.h"

static vtime_t fake_now(void *ctx)
{
	return ((struct devtest *)ctx)->now;
}

static void fake_set_irq(void *ctx, unsigned line, bool level)
{
	struct devtest *t = ctx;

	if (line >= DEVTEST_LINES) {
		t->bad_lines++;
		return;
	}
	if (level && !t->line[line])
		t->rises[line]++;
	t->line[line] = level;
	if (t->nev < DEVTEST_EVENTS)
		t->ev[t->nev++] = (struct devtest_irq_event){ t->now, line, level };
}

static int fake_timer_new(void *ctx, vmx_timer_fn fn, void *dev)
{
	struct devtest *t = ctx;

	if (t->ntimers >= DEVTEST_TIMERS)
		return -1;
	t->timer[t->ntimers] = (struct devtest_timer){ .fn = fn, .dev = dev };
	return t->ntimers++;
}

static void fake_timer_arm(void *ctx, int id, vtime_t deadline)
{
	struct devtest *t = ctx;

	assert_true(id >= 0 && id < t->ntimers);
	t->timer[id].armed = true;
	t->timer[id].deadline = deadline;
}

static void fake_timer_cancel(void *ctx, int id)
{
	struct devtest *t = ctx;

	assert_true(id >= 0 && id < t->ntimers);
	t->timer[id].armed = false;
}

static int fake_dma(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	(void)ctx; (void)gpa; (void)buf; (void)len;
	return -1;
}

static int fake_dma_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	(void)ctx; (void)gpa; (void)buf; (void)len;
	return -1;
}

static void fake_log(void *ctx, const char *dev, const char *fmt, ...)
{
	struct devtest *t = ctx;
	va_list ap;
	int n;

	t->nlogs++;
	n = snprintf(t->last_log, sizeof(t->last_log), "%s: ", dev);
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(t->last_log))
		vsnprintf(t->last_log + n, sizeof(t->last_log) - (size_t)n, fmt, ap);
	va_end(ap);
	if (getenv("DEVTEST_VERBOSE"))
		fprintf(stderr, "log %s\n", t->last_log);
}

static void fake_console(void *ctx, const char *buf, size_t len)
{
	struct devtest *t = ctx;
	size_t room = DEVTEST_CONSOLE - t->console_len;

	if (len > room)
		len = room;
	memcpy(t->console + t->console_len, buf, len);
	t->console_len += len;
}

struct devtest *devtest_new(const struct vmx_dev_ops *ops, const char *options)
{
	struct devtest *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	t->plat = (struct vmx_platform){
		.ctx = t,
		.now = fake_now,
		.set_irq = fake_set_irq,
		.timer_new = fake_timer_new,
		.timer_arm = fake_timer_arm,
		.timer_cancel = fake_timer_cancel,
		.dma_read = fake_dma,
		.dma_write = fake_dma_write,
		.log = fake_log,
		.console = fake_console,
	};
	t->ops = ops;
	t->dev = calloc(1, ops->state_size);
	assert_non_null(t->dev);
	assert_int_equal(ops->init(t->dev, &t->plat, options), 0);
	return t;
}

void devtest_free(struct devtest *t)
{
	if (!t)
		return;
	t->ops->fini(t->dev);
	free(t->dev);
	free(t);
}

static bool find_range(const struct devtest *t, uint16_t port, unsigned *range, uint16_t *off)
{
	for (unsigned i = 0; i < t->ops->nranges; i++) {
		const struct vmx_dev_range *r = &t->ops->ranges[i];

		if (!r->mmio && port >= r->base && port < r->base + r->len) {
			*range = i;
			*off = (uint16_t)(port - r->base);
			return true;
		}
	}
	return false;
}

uint32_t devtest_in(struct devtest *t, uint16_t port, unsigned size)
{
	unsigned range = 0;
	uint16_t off = 0;

	if (!find_range(t, port, &range, &off))
		fail_msg("%s claims no port %#x", t->ops->name, port);
	return t->ops->pio_read(t->dev, range, off, size);
}

void devtest_out(struct devtest *t, uint16_t port, unsigned size, uint32_t val)
{
	unsigned range = 0;
	uint16_t off = 0;

	if (!find_range(t, port, &range, &off))
		fail_msg("%s claims no port %#x", t->ops->name, port);
	t->ops->pio_write(t->dev, range, off, size, val);
}

uint8_t devtest_inb(struct devtest *t, uint16_t port)
{
	uint32_t v = devtest_in(t, port, 1);

	assert_true(v <= 0xff);
	return (uint8_t)v;
}

void devtest_outb(struct devtest *t, uint16_t port, uint8_t val)
{
	devtest_out(t, port, 1, val);
}

vtime_t devtest_next_deadline(const struct devtest *t)
{
	vtime_t best = DEVTEST_NEVER;

	for (int i = 0; i < t->ntimers; i++)
		if (t->timer[i].armed && t->timer[i].deadline < best)
			best = t->timer[i].deadline;
	return best;
}

void devtest_run_until(struct devtest *t, vtime_t when)
{
	for (;;) {
		int due = -1;

		for (int i = 0; i < t->ntimers; i++) {
			const struct devtest_timer *tm = &t->timer[i];

			if (tm->armed && tm->deadline <= when &&
			    (due < 0 || tm->deadline < t->timer[due].deadline))
				due = i;
		}
		if (due < 0)
			break;
		/* A deadline in the past fires at the present time. */
		if (t->timer[due].deadline > t->now)
			t->now = t->timer[due].deadline;
		t->timer[due].armed = false;
		t->timer[due].fn(t->timer[due].dev, t->now);
	}
	if (when > t->now)
		t->now = when;
}

void devtest_clear_irqs(struct devtest *t)
{
	t->nev = 0;
	memset(t->rises, 0, sizeof(t->rises));
}

size_t devtest_rise_times(const struct devtest *t, unsigned line, vtime_t *out, size_t max)
{
	bool level = false;
	size_t n = 0;

	for (size_t i = 0; i < t->nev; i++) {
		if (t->ev[i].line != line)
			continue;
		if (t->ev[i].level && !level && n < max)
			out[n++] = t->ev[i].t;
		level = t->ev[i].level;
	}
	return n;
}

char *devtest_dump(const struct devtest *t)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	t->ops->dump(t->dev, f);
	fclose(f);
	return buf;
}

void *devtest_save(const struct devtest *t, size_t *len)
{
	char probe[4096];
	long n = t->ops->save(t->dev, probe, sizeof(probe));
	void *buf;

	assert_true(n > 0);
	assert_int_equal(t->ops->save(t->dev, probe, (size_t)n - 1), -1);
	buf = malloc((size_t)n);
	assert_non_null(buf);
	memcpy(buf, probe, (size_t)n);
	*len = (size_t)n;
	return buf;
}

uint64_t devtest_rand(uint64_t *seed)
{
	uint64_t x = *seed;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*seed = x;
	return x * 0x2545f4914f6cdd1dull;
}
