#!/bin/bash
# vmxlab run end to end: guests in VMX non-root on the Bochs CPU, exits in the
# handler build, devices in this process and in vmxlab-dm.  Each scenario in
# tests/scenarios/ carries its own expectations (vmxlab run exits 1 if one fails).
set -u
V=${VMXLAB:?set VMXLAB to the vmxlab binary}
B=${BUILD:-build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; failures=$((failures + 1)); }

for sc in tests/scenarios/t-io-hv.yaml tests/scenarios/t-io-dm.yaml tests/scenarios/t-timer-hv.yaml \
	tests/scenarios/t-timer-dm.yaml tests/scenarios/t-timer-mixed.yaml tests/scenarios/t-spin-limit.yaml; do
	if "$V" run --quiet "$sc" >"$tmp/out" 2>&1; then ok "$sc"; else bad "$sc"; cat "$tmp/out"; fi
done

# The workloads run to their result lines, checked against the host reference
# (guests/ref.c computes the same kernels natively).
want=$("$B/guests/guest-ref" timer 300)
for x in dm hv; do
	{ sed '/^expect:/,$d; s/work=14000/work=300/' scenarios/pic-$x.yaml; printf 'expect:\n  output: ["%s"]\n' "$want"; } >"$tmp/pic-$x.yaml"
done
if "$V" run --quiet "$tmp/pic-hv.yaml" >"$tmp/out" 2>&1 && grep -q "result: workload=timer ticks=[0-9]* $want" "$tmp/out"; then
	ok "timer workload: $want"
else
	bad "timer workload"; cat "$tmp/out"
fi
want=$("$B/guests/guest-ref" cpu 2)
{ sed '/^expect:/,$d; s/iterations=100/iterations=2/' scenarios/pic-dm-cpu.yaml; printf 'expect:\n  output: ["%s"]\n' "$want"; } >"$tmp/cpu.yaml"
if "$V" run --quiet "$tmp/cpu.yaml" >"$tmp/out" 2>&1 && grep -q "result: workload=cpu $want" "$tmp/out"; then
	ok "cpu workload: $want"
else
	bad "cpu workload"; cat "$tmp/out"
fi
# compare on the PIC pair: both runs, where the time went, the predicted speedup.
"$V" compare "$tmp/pic-dm.yaml" "$tmp/pic-hv.yaml" >"$tmp/out" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q "^IO_INSTRUCTION" "$tmp/out" && grep -q "^EXTERNAL_INTERRUPT" "$tmp/out" &&
	grep -Eq "predicted speedup of pic-hv over pic-dm: 1\.0[0-9]+x \(\+[0-9.]+%\)" "$tmp/out"; then
	ok "compare on the PIC pair: $(grep 'predicted speedup' "$tmp/out")"
else
	bad "compare: exit $rc"; cat "$tmp/out"
fi

# A failed expectation is exit 1 and says which.
sed 's/imr=a5/imr=5a/' tests/scenarios/t-io-hv.yaml >"$tmp/wrong.yaml"
"$V" run --quiet "$tmp/wrong.yaml" >"$tmp/out" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q 'expectation failed: the guest never printed "result: imr=5a' "$tmp/out"; then
	ok "failed expectation exits 1"
else
	bad "failed expectation: exit $rc"; cat "$tmp/out"
fi
sed 's/IO_INSTRUCTION: 7/IO_INSTRUCTION: 8/' tests/scenarios/t-io-hv.yaml >"$tmp/wrong2.yaml"
printf '  exit_share: { VMCALL: { min: 50 } }\n' >>"$tmp/wrong2.yaml"
"$V" run --quiet "$tmp/wrong2.yaml" >"$tmp/out" 2>&1
if [ $? -eq 1 ] && grep -q "expectation failed: IO_INSTRUCTION exits is 7, expected 8..8" "$tmp/out" &&
	grep -q "expectation failed: VMCALL share of exits (%) is 22, expected at least 50" "$tmp/out"; then
	ok "exit-count and exit-share expectations"
else
	bad "exit-count expectation"; cat "$tmp/out"
fi

# Bad scenarios are input errors naming file:line:column.
printf 'name: x\nguest:\n  workload: t-io\ndevices:\n  pic: { placement: moon }\n' >"$tmp/bad1.yaml"
"$V" run "$tmp/bad1.yaml" >"$tmp/out" 2>&1
if [ $? -eq 2 ] && grep -q "bad1.yaml:5:21: placement is 'hv'" "$tmp/out"; then ok "bad placement"; else bad "bad placement"; cat "$tmp/out"; fi
printf 'name: x\nguest:\n  workload: t-io\nmachine:\n  rma: 64M\n' >"$tmp/bad2.yaml"
"$V" run "$tmp/bad2.yaml" >"$tmp/out" 2>&1
if [ $? -eq 2 ] && grep -q "bad2.yaml:5:3: unknown key 'rma' in machine" "$tmp/out"; then ok "unknown key"; else bad "unknown key"; cat "$tmp/out"; fi
printf 'guest: [1, 2\n' >"$tmp/bad3.yaml"
"$V" run "$tmp/bad3.yaml" >"$tmp/out" 2>&1
if [ $? -eq 2 ] && grep -q "bad3.yaml:2:1: YAML syntax" "$tmp/out"; then ok "YAML syntax error"; else bad "YAML syntax error"; cat "$tmp/out"; fi
printf 'guest:\n  image: nowhere.elf\n' >"$tmp/bad4.yaml"
"$V" run "$tmp/bad4.yaml" >"$tmp/out" 2>&1
if [ $? -eq 2 ] && grep -q "bad4.yaml:2:10: guest.image .*nowhere.elf: No such file" "$tmp/out"; then ok "missing image"; else bad "missing image"; cat "$tmp/out"; fi

# Determinism: the same scenario twice gives byte-identical traces and digests.
"$V" run --quiet tests/scenarios/t-timer-dm.yaml --record "$tmp/a.trace" --json "$tmp/a.json" >/dev/null 2>&1
"$V" run --quiet tests/scenarios/t-timer-dm.yaml --record "$tmp/b.trace" --json "$tmp/b.json" >/dev/null 2>&1
if [ -s "$tmp/a.trace" ] && cmp -s "$tmp/a.trace" "$tmp/b.trace"; then ok "byte-identical traces"; else bad "traces differ"; fi
if grep -q '"digest"' "$tmp/a.json" && [ "$(grep '"digest"' "$tmp/a.json")" = "$(grep '"digest"' "$tmp/b.json")" ] &&
	[ "$(grep '"virtual_time_ns"' "$tmp/a.json")" = "$(grep '"virtual_time_ns"' "$tmp/b.json")" ]; then
	ok "identical digests and modelled time"
else
	bad "digests or modelled time differ"
fi
# Placement changes cost, not behaviour: same guest output, same PIC decisions.
"$V" run --quiet tests/scenarios/t-io-hv.yaml --json "$tmp/hv.json" >/dev/null 2>&1
"$V" run --quiet tests/scenarios/t-io-dm.yaml --json "$tmp/dm.json" >/dev/null 2>&1
if [ "$(grep '"digest"' "$tmp/hv.json")" = "$(grep '"digest"' "$tmp/dm.json")" ]; then ok "hv and dm placement agree"; else bad "placements disagree"; fi

# Replay of vmxlab's own traces repeats the run's handler decisions exactly:
# the same digest, the same handler records, in every replay.
for sc in tests/scenarios/t-io-dm.yaml tests/scenarios/t-timer-hv.yaml tests/scenarios/t-timer-mixed.yaml "$tmp/pic-dm.yaml"; do
	"$V" run --quiet "$sc" --record "$tmp/r.trace" --json "$tmp/run.json" >/dev/null 2>&1
	"$V" replay "$tmp/r.trace" --repeat 2 --quiet --json "$tmp/replay.json" >"$tmp/out" 2>&1
	rc=$?
	run_digest=$(sed -n 's/.*"digest": "\([0-9a-f]*\)".*/\1/p' "$tmp/run.json")
	replay_digest=$(sed -n 's/.*"digest": "\([0-9a-f]*\)".*/\1/p' "$tmp/replay.json")
	if [ $rc -eq 0 ] && [ -n "$run_digest" ] && [ "$run_digest" = "$replay_digest" ] &&
		grep -q "exact" "$tmp/out" && grep -q "every replay agrees" "$tmp/out" && grep -q "different: 0" "$tmp/out"; then
		ok "replay of $(basename "$sc") repeats the run (digest $run_digest)"
	else
		bad "replay of $sc: exit $rc, run $run_digest, replay $replay_digest"; cat "$tmp/out"
	fi
done
"$V" replay /nonexistent.trace >"$tmp/out" 2>&1
if [ $? -eq 2 ] && grep -q "/nonexistent.trace" "$tmp/out"; then ok "replay of a missing file"; else bad "replay of a missing file"; fi

# SIGINT/SIGTERM stop the run and leave a complete trace.
for sig in INT TERM; do
	"$V" run --quiet tests/scenarios/t-spin-dm.yaml --record "$tmp/s.trace" >"$tmp/out" 2>&1 &
	pid=$!
	sleep 0.5
	kill -$sig $pid
	wait $pid
	rc=$?
	if [ $rc -eq 1 ] && grep -q "interrupted" "$tmp/out" && "$V" summary "$tmp/s.trace" >"$tmp/sum" 2>&1 &&
		grep -q "IO_INSTRUCTION" "$tmp/sum"; then
		ok "SIG$sig ends the run with a valid trace"
	else
		bad "SIG$sig: exit $rc"; cat "$tmp/out" "$tmp/sum"
	fi
done

# The device-model process dies mid-run: vmxlab ends within a second, names
# the device and the request, and the trace written so far stays.
"$V" run --quiet tests/scenarios/t-spin-dm.yaml --record "$tmp/k.trace" >"$tmp/out" 2>&1 &
pid=$!
dm=""
for _ in $(seq 1 200); do
	dm=$(pgrep -P $pid vmxlab-dm | head -n 1)
	[ -n "$dm" ] && break
	sleep 0.05
done
if [ -z "$dm" ]; then
	bad "vmxlab-dm never started"; kill $pid
else
	sleep 0.3
	kill -9 "$dm"
	start=$(date +%s%N)
	wait $pid
	rc=$?
	ms=$((($(date +%s%N) - start) / 1000000))
	if [ $rc -eq 1 ] && [ $ms -lt 1000 ] && grep -q "killed by signal 9" "$tmp/out" && grep -q "pic" "$tmp/out" &&
		"$V" summary "$tmp/k.trace" >"$tmp/sum" 2>&1 && grep -q "IO_INSTRUCTION" "$tmp/sum"; then
		ok "dead device model noticed in ${ms} ms; the trace so far reads back"
	else
		bad "dead device model: exit $rc after ${ms} ms"; cat "$tmp/out"
	fi
fi

# Wherever vmxlab-dm dies, the error names the device and the request it
# was serving (the kind of request alone, or nothing, is not enough).
for spec in "tests/scenarios/t-spin-dm.yaml 0" "tests/scenarios/t-spin-dm.yaml 0.2" "scenarios/pic-dm.yaml 0" \
	"scenarios/pic-dm.yaml 0.15" "scenarios/vga-trap.yaml 0.1"; do
	set -- $spec
	"$V" run --quiet "$1" --record "$tmp/k.trace" >"$tmp/out" 2>&1 &
	pid=$!
	dm=""
	for _ in $(seq 1 400); do
		dm=$(pgrep -P $pid vmxlab-dm | head -n 1)
		[ -n "$dm" ] && break
		sleep 0.01
	done
	sleep "$2"
	[ -n "$dm" ] && kill -9 "$dm"
	wait $pid
	rc=$?
	# (A kill that lands while the process starts ends the run before it
	# began: exit 2, the devices it was starting named, no trace.)
	if { { [ $rc -eq 1 ] && "$V" summary "$tmp/k.trace" >/dev/null 2>&1; } ||
		{ [ $rc -eq 2 ] && grep -q "during the start of" "$tmp/out"; }; } &&
		grep -Eq "killed by signal 9 \(Killed\) during .*(pic|pit|uart|vga|PIC)" "$tmp/out"; then
		ok "vmxlab-dm killed $2 s into $(basename "$1"): $(grep -o 'during .*' "$tmp/out" | head -n 1 | cut -c1-70)"
	else
		bad "vmxlab-dm killed $2 s into $1: exit $rc"; cat "$tmp/out"
	fi
done

# A vmxlab-dm that dies as it starts names the devices it was starting.
VMXLAB_DM=/bin/false "$V" run --quiet tests/scenarios/t-spin-dm.yaml >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "exited with status 1 during the start of pic" "$tmp/out" &&
	ok "vmxlab-dm dead at start: $(grep -o 'the device-model.*' "$tmp/out")" || { bad "vmxlab-dm dead at start: exit $rc"; cat "$tmp/out"; }

# vmxlab-dm stops answering (SIGSTOP): the run ends after the answer
# timeout, naming the device and the request, and the stopped process is
# killed; SIGTERM during such a wait ends the run at once.
VMXLAB_DM_TIMEOUT_MS=300 "$V" run --quiet tests/scenarios/t-spin-dm.yaml --record "$tmp/h.trace" >"$tmp/out" 2>&1 &
pid=$!
sleep 0.3
dm=$(pgrep -P $pid vmxlab-dm | head -n 1)
kill -STOP "$dm"
wait $pid
rc=$?
if [ $rc -eq 1 ] && grep -Eq "did not answer within 300 ms during .*(pic|PIC)" "$tmp/out" && ! kill -0 "$dm" 2>/dev/null &&
	"$V" summary "$tmp/h.trace" >/dev/null 2>&1; then
	ok "a stopped vmxlab-dm: $(grep -o 'did not answer.*' "$tmp/out" | head -n 1 | cut -c1-80)"
else
	bad "stopped vmxlab-dm: exit $rc"; cat "$tmp/out"; kill -9 "$dm" 2>/dev/null
fi
for sig in TERM INT; do
	"$V" run --quiet tests/scenarios/t-spin-dm.yaml --record "$tmp/h.trace" >"$tmp/out" 2>&1 &
	pid=$!
	sleep 0.3
	dm=$(pgrep -P $pid vmxlab-dm | head -n 1)
	kill -STOP "$dm"
	sleep 0.2
	start=$(date +%s%N)
	kill -$sig $pid
	wait $pid
	rc=$?
	ms=$((($(date +%s%N) - start) / 1000000))
	if [ $rc -eq 1 ] && [ $ms -lt 1000 ] && grep -q "interrupted: .*left unanswered" "$tmp/out" &&
		! kill -0 "$dm" 2>/dev/null && "$V" summary "$tmp/h.trace" >/dev/null 2>&1; then
		ok "SIG$sig while vmxlab-dm is stopped: the run ended in $ms ms, the trace reads back"
	else
		bad "SIG$sig with a stopped vmxlab-dm: exit $rc after $ms ms"; cat "$tmp/out"; kill -9 "$dm" 2>/dev/null
	fi
done

# A device that will not start (bad options) is named with its place in the
# scenario, whether it runs in vmxlab or in vmxlab-dm.
for place in hv dm; do
	printf 'name: o\nguest: { workload: timer }\ndevices:\n  pic: { placement: hv }\n  ne2k: { placement: %s, bogus: 1 }\n' \
		$place >"$tmp/opt.yaml"
	"$V" run --quiet "$tmp/opt.yaml" >"$tmp/out" 2>&1
	rc=$?
	[ $rc -eq 2 ] && grep -q "opt.yaml:5:3: device ne2k: bad options 'bogus=1'" "$tmp/out" &&
		ok "a bad device option ($place): FILE:LINE:COLUMN" || { bad "bad device option ($place): exit $rc"; cat "$tmp/out"; }
done

# The wall-time limit stops a run wherever it is, as an error (what ran past
# it depends on the host), with the trace kept.
cat >"$tmp/wall.yaml" <<'YAML'
name: wall
guest: { workload: t-spin }
devices:
  pic: { placement: hv }
limits: { wall_time: 300ms, virtual_time: none }
YAML
"$V" run --quiet "$tmp/wall.yaml" --record "$tmp/wall.xt" >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q "wall-time limit of 0.3 s reached at virtual time" "$tmp/out" &&
	"$V" summary "$tmp/wall.xt" >/dev/null 2>&1 && ok "limits.wall_time ends a run: exit 1, the trace reads back" ||
	{ bad "limits.wall_time: exit $rc"; cat "$tmp/out"; }

# A trace that cannot be written (a full disk) makes the status non-zero
# and says so; what was written stays a valid trace (trace_write.c).
if [ -w /dev/full ]; then
	"$V" run --quiet tests/scenarios/t-io-hv.yaml --record /dev/full >"$tmp/full.out" 2>&1
	rc=$?
	[ $rc -ne 0 ] && grep -q "/dev/full: write at offset 0: No space left" "$tmp/full.out" && grep -q "is not whole" "$tmp/full.out" &&
		ok "--record to a full disk: exit $rc, the error said" || { bad "--record /dev/full: exit $rc"; cat "$tmp/full.out"; }
fi

# A guest's "\r\n" and lone '\r' reach stdout and result_lines as '\n'.
printf 'name: crlf\nguest: { workload: t-crlf }\nexpect: { output: ["result: crlf=1"] }\n' >"$tmp/crlf.yaml"
"$V" run "$tmp/crlf.yaml" --json "$tmp/crlf.json" >"$tmp/crlf.out" 2>&1
rc=$?
if [ $rc -eq 0 ] && ! grep -q $'\r' "$tmp/crlf.out" "$tmp/crlf.json" && grep -qx "over" "$tmp/crlf.out" &&
	grep -qx "written" "$tmp/crlf.out" && grep -q '"result_lines": \["result: crlf=1"\]' "$tmp/crlf.json"; then
	ok "console and result_lines carry no carriage returns"
else
	bad "carriage returns: exit $rc"; cat -A "$tmp/crlf.out" | head; grep result_lines "$tmp/crlf.json" | cat -A
fi

# A file-size limit (ulimit -f): below guest RAM (a shared-memory file) the
# run is refused with the reason; reached mid-trace, the trace stops at its
# last whole window and the status says so - never a silent SIGXFSZ.
cat >"$tmp/fsize.yaml" <<'YAML'
name: fsize
machine: { ram: 4M }
guest: { workload: t-spin }
devices:
  pic: { placement: hv }
limits: { virtual_time: 1s }
YAML
(ulimit -f 1000; "$V" run --quiet "$tmp/fsize.yaml" --record "$tmp/fsize.xt" >"$tmp/fsize.out" 2>&1)
rc=$?
[ $rc -eq 2 ] && grep -q "larger than the file-size limit (ulimit -f: 1000 KiB)" "$tmp/fsize.out" &&
	ok "ulimit -f below guest RAM: refused, exit 2" || { bad "ulimit -f 1000: exit $rc"; cat "$tmp/fsize.out"; }
(ulimit -f 4200; "$V" run --quiet "$tmp/fsize.yaml" --record "$tmp/fsize.xt" >"$tmp/fsize.out" 2>&1)
rc=$?
size=$(stat -c %s "$tmp/fsize.xt" 2>/dev/null || echo 0)
[ $rc -eq 1 ] && grep -q "File too large (it ends at its last whole window)" "$tmp/fsize.out" &&
	[ "$size" -gt 1000000 ] && [ "$size" -le $((4200 * 1024)) ] && "$V" summary "$tmp/fsize.xt" >/dev/null 2>&1 &&
	ok "ulimit -f reached mid-trace: exit 1, the trace ($size bytes) reads back" ||
	{ bad "ulimit -f 4200: exit $rc, trace $size bytes"; cat "$tmp/fsize.out"; }

[ $failures -eq 0 ]
