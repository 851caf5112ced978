#!/bin/bash
# The include rules of docs/ARCHITECTURE.md hold (tests/layers.sh), and the
# check finds a part that breaks them: a copy of the tree with three planted
# includes (the handler code reaching the CPU, analysis reaching the CPU, a
# device reaching the machine) must fail, naming each.
set -u
cd "$(dirname "$0")/../.."
failures=0

if bash tests/layers.sh; then
	echo "ok   the tree keeps docs/ARCHITECTURE.md's include rules"
else
	echo "FAIL the tree breaks docs/ARCHITECTURE.md's include rules (above)"
	failures=$((failures + 1))
fi

copy=$(mktemp -d)
trap 'rm -rf "$copy"' EXIT
git ls-files -z | tar -cf - --null -T - | tar -xf - -C "$copy"
cp docs/ARCHITECTURE.md "$copy/docs/"
cp tests/layers.sh "$copy/tests/"
echo '#include "../sim/machine.h"' >>"$copy/hv/io.c"
echo '#include <vmxlab/sim.h>' >>"$copy/analysis/stats.c"
echo '#include "../../vm/vm.h"' >>"$copy/devices/dm/main.c"
out=$(bash tests/layers.sh "$copy")
rc=$?
for want in 'hv/io.c:.*hv includes sim/machine.h' 'analysis/stats.c:.*include/vmxlab/sim.h' \
	'devices/dm/main.c:.*devices includes vm/vm.h'; do
	if [ $rc -ne 0 ] && grep -q "$want" <<<"$out"; then
		echo "ok   planted include found: $want"
	else
		echo "FAIL planted include not reported (exit $rc): $want"
		failures=$((failures + 1))
	fi
done
exit $((failures > 0))
