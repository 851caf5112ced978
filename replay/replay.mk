# replay/replay.mk - trace tooling rules: Debian's xenalyze for the
# comparison test, the trace benchmark and the trace reader's fuzz target.
# Included by the top-level Makefile (BUILD, CC, CFLAGS, SAN, LIBS, obj,
# aobj, REPLAY_SRC, VMX_MODEL_SRC, DEPS_STAMP come from there).

.PHONY: xenalyze bench-trace fuzz-trace

# ---------------------------------------------------------------- xenalyze
# The binary alone, from Debian 12's xen-utils-common (4.17), without
# installing Xen: apt-get download + dpkg -x (xentrace.md 2).  It needs only
# libc.  Fetched once; `make clean` drops it.
XEN_DIR    := $(BUILD)/xen
XENALYZE   := $(XEN_DIR)/usr/bin/xenalyze

$(XENALYZE):
	@mkdir -p $(XEN_DIR)/deb
	@cd $(XEN_DIR)/deb && rm -f xen-utils-common_*.deb && \
	  { apt-get download xen-utils-common >download.log 2>&1 || \
	    { apt-get update -qq >>download.log 2>&1 && apt-get download xen-utils-common >>download.log 2>&1; }; } || \
	  { echo "vmxlab: cannot download Debian's xen-utils-common for xenalyze (see $(XEN_DIR)/deb/download.log; needs apt and the network)" >&2; exit 1; }
	@dpkg -x $(XEN_DIR)/deb/xen-utils-common_*.deb $(XEN_DIR) || \
	  { echo "vmxlab: cannot unpack $(XEN_DIR)/deb/xen-utils-common_*.deb" >&2; exit 1; }
	@test -x $@ || { echo "vmxlab: xen-utils-common has no usr/bin/xenalyze" >&2; exit 1; }
	@touch $@

xenalyze: $(XENALYZE)

# The comparison test runs it (tests/unit/test_trace_xenalyze.c): `make test`
# fetches it first.  (A prerequisite of the test program would not do: the
# top-level .SECONDARY lets make skip a missing prerequisite of a program
# that is up to date.)
test: $(XENALYZE)

# ---------------------------------------------------------------- bench
# make bench-trace [BENCH_EXITS=N]: a 10-million-exit trace (generated once
# per generator build), then vmxlab summary and xenalyze --summary on it.
BENCH_EXITS ?= 10000000
# The trace code alone (the replay engine needs the device models and the
# machine too).
TRACE_SRC := $(sort $(wildcard replay/trace_*.c analysis/*.c))
BENCH_TRACE := $(BUILD)/bench/trace-$(BENCH_EXITS).xt

$(BUILD)/bench/gen_trace: $(call obj,bench/gen_trace.c $(TRACE_SRC)) $(BUILD)/libvmxmodel.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/bench/bench_trace: $(call obj,bench/bench_trace.c)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^

# `vmxlab summary` on its own (the same cmd_summary and objects), used
# until cli/main.c lists the command.
$(BUILD)/bench/vmxlab-summary: $(call obj,bench/bench_trace_summary.c cli/cmd_summary.c cli/opts.c $(TRACE_SRC)) $(BUILD)/libvmxmodel.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

$(BENCH_TRACE): $(BUILD)/bench/gen_trace
	@echo "vmxlab: generating $(BENCH_EXITS) exits into $@"
	@$< $@.tmp $(BENCH_EXITS) && mv $@.tmp $@

bench-trace: $(BENCH_TRACE) $(BUILD)/bench/bench_trace $(BUILD)/bench/vmxlab-summary $(BUILD)/vmxlab $(XENALYZE)
	@if $(BUILD)/vmxlab help 2>/dev/null | grep -q '^  summary '; then set -- $(BUILD)/vmxlab summary; \
	  else set -- $(BUILD)/bench/vmxlab-summary; fi; \
	  echo "vmxlab: timing '$$*' and xenalyze --summary"; \
	  $(BUILD)/bench/bench_trace $(BENCH_TRACE) $(XENALYZE) "$$@"
	@echo "the same trace gzip-compressed: vmxlab summary of the .gz file beside zcat | vmxlab summary -"
	@test -s $(BENCH_TRACE).gz || gzip -1 -c $(BENCH_TRACE) >$(BENCH_TRACE).gz
	@bash -c 'TIMEFORMAT="  summary FILE.gz:         %R s"; time $(BUILD)/vmxlab summary $(BENCH_TRACE).gz >/dev/null'
	@bash -c 'TIMEFORMAT="  zcat FILE.gz | summary -: %R s"; time (zcat $(BENCH_TRACE).gz | $(BUILD)/vmxlab summary - >/dev/null)'

# ---------------------------------------------------------------- fuzz
# make fuzz-trace [FUZZ_SECONDS=N]: libFuzzer with ASan + UBSan on the trace
# reader and the summary (tests/fuzz/fuzz_trace.c).  The corpus starts from
# tests/fuzz/seeds and tests/fuzz/regress and grows in $(BUILD)/fuzz; a
# crash leaves its input in $(BUILD)/fuzz/ (crash-*): fix the bug, then add
# the input to tests/fuzz/regress/, which `make test` replays
# (tests/unit/test_trace_fuzz.c).  Bounded: one job, FUZZ_SECONDS seconds.
# Inputs up to 4 KiB: the reader's cost grows with windows x pcpus (a cursor
# hops over every other pcpu's window header, a pread each), and a 12 KiB
# input of 1,000 one-record windows takes 0.15 s a read where most inputs
# take under a millisecond; at 16 KiB such inputs took most of the campaign
# (226 exec/s against 1,871; docs/fuzzing.md).
FUZZ_SECONDS ?= 180
FUZZ_CC      ?= clang
FUZZ_SRC     := tests/fuzz/fuzz_trace.c replay/trace_read.c replay/trace_decode.c analysis/summary.c analysis/hist.c

$(BUILD)/fuzz/fuzz_trace: $(FUZZ_SRC) include/vmxlab/trace.h analysis/summary.h
	@mkdir -p $(@D)
	@command -v $(FUZZ_CC) >/dev/null || { echo "vmxlab: fuzz-trace needs clang (apt-get install clang)" >&2; exit 1; }
	$(FUZZ_CC) -std=c11 -g -O1 -Wall -Wextra -Werror -Iinclude -D_GNU_SOURCE \
	  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -o $@ $(FUZZ_SRC) -lz -lm

fuzz-trace: $(BUILD)/fuzz/fuzz_trace
	@mkdir -p $(BUILD)/fuzz/corpus-trace
	@cp -n tests/fuzz/seeds/* tests/fuzz/regress/* $(BUILD)/fuzz/corpus-trace/ 2>/dev/null || true
	cd $(BUILD)/fuzz && ./fuzz_trace -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=1024 \
	  -max_len=4096 -print_final_stats=1 corpus-trace

# ---------------------------------------------------------------- fuzz the handlers
# The reference handler build against hostile exits (tests/fuzz/fuzz_hv.c).
FUZZ_HV_SRC := tests/fuzz/fuzz_hv.c $(HV_SRC) $(VMX_MODEL_SRC)

$(BUILD)/fuzz/fuzz_hv: $(FUZZ_HV_SRC) $(wildcard include/vmxlab/*.h hv/*.h)
	@mkdir -p $(@D)
	@command -v $(FUZZ_CC) >/dev/null || { echo "vmxlab: fuzz-hv needs clang (apt-get install clang)" >&2; exit 1; }
	$(FUZZ_CC) -std=c11 -g -O1 -Wall -Wextra -Werror -Iinclude -D_GNU_SOURCE \
	  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -o $@ $(FUZZ_HV_SRC) -lcapstone -lm

fuzz-hv: $(BUILD)/fuzz/fuzz_hv
	@mkdir -p $(BUILD)/fuzz/corpus-hv
	@cp -n tests/fuzz/regress-hv/* $(BUILD)/fuzz/corpus-hv/ 2>/dev/null || true
	cd $(BUILD)/fuzz && ./fuzz_hv -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=1024 \
	  -max_len=4096 -print_final_stats=1 corpus-hv
