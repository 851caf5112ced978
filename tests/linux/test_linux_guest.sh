#!/bin/bash
# The Linux guest's build (guests/linux/): the module lists' order is
# checked against the modules' depends= (a list in the wrong order, an
# unknown module or parameter, a module twice or spelled two ways each fail
# with the list, the line and the module named); /init and the workloads are
# valid busybox sh; vmlinux has the symbol table kallsyms-elf recovered
# (readelf reads it without a warning: more than 80,000 symbols, startup_64
# and _text at 0xffffffff81000000 in .text, start_kernel in .init.text,
# jiffies, a per-cpu variable); `make linux` has nothing to do after `make`;
# a second build in another build directory from the same .debs gives
# byte-identical vmlinux and initramfs.cpio.
set -u
B=${BUILD:-build}
root=$(pwd)
tmp=$(mktemp -d /tmp/vmxlab-linux-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
failures=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; failures=$((failures + 1)); }
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory -C "$root" "$@"; }

pkg=$B/linux/pkg
check=guests/linux/check-modules.sh
lists=$(ls guests/linux/workloads/*.modules)
[ -d "$pkg/lib/modules" ] || { echo "FAIL no $pkg/lib/modules: run make first"; exit 1; }

# ---- the lists as they are
if out=$($check "$pkg" $lists 2>"$tmp/err"); then
	n=$(echo "$out" | wc -l)
	want=$(sed 's/#.*//' $lists | awk 'NF { print $1 }' | sort -u | wc -l)
	[ "$n" = "$want" ] && ok "check-modules: the workloads' lists, $n modules" ||
		bad "check-modules printed $n modules, the lists have $want"
else
	bad "check-modules on the lists: $(cat "$tmp/err")"
fi

# expect_fail NAME LIST-TEXT WORDS...: check-modules fails, naming each word.
expect_fail() {
	local name=$1 text=$2
	shift 2
	printf '%s\n' "$text" >"$tmp/$name.modules"
	if $check "$pkg" "$tmp/$name.modules" >/dev/null 2>"$tmp/err"; then
		bad "check-modules accepted $name"
		return
	fi
	for w in "$@"; do
		grep -qF -- "$w" "$tmp/err" || { bad "check-modules on $name: '$w' not in: $(cat "$tmp/err")"; return; }
	done
	ok "check-modules refuses $name: $(cat "$tmp/err")"
}

# The disk list reversed: ata_piix first, before libata.
disk=guests/linux/workloads/disk.modules
expect_fail reversed "$(sed 's/#.*//' $disk | awk 'NF' | tac)" "reversed.modules:1:" "ata_piix" "libata"
# One swap deep inside: t10-pi before crc-t10dif.
expect_fail swapped "$(printf 'scsi_common\nscsi_mod\nlibata\ncrc64\ncrc64-rocksoft\ncrct10dif_common\nt10-pi\ncrc-t10dif\n')" \
	"swapped.modules:7:" "t10-pi" "crc-t10dif"
expect_fail unknown "$(printf 'scsi_common\nno_such_module\n')" "unknown.modules:2:" "no_such_module"
expect_fail param "$(printf 'scsi_common\nscsi_mod\nlibata\nata_piix probe_maks=1\n')" "param.modules:4:" "probe_maks"
expect_fail twice "$(printf 'scsi_common\nscsi_common\n')" "twice.modules:2:" "listed twice"
printf 'scsi_common\nscsi_mod\nlibata\ncrc64\ncrc64_rocksoft\n' >"$tmp/b.modules"
if $check "$pkg" $disk "$tmp/b.modules" >/dev/null 2>"$tmp/err"; then
	bad "check-modules accepted crc64_rocksoft in one list and crc64-rocksoft in another"
else
	grep -q "spelled crc64-rocksoft" "$tmp/err" && ok "check-modules refuses two spellings: $(cat "$tmp/err")" ||
		bad "two spellings: $(cat "$tmp/err")"
fi

# ---- /init and the workloads parse as busybox sh
for s in guests/linux/init guests/linux/workloads/*.sh; do
	if "$pkg/bin/busybox" sh -n "$s" 2>"$tmp/err"; then ok "busybox sh -n $s"; else bad "$s: $(cat "$tmp/err")"; fi
done

# ---- vmlinux's symbol table (kallsyms-elf): what readelf shows of it
vm=$B/linux/vmlinux
if readelf -aW "$vm" >/dev/null 2>"$tmp/err" && [ ! -s "$tmp/err" ]; then
	ok "readelf -a $vm: no warnings"
else
	bad "readelf -a $vm: $(head -3 "$tmp/err")"
fi
readelf -sW "$vm" >"$tmp/syms"
readelf -SW "$vm" | awk '/^ *\[ *[0-9]+\]/ { sub(/^ *\[ */, ""); split($0, f, /\] */); split(f[2], g, " "); print f[1], g[1] }' \
	>"$tmp/sections"
n=$(awk '$1 ~ /^[0-9]+:$/ && $1 != "0:"' "$tmp/syms" | wc -l)
funcs=$(awk '$4 == "FUNC"' "$tmp/syms" | wc -l)
[ "$n" -gt 80000 ] && [ "$funcs" -gt 45000 ] && ok "readelf -s: $n symbols, $funcs functions" ||
	bad "readelf -s: $n symbols, $funcs functions (want more than 80,000 and 45,000)"
# sym NAME ADDRESS-REGEX TYPE BIND SECTION: one line of readelf -s
sym() {
	local ndx
	ndx=$(awk -v s="$5" '$2 == s { print $1 }' "$tmp/sections")
	if awk -v n="$1" -v a="$2" -v t="$3" -v b="$4" -v x="$ndx" \
		'$8 == n && $2 ~ "^" a "$" && $4 == t && $5 == b && $7 == x { f = 1 } END { exit !f }' "$tmp/syms"; then
		ok "readelf -s: $1 $3 $4 in $5 (section $ndx) at 0x$(awk -v n="$1" '$8 == n { print $2; exit }' "$tmp/syms")"
	else
		bad "readelf -s: $1 is not $3 $4 in $5 (section $ndx) at $2: $(awk -v n="$1" '$8 == n' "$tmp/syms" | head -2)"
	fi
}
sym startup_64 ffffffff81000000 FUNC GLOBAL .text
sym _text ffffffff81000000 FUNC GLOBAL .text
sym start_kernel 'ffffffff8[0-9a-f]+' FUNC GLOBAL .init.text
sym jiffies 'ffffffff8[0-9a-f]+' OBJECT GLOBAL .data
sym fixed_percpu_data 0000000000000000 OBJECT GLOBAL .data..percpu

# ---- stamps: nothing to do after make
if mk -q BUILD="$B" linux; then ok "make linux: nothing to do"; else bad "make -q linux: something would be rebuilt"; fi

# ---- a second build elsewhere, from the same .debs: the same bytes
mkdir -p "$tmp/b/linux" "$tmp/b/.stamp"
cp "$B/linux/debs" "$tmp/b/linux/debs"
cp "$B"/.stamp/deps-* "$tmp/b/.stamp/"
if mk BUILD="$tmp/b" linux >"$tmp/make.out" 2>&1; then
	for f in vmlinux initramfs.cpio; do
		if cmp -s "$B/linux/$f" "$tmp/b/linux/$f"; then
			ok "a second build's $f is byte-identical ($(md5sum <"$B/linux/$f" | cut -d' ' -f1))"
		else
			bad "$f differs between $B/linux and a second build"
		fi
	done
else
	bad "the second build: $(cat "$tmp/make.out")"
fi

[ $failures -eq 0 ]
