# guests/guests.mk - the guest workloads (freestanding ELF64 images run by
# `vmxlab run`) and guest-ref, the host program that computes their
# checksums.  Included by the top-level Makefile, which provides BUILD and CC
# (include it after they are set: the paths below are expanded at once).
#
#   make $(GUEST_IMAGES)   build/guests/timer.elf, build/guests/cpu.elf, build/guests/disk.elf
#   make guests-check      entry points, section placement, no SSE, checksums
#
# The guest flags are our own (not the top level's CFLAGS): no PIC, no red
# zone (interrupts push onto the same stack), general registers only (no
# FPU/SSE state is set up for the guest), no stack protector, and no loop
# turned into a memset/memcpy call (rt/rt.c provides those with rep movs).

BUILD        ?= build
GUEST_DIR    := $(BUILD)/guests
GUEST_OBJDIR := $(GUEST_DIR)/obj
GUEST_IMAGES := $(GUEST_DIR)/timer.elf $(GUEST_DIR)/cpu.elf $(GUEST_DIR)/disk.elf $(GUEST_DIR)/vga.elf
GUEST_IMAGES += $(GUEST_DIR)/net.elf
GUEST_REF    := $(GUEST_DIR)/guest-ref
GUEST_LDS    := guests/rt/guest.ld

GUEST_CFLAGS := -std=c11 -O2 -g -Wall -Wextra -Werror -ffreestanding -fno-pic -fno-pie \
	-mcmodel=small -mno-red-zone -mgeneral-regs-only -mno-sse -mno-mmx -fno-stack-protector \
	-fno-asynchronous-unwind-tables -fno-unwind-tables -fcf-protection=none \
	-fno-tree-loop-distribute-patterns -Iinclude -Iguests -MMD -MP
GUEST_ASFLAGS := -Iguests/rt -MMD -MP
GUEST_LDFLAGS := -nostdlib -static -no-pie -Wl,-T,$(GUEST_LDS) -Wl,--build-id=none -Wl,-z,noexecstack

GUEST_RT_SRC  := $(sort $(wildcard guests/rt/*.c))
GUEST_RT_ASM  := guests/rt/entry.S
GUEST_KERNELS := guests/kernels/compile.c guests/kernels/cpu2k.c guests/kernels/build.c guests/kernels/draw.c

guest_obj = $(patsubst guests/%,$(GUEST_OBJDIR)/%.o,$(basename $(1)))

GUEST_RT_OBJ := $(call guest_obj,$(GUEST_RT_ASM) $(GUEST_RT_SRC))

$(GUEST_OBJDIR)/%.o: guests/%.c
	@mkdir -p $(@D)
	$(CC) $(GUEST_CFLAGS) -c $< -o $@

$(GUEST_OBJDIR)/%.o: guests/%.S
	@mkdir -p $(@D)
	$(CC) $(GUEST_ASFLAGS) -c $< -o $@

$(GUEST_DIR)/timer.elf: $(GUEST_RT_OBJ) $(call guest_obj,guests/timer.c guests/kernels/compile.c) $(GUEST_LDS)
	$(CC) $(GUEST_LDFLAGS) -o $@ $(filter %.o,$^)

$(GUEST_DIR)/cpu.elf: $(GUEST_RT_OBJ) $(call guest_obj,guests/cpu.c guests/kernels/cpu2k.c) $(GUEST_LDS)
	$(CC) $(GUEST_LDFLAGS) -o $@ $(filter %.o,$^)

$(GUEST_DIR)/disk.elf: $(GUEST_RT_OBJ) $(call guest_obj,guests/disk.c guests/kernels/build.c guests/kernels/compile.c) $(GUEST_LDS)
	$(CC) $(GUEST_LDFLAGS) -o $@ $(filter %.o,$^)

$(GUEST_DIR)/vga.elf: $(GUEST_RT_OBJ) $(call guest_obj,guests/vga.c guests/kernels/draw.c) $(GUEST_LDS)
	$(CC) $(GUEST_LDFLAGS) -o $@ $(filter %.o,$^)

# net: the scp-like transfer through the NE2000 (rt/ne2k.c).
$(GUEST_DIR)/net.elf: $(GUEST_RT_OBJ) $(call guest_obj,guests/net.c) $(GUEST_LDS)
	$(CC) $(GUEST_LDFLAGS) -o $@ $(filter %.o,$^)

# The host reference: the same kernels, compiled for the host.
$(GUEST_REF): guests/ref.c $(GUEST_KERNELS) guests/kernels/kernels.h guests/kernels/build.h guests/kernels/draw.h
	@mkdir -p $(@D)
	$(CC) -std=c11 -O2 -g -Wall -Wextra -Werror -Iguests -o $@ guests/ref.c $(GUEST_KERNELS)

.PHONY: guests guests-check
guests: $(GUEST_IMAGES) $(GUEST_REF)

guests-check: $(GUEST_IMAGES) $(GUEST_REF)
	@guests/check.sh $(GUEST_REF) guests/expected.txt $(GUEST_IMAGES)

-include $(shell find $(GUEST_OBJDIR) -name '*.d' 2>/dev/null)
