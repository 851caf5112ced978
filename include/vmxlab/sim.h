/*
 * sim.h - the simulated machine: Bochs 3.0's VT-x CPU runs one guest in VMX
 * non-root mode and hands every VM exit to the caller.
 *
 * Implemented by sim/ (the Bochs embedding).  Plain C: no Bochs type appears
 * here.  The CPU is Bochs's global state, so there is one machine per process
 * at a time, driven from one thread.
 *
 * Lifecycle:
 *
 *   sim_create()        CPU reset, root-mode trampoline up to VMXON/VMPTRLD,
 *                       VMCS filled with vmxlab's defaults (below).  The vcpu
 *                       (sim_vcpu) is usable from here: VMCS and GPRs can be
 *                       changed before the first run.
 *   sim_load_image()    guest code into guest RAM, GUEST_RIP = entry
 *   sim_run()           VMLAUNCH/VMRESUME ... until the next VM exit (or a
 *                       step, budget, stop request, error)
 *   handler code        reads the exit from the VMCS through sim_vcpu(),
 *                       writes the VMCS/GPRs (advance RIP, inject events)
 *   sim_run() again     resumes the guest
 *
 * Default VM-execution controls, each computed as (want | allowed0) &
 * allowed1 from Bochs's capability MSRs (SDM 25.6, A.3) - what a hypervisor
 * with EPT sets (Xen and KVM leave RDTSC, INVLPG and CR3 to the guest):
 *   pin-based   external-interrupt exiting, NMI exiting
 *   primary     HLT, CR8-load exiting, I/O bitmaps, MSR bitmaps, secondary
 *               controls; TSC offsetting with tsc_khz (below); RDTSC,
 *               INVLPG, CR3-load exiting only as sim_config.exiting asks
 *   secondary   EPT, unrestricted guest; TSC scaling with tsc_khz
 *   exit        host address-space size, save/load IA32_EFER
 *   entry       load IA32_EFER (+ IA-32e mode guest for long-mode guests)
 *   I/O bitmaps: every port exits.  MSR bitmap: every MSR exits.
 *   Exception bitmap 0.  CR0 guest/host mask PE|NE|NW|CD|PG, CR4 mask
 *   PSE|PAE|LA57|VMXE; read shadows are the guest's initial values with
 *   CR4.VMXE hidden.
 */
#ifndef VMXLAB_SIM_H
#define VMXLAB_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vcpu.h"

#ifdef __cplusplus
extern "C" {
#endif

/* As in dev.h (C11 allows the repeated typedef). */
typedef uint64_t vtime_t; /* virtual nanoseconds since the machine started */

struct sim_machine;

enum sim_start_mode {
	SIM_MODE_LONG64 = 0, /* 64-bit, identity paging built by sim (below) */
	SIM_MODE_REAL,       /* real mode through unrestricted guest */
};

/*
 * Guest RAM is [0, ram_size).  For long-mode guests sim reserves the top
 * SIM_BOOT_AREA_SIZE bytes of RAM for what it builds in guest memory:
 *
 *   ram_size - 0x8000  PML4  -> PDPT -> 4 page directories: identity map of
 *   ...                the first 4 GiB with 2 MiB pages (RAM and MMIO alike)
 *   ram_size - 0x2000  GDT: 0x08 64-bit code, 0x10 data, 0x18 32-bit code,
 *                      0x20 64-bit TSS (busy, base ram_size - 0x1000)
 *   ram_size - 0x1000  TSS
 * RSP starts at ram_size - SIM_BOOT_AREA_SIZE; IDTR is empty (base 0, limit
 * 0): a guest that takes an interrupt without loading its own IDT triple
 * faults.  Real-mode guests get none of this.
 */
#define SIM_BOOT_AREA_SIZE 0x8000u
#define SIM_GDT_CODE64 0x08
#define SIM_GDT_DATA   0x10
#define SIM_GDT_CODE32 0x18
#define SIM_GDT_TSS    0x20
#define SIM_RAM_MAX    0xc0000000ull /* 3 GiB: guest-physical 3G..4G is MMIO space */

/* Optional exit controls (SDM 25.6.2, Table 25-6), for a hypervisor
 * without EPT or for measuring what those exits would cost. */
#define SIM_EXITING_RDTSC  (1u << 0)   /* RDTSC and RDTSCP exit (reasons 16, 51) */
#define SIM_EXITING_INVLPG (1u << 1)   /* INVLPG exits (14) */
#define SIM_EXITING_CR3    (1u << 2)   /* MOV to CR3 exits (28; CR3-load exiting) */
#define SIM_EXITING_ALL    (SIM_EXITING_RDTSC | SIM_EXITING_INVLPG | SIM_EXITING_CR3)

struct sim_config {
	uint64_t ram_size;           /* bytes, a multiple of 4 KiB, 64 KiB..SIM_RAM_MAX */
	enum sim_start_mode mode;
	const char *cpu_model;       /* Bochs cpudb name; NULL: "corei7_skylake_x" */
	double insns_per_ns;         /* guest speed; 0: 1.0 (1 GIPS).  At least 0.001 */
	uint32_t seed;               /* seeds the CPU's RDRAND/RDSEED; 0: a fixed default */
	uint32_t exiting;            /* SIM_EXITING_* bits: optional exits on (default none) */
	/* The guest's TSC frequency: with it, a RDTSC that does not exit reads
	 * virtual time x tsc_khz (TSC scaling, SDM 25.6.5, multiplier
	 * tsc_khz / (instructions per ms) in 16.48 fixed point).  0: the TSC
	 * is the tick count. */
	uint64_t tsc_khz;
	bool bochs_log;              /* copy Bochs's ERROR messages to stderr (rate-limited) */
};

/* Create the machine.  NULL on failure, with the reason in err. */
struct sim_machine *sim_create(const struct sim_config *cfg, char *err, size_t errlen);
void sim_destroy(struct sim_machine *m);
/* Put the CPU back to where sim_create left it (after a Bochs panic, or to
 * run again): hardware reset, trampoline, default VMCS, clock at 0, event
 * queue emptied, counters at 0.  Guest RAM, the memory map and the I/O and
 * MSR intercepts are kept; the entry point must be set again (sim_set_entry
 * or a load).  0 or -1. */
int sim_reset(struct sim_machine *m);
/* Text of the last failure (a load, an entry failure, a panic, a triple
 * fault); "" if none. */
const char *sim_error(const struct sim_machine *m);

/* ---------------------------------------------------------------- memory */

/* Guest RAM as a host buffer, backed by a memfd so another process can map
 * it (sim_ram_fd; the descriptor stays owned by the machine). */
void *sim_ram(struct sim_machine *m, uint64_t *size);
int sim_ram_fd(const struct sim_machine *m);

/* Leave [gpa, gpa+len) out of EPT: every access exits with an EPT violation
 * (reason 48).  Page-aligned; may punch a hole into RAM (e.g. VGA at
 * 0xa0000), but not into sim's boot area; ranges may not overlap.  0, or -1
 * with the reason in sim_error. */
int sim_map_mmio(struct sim_machine *m, uint64_t gpa, uint64_t len);
/* Map [gpa, gpa+len) to a host buffer instead: guest accesses read and
 * write `host` directly, without exits.  Page-aligned, `host` too; at most
 * 16 buffers, 496 MiB in all.  0 or -1 as above. */
int sim_map_shared(struct sim_machine *m, uint64_t gpa, uint64_t len, void *host);

/* I/O and MSR intercepts (SDM 25.6.4, 25.6.9).  Everything exits by default;
 * MSRs outside 0-0x1fff and 0xc0000000-0xc0001fff always exit. */
void sim_intercept_io(struct sim_machine *m, uint16_t port, bool exit);
void sim_intercept_msr(struct sim_machine *m, uint32_t msr, bool read_exits, bool write_exits);
/* A port access that does not exit (bitmap bit clear) reaches this callback;
 * without one, reads give all ones and writes are dropped. */
typedef uint32_t (*sim_pio_fn)(void *ctx, uint16_t port, unsigned size, bool write, uint32_t val);
void sim_set_pio_passthrough(struct sim_machine *m, sim_pio_fn fn, void *ctx);

/* ---------------------------------------------------------------- loading */

/* Copy bytes into guest RAM (the decoded-code cache is invalidated). */
int sim_load_bytes(struct sim_machine *m, uint64_t gpa, const void *buf, size_t len);
/* Load an image file: ELF64 or ELF32 (PT_LOAD segments at their physical
 * addresses, entry point from the header) or, for anything else, a flat
 * binary at flat_gpa with the entry point at flat_gpa.  Sets the entry.
 * 0, or -1 with the reason in sim_error. */
int sim_load_image(struct sim_machine *m, const char *path, uint64_t flat_gpa);
/*
 * Linux's 64-bit boot protocol (Documentation/x86/boot.rst, "64-bit Boot
 * Protocol"), for a long-mode machine: the vmlinux's PT_LOAD segments at
 * their physical addresses, the initrd page-aligned at the top of RAM below
 * sim's boot area, and a zero page (struct boot_params) at SIM_LINUX_ZERO_PAGE
 * with the e820 map (RAM minus 0x9f000-0xfffff, MMIO holes and the boot
 * area), the command line, the initrd, screen_info and a SETUP_RNG_SEED
 * setup_data.  RIP = the ELF entry, RSI = the zero page.  A bzImage is
 * refused (boot the vmlinux inside it).  0, or -1 with the reason in
 * sim_error naming the file.
 */
#define SIM_LINUX_ZERO_PAGE  0x10000u
#define SIM_LINUX_SETUP_DATA 0x11000u
#define SIM_LINUX_CMDLINE    0x12000u
#define SIM_LINUX_CMDLINE_MAX 4095u
struct sim_linux {
	const char *kernel;          /* vmlinux: ELF64 x86-64 */
	const char *initrd;          /* NULL or "": none */
	const char *cmdline;
	const uint8_t *rng_seed;     /* SETUP_RNG_SEED bytes (NULL: none), at most 256 */
	size_t rng_seed_len;
	bool vga_text;               /* screen_info says: an 80x25 colour VGA text screen */
};
int sim_load_linux(struct sim_machine *m, const struct sim_linux *lx);
/* Where the guest starts.  Long mode: RIP.  Real mode: a linear address
 * below 1 MiB; CS:IP = 0:entry when entry < 64 KiB, else
 * (entry >> 4) & 0xf000 : entry & 0xffff. */
int sim_set_entry(struct sim_machine *m, uint64_t entry);

/* ---------------------------------------------------------------- running */

/* The live vcpu: Bochs's VMCS (VMREAD/VMWRITE), live GPRs, guest RAM.  At an
 * exit it reads what handler code expects.  While stopped inside the guest
 * (after a step, budget or stop request) GUEST_RIP, GUEST_RSP, GUEST_RFLAGS
 * and GUEST_CR0/3/4 read the live CPU; other guest-state fields hold the
 * values of the last exit, and VMCS writes take effect at the next VM entry
 * (guest-state writes are then overwritten by the next exit). */
struct vmx_vcpu *sim_vcpu(struct sim_machine *m);

enum sim_stop {
	SIM_STOP_EXIT = 0,     /* a VM exit: read it from the VMCS (incl. entry failures, reason bit 31) */
	SIM_STOP_STEP,         /* one guest instruction retired (sim_step) */
	SIM_STOP_BUDGET,       /* the instruction budget ran out */
	SIM_STOP_REQUEST,      /* sim_request_stop */
	SIM_STOP_IDLE,         /* the guest halted (HLT not exiting) and nothing can wake it */
	SIM_STOP_ENTRY_FAIL,   /* VMLAUNCH/VMRESUME failed (VMfail): VM_INSTRUCTION_ERROR + sim_error */
	SIM_STOP_ERROR,        /* Bochs panicked or the root-mode trampoline broke: sim_reset needed */
};
const char *sim_stop_name(enum sim_stop s);

/* Run until something in enum sim_stop happens.  Event-queue callbacks run
 * inside, between guest instructions, and do not end the call. */
enum sim_stop sim_run(struct sim_machine *m);
/* Emulator-level single step, invisible to the guest: one guest instruction,
 * or up to the exit that instruction causes (then SIM_STOP_EXIT).  From an
 * exit, the step first resumes the guest. */
enum sim_stop sim_step(struct sim_machine *m);
/* Stop after `insns` more guest instructions (0: no budget).  Exact to
 * Bochs's trace granularity: the run may go a few instructions further. */
void sim_set_budget(struct sim_machine *m, uint64_t insns);
/* Ask sim_run to return with SIM_STOP_REQUEST; callable from an event
 * callback or a signal handler of the running thread. */
void sim_request_stop(struct sim_machine *m);

/* Guest instructions retired (an instruction that exits counts once). */
uint64_t sim_instructions(const struct sim_machine *m);
/* VM exits so far. */
uint64_t sim_exits(const struct sim_machine *m);

/* Live registers (also valid while stopped inside the guest). */
struct sim_regs {
	uint64_t gpr[GPR_COUNT];     /* enum vmx_gpr order; RSP is the live one */
	uint64_t rip, rflags;
	uint64_t cr0, cr2, cr3, cr4, efer;
	uint16_t cs, ss;
	bool in_guest;               /* false at an exit (the CPU is in the exit stub) */
};
void sim_get_regs(struct sim_machine *m, struct sim_regs *r);

/* Drive the guest's INTR line: with external-interrupt exiting (default) a
 * raised line causes an exit (reason 1) once RFLAGS.IF allows it; without,
 * the guest takes `vector` directly. */
void sim_set_intr(struct sim_machine *m, bool level, uint8_t vector);

/* ---------------------------------------------------------------- time */

/*
 * Virtual time.  The CPU's clock ticks once per retired instruction and runs
 * on while a guest halts; the caller adds the modelled cost of what happens
 * outside the guest with sim_charge.  now = ticks / insns_per_ns, 0 when
 * sim_create (or sim_reset) returns.  Each VM exit round trip also takes two
 * ticks, the exit stub's HLT and VMRESUME (sim_instructions does not count
 * them).  The guest's TSC is the tick count, so it sees charged time too.
 * No wall clock is involved.
 */
vtime_t sim_now(const struct sim_machine *m);
void sim_charge(struct sim_machine *m, vtime_t ns);

/* One-shot timers in virtual time.  Callbacks run between guest
 * instructions, outside any Bochs frame: they may use the vcpu, raise INTR,
 * arm timers and request a stop.  Timers with equal deadlines fire in id
 * order. */
typedef void (*sim_timer_fn)(void *ctx, vtime_t now);
int sim_timer_new(struct sim_machine *m, sim_timer_fn fn, void *ctx); /* id >= 0 or -1 */
void sim_timer_arm(struct sim_machine *m, int id, vtime_t deadline);
void sim_timer_cancel(struct sim_machine *m, int id);
/* For a HLT handler: advance the clock to the next armed deadline (but not
 * past `limit`) and run the timers that are due.  Returns true if one ran. */
bool sim_idle(struct sim_machine *m, vtime_t limit);

#ifdef __cplusplus
}
#endif

#endif
