#!/bin/bash
# The NE2000 end to end: the net workload (guests/net.c, a Linux-2.6-shaped
# ne2000 driver) transfers data to and from the peer back-end under vmxlab
# run, with the NIC in vmxlab-dm (as scenarios/nic-*.yaml ship it) and in the
# hypervisor, in poll and event mode; the data are checked against the host
# reference (guest-ref net) and the peer's CRC; vmxlab compare runs the pair;
# the socket back-end runs against the real vmxlab-netpeer process.
# Transfers are 64 KiB each way to keep `make test` short (the shipped
# scenarios move 1 MiB each way).
set -u
V=${VMXLAB:?set VMXLAB to the vmxlab binary}
B=${BUILD:-build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; failures=$((failures + 1)); }

want=$("$B/guests/guest-ref" net 65536,65536)
# A shipped scenario, made small, with the reference checksums as its expectation.
small() { # SRC DST [SED]
	{ sed -e '/^expect:/,$d' -e 's/get=1048576 put=1048576/get=65536 put=65536/' ${3:+-e "$3"} "$1"
	  printf 'expect:\n  status: 0\n  output: ["%s"]\n' "$want"; } >"$2"
}

for mode in poll event; do
	for place in dm hv; do
		small scenarios/nic-$mode.yaml "$tmp/$mode-$place.yaml" "s/ne2k: { placement: dm/ne2k: { placement: $place/"
		if "$V" run --quiet "$tmp/$mode-$place.yaml" >"$tmp/out" 2>&1 &&
			grep -q "result: workload=net $want us=[0-9]* .*bytes_per_s=[1-9]" "$tmp/out"; then
			ok "nic-$mode, NIC placed $place: $(grep -o 'result: .* bytes_per_s=[0-9]*' "$tmp/out" | grep -o ' bytes_per_s=[0-9]*')"
		else
			bad "nic-$mode, NIC placed $place"; cat "$tmp/out"
		fi
	done
done

# compare on the pair: both runs, where the time went, the predicted speedup.
"$V" compare "$tmp/poll-hv.yaml" "$tmp/event-hv.yaml" >"$tmp/out" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q "^IO_INSTRUCTION" "$tmp/out" && grep -q "^HLT" "$tmp/out" &&
	grep -Eq "predicted speedup of nic-event over nic-poll: [2-9]\.[0-9]+x" "$tmp/out"; then
	ok "compare on the NIC pair: $(grep 'predicted speedup' "$tmp/out")"
else
	bad "compare on the NIC pair: exit $rc"; cat "$tmp/out"
fi

# Deterministic: the same run twice, the same trace digest.
"$V" run "$tmp/poll-dm.yaml" 2>&1 | grep '^digest' >"$tmp/d1"
"$V" run "$tmp/poll-dm.yaml" 2>&1 | grep '^digest' >"$tmp/d2"
if [ -s "$tmp/d1" ] && cmp -s "$tmp/d1" "$tmp/d2"; then ok "peer back-end is deterministic: $(cat "$tmp/d1")"; else bad "determinism"; cat "$tmp/d1" "$tmp/d2"; fi

# The socket back-end: the model starts vmxlab-netpeer (from next to vmxlab,
# or one directory up) and talks UDP to it over loopback.  The peer's
# retransmission timer runs in wall-clock time, the guest in virtual time:
# placed dm (or under ASan) the guest may take longer than the peer's rto to
# drain a window, and the peer retransmits it; with rto=20ms it does, every
# time, which once stalled the download at 23360 bytes (the peer now backs
# its timer off).
if [ -x "$B/vmxlab-netpeer" ]; then
	for place in hv dm dm-rto; do
		case $place in
		dm-rto) extra=", rto: 20ms"; where=dm ;;
		*) extra=""; where=$place ;;
		esac
		small scenarios/nic-event.yaml "$tmp/sock-$place.yaml" \
			"s/ne2k: { placement: dm, backend: peer\(.*\) }/ne2k: { placement: $where, backend: socket\1$extra }/"
		if VMXLAB_NETPEER="$(realpath "$B/vmxlab-netpeer")" "$V" run --quiet "$tmp/sock-$place.yaml" >"$tmp/out" 2>&1 &&
			grep -q "result: workload=net $want " "$tmp/out"; then
			ok "socket back-end, NIC placed $place: $(grep -o 'result: .* bytes_per_s=[0-9]*' "$tmp/out" | grep -o ' bytes_per_s=[0-9]*')"
		else
			bad "socket back-end, NIC placed $place"; cat "$tmp/out"
		fi
	done
else
	echo "skip socket back-end: $B/vmxlab-netpeer is not built (the Makefile must include devices/ne2k.mk)"
fi

# Bad device options are input errors.
sed 's/backend_mode: poll/backend_mode: sometimes/' scenarios/nic-poll.yaml >"$tmp/badopt.yaml"
"$V" run "$tmp/badopt.yaml" >"$tmp/out" 2>&1
rc=$?
if [ $rc -ne 0 ] && grep -q "bad value 'sometimes' for option backend_mode" "$tmp/out"; then
	ok "a bad NIC option is refused (exit $rc)"
else
	bad "bad NIC option: exit $rc"; cat "$tmp/out"
fi

echo "$failures failures"
[ $failures -eq 0 ]
