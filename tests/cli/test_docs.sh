#!/bin/bash
# Every command shown with its output in README.md and docs/ is run and its
# output compared, so no document shows figures the build no longer prints.
#
# A transcript is a fenced block with lines starting with "$ ": each such
# line is a command (run by bash from a scratch directory that sees the
# tree's scenarios/, tests/, traces/, guests/ and build/, with `vmxlab` on
# PATH), and the lines after it, up to the next command, are its output
# (stdout and stderr).  Lines compare token by token (runs of blanks are one
# blank); in the expected text a token `~` stands for any one token (a host
# timing, a port number) and a line `...` for any number of lines.  After
# "<!-- test: host numbers -->" a block's numbers (tokens made of digits and
# . , + - % x e < >, and the line of a "file.c:25") match any number: measured
# times, sample counts and sampled hottest lines keep their real values on
# the page.  Brackets, braces, parentheses and bars are
# tokens of their own, so a column that fills its width splits the same.  Lines
# "(vmxlab) CMD" in a `vmxlab debug` transcript are the commands typed: they
# are given to it with -x.  A transcript that cannot run here (a background
# server, a timing campaign) is preceded by "<!-- no-test: why -->".
#
# Commands in one file share the scratch directory, in order, so a later
# block may use what an earlier one wrote.
set -u
B=${BUILD:-build}
V=$B/vmxlab
root=$(pwd)
tmp=$(mktemp -d /tmp/vmxlab-docs-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
failures=0
ran=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; failures=$((failures + 1)); }

mkdir -p "$tmp/bin"
ln -s "$root/$V" "$tmp/bin/vmxlab"

# Blocks as records: "@ FILE LINE MODE" then the block's lines; skipped
# blocks as "- FILE LINE reason".
extract() {
	awk '
	FNR == 1 { inb = 0; prev = "" }
	/^```/ {
		if (inb) {
			if (has) {
				if (skip != "") print "- " FILENAME " " start " " skip
				else { print "@ " FILENAME " " start " " mode; printf "%s", body }
			}
			inb = 0
		} else {
			inb = 1; has = 0; body = ""; start = FNR
			skip = (prev ~ /^<!-- no-test:/) ? prev : ""
			mode = (prev ~ /^<!-- test: host numbers -->/) ? "numbers" : "exact"
		}
		next
	}
	inb { if ($0 ~ /^\$ /) has = 1; body = body $0 "\n"; next }
	NF { prev = $0 }
	' "$@"
}

# 0 when actual ($2) matches expected ($1) in mode $3: tokens, `~`, `...`.
matches() {
	E=$1 A=$2 MODE=$3 awk '
	# Brackets and bars are tokens of their own: a column that fills its
	# width ("45518|1167997}") splits as one that does not.
	function norm(s) {
		gsub(/[][{}()|]/, " & ", s)
		# A source line, "file.c:25", is a host number too (sampled).
		if (numbers)
			while (match(s, /[A-Za-z]:[0-9]/))
				s = substr(s, 1, RSTART + 1) " " substr(s, RSTART + 2)
		gsub(/[ \t]+/, " ", s); sub(/^ /, "", s); sub(/ $/, "", s); return s
	}
	function number(t) { return t ~ /[0-9]/ && t ~ /^[-+0-9.,%xe<>]+$/ }
	function lineok(e, a,   ne, na, te, ta, k) {
		ne = split(e, te, " "); na = split(a, ta, " ")
		if (ne != na) return 0
		for (k = 1; k <= ne; k++)
			if (te[k] != "~" && te[k] != ta[k] && !(numbers && number(te[k]) && number(ta[k])))
				return 0
		return 1
	}
	BEGIN {
		numbers = ENVIRON["MODE"] == "numbers"
		ne = split(ENVIRON["E"], e, "\n"); na = split(ENVIRON["A"], a, "\n")
		while (ne > 0 && norm(e[ne]) == "") ne--
		while (na > 0 && norm(a[na]) == "") na--
		for (i = 1; i <= ne; i++) e[i] = norm(e[i])
		for (j = 1; j <= na; j++) a[j] = norm(a[j])
		# m[i,j]: e[i..ne] matches a[j..na]
		for (i = ne + 1; i >= 1; i--)
			for (j = na + 1; j >= 1; j--) {
				if (i > ne) m[i, j] = (j > na)
				else if (e[i] == "...") m[i, j] = m[i + 1, j] || (j <= na && m[i, j + 1])
				else m[i, j] = (j <= na && lineok(e[i], a[j]) && m[i + 1, j + 1])
			}
		exit !m[1, 1]
	}'
}

# One command of a transcript, with its expected output.
run_one() {
	local where=$1 cmd=$2 want=$3 dir=$4 mode=$5
	local cmds="" got
	if [[ $cmd == *"vmxlab debug"* ]] && grep -q '^(vmxlab) ' <<<"$want"; then
		sed -n 's/^(vmxlab) //p' <<<"$want" >"$dir/.debug-commands"
		cmd="$cmd -x .debug-commands"
		cmds=" (commands given with -x)"
	fi
	got=$(cd "$dir" && PATH="$tmp/bin:$PATH" timeout 300 bash -c "$cmd" 2>&1)
	ran=$((ran + 1))
	if matches "$want" "$got" "$mode"; then
		ok "$where: $cmd$cmds"
	else
		bad "$where: $cmd"
		diff <(printf '%s\n' "$want") <(printf '%s\n' "$got") | sed 's/^/    /' | head -40
	fi
}

# DOCS="docs/x.md ..." checks only those (while editing them).
read -r -a files <<<"${DOCS:-README.md $(echo docs/*.md) guests/README.md}"
skipped=0
for f in "${files[@]}"; do
	dir=$tmp/work/${f//\//_}
	mkdir -p "$dir"
	for d in scenarios tests traces guests build; do ln -sfn "$root/$d" "$dir/$d"; done
	where="" cmd="" want="" line=0 mode=exact
	while IFS= read -r l; do
		case $l in
		"- "*)
			skipped=$((skipped + 1))
			;;
		"@ "*)
			[ -n "$cmd" ] && run_one "$where" "$cmd" "$want" "$dir" "$cmode"
			read -r _ file line mode <<<"$l"
			cmd="" want=""
			;;
		"$ "*)
			[ -n "$cmd" ] && run_one "$where" "$cmd" "$want" "$dir" "$cmode"
			where="$f:$line"
			cmode=$mode
			cmd=${l#\$ }
			want=""
			;;
		*)
			want+="$l"$'\n'
			;;
		esac
	done < <(extract "$f")
	[ -n "$cmd" ] && run_one "$where" "$cmd" "$want" "$dir" "$cmode"
done

# The test must have found the transcripts it claims to check.
[ $ran -gt 0 ] && ok "$ran commands run from ${#files[@]} documents; $skipped transcripts marked no-test" ||
	bad "no transcript found in ${files[*]}"
[ $failures -eq 0 ]
