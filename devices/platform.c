/*
 * The standard struct vmx_platform: device instances, one-shot timers in
 * virtual time, interrupt routing and bounded DMA (platform.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmxlab/platform.h>

/* A device that keeps complaining is cut off after this many lines. */
#define LOG_LIMIT 20

struct ptimer {
	vmx_timer_fn fn;
	void *state;
	vtime_t deadline;
	bool armed;
};

struct platform {
	struct vmx_platform plat;       /* what devices see; ctx = this */
	struct platform_config cfg;
	vtime_t now;
	struct vmx_dev devs[PLATFORM_MAX_DEVS];
	struct vmx_dev *devp[PLATFORM_MAX_DEVS];
	unsigned logged[PLATFORM_MAX_DEVS];
	unsigned ndevs;
	struct vmx_dev *pic;            /* a PIC instantiated here */
	struct ptimer timers[PLATFORM_MAX_TIMERS];
	unsigned ntimers;
};

static vtime_t p_now(void *ctx)
{
	return ((struct platform *)ctx)->now;
}

static void p_set_irq(void *ctx, unsigned line, bool level)
{
	platform_irq(ctx, line, level);
}

static int p_timer_new(void *ctx, vmx_timer_fn fn, void *state)
{
	struct platform *p = ctx;

	if (!fn || p->ntimers == PLATFORM_MAX_TIMERS)
		return -1;
	p->timers[p->ntimers] = (struct ptimer){ fn, state, 0, false };
	return (int)p->ntimers++;
}

static void p_timer_arm(void *ctx, int t, vtime_t deadline)
{
	struct platform *p = ctx;

	if (t < 0 || (unsigned)t >= p->ntimers)
		return;
	p->timers[t].deadline = deadline;
	p->timers[t].armed = true;
}

static void p_timer_cancel(void *ctx, int t)
{
	struct platform *p = ctx;

	if (t >= 0 && (unsigned)t < p->ntimers)
		p->timers[t].armed = false;
}

static bool in_ram(const struct platform *p, uint64_t gpa, size_t len)
{
	return p->cfg.ram && len <= p->cfg.ram_size && gpa <= p->cfg.ram_size - len;
}

static int p_dma_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	struct platform *p = ctx;

	if (!in_ram(p, gpa, len))
		return -1;
	memcpy(buf, p->cfg.ram + gpa, len);
	return 0;
}

static int p_dma_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	struct platform *p = ctx;

	if (!in_ram(p, gpa, len))
		return -1;
	memcpy(p->cfg.ram + gpa, buf, len);
	return 0;
}

static unsigned dev_index(const struct platform *p, const char *name)
{
	for (unsigned i = 0; i < p->ndevs; i++)
		if (strcmp(p->devs[i].ops->name, name) == 0)
			return i;
	return 0;
}

static void p_log(void *ctx, const char *dev, const char *fmt, ...)
{
	struct platform *p = ctx;
	unsigned i = dev_index(p, dev);
	char msg[256];
	va_list ap;

	if (!p->cfg.log || p->logged[i] > LOG_LIMIT)
		return;
	if (++p->logged[i] > LOG_LIMIT) {
		p->cfg.log(p->cfg.ctx, dev, "further messages from this device are suppressed");
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p->cfg.log(p->cfg.ctx, dev, msg);
}

static void p_console(void *ctx, const char *buf, size_t len)
{
	struct platform *p = ctx;

	if (p->cfg.console)
		p->cfg.console(p->cfg.ctx, buf, len);
}

static void p_charge(void *ctx, vtime_t ns)
{
	struct platform *p = ctx;

	if (p->cfg.charge)
		p->cfg.charge(p->cfg.ctx, ns);
}

static void *p_map_shared(void *ctx, uint64_t gpa, uint64_t len)
{
	struct platform *p = ctx;

	return p->cfg.map_shared ? p->cfg.map_shared(p->cfg.ctx, gpa, len) : NULL;
}

struct platform *platform_new(const struct platform_config *cfg)
{
	struct platform *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->cfg = *cfg;
	p->plat = (struct vmx_platform){
		.ctx = p, .now = p_now, .set_irq = p_set_irq, .timer_new = p_timer_new,
		.timer_arm = p_timer_arm, .timer_cancel = p_timer_cancel, .dma_read = p_dma_read,
		.dma_write = p_dma_write, .log = p_log, .console = p_console, .charge = p_charge,
		.map_shared = p_map_shared,
	};
	return p;
}

void platform_free(struct platform *p)
{
	if (!p)
		return;
	for (unsigned i = 0; i < p->ndevs; i++) {
		struct vmx_dev *d = &p->devs[i];
		if (d->state && d->ops->fini)
			d->ops->fini(d->state);
		free(d->state);
	}
	free(p);
}

struct vmx_dev *platform_add(struct platform *p, const struct vmx_dev_ops *ops, const char *options,
			     enum vmx_placement placement, bool instantiate, char *err, size_t errlen)
{
	if (p->ndevs == PLATFORM_MAX_DEVS) {
		snprintf(err, errlen, "too many devices (max %d)", PLATFORM_MAX_DEVS);
		return NULL;
	}
	if (platform_find(p, ops->name)) {
		snprintf(err, errlen, "device %s is configured twice", ops->name);
		return NULL;
	}
	struct vmx_dev *d = &p->devs[p->ndevs];
	*d = (struct vmx_dev){ ops, NULL, placement, p->ndevs };
	if (instantiate) {
		d->state = calloc(1, ops->state_size ? ops->state_size : 1);
		if (!d->state) {
			snprintf(err, errlen, "device %s: out of memory", ops->name);
			return NULL;
		}
		if (ops->init && ops->init(d->state, &p->plat, options ? options : "")) {
			snprintf(err, errlen, "device %s: bad options '%s'", ops->name, options ? options : "");
			free(d->state);
			d->state = NULL;
			return NULL;
		}
		if (ops->reset)
			ops->reset(d->state);
		if (ops->irq_line && !p->pic)
			p->pic = d;
	}
	p->devp[p->ndevs] = d;
	p->ndevs++;
	return d;
}

unsigned platform_ndevs(const struct platform *p)
{
	return p->ndevs;
}

struct vmx_dev *platform_dev(struct platform *p, unsigned i)
{
	return i < p->ndevs ? &p->devs[i] : NULL;
}

struct vmx_dev *const *platform_devs(struct platform *p)
{
	return p->devp;
}

struct vmx_dev *platform_find(struct platform *p, const char *name)
{
	for (unsigned i = 0; i < p->ndevs; i++)
		if (strcmp(p->devs[i].ops->name, name) == 0)
			return &p->devs[i];
	return NULL;
}

const struct vmx_dev *platform_owner(struct platform *p, bool mmio, uint64_t addr)
{
	for (unsigned i = 0; i < p->ndevs; i++) {
		const struct vmx_dev_ops *o = p->devs[i].ops;
		for (unsigned r = 0; r < o->nranges; r++)
			if (o->ranges[r].mmio == mmio && addr >= o->ranges[r].base &&
			    addr - o->ranges[r].base < o->ranges[r].len)
				return &p->devs[i];
	}
	return NULL;
}

const char *platform_owner_name(struct platform *p, bool mmio, uint64_t addr)
{
	const struct vmx_dev *d = platform_owner(p, mmio, addr);

	if (d)
		return d->ops->name;
	if (!mmio && addr >= 0xcf8 && addr <= 0xcff)
		for (unsigned i = 0; i < p->ndevs; i++)
			if (p->devs[i].ops->npci)
				return "pci";
	return NULL;
}

void platform_irq(struct platform *p, unsigned line, bool level)
{
	if (line > 15)
		return;
	if (p->pic)
		p->pic->ops->irq_line(p->pic->state, line, level);
	else if (p->cfg.irq_out)
		p->cfg.irq_out(p->cfg.ctx, line, level);
}

vtime_t platform_now(const struct platform *p)
{
	return p->now;
}

vtime_t platform_next_deadline(const struct platform *p)
{
	vtime_t next = VTIME_NEVER;

	for (unsigned i = 0; i < p->ntimers; i++)
		if (p->timers[i].armed && p->timers[i].deadline < next)
			next = p->timers[i].deadline;
	return next;
}

/* A timer that keeps re-arming itself in the past would spin forever. */
#define MAX_FIRES_PER_RUN 1000000

void platform_run_until(struct platform *p, vtime_t now)
{
	for (unsigned fires = 0; fires < MAX_FIRES_PER_RUN; fires++) {
		int due = -1;
		for (unsigned i = 0; i < p->ntimers; i++) {
			const struct ptimer *t = &p->timers[i];
			if (t->armed && t->deadline <= now && (due < 0 || t->deadline < p->timers[due].deadline))
				due = (int)i;
		}
		if (due < 0)
			break;
		struct ptimer *t = &p->timers[due];
		t->armed = false;
		if (t->deadline > p->now)
			p->now = t->deadline;
		t->fn(t->state, p->now);
	}
	if (now > p->now)
		p->now = now;
}
