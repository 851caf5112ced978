# devices/vga.mk - make rules of the VGA model's own (included from the
# top-level Makefile after BUILD is set).
#
#   make fuzz-vga [FUZZ_SECONDS=N]
#
# libFuzzer with ASan + UBSan on the VGA model's register and memory
# interface (tests/fuzz/fuzz_vga.c).  The corpus starts from
# tests/fuzz/vga-seeds and grows in $(BUILD)/fuzz/corpus-vga; a crash leaves
# its input in $(BUILD)/fuzz/ (crash-*): fix the bug, then add the input to
# tests/fuzz/vga-seeds/, which `make test` replays (tests/unit/test_vga.c
# includes the harness).  Bounded: one job, FUZZ_SECONDS seconds.
#
# Long scripts: libFuzzer lets inputs grow from the longest seed only
# after some hundred runs without new coverage; from 7-byte seeds at 43
# exec/s it never passed 9 bytes (one operation).  The seeds are scripts
# of 30-80 operations, -len_control=0 lets mutations reach -max_len at
# once, and comparisons are not traced: a render reads video memory a byte
# at a time, and tracing each compare made a run four times slower
# (35 against 140 exec/s, and less coverage in the same time).

FUZZ_SECONDS ?= 180
FUZZ_CC      ?= clang
FUZZ_VGA_SRC := tests/fuzz/fuzz_vga.c devices/vga.c devices/pci.c

.PHONY: fuzz-vga

$(BUILD)/fuzz/fuzz_vga: $(FUZZ_VGA_SRC) include/vmxlab/dev.h include/vmxlab/vga.h devices/vga_font.h devices/vga.mk
	@mkdir -p $(@D)
	@command -v $(FUZZ_CC) >/dev/null || { echo "vmxlab: fuzz-vga needs clang (apt-get install clang)" >&2; exit 1; }
	$(FUZZ_CC) -std=c11 -g -O1 -Wall -Wextra -Werror -Iinclude -D_GNU_SOURCE \
	  -fsanitize=fuzzer,address,undefined -fno-sanitize-coverage=trace-cmp -fno-sanitize-recover=all \
	  -o $@ $(FUZZ_VGA_SRC)

fuzz-vga: $(BUILD)/fuzz/fuzz_vga
	@mkdir -p $(BUILD)/fuzz/corpus-vga
	@cp -n tests/fuzz/vga-seeds/* $(BUILD)/fuzz/corpus-vga/ 2>/dev/null || true
	cd $(BUILD)/fuzz && ./fuzz_vga -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	  -max_len=8192 -len_control=0 -print_final_stats=1 corpus-vga
