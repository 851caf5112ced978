#!/bin/bash
# The CMOS clock end to end: the t-rtc guest (tests/guests/t-rtc.S) reads the
# time set by the scenario's date option and takes update-ended interrupts
# on IRQ 8, with the clock in the hypervisor and in vmxlab-dm; the two
# placements see the same time and virtual time ends in the same second; a
# date the calendar does not have is refused naming the option.
# (tests/cli/test_replay_exact.sh replays both scenarios exactly.)
set -u
V=${VMXLAB:?set VMXLAB to the vmxlab binary}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; failures=$((failures + 1)); }

for p in hv dm; do
	sc=tests/scenarios/t-rtc-$p.yaml
	if "$V" run --quiet "$sc" >"$tmp/$p.out" 2>&1; then ok "$sc"; else bad "$sc"; cat "$tmp/$p.out"; fi
done

# The default date, without the option: 2026-01-01, three seconds on.
sed -e 's/, date: 2024-02-29T23:59:58//' -e '/^expect:/,$d' tests/scenarios/t-rtc-hv.yaml >"$tmp/default.yaml"
printf 'expect:\n  output: ["result: t0=2026-01-01 00:00:00 t1=2026-01-01 00:00:03 irqs=3"]\n' >>"$tmp/default.yaml"
grep -q 'rtc: { placement: hv }' "$tmp/default.yaml" || bad "t-rtc-hv.yaml has changed"
if "$V" run --quiet "$tmp/default.yaml" >"$tmp/out" 2>&1; then ok "default date"; else bad "default date"; cat "$tmp/out"; fi

# 2023 has no February 29: exit 2, the scenario's line, the option's message.
for p in hv dm; do
	sed 's/date: 2024-02-29T23:59:58/date: 2023-02-29T23:59:58/' tests/scenarios/t-rtc-$p.yaml >"$tmp/bad-$p.yaml"
	"$V" run --quiet "$tmp/bad-$p.yaml" >"$tmp/out" 2>&1
	rc=$?
	if [ $rc -eq 2 ] && grep -q "bad-$p.yaml:[0-9]*:[0-9]*: device rtc: bad options 'date=2023-02-29T23:59:58'" "$tmp/out" &&
		grep -q "rtc: bad value '2023-02-29T23:59:58' for option date" "$tmp/out"; then
		ok "bad date refused ($p)"
	else
		bad "bad date ($p): exit $rc"; cat "$tmp/out"
	fi
done

[ $failures -eq 0 ]
