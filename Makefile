# vmxlab - the one entry point: make, make demo, make test, make bench, make fuzz, make install.
# Everything it needs is installed or fetched by the rules below; see
# docs/building.md for what each dependency is for.

BUILD   ?= build
# The Bochs download cache lives outside the tree and survives `make clean`.
CACHE   ?= $(HOME)/.cache/vmxlab
VERSION := 0.1.0

CC      := gcc
CXX     := g++
WARN    := -Wall -Wextra -Werror
# Frame pointers: `vmxlab profile` walks them to find a sample's callers.
CFLAGS  := -std=c11 -O2 -g $(WARN) -Iinclude -D_GNU_SOURCE -fPIC -MMD -MP -fno-omit-frame-pointer \
           -DVMXLAB_VERSION='"$(VERSION)"'
SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDLIBS  :=

# Debian 12 packages.  Build tools first, then the libraries (docs/building.md).
DEB_PACKAGES := build-essential g++ pkg-config curl ca-certificates xz-utils patch \
                libcapstone-dev libyaml-dev zlib1g-dev libsdl2-dev libcmocka-dev \
                xvfb libedit-dev gdb libdw-dev liblzma-dev

BOCHS_TARBALL := $(CACHE)/bochs_3.0+dfsg.orig.tar.xz
BOCHS_SRC     := $(BUILD)/bochs/src

.PHONY: all demo test bench bench-replay bench-profile bench-linux fuzz clean deps bochs-source install uninstall
.DEFAULT_GOAL := all
# Keep intermediate objects so a second `make test` does no work.
.SECONDARY:

all: $(BUILD)/vmxlab $(BUILD)/vmxlab-dm $(BUILD)/libvmxlab-hv.so

# ---------------------------------------------------------------- dependencies
# One stamp: a later `make` checks nothing again.  Missing packages are
# installed with apt-get (as root); without root the error says what to run.
# Named after the package list, so that a list that grows (a pull that adds
# a package) checks again in a build tree that has an older stamp.
DEPS_STAMP := $(BUILD)/.stamp/deps-$(word 1,$(shell echo '$(DEB_PACKAGES)' | md5sum))
$(DEPS_STAMP):
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${db:Status-Status}' $$p 2>/dev/null | grep -qx installed || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "vmxlab: installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then \
	    echo "vmxlab: need root to install:$$missing (run: sudo apt-get install$$missing)" >&2; exit 1; fi; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq$$missing >/dev/null; } || \
	    { echo "vmxlab: apt-get could not install:$$missing; check /etc/apt and the network, then run make again" >&2; exit 1; }; \
	fi
	@mkdir -p $(@D) && touch $@

deps: $(DEPS_STAMP)

$(BOCHS_TARBALL): | $(DEPS_STAMP)
	@sim/fetch-bochs.sh $(CACHE)

# vmxlab's few changes to Bochs, each explained at the top of its file.
BOCHS_PATCHES := $(sort $(wildcard sim/patches/*.patch))

$(BOCHS_SRC)/.extracted: $(BOCHS_TARBALL) $(BOCHS_PATCHES)
	@rm -rf $(BOCHS_SRC) && mkdir -p $(BOCHS_SRC)
	@tar -xJf $< -C $(BOCHS_SRC) --strip-components=1 || \
	  { echo "vmxlab: cannot unpack $<; delete it and run make again" >&2; exit 1; }
	@for p in $(BOCHS_PATCHES); do \
	  patch -s -p1 -d $(BOCHS_SRC) < $$p || { echo "vmxlab: $$p does not apply to Bochs 3.0" >&2; exit 1; }; done
	@touch $@

bochs-source: $(BOCHS_SRC)/.extracted

# ---------------------------------------------------------------- sources
VMX_MODEL_SRC := $(sort $(wildcard vmx-model/*.c))
HV_SRC        := $(sort $(wildcard hv/*.c))
DEV_SRC       := $(sort $(wildcard devices/*.c))
DM_MAIN_SRC   := devices/dm/main.c
DM_CLIENT_SRC := devices/dm/client.c devices/dm/irqlog.c
REPLAY_SRC    := $(sort $(wildcard replay/*.c analysis/*.c))
# The virtual machine, the debugger, the display; cli/ is the command's
# subcommands on top of them (docs/ARCHITECTURE.md).
VM_SRC        := $(sort $(wildcard vm/*.c debug/*.c display/*.c))
CLI_SRC       := $(sort $(wildcard cli/*.c))
CLI_LIB_SRC   := $(filter-out cli/main.c,$(CLI_SRC)) $(VM_SRC)
TEST_HELPERS  := $(filter-out tests/unit/test_%.c tests/unit/bad_abi_hv.c,$(sort $(wildcard tests/unit/*.c)))
UNIT_TESTS    := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(sort $(wildcard tests/unit/test_*.c)))
# Parts with build rules of their own append test programs here.
TEST_PROGRAMS := $(UNIT_TESTS)
LIBS          := -lcapstone -lyaml -lz -lm -ldl -ledit -ldw -lelf
# SDL2 for `display: sdl` (display/display.c only; the window test runs
# under Xvfb).  Asked of pkg-config by the recipes, when they run: by then
# the dependency step has installed libsdl2-dev.
SDL_CFLAGS    = $$(pkg-config --cflags sdl2)
LIBS          += $$(pkg-config --libs sdl2)

obj  = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
aobj = $(patsubst %.c,$(BUILD)/asan/%.o,$(1))

# Parts with rules of their own: the Bochs build and the simulator (SIM_LIB,
# SIM_ASAN_LIB, BOCHS_LIB, SIM_LIBS), traces, guests.
include sim/sim.mk
include $(wildcard replay/replay.mk)
include $(wildcard analysis/analysis.mk)
include $(wildcard guests/guests.mk)
include $(wildcard guests/linux/linux.mk)
include $(wildcard devices/devices.mk)
include $(wildcard devices/ne2k.mk)
include $(wildcard devices/vga.mk)
include $(wildcard tests/fuzz/fuzz.mk)

# The workloads are known only now that guests.mk is read.
all: $(GUEST_IMAGES)

$(BUILD)/obj/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/asan/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -O1 $(SAN) -c $< -o $@

# A handler build exports only its table (hv.h); everything else is hidden
# so that two builds can live in one process.
$(BUILD)/obj/hv/%.o: CFLAGS += -fvisibility=hidden
$(BUILD)/obj/display/display.o $(BUILD)/asan/display/display.o: CFLAGS += $(SDL_CFLAGS)

$(BUILD)/libvmxmodel.a: $(call obj,$(VMX_MODEL_SRC))
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libvmxlab-hv.so: $(call obj,$(HV_SRC)) $(BUILD)/libvmxmodel.a
	$(CC) -shared -Wl,--exclude-libs,ALL -Wl,-Bsymbolic -o $@ $^ -lcapstone

$(BUILD)/vmxlab: $(call obj,$(CLI_SRC) $(VM_SRC) $(REPLAY_SRC) $(DEV_SRC) $(DM_CLIENT_SRC)) $(BUILD)/libvmxmodel.a \
		$(SIM_LIB) $(BOCHS_LIB)
	$(CC) $(CFLAGS) -o $@ -Wl,--start-group $(filter-out $(BOCHS_LIB),$^) -Wl,--end-group $(SIM_LIBS) $(LIBS)

# The device-model process: the device models and the protocol server.
PROF_SRC      := analysis/profile.c analysis/profile_sym.c
$(BUILD)/vmxlab-dm: $(call obj,$(DM_MAIN_SRC) devices/dm/irqlog.c $(DEV_SRC) $(PROF_SRC))
	$(CC) $(CFLAGS) -o $@ $^ -lz -ldw -lelf

$(BUILD)/asan/vmxlab-dm: $(call aobj,$(DM_MAIN_SRC)) $(BUILD)/asan/libvmxlab.a
	$(CC) $(CFLAGS) $(SAN) -o $@ $^ $(LIBS)

# Tests link against one sanitized archive of every part; the linker takes
# what each test uses.
$(BUILD)/asan/libvmxlab.a: $(call aobj,$(VMX_MODEL_SRC) $(HV_SRC) $(DEV_SRC) $(DM_CLIENT_SRC) $(REPLAY_SRC) $(CLI_LIB_SRC) $(TEST_HELPERS))
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/asan/vmxlab: $(call aobj,cli/main.c) $(BUILD)/asan/libvmxlab.a $(SIM_ASAN_LIB) $(BOCHS_LIB)
	$(CC) $(CFLAGS) $(SAN) -o $@ -Wl,--start-group $(filter-out $(BOCHS_LIB),$^) -Wl,--end-group $(SIM_LIBS) $(LIBS)

$(BUILD)/tests/%: $(BUILD)/asan/tests/unit/%.o $(BUILD)/asan/libvmxlab.a $(SIM_ASAN_LIB) $(BOCHS_LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN) -o $@ -Wl,--start-group $(filter-out $(BOCHS_LIB),$^) -Wl,--end-group -lcmocka $(SIM_LIBS) $(LIBS)

# Small guests for the integration tests (tests/guests/*.S), run by name
# (`workload: t-io`) like the workloads of guests/.
TEST_GUESTS := $(patsubst tests/guests/%.S,$(BUILD)/guests/%.elf,$(sort $(wildcard tests/guests/*.S)))
all: $(BUILD)/guests/t-dbg.elf   # docs/debugger.md's example session
$(BUILD)/guests/t-%.elf: tests/guests/t-%.S
	@mkdir -p $(@D)
	$(CC) -nostdlib -static -no-pie -Wl,-Ttext=0x100000 -Wl,--build-id=none -o $@ $<

# A handler build with the wrong ABI version, for the loader's tests.
$(BUILD)/tests/libbad-abi-hv.so: tests/unit/bad_abi_hv.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -shared -o $@ $<

# ---------------------------------------------------------------- entry points
demo: all
	@echo "== vmxlab run scenarios/pic-dm.yaml: a Linux-2.6-style timer guest, the PIC in the device-model process"
	@$(BUILD)/vmxlab run --quiet scenarios/pic-dm.yaml
	@echo
	@echo "== vmxlab compare: the seed's first optimization, the PIC moved into the hypervisor"
	@$(BUILD)/vmxlab compare scenarios/pic-dm.yaml scenarios/pic-hv.yaml
	@echo
	@echo "== vmxlab run scenarios/linux-boot.yaml: Debian 12's own kernel boots to /init and ends"
	@$(BUILD)/vmxlab run --quiet scenarios/linux-boot.yaml

test: all guests-check $(TEST_PROGRAMS) $(TEST_GUESTS) $(BUILD)/asan/vmxlab $(BUILD)/asan/vmxlab-dm $(BUILD)/tests/libbad-abi-hv.so
	@BUILD=$(BUILD) tests/run.sh $(TEST_PROGRAMS)

# Benchmarks print their figures; they never fail on a number.
$(BUILD)/bench/bench_ioreq: $(call obj,bench/bench_ioreq.c $(HV_SRC) $(DEV_SRC) $(DM_CLIENT_SRC)) $(BUILD)/libvmxmodel.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

bench: all $(BUILD)/bench/bench_ioreq bench-sim bench-replay bench-trace bench-profile bench-linux
	@$(BUILD)/bench/bench_ioreq $(BUILD)/vmxlab-dm

# Debian's kernel booted RUNS times: instructions, exits, wall time, MIPS.
bench-linux: all
	@bash bench/bench_linux.sh $(BUILD)/vmxlab $(BENCH_RUNS)

# Replay speed through the reference handlers, on a generated trace of a
# million Xen-style exits (I/O, CPUID, MSR, CR, EPT MMIO, interrupts ...).
REPLAY_BENCH_TRACE := $(BUILD)/bench/replay-1m.xt
$(REPLAY_BENCH_TRACE): $(BUILD)/bench/gen_trace
	@$< $@.tmp 1000000 && mv $@.tmp $@

# Then the handle_exit figures per reason, the reference build's beside the
# floor build's (tests/hv-builds/floor.c: the testbed's own cost of an exit),
# best of BENCH_RUNS replays each (bench/bench_handler.sh).
BENCH_RUNS ?= 3
bench-replay: all $(REPLAY_BENCH_TRACE) $(HV_FLOOR)
	@echo "replay of 1,000,000 exits through $(BUILD)/libvmxlab-hv.so:"
	@$(BUILD)/vmxlab replay $(REPLAY_BENCH_TRACE) --quiet 2>/dev/null | grep 'exits/s'
	@bash bench/bench_handler.sh $(BUILD)/vmxlab $(REPLAY_BENCH_TRACE) $(BUILD)/libvmxlab-hv.so $(HV_FLOOR) $(BENCH_RUNS)
	@echo "the PIC pair: the 8259A placed hv, then dm (a request to vmxlab-dm is answered from the trace:"
	@echo "the handler's own time, without the round trip the run measured)"
	@for p in hv dm; do \
	  $(BUILD)/vmxlab run --quiet scenarios/pic-$$p.yaml --record $(BUILD)/bench/pic-$$p.xt >/dev/null && \
	  bash bench/bench_handler.sh $(BUILD)/vmxlab $(BUILD)/bench/pic-$$p.xt $(BUILD)/libvmxlab-hv.so $(HV_FLOOR) $(BENCH_RUNS) || exit 1; \
	done

# What sampling costs a replay: the same 1,000,000 exits replayed plain and
# under `vmxlab profile` at 1, 4 and 10 kHz (docs/profile.md).
bench-profile: all $(REPLAY_BENCH_TRACE)
	@bash bench/bench_profile.sh $(BUILD) $(REPLAY_BENCH_TRACE)

# Long fuzz campaigns, FUZZ_SECONDS each (default 180), one after the other:
# the trace reader, the handler build, the guest-facing device models, the
# scenario parser and the gdb stub (docs/fuzzing.md).
# A loop, not prerequisites: `make -j2 fuzz` must not run two campaigns at once.
FUZZ_TARGETS := trace hv ide ne2k vga rtc scenario gdb pci
fuzz:
	@for t in $(FUZZ_TARGETS); do $(MAKE) --no-print-directory fuzz-$$t || exit 1; done

# ---------------------------------------------------------------- install
# make install [PREFIX=/usr/local] [DESTDIR=DIR]; make uninstall, the same
# variables (docs/building.md, "Install").  Nothing is rebuilt for it: the
# programs find their files relative to themselves (vm/paths.c), so the
# layout under PREFIX is fixed and only PREFIX and DESTDIR are variables.
PREFIX  ?= /usr/local
DESTDIR ?=
# The headers a handler build includes (hv.h and what it and the reference
# handler include); sim.h, replay.h and the others are the host's own.
SDK_HEADERS := $(addprefix include/vmxlab/,hv.h dev.h pci.h vcpu.h vmx.h trace.h hypercall.h)
# SOURCE:DESTINATION pairs, the destination under PREFIX.
inst = $(foreach f,$(1),$(f):$(2)$(notdir $(f)))
INSTALL_PROGRAMS := $(BUILD)/vmxlab:bin/vmxlab \
                    $(call inst,$(BUILD)/vmxlab-dm $(BUILD)/vmxlab-netpeer,lib/vmxlab/)
INSTALL_DATA := $(call inst,$(BUILD)/libvmxlab-hv.so $(BUILD)/libvmxmodel.a,lib/vmxlab/) \
                $(call inst,$(GUEST_IMAGES),lib/vmxlab/guests/) \
                $(call inst,$(LINUX_IMAGES),lib/vmxlab/linux/) \
                $(call inst,$(SDK_HEADERS),include/vmxlab/) \
                $(call inst,$(sort $(wildcard scenarios/*.yaml)),share/vmxlab/scenarios/) \
                $(call inst,$(sort $(wildcard traces/*.xt)) traces/README.md,share/vmxlab/traces/) \
                $(call inst,$(sort $(wildcard hv/*.c hv/*.h)),share/vmxlab/hv/) \
                $(call inst,$(sort $(wildcard examples/handler/*.c examples/handler/*.h)) \
                  examples/handler/Makefile examples/handler/README.md,share/doc/vmxlab/examples/handler/) \
                man/vmxlab.1:share/man/man1/vmxlab.1 completion/vmxlab:share/bash-completion/completions/vmxlab
# Directories that hold only vmxlab's files: uninstall removes them once empty.
INSTALL_DIRS := lib/vmxlab/guests lib/vmxlab/linux lib/vmxlab include/vmxlab share/vmxlab/scenarios share/vmxlab/traces \
                share/vmxlab/hv share/vmxlab share/doc/vmxlab/examples/handler share/doc/vmxlab/examples \
                share/doc/vmxlab
HV_ABI_VERSION = $$(sed -n 's/^\#define VMXLAB_HV_ABI_VERSION \([0-9]*\).*/\1/p' include/vmxlab/hv.h)

install: all
	@set -e; d='$(DESTDIR)$(PREFIX)'; \
	for p in $(INSTALL_PROGRAMS); do install -D -m 755 "$${p%%:*}" "$$d/$${p#*:}"; done; \
	for p in $(INSTALL_DATA); do install -D -m 644 "$${p%%:*}" "$$d/$${p#*:}"; done; \
	abi=$(HV_ABI_VERSION); [ -n "$$abi" ] || { echo "vmxlab: no VMXLAB_HV_ABI_VERSION in include/vmxlab/hv.h" >&2; exit 1; }; \
	install -d "$$d/lib/pkgconfig"; \
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' -e "s|@HV_ABI_VERSION@|$$abi|" \
	  vmxlab.pc.in >"$$d/lib/pkgconfig/vmxlab.pc"; \
	echo "vmxlab: installed in $$d (handler ABI version $$abi)"

uninstall:
	@d='$(DESTDIR)$(PREFIX)'; \
	for p in $(INSTALL_PROGRAMS) $(INSTALL_DATA) :lib/pkgconfig/vmxlab.pc; do \
	  rm -f "$$d/$${p#*:}"; done; \
	for dir in $(INSTALL_DIRS); do [ ! -d "$$d/$$dir" ] || rmdir --ignore-fail-on-non-empty "$$d/$$dir"; done; \
	echo "vmxlab: uninstalled from $$d"

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD)/obj $(BUILD)/asan -name '*.d' 2>/dev/null)
