# guests/linux/linux.mk - Debian 12's own Linux kernel as a guest: the
# kernel as an ELF (build/linux/vmlinux) and one initramfs for every
# workload (build/linux/initramfs.cpio).  guests/linux/README.md says what
# is in them.  Included by the top-level Makefile, which provides BUILD,
# CACHE, CC, WARN and DEPS_STAMP.
#
#   make linux          vmlinux and initramfs.cpio; `make` builds them too
#   make linux-update   resolve linux-image-amd64 again; rebuild if a newer point release is out
#
# The two .debs stay in $(CACHE)/linux.  Which ones this tree uses is
# written in build/linux/debs when they are first fetched; every later step
# rebuilds only when its inputs change.

LINUX_DIR       := $(BUILD)/linux
LINUX_PKG       := $(LINUX_DIR)/pkg
LINUX_DEBS      := $(LINUX_DIR)/debs
LINUX_SPEC      := $(LINUX_DIR)/initramfs.spec
LINUX_VMLINUX   := $(LINUX_DIR)/vmlinux
LINUX_INITRAMFS := $(LINUX_DIR)/initramfs.cpio
LINUX_IMAGES    := $(LINUX_VMLINUX) $(LINUX_INITRAMFS)
MKINITRAMFS     := $(LINUX_DIR)/tools/mkinitramfs
EXTRACT_VMLINUX := $(LINUX_DIR)/tools/extract-vmlinux
KALLSYMS_ELF    := $(LINUX_DIR)/tools/kallsyms-elf
# Guest programs: built static by the host's gcc, /bin/NAME in the initramfs.
LINUX_DRAWFB    := $(LINUX_DIR)/bin/drawfb
LINUX_PROGRAMS  := $(LINUX_DRAWFB)

LINUX_MODULE_LISTS := $(sort $(wildcard guests/linux/workloads/*.modules))
LINUX_WORKLOADS    := $(sort $(wildcard guests/linux/workloads/*.sh))
# The directory too: a workload removed changes what goes in.
LINUX_INPUTS       := guests/linux/init guests/linux/applets guests/linux/workloads \
                      $(LINUX_WORKLOADS) $(LINUX_MODULE_LISTS)
LINUX_TOOL_CFLAGS  := -std=c11 -O2 -g $(WARN) -D_GNU_SOURCE

.PHONY: linux linux-update
all: $(LINUX_IMAGES)
linux: $(LINUX_IMAGES)

# ---------------------------------------------------------------- fetch
$(LINUX_DEBS): guests/linux/fetch-linux.sh | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@guests/linux/fetch-linux.sh $(CACHE) >$@.tmp || { rm -f $@.tmp; exit 1; }
	@mv $@.tmp $@

linux-update: | $(DEPS_STAMP)
	@mkdir -p $(LINUX_DIR)
	@guests/linux/fetch-linux.sh $(CACHE) >$(LINUX_DEBS).new || { rm -f $(LINUX_DEBS).new; exit 1; }
	@if cmp -s $(LINUX_DEBS).new $(LINUX_DEBS); then rm -f $(LINUX_DEBS).new; \
	  echo "vmxlab: the kernel and busybox are the current ones"; \
	else mv $(LINUX_DEBS).new $(LINUX_DEBS); fi
	@$(MAKE) --no-print-directory linux

# ---------------------------------------------------------------- unpack
# Only what the guest uses: /boot of the kernel package (vmlinuz, config;
# its System.map is a placeholder), the modules the workloads list (a pattern each, '-' and '_'
# alike, so tar fails naming one the package lacks) and /bin/busybox.
$(LINUX_PKG)/.unpacked: $(LINUX_DEBS) $(LINUX_MODULE_LISTS)
	@rm -rf $(LINUX_PKG) && mkdir -p $(LINUX_PKG)
	@set -ef; kernel=$$(sed -n 's/^kernel //p' $<); busybox=$$(sed -n 's/^busybox //p' $<); \
	pats=$$(sed 's/#.*//' /dev/null $(LINUX_MODULE_LISTS) | \
	  awk 'NF { gsub(/[-_]/, "[-_]", $$1); print "./lib/modules/*/kernel/*/" $$1 ".ko" }' | sort -u); \
	dpkg-deb --fsys-tarfile "$$kernel" | tar -x -C $(LINUX_PKG) --wildcards './boot/*' $$pats || \
	  { echo "vmxlab: cannot unpack $$kernel, or a module of guests/linux/workloads/*.modules is not in it (tar names it above)" >&2; exit 1; }; \
	dpkg-deb --fsys-tarfile "$$busybox" | tar -x -C $(LINUX_PKG) ./bin/busybox || \
	  { echo "vmxlab: cannot unpack ./bin/busybox from $$busybox" >&2; exit 1; }
	@touch $@

# The vmlinux in the package is stripped: kallsyms-elf gives it a symbol
# table again, from the kernel's own kallsyms tables (a vmlinux it cannot
# find them in is an error, not a vmlinux without symbols).  The plain
# extraction in between is not kept.
$(LINUX_VMLINUX): $(LINUX_PKG)/.unpacked $(EXTRACT_VMLINUX) $(KALLSYMS_ELF)
	$(EXTRACT_VMLINUX) $(wildcard $(LINUX_PKG)/boot/vmlinuz-*) $@.stripped
	$(KALLSYMS_ELF) $@.stripped $@ || { rm -f $@.stripped; exit 1; }
	@rm -f $@.stripped

# ---------------------------------------------------------------- initramfs
# mkspec.sh checks the applets against busybox and the module lists against
# the modules' depends= (check-modules.sh) on the way.
$(LINUX_SPEC): $(LINUX_PKG)/.unpacked guests/linux/mkspec.sh guests/linux/check-modules.sh $(LINUX_INPUTS) \
	      $(LINUX_PROGRAMS)
	@guests/linux/mkspec.sh $(LINUX_PKG) $(LINUX_PROGRAMS) >$@.tmp || { rm -f $@.tmp; exit 1; }
	@mv $@.tmp $@

$(LINUX_INITRAMFS): $(LINUX_SPEC) $(MKINITRAMFS) $(LINUX_INPUTS) $(LINUX_PROGRAMS)
	$(MKINITRAMFS) $(LINUX_SPEC) $@

# drawfb: the vga workload's frames through Linux's KMS (drawfb.c).  Static
# (glibc's libc.a, from libc6-dev) and stripped, so the initramfs stays
# byte-identical from one build directory to another.
$(LINUX_DRAWFB): guests/linux/drawfb.c guests/kernels/draw.c guests/kernels/draw.h | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) -std=c11 -O2 $(WARN) -D_GNU_SOURCE -static -s -o $@ $(filter %.c,$^)

# ---------------------------------------------------------------- tools
$(MKINITRAMFS): guests/linux/mkinitramfs.c guests/linux/tool.c guests/linux/tool.h | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(LINUX_TOOL_CFLAGS) -o $@ $(filter %.c,$^)

$(EXTRACT_VMLINUX): guests/linux/extract-vmlinux.c guests/linux/tool.c guests/linux/tool.h | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@echo '#include <lzma.h>' | $(CC) -E -x c - >/dev/null 2>&1 || \
	  { echo "vmxlab: no lzma.h: liblzma-dev is missing; run: apt-get install liblzma-dev (or rm $(DEPS_STAMP); make deps)" >&2; exit 1; }
	$(CC) $(LINUX_TOOL_CFLAGS) -o $@ $(filter %.c,$^) -llzma

$(KALLSYMS_ELF): guests/linux/kallsyms-elf.c guests/linux/tool.c guests/linux/tool.h | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(LINUX_TOOL_CFLAGS) -o $@ $(filter %.c,$^)

# The tests of this part (tests/run.sh runs *.sh with bash).
TEST_PROGRAMS += $(sort $(wildcard tests/linux/test_*.sh))
