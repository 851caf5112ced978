# devices/devices.mk - make rules of the device models' own (include it from
# the top-level Makefile after BUILD is set, like guests/guests.mk).
#
#   make fuzz-ide [FUZZ_SECONDS=N]
#   make fuzz-rtc [FUZZ_SECONDS=N]
#
# libFuzzer with ASan + UBSan on the IDE model's guest-facing interface
# (tests/fuzz/fuzz_ide.c: port scripts, PRD tables in guest memory, time,
# save/restore of a changed image).  The corpus starts from
# tests/fuzz/ide-seeds and grows in $(BUILD)/fuzz/corpus-ide; a crash leaves
# its input in $(BUILD)/fuzz/ (crash-*): fix the bug, then add the input to
# tests/fuzz/ide-seeds/, which `make test` replays (tests/unit/test_ide.c
# includes the harness).  Bounded: one job, FUZZ_SECONDS seconds.

FUZZ_SECONDS ?= 180
FUZZ_CC      ?= clang
FUZZ_IDE_SRC := tests/fuzz/fuzz_ide.c devices/ide.c devices/ide_ata.c devices/ide_dma.c \
                devices/ide_backend.c devices/pci.c

.PHONY: fuzz-ide fuzz-rtc

$(BUILD)/fuzz/fuzz_ide: $(FUZZ_IDE_SRC) devices/ide_priv.h include/vmxlab/dev.h
	@mkdir -p $(@D)
	@command -v $(FUZZ_CC) >/dev/null || { echo "vmxlab: fuzz-ide needs clang (apt-get install clang)" >&2; exit 1; }
	$(FUZZ_CC) -std=c11 -g -O1 -Wall -Wextra -Werror -Iinclude -D_GNU_SOURCE \
	  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -o $@ $(FUZZ_IDE_SRC)

fuzz-ide: $(BUILD)/fuzz/fuzz_ide
	@mkdir -p $(BUILD)/fuzz/corpus-ide
	@cp -n tests/fuzz/ide-seeds/* $(BUILD)/fuzz/corpus-ide/ 2>/dev/null || true
	cd $(BUILD)/fuzz && ./fuzz_ide -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	  -max_len=4096 -print_final_stats=1 corpus-ide

# The CMOS clock (tests/fuzz/fuzz_rtc.c: index/data scripts, time steps from
# nanoseconds to days, resets, save/restore, Linux's read of the time).  The
# corpus starts from tests/fuzz/rtc-seeds and grows in
# $(BUILD)/fuzz/corpus-rtc; a crash's input goes into tests/fuzz/rtc-seeds/
# once fixed, which `make test` replays (tests/unit/test_rtc.c includes the
# harness).
FUZZ_RTC_SRC := tests/fuzz/fuzz_rtc.c devices/rtc.c

$(BUILD)/fuzz/fuzz_rtc: $(FUZZ_RTC_SRC) include/vmxlab/dev.h devices/devices.mk
	@mkdir -p $(@D)
	@command -v $(FUZZ_CC) >/dev/null || { echo "vmxlab: fuzz-rtc needs clang (apt-get install clang)" >&2; exit 1; }
	$(FUZZ_CC) -std=c11 -g -O1 -Wall -Wextra -Werror -Iinclude -D_GNU_SOURCE \
	  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -o $@ $(FUZZ_RTC_SRC)

fuzz-rtc: $(BUILD)/fuzz/fuzz_rtc
	@mkdir -p $(BUILD)/fuzz/corpus-rtc
	@cp -n tests/fuzz/rtc-seeds/* $(BUILD)/fuzz/corpus-rtc/ 2>/dev/null || true
	cd $(BUILD)/fuzz && ./fuzz_rtc -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	  -max_len=4096 -print_final_stats=1 corpus-rtc
