# sim/sim.mk - the Bochs CPU as a static library, the glue around it, the
# simulator tests and the simulator benchmark.  Included by the top-level
# Makefile, which provides BUILD, CACHE, BOCHS_SRC, DEPS_STAMP, CC, CXX,
# CFLAGS, SAN and the obj/aobj helpers.
#
# Only Bochs's five CPU archives and gui/paramtree.cc are compiled (see
# ../shared/reference/bochs-embedding.md); they are merged into one archive,
# $(BOCHS_LIB).  Stamps make a second `make` do nothing.

BOCHS_DIR  := $(BUILD)/bochs
BOCHS_LIB  := $(BUILD)/libbochscpu.a
BOCHS_LOG  := $(BOCHS_DIR)/build.log

# VMX level 2 (EPT, unrestricted guest, VPID, MTF, preemption timer), no GUI,
# no plugins, no X11/SDL.  Handler chaining and trace linking stay on: they
# work with instrumentation (only Bochs's own debugger excludes them).
BOCHS_CONFIGURE := --enable-x86-64 --enable-cpu-level=6 --enable-vmx=2 \
	--enable-avx --enable-evex --enable-all-optimizations \
	--enable-instrumentation=instrument/vmxlab \
	--with-nogui --disable-plugins --enable-logging --disable-docbook \
	--without-x
BOCHS_CXXFLAGS  := -O2 -g1
BOCHS_ARCHIVES  := cpu/libcpu.a cpu/avx/libavx.a cpu/cpudb/libcpudb.a \
	cpu/fpu/libfpu.a cpu/softfloat3e/libsoftfloat.a
BOCHS_INSTR_SRC := sim/instrument/instrument.h sim/instrument/Makefile.in

.PHONY: bochs bench-sim sim-test bochs-reconfigure

# The stamp's name carries a checksum of the configure line and flags, so a
# new line reconfigures and an unchanged one does nothing (make -n included).
BOCHS_CONF_ID := $(firstword $(shell echo '$(BOCHS_CXXFLAGS) $(BOCHS_CONFIGURE)' | cksum))
BOCHS_CONFIGURED := $(BOCHS_SRC)/.configured-$(BOCHS_CONF_ID)
# The top-level .SECONDARY lets make skip a missing prerequisite of an
# existing target; a missing stamp of this configure line must still
# rebuild what depends on Bochs's configuration.
ifeq ($(wildcard $(BOCHS_CONFIGURED)),)
$(BOCHS_LIB) $(BUILD)/obj/sim/glue.o $(BUILD)/asan/sim/glue.o: bochs-reconfigure
endif

# Bochs's own makefiles list instrument/stubs/instrument.h as the dependency,
# not ours: a changed hook header must drop every object, which is done here.
$(BOCHS_CONFIGURED): $(BOCHS_SRC)/.extracted $(BOCHS_INSTR_SRC)
	@echo "vmxlab: configuring Bochs (log: $(BOCHS_LOG))"
	@rm -rf $(BOCHS_SRC)/instrument/vmxlab && mkdir -p $(BOCHS_SRC)/instrument/vmxlab
	@cp $(BOCHS_INSTR_SRC) $(BOCHS_SRC)/instrument/vmxlab/
	@find $(BOCHS_SRC)/cpu $(BOCHS_SRC)/gui -name '*.[oa]' -delete
	@rm -f $(BOCHS_SRC)/.configured-*
	@cd $(BOCHS_SRC) && CXXFLAGS='$(BOCHS_CXXFLAGS)' CFLAGS='$(BOCHS_CXXFLAGS)' \
	  ./configure $(BOCHS_CONFIGURE) >$(abspath $(BOCHS_LOG)) 2>&1 || \
	  { tail -n 20 $(abspath $(BOCHS_LOG)) >&2; echo "vmxlab: Bochs configure failed; see $(BOCHS_LOG)" >&2; exit 1; }
	@touch $@

# The sub-make gets a clean MAKEFLAGS so that variables given to this make
# (CFLAGS=..., -k) do not leak into Bochs's build.
$(BOCHS_LIB): $(BOCHS_CONFIGURED)
	@echo "vmxlab: building the Bochs CPU archives (about a minute; log: $(BOCHS_LOG))"
	@cd $(BOCHS_SRC) && { MAKEFLAGS= $(MAKE) -j2 $(BOCHS_ARCHIVES) && \
	  MAKEFLAGS= $(MAKE) -C gui paramtree.o; } >>$(abspath $(BOCHS_LOG)) 2>&1 || \
	  { grep -m 20 -B2 -A8 'error' $(abspath $(BOCHS_LOG)) >&2; \
	    echo "vmxlab: Bochs build failed; see $(BOCHS_LOG)" >&2; exit 1; }
	@rm -f $@.tmp
	@cd $(BOCHS_SRC) && { echo 'create $(abspath $@).tmp'; \
	  for a in $(BOCHS_ARCHIVES); do echo "addlib $$a"; done; \
	  echo 'addmod gui/paramtree.o'; echo save; echo end; } | ar -M
	@ranlib $@.tmp && mv $@.tmp $@

bochs: $(BOCHS_LIB)

# ---------------------------------------------------------------- the glue
# glue.cc is the only file that sees Bochs headers (as system headers: their
# warnings are Bochs's).  The C files of sim/ use the generic rules.  UBSan's
# vptr check is off for the glue: it would need RTTI of Bochs's GUI classes.
SIM_C_SRC    := sim/machine.c sim/memory.c sim/run.c sim/loader.c
SIM_CXXFLAGS := -std=c++17 -O2 -g $(WARN) -Iinclude -Isim -D_GNU_SOURCE -MMD -MP \
	-isystem $(BOCHS_SRC) -isystem $(BOCHS_SRC)/instrument/vmxlab
SIM_LIBS     := $(BOCHS_LIB) -lstdc++ -lm
SIM_LIB      := $(BUILD)/libvmxsim.a
SIM_ASAN_LIB := $(BUILD)/asan/libvmxsim.a

$(BUILD)/obj/sim/glue.o: sim/glue.cc $(BOCHS_CONFIGURED)
	@mkdir -p $(@D)
	$(CXX) $(SIM_CXXFLAGS) -c $< -o $@

$(BUILD)/asan/sim/glue.o: sim/glue.cc $(BOCHS_CONFIGURED)
	@mkdir -p $(@D)
	$(CXX) $(SIM_CXXFLAGS) -O1 $(SAN) -fno-sanitize=vptr -c $< -o $@

$(BUILD)/obj/sim/trampoline.o $(BUILD)/asan/sim/trampoline.o: sim/trampoline.S sim/layout.h
	@mkdir -p $(@D)
	$(CC) -Isim -c $< -o $@

$(SIM_LIB): $(call obj,$(SIM_C_SRC)) $(BUILD)/obj/sim/glue.o $(BUILD)/obj/sim/trampoline.o
	@rm -f $@
	ar rcs $@ $^

all: $(SIM_LIB)

$(SIM_ASAN_LIB): $(call aobj,$(SIM_C_SRC)) $(BUILD)/asan/sim/glue.o $(BUILD)/asan/sim/trampoline.o
	@rm -f $@
	ar rcs $@ $^

# ---------------------------------------------------------------- tests
# Guest code for the tests is assembled into the test programs (guests.S);
# the loader test also gets an ELF64, an ELF32 and a flat image.
SIM_TESTS := $(BUILD)/tests/sim/test_sim_exits $(BUILD)/tests/sim/test_sim_machine
SIM_GUEST_DIR := $(BUILD)/tests/sim/guests
SIM_GUEST_IMAGES := $(SIM_GUEST_DIR)/image64.elf $(SIM_GUEST_DIR)/image32.elf $(SIM_GUEST_DIR)/image.bin
TEST_PROGRAMS += $(SIM_TESTS)

$(BUILD)/asan/tests/sim/%.o: tests/sim/%.S tests/sim/guest.h
	@mkdir -p $(@D)
	$(CC) -Itests/sim -c $< -o $@

$(BUILD)/asan/tests/sim/%.o: CFLAGS += -DSIM_GUEST_DIR='"$(abspath $(SIM_GUEST_DIR))"'

$(SIM_GUEST_DIR)/image64.elf: tests/sim/image.S
	@mkdir -p $(@D)
	$(CC) -nostdlib -static -no-pie -Wl,-Ttext=0x200000 -Wl,--build-id=none -o $@ $<
$(SIM_GUEST_DIR)/image32.elf: tests/sim/image.S
	@mkdir -p $(@D)
	$(CC) -m32 -nostdlib -static -no-pie -Wl,-Ttext=0x200000 -Wl,--build-id=none -o $@ $<
$(SIM_GUEST_DIR)/image.bin: $(SIM_GUEST_DIR)/image64.elf
	objcopy -O binary $< $@

$(BUILD)/tests/sim/test_sim_exits: $(BUILD)/asan/tests/sim/test_sim_exits.o \
		$(BUILD)/asan/tests/sim/guests.o $(BUILD)/asan/tests/sim/harness.o $(SIM_ASAN_LIB) $(BOCHS_LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN) -o $@ $(filter %.o %vmxsim.a,$^) -lcmocka $(SIM_LIBS)

$(BUILD)/tests/sim/test_sim_machine: $(BUILD)/asan/tests/sim/test_sim_machine.o \
		$(BUILD)/asan/tests/sim/guests.o $(BUILD)/asan/tests/sim/harness.o $(SIM_ASAN_LIB) \
		$(BOCHS_LIB) $(SIM_GUEST_IMAGES)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN) -o $@ $(filter %.o %vmxsim.a,$^) -lcmocka $(SIM_LIBS)

# Only the simulator's tests (make test runs them with everything else).
sim-test: $(SIM_TESTS)
	@for t in $(SIM_TESTS); do $$t || exit 1; done

# ---------------------------------------------------------------- bench
$(BUILD)/bench/bench_sim: $(call obj,bench/bench_sim.c) $(BUILD)/obj/tests/sim/guests.o $(SIM_LIB) $(BOCHS_LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $(filter %.o %vmxsim.a,$^) $(SIM_LIBS)

$(BUILD)/obj/tests/sim/guests.o: tests/sim/guests.S tests/sim/guest.h
	@mkdir -p $(@D)
	$(CC) -Itests/sim -c $< -o $@

bench-sim: $(BUILD)/bench/bench_sim
	@$(BUILD)/bench/bench_sim
