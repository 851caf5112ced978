/*
 * Placement changes cost, never behaviour: the same scripted port accesses,
 * interrupt lines and time steps are played against each device model in
 * this process (platform.h) and in a real vmxlab-dm process (ioreq.h), and
 * every read value, interrupt-line event, PIC output and final state dump
 * must be the same.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmxlab/ioreq.h>
#include <vmxlab/platform.h>

enum step_kind { OUT, IN, WAIT, LINE, CFGW, CFGR };
struct step {
	enum step_kind kind;
	uint16_t port;         /* OUT, IN; LINE: the line; CFGW, CFGR: function << 8 | register */
	uint32_t val;          /* OUT, CFGW: value; WAIT: ns; LINE: level */
};

/* What one side observed, in order. */
struct log {
	uint64_t v[65536];
	size_t n;
};

static void note(struct log *l, uint64_t a, uint64_t b)
{
	if (l->n + 2 <= sizeof(l->v) / sizeof(l->v[0])) {
		l->v[l->n++] = a;
		l->v[l->n++] = b;
	}
}

static char dm_exe[512];

/* ------------------------------------------------------------ in process */

/* Interrupt-line changes of one step, logged (and coalesced past the
 * page's room) as the device-model process logs them for its answer. */
static struct dm_irq_log step_irqs;

static void local_irq(void *ctx, unsigned line, bool level)
{
	(void)ctx;
	dm_irq_log_add(&step_irqs, line, level);
}

static const struct vmx_dev_range *find_range(const struct vmx_dev_ops *ops, uint16_t port, unsigned *r)
{
	for (unsigned i = 0; i < ops->nranges; i++)
		if (!ops->ranges[i].mmio && port >= ops->ranges[i].base && port < ops->ranges[i].base + ops->ranges[i].len) {
			*r = i;
			return &ops->ranges[i];
		}
	return NULL;
}

static char *play_local(const char *name, const struct step *s, size_t n, struct log *log)
{
	struct platform_config pc = { .irq_out = local_irq };
	struct platform *p = platform_new(&pc);
	char err[256];
	struct vmx_dev *d = platform_add(p, vmx_dev_lookup(name), "", PLACE_HV, true, err, sizeof(err));
	vtime_t now = 0;

	assert_non_null(d);
	for (size_t i = 0; i < n; i++) {
		unsigned r;
		dm_irq_log_reset(&step_irqs);
		switch (s[i].kind) {
		case OUT:
		case IN: {
			const struct vmx_dev_range *rg = find_range(d->ops, s[i].port, &r);
			assert_non_null(rg);
			if (s[i].kind == OUT)
				d->ops->pio_write(d->state, r, (uint16_t)(s[i].port - rg->base), 1, s[i].val);
			else
				note(log, i, d->ops->pio_read(d->state, r, (uint16_t)(s[i].port - rg->base), 1));
			break;
		}
		case WAIT:
			now += s[i].val;
			platform_run_until(p, now);
			break;
		case LINE:
			platform_irq(p, s[i].port, s[i].val);
			break;
		case CFGW:
			d->ops->cfg_write(d->state, s[i].port >> 8, s[i].port & 0xff, 1, s[i].val);
			break;
		case CFGR:
			note(log, i, d->ops->cfg_read(d->state, s[i].port >> 8, s[i].port & 0xff, 1));
			break;
		}
		dm_irq_log_finish(&step_irqs);
		for (uint32_t e = 0; e < step_irqs.n; e++)
			note(log, 0x1000000u + i, (uint64_t)step_irqs.ev[e].line << 1 | step_irqs.ev[e].level);
		if (d->ops->intr_pending)
			note(log, 0x2000000u + i, (uint64_t)(int64_t)d->ops->intr_pending(d->state));
	}
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	d->ops->dump(d->state, f);
	fclose(f);
	platform_free(p);
	return text;
}

/* ------------------------------------------------------------ in vmxlab-dm */

static char *play_dm(const char *name, const struct step *s, size_t n, struct log *log)
{
	const char *spec[] = { name };
	char err[512];
	struct dm_client *c = dm_spawn(dm_exe, -1, 0, 1, spec, err, sizeof(err));
	const struct vmx_dev_ops *ops = vmx_dev_lookup(name);
	vtime_t now = 0;

	assert_non_null(c);
	for (size_t i = 0; i < n; i++) {
		unsigned r;
		struct vmx_ioreq q = { .now = now };
		switch (s[i].kind) {
		case OUT:
		case IN: {
			const struct vmx_dev_range *rg = find_range(ops, s[i].port, &r);
			q.type = IOREQ_PIO;
			q.size = 1;
			q.range = (uint16_t)r;
			q.addr = s[i].port - rg->base;
			q.dir = s[i].kind == IN;
			q.data = s[i].val;
			assert_int_equal(dm_call(c, DM_OP_IO, 0, &q, err, sizeof(err)), 0);
			if (s[i].kind == IN)
				note(log, i, q.data);
			break;
		}
		case WAIT:
			now += s[i].val;
			q.now = now;
			assert_int_equal(dm_call(c, DM_OP_TIMER, 0, &q, err, sizeof(err)), 0);
			break;
		case LINE:
			q.addr = s[i].port;
			q.data = s[i].val;
			assert_int_equal(dm_call(c, DM_OP_IRQ, 0, &q, err, sizeof(err)), 0);
			break;
		case CFGW:
		case CFGR:
			q.type = IOREQ_PCI_CFG;
			q.size = 1;
			q.addr = s[i].port;
			q.dir = s[i].kind == CFGR;
			q.data = s[i].val;
			assert_int_equal(dm_call(c, DM_OP_IO, 0, &q, err, sizeof(err)), 0);
			if (s[i].kind == CFGR)
				note(log, i, q.data);
			break;
		}
		const struct dm_shared *pg = dm_page(c);
		for (uint32_t e = 0; e < pg->nirq; e++)
			note(log, 0x1000000u + i, (uint64_t)pg->irq[e].line << 1 | pg->irq[e].level);
		if (ops->intr_pending)
			note(log, 0x2000000u + i, (uint64_t)(int64_t)pg->pic_pending);
	}
	struct vmx_ioreq q = { .now = now };
	assert_int_equal(dm_call(c, DM_OP_DUMP, 0, &q, err, sizeof(err)), 0);
	char *text = strdup(dm_page(c)->dump);
	dm_close(c);
	return text;
}

static void same_in_both_places(const char *name, const struct step *s, size_t n)
{
	static struct log a, b;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	char *da = play_local(name, s, n, &a);
	char *db = play_dm(name, s, n, &b);
	assert_true(a.n > 0);
	assert_int_equal(a.n, b.n);
	assert_memory_equal(a.v, b.v, a.n * sizeof(a.v[0]));
	assert_string_equal(da, db);
	free(da);
	free(db);
}

/* Random accesses to a device's own ports, with time passing and lines
 * moving: hostile input, identical consequences. */
static size_t random_script(const struct vmx_dev_ops *ops, uint64_t seed, struct step *s, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < max; i++) {
		seed ^= seed >> 12;
		seed ^= seed << 25;
		seed ^= seed >> 27;
		uint64_t r = seed * 0x2545f4914f6cdd1dull;
		if (ops->npci && (!ops->nranges || r % 4 == 0)) {
			/* the configuration space of one of its PCI functions */
			uint16_t reg = (uint16_t)(((r >> 8) % ops->npci) << 8 | (r >> 16) % 256);
			s[n++] = (struct step){ (r >> 24) & 1 ? CFGW : CFGR, reg, (uint32_t)(r >> 32) & 0xff };
			continue;
		}
		if (!ops->nranges)
			continue;
		const struct vmx_dev_range *rg = &ops->ranges[(r >> 8) % ops->nranges];
		if (rg->mmio)
			continue; /* port scripts only (the VGA's memory windows are MMIO) */
		uint16_t port = (uint16_t)(rg->base + (r >> 16) % rg->len);
		switch (r % 8) {
		case 0: case 1: case 2:
			s[n++] = (struct step){ OUT, port, (uint32_t)(r >> 32) & 0xff };
			break;
		case 3: case 4:
			s[n++] = (struct step){ IN, port, 0 };
			break;
		case 5: case 6:
			s[n++] = (struct step){ WAIT, 0, (uint32_t)((r >> 40) % 3000000) };
			break;
		default:
			if (ops->irq_line)
				s[n++] = (struct step){ LINE, (uint16_t)((r >> 24) % 16), (uint32_t)(r >> 60) & 1 };
			break;
		}
	}
	return n;
}

static void pic_programmed_like_linux(void **state)
{
	(void)state;
	static const struct step s[] = {
		{ OUT, 0x20, 0x11 }, { OUT, 0x21, 0x20 }, { OUT, 0x21, 0x04 }, { OUT, 0x21, 0x01 },
		{ OUT, 0xa0, 0x11 }, { OUT, 0xa1, 0x28 }, { OUT, 0xa1, 0x02 }, { OUT, 0xa1, 0x01 },
		{ OUT, 0x21, 0xfa }, { LINE, 0, 1 }, { LINE, 0, 0 }, { IN, 0x21, 0 }, { OUT, 0x21, 0xfb },
		{ OUT, 0x20, 0x60 }, { OUT, 0x21, 0xfa }, { LINE, 8, 1 }, { OUT, 0x20, 0x0b }, { IN, 0x20, 0 },
		{ OUT, 0xa0, 0x0c }, { IN, 0xa0, 0 }, { OUT, 0x4d0, 0x08 }, { LINE, 3, 1 }, { IN, 0x4d0, 0 },
	};
	same_in_both_places("pic", s, sizeof(s) / sizeof(s[0]));
}

static void pit_ticking_in_virtual_time(void **state)
{
	(void)state;
	static const struct step s[] = {
		{ OUT, 0x43, 0x34 }, { OUT, 0x40, 0xa9 }, { OUT, 0x40, 0x04 }, { WAIT, 0, 3500000 },
		{ OUT, 0x43, 0x00 }, { IN, 0x40, 0 }, { IN, 0x40, 0 }, { OUT, 0x61, 0x01 }, { OUT, 0x43, 0xb6 },
		{ OUT, 0x42, 0x10 }, { OUT, 0x42, 0x00 }, { WAIT, 0, 12345 }, { IN, 0x61, 0 },
		{ OUT, 0x43, 0xe2 }, { IN, 0x40, 0 }, { WAIT, 0, 2000000 }, { IN, 0x42, 0 },
	};
	same_in_both_places("pit", s, sizeof(s) / sizeof(s[0]));
}

/* Linux's boot-time read and rtc_cmos's probe, the time set under SET, then
 * update-ended and 1024 Hz periodic interrupts acknowledged through
 * register C, with time passing inside the UIP window. */
static void rtc_clock_and_interrupts(void **state)
{
	(void)state;
	static const struct step s[] = {
		{ OUT, 0x70, 0x00 }, { IN, 0x71, 0 }, { OUT, 0x70, 0x0a }, { IN, 0x71, 0 }, { OUT, 0x70, 0x0a },
		{ OUT, 0x71, 0x26 }, { OUT, 0x70, 0x0b }, { OUT, 0x71, 0x02 }, { OUT, 0x70, 0x0c }, { IN, 0x71, 0 },
		{ WAIT, 0, 999800000 }, { OUT, 0x70, 0x0a }, { IN, 0x71, 0 }, { WAIT, 0, 150000 }, { IN, 0x71, 0 },
		{ WAIT, 0, 100000 }, { IN, 0x71, 0 }, { OUT, 0x70, 0x00 }, { IN, 0x71, 0 },
		{ OUT, 0x70, 0x0b }, { OUT, 0x71, 0x82 }, { OUT, 0x70, 0x04 }, { OUT, 0x71, 0x13 },
		{ OUT, 0x70, 0x32 }, { OUT, 0x71, 0x21 }, { WAIT, 0, 2500000 }, { OUT, 0x70, 0x0b },
		{ OUT, 0x71, 0x12 }, { WAIT, 0, 999000000 }, { OUT, 0x70, 0x0c }, { IN, 0x71, 0 }, { IN, 0x71, 0 },
		{ OUT, 0x70, 0x0b }, { OUT, 0x71, 0x42 }, { WAIT, 0, 1500000 }, { OUT, 0x70, 0x8c }, { IN, 0x71, 0 },
		{ WAIT, 0, 1000000 }, { IN, 0x71, 0 }, { OUT, 0x70, 0x04 }, { IN, 0x71, 0 },
	};
	same_in_both_places("rtc", s, sizeof(s) / sizeof(s[0]));
}

static void uart_console_and_interrupts(void **state)
{
	(void)state;
	static const struct step s[] = {
		{ OUT, 0x3fb, 0x80 }, { OUT, 0x3f8, 0x01 }, { OUT, 0x3f9, 0x00 }, { OUT, 0x3fb, 0x03 },
		{ OUT, 0x3fc, 0x08 }, { OUT, 0x3f9, 0x02 }, { OUT, 0x3f8, 'h' }, { IN, 0x3fa, 0 },
		{ OUT, 0x3fc, 0x18 }, { OUT, 0x3f8, 'x' }, { IN, 0x3fd, 0 }, { IN, 0x3f8, 0 }, { IN, 0x3fe, 0 },
	};
	same_in_both_places("uart", s, sizeof(s) / sizeof(s[0]));
}

/* A PCI probe in configuration space: IDs, BAR4 sized and moved byte by
 * byte, the command register, the PIIX3 timing registers, a DMA through
 * the moved bus-master registers' function; the chipset's PIRQ routing. */
static void pci_functions_probed_like_linux(void **state)
{
	(void)state;
	static const struct step ide[] = {
		{ CFGR, 0x00, 0 }, { CFGR, 0x02, 0 }, { CFGR, 0x0b, 0 }, { CFGR, 0x09, 0 }, { CFGW, 0x04, 0x04 },
		{ CFGW, 0x20, 0xff }, { CFGW, 0x21, 0xff }, { CFGW, 0x22, 0xff }, { CFGW, 0x23, 0xff },
		{ CFGR, 0x20, 0 }, { CFGR, 0x21, 0 }, { CFGR, 0x22, 0 }, { CFGR, 0x23, 0 },
		{ CFGW, 0x20, 0x01 }, { CFGW, 0x21, 0xd0 }, { CFGW, 0x22, 0 }, { CFGW, 0x23, 0 }, { CFGW, 0x04, 0x05 },
		{ CFGW, 0x40, 0x07 }, { CFGW, 0x41, 0xa3 }, { CFGR, 0x41, 0 }, { CFGR, 0x43, 0 }, { CFGR, 0x3d, 0 },
		{ OUT, 0xc004, 0x00 }, { IN, 0xc002, 0 }, { OUT, 0x1f6, 0xe0 }, { OUT, 0x1f7, 0xec }, { IN, 0x1f7, 0 },
	};
	same_in_both_places("ide", ide, sizeof(ide) / sizeof(ide[0]));
	static const struct step chipset[] = {
		{ CFGR, 0x00, 0 }, { CFGR, 0x0e, 0 }, { CFGR, 0x100, 0 }, { CFGR, 0x10e, 0 }, { CFGW, 0x160, 0x0b },
		{ CFGW, 0x161, 0xff }, { CFGR, 0x160, 0 }, { CFGR, 0x161, 0 }, { CFGW, 0x59, 0x30 }, { CFGR, 0x59, 0 },
		{ CFGW, 0x00, 0x12 }, { CFGR, 0x00, 0 },
	};
	same_in_both_places("i440fx", chipset, sizeof(chipset) / sizeof(chipset[0]));
}

static void hostile_scripts_agree(void **state)
{
	static struct step s[3000];
	(void)state;
	for (const char *const *name = vmx_dev_names; *name; name++) {
		size_t n = random_script(vmx_dev_lookup(*name), 0x9e3779b97f4a7c15ull ^ (uint64_t)(*name)[1], s, 3000);
		print_message("%s: %zu steps\n", *name, n);
		same_in_both_places(*name, s, n);
	}
}

int main(void)
{
	const char *b = getenv("BUILD");
	snprintf(dm_exe, sizeof(dm_exe), "%s/asan/vmxlab-dm", b && *b ? b : "build");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pic_programmed_like_linux),
		cmocka_unit_test(pit_ticking_in_virtual_time),
		cmocka_unit_test(rtc_clock_and_interrupts),
		cmocka_unit_test(uart_console_and_interrupts),
		cmocka_unit_test(pci_functions_probed_like_linux),
		cmocka_unit_test(hostile_scripts_agree),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
