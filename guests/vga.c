/*
 * vga.c - the "vga" workload: the seed's X11 benchmark as far as video
 * memory is concerned.  It writes a banner into the 80x25 text screen at
 * 0xb8000, switches the Bochs VBE adapter to 640x480x32 with the linear
 * framebuffer at 0xe0000000 (devices/vga.c), then draws frames the way an
 * unaccelerated X server does: rectangle fills, a screen-to-screen blit and
 * a line of text, one 32-bit pixel access at a time (kernels/draw.c).
 *
 * Arguments (boot args, key=value):
 *   frames=N    frames to draw (default 20)
 *   tsc_mhz=N   the guest TSC rate, for frames per virtual second
 *               (default 2400, the scenario default)
 *
 * Output: a header line, then
 *   vga: frames=N cycles=C fps=F.FFF
 *   result: workload=vga frames=N checksum=0xXXXXXXXX
 * The checksum (FNV-1a of the drawn window, read back from video memory)
 * depends on N only; guest-ref vga N computes it on the host.  cycles and
 * fps measure the frames in virtual time (RDTSC before and after), so they
 * depend on the VGA variant and the cost model.
 *
 * Phases (hypercall VMXLAB_HC_PHASE): 1 when the first frame starts, 2
 * after the last frame (before the read-back for the checksum).
 */
#include "kernels/draw.h"
#include "rt/io.h"
#include "rt/rt.h"

#define LFB ((volatile uint32_t *)0xe0000000ul)
#define TEXT ((volatile uint16_t *)0xb8000ul)
#define VBE_INDEX 0x1ce
#define VBE_DATA 0x1cf

static const char *const keys[] = { "frames", "tsc_mhz", 0 };

static void vbe_write(uint16_t index, uint16_t val)
{
	outw(index, VBE_INDEX);
	outw(val, VBE_DATA);
}

static uint16_t vbe_read(uint16_t index)
{
	outw(index, VBE_INDEX);
	return inw(VBE_DATA);
}

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static void text_banner(const char *s)
{
	/* White on blue, row 0 (the adapter resets to mode 3). */
	for (unsigned i = 0; s[i] && i < 80; i++)
		TEXT[i] = (uint16_t)(0x1f00 | (uint8_t)s[i]);
}

int main(const char *args)
{
	args_check(args, keys);
	uint64_t frames = args_u64(args, "frames", 20);
	uint64_t tsc_mhz = args_u64(args, "tsc_mhz", 2400);
	if (!tsc_mhz || frames > 1000000) {
		rt_printf("vga: bad arguments\n");
		return RT_EXIT_BAD_ARGS;
	}

	uint16_t id = vbe_read(0);
	rt_printf("vga: frames=%lu vbe_id=0x%04x\n", (unsigned long)frames, id);
	if (id < 0xb0c0 || id > 0xb0c5) {
		rt_printf("vga: no Bochs VBE adapter\n");
		return RT_EXIT_SELFCHECK;
	}
	text_banner("vmxlab vga workload: switching to 640x480x32");

	vbe_write(4, 0);          /* ENABLE: off while the mode is set */
	vbe_write(1, 640);        /* XRES */
	vbe_write(2, 480);        /* YRES */
	vbe_write(3, 32);         /* BPP */
	vbe_write(4, 0x41);       /* ENABLED | LFB_ENABLED */
	if (vbe_read(4) != 0x41 || vbe_read(1) != 640) {
		rt_printf("vga: mode set failed\n");
		return RT_EXIT_SELFCHECK;
	}

	struct draw_surface s = { LFB, 640, 640, 480 };
	hc_phase(1);
	uint64_t t0 = rdtsc();
	for (uint64_t f = 0; f < frames; f++)
		draw_frame(&s, (uint32_t)f);
	uint64_t cycles = rdtsc() - t0;
	hc_phase(2);
	uint32_t sum = draw_checksum(&s);

	/* frames per virtual second, three decimals, in integers */
	uint64_t mfps = cycles ? frames * tsc_mhz * 1000000000ull / cycles : 0;
	rt_printf("vga: frames=%lu cycles=%lu fps=%lu.%03lu\n", (unsigned long)frames, (unsigned long)cycles,
		  (unsigned long)(mfps / 1000), (unsigned long)(mfps % 1000));
	rt_printf("result: workload=vga frames=%lu checksum=0x%08x\n", (unsigned long)frames, sum);
	return 0;
}
