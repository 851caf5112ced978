#!/bin/sh
# Run test programs and scripts; print each one's result, the log of every
# failure, and a closing "N passed, N failed" line.  Exit 1 if any failed.
# Usage: tests/run.sh PROGRAM... (tests/cli/*.sh are always run too)
BUILD=${BUILD:-build}
logs=$BUILD/test-logs
mkdir -p "$logs"
pass=0
fail=0
for t in "$@" tests/cli/*.sh; do
	[ -e "$t" ] || continue
	name=$(basename "$t")
	log=$logs/$name.log
	case $t in
	*.sh) BUILD=$BUILD VMXLAB=$BUILD/asan/vmxlab bash "$t" >"$log" 2>&1 ;;
	*) "$t" >"$log" 2>&1 ;;
	esac
	rc=$?
	if [ $rc -eq 0 ]; then
		pass=$((pass + 1))
		echo "PASS $name"
	else
		fail=$((fail + 1))
		echo "FAIL $name (exit $rc)"
		sed 's/^/    /' "$log"
	fi
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
