#!/bin/bash
# layers.sh [ROOT] - every #include between parts of vmxlab goes in a
# direction that docs/ARCHITECTURE.md allows (its table between the
# "layers" markers: a part, then the parts it may include).  A part is a
# top-level folder; include/vmxlab/sim.h is part "sim" (the CPU's contract),
# the rest of include/ part "include".  tests/ and bench/ may include
# anything.  Prints each violation as FILE:LINE and exits 1; 0 when clean.
set -u
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root" || exit 2
doc=docs/ARCHITECTURE.md
[ -f "$doc" ] || { echo "layers: no $doc" >&2; exit 2; }

declare -A allow
while IFS='|' read -r _ part may _; do
	part=${part// /}
	[ -n "$part" ] && [ "$part" != part ] && [ "${part#-}" = "$part" ] || continue
	allow[$part]=",$part,${may// /},"
done < <(sed -n '/<!-- layers -->/,/<!-- \/layers -->/p' "$doc" | grep '^|')
[ ${#allow[@]} -gt 0 ] || { echo "layers: $doc has no layers table" >&2; exit 2; }

part_of() {
	case $1 in
	include/vmxlab/sim.h) echo sim ;;
	include/*) echo include ;;
	*/*) echo "${1%%/*}" ;;
	*) echo . ;;
	esac
}

# The repository path an include names: relative to the including file,
# then to include/ (-Iinclude), then to the top (-I.); empty when it is not
# one of ours (a system or Bochs header).
resolve() {
	local dir=$1 name=$2 c
	for c in "$dir/$name" "include/$name" "$name"; do
		if [ -f "$c" ]; then
			realpath -m --relative-to=. "$c"
			return
		fi
	done
}

bad=0
files=$(find . -path ./build -prune -o -path ./.git -prune -o -path ./tests -prune -o -path ./bench -prune -o \
	\( -name '*.c' -o -name '*.h' -o -name '*.cc' \) -type f -print | sed 's|^\./||' | sort)
for f in $files; do
	p=$(part_of "$f")
	[ "$p" = . ] && continue
	if [ -z "${allow[$p]:-}" ]; then
		echo "$f: part '$p' has no row in $doc's layers table"
		bad=1
		continue
	fi
	while IFS=: read -r line text; do
		name=$(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*["<]\([^">]*\)[">].*/\1/p' <<<"$text")
		[ -n "$name" ] || continue
		case $text in *'<'*) [ "${name#vmxlab/}" != "$name" ] || continue ;; esac
		target=$(resolve "$(dirname "$f")" "$name")
		[ -n "$target" ] || continue
		q=$(part_of "$target")
		case ${allow[$p]} in *",$q,"*) continue ;; esac
		echo "$f:$line: $p includes $target (part $q); $doc lets $p include only: ${allow[$p]//,/ }"
		bad=1
	done < <(grep -n '^[[:space:]]*#[[:space:]]*include' "$f")
done
exit $bad
