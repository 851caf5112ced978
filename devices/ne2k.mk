# devices/ne2k.mk - make rules of the NE2000 model (devices/ne2k.c and the
# devices/ne2k_*.c files of its other jobs) and its back-ends
# (devices/netpeer.c, devices/netsock.c).  Include it from the
# top-level Makefile after BUILD, CC, CFLAGS and SAN are set (like
# guests/guests.mk):
#
#   $(BUILD)/vmxlab-netpeer   the peer process of backend=socket, built by
#                             `make` and `make test` (the model starts it
#                             from next to vmxlab / vmxlab-dm)
#   make fuzz-ne2k [FUZZ_SECONDS=N]
#                             libFuzzer with ASan + UBSan on the register
#                             interface and received frames
#                             (tests/fuzz/fuzz_ne2k.c).  The corpus starts
#                             from tests/fuzz/ne2k-seeds and grows in
#                             $(BUILD)/fuzz/corpus-ne2k; a crash leaves its
#                             input in $(BUILD)/fuzz/ (crash-*): fix the bug,
#                             then add the input to tests/fuzz/ne2k-seeds/,
#                             which `make test` replays (test_ne2k_fuzz).

NETPEER_SRC   := devices/netpeer/main.c devices/netpeer.c devices/netsock.c
FUZZ_SECONDS  ?= 180
FUZZ_CC       ?= clang
FUZZ_NE2K_SRC := tests/fuzz/fuzz_ne2k.c devices/ne2k.c devices/ne2k_regs.c devices/ne2k_dma.c \
                 devices/ne2k_packet.c devices/ne2k_backend.c devices/ne2k_options.c \
                 devices/netpeer.c devices/netsock.c

.PHONY: fuzz-ne2k

all: $(BUILD)/vmxlab-netpeer
test: $(BUILD)/vmxlab-netpeer

$(BUILD)/vmxlab-netpeer: $(patsubst %.c,$(BUILD)/obj/%.o,$(NETPEER_SRC))
	$(CC) $(CFLAGS) -o $@ $^ -lz

$(BUILD)/fuzz/fuzz_ne2k: $(FUZZ_NE2K_SRC) devices/ne2k.h devices/ne2k_priv.h devices/netpeer.h include/vmxlab/dev.h
	@mkdir -p $(@D)
	@command -v $(FUZZ_CC) >/dev/null || { echo "vmxlab: fuzz-ne2k needs clang (apt-get install clang)" >&2; exit 1; }
	$(FUZZ_CC) -std=c11 -g -O1 -Wall -Wextra -Werror -Iinclude -D_GNU_SOURCE \
	  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -o $@ $(FUZZ_NE2K_SRC) -lz

fuzz-ne2k: $(BUILD)/fuzz/fuzz_ne2k
	@mkdir -p $(BUILD)/fuzz/corpus-ne2k
	@cp -n tests/fuzz/ne2k-seeds/* $(BUILD)/fuzz/corpus-ne2k/ 2>/dev/null || true
	cd $(BUILD)/fuzz && ./fuzz_ne2k -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	  -max_len=8192 -print_final_stats=1 corpus-ne2k
