# vmxlab - the one entry point: make, make demo, make test, make bench, make fuzz.
# Everything it needs is installed or fetched by the rules below; see
# docs/building.md for what each dependency is for.

BUILD   ?= build
# The Bochs download cache lives outside the tree and survives `make clean`.
CACHE   ?= $(HOME)/.cache/vmxlab
VERSION := 0.1.0

CC      := gcc
CXX     := g++
WARN    := -Wall -Wextra -Werror
CFLAGS  := -std=c11 -O2 -g $(WARN) -Iinclude -D_GNU_SOURCE -fPIC -MMD -MP \
           -DVMXLAB_VERSION='"$(VERSION)"'
SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDLIBS  :=

# Debian 12 packages.  Build tools first, then the libraries (docs/building.md).
DEB_PACKAGES := build-essential g++ pkg-config curl ca-certificates xz-utils \
                libcapstone-dev libyaml-dev zlib1g-dev libsdl2-dev libcmocka-dev

BOCHS_TARBALL := $(CACHE)/bochs_3.0+dfsg.orig.tar.xz
BOCHS_SRC     := $(BUILD)/bochs/src

.PHONY: all demo test clean deps bochs-source
.DEFAULT_GOAL := all
# Keep intermediate objects so a second `make test` does no work.
.SECONDARY:

all: $(BUILD)/vmxlab $(BUILD)/libvmxlab-hv.so bochs-source

# ---------------------------------------------------------------- dependencies
# One stamp: a later `make` checks nothing again.  Missing packages are
# installed with apt-get (as root); without root the error says what to run.
DEPS_STAMP := $(BUILD)/.stamp/deps
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

$(BOCHS_SRC)/.extracted: $(BOCHS_TARBALL)
	@rm -rf $(BOCHS_SRC) && mkdir -p $(BOCHS_SRC)
	@tar -xJf $< -C $(BOCHS_SRC) --strip-components=1 || \
	  { echo "vmxlab: cannot unpack $<; delete it and run make again" >&2; exit 1; }
	@touch $@

bochs-source: $(BOCHS_SRC)/.extracted

# ---------------------------------------------------------------- sources
VMX_MODEL_SRC := $(sort $(wildcard vmx-model/*.c))
HV_SRC        := $(sort $(wildcard hv/*.c))
DEV_SRC       := $(sort $(wildcard devices/*.c))
CLI_SRC       := $(sort $(wildcard cli/*.c))
CLI_LIB_SRC   := $(filter-out cli/main.c,$(CLI_SRC))
TEST_HELPERS  := $(filter-out tests/unit/test_%.c tests/unit/bad_abi_hv.c,$(sort $(wildcard tests/unit/*.c)))
UNIT_TESTS    := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(sort $(wildcard tests/unit/test_*.c)))
# Parts with build rules of their own append test programs here.
TEST_PROGRAMS := $(UNIT_TESTS)
LIBS          := -lcapstone -ldl

obj  = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
aobj = $(patsubst %.c,$(BUILD)/asan/%.o,$(1))

$(BUILD)/obj/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/asan/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -O1 $(SAN) -c $< -o $@

# A handler build exports only its table (hv.h); everything else is hidden
# so that two builds can live in one process.
$(BUILD)/obj/hv/%.o: CFLAGS += -fvisibility=hidden

$(BUILD)/libvmxmodel.a: $(call obj,$(VMX_MODEL_SRC))
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libvmxlab-hv.so: $(call obj,$(HV_SRC)) $(BUILD)/libvmxmodel.a
	$(CC) -shared -Wl,--exclude-libs,ALL -Wl,-Bsymbolic -o $@ $^ -lcapstone

$(BUILD)/vmxlab: $(call obj,$(CLI_SRC)) $(BUILD)/libvmxmodel.a
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

# Tests link against one sanitized archive of every part; the linker takes
# what each test uses.
$(BUILD)/asan/libvmxlab.a: $(call aobj,$(VMX_MODEL_SRC) $(HV_SRC) $(DEV_SRC) $(CLI_LIB_SRC) $(TEST_HELPERS))
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/asan/vmxlab: $(call aobj,cli/main.c) $(BUILD)/asan/libvmxlab.a
	$(CC) $(CFLAGS) $(SAN) -o $@ $^ $(LIBS)

$(BUILD)/tests/%: $(BUILD)/asan/tests/unit/%.o $(BUILD)/asan/libvmxlab.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN) -o $@ $^ -lcmocka $(LIBS)

# A handler build with the wrong ABI version, for the loader's tests.
$(BUILD)/tests/libbad-abi-hv.so: tests/unit/bad_abi_hv.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -shared -o $@ $<

include $(wildcard sim/sim.mk)

# ---------------------------------------------------------------- entry points
demo: all
	@echo "== vmxlab $(VERSION): the VT-x model (the run path arrives with the simulator)"
	@$(BUILD)/vmxlab version
	@$(BUILD)/vmxlab exit-reasons | head -n 14
	@echo "..."
	@$(BUILD)/vmxlab decode io 0x210048
	@$(BUILD)/vmxlab decode intr-info 0x80000b0e
	@$(BUILD)/vmxlab decode ept 0x782
	@$(BUILD)/vmxlab vmcs-fields --type guest | head -n 8

test: all $(TEST_PROGRAMS) $(BUILD)/asan/vmxlab $(BUILD)/tests/libbad-abi-hv.so
	@BUILD=$(BUILD) tests/run.sh $(TEST_PROGRAMS)

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD)/obj $(BUILD)/asan -name '*.d' 2>/dev/null)
