/*
 * png.h - a minimal PNG writer for screenshots (PNG specification, W3C
 * Recommendation, 2nd edition: signature, IHDR, one IDAT, IEND; 8-bit RGB,
 * colour type 2, filter type 0 on every row, zlib deflate).
 */
#ifndef VMXLAB_CLI_PNG_H
#define VMXLAB_CLI_PNG_H

#include <stddef.h>
#include <stdint.h>

/* The image as PNG bytes: 0x00RRGGBB pixels, row-major, w x h (1..16384
 * each).  Returns a malloc'd buffer (*len its size), or NULL. */
uint8_t *png_encode_rgb32(const uint32_t *px, unsigned w, unsigned h, size_t *len);
/* Encode and write to `path`.  0, or -1 with a message in err. */
int png_write_rgb32(const char *path, const uint32_t *px, unsigned w, unsigned h, char *err, size_t errlen);

#endif
