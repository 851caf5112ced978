#!/bin/sh
# build: the shape of the seed's kernel build on /dev/sda through ata_piix
# (bus-master DMA): `files` compile steps, each reading its source from
# the disk (cold: the caches are dropped first), computing over it, and
# writing its object through the page cache, where writeback sends it to
# the disk while the next steps compute; every `link`th step also writes a
# synchronous block (dd conv=fsync: what a build's final links and
# installs do).  At the end the objects are read back cold and checked.
# Every 4 KiB block is tagged with its number, so a block in the wrong
# place changes the sum.
#
#   files=N   compile steps (default 48)
#   src=N     KiB of source each step reads (default 64)
#   obj=N     KiB of object each step writes (default 32)
#   work=N    rounds of the compute loop per step (default 30000, about
#             0.2 s of virtual time)
#   link=N    a synchronous block every N steps (default 8)
set -eu
files=${files:-48}
src=${src:-64}
obj=${obj:-32}
work=${work:-30000}
link=${link:-8}
for v in "$files" "$src" "$obj" "$work" "$link"; do
	case $v in '' | 0 | *[!0-9]*) echo "result: FAIL build: files, src, obj, work and link are numbers > 0"; exit 1 ;; esac
done
[ $((src % 4)) -eq 0 ] && [ $((obj % 4)) -eq 0 ] || { echo "result: FAIL build: src and obj are multiples of 4"; exit 1; }
dev=/dev/sda
name=${dev#/dev/}
i=0
while [ ! -b "$dev" ] && [ "$i" -lt 1000 ]; do
	usleep 10000
	i=$((i + 1))
done
[ -b "$dev" ] || { echo "result: FAIL build: no $dev (ata_piix found no disk at 0x1f0)"; exit 1; }

# The disk: sources from block 0, objects after them, synchronous blocks last.
sblk=$((src / 4))
oblk=$((obj / 4))
obj_base=$((files * sblk))
sync_base=$((obj_base + files * oblk))
nsync=$((files / link))
need=$(((sync_base + nsync) * 8))
sectors=$(cat "/sys/block/$name/size")
[ "$sectors" -ge "$need" ] || { echo "result: FAIL build: $dev has $sectors sectors, the build needs $need"; exit 1; }

blocks() {
	awk -v first="$1" -v count="$2" -v tag="$3" 'BEGIN {
		fill = "vmxlab"
		while (length(fill) < 4096) fill = fill fill
		for (b = first; b < first + count; b++)
			printf "%s %08d %s\n", tag, b, substr(fill, 1, 4096 - 14)
	}'
}

# The tree: every source written once, on the disk before the build starts.
blocks 0 $((files * sblk)) src | dd of="$dev" bs=65536 conv=notrunc 2>/dev/null ||
	{ echo "result: FAIL build: writing the sources"; exit 1; }
sync
echo 3 >/proc/sys/vm/drop_caches
# Writeback as in a build of many minutes, compressed into seconds: dirty
# pages older than 1 s (the kernel's default is 30 s) go to the disk,
# looked for every 0.5 s (default 5 s), so objects reach the disk while
# later steps compute, as they do over a real build's length.
echo 100 >/proc/sys/vm/dirty_expire_centisecs
echo 50 >/proc/sys/vm/dirty_writeback_centisecs
# The last close of a block device writes its dirty pages back at once
# (blkdev_put); a build's objects are files, written back later.  Keeping
# the disk open here makes each step's dd close it as a file would be.
exec 3<"$dev"
echo "build: start files=$files src=${src}K obj=${obj}K work=$work link=$link"

f=0
while [ "$f" -lt "$files" ]; do
	# compile: read the source, compute over it, write the object
	sum=$(dd if="$dev" bs=4096 skip=$((f * sblk)) count="$sblk" 2>/dev/null | md5sum)
	awk -v n="$work" -v s="${sum%% *}" 'BEGIN { h = 0; for (i = 0; i < n; i++) h = (h * 31 + i + length(s)) % 1000003 }'
	blocks $((obj_base + f * oblk)) "$oblk" obj | dd of="$dev" bs=4096 seek=$((obj_base + f * oblk)) conv=notrunc 2>/dev/null ||
		{ echo "result: FAIL build: writing object $f"; exit 1; }
	f=$((f + 1))
	if [ $((f % link)) -eq 0 ]; then
		k=$((f / link - 1))
		blocks $((sync_base + k)) 1 lnk | dd of="$dev" bs=4096 seek=$((sync_base + k)) count=1 conv=notrunc,fsync 2>/dev/null ||
			{ echo "result: FAIL build: synchronous block $k"; exit 1; }
	fi
done
exec 3<&-
sync
echo 3 >/proc/sys/vm/drop_caches
want=$( (blocks "$obj_base" $((files * oblk)) obj; blocks "$sync_base" "$nsync" lnk) | md5sum)
got=$(dd if="$dev" bs=4096 skip="$obj_base" count=$((files * oblk + nsync)) 2>/dev/null | md5sum)
echo "result: build files=$files objects md5=${got%% *}"
[ "${got%% *}" = "${want%% *}" ] || { echo "result: FAIL build: objects read back ${got%% *}, wrote ${want%% *}"; exit 1; }
echo "result: build ok"
