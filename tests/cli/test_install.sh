#!/bin/bash
# make install into a DESTDIR tree and what a user does with it
# (docs/building.md "Install", docs/handler-sdk.md): the layout; nothing
# rebuilt; the installed headers stand alone; vmxlab.pc relocated by
# --define-prefix; the installed vmxlab, run from another directory, finds
# its handler build, vmxlab-dm, guest images and scenarios relative to
# itself - also in a moved copy of the tree and through a symlink; the
# handler example, copied from the tree, built against it with
# PKG_CONFIG_PATH alone, replays the shipped trace exactly like the
# reference build, diffs and profiles; make uninstall leaves no file.
#
# It runs the installed, optimized vmxlab (not $VMXLAB): that is the program
# under test here.
set -u
B=${BUILD:-build}
root=$(pwd)
tmp=$(mktemp -d /tmp/vmxlab-install-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/dest
usr=$dest/usr
failures=0

ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; failures=$((failures + 1)); }
# make on its own: not the jobs or variables of the `make test` around us
# (run.sh sets VMXLAB to the sanitized build; the example takes its own).
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u CFLAGS -u LDFLAGS -u VMXLAB make "$@"; }
# What a user's shell would have: no test-only overrides of vmxlab's files.
unset VMXLAB_DM VMXLAB_NETPEER

# ---- install: what, where, and no build step on the way
if mk -C "$root" BUILD="$B" install DESTDIR="$dest" PREFIX=/usr >"$tmp/install.out" 2>&1; then
	ok "make install DESTDIR=... PREFIX=/usr"
else
	bad "make install: $(cat "$tmp/install.out")"
fi
if grep -Eq '(^| )(gcc|g\+\+|cc|ar) ' "$tmp/install.out"; then
	bad "make install compiled something: $(cat "$tmp/install.out")"
else
	ok "make install built nothing (the tree was built)"
fi

missing=""
for f in bin/vmxlab lib/vmxlab/vmxlab-dm lib/vmxlab/vmxlab-netpeer; do
	[ -x "$usr/$f" ] || missing="$missing $f(executable)"
done
for f in lib/vmxlab/libvmxlab-hv.so lib/vmxlab/libvmxmodel.a lib/pkgconfig/vmxlab.pc \
	lib/vmxlab/guests/timer.elf lib/vmxlab/guests/cpu.elf lib/vmxlab/guests/disk.elf \
	lib/vmxlab/guests/vga.elf lib/vmxlab/guests/net.elf \
	lib/vmxlab/linux/vmlinux lib/vmxlab/linux/initramfs.cpio \
	include/vmxlab/hv.h include/vmxlab/dev.h include/vmxlab/pci.h include/vmxlab/vcpu.h include/vmxlab/vmx.h \
	include/vmxlab/trace.h include/vmxlab/hypercall.h \
	share/vmxlab/traces/pic-dm-work300.xt share/vmxlab/traces/xen-style-2k.xt \
	share/vmxlab/hv/hv.c share/vmxlab/hv/hv_priv.h \
	share/doc/vmxlab/examples/handler/Makefile share/doc/vmxlab/examples/handler/port80.c \
	share/man/man1/vmxlab.1 share/bash-completion/completions/vmxlab; do
	[ -f "$usr/$f" ] || missing="$missing $f"
done
for f in scenarios/*.yaml; do
	[ -f "$usr/share/vmxlab/$f" ] || missing="$missing share/vmxlab/$f"
done
[ -z "$missing" ] && ok "the layout under PREFIX" || bad "not installed:$missing"
extra=$(cd "$usr" && find . -name 't-*.elf' -o -name 'sim.h' -o -name 'replay.h' -o -name '*.o')
[ -z "$extra" ] && ok "no test guests, host headers or objects installed" || bad "installed too: $extra"

# Every contract header the installed reference handler's source includes
# is installed (a header a new hv/ file starts to include is found here).
need=$(cat "$usr"/share/vmxlab/hv/*.[ch] | sed -n 's/^#include <vmxlab\/\([a-z_]*\.h\)>.*/\1/p' | sort -u)
absent=
for h in $need; do [ -f "$usr/include/vmxlab/$h" ] || absent="$absent $h"; done
[ -n "$need" ] && [ -z "$absent" ] && ok "the reference handler's headers are installed: $(echo $need)" ||
	bad "the installed hv/ sources include headers not installed:$absent"

# The headers a handler includes need nothing that was not installed.
printf '#include <vmxlab/hv.h>\n#include <vmxlab/trace.h>\n#include <vmxlab/hypercall.h>\n' >"$tmp/h.c"
if cc -std=c11 -Wall -Wextra -Werror -fsyntax-only -I"$usr/include" "$tmp/h.c" 2>"$tmp/h.err"; then
	ok "the installed headers compile on their own"
else
	bad "the installed headers: $(cat "$tmp/h.err")"
fi

# ---- vmxlab.pc: prefix=/usr in the file, the DESTDIR tree with --define-prefix
pc() { PKG_CONFIG_PATH="$usr/lib/pkgconfig" pkg-config --define-prefix "$@"; }
abi=$(sed -n 's/^#define VMXLAB_HV_ABI_VERSION \([0-9]*\).*/\1/p' include/vmxlab/hv.h)
grep -qx 'prefix=/usr' "$usr/lib/pkgconfig/vmxlab.pc" && ok "vmxlab.pc: prefix=/usr" || bad "vmxlab.pc has no prefix=/usr"
got="$(pc --variable=hvdir vmxlab) $(pc --variable=hv_abi_version vmxlab) $(pc --cflags --libs vmxlab)"
want="$usr/lib/vmxlab $abi -I$usr/include -L$usr/lib/vmxlab -lvmxmodel"
[ "$(echo $got)" = "$(echo $want)" ] && ok "pkg-config --define-prefix: $want" || bad "pkg-config: '$got', want '$want'"

# ---- the installed program, from another directory
mkdir -p "$tmp/elsewhere"
cd "$tmp/elsewhere" || exit 1
run_ok() { # NAME BINARY ARGS...: a run that must end with the guest's status 0
	local name=$1
	shift
	if "$@" >"$tmp/run.out" 2>&1 && grep -q 'ended: the guest exited with status 0' "$tmp/run.out"; then
		ok "$name"
	else
		bad "$name: $(cat "$tmp/run.out")"
	fi
}
run_ok "installed vmxlab: a shipped scenario by bare name (vga-shared) from another directory" \
	"$usr/bin/vmxlab" run --quiet vga-shared
grep -q "^vmxlab run $usr/share/vmxlab/scenarios/vga-shared.yaml " "$tmp/run.out" &&
	ok "the bare name is the installed scenario" || bad "bare name resolved elsewhere: $(head -1 "$tmp/run.out")"
run_ok "installed vmxlab: a scenario with devices in vmxlab-dm (pic-dm-cpu)" \
	"$usr/bin/vmxlab" run --quiet "$usr/share/vmxlab/scenarios/pic-dm-cpu.yaml"
cp -a "$usr" "$tmp/moved"
run_ok "a moved copy of the installed tree" "$tmp/moved/bin/vmxlab" run --quiet vga-shared
mkdir -p "$tmp/path"
ln -s "$tmp/moved/bin/vmxlab" "$tmp/path/vmxlab"
run_ok "vmxlab through a symlink on PATH" env PATH="$tmp/path:$PATH" vmxlab run --quiet vga-shared
# Alone, away from its files, it says which file it misses.
mkdir -p "$tmp/lone"
cp "$usr/bin/vmxlab" "$tmp/lone/"
"$tmp/lone/vmxlab" run --quiet "$usr/share/vmxlab/scenarios/vga-shared.yaml" >"$tmp/run.out" 2>&1
rc=$?
[ $rc -ne 0 ] && grep -q "guests/vga.elf is missing" "$tmp/run.out" &&
	ok "a lone copy of the program names the guest image it misses" || bad "lone copy: exit $rc: $(cat "$tmp/run.out")"
cd "$root" || exit 1

# ---- the handler example, from the installed copy, against the DESTDIR tree
cp -r "$usr/share/doc/vmxlab/examples/handler" "$tmp/ex"
if diff -r examples/handler "$tmp/ex" -x handler.so -x ref -x '*.o' >"$tmp/ex.diff"; then
	ok "the installed example is examples/handler"
else
	bad "the installed example differs: $(cat "$tmp/ex.diff")"
fi
exmake() { PKG_CONFIG_PATH="$usr/lib/pkgconfig" mk -C "$tmp/ex" "$@" >"$tmp/ex.out" 2>&1; }
if exmake && [ -f "$tmp/ex/handler.so" ]; then
	ok "examples/handler builds with PKG_CONFIG_PATH=DESTDIR/usr/lib/pkgconfig"
	grep -q 'warning:' "$tmp/ex.out" && bad "the example's build warns: $(grep 'warning:' "$tmp/ex.out")"
	exports=$(nm -D --defined-only "$tmp/ex/handler.so" | awk '{print $3}' | tr '\n' ' ')
	[ "$exports" = "vmxlab_hv " ] && ok "handler.so exports only vmxlab_hv" || bad "handler.so exports: $exports"
else
	bad "the example does not build: $(cat "$tmp/ex.out")"
fi

trace=$usr/share/vmxlab/traces/pic-dm-work300.xt
ref_digest=$("$usr/bin/vmxlab" replay "$trace" 2>&1 | sed -n 's/^digest //p')
if exmake replay && grep -q 'with handler build example-port80' "$tmp/ex.out" &&
	grep -q 'Handler records compared with the run.s: [0-9]*, different: 0' "$tmp/ex.out"; then
	ok "make replay: the example's records are the trace's"
	ex_digest=$(sed -n 's/^digest //p' "$tmp/ex.out")
	[ -n "$ref_digest" ] && [ "$ex_digest" = "$ref_digest" ] &&
		ok "the example's digest is the reference build's ($ref_digest)" ||
		bad "digest: example '$ex_digest', reference '$ref_digest'"
else
	bad "make replay: $(cat "$tmp/ex.out")"
fi
if exmake diff RUNS=3 && grep -q '^  port 0x0080 out  ' "$tmp/ex.out" && grep -q '^total handling time' "$tmp/ex.out"; then
	ok "make diff: the reference build against the example, port 0x80 among the lines"
else
	bad "make diff: $(cat "$tmp/ex.out")"
fi
# 300 replays: some 600 samples, a few dozen of them in the handler build.
if exmake profile REPEAT=300 && grep -q '^  handler build: ./handler.so' "$tmp/ex.out" &&
	awk '$1 == "handler" && $4 > 0 { found = 1 } END { exit !found }' "$tmp/ex.out"; then
	ok "make profile: samples in the example's build"
else
	bad "make profile: $(cat "$tmp/ex.out")"
fi

# ---- uninstall
if mk -C "$root" BUILD="$B" uninstall DESTDIR="$dest" PREFIX=/usr >"$tmp/uninstall.out" 2>&1; then
	left=$(find "$dest" -type f -o -type l; find "$dest" -name '*vmxlab*')
	[ -z "$left" ] && ok "make uninstall leaves no file and no vmxlab directory" || bad "left after uninstall: $left"
else
	bad "make uninstall: $(cat "$tmp/uninstall.out")"
fi

[ $failures -eq 0 ]
