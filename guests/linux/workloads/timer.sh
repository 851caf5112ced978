#!/bin/sh
# timer: the seed study's kernel build, timer-heavy.  Each round starts a
# short-lived process that computes a little (awk: 50 steps of a linear
# congruential generator, like a small compile job), then sleeps (usleep),
# so the run is many timer interrupts, process creations and short bursts of
# work.  The values chain from round to round; the checksum does not depend
# on any time.
#
#   rounds=N      rounds (default 50)
#   sleep_us=N    the sleep of each round in microseconds (default 2000)
#   steps=N       generator steps per round (default 50)
set -eu
rounds=${rounds:-50}
sleep_us=${sleep_us:-2000}
steps=${steps:-50}
for v in "$rounds" "$sleep_us" "$steps"; do
	case $v in '' | *[!0-9]*) echo "result: FAIL timer: rounds, sleep_us and steps are numbers"; exit 1 ;; esac
done

x=1
sum=0
i=0
while [ "$i" -lt "$rounds" ]; do
	x=$(awk -v x="$x" -v n="$steps" 'BEGIN {
		for (k = 0; k < n; k++) { x = (x * 69069 + 1) % 4294967296 }
		printf "%.0f", x }')
	sum=$(((sum * 31 + x) % 4294967296))
	usleep "$sleep_us"
	i=$((i + 1))
done
printf 'result: timer rounds=%d steps=%d checksum=%08x\n' "$rounds" "$steps" "$sum"
