#!/bin/bash
# What sampling costs a replay (make bench-profile): the same trace
# replayed plain, then under `vmxlab profile` at 1, 4 and 10 kHz, three
# times each; the best wall time of each is printed with the overhead.
# Usage: bench/bench_profile.sh BUILD TRACE
set -u
B=$1
T=$2
best() { # best CMD...: the smallest wall time of three runs, in seconds
	local b=""
	for i in 1 2 3; do
		local t0 t1
		t0=$(date +%s.%N)
		"$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }
		t1=$(date +%s.%N)
		b=$(awk -v a="$b" -v t="$(awk -v x="$t0" -v y="$t1" 'BEGIN { print y - x }')" 'BEGIN { print (a == "" || t < a) ? t : a }')
	done
	echo "$b"
}
plain=$(best "$B/vmxlab" replay "$T" --quiet --accept-divergent)
echo "profiling overhead on a replay of $(basename "$T") (best of 3 wall times):"
printf '  %-28s %7.3f s\n' "plain replay" "$plain"
for hz in 1000 4000 10000; do
	t=$(best "$B/vmxlab" profile "$T" --rate "$hz")
	printf '  %-28s %7.3f s  %+6.1f%%\n' "profile --rate $hz" "$t" "$(awk -v a="$plain" -v b="$t" 'BEGIN { print 100 * (b / a - 1) }')"
done
