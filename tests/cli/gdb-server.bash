# Sourced by the gdb tests (test_debug_gdb.sh, test_linux_gdb.sh): start
# `vmxlab debug TARGET --gdb 0` in the background and wait until it says
# which port it listens on.  Needs V and tmp; sets pid and port, or prints
# FAIL and exits.
gdb_server() { # gdb_server TARGET
	"$V" debug "$1" --gdb 0 >"$tmp/vmxlab.out" 2>"$tmp/vmxlab.err" &
	pid=$!
	port=
	for _ in $(seq 300); do
		port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/vmxlab.err")
		[ -n "$port" ] && break
		kill -0 $pid 2>/dev/null || break
		sleep 0.1
	done
	if [ -z "$port" ]; then
		echo "FAIL vmxlab debug --gdb did not listen"; cat "$tmp/vmxlab.err"; exit 1
	fi
	ok "listening on 127.0.0.1:$port"
}
