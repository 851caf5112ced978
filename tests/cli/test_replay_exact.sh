#!/bin/bash
# Exact replay of everything vmxlab records (docs/replay.md): every scenario
# of scenarios/ and tests/scenarios/, found here, so a new one is covered
# without editing this file.  Each is run twice with --record: the traces
# are byte-identical; the replay of the trace gives the run's digest, the
# run's handler records, no skipped exit and no request the recorded device
# model cannot answer, and exits 0.  Then the check itself is checked: a
# trace replayed with a device configured otherwise than in the run must
# exit 1 and say its digest differs from the run's.
#
# Each run stops at its MAX_EXITS-th exit at the latest (vmxlab run
# --max-exits): the IDE scenarios whole, the network and VGA ones their
# first part, within make test's budget under the sanitizers.  A Linux
# guest runs some 0.2 G instructions between its exits while it computes,
# so its scenarios stop at LINUX_MAX_EXITS: past the boot (2,300 exits),
# the drivers' probes and the first of the workload's disk or video work.
set -u
V=${VMXLAB:?set VMXLAB to the vmxlab binary}
MAX_EXITS=${MAX_EXITS:-25000}
LINUX_MAX_EXITS=${LINUX_MAX_EXITS:-8000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

field() { # field NAME FILE: a JSON string or number member, as text
	sed -n "s/.*\"$1\": *\"\{0,1\}\([0-9a-fA-F]*\)\"\{0,1\}.*/\1/p" "$2" | head -n 1
}

fail() {
	echo "FAIL $*"
	failures=$((failures + 1))
}

exact() { # exact SCENARIO
	local bin=$V sc=$1 n max=$MAX_EXITS
	n=$(basename "$sc" .yaml)
	grep -q '^  linux:' "$sc" && max=$LINUX_MAX_EXITS
	# The two runs side by side (make test runs one test at a time; this
	# one is its longest, and the machine has two CPUs at least).
	"$bin" run --quiet "$sc" --max-exits "$max" --record "$tmp/$n.xt" --json "$tmp/$n.run.json" \
		>"$tmp/$n.run.out" 2>&1 &
	"$bin" run --quiet "$sc" --max-exits "$max" --record "$tmp/$n.2.xt" >/dev/null 2>&1
	wait
	if [ ! -s "$tmp/$n.run.json" ]; then
		fail "$sc: the run wrote no result: $(tail -n 3 "$tmp/$n.run.out")"
		return
	fi
	cmp -s "$tmp/$n.xt" "$tmp/$n.2.xt" || fail "$sc: two runs wrote different traces"
	"$bin" replay "$tmp/$n.xt" --json "$tmp/$n.rep.json" >"$tmp/$n.rep.out" 2>&1
	local rc=$? want got
	want=$(field digest "$tmp/$n.run.json")
	got=$(field digest "$tmp/$n.rep.json")
	local skipped mism div
	skipped=$(grep -o '"skipped": [0-9]*' "$tmp/$n.rep.json" | awk '{s += $2} END {print s + 0}')
	mism=$(field record_mismatches "$tmp/$n.rep.json")
	div=$(field dm_divergent "$tmp/$n.rep.json")
	if [ $rc -eq 0 ] && [ -n "$want" ] && [ "$want" = "$got" ] && [ "$skipped" = 0 ] && [ "$mism" = 0 ] &&
		[ "$div" = 0 ] && grep -q ", the run's$" "$tmp/$n.rep.out"; then
		echo "ok   $sc: replay exact (digest $got, $(grep -o '[0-9]* exits on' "$tmp/$n.rep.out" | cut -d' ' -f1) exits)"
	else
		fail "$sc: replay exit $rc, digest $got (run $want), skipped $skipped, records differing $mism, unanswered $div"
		sed 's/^/    /' "$tmp/$n.rep.out" | tail -n 12
	fi
}

for sc in scenarios/*.yaml tests/scenarios/*.yaml; do
	exact "$sc"
done

# Xen's xenalyze still reads a trace with the device-model records (they
# are vmxlab's own class, which it counts and passes over): the same exits.
X=${BUILD:-build}/xen/usr/bin/xenalyze
if [ -x "$X" ] && [ -s "$tmp/ide-async.xt" ]; then
	"$X" --summary "$tmp/ide-async.xt" >"$tmp/xa.out" 2>&1
	rc=$?
	want=$(grep -o '[0-9]* exits on' "$tmp/ide-async.rep.out" | cut -d' ' -f1)
	got=$(awk '/^Exit reasons:/ {on = 1; next} on && /^ [A-Z_]+ +[0-9]+ / {s += $2; next}
		on && !/^ / {on = 0} END {print s + 0}' "$tmp/xa.out")
	summ=$("$V" summary "$tmp/ide-async.xt" | sed -n 's/^ *Exits: \([0-9]*\).*/\1/p')
	# xenalyze and vmxlab summary count the exits a VMENTRY closed; replay
	# also handles the one that ended the run (the guest's exit hypercall).
	if [ $rc = 0 ] && [ -n "$want" ] && [ "$got" = "$summ" ] && [ $((want - got)) = 1 ]; then
		echo "ok   xenalyze reads ide-async's trace: $got exits, as vmxlab summary (and replay's last, unclosed)"
	else
		fail "xenalyze --summary of ide-async's trace: exit $rc, $got exits, summary $summ, replay $want"
	fi
fi

# The check can fail: vga-shared's trace replayed with its vga in trap mode
# (the options of --scenario win over the recorded ones).
if [ -s "$tmp/vga-shared.xt" ]; then
	"$V" replay "$tmp/vga-shared.xt" --scenario scenarios/vga-trap.yaml >"$tmp/neg.out" 2>&1
	rc=$?
	if [ $rc -eq 1 ] && grep -q "DIFFERENT from the run's" "$tmp/neg.out"; then
		echo "ok   a replay whose machine differs from the run's exits 1 and says the digest differs"
	else
		fail "a replay with the vga configured otherwise: exit $rc"
		sed 's/^/    /' "$tmp/neg.out" | tail -n 5
	fi
else
	fail "no vga-shared trace to check the check with"
fi
# A Xen capture is handled against what it shows: exits the build handles
# otherwise (divergent) or not at all make the status 1, named per reason;
# --accept-divergent accepts them.
"$V" replay traces/xen-style-2k.xt >"$tmp/xen.out" 2>"$tmp/xen.err"
rc=$?
if [ $rc -eq 1 ] && grep -q '^Handled against the trace' "$tmp/xen.out" && grep -q 'accept-divergent' "$tmp/xen.err" &&
	grep -q '^    unhandled: guest halted forever' "$tmp/xen.out" &&
	grep -q '^    not modelled: neither RAM nor a device' "$tmp/xen.out"; then
	echo "ok   a Xen capture's divergent, unhandled and not modelled exits: exit 1, each reason's first cause named"
else
	fail "xen-style-2k without --accept-divergent: exit $rc"
	tail -n 5 "$tmp/xen.err"
fi
"$V" replay traces/xen-style-2k.xt --accept-divergent >/dev/null 2>&1 && echo "ok   --accept-divergent: exit 0" ||
	fail "xen-style-2k with --accept-divergent: exit $?"
exit $((failures > 0))
