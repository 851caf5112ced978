#!/bin/sh
# check.sh GUEST_REF EXPECTED IMAGE... - the guests-check target (guests.mk).
#
# For each image: an ELF64 x86-64 executable whose entry point is _start;
# every allocated section and every PT_LOAD segment inside
# [0x100000, 0x400000) - so clear of the boot arguments at 0x8000-0x8fff and
# of the simulator's area at the top of RAM; no SSE/MMX register anywhere in
# the code (nothing sets up that state for the guest).
# Then every line of EXPECTED ("timer W <ref output>" or "cpu N <ref output>")
# must match what GUEST_REF prints now.
set -eu

ref=$1
expected=$2
shift 2
fail=0

err() {
	echo "guests-check: $*" >&2
	fail=1
}

for img in "$@"; do
	name=${img##*/}
	readelf -h "$img" | grep -q 'Class:.*ELF64' || err "$name: not ELF64"
	readelf -h "$img" | grep -q 'Type:.*EXEC' || err "$name: not an executable"
	readelf -h "$img" | grep -q 'Machine:.*X86-64' || err "$name: not x86-64"
	entry=$(readelf -h "$img" | awk '/Entry point address/ { print $4 }')
	start=$(nm "$img" | awk '$3 == "_start" { print "0x" $1 }')
	if [ -z "$start" ] || [ $((entry)) -ne $((start)) ]; then
		err "$name: entry point $entry is not _start (${start:-missing})"
	fi
	# Allocated sections: [Nr] Name Type Address Off Size ES Flg ...
	readelf -W -S "$img" | sed -n 's/^ *\[ *[0-9]*\] //p' | while read -r sname stype addr off size es flg rest; do
		case $flg in *A*) ;; *) continue ;; esac
		lo=$((0x$addr)); hi=$((0x$addr + 0x$size))
		if [ "$lo" -lt $((0x100000)) ] || [ "$hi" -gt $((0x400000)) ]; then
			echo "guests-check: $name: section $sname at 0x$addr+0x$size is outside 0x100000-0x400000" >&2
			exit 1
		fi
	done || fail=1
	readelf -W -l "$img" | awk '$1 == "LOAD" { print $4, $6 }' | while read -r paddr memsz; do
		lo=$((paddr)); hi=$((paddr + memsz))
		if [ "$lo" -lt $((0x100000)) ] || [ "$hi" -gt $((0x400000)) ]; then
			echo "guests-check: $name: segment at $paddr+$memsz is outside 0x100000-0x400000" >&2
			exit 1
		fi
		if [ "$lo" -lt $((0x9000)) ] && [ "$hi" -gt $((0x8000)) ]; then
			echo "guests-check: $name: segment at $paddr+$memsz overlaps the boot arguments" >&2
			exit 1
		fi
	done || fail=1
	if objdump -d "$img" | grep -Eq '%(x|y|z)mm[0-9]|%mm[0-7]'; then
		err "$name: uses SSE/MMX registers"
	fi
done

grep -v '^#' "$expected" | grep -v '^$' | while read -r workload arg want; do
	got=$("$ref" "$workload" "$arg")
	if [ "$got" != "$want" ]; then
		echo "guests-check: guest-ref $workload $arg: got '$got', expected '$want'" >&2
		exit 1
	fi
done || fail=1

[ $fail -eq 0 ] && echo "guests-check: $# images and $(grep -cv '^#\|^$' "$expected") reference checksums OK"
exit $fail
