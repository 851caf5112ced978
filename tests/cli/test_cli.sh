#!/bin/bash
# The vmxlab command: exit codes (0 ok, 2 usage/input) and table output.
set -u
V=${VMXLAB:?set VMXLAB to the vmxlab binary}
failures=0

check() { # check NAME EXPECTED_RC CMD...  (output in $out, stderr in $err)
	local name=$1 want=$2
	shift 2
	out=$("$@" 2>/tmp/vmxlab-cli-err.$$)
	local rc=$?
	err=$(cat /tmp/vmxlab-cli-err.$$)
	if [ "$rc" != "$want" ]; then
		echo "FAIL $name: exit $rc, want $want; stderr: $err"
		failures=$((failures + 1))
		return 1
	fi
	echo "ok   $name"
}

contains() { # contains NAME HAYSTACK NEEDLE
	case $2 in *"$3"*) echo "ok   $1" ;; *) echo "FAIL $1: no '$3' in: $2"; failures=$((failures + 1)) ;; esac
}

check "no arguments is a usage error" 2 "$V"
contains "usage goes to stderr" "$err" "usage: vmxlab COMMAND"
check "unknown option is a usage error" 2 "$V" --frobnicate
contains "unknown option is named" "$err" "--frobnicate"
check "--help succeeds" 0 "$V" --help
contains "--help lists the commands" "$out" "exit-reasons"
check "version" 0 "$V" version
contains "version prints the handler ABI" "$out" "handler ABI"
check "version with an argument" 2 "$V" version extra

check "exit-reasons" 0 "$V" exit-reasons
contains "exit reason 30" "$out" " 30  IO_INSTRUCTION"
contains "exit reason 77" "$out" " 77  TDCALL"
n=$(printf '%s\n' "$out" | wc -l)
[ "$n" -eq 78 ] && echo "ok   78 architectural reasons in 0..81" || { echo "FAIL exit-reasons lists $n"; failures=$((failures + 1)); }

check "vmcs-fields" 0 "$V" vmcs-fields
contains "GUEST_RIP is listed" "$out" "0x681e  GUEST_RIP"
check "vmcs-fields by encoding" 0 "$V" vmcs-fields 0x201b
contains "a high encoding names its 64-bit field" "$out" "EPT_POINTER"
check "vmcs-fields by name" 0 "$V" vmcs-fields vm_exit_reason
contains "exit-info fields are read-only" "$out" "read-only"
check "vmcs-fields unknown encoding" 2 "$V" vmcs-fields 0x1234
check "vmcs-fields --type guest" 0 "$V" vmcs-fields --type guest
case $out in *HOST_RIP*) echo "FAIL --type guest shows a host field"; failures=$((failures + 1)) ;; *) echo "ok   --type filters" ;; esac
check "vmcs-fields bad --type" 2 "$V" vmcs-fields --type nonsense

check "decode io" 0 "$V" decode io 0x210048
contains "0x210048 is IN AL from port 0x21" "$out" "IN AL, 0x21"
check "decode io undefined size" 2 "$V" decode io 0x2
check "decode exit-reason with entry failure" 0 "$V" decode exit-reason 0x80000021
contains "entry failure flagged" "$out" "VM-entry failure"
contains "reason 33 named" "$out" "INVALID_GUEST_STATE"
check "decode insn-info with reserved fields" 0 "$V" decode insn-info 0x38380
contains "a reserved address size is not decoded" "$out" "address size reserved (7)"
contains "a reserved segment is not decoded" "$out" "segment reserved (7)"
check "decode bad value" 2 "$V" decode io zzz
check "decode unknown kind" 2 "$V" decode nothing 1
check "decode needs two args" 2 "$V" decode io

# Files that are not traces are named for what they are, in every command
# that reads a trace; a gzip file with nothing in it is an error (exit 2).
t=$(mktemp -d)
printf '\x1f\x8b' >"$t/two.gz"
printf '\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03' >"$t/ten.gz"
printf 'PERFILE2\x68\x00\x00\x00\x00\x00\x00\x00' >"$t/perf.data"
printf '{"exits": [1, 2, 3], "reasons": {}}\n' >"$t/r.json"
gzip -c "$V" >"$t/elf.gz"
for sub in summary replay debug; do
	check "$sub: a 2-byte gzip is an error" 2 "$V" $sub "$t/two.gz"
	contains "$sub: the 2-byte gzip is named" "$err" "a gzip file with no data in it"
	check "$sub: a 10-byte gzip is an error" 2 "$V" $sub "$t/ten.gz"
	check "$sub: perf.data is named" 2 "$V" $sub "$t/perf.data"
	contains "$sub: perf.data is named" "$err" "this is a perf.data file (perf record); vmxlab reads xentrace files"
done
check "summary: an ELF file gzipped is named" 2 "$V" summary "$t/elf.gz"
contains "summary: an ELF file gzipped is named" "$err" "this is a gzip file holding an ELF file"
check "replay: a JSON file is named" 2 "$V" replay "$t/r.json"
contains "replay: a JSON file is named" "$err" "this is a JSON file"
# A trace that cannot be read on (a record header of the 20th exit's inputs
# overwritten: found only when the reader gets there): debug exits 2, as
# summary and replay do.
"$V" run --quiet tests/scenarios/t-timer-dm.yaml --record "$t/ok.xt" >/dev/null 2>&1
off=$(LC_ALL=C grep -obUaP '\x10\xf8\x01\x40' "$t/ok.xt" | LC_ALL=C sed -n '20s/:.*//p')
cp "$t/ok.xt" "$t/cut.xt"
printf '\x03\x03\x03\x03' | dd of="$t/cut.xt" bs=1 seek="$off" conv=notrunc status=none
for sub in summary replay; do
	"$V" $sub "$t/cut.xt" >/dev/null 2>&1
	echo "$sub: $?" >>"$t/status"
done
printf 'continue\n' | "$V" debug "$t/cut.xt" >/dev/null 2>"$t/derr"
echo "debug: $?" >>"$t/status"
if [ "$(cut -d' ' -f2 "$t/status" | sort -u)" = 2 ]; then
	echo "ok   a corrupt trace: summary, replay and debug all exit 2"
else
	echo "FAIL a corrupt trace: $(tr '\n' ' ' <"$t/status")"
	failures=$((failures + 1))
fi
# `-` is standard input, plain or gzip, for summary and replay (with
# --repeat: every replay reads it again).
gzip -c "$t/ok.xt" >"$t/ok.xt.gz"
"$V" summary "$t/ok.xt" | sed 1d >"$t/s.file"
"$V" summary - <"$t/ok.xt.gz" | sed 1d >"$t/s.stdin"
if [ -s "$t/s.file" ] && cmp -s "$t/s.file" "$t/s.stdin"; then
	echo "ok   summary - of a gzip trace on standard input: the summary of the file"
else
	echo "FAIL summary - of a gzip trace on standard input differs from the file's"
	failures=$((failures + 1))
fi
check "replay - --repeat 2 from standard input" 0 sh -c "\"$V\" replay - --repeat 2 <\"$t/ok.xt\""
contains "replay -: every replay agrees, the run's digest" "$out" "(every replay agrees), the run's"

# One bit of a handler record's data flipped (the data word of the 5th
# IOPORT_WRITE): replay names the exit and the offset where it parts.
off=$(LC_ALL=C grep -obUaP '\x16\x22\x08[\x20\xa0]' "$t/ok.xt" | LC_ALL=C sed -n '5s/:.*//p')
hdr=$(od -An -tu4 -j "$off" -N4 "$t/ok.xt" | tr -d ' ')
data=$((off + 4 + (hdr >= 2147483648 ? 8 : 0) + 4))
byte=$(od -An -tu1 -j "$data" -N1 "$t/ok.xt" | tr -d ' ')
cp "$t/ok.xt" "$t/flip.xt"
printf "\\x$(printf %02x $((byte ^ 1)))" | dd of="$t/flip.xt" bs=1 seek="$data" conv=notrunc status=none
check "replay: a flipped bit of a handler record" 1 "$V" replay "$t/flip.xt"
contains "replay: it names the exit and the offset" "$err" "is not the run's: its handler records part from the trace's at offset $off"
rm -rf "$t"

rm -f /tmp/vmxlab-cli-err.$$
[ $failures -eq 0 ]
