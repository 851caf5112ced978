#!/bin/bash
# vmxlab compare checks both scenarios' expectations as vmxlab run does:
# exit 1 when one of either fails, with the failure named by its file.
set -u
V=${VMXLAB:?set VMXLAB to the vmxlab binary}
failures=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; failures=$((failures + 1)); }

sed 's/IO_INSTRUCTION: 7/IO_INSTRUCTION: 8/' tests/scenarios/t-io-hv.yaml >"$tmp/wrong.yaml"
grep -q 'IO_INSTRUCTION: 8' "$tmp/wrong.yaml" || bad "the wrong expectation was not made (t-io-hv.yaml changed?)"

"$V" compare tests/scenarios/t-io-hv.yaml tests/scenarios/t-io-dm.yaml >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 0 ] && ok "compare: both scenarios' expectations hold: exit 0" ||
	{ bad "compare of two good scenarios: exit $rc"; cat "$tmp/out"; }

for order in "A" "B"; do
	if [ $order = A ]; then
		set -- "$tmp/wrong.yaml" tests/scenarios/t-io-dm.yaml
	else
		set -- tests/scenarios/t-io-dm.yaml "$tmp/wrong.yaml"
	fi
	"$V" compare "$@" >"$tmp/out" 2>&1
	rc=$?
	[ $rc -eq 1 ] && ok "compare: an expectation of scenario $order fails: exit 1" ||
		{ bad "compare with scenario $order's expectation failing: exit $rc, want 1"; cat "$tmp/out"; }
	grep -q "^$tmp/wrong.yaml: expectation failed: IO_INSTRUCTION exits is 7, expected 8" "$tmp/out" &&
		ok "compare: the failed expectation is named with its scenario ($order)" ||
		{ bad "compare: no named expectation failure ($order)"; cat "$tmp/out"; }
	grep -q "^predicted run time" "$tmp/out" && ok "compare: the table is still printed ($order)" ||
		bad "compare: no table with a failed expectation ($order)"
done

[ $failures -eq 0 ]
