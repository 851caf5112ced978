#!/bin/bash
# Linux's own display driver on vmxlab's PCI VGA (docs/scenarios.md, "PCI"
# and "The VGA device"): bochs-drm binds to 00:02.0 and fbcon runs on fb0
# (scenarios/linux-fb.yaml); the VGA pair's frames, drawn through KMS into
# video memory by guests/linux/drawfb.c, print the freestanding vga
# workload's checksum with video memory trapped and shared, the shared run
# takes next to no exits for them, and the two screens are byte-identical
# PNGs.  (The pair's trapped side has its model in vmxlab-dm, where no
# screenshot is taken; the comparison places it in the hypervisor.  The
# dm side is run, cut short, and replayed by test_replay_exact.sh.)
set -u
V=${VMXLAB:?set VMXLAB to the vmxlab binary}
B=${BUILD:-build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; failures=$((failures + 1)); }
[ -s "$B/linux/vmlinux" ] || { echo "FAIL no $B/linux/vmlinux (make linux)"; exit 1; }

"$V" run scenarios/linux-fb.yaml >"$tmp/fb.out" 2>&1
rc=$?
if [ $rc = 0 ] && grep -q '^result: fb0 bochs-drmdrmfb [0-9]*x[0-9]* 32bpp' "$tmp/fb.out" &&
	grep -q 'driver bochs-drm$' "$tmp/fb.out" && ! grep -q 'warning' "$tmp/fb.out"; then
	ok "bochs-drm binds to the PCI VGA and gives fb0 ($(sed -n 's/^result: fb0 //p' "$tmp/fb.out" | head -n 1)), no warning"
else
	bad "linux-fb: exit $rc"; grep -E 'result|warning|expectation' "$tmp/fb.out" | head -n 10
fi

sed -e 's/^  vga: { placement: dm, vram: trap/  vga: { placement: hv, vram: trap/' -e 's/"frames=20"/"frames=3"/' \
	-e 's/frames=20 checksum=0x643f9bc5/frames=3 checksum=CHECK/' scenarios/linux-vga-trap.yaml >"$tmp/trap.yaml"
sed -e 's/"frames=20"/"frames=3"/' -e 's/frames=20 checksum=0x643f9bc5/frames=3 checksum=CHECK/' \
	scenarios/linux-vga-shared.yaml >"$tmp/shared.yaml"
# The freestanding workload's checksum for 3 frames (guests/expected.txt,
# which make's guests-check holds guest-ref to).
ref=$(sed -n 's/^vga 3 frames=3 checksum=\(0x[0-9a-f]*\)$/\1/p' guests/expected.txt)
[ -n "$ref" ] || { echo "FAIL guests/expected.txt has no checksum for 3 vga frames"; exit 1; }
sed -i "s/checksum=CHECK/checksum=$ref/" "$tmp/trap.yaml" "$tmp/shared.yaml"
grep -q 'placement: hv, vram: trap' "$tmp/trap.yaml" || { echo "FAIL could not place the trapped VGA in the hypervisor"; exit 1; }
for m in trap shared; do
	"$V" run "$tmp/$m.yaml" --screenshot "$tmp/$m.png" --json "$tmp/$m.json" >"$tmp/$m.out" 2>&1
	rc=$?
	if [ $rc = 0 ] && grep -q "^result: workload=vga frames=3 checksum=$ref" "$tmp/$m.out" &&
		grep -q '^vga: frames=3 ns=[0-9]* fps=' "$tmp/$m.out" && [ -s "$tmp/$m.png" ] && ! grep -q warning "$tmp/$m.out"; then
		ok "vram $m: drawfb's 3 frames through KMS, checksum $ref as the freestanding guest's"
	else
		bad "vram $m: exit $rc"; grep -E 'result|vga:|warning|expectation|vmxlab' "$tmp/$m.out" | head -n 10
	fi
done
ept() { sed -n 's/^  EPT_VIOLATION  *\([0-9]*\) .*/\1/p' "$1" | head -n 1; }
et=$(ept "$tmp/trap.out")
es=$(ept "$tmp/shared.out")
if [ "${et:-0}" -gt 40000 ] && [ "${es:-999999}" -lt 10000 ]; then
	ok "trapped video memory: $et EPT violations; shared: $es (the mode set and fbcon's console only)"
else
	bad "EPT violations: trapped ${et:-?}, shared ${es:-?}"
fi
cmp -s "$tmp/trap.png" "$tmp/shared.png" && ok "the two screens are byte-identical PNGs" ||
	bad "the trapped and shared screens differ"
[ $failures -eq 0 ]
