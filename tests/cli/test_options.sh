#!/bin/bash
# The command-line conventions of every vmxlab command (man/vmxlab.1,
# CONVENTIONS): -h/--help and --version exit 0 with help lines of at most
# 100 columns; every option the program accepts - as the program itself
# lists it (--list-options, from the table getopt_long parses with) - is in
# the command's section of man/vmxlab.1, in its --help, and in the bash
# completion, and the man page documents no option the command does not
# take; --opt=VALUE and --opt VALUE mean the same; "--" ends the options;
# an unknown option or a missing or bad value is named, exit 2; --json -
# writes JSON, and nothing else, to standard output in every command that
# has --json; every command with a report takes --quiet.
set -u
V=${VMXLAB:?set VMXLAB to the vmxlab binary}
MAN=man/vmxlab.1
COMPLETION=completion/vmxlab
tmp=$(mktemp -d /tmp/vmxlab-options-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
failures=0

ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; failures=$((failures + 1)); }

for f in "$MAN" "$COMPLETION"; do
	[ -f "$f" ] || { echo "FAIL $f is missing"; exit 1; }
done

# A man page section as plain text: roff's \- is -, fonts dropped.
plain() { sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\(em/-/g'; }
man_section() { # man_section HEADER-LINE
	awk -v h="$1" '$0 == h { on = 1; next } on && /^\.S[SH]/ { on = 0 } on' "$MAN" | plain
}
# The option names in a section's .TP tags.
man_tags() {
	awk 'prev == ".TP" { print } { prev = $0 }' | grep -oE -- '(^|[^A-Za-z0-9-])--?[a-z][a-z0-9-]*' |
		sed 's/^[^-]*//' | sort -u
}
has_word() { # has_word TEXT OPTION
	printf '%s\n' "$1" | grep -qE -- "(^|[^A-Za-z0-9-])$2([^A-Za-z0-9-]|\$)"
}
long_lines() { LC_ALL=C.UTF-8 awk 'length($0) > 100 { print FILENAME ": " length($0) ": " $0 }' "$@"; }

commands=$("$V" --list-commands)
[ -n "$commands" ] && ok "vmxlab --list-commands: $(echo $commands)" || bad "vmxlab --list-commands lists nothing"
"$V" --help >"$tmp/top" 2>&1 && ok "vmxlab --help" || bad "vmxlab --help: exit $?"
[ -z "$(long_lines "$tmp/top")" ] && ok "vmxlab --help: lines <= 100 columns" || bad "$(long_lines "$tmp/top")"
version=$("$V" --version) && ok "vmxlab --version: $version" || bad "vmxlab --version: exit $?"
man_version=$(sed -n 's/^\.TH VMXLAB 1 "[^"]*" "\([^"]*\)".*/\1/p' "$MAN")
case $version in
"$man_version "*) ok "the man page is of this version ($man_version)" ;;
*) bad "the man page's .TH says '$man_version', the program '$version'" ;;
esac
if command -v groff >/dev/null; then
	warn=$(groff -man -Tutf8 -ww -z "$MAN" 2>&1)
	[ -z "$warn" ] && ok "groff reads $MAN without a warning" || bad "groff on $MAN: $warn"
fi
bash -n "$COMPLETION" && ok "$COMPLETION is bash" || bad "$COMPLETION does not parse"
common_man=$(man_section '.SH "COMMON OPTIONS"')

# The man page has a section for each command, and no other.
for s in $(grep -oE '^\.SS "vmxlab [a-z-]+"' "$MAN" | sed 's/.* "vmxlab \(.*\)"/\1/'); do
	printf '%s\n' $commands | grep -qx "$s" || bad "$MAN has a section for '$s', which is not a command"
done

for cmd in $commands; do
	# ---- help, version
	"$V" $cmd --help >"$tmp/help" 2>"$tmp/err"
	rc=$?
	[ $rc -eq 0 ] && [ -s "$tmp/help" ] && [ ! -s "$tmp/err" ] && ok "$cmd --help" ||
		bad "$cmd --help: exit $rc, stderr: $(cat "$tmp/err")"
	"$V" $cmd -h >"$tmp/h" 2>&1
	rc=$?
	[ $rc -eq 0 ] && cmp -s "$tmp/help" "$tmp/h" && ok "$cmd -h is --help" || bad "$cmd -h: exit $rc or not --help"
	[ -z "$(long_lines "$tmp/help")" ] && ok "$cmd --help: lines <= 100 columns" ||
		bad "$cmd --help has longer lines: $(long_lines "$tmp/help")"
	grep -q "^usage: vmxlab $cmd" "$tmp/help" && ok "$cmd --help: usage" || bad "$cmd --help has no usage line"
	out=$("$V" $cmd --version 2>&1)
	[ "$out" = "$version" ] && ok "$cmd --version" || bad "$cmd --version: '$out', want '$version'"

	# ---- every option documented: man page section, --help, completion
	"$V" $cmd --list-options >"$tmp/opts" 2>&1 || bad "$cmd --list-options: exit $?"
	grep -q -- '^--help$' "$tmp/opts" || bad "$cmd --list-options does not list --help"
	section=$(man_section ".SS \"vmxlab $cmd\"")
	[ -n "$section" ] || bad "$MAN has no section .SS \"vmxlab $cmd\""
	completion=$(bash -c 'source "$1"; _vmxlab_options "$2"' _ "$COMPLETION" "$cmd")
	undocumented=0
	while read -r o; do
		name=${o%=}
		case $name in
		-h | --help | --version | --list-options) doc=$common_man ;;
		*) doc=$section ;;
		esac
		has_word "$doc" "$name" || { bad "$cmd $name is not in $MAN (section vmxlab $cmd)"; undocumented=1; }
		has_word "$(cat "$tmp/help")" "$name" || { bad "$cmd $name is not in $cmd --help"; undocumented=1; }
		case " $completion " in
		*" $o "*) ;;
		*) bad "$cmd $o is not in $COMPLETION (_vmxlab_options $cmd: $completion)"; undocumented=1 ;;
		esac
	done <"$tmp/opts"
	[ $undocumented -eq 0 ] && ok "$cmd: its $(wc -l <"$tmp/opts") options are in $MAN, --help and $COMPLETION"
	for t in $(printf '%s\n' "$section" | man_tags); do
		grep -qxE -- "$t=?" "$tmp/opts" || bad "$MAN documents $cmd $t, which $cmd does not accept"
	done

	# ---- errors name the option
	"$V" $cmd --no-such-option >"$tmp/out" 2>"$tmp/err"
	rc=$?
	[ $rc -eq 2 ] && grep -q "vmxlab $cmd: unknown option '--no-such-option'" "$tmp/err" &&
		ok "$cmd: an unknown option is named, exit 2" || bad "$cmd --no-such-option: exit $rc: $(cat "$tmp/err")"
	"$V" $cmd -Z >"$tmp/out" 2>"$tmp/err"
	rc=$?
	[ $rc -eq 2 ] && grep -q "unknown option '-Z'" "$tmp/err" && ok "$cmd: an unknown short option is named" ||
		bad "$cmd -Z: exit $rc: $(cat "$tmp/err")"
	for o in $(grep -- '=$' "$tmp/opts"); do
		"$V" $cmd "${o%=}" >"$tmp/out" 2>"$tmp/err"
		rc=$?
		[ $rc -eq 2 ] && grep -q "missing value for '${o%=}'" "$tmp/err" ||
			bad "$cmd ${o%=} without its value: exit $rc: $(cat "$tmp/err")"
	done
	for o in $(grep -v -- '=$' "$tmp/opts" | grep -- '^--'); do
		"$V" $cmd "$o=1" >"$tmp/out" 2>"$tmp/err"
		rc=$?
		[ $rc -eq 2 ] && grep -q "option '$o' takes no value" "$tmp/err" ||
			bad "$cmd $o=1: exit $rc: $(cat "$tmp/err")"
	done
done

# ---------------------------------------------------------------- values
"$V" run --quiet tests/scenarios/t-io-hv.yaml --record "$tmp/io.xt" >"$tmp/out" 2>&1 ||
	{ bad "run t-io-hv.yaml --record: $(cat "$tmp/out")"; exit 1; }

check_err() { # check_err NAME EXPECTED-STDERR-LINE CMD...
	local name=$1 want=$2
	shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	[ $rc -eq 2 ] && grep -qxF -- "$want" "$tmp/err" && ok "$name: $want" ||
		bad "$name: exit $rc, want 2 and '$want' in: $(cat "$tmp/err")"
}
check_err "a bad number" "vmxlab replay: --repeat: 'x' is not a number (1..1000)" "$V" replay "$tmp/io.xt" --repeat x
check_err "a bad number, --opt=VALUE" "vmxlab replay: --repeat: 'x' is not a number (1..1000)" \
	"$V" replay --repeat=x "$tmp/io.xt"
check_err "a number out of range" "vmxlab replay: --repeat: '0' is out of range (1..1000)" \
	"$V" replay "$tmp/io.xt" --repeat 0
check_err "a bad word" "vmxlab profile: --source: 'fast' is not a source: auto, cycles, cpu-clock or timer" \
	"$V" profile "$tmp/io.xt" --source=fast
check_err "a bad frequency" "vmxlab summary: --cpu-hz: 'fast' is not a frequency (e.g. 2.4G, 2400M)" \
	"$V" summary "$tmp/io.xt" --cpu-hz fast
check_err "an extra argument" "vmxlab run: unexpected argument 'extra.yaml'" \
	"$V" run tests/scenarios/t-io-hv.yaml extra.yaml
check_err "an ambiguous abbreviation" "vmxlab diff: option '--f' is ambiguous: --fail-over, --force" \
	"$V" diff a b --f

same() { # same NAME CMD-A :: CMD-B: both exit 0 with the same standard output
	local name=$1 a=() b=()
	shift
	while [ "$1" != :: ]; do a+=("$1"); shift; done
	shift
	b=("$@")
	"${a[@]}" >"$tmp/a" 2>&1 && "${b[@]}" >"$tmp/b" 2>&1 && cmp -s "$tmp/a" "$tmp/b" && [ -s "$tmp/a" ] &&
		ok "$name" || bad "$name: $(diff "$tmp/a" "$tmp/b" | head -5)"
}
same "--opt=VALUE is --opt VALUE (vmcs-fields --type)" \
	"$V" vmcs-fields --type=guest :: "$V" vmcs-fields --type guest
same "--opt=VALUE is --opt VALUE (summary --cpu-hz)" \
	"$V" summary "$tmp/io.xt" --cpu-hz=1G :: "$V" summary --cpu-hz 1G "$tmp/io.xt"
same "an option before or after the argument (summary --tolerant)" \
	"$V" summary --tolerant "$tmp/io.xt" :: "$V" summary "$tmp/io.xt" --tolerant
same "-- ends the options (decode)" "$V" decode -- io 0x210048 :: "$V" decode io 0x210048
check_err "after --, an option is an argument" "vmxlab vmcs-fields: no VMCS field named '--type'" \
	"$V" vmcs-fields -- --type
printf 'next\nnext\n' >"$tmp/cmds"
same "debug -x CMDFILE is --command=CMDFILE" \
	"$V" debug "$tmp/io.xt" -x "$tmp/cmds" :: "$V" debug --command="$tmp/cmds" "$tmp/io.xt"

# ---------------------------------------------------------------- --json -
# The arguments of each command that has --json; a command that gains
# --json without a line here fails the test.
json_args() {
	case $1 in
	run) echo "tests/scenarios/t-io-hv.yaml" ;;
	replay | summary) echo "$tmp/io.xt" ;;
	profile) echo "$tmp/io.xt --source timer" ;;
	diff) echo "$tmp/io.xt $tmp/io.xt" ;;
	esac
}
valid_json() {
	if command -v python3 >/dev/null; then
		python3 -m json.tool "$1" >/dev/null 2>&1
	else
		# Without python3: one object, nothing before or after it.
		[ "$(tr -d ' \n\t\r' <"$1" | cut -c1)" = "{" ] && [ "$(tr -d ' \n\t\r' <"$1" | tail -c1)" = "}" ]
	fi
}
for cmd in $commands; do
	"$V" $cmd --list-options | grep -qx -- '--json=' || continue
	args=$(json_args $cmd)
	[ -n "$args" ] || { bad "$cmd has --json: give it arguments in json_args"; continue; }
	"$V" $cmd $args --json - >"$tmp/json" 2>"$tmp/err"
	rc=$?
	[ $rc -eq 0 ] && [ -s "$tmp/json" ] && valid_json "$tmp/json" &&
		ok "$cmd --json -: JSON alone on standard output" ||
		bad "$cmd $args --json -: exit $rc, stdout: $(head -c 300 "$tmp/json"), stderr: $(cat "$tmp/err")"
	"$V" $cmd $args --json="$tmp/file.json" >/dev/null 2>&1 && valid_json "$tmp/file.json" &&
		ok "$cmd --json=FILE" || bad "$cmd $args --json=FILE: no valid JSON in the file"
done

# ---------------------------------------------------------------- --quiet
for cmd in run compare replay diff profile summary; do
	"$V" $cmd --list-options | grep -qx -- '--quiet' && ok "$cmd takes --quiet" || bad "$cmd does not take --quiet"
done
"$V" run tests/scenarios/t-io-hv.yaml --quiet >"$tmp/q" 2>&1
"$V" run tests/scenarios/t-io-hv.yaml >"$tmp/loud" 2>&1
grep -q "^vmxlab run " "$tmp/q" && [ "$(wc -l <"$tmp/q")" -lt "$(wc -l <"$tmp/loud")" ] &&
	ok "run --quiet: the report without the guest's console" || bad "run --quiet: $(head -3 "$tmp/q")"

[ $failures -eq 0 ]
