# tests/fuzz/fuzz.mk - the fuzz targets that need the whole machine: the
# scenario parser and the gdb stub (the trace reader's, the handlers' and
# the devices' targets build from a few files and live with their parts).
# Included by the top-level Makefile after sim/sim.mk (BUILD, SIM_C_SRC,
# BOCHS_LIB, LIBS, SDL_CFLAGS and the source lists come from there).
#
#   make fuzz-scenario [FUZZ_SECONDS=N]   tests/fuzz/fuzz_scenario.c
#   make fuzz-gdb [FUZZ_SECONDS=N]        tests/fuzz/fuzz_gdb.c
#
# libFuzzer with ASan + UBSan.  Each corpus starts from its kept inputs
# (tests/fuzz/scenario-seeds, tests/fuzz/gdb-seeds) and grows in
# $(BUILD)/fuzz/corpus-*; a crash leaves its input in $(BUILD)/fuzz/
# (crash-*): fix the bug, then add the input to the kept inputs, which
# `make test` replays (tests/unit/test_scenario_fuzz.c, test_gdb_fuzz.c).
# Bounded: one job, FUZZ_SECONDS seconds.

FUZZ_SECONDS ?= 180
FUZZ_CC      ?= clang

.PHONY: fuzz-scenario fuzz-gdb fuzz-pci

# vmxlab's C code, compiled by clang with coverage and the sanitizers; the
# Bochs CPU and the C++ glue stay as make built them (C++, no coverage).
FUZZ_LIB_SRC   := $(VMX_MODEL_SRC) $(DEV_SRC) $(DM_CLIENT_SRC) $(REPLAY_SRC) $(VM_SRC) $(SIM_C_SRC)
FUZZ_LIB       := $(BUILD)/fuzz/libvmxlab.a
FUZZ_OBJ_FLAGS := -std=c11 -g -O1 -Wall -Wextra -Werror -Iinclude -D_GNU_SOURCE -MMD -MP \
                  -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
FUZZ_LINK      := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all

$(BUILD)/fuzz/obj/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@command -v $(FUZZ_CC) >/dev/null || { echo "vmxlab: the fuzz targets need clang (apt-get install clang)" >&2; exit 1; }
	$(FUZZ_CC) $(FUZZ_OBJ_FLAGS) -c $< -o $@

$(BUILD)/fuzz/obj/display/display.o: FUZZ_OBJ_FLAGS += $(SDL_CFLAGS)

$(FUZZ_LIB): $(patsubst %.c,$(BUILD)/fuzz/obj/%.o,$(FUZZ_LIB_SRC))
	@rm -f $@
	ar rcs $@ $^

FUZZ_MACHINE = $(FUZZ_LIB) $(BUILD)/obj/sim/glue.o $(BUILD)/obj/sim/trampoline.o $(BOCHS_LIB)

$(BUILD)/fuzz/fuzz_scenario: $(BUILD)/fuzz/obj/tests/fuzz/fuzz_scenario.o $(FUZZ_MACHINE)
	$(FUZZ_CC) $(FUZZ_LINK) -o $@ -Wl,--start-group $^ -Wl,--end-group -lstdc++ $(LIBS)

fuzz-scenario: $(BUILD)/fuzz/fuzz_scenario
	@mkdir -p $(BUILD)/fuzz/corpus-scenario
	@cp -n tests/fuzz/scenario-seeds/* $(BUILD)/fuzz/corpus-scenario/ 2>/dev/null || true
	cd $(BUILD)/fuzz && ./fuzz_scenario -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=1024 \
	  -max_len=4096 -dict=$(CURDIR)/tests/fuzz/scenario.dict -print_final_stats=1 corpus-scenario

# The gdb stub serves the t-dbg guest (tests/guests/t-dbg.S) with the
# reference handler build, as `vmxlab debug tests/debug/t-dbg.yaml --gdb`
# does.  Its output goes nowhere (-close_fd_mask=3): libFuzzer's own lines
# and the sanitizers' reports still come out.
$(BUILD)/fuzz/fuzz_gdb: $(BUILD)/fuzz/obj/tests/fuzz/fuzz_gdb.o $(FUZZ_MACHINE)
	$(FUZZ_CC) $(FUZZ_LINK) -o $@ -Wl,--start-group $^ -Wl,--end-group -lstdc++ -lpthread $(LIBS)

fuzz-gdb: $(BUILD)/fuzz/fuzz_gdb $(BUILD)/guests/t-dbg.elf $(BUILD)/libvmxlab-hv.so
	@mkdir -p $(BUILD)/fuzz/corpus-gdb
	@cp -n tests/fuzz/gdb-seeds/* $(BUILD)/fuzz/corpus-gdb/ 2>/dev/null || true
	cd $(BUILD)/fuzz && ./fuzz_gdb -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	  -max_len=8192 -dict=$(CURDIR)/tests/fuzz/gdb.dict -close_fd_mask=3 -print_final_stats=1 corpus-gdb

-include $(shell find $(BUILD)/fuzz/obj -name '*.d' 2>/dev/null)

# The PCI bus as a hostile guest programs it (tests/fuzz/fuzz_pci.c): the
# reference handler's configuration decode and routing (hv/) onto the real
# i440fx and ide models (devices/), compiled whole with clang.
FUZZ_PCI_SRC := tests/fuzz/fuzz_pci.c $(HV_SRC) $(VMX_MODEL_SRC) $(DEV_SRC)

$(BUILD)/fuzz/fuzz_pci: $(FUZZ_PCI_SRC) $(wildcard include/vmxlab/*.h hv/*.h devices/*.h)
	@mkdir -p $(@D)
	@command -v $(FUZZ_CC) >/dev/null || { echo "vmxlab: fuzz-pci needs clang (apt-get install clang)" >&2; exit 1; }
	$(FUZZ_CC) -std=c11 -g -O1 -Wall -Wextra -Werror -Iinclude -D_GNU_SOURCE \
	  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -o $@ $(FUZZ_PCI_SRC) -lcapstone -lz -lm -lpthread

fuzz-pci: $(BUILD)/fuzz/fuzz_pci
	@mkdir -p $(BUILD)/fuzz/corpus-pci
	@cp -n tests/fuzz/pci-seeds/* $(BUILD)/fuzz/corpus-pci/ 2>/dev/null || true
	cd $(BUILD)/fuzz && ./fuzz_pci -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=1024 \
	  -max_len=4096 -print_final_stats=1 corpus-pci
