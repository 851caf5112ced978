#!/bin/sh
# fb: Linux's own display driver on vmxlab's VGA.  bochs-drm (fb.modules)
# binds to the PCI function 00:02.0, sets a mode through the DISPI
# registers and registers /dev/fb0 (DRM fbdev emulation); fbcon takes the
# console over to it.  Prints what sysfs says of the PCI function and the
# framebuffer, draws a line of text on the console (tty0), fills the top
# `rows` scanlines of the framebuffer with a pattern through /dev/fb0 and
# reads them back.  (The fbdev emulation keeps a shadow buffer: fbcon's
# drawing reaches video memory through its damage worker, a write(2) to
# /dev/fb0 in Linux 6.1 only with the next damage, so the screen shows the
# console line.  guests/linux/drawfb.c draws into video memory directly.)
#
#   rows=N   scanlines filled (default 64)
set -eu
rows=${rows:-64}
case $rows in '' | *[!0-9]*) echo "result: FAIL fb: rows is a number"; exit 1 ;; esac
i=0
while [ ! -e /sys/class/graphics/fb0/name ] && [ "$i" -lt 500 ]; do
	usleep 10000
	i=$((i + 1))
done
[ -e /sys/class/graphics/fb0/name ] || { echo "result: FAIL fb: no fb0 (bochs-drm did not bind)"; exit 1; }
for d in /sys/bus/pci/devices/*; do
	[ -e "$d/driver" ] || continue
	drv=$(readlink "$d/driver")
	echo "result: pci ${d##*/} $(cat "$d/vendor"):$(cat "$d/device") class $(cat "$d/class") driver ${drv##*/}"
done
read -r name </sys/class/graphics/fb0/name
read -r size </sys/class/graphics/fb0/virtual_size
read -r bpp </sys/class/graphics/fb0/bits_per_pixel
read -r stride </sys/class/graphics/fb0/stride
echo "result: fb0 $name ${size%,*}x${size#*,} ${bpp}bpp stride $stride"
[ -e /dev/fb0 ] || mknod /dev/fb0 c 29 0
echo "vmxlab: fbcon on bochs-drm" >/dev/tty0
# A pattern of `rows` scanlines, written and read back.
bytes=$((rows * stride))
awk -v n="$bytes" 'BEGIN { s = "vmxlab-fb-"; while (length(s) < n) s = s s; printf "%s", substr(s, 1, n) }' >/tmp/fb.pat
dd if=/tmp/fb.pat of=/dev/fb0 bs="$stride" count="$rows" 2>/dev/null || { echo "result: FAIL fb: write to /dev/fb0"; exit 1; }
want=$(md5sum </tmp/fb.pat)
got=$(dd if=/dev/fb0 bs="$stride" count="$rows" 2>/dev/null | md5sum)
[ "${got%% *}" = "${want%% *}" ] || { echo "result: FAIL fb: read back ${got%% *}, wrote ${want%% *}"; exit 1; }
echo "result: fb rows=$rows md5=${got%% *}"
echo "result: fb ok"
