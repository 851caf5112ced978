#!/bin/bash
# vmxlab debug end to end: command files against a scenario and a recorded
# trace, compared with their expected output (tests/debug/*.out: stepi through
# a known instruction sequence, breakpoints of each kind, explain of an I/O
# and an EPT-violation exit live and replayed, the replay's VMCS diffs, bad
# commands answered with the prompt kept); help; Ctrl-C stopping a guest.
# To refresh an expected file after an intended change:
#   build/vmxlab debug tests/debug/t-dbg.yaml -x tests/debug/live.cmd >tests/debug/live.out
set -u
V=${VMXLAB:?set VMXLAB to the vmxlab binary}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; failures=$((failures + 1)); }

# NAME TARGET CMDFILE EXPECTED STATUS: the session's output must equal the
# expected file and the exit status must be STATUS (1: a command failed).
session() {
	"$V" debug "$2" -x "$3" >"$tmp/$1.out" 2>"$tmp/$1.err"
	local rc=$?
	if [ $rc -eq "$5" ] && diff -u "$4" "$tmp/$1.out" >"$tmp/$1.diff" && ! grep -q . "$tmp/$1.err"; then
		ok "$1: $(grep -c '^(vmxlab) ' "$tmp/$1.out") commands as expected"
	else
		bad "$1: exit $rc (want $5)"
		head -n 60 "$tmp/$1.diff"
		cat "$tmp/$1.err"
	fi
}

session live tests/debug/t-dbg.yaml tests/debug/live.cmd tests/debug/live.out 1
session mmio tests/debug/t-dbg-mmio.yaml tests/debug/mmio.cmd tests/debug/mmio.out 0
# The trace: the same guest recorded by vmxlab run.
"$V" run --quiet tests/debug/t-dbg-mmio.yaml --record "$tmp/t-dbg-mmio.xt" >"$tmp/run.out" 2>&1
if [ $? -eq 0 ] && [ -s "$tmp/t-dbg-mmio.xt" ]; then
	session replay "$tmp/t-dbg-mmio.xt" tests/debug/replay.cmd tests/debug/replay.out 1
else
	bad "recording the trace"; cat "$tmp/run.out"
fi

# Commands from stdin (not a terminal); help lists every command of docs/debugger.md.
printf 'help\nquit\n' | "$V" debug tests/debug/t-dbg.yaml >"$tmp/help.out" 2>&1
missing=""
for c in break breakpoints delete continue next-exit handle stepi regs vmcs x xp disas dev exits explain set status help quit; do
	grep -q "^  $c\b" "$tmp/help.out" || missing="$missing $c"
	grep -q "^| \`$c" docs/debugger.md || missing="$missing $c(doc)"
done
if [ -z "$missing" ] && [ "$(tail -n 1 "$tmp/help.out")" != "" ]; then ok "help lists every command"; else bad "help: missing$missing"; cat "$tmp/help.out"; fi

# A clean run under the debugger ends as vmxlab run does, with the same digest
# of handler decisions (the debugger is invisible to guest and handler).
printf 'continue\n' | "$V" debug tests/debug/t-dbg.yaml >"$tmp/c.out" 2>&1
"$V" run tests/debug/t-dbg.yaml >"$tmp/r.out" 2>&1
want=$(sed -n 's/.*guest instructions \([0-9]*\), exits \([0-9]*\).*/\1 guest instructions, \2 exits/p' "$tmp/r.out")
if grep -q "the run ended: the guest exited with status 0 ($want" "$tmp/c.out"; then
	ok "continue to the end: $want, as vmxlab run"
else
	bad "continue to the end (want: $want)"; cat "$tmp/c.out"
fi

# Invisible to guest, handler and devices: a session that stops at breakpoints
# and single-steps, with the PIC and PIT in the device-model process, records
# the same trace byte for byte as vmxlab run.
printf 'break io 0x21\ncontinue\nstepi 3\nregs\nexplain\ndelete\ncontinue\n' |
	"$V" debug tests/scenarios/t-timer-dm.yaml --record "$tmp/dbg.xt" >"$tmp/rec.out" 2>&1
"$V" run --quiet tests/scenarios/t-timer-dm.yaml --record "$tmp/run.xt" >/dev/null 2>&1
if grep -q "the guest exited with status 0" "$tmp/rec.out" && cmp -s "$tmp/dbg.xt" "$tmp/run.xt"; then
	ok "a stepped and stopped run records the trace vmxlab run records"
else
	bad "trace under the debugger differs from vmxlab run's"; tail -n 5 "$tmp/rec.out"
fi

# Ctrl-C: a guest spinning forever stops at its next instruction and the
# prompt comes back (the next command runs).
printf 'name: spin\nguest:\n  workload: t-spin\ndevices:\n  pic: { placement: hv }\n' >"$tmp/spin.yaml"
mkfifo "$tmp/in"
"$V" debug "$tmp/spin.yaml" <"$tmp/in" >"$tmp/spin.out" 2>&1 &
pid=$!
exec 3>"$tmp/in"
printf 'continue\n' >&3
for _ in $(seq 300); do grep -q '^(vmxlab) continue' "$tmp/spin.out" && break; sleep 0.1; done
sleep 0.5
kill -INT $pid
printf 'status\nquit\n' >&3
exec 3>&-
wait $pid
rc=$?
if [ $rc -eq 0 ] && grep -q '^interrupted' "$tmp/spin.out" && grep -q '^(vmxlab) status' "$tmp/spin.out" &&
	grep -Eq '^[0-9]+ guest instructions, [0-9]+ exits' "$tmp/spin.out"; then
	ok "Ctrl-C stops the running guest; the prompt is back"
else
	bad "Ctrl-C: exit $rc"; cat "$tmp/spin.out"
fi

# Usage errors.
"$V" debug >/dev/null 2>"$tmp/u.err"; r1=$?
"$V" debug tests/debug/t-dbg.yaml -x "$tmp/nowhere" >/dev/null 2>"$tmp/u2.err"; r2=$?
"$V" debug "$tmp/t-dbg-mmio.xt" --gdb 1234 >/dev/null 2>"$tmp/u3.err"; r3=$?
if [ $r1 -eq 2 ] && [ $r2 -eq 2 ] && [ $r3 -eq 2 ] && grep -q "cannot read" "$tmp/u2.err" &&
	grep -q "need a scenario" "$tmp/u3.err"; then
	ok "usage errors exit 2"
else
	bad "usage errors: $r1 $r2 $r3"; cat "$tmp/u.err" "$tmp/u2.err" "$tmp/u3.err"
fi

[ $failures -eq 0 ]
