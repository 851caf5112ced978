/*
 * draw.c - the vga workload's drawing kernel (draw.h).
 */
#include "draw.h"

static uint32_t lcg(uint32_t *st)
{
	*st = *st * 1664525u + 1013904223u;
	return *st >> 8;
}

void draw_fill(struct draw_surface *s, uint32_t x, uint32_t y, uint32_t w, uint32_t h, uint32_t color)
{
	if (x >= s->w || y >= s->h)
		return;
	if (w > s->w - x)
		w = s->w - x;
	if (h > s->h - y)
		h = s->h - y;
	for (uint32_t j = 0; j < h; j++) {
		volatile uint32_t *row = s->px + (uint64_t)(y + j) * s->pitch + x;
		for (uint32_t i = 0; i < w; i++)
			row[i] = color;
	}
}

void draw_blit(struct draw_surface *s, uint32_t sx, uint32_t sy, uint32_t dx, uint32_t dy, uint32_t w, uint32_t h)
{
	if (sx >= s->w || sy >= s->h || dx >= s->w || dy >= s->h)
		return;
	if (w > s->w - sx) w = s->w - sx;
	if (w > s->w - dx) w = s->w - dx;
	if (h > s->h - sy) h = s->h - sy;
	if (h > s->h - dy) h = s->h - dy;
	/* Rows bottom-up when moving down, pixels right-to-left when moving
	 * right on the same rows: overlapping copies read before they write. */
	int up = dy > sy, left = dy == sy && dx > sx;
	for (uint32_t jj = 0; jj < h; jj++) {
		uint32_t j = up ? h - 1 - jj : jj;
		volatile uint32_t *src = s->px + (uint64_t)(sy + j) * s->pitch + sx;
		volatile uint32_t *dst = s->px + (uint64_t)(dy + j) * s->pitch + dx;
		for (uint32_t ii = 0; ii < w; ii++) {
			uint32_t i = left ? w - 1 - ii : ii;
			dst[i] = src[i];
		}
	}
}

/* A procedural 8x8 glyph: the space is blank, other codes get a framed
 * pattern derived from the code (the workload measures drawing, not type). */
static uint8_t glyph_row(uint8_t ch, uint32_t row)
{
	if (ch == ' ' || row == 7)
		return 0;
	uint32_t h = (ch * 0x9e3779b1u) ^ (row * 0x85ebca6bu);
	h ^= h >> 15;
	return (uint8_t)((h & 0x7e) | (row == 0 || row == 6 ? 0x7e : 0));
}

void draw_text(struct draw_surface *s, uint32_t x, uint32_t y, const char *text, uint32_t fg, uint32_t bg)
{
	for (; *text; text++, x += 8) {
		if (x + 8 > s->w || y + 8 > s->h)
			return;
		for (uint32_t r = 0; r < 8; r++) {
			uint8_t bits = glyph_row((uint8_t)*text, r);
			volatile uint32_t *row = s->px + (uint64_t)(y + r) * s->pitch + x;
			for (uint32_t i = 0; i < 8; i++)
				row[i] = (bits & (0x80u >> i)) ? fg : bg;
		}
	}
}

void draw_frame(struct draw_surface *s, uint32_t frame)
{
	uint32_t st = 0x12345u + frame * 2654435761u;
	static const char label[] = "xterm: make -j2 ";
	char text[17];

	draw_fill(s, DRAW_WIN_X, DRAW_WIN_Y, DRAW_WIN_W, DRAW_WIN_H, 0x00203040u + (frame & 0xff));
	for (int k = 0; k < 6; k++) {
		uint32_t x = DRAW_WIN_X + lcg(&st) % (DRAW_WIN_W - 24);
		uint32_t y = DRAW_WIN_Y + 12 + lcg(&st) % (DRAW_WIN_H - 12 - 16);
		draw_fill(s, x, y, 24, 16, lcg(&st) & 0xffffff);
	}
	draw_blit(s, DRAW_WIN_X + 8, DRAW_WIN_Y + 16, DRAW_WIN_X + 40 + frame % 32, DRAW_WIN_Y + 30, 32, 24);
	for (int i = 0; i < 16; i++)
		text[i] = label[(i + (int)frame) % 16];
	text[16] = 0;
	draw_text(s, DRAW_WIN_X, DRAW_WIN_Y + 2, text, 0x00ffffffu, 0x00000080u);
}

uint32_t draw_checksum(struct draw_surface *s)
{
	uint32_t h = DRAW_SUM_INIT;
	for (uint32_t j = 0; j < DRAW_WIN_H; j++)
		for (uint32_t i = 0; i < DRAW_WIN_W; i++) {
			uint32_t p = s->px[(uint64_t)(DRAW_WIN_Y + j) * s->pitch + DRAW_WIN_X + i];
			for (int b = 0; b < 4; b++)
				h = (h ^ ((p >> (8 * b)) & 0xff)) * 16777619u;
		}
	return h;
}
