#!/bin/sh
# vga: the vga workload's frames (guests/kernels/draw.c: a window fill, six
# rectangles, a blit and a line of 8x8 text per frame, 32-bit stores) drawn
# by /bin/drawfb through Linux's own display stack: bochs-drm (vga.modules)
# on vmxlab's PCI VGA, a KMS dumb buffer in video memory scanned out at
# 640x480x32 and mapped into the process - how an unaccelerated X server
# draws on kernel mode setting.  Prints drawfb's "vga: frames=N ns=T fps=F"
# (vmxlab compare reads it) and its checksum, the freestanding vga
# workload's for the same number of frames.
#
#   frames=N   frames drawn (default 20)
set -eu
frames=${frames:-20}
case $frames in '' | *[!0-9]*) echo "result: FAIL vga: frames is a number"; exit 1 ;; esac
i=0
while [ ! -e /dev/dri/card0 ] && [ "$i" -lt 500 ]; do
	usleep 10000
	i=$((i + 1))
done
[ -e /dev/dri/card0 ] || { echo "result: FAIL vga: no /dev/dri/card0 (bochs-drm did not bind)"; exit 1; }
/bin/drawfb "$frames"
