#!/bin/bash
# display: sdl under Xvfb: a real SDL2 window on a virtual X server shows the
# VGA screen; what the window shows (read back from its renderer at the end
# of the run, VMXLAB_DISPLAY_SNAPSHOT) is byte-identical, as a PNG, to the
# model's own screenshot; the title bar carries the exit rate while the run
# goes.  Skipped (with a message) when Xvfb is not installed.
set -u
V=${VMXLAB:?set VMXLAB to the vmxlab binary}
B=${BUILD:-build}

# Without an X server the run stops at start with the reason (SDL would
# otherwise fall back to its offscreen driver: a window nobody sees).
nox=$(mktemp -d)
printf 'name: nox\nguest: { workload: vga }\ndevices:\n  pic: {}\n  pit: {}\n  vga: { placement: hv }\ndisplay: sdl\n' >"$nox/nox.yaml"
env -u DISPLAY -u WAYLAND_DISPLAY -u SDL_VIDEODRIVER ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	"$V" run --quiet "$nox/nox.yaml" >"$nox/out" 2>&1
rc=$?
if [ $rc -eq 2 ] && grep -q "display: no window system (DISPLAY is not set" "$nox/out"; then
	echo "ok   display: sdl without an X server fails at start, exit 2"
else
	echo "FAIL display: sdl without an X server: exit $rc"; cat "$nox/out"; rm -rf "$nox"; exit 1
fi
rm -rf "$nox"

if ! command -v Xvfb >/dev/null; then
	echo "SKIP: Xvfb is not installed (Debian package xvfb, in the Makefile's DEB_PACKAGES)"
	exit 0
fi
tmp=$(mktemp -d)
failures=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; failures=$((failures + 1)); }

# A free display number, the server, and its end with the test.
for n in $(seq 90 120); do [ -e "/tmp/.X11-unix/X$n" ] || [ -e "/tmp/.X$n-lock" ] || break; done
Xvfb ":$n" -screen 0 1024x768x24 -nolisten tcp >"$tmp/xvfb.log" 2>&1 &
xpid=$!
trap 'kill $xpid 2>/dev/null; wait $xpid 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 50); do [ -e "/tmp/.X11-unix/X$n" ] && break; sleep 0.1; done
# The X11 driver only, so the window is a real X window (SDL would fall
# back to others).  Leak checking is off for the sanitized vmxlab here: the
# X, D-Bus and SDL libraries keep allocations to the end of the process.
export DISPLAY=":$n" SDL_VIDEODRIVER=x11 SDL_AUDIODRIVER=dummy
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

want=$("$B/guests/guest-ref" vga 3)
sed -e '/^expect:/,$d' -e 's|args: ".*"|args: "frames=3"|' scenarios/vga-shared.yaml >"$tmp/shared.yaml"
printf 'display: sdl\nexpect:\n  output: ["%s"]\n' "$want" >>"$tmp/shared.yaml"
if VMXLAB_DISPLAY_SNAPSHOT="$tmp/window.png" "$V" run --quiet "$tmp/shared.yaml" --screenshot "$tmp/fb.png" >"$tmp/out" 2>&1 &&
	[ -s "$tmp/window.png" ] && cmp -s "$tmp/window.png" "$tmp/fb.png"; then
	ok "the SDL window shows the guest screen pixel for pixel (640x480)"
else
	bad "window snapshot"; cat "$tmp/out"
fi

# The title bar while a (slower) trapped run draws.
sed -e '/^expect:/,$d' -e 's|args: ".*"|args: "frames=3"|' \
    -e 's|vga: { placement: dm, vram: trap|vga: { placement: hv, vram: trap|' scenarios/vga-trap.yaml >"$tmp/trap.yaml"
printf 'display: sdl\n' >>"$tmp/trap.yaml"
"$V" run --quiet "$tmp/trap.yaml" >"$tmp/trap.out" 2>&1 &
rpid=$!
title=""
for _ in $(seq 100); do
	title=$(xwininfo -root -tree 2>/dev/null | grep -o '"vmxlab vga-trap - [^"]*exits/s[^"]*"' | head -1)
	[ -n "$title" ] && break
	sleep 0.1
done
wait $rpid
[ -n "$title" ] && ok "window title: $title" || bad "no window titled with the exit rate"
grep -q "result: workload=vga $want" "$tmp/trap.out" && ok "trapped run with a window: $want" || { bad "trapped run"; cat "$tmp/trap.out"; }

# Without an X server the run stops at start with the reason.
if DISPLAY=:199 "$V" run --quiet "$tmp/shared.yaml" >"$tmp/nox.out" 2>&1; then
	bad "display: sdl without an X server was accepted"
else
	grep -q "display" "$tmp/nox.out" && ok "no X server: $(head -1 "$tmp/nox.out")" || { bad "no-X error"; cat "$tmp/nox.out"; }
fi

echo "$failures failures"
[ $failures -eq 0 ]
