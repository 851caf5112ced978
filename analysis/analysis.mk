# analysis/analysis.mk - rules for the tests of `vmxlab diff` and `vmxlab profile`.  Included by the
# top-level Makefile (BUILD, CC, CFLAGS, HV_SRC, VMX_MODEL_SRC, DEPS_STAMP
# come from there).

# A second handler build that is genuinely slower, for tests/cli/test_diff.sh:
# the reference build's own sources - hv/ and the vmx-model code it links -
# compiled at -O0 instead of -O2, otherwise linked exactly like
# build/libvmxlab-hv.so.  `vmxlab diff` must find it slower.
HV_O0     := $(BUILD)/tests/libvmxlab-hv-O0.so
HV_O0_OBJ := $(patsubst %.c,$(BUILD)/obj/O0/%.o,$(HV_SRC) $(VMX_MODEL_SRC))

# (More specific than $(BUILD)/obj/%.o, so make takes this rule; the .d files
# land under $(BUILD)/obj, where the top-level Makefile finds them.)
$(BUILD)/obj/O0/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -O0 -fvisibility=hidden -c $< -o $@

$(HV_O0): $(HV_O0_OBJ)
	@mkdir -p $(@D)
	$(CC) -shared -Wl,--exclude-libs,ALL -Wl,-Bsymbolic -o $@ $^ -lcapstone

# A build slowed in exactly one handler, for the same test: the reference
# build's own objects, with the dispatch table's CPUID entry wrapped by
# tests/hv-builds/slow_cpuid.c (-Wl,--wrap; that object is linked last, so
# every other function keeps its offset in the .so).  `vmxlab diff` must
# flag CPUID and nothing else.
HV_SLOW_CPUID := $(BUILD)/tests/libvmxlab-hv-slow-cpuid.so

$(BUILD)/obj/tests/hv-builds/%.o: CFLAGS += -fvisibility=hidden

$(HV_SLOW_CPUID): $(call obj,$(HV_SRC)) $(BUILD)/libvmxmodel.a $(BUILD)/obj/tests/hv-builds/slow_cpuid.o
	@mkdir -p $(@D)
	$(CC) -shared -Wl,--exclude-libs,ALL -Wl,-Bsymbolic -Wl,--wrap=handle_cpuid -o $@ $^ -lcapstone

# For tests/cli/test_profile.sh: the same wrapping, with one deliberately
# expensive function (tests/hv-builds/hot_cpuid.c) that `vmxlab profile`
# must find on top.
HV_HOT_CPUID := $(BUILD)/tests/libvmxlab-hv-hot-cpuid.so

# docs/diff.md and docs/profile.md show these builds at work: `make` builds
# them, so a reader can run what the pages show.
all: $(HV_O0) $(HV_HOT_CPUID) $(BUILD)/bench/gen_trace

$(HV_HOT_CPUID): $(call obj,$(HV_SRC)) $(BUILD)/libvmxmodel.a $(BUILD)/obj/tests/hv-builds/hot_cpuid.o
	@mkdir -p $(@D)
	$(CC) -shared -Wl,--exclude-libs,ALL -Wl,-Bsymbolic -Wl,--wrap=handle_cpuid -o $@ $^ -lcapstone

# The testbed's per-exit floor (tests/hv-builds/floor.c): a build that only
# reads the exit reason, steps RIP over an instruction exit and resumes.
# Replaying a trace through it measures what the testbed itself puts in the
# timed window of every exit; `make bench-replay` prints it beside the
# reference build.  It needs nothing but the contracts: no hv/ object, no
# libvmxmodel.a.
HV_FLOOR := $(BUILD)/tests/libvmxlab-hv-floor.so

$(HV_FLOOR): $(BUILD)/obj/tests/hv-builds/floor.o
	@mkdir -p $(@D)
	$(CC) -shared -Wl,-Bsymbolic -o $@ $^

# `make test` builds them first.  (A prerequisite of the test program would not
# do: the top-level .SECONDARY lets make skip a missing prerequisite of a
# program that is up to date.)
test: $(HV_O0) $(HV_SLOW_CPUID) $(HV_HOT_CPUID) $(HV_FLOOR)

# The timing checks of tests/cli/test_diff.sh replay a trace of 20,000
# Xen-style exits of nine reasons written by the benchmark's generator
# (replay/replay.mk).
test: $(BUILD)/bench/gen_trace
