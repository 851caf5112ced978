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
check "decode bad value" 2 "$V" decode io zzz
check "decode unknown kind" 2 "$V" decode nothing 1
check "decode needs two args" 2 "$V" decode io

rm -f /tmp/vmxlab-cli-err.$$
[ $failures -eq 0 ]
