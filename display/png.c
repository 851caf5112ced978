/*
 * png.c - the minimal PNG writer of png.h.
 *
 * Layout (PNG spec, sections 5.2-5.3, 11.2.2):
 *   signature  89 50 4E 47 0D 0A 1A 0A
 *   chunk      length (4, big-endian, data only) | type (4) | data | CRC-32
 *              over type and data (the zlib/ISO-HDLC polynomial: zlib's crc32)
 *   IHDR       width (4) height (4) bit depth 8, colour type 2 (RGB),
 *              compression 0, filter 0, interlace 0
 *   IDAT       zlib stream of the scanlines, each a filter-type byte (0,
 *              None) followed by R, G, B per pixel
 *   IEND       empty
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "display.h"

static uint8_t *put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return p + 4;
}

/* One chunk at p: length, type, data, CRC; returns the end. */
static uint8_t *chunk(uint8_t *p, const char type[4], const uint8_t *data, uint32_t len)
{
	p = put32(p, len);
	uint8_t *crc_from = p;
	memcpy(p, type, 4);
	p += 4;
	if (len)
		memcpy(p, data, len);
	p += len;
	uLong crc = crc32(0L, Z_NULL, 0);
	crc = crc32(crc, crc_from, (uInt)(len + 4));
	return put32(p, (uint32_t)crc);
}

uint8_t *png_encode_rgb32(const uint32_t *px, unsigned w, unsigned h, size_t *len)
{
	if (!px || !w || !h || w > 16384 || h > 16384)
		return NULL;
	size_t row = (size_t)w * 3 + 1, raw_len = row * h;
	uint8_t *raw = malloc(raw_len);
	uLongf z_len = compressBound((uLong)raw_len);
	uint8_t *z = malloc(z_len);
	uint8_t *out = NULL;
	if (!raw || !z)
		goto done;
	for (unsigned y = 0; y < h; y++) {
		uint8_t *r = raw + y * row;
		r[0] = 0; /* filter: None */
		for (unsigned x = 0; x < w; x++) {
			uint32_t p = px[(size_t)y * w + x];
			r[1 + 3 * x] = (uint8_t)(p >> 16);
			r[2 + 3 * x] = (uint8_t)(p >> 8);
			r[3 + 3 * x] = (uint8_t)p;
		}
	}
	if (compress2(z, &z_len, raw, (uLong)raw_len, 6) != Z_OK || z_len > 0x7fffffffu)
		goto done;
	size_t total = 8 + (12 + 13) + (12 + z_len) + 12;
	out = malloc(total);
	if (!out)
		goto done;
	static const uint8_t sig[8] = { 0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a };
	uint8_t ihdr[13], *p = out;
	put32(ihdr, w);
	put32(ihdr + 4, h);
	ihdr[8] = 8;  /* bit depth */
	ihdr[9] = 2;  /* colour type: RGB */
	ihdr[10] = 0; /* deflate */
	ihdr[11] = 0; /* adaptive filtering, filter types 0-4 */
	ihdr[12] = 0; /* no interlace */
	memcpy(p, sig, 8);
	p += 8;
	p = chunk(p, "IHDR", ihdr, 13);
	p = chunk(p, "IDAT", z, (uint32_t)z_len);
	p = chunk(p, "IEND", NULL, 0);
	*len = (size_t)(p - out);
done:
	free(raw);
	free(z);
	return out;
}

int png_write_rgb32(const char *path, const uint32_t *px, unsigned w, unsigned h, char *err, size_t errlen)
{
	size_t len;
	uint8_t *buf = png_encode_rgb32(px, w, h, &len);

	if (!buf) {
		snprintf(err, errlen, "cannot encode a %ux%u PNG image", w, h);
		return -1;
	}
	FILE *f = fopen(path, "wb");
	if (!f) {
		snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
		free(buf);
		return -1;
	}
	size_t n = fwrite(buf, 1, len, f);
	int rc = fclose(f);
	free(buf);
	if (n != len || rc) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}
