#!/bin/sh
# check-modules.sh PKGDIR LIST...
#
# PKGDIR is the unpacked kernel package (PKGDIR/lib/modules/RELEASE/kernel/
# ...).  Each LIST is a workload's modules file (guests/linux/workloads/
# NAME.modules): a module a line, "NAME [param=value ...]", '#' comments.
# For every list, in order, each module must
#   - be in the package, as exactly one NAME.ko ('-' and '_' are the same
#     in module names),
#   - have been built for RELEASE (the first word of its vermagic=),
#   - have every module of its depends= (the .modinfo section, as modinfo
#     shows it) above it in the same list,
#   - come once,
#   - know the parameters given to it (a parmtype= line each).
# Prints "NAME PATH" for each module of all the lists, in the order they
# first appear; exits 1 with a message naming the list, the line and the
# module at the first problem.
set -eu
set -f
[ $# -ge 1 ] || { echo "usage: check-modules.sh PKGDIR LIST..." >&2; exit 2; }
pkg=$1
shift

die() { echo "vmxlab: $*" >&2; exit 1; }

release=$(cd "$pkg/lib/modules" 2>/dev/null && ls) || die "no lib/modules in $pkg"
[ "$(echo "$release" | wc -l)" -eq 1 ] || die "more than one kernel release in $pkg/lib/modules: $release"
kdir=$pkg/lib/modules/$release/kernel

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

norm() { echo "$1" | tr - _; }

# The .ko of module $1: exactly one file whose name, '-' and '_' alike, is $1.ko.
find_ko() {
	pat=$(echo "$1" | sed 's/[-_]/[-_]/g')
	found=$(find "$kdir" -name "$pat.ko" | LC_ALL=C sort)
	[ -n "$found" ] || return 1
	[ "$(echo "$found" | wc -l)" -eq 1 ] || die "more than one $1.ko in the package: $found"
	echo "$found"
}

# The .modinfo section of $1 ("key=value" strings) into $tmp/modinfo, a
# line each; field $1 of it.
read_modinfo() {
	objcopy -O binary -j .modinfo "$1" "$tmp/modinfo.bin" 2>/dev/null || die "cannot read the .modinfo of $1 (objcopy)"
	tr '\0' '\n' <"$tmp/modinfo.bin" >"$tmp/modinfo"
}
field() { sed -n "s/^$1=//p" "$tmp/modinfo" | head -n 1; }

: >"$tmp/all"
for list in "$@"; do
	[ -f "$list" ] || die "no module list $list"
	seen=" "
	line=0
	while IFS= read -r text || [ -n "$text" ]; do
		line=$((line + 1))
		text=${text%%#*}
		set -- $text
		[ $# -gt 0 ] || continue
		mod=$1
		where="$list:$line: module $mod"
		ko=$(find_ko "$mod") || die "$where: no $mod.ko in the kernel package (lib/modules/$release/kernel)"
		n=$(norm "$mod")
		case $seen in *" $n "*) die "$where is listed twice" ;; esac
		read_modinfo "$ko"
		magic=$(field vermagic)
		[ "${magic%% *}" = "$release" ] || die "$where was built for '${magic%% *}', not $release"
		shift
		for a in "$@"; do
			p=${a%%=*}
			case $a in *=*) ;; *) die "$where: parameter '$a' is not NAME=VALUE" ;; esac
			grep -q "^parmtype=$p:" "$tmp/modinfo" ||
				die "$where has no parameter '$p' (its parmtype= lines)"
		done
		deps=$(field depends)
		for d in $(echo "$deps" | tr , ' '); do
			case $seen in
			*" $(norm "$d") "*) ;;
			*) die "$where depends on $d (depends=$deps), which is not above it in the list" ;;
			esac
		done
		seen="$seen$n "
		# /init loads /lib/modules/NAME.ko as the list spells it: one spelling.
		other=$(sed -n "s/^$n \([^ ]*\) .*/\1/p" "$tmp/all")
		[ -z "$other" ] || [ "$other" = "$mod" ] || die "$where is spelled $other in another list; spell it the same"
		[ -n "$other" ] || echo "$n $mod $ko" >>"$tmp/all"
	done <"$list"
done
cut -d' ' -f2- "$tmp/all"
