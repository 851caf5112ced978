#!/bin/sh
# disk: through the real ata_piix driver on /dev/sda (vmxlab's PIIX3 IDE
# function, 00:01.1: ATA at 0x1f0, IRQ 14, bus-master DMA at BAR4).
# Writes mib MiB of deterministic data to the raw disk through the page
# cache, syncs, drops the caches, reads it back and compares the md5 sums; then writes `sync_blocks` 4 KiB blocks after it,
# each with its own dd conv=fsync (synchronous writes, like the object
# files of a kernel build), and reads those back too.  Every 4 KiB block
# of the data is tagged with its number, so a block written to the wrong
# place changes the sum.
#
#   mib=N           MiB written, read and compared (default 4)
#   sync_blocks=N   4 KiB blocks written synchronously after them (default 16)
set -eu
mib=${mib:-4}
sync_blocks=${sync_blocks:-16}
for v in "$mib" "$sync_blocks"; do
	case $v in '' | *[!0-9]*) echo "result: FAIL disk: mib and sync_blocks are numbers"; exit 1 ;; esac
done
dev=/dev/sda
name=${dev#/dev/}

# The disk appears once ata_piix's probe and sd_mod's attach are done
# (sd attaches asynchronously): wait up to 10 s.
i=0
while [ ! -b "$dev" ] && [ "$i" -lt 1000 ]; do
	usleep 10000
	i=$((i + 1))
done
[ -b "$dev" ] || { echo "result: FAIL disk: no $dev (ata_piix found no disk at 0x1f0)"; exit 1; }
# What Linux made of the PCI bus: each function, its IDs and class, and
# the driver that took it; the transfer mode libata chose for the disk.
for d in /sys/bus/pci/devices/*; do
	[ -e "$d" ] || continue
	drv=none
	[ -e "$d/driver" ] && drv=$(readlink "$d/driver") && drv=${drv##*/}
	echo "result: pci ${d##*/} $(cat "$d/vendor"):$(cat "$d/device") class $(cat "$d/class") driver $drv"
done
for a in /sys/class/ata_device/*; do
	[ "$(cat "$a/class" 2>/dev/null)" = ata ] && echo "result: disk ${a##*/} transfer mode $(cat "$a/xfer_mode")"
done
sectors=$(cat "/sys/block/$name/size")
need=$(((mib * 1024 + sync_blocks * 4) * 2))
[ "$sectors" -ge "$need" ] ||
	{ echo "result: FAIL disk: $dev has $sectors sectors; mib=$mib sync_blocks=$sync_blocks need $need"; exit 1; }

# blocks FIRST COUNT: COUNT 4 KiB blocks numbered from FIRST, each a
# line of 4095 bytes and its newline.
blocks() {
	awk -v first="$1" -v count="$2" 'BEGIN {
		fill = "vmxlab"
		while (length(fill) < 4096) fill = fill fill
		for (b = first; b < first + count; b++)
			printf "block %08d %s\n", b, substr(fill, 1, 4095 - 15)
	}'
}

data=/tmp/disk.data
blocks 0 $((mib * 256)) >"$data"
want=$(md5sum <"$data")
want=${want%% *}
dd if="$data" of="$dev" bs=65536 conv=notrunc 2>/dev/null || { echo "result: FAIL disk: write to $dev"; exit 1; }
rm -f "$data"
sync
echo 3 >/proc/sys/vm/drop_caches
got=$(dd if="$dev" bs=65536 count=$((mib * 16)) 2>/dev/null | md5sum)
got=${got%% *}
echo "result: disk write mib=$mib md5=$want"
echo "result: disk read mib=$mib md5=$got"
[ "$got" = "$want" ] || { echo "result: FAIL disk: read back $got, wrote $want"; exit 1; }

# The synchronous part: one dd conv=fsync per 4 KiB block.
first=$((mib * 256))
b=0
while [ "$b" -lt "$sync_blocks" ]; do
	blocks $((first + b)) 1 | dd of="$dev" bs=4096 seek=$((first + b)) count=1 conv=notrunc,fsync 2>/dev/null ||
		{ echo "result: FAIL disk: synchronous write of block $((first + b))"; exit 1; }
	b=$((b + 1))
done
want=$(blocks "$first" "$sync_blocks" | md5sum)
want=${want%% *}
echo 3 >/proc/sys/vm/drop_caches
got=$(dd if="$dev" bs=4096 skip="$first" count="$sync_blocks" 2>/dev/null | md5sum)
got=${got%% *}
echo "result: disk fsync blocks=$sync_blocks md5=$got"
[ "$got" = "$want" ] || { echo "result: FAIL disk: synchronous blocks read back $got, wrote $want"; exit 1; }
echo "result: disk ok"
