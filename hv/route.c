/*
 * Port and MMIO routing: which device owns a port or guest-physical address,
 * and the call to it wherever it runs - in this process (placement hv) or in
 * the device-model process through the host's ioreq round trip (placement dm).
 * Ports route through a 64K table (bhyve's vmm_ioport.c shape); MMIO windows
 * are few and sorted.
 */
#include <stdlib.h>
#include <string.h>

#include "hv_priv.h"

static int cmp_route(const void *a, const void *b)
{
	const struct route *x = a, *y = b;
	return (x->base > y->base) - (x->base < y->base);
}

/* Claim [r->base, r->end) in the port table: 0, or -1 (nothing claimed)
 * when a port is outside 0-0xffff or another live window has it. */
static int claim_ports(struct hv *hv, const struct route *r, char *err, size_t errlen)
{
	uint16_t idx = (uint16_t)(r - hv->routes + 1);

	if (r->end > 0x10000 || r->base >= r->end) {
		snprintf(err, errlen, "device %s: port window 0x%llx-0x%llx is outside 0-0xffff", r->dev->ops->name,
			 (unsigned long long)r->base, (unsigned long long)r->end - 1);
		return -1;
	}
	for (uint64_t p = r->base; p < r->end; p++)
		if (hv->port_route[p] && hv->port_route[p] != idx) {
			snprintf(err, errlen, "devices %s and %s both claim port 0x%llx",
				 hv->routes[hv->port_route[p] - 1].dev->ops->name, r->dev->ops->name,
				 (unsigned long long)p);
			return -1;
		}
	for (uint64_t p = r->base; p < r->end; p++)
		hv->port_route[p] = idx;
	return 0;
}

static void release_ports(struct hv *hv, const struct route *r)
{
	uint16_t idx = (uint16_t)(r - hv->routes + 1);

	for (uint64_t p = r->base; p < r->end && p < 0x10000; p++)
		if (hv->port_route[p] == idx)
			hv->port_route[p] = 0;
}

/* The live MMIO windows, sorted, for mmio_route's binary search: 0, or -1
 * naming the first two that overlap (the caller darkens one and sorts
 * again, or gives up). */
static int sort_mmio(struct hv *hv, char *err, size_t errlen)
{
	hv->nmmio = 0;
	for (unsigned i = 0; i < hv->nroutes; i++)
		if (hv->routes[i].live && hv->routes[i].mmio)
			hv->mmio[hv->nmmio++] = hv->routes[i];
	qsort(hv->mmio, hv->nmmio, sizeof(hv->mmio[0]), cmp_route);
	for (unsigned i = 1; i < hv->nmmio; i++) {
		if (hv->mmio[i].base < hv->mmio[i - 1].end) {
			snprintf(err, errlen, "devices %s and %s both claim guest-physical 0x%llx",
				 hv->mmio[i - 1].dev->ops->name, hv->mmio[i].dev->ops->name,
				 (unsigned long long)hv->mmio[i].base);
			return -1;
		}
	}
	return 0;
}

int route_init(struct hv *hv, char *err, size_t errlen)
{
	for (unsigned d = 0; d < hv->host->ndevs; d++) {
		struct vmx_dev *dev = hv->host->devs[d];
		for (unsigned r = 0; r < dev->ops->nranges && r < VMX_DEV_MAX_RANGES; r++) {
			const struct vmx_dev_range *rg = &dev->ops->ranges[r];
			if (hv->nroutes == MAX_ROUTES) {
				snprintf(err, errlen, "too many device windows (max %d)", MAX_ROUTES);
				return -1;
			}
			if (rg->len == 0 || rg->base + rg->len < rg->base) {
				snprintf(err, errlen, "device %s: bad window 0x%llx+0x%llx", dev->ops->name,
					 (unsigned long long)rg->base, (unsigned long long)rg->len);
				return -1;
			}
			struct route *rt = &hv->routes[hv->nroutes++];
			*rt = (struct route){ rg->base, rg->base + rg->len, dev, r, rg->mmio, true };
			if (!rg->mmio && claim_ports(hv, rt, err, errlen))
				return -1;
		}
		if (dev->ops->intr_ack) {
			if (hv->pic) {
				snprintf(err, errlen, "two interrupt controllers: %s and %s", hv->pic->ops->name,
					 dev->ops->name);
				return -1;
			}
			hv->pic = dev;
		}
	}
	return sort_mmio(hv, err, errlen) || pci_init(hv, err, errlen) ? -1 : 0;
}

int route_move(struct hv *hv, struct route *r, uint64_t base, bool live, char *err, size_t errlen)
{
	int rc = 0;

	if (!r->mmio && r->live)
		release_ports(hv, r);
	r->end = base + (r->end - r->base);
	r->base = base;
	r->live = live;
	if (live && !r->mmio && claim_ports(hv, r, err, errlen)) {
		r->live = false;
		rc = -1;
	}
	if (r->mmio && sort_mmio(hv, err, errlen)) {
		r->live = false;
		sort_mmio(hv, err, 0);
		rc = -1;
	}
	return rc;
}

const struct route *route_of(const struct hv *hv, const struct vmx_dev *dev, unsigned range)
{
	for (unsigned i = 0; i < hv->nroutes; i++)
		if (hv->routes[i].dev == dev && hv->routes[i].range == range)
			return &hv->routes[i];
	return NULL;
}

int dm_request(struct hv *hv, struct vmx_dev *dev, struct vmx_ioreq *req)
{
	req->now = hv->host->now ? hv->host->now(hv->host->ctx) : 0;
	if (!hv->host->ioreq || hv->host->ioreq(hv->host->ctx, dev, req)) {
		static const char *const kind[] = { "port", "mmio", "interrupt", "interrupt",
						    "configuration register" };
		const struct route *r = req->type <= IOREQ_MMIO ? route_of(hv, dev, req->range) : NULL;
		snprintf(hv->out->msg, sizeof(hv->out->msg),
			 "device-model process failed on a request to %s (%s %s 0x%llx, %u bytes)",
			 dev->ops->name, req->type <= IOREQ_PCI_CFG ? kind[req->type] : "?",
			 req->dir ? "read" : "write", (unsigned long long)(r ? r->base : 0) + req->addr,
			 req->size);
		return -1;
	}
	return 0;
}

static uint32_t size_mask(unsigned size)
{
	return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

static void note_unclaimed(struct hv *hv, uint16_t port, const char *what)
{
	uint8_t bit = (uint8_t)(1u << (port & 7));

	if (hv->port_warned[port >> 3] & bit)
		return;
	hv->port_warned[port >> 3] |= bit;
	hv_log(hv, 2, "guest %s unclaimed port 0x%x (reads return all ones; logged once per port)", what, port);
}

/* An access that spans two devices' windows is split into byte accesses,
 * as the chipset would. */
static const struct route *port_route_for(struct hv *hv, uint16_t port, unsigned size, bool *split)
{
	uint16_t idx = hv->port_route[port];

	*split = false;
	if (!idx)
		return NULL;
	const struct route *r = &hv->routes[idx - 1];
	if (port + size > r->end)
		*split = true;
	return r;
}

int port_read(struct hv *hv, uint16_t port, unsigned size, uint32_t *val)
{
	if (pci_port(hv, port))
		return pci_port_read(hv, port, size, val);
	bool split;
	const struct route *r = port_route_for(hv, port, size, &split);

	if (split && size > 1) {
		uint32_t v = 0, b;
		for (unsigned i = 0; i < size; i++) {
			if (port_read(hv, (uint16_t)(port + i), 1, &b))
				return -1;
			v |= b << (8 * i);
		}
		*val = v;
		return 0;
	}
	if (!r || !r->dev->ops->pio_read) {
		note_unclaimed(hv, port, "read");
		*val = size_mask(size);
		return 0;
	}
	if (r->dev->placement == PLACE_HV) {
		*val = r->dev->ops->pio_read(r->dev->state, r->range, (uint16_t)(port - r->base), size) &
		       size_mask(size);
		return 0;
	}
	struct vmx_ioreq req = { .addr = port - r->base, .size = size, .type = IOREQ_PIO, .dir = 1,
				 .range = (uint16_t)r->range };
	if (dm_request(hv, r->dev, &req))
		return -1;
	*val = (uint32_t)req.data & size_mask(size);
	return 0;
}

int port_write(struct hv *hv, uint16_t port, unsigned size, uint32_t val)
{
	if (pci_port(hv, port))
		return pci_port_write(hv, port, size, val);
	bool split;
	const struct route *r = port_route_for(hv, port, size, &split);

	val &= size_mask(size);
	if (split && size > 1) {
		for (unsigned i = 0; i < size; i++)
			if (port_write(hv, (uint16_t)(port + i), 1, (val >> (8 * i)) & 0xff))
				return -1;
		return 0;
	}
	if (!r || !r->dev->ops->pio_write) {
		note_unclaimed(hv, port, "wrote");
		return 0;
	}
	if (r->dev->placement == PLACE_HV) {
		r->dev->ops->pio_write(r->dev->state, r->range, (uint16_t)(port - r->base), size, val);
		return 0;
	}
	struct vmx_ioreq req = { .addr = port - r->base, .data = val, .size = size, .type = IOREQ_PIO,
				 .dir = 0, .range = (uint16_t)r->range };
	return dm_request(hv, r->dev, &req);
}

const struct route *mmio_route(const struct hv *hv, uint64_t gpa)
{
	unsigned lo = 0, hi = hv->nmmio;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		const struct route *r = &hv->mmio[mid];
		if (gpa < r->base)
			hi = mid;
		else if (gpa >= r->end)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

/* size is 1, 2, 4 or 8; an access running past the window's end is cut at
 * the end (the bytes beyond read as ones, writes to them are dropped). */
int mmio_access(struct hv *hv, const struct route *r, uint64_t gpa, unsigned size, bool write, uint64_t *val)
{
	uint64_t off = gpa - r->base;
	uint64_t mask = size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;

	if (gpa + size > r->end) {
		uint64_t v = write ? *val : 0, b;
		for (unsigned i = 0; i < size; i++) {
			const struct route *ri = mmio_route(hv, gpa + i);
			b = write ? (v >> (8 * i)) & 0xff : 0xff;
			if (ri && mmio_access(hv, ri, gpa + i, 1, write, &b))
				return -1;
			if (!write)
				v |= (b & 0xff) << (8 * i);
		}
		if (!write)
			*val = v;
		return 0;
	}
	const struct vmx_dev_ops *ops = r->dev->ops;
	if (r->dev->placement == PLACE_HV) {
		if (write) {
			if (ops->mmio_write)
				ops->mmio_write(r->dev->state, r->range, off, size, *val & mask);
		} else {
			*val = ops->mmio_read ? ops->mmio_read(r->dev->state, r->range, off, size) & mask : mask;
		}
		return 0;
	}
	struct vmx_ioreq req = { .addr = off, .data = write ? *val & mask : 0, .size = size,
				 .type = IOREQ_MMIO, .dir = !write, .range = (uint16_t)r->range };
	if (dm_request(hv, r->dev, &req))
		return -1;
	if (!write)
		*val = req.data & mask;
	return 0;
}

int pic_pending(struct hv *hv)
{
	if (!hv->pic)
		return -1;
	if (hv->pic->placement == PLACE_HV)
		return hv->pic->ops->intr_pending(hv->pic->state);
	struct vmx_ioreq req = { .type = IOREQ_INTR_PENDING, .dir = 1, .size = 1 };
	if (dm_request(hv, hv->pic, &req))
		return -2;
	return req.data > 0xff ? -1 : (int)req.data;
}

int pic_ack(struct hv *hv)
{
	if (!hv->pic)
		return -1;
	if (hv->pic->placement == PLACE_HV)
		return hv->pic->ops->intr_ack(hv->pic->state);
	struct vmx_ioreq req = { .type = IOREQ_INTR_ACK, .dir = 1, .size = 1 };
	if (dm_request(hv, hv->pic, &req))
		return -2;
	return (int)(req.data & 0xff);
}
