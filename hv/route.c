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

static int add_port_range(struct hv *hv, struct vmx_dev *dev, unsigned r, char *err, size_t errlen)
{
	const struct vmx_dev_range *rg = &dev->ops->ranges[r];

	if (rg->len == 0 || rg->base + rg->len > 0x10000) {
		snprintf(err, errlen, "device %s: port range 0x%llx+%llu is outside 0-0xffff", dev->ops->name,
			 (unsigned long long)rg->base, (unsigned long long)rg->len);
		return -1;
	}
	if (hv->nroutes == MAX_ROUTES) {
		snprintf(err, errlen, "too many device windows (max %d)", MAX_ROUTES);
		return -1;
	}
	hv->routes[hv->nroutes] = (struct route){ rg->base, rg->base + rg->len, dev, r };
	hv->nroutes++;
	for (uint64_t p = rg->base; p < rg->base + rg->len; p++) {
		if (hv->port_route[p]) {
			snprintf(err, errlen, "devices %s and %s both claim port 0x%llx",
				 hv->routes[hv->port_route[p] - 1].dev->ops->name, dev->ops->name,
				 (unsigned long long)p);
			return -1;
		}
		hv->port_route[p] = (uint16_t)hv->nroutes;
	}
	return 0;
}

static int add_mmio_range(struct hv *hv, struct vmx_dev *dev, unsigned r, char *err, size_t errlen)
{
	const struct vmx_dev_range *rg = &dev->ops->ranges[r];

	if (rg->len == 0 || rg->base + rg->len < rg->base) {
		snprintf(err, errlen, "device %s: bad MMIO window 0x%llx+0x%llx", dev->ops->name,
			 (unsigned long long)rg->base, (unsigned long long)rg->len);
		return -1;
	}
	if (hv->nmmio == MAX_ROUTES) {
		snprintf(err, errlen, "too many MMIO windows (max %d)", MAX_ROUTES);
		return -1;
	}
	hv->mmio[hv->nmmio++] = (struct route){ rg->base, rg->base + rg->len, dev, r };
	return 0;
}

int route_init(struct hv *hv, char *err, size_t errlen)
{
	for (unsigned d = 0; d < hv->host->ndevs; d++) {
		struct vmx_dev *dev = hv->host->devs[d];
		for (unsigned r = 0; r < dev->ops->nranges && r < VMX_DEV_MAX_RANGES; r++) {
			int rc = dev->ops->ranges[r].mmio ? add_mmio_range(hv, dev, r, err, errlen)
							  : add_port_range(hv, dev, r, err, errlen);
			if (rc)
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

static int dm_request(struct hv *hv, struct vmx_dev *dev, struct vmx_ioreq *req)
{
	req->now = hv->host->now ? hv->host->now(hv->host->ctx) : 0;
	if (!hv->host->ioreq || hv->host->ioreq(hv->host->ctx, dev, req)) {
		snprintf(hv->out->msg, sizeof(hv->out->msg),
			 "device-model process failed on a request to %s (%s %s 0x%llx, %u bytes)",
			 dev->ops->name,
			 req->type == IOREQ_MMIO ? "mmio" : req->type == IOREQ_PIO ? "port" : "interrupt",
			 req->dir ? "read" : "write",
			 (unsigned long long)(req->range < dev->ops->nranges ? dev->ops->ranges[req->range].base : 0) +
				 req->addr,
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
