#!/bin/bash
# Hostile traces: format-2 traces of vmxlab (device-model answers, idle
# steps, shared memory; docs/replay.md) with a few random bytes overwritten,
# replayed under the sanitizers.  Each must end - within a time limit - with
# exit status 0, 1 or 2 and no sanitizer report: a corrupt time must not run
# the devices' timers for ages, a corrupt record not index past a buffer.
# Fixed seeds: the same mutants every run.
set -u
V=${VMXLAB:?set VMXLAB to the vmxlab binary}
N=${MUTANTS:-60}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

mutate() { # mutate SRC DST: 1-8 bytes of SRC overwritten at random places
	local size n
	size=$(stat -c %s "$1")
	cp "$1" "$2"
	n=$((RANDOM % 8 + 1))
	for ((k = 0; k < n; k++)); do
		printf "\\x$(printf %02x $((RANDOM % 256)))" |
			dd of="$2" bs=1 seek=$(((RANDOM * 32768 + RANDOM) % size)) conv=notrunc status=none
	done
}

for sc in tests/scenarios/t-timer-dm.yaml scenarios/vga-shared.yaml; do
	n=$(basename "$sc" .yaml)
	"$V" run --quiet "$sc" --max-exits 2000 --record "$tmp/$n.xt" >/dev/null 2>&1
	[ -s "$tmp/$n.xt" ] || { echo "FAIL $sc: no trace recorded"; failures=$((failures + 1)); continue; }
	RANDOM=${#n}
	bad=0
	for ((i = 0; i < N; i++)); do
		mutate "$tmp/$n.xt" "$tmp/m.xt"
		timeout 60 "$V" replay "$tmp/m.xt" --quiet >/dev/null 2>"$tmp/err"
		rc=$?
		if [ $rc -gt 2 ] || grep -q 'Sanitizer\|runtime error' "$tmp/err"; then
			bad=$((bad + 1))
			cp "$tmp/m.xt" "/tmp/vmxlab-hostile-$n-$i.xt"
			echo "FAIL $n mutant $i: exit $rc (kept as /tmp/vmxlab-hostile-$n-$i.xt)"
			tail -n 3 "$tmp/err"
		fi
	done
	if [ $bad = 0 ]; then
		echo "ok   $N mutants of $n's trace: each replay ended with 0, 1 or 2, no sanitizer report"
	else
		failures=$((failures + 1))
	fi
done
# Aimed: the 20th exit's virtual time (TRC_VMXLAB_EXIT_TIME, header word
# 0x4001f810 in little-endian order) set about 36 years on (2^60 ns).  Replaying it
# would run vga's 60 Hz refresh timer for ages; it must be refused (its time
# no longer matches its VMEXIT's TSC; a time that does but jumps by more
# than an hour is refused too).
if [ -s "$tmp/vga-shared.xt" ]; then
	off=$(LC_ALL=C grep -obUaP '\x10\xf8\x01\x40' "$tmp/vga-shared.xt" | LC_ALL=C sed -n '20s/:.*//p')
	cp "$tmp/vga-shared.xt" "$tmp/far.xt"
	printf '\x10' | dd of="$tmp/far.xt" bs=1 seek=$((off + 11)) conv=notrunc status=none
	timeout 60 "$V" replay "$tmp/far.xt" --quiet >"$tmp/far.out" 2>&1
	rc=$?
	if [ $rc = 1 ] && grep -q 'a corrupt trace?' "$tmp/far.out"; then
		echo "ok   an exit whose time jumps by 36 years is not replayed (exit 1, named)"
	else
		echo "FAIL an exit whose time jumps by 36 years: exit $rc"
		failures=$((failures + 1))
	fi
fi
exit $((failures > 0))
