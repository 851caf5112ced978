#!/bin/bash
# Handler timings beside the testbed's own floor (make bench-replay): the
# same trace replayed through the reference handler build and through the
# floor build (tests/hv-builds/floor.c: read the exit reason, step RIP over
# an instruction exit, resume), RUNS times each, alternately.  Printed per
# exit reason from `vmxlab replay --json`: the median and the mean
# handle_exit ns (the mean over the samples the replay keeps, the first
# 100,000 of a reason), each the smallest of the RUNS runs, and exits/s, the
# largest.  The best of several runs, because the machine is shared: a run
# can only be slowed by the others' load, not sped up.
# Usage: bench/bench_handler.sh VMXLAB TRACE REFERENCE.so FLOOR.so [RUNS]
set -u
VMXLAB=$1
TRACE=$2
REF=$3
FLOOR=$4
RUNS=${5:-3}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# one NAME LIB RUN: replay once; "reason count median mean" lines into
# $tmp/NAME.RUN, exits/s into $tmp/NAME.RUN.rate.
one() {
	local out=$tmp/$1.$3
	# Exit status 1 is a replay that differs from the trace (the floor build
	# does not do what the reference build did): its times still count.
	"$VMXLAB" replay "$TRACE" --accept-divergent --hv "$2" --quiet --json "$out.json" >"$out.txt" 2>/dev/null
	[ $? -le 1 ] || { echo "bench_handler: vmxlab replay $TRACE --hv $2 failed" >&2; exit 1; }
	sed -n 's/.*(\([0-9]*\) exits\/s).*/\1/p' "$out.txt" >"$out.rate"
	# One line per exit reason in the JSON (the sub-keys have no ci95).
	# index/substr, not regular expressions: a line holds up to 100,000 samples.
	awk 'function after(key, len,   i) { i = index($0, key); return i ? substr($0, i + length(key), len) : "" }
	index($0, "\"handler_ns_ci95\"") {
		name = after("\"name\": \"", 64); sub(/".*/, "", name)
		s = after("\"samples_ns\": [", length($0)); s = substr(s, 1, index(s, "]") - 1)
		n = split(s, v, ","); sum = 0
		for (i = 1; i <= n; i++) sum += v[i]
		printf "%s %d %d %.1f\n", name, after("\"count\": ", 24) + 0, after("\"handler_ns_median\": ", 24) + 0,
			n ? sum / n : 0
	}' "$out.json" >"$out"
	rm -f "$out.json"
}

for r in $(seq 1 "$RUNS"); do
	one ref "$REF" "$r"
	one floor "$FLOOR" "$r"
done

# best NAME: "reason count min-median min-mean" per reason, in trace order.
best() {
	cat "$tmp/$1".[0-9] "$tmp/$1".[0-9][0-9] 2>/dev/null | awk '{
		if (!($1 in med)) { order[++n] = $1; cnt[$1] = $2; med[$1] = $3; mean[$1] = $4 }
		if ($3 < med[$1]) med[$1] = $3
		if ($4 < mean[$1]) mean[$1] = $4
	} END { for (i = 1; i <= n; i++) print order[i], cnt[order[i]], med[order[i]], mean[order[i]] }'
}
rate() { cat "$tmp/$1".*.rate | sort -n | tail -1; }

best ref >"$tmp/ref.best"
best floor >"$tmp/floor.best"
echo "handle_exit ns per exit reason, replaying $(basename "$TRACE") (best of $RUNS runs each):"
echo "  reference: $REF"
echo "  floor:     $FLOOR (the testbed's own cost of an exit)"
printf '  %-20s %8s   %9s %8s   %9s %8s   %9s %8s\n' "" "" "reference" "" "floor" "" "ref - floor" ""
printf '  %-20s %8s   %9s %8s   %9s %8s   %9s %8s\n' reason exits median mean median mean median mean
awk 'NR == FNR { fmed[$1] = $3; fmean[$1] = $4; next }
	{
		printf "  %-20s %8d   %9d %8.1f   %9d %8.1f   %9d %8.1f\n", $1, $2, $3, $4, fmed[$1], fmean[$1],
			$3 - fmed[$1], $4 - fmean[$1]
		n += $2; r += $2 * $4; f += $2 * fmean[$1]
	} END {
		if (n) printf "  %-20s %8d   %9s %8.1f   %9s %8.1f   %9s %8.1f\n", "all (mean per exit)", n, "", r / n, "", f / n, "", (r - f) / n
	}' "$tmp/floor.best" "$tmp/ref.best"
printf '  %-20s %8s   %18s   %18s\n' "exits/s" "" "$(rate ref)" "$(rate floor)"
