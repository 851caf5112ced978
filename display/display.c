/*
 * display.c - the SDL2 window of display.h.  SDL is used from the thread
 * that runs the machine (timer callbacks between guest instructions), the
 * only thread that touches it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <SDL.h>

#include "display.h"

struct display {
	SDL_Window *win;
	SDL_Renderer *ren;
	SDL_Texture *tex;
	unsigned w, h, scale;
};

struct display *display_open(const char *title, char *err, size_t errlen)
{
	struct display *d = calloc(1, sizeof(*d));

	if (!d) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (SDL_InitSubSystem(SDL_INIT_VIDEO) != 0) {
		snprintf(err, errlen, "display: SDL cannot start video: %s", SDL_GetError());
		free(d);
		return NULL;
	}
	/* Without an X server SDL falls back to drivers that show nothing to
	 * anyone (offscreen, dummy) or take over the console (KMSDRM): a window
	 * nobody sees is an error at start, unless SDL_VIDEODRIVER asked for it. */
	const char *drv = SDL_GetCurrentVideoDriver();
	if (!getenv("SDL_VIDEODRIVER") && (!drv || (strcmp(drv, "x11") && strcmp(drv, "wayland")))) {
		snprintf(err, errlen, "display: no window system (DISPLAY %s; SDL could only start its '%s' video "
			 "driver): use display: none, or run under X", getenv("DISPLAY") ? "is set" : "is not set",
			 drv ? drv : "?");
		SDL_QuitSubSystem(SDL_INIT_VIDEO);
		free(d);
		return NULL;
	}
	d->w = 640;
	d->h = 400;
	d->scale = 1;
	d->win = SDL_CreateWindow(title, SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED, (int)d->w, (int)d->h, 0);
	if (d->win)
		d->ren = SDL_CreateRenderer(d->win, -1, SDL_RENDERER_SOFTWARE);
	if (!d->win || !d->ren) {
		snprintf(err, errlen, "display: cannot open a window: %s", SDL_GetError());
		display_close(d);
		return NULL;
	}
	return d;
}

void display_show(struct display *d, const uint32_t *px, unsigned w, unsigned h)
{
	SDL_Event ev;

	while (SDL_PollEvent(&ev))
		; /* keep the window responsive; closing it does not stop the run */
	if (!w || !h)
		return;
	if (!d->tex || w != d->w || h != d->h) {
		if (d->tex)
			SDL_DestroyTexture(d->tex);
		d->tex = SDL_CreateTexture(d->ren, SDL_PIXELFORMAT_RGB888, SDL_TEXTUREACCESS_STREAMING, (int)w, (int)h);
		d->w = w;
		d->h = h;
		d->scale = w >= 640 ? 1 : (640 + w - 1) / w; /* mode 13h: 2x */
		SDL_SetWindowSize(d->win, (int)(w * d->scale), (int)(h * d->scale));
		SDL_RenderSetLogicalSize(d->ren, (int)w, (int)h);
	}
	if (!d->tex)
		return;
	SDL_UpdateTexture(d->tex, NULL, px, (int)(w * 4));
	SDL_RenderClear(d->ren);
	SDL_RenderCopy(d->ren, d->tex, NULL, NULL);
	SDL_RenderPresent(d->ren);
}

void display_title(struct display *d, const char *title)
{
	SDL_SetWindowTitle(d->win, title);
}

int display_snapshot(struct display *d, const char *path, char *err, size_t errlen)
{
	int w, h;

	if (SDL_GetRendererOutputSize(d->ren, &w, &h) || w <= 0 || h <= 0) {
		snprintf(err, errlen, "display: no output size: %s", SDL_GetError());
		return -1;
	}
	uint32_t *px = malloc((size_t)w * (size_t)h * 4);
	if (!px) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* Re-draw the last frame, then read the window's pixels back. */
	SDL_RenderClear(d->ren);
	if (d->tex)
		SDL_RenderCopy(d->ren, d->tex, NULL, NULL);
	int rc = SDL_RenderReadPixels(d->ren, NULL, SDL_PIXELFORMAT_RGB888, px, w * 4);
	if (rc)
		snprintf(err, errlen, "display: cannot read the window back: %s", SDL_GetError());
	else
		rc = png_write_rgb32(path, px, (unsigned)w, (unsigned)h, err, errlen);
	SDL_RenderPresent(d->ren);
	free(px);
	return rc;
}

void display_close(struct display *d)
{
	if (!d)
		return;
	if (d->tex)
		SDL_DestroyTexture(d->tex);
	if (d->ren)
		SDL_DestroyRenderer(d->ren);
	if (d->win)
		SDL_DestroyWindow(d->win);
	SDL_QuitSubSystem(SDL_INIT_VIDEO);
	free(d);
}
