/*
 * vmxlab-dm - the device-model process ("Dom0's qemu-dm"): serves the
 * devices placed `dm` for one simulated machine, over the shared page and
 * eventfds of include/vmxlab/ioreq.h.  Started by the simulator:
 *
 *   vmxlab-dm --shm FD --req FD --resp FD --ram FD --ram-size BYTES
 *             --dev NAME[:OPTIONS] ...
 *
 * Every request is validated before it reaches a device: a corrupted or
 * hostile request is answered with an error, never acted on.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <vmxlab/ioreq.h>
#include <vmxlab/platform.h>
#include <vmxlab/profile.h>
#include <vmxlab/vmx.h>

struct dm {
	struct dm_shared *page;
	struct platform *plat;
	struct dm_irq_log irqs;       /* of the request being served */
};

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "vmxlab-dm: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void on_console(void *ctx, const char *buf, size_t len)
{
	struct dm *dm = ctx;
	struct dm_shared *pg = dm->page;
	size_t room = DM_CONSOLE_SIZE - pg->console_len;

	if (len > room)
		len = room;
	memcpy(pg->console + pg->console_len, buf, len);
	pg->console_len += (uint32_t)len;
}

static void on_charge(void *ctx, vtime_t ns)
{
	((struct dm *)ctx)->page->charge_ns += ns;
}

static void on_log(void *ctx, const char *dev, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "vmxlab-dm: %s: %s\n", dev, msg);
}

/* Interrupt lines of this process's devices, when the PIC is elsewhere. */
static void on_irq_out(void *ctx, unsigned line, bool level)
{
	dm_irq_log_add(&((struct dm *)ctx)->irqs, line, level);
}

static int fail(struct dm_shared *pg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct dm_shared *pg, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(pg->error, sizeof(pg->error), fmt, ap);
	va_end(ap);
	return -1;
}

static int check_io(struct dm_shared *pg, const struct vmx_dev *d)
{
	const struct vmx_ioreq *r = &pg->req;

	switch (r->type) {
	case IOREQ_PIO:
	case IOREQ_MMIO: {
		bool mmio = r->type == IOREQ_MMIO;
		if (r->size != 1 && r->size != 2 && r->size != 4 && !(mmio && r->size == 8))
			return fail(pg, "%s: bad access size %u", d->ops->name, r->size);
		if (r->range >= d->ops->nranges || d->ops->ranges[r->range].mmio != mmio)
			return fail(pg, "%s: no %s window %u", d->ops->name, mmio ? "MMIO" : "port", r->range);
		if (r->addr >= d->ops->ranges[r->range].len)
			return fail(pg, "%s: offset 0x%" PRIx64 " outside window %u", d->ops->name, r->addr, r->range);
		if (r->dir > 1)
			return fail(pg, "%s: bad direction %u", d->ops->name, r->dir);
		return 0;
	}
	case IOREQ_INTR_PENDING:
	case IOREQ_INTR_ACK:
		if (!d->ops->intr_ack)
			return fail(pg, "%s is not an interrupt controller", d->ops->name);
		return 0;
	case IOREQ_PCI_CFG:
		if (!d->ops->cfg_read || (r->addr >> 8) >= d->ops->npci)
			return fail(pg, "%s: no PCI function %" PRIu64, d->ops->name, r->addr >> 8);
		if ((r->size != 1 && r->size != 2 && r->size != 4) || (r->addr & 0xff) + r->size > 256)
			return fail(pg, "%s: bad configuration access (register 0x%" PRIx64 ", %u bytes)",
				    d->ops->name, r->addr & 0xff, r->size);
		if (r->dir > 1)
			return fail(pg, "%s: bad direction %u", d->ops->name, r->dir);
		return 0;
	default:
		return fail(pg, "%s: unknown request type %u", d->ops->name, r->type);
	}
}

/* `vmxlab profile`: what this process serves, as the exit reason that
 * caused it (profile.h). */
static volatile sig_atomic_t prof_tag = PROF_TAG_NONE;
static char prof_file[1024];

static void do_io(struct vmx_dev *d, struct vmx_ioreq *r)
{
	const struct vmx_dev_ops *o = d->ops;

	prof_tag = r->type == IOREQ_PIO ? EXIT_REASON_IO_INSTRUCTION
		 : r->type == IOREQ_MMIO ? EXIT_REASON_EPT_VIOLATION : PROF_TAG_NONE;
	switch (r->type) {
	case IOREQ_PIO:
		if (r->dir && o->pio_read)
			r->data = o->pio_read(d->state, r->range, (uint16_t)r->addr, r->size);
		else if (r->dir)
			r->data = ~0ull;
		else if (o->pio_write)
			o->pio_write(d->state, r->range, (uint16_t)r->addr, r->size, (uint32_t)r->data);
		break;
	case IOREQ_MMIO:
		if (r->dir && o->mmio_read)
			r->data = o->mmio_read(d->state, r->range, r->addr, r->size);
		else if (r->dir)
			r->data = ~0ull;
		else if (o->mmio_write)
			o->mmio_write(d->state, r->range, r->addr, r->size, r->data);
		break;
	case IOREQ_INTR_PENDING:
		r->data = (uint64_t)(int64_t)o->intr_pending(d->state);
		break;
	case IOREQ_INTR_ACK:
		r->data = (uint64_t)o->intr_ack(d->state);
		break;
	case IOREQ_PCI_CFG:
		if (r->dir)
			r->data = o->cfg_read(d->state, (unsigned)(r->addr >> 8), r->addr & 0xff, r->size);
		else
			o->cfg_write(d->state, (unsigned)(r->addr >> 8), r->addr & 0xff, r->size, (uint32_t)r->data);
		break;
	}
	prof_tag = PROF_TAG_NONE;
}

/* VMXLAB_PROFILE=RATE,SOURCE,FILE: sample this process while it serves. */
static void profile_begin(void)
{
	const char *env = getenv(PROF_DM_ENV);
	unsigned rate;
	int only, n = 0;
	if (!env || sscanf(env, "%u,%d,%n", &rate, &only, &n) != 2 || !env[n])
		return;
	struct prof_opts o = { .rate_hz = rate, .only = only };
	char err[256];
	if (prof_start(&o, &prof_tag, err, sizeof(err))) {
		fprintf(stderr, "vmxlab-dm: %s\n", err);
		return;
	}
	snprintf(prof_file, sizeof(prof_file), "%s", env + n);
}

static void profile_end(void)
{
	if (!prof_file[0])
		return;
	prof_stop(NULL);
	struct prof_data d = { 0 };
	char err[256];
	FILE *f = fopen(prof_file, "w");
	if (!f)
		fprintf(stderr, "vmxlab-dm: cannot write %s: %s\n", prof_file, strerror(errno));
	else if (prof_resolve(&d, NULL, "vmxlab-dm", err, sizeof(err)))
		fprintf(stderr, "vmxlab-dm: %s\n", err);
	else if (prof_data_write(&d, f))
		fprintf(stderr, "vmxlab-dm: cannot write %s\n", prof_file);
	if (f)
		fclose(f);
	prof_data_free(&d);
}

static int dump_dev(struct dm_shared *pg, const struct vmx_dev *d)
{
	FILE *f = fmemopen(pg->dump, sizeof(pg->dump), "w");

	if (!f)
		return fail(pg, "%s: cannot dump: %s", d->ops->name, strerror(errno));
	if (d->ops->dump)
		d->ops->dump(d->state, f);
	fclose(f);
	pg->dump[sizeof(pg->dump) - 1] = '\0';
	return 0;
}

static int serve(struct dm *dm)
{
	struct dm_shared *pg = dm->page;
	unsigned n = platform_ndevs(dm->plat);

	if (pg->magic != DM_MAGIC || pg->version != DM_VERSION)
		return fail(pg, "protocol mismatch: magic 0x%x version %u, this process speaks version %d",
			    pg->magic, pg->version, DM_VERSION);
	platform_run_until(dm->plat, pg->req.now);
	switch (pg->op) {
	case DM_OP_IO:
	case DM_OP_DUMP: {
		if (pg->dev >= n)
			return fail(pg, "request for device %u; this process has %u", pg->dev, n);
		struct vmx_dev *d = platform_dev(dm->plat, pg->dev);
		if (pg->op == DM_OP_DUMP)
			return dump_dev(pg, d);
		if (check_io(pg, d))
			return -1;
		do_io(d, &pg->req);
		return 0;
	}
	case DM_OP_TIMER:
		return 0;
	case DM_OP_IRQ:
		if (pg->req.addr > 15)
			return fail(pg, "interrupt line %" PRIu64 " does not exist", pg->req.addr);
		platform_irq(dm->plat, (unsigned)pg->req.addr, pg->req.data != 0);
		return 0;
	case DM_OP_RESET:
		for (unsigned i = 0; i < n; i++) {
			struct vmx_dev *d = platform_dev(dm->plat, i);
			if (d->ops->reset)
				d->ops->reset(d->state);
		}
		return 0;
	case DM_OP_QUIT:
		return 0;
	default:
		return fail(pg, "unknown operation %u", pg->op);
	}
}

static void answer(struct dm *dm, int status)
{
	struct dm_shared *pg = dm->page;
	struct vmx_dev *pic = NULL;

	for (unsigned i = 0; i < platform_ndevs(dm->plat); i++)
		if (platform_dev(dm->plat, i)->ops->intr_pending)
			pic = platform_dev(dm->plat, i);
	dm_irq_log_finish(&dm->irqs);
	memcpy(pg->irq, dm->irqs.ev, dm->irqs.n * sizeof(pg->irq[0]));
	pg->nirq = dm->irqs.n;
	pg->status = status;
	pg->next_deadline = platform_next_deadline(dm->plat);
	pg->pic_pending = pic ? pic->ops->intr_pending(pic->state) : -1;
	pg->done_seq = pg->seq;
}

static int parse_fd(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*end || v < 0 || v > 65535)
		die("bad file descriptor '%s'", s);
	return (int)v;
}

int main(int argc, char **argv)
{
	int shm = -1, req = -1, resp = -1, ram = -1;
	uint64_t ram_size = 0;
	struct dm dm = { 0 };
	char err[256];
	bool start_failed = false;

	/* The simulator owns this process: when it goes, so do we. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--shm"))
			shm = parse_fd(argv[i + 1]);
		else if (!strcmp(argv[i], "--req"))
			req = parse_fd(argv[i + 1]);
		else if (!strcmp(argv[i], "--resp"))
			resp = parse_fd(argv[i + 1]);
		else if (!strcmp(argv[i], "--ram"))
			ram = parse_fd(argv[i + 1]);
		else if (!strcmp(argv[i], "--ram-size"))
			ram_size = strtoull(argv[i + 1], NULL, 0);
		else if (strcmp(argv[i], "--dev"))
			die("unknown argument '%s' (this program is started by vmxlab)", argv[i]);
	}
	if (shm < 0 || req < 0 || resp < 0)
		die("needs --shm, --req and --resp (this program is started by vmxlab)");
	dm.page = mmap(NULL, sizeof(struct dm_shared), PROT_READ | PROT_WRITE, MAP_SHARED, shm, 0);
	if (dm.page == MAP_FAILED)
		die("cannot map the shared page: %s", strerror(errno));
	uint8_t *ram_map = NULL;
	if (ram >= 0 && ram_size) {
		ram_map = mmap(NULL, ram_size, PROT_READ | PROT_WRITE, MAP_SHARED, ram, 0);
		if (ram_map == MAP_FAILED)
			die("cannot map guest RAM (%" PRIu64 " bytes): %s", ram_size, strerror(errno));
	}
	struct platform_config cfg = { .ctx = &dm, .ram = ram_map, .ram_size = ram_map ? ram_size : 0,
				       .console = on_console, .log = on_log, .irq_out = on_irq_out,
				       .charge = on_charge };
	dm.plat = platform_new(&cfg);
	if (!dm.plat)
		die("out of memory");
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--dev"))
			continue;
		char name[64];
		const char *colon = strchr(argv[i + 1], ':');
		size_t len = colon ? (size_t)(colon - argv[i + 1]) : strlen(argv[i + 1]);
		snprintf(name, sizeof(name), "%.*s", (int)len, argv[i + 1]);
		const struct vmx_dev_ops *ops = vmx_dev_lookup(name);
		if (!ops)
			die("unknown device model '%s'", name);
		if (!platform_add(dm.plat, ops, colon ? colon + 1 : "", PLACE_DM, true, err, sizeof(err))) {
			start_failed = true;
			break;
		}
	}
	profile_begin();
	for (;;) {
		uint64_t tick;
		ssize_t got = read(req, &tick, sizeof(tick));
		if (got != sizeof(tick)) {
			if (got < 0 && errno == EINTR)
				continue;
			break; /* the simulator closed its end */
		}
		dm_irq_log_reset(&dm.irqs);
		dm.page->console_len = 0;
		dm.page->charge_ns = 0;
		dm.page->error[0] = '\0';
		/* A device that would not start (bad options, a missing image) is
		 * the answer to vmxlab's first request, which then names it. */
		int status = start_failed ? fail(dm.page, "%s", err) : serve(&dm);
		uint32_t op = dm.page->op;
		answer(&dm, status);
		tick = 1;
		if (write(resp, &tick, sizeof(tick)) != sizeof(tick))
			break;
		if ((op == DM_OP_QUIT && status == 0) || start_failed)
			break;
	}
	profile_end();
	platform_free(dm.plat);
	return start_failed ? 2 : 0;
}
