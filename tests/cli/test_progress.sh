#!/bin/bash
# Progress on stderr: a run, a replay and a diff that take more than a
# second draw a progress line when stderr is a terminal (script(1) gives
# them one), and write nothing of it when it is not.
set -u
V=${VMXLAB:?set VMXLAB to the vmxlab binary}
B=${BUILD:-build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; failures=$((failures + 1)); }
if ! command -v script >/dev/null; then
	echo "SKIP: script(1) is not installed (util-linux)"
	exit 0
fi

"$B/bench/gen_trace" "$tmp/g.xt" 300000 >/dev/null || bad "gen_trace"
cat >"$tmp/spin.yaml" <<'YAML'
name: spin
guest: { workload: t-spin }
devices:
  pic: { placement: hv }
limits: { virtual_time: 1500ms }
YAML
# What each command shows while it goes, and its progress line's pattern.
check() {
	local what=$1 pattern=$2
	shift 2
	script -qec "$(printf '%q ' "$@") >/dev/null" /dev/null </dev/null >"$tmp/tty.out" 2>&1
	if tr '\r' '\n' <"$tmp/tty.out" | grep -Eq "$pattern"; then
		ok "$what on a terminal: $(tr '\r' '\n' <"$tmp/tty.out" | grep -E "$pattern" | tail -n 1 | sed 's/\x1b\[K//' | cut -c1-90)"
	else
		bad "$what on a terminal: no progress line"; cat -v "$tmp/tty.out" | head -5
	fi
	"$@" >/dev/null 2>"$tmp/err"
	if grep -q $'\r' "$tmp/err" || grep -Eq "$pattern" "$tmp/err"; then
		bad "$what: progress written to a stderr that is not a terminal"; cat -v "$tmp/err" | head -5
	else
		ok "$what: nothing of it when stderr is a file"
	fi
}
check "replay" '^replay: [0-9]+ of 6, [0-9]+ exits, [0-9]+ exits/s, [0-9]+%, about' \
	"$V" replay "$tmp/g.xt" --repeat 6
check "run" '^run: virtual time [0-9.]+ s, [0-9]+ exits, [0-9]+ exits/s' \
	"$V" run "$tmp/spin.yaml"
check "diff" '^diff: round [0-9]+ of 5, [0-9.]+ rounds/s, [0-9]+%, about' \
	"$V" diff --trace "$tmp/g.xt" --old "$B/libvmxlab-hv.so" --new "$B/tests/libvmxlab-hv-O0.so" --runs 5

# --quiet keeps the line off the terminal too.
script -qec "$(printf '%q ' "$V" replay "$tmp/g.xt" --repeat 6 --quiet) >/dev/null" /dev/null </dev/null >"$tmp/tty.out" 2>&1
if tr '\r' '\n' <"$tmp/tty.out" | grep -q '^replay: [0-9]'; then
	bad "--quiet: a progress line on the terminal"
else
	ok "--quiet: no progress line on a terminal"
fi

[ $failures -eq 0 ]
