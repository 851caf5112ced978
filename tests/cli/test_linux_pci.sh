#!/bin/bash
# Linux on the PCI bus (docs/scenarios.md, "PCI"): Debian's kernel finds
# the i440fx host and ISA bridges and the PIIX3 IDE function through
# configuration mechanism #1 and ata_piix drives the disk with multiword
# DMA - with the chipset and IDE placed in vmxlab-dm (scenarios/
# linux-disk.yaml: every configuration access an IOREQ_PCI_CFG round trip)
# and in the hypervisor (the same with placement hv).  Each run meets its
# expectations (the functions and the driver as sysfs shows them, the
# transfer mode, the data read back) and the two placements see the same
# PCI functions.  The dm run replays exactly; the hv one is not replayed:
# a DMA device placed hv is replayed without the guest's memory
# (docs/replay.md).
set -u
V=${VMXLAB:?set VMXLAB to the vmxlab binary}
B=${BUILD:-build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; failures=$((failures + 1)); }
[ -s "$B/linux/vmlinux" ] || { echo "FAIL no $B/linux/vmlinux (make linux)"; exit 1; }
field() { sed -n "s/.*\"$1\": *\"\{0,1\}\([0-9a-fA-F]*\)\"\{0,1\}.*/\1/p" "$2" | head -n 1; }

# A smaller disk workload keeps the runs short; the expectations stay.
sed -e 's/^    args: .*/    args: "mib=1 sync_blocks=4"/' scenarios/linux-disk.yaml >"$tmp/dm.yaml"
grep -q 'args: "mib=1 sync_blocks=4"' "$tmp/dm.yaml" || { echo "FAIL could not shorten linux-disk's workload"; exit 1; }
sed -e 's/^  i440fx: { placement: dm }/  i440fx: { placement: hv }/' \
	-e 's/^  ide: { placement: dm,/  ide: { placement: hv,/' -e 's/^name: .*/name: linux-disk-hv/' \
	"$tmp/dm.yaml" >"$tmp/hv.yaml"
grep -q 'i440fx: { placement: hv }' "$tmp/hv.yaml" && grep -q 'ide: { placement: hv,' "$tmp/hv.yaml" ||
	{ echo "FAIL could not place linux-disk's devices in the hypervisor"; exit 1; }

for p in hv dm; do
	"$V" run "$tmp/$p.yaml" --record "$tmp/$p.xt" --json "$tmp/$p.json" >"$tmp/$p.out" 2>&1
	rc=$?
	if [ $rc = 0 ] && grep -q 'driver ata_piix$' "$tmp/$p.out" && grep -q 'transfer mode XFER_MW_DMA_2' "$tmp/$p.out" &&
		grep -q '^result: disk ok' "$tmp/$p.out"; then
		ok "placement $p: ata_piix drives the PIIX3 IDE function with multiword DMA, data read back intact"
	else
		bad "placement $p: exit $rc"; grep -E 'result|expectation|vmxlab' "$tmp/$p.out" | head -n 12
	fi
	grep '^result: pci ' "$tmp/$p.out" >"$tmp/$p.pci"
	[ $p = dm ] || continue
	"$V" replay "$tmp/$p.xt" --json "$tmp/$p.r.json" >"$tmp/$p.r.out" 2>&1
	rc=$?
	if [ $rc = 0 ] && [ "$(field digest "$tmp/$p.r.json")" = "$(field digest "$tmp/$p.json")" ]; then
		ok "placement $p: the trace replays exactly (digest $(field digest "$tmp/$p.json"))"
	else
		bad "placement $p: replay exit $rc"; tail -n 6 "$tmp/$p.r.out"
	fi
done
if [ "$(wc -l <"$tmp/hv.pci")" = 3 ] && cmp -s "$tmp/hv.pci" "$tmp/dm.pci"; then
	ok "both placements show Linux the same three PCI functions"
else
	bad "the PCI functions differ between placements or are not three"; cat "$tmp/hv.pci" "$tmp/dm.pci"
fi
grep -q '^  0x0cfc  pci ' "$tmp/dm.out" && ok "the report names 0xcfc as the PCI configuration port" ||
	bad "the report does not name 0xcfc as pci"
[ $failures -eq 0 ]
