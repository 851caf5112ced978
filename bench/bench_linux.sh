#!/bin/bash
# Booting Debian's kernel (make bench-linux): scenarios/linux-boot.yaml run
# RUNS times, each a whole `vmxlab run` process (loading the 66 MiB vmlinux
# and the initramfs included).  Printed: the guest instructions and exits
# (the same every run), the exits by reason, the wall time of each run as
# min/median/max, and the effective speed, guest instructions per wall
# second, for each of those times.
# Usage: bench/bench_linux.sh VMXLAB [RUNS]
set -u
VMXLAB=$1
RUNS=${2:-5}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

for ((i = 0; i < RUNS; i++)); do
	t0=$(date +%s%N)
	"$VMXLAB" run --quiet scenarios/linux-boot.yaml >"$tmp/run.$i" 2>&1 ||
		{ echo "bench_linux: vmxlab run scenarios/linux-boot.yaml failed:" >&2; tail -n 5 "$tmp/run.$i" >&2; exit 1; }
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000)) >>"$tmp/us"
done
insns=$(sed -n 's/^  guest instructions \([0-9]*\),.*/\1/p' "$tmp/run.0")
exits=$(sed -n 's/^  guest instructions [0-9]*, exits \([0-9]*\),.*/\1/p' "$tmp/run.0")
echo "Linux boot to /init and the end of the run (scenarios/linux-boot.yaml), $RUNS runs:"
echo "  guest instructions $insns, exits $exits"
echo "  exits by reason:$(awk '/^Exit reasons/ {on = 1; next} on && /^  [A-Z_]+ +[0-9]/ {printf " %s %s", $1, $2} on && /^$/ {on = 0}' "$tmp/run.0")"
sort -n "$tmp/us" | awk -v insns="$insns" '
	{ t[NR] = $1 }
	END {
		min = t[1]; max = t[NR]; med = NR % 2 ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2
		printf "  wall time s:             min %.3f  median %.3f  max %.3f\n", min / 1e6, med / 1e6, max / 1e6
		printf "  effective MIPS (insns/wall): max %.0f  median %.0f  min %.0f\n", insns / min, insns / med, insns / max
	}'
