#!/bin/sh
# mkspec.sh PKGDIR [PROGRAM...] - print the initramfs spec (guests/linux/
# mkinitramfs.c reads it) of vmxlab's Linux guest, from the tree, the
# unpacked packages in PKGDIR (bin/busybox, lib/modules/RELEASE/kernel/...)
# and the guest programs built from the tree (each becomes /bin/NAME).
# Run from the top of the tree: the sources are named relative to it.
#
# Layout:
#   /init                    guests/linux/init
#   /bin/busybox             Debian's busybox-static; /bin/NAME -> busybox for
#                            each applet of guests/linux/applets
#   /bin/PROGRAM             each PROGRAM given (guests/linux/drawfb.c)
#   /lib/modules/NAME.ko     every module of the workloads' lists, flat
#   /workloads/NAME.sh       guests/linux/workloads/*.sh
#   /workloads/NAME.modules  and their module lists
#   /dev/console, /dev/null  the two nodes /init needs before devtmpfs
#   /proc /sys /tmp          mount points and scratch space
set -eu
pkg=${1:?usage: mkspec.sh PKGDIR [PROGRAM...]}
shift
here=guests/linux

die() { echo "vmxlab: $*" >&2; exit 1; }

bb=$pkg/bin/busybox
[ -x "$bb" ] || die "no $bb: the busybox-static package is not unpacked"
have=$("$bb" --list) || die "$bb --list failed"

cat <<'SPEC'
# The initramfs of vmxlab's Linux guest, written by guests/linux/mkspec.sh.
dir /bin 0755
dir /dev 0755
dir /lib 0755
dir /lib/modules 0755
dir /proc 0555
dir /sys 0555
dir /tmp 1777
dir /workloads 0755
nod /dev/console 0600 c 5 1
nod /dev/null 0666 c 1 3
SPEC
echo "file /bin/busybox 0755 $bb"
for a in $(sed 's/#.*//' "$here/applets"); do
	echo "$have" | grep -qx "$a" || die "busybox has no applet '$a' ($here/applets)"
	echo "slink /bin/$a busybox"
done

for p in "$@"; do
	[ -x "$p" ] || die "no guest program $p"
	echo "file /bin/${p##*/} 0755 $p"
done

lists=$(find "$here/workloads" -name '*.modules' | LC_ALL=C sort)
# shellcheck disable=SC2086 # file names without blanks
mods=$("$here/check-modules.sh" "$pkg" $lists)
echo "$mods" | while read -r mod ko; do
	[ -z "$mod" ] || echo "file /lib/modules/$mod.ko 0644 $ko"
done

for w in $(find "$here/workloads" -name '*.sh' -o -name '*.modules' | LC_ALL=C sort); do
	echo "file /workloads/${w##*/} 0644 $w"
done
echo "file /init 0755 $here/init"
