/*
 * machine.h - the simulated machine's state, shared by the C files of sim/
 * (machine.c: create/reset/VMCS, memory.c: RAM/EPT/guest boot structures,
 * run.c: run loop/time/vcpu, loader.c: images).  Not a public header.
 */
#ifndef VMXLAB_SIM_MACHINE_H
#define VMXLAB_SIM_MACHINE_H

#include <signal.h>

#include "vmxlab/sim.h"

#include "glue.h"
#include "layout.h"

#define SIM_MAX_RANGES 32
#define SIM_MAX_TIMERS 64

/* A guest-physical range that is not plain RAM. */
struct sim_range {
	uint64_t gpa, len;
	uint8_t *host;      /* shared: the caller's buffer; NULL: MMIO (unmapped) */
	uint64_t hpa;       /* shared: where the CPU sees the buffer */
};

struct sim_timer {
	sim_timer_fn fn;
	void *ctx;
	vtime_t deadline;
	bool used, armed;
};

struct sim_machine {
	struct vmx_vcpu vcpu;          /* first: sim_vcpu() hands out &m->vcpu */
	struct sim_config cfg;
	char model[64];

	/* memory */
	uint8_t *ram;
	int ram_fd;
	uint8_t *host;                 /* the host area, HOST_SIZE bytes */
	struct sim_range ranges[SIM_MAX_RANGES];
	unsigned nranges;
	uint64_t shared_next;          /* next free HPA for a shared buffer */
	uint64_t ept_next;             /* next free page of the EPT pool (HPA) */
	uint8_t io_bitmap[8192];       /* bitmaps A and B, kept across resets */
	uint8_t msr_bitmap[4096];
	sim_pio_fn pio_fn;
	void *pio_ctx;

	/* VMX */
	uint32_t pin_ctl, cpu_ctl, cpu2_ctl, exit_ctl, entry_ctl;
	uint64_t entry;                /* sim_set_entry */
	bool launched;                 /* VMLAUNCH succeeded: VMRESUME from now on */
	bool broken;                   /* a panic or trampoline failure: reset needed */

	/* counts */
	uint64_t root_insns;           /* instructions of the trampoline, not the guest */
	unsigned root_pending;         /* VMLAUNCH/VMRESUME executed, not yet counted */
	uint64_t exits;
	uint64_t budget_end;           /* guest instruction count to stop at; 0: none */
	unsigned carry;                /* GLUE_* bits seen but not yet acted on */

	/* time: ticks (instructions) <-> virtual ns at ipus instructions/us */
	uint64_t ipus;
	uint64_t charge_rem;           /* sub-tick remainder of charged time, in 1/1000 tick */
	struct sim_timer timers[SIM_MAX_TIMERS];
	unsigned ntimers;
	bool intr_level;

	char error[1024];
};

void sim_set_error(struct sim_machine *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* memory.c */
int sim_mem_alloc(struct sim_machine *m, char *err, size_t errlen);
void sim_mem_free(struct sim_machine *m);
int sim_ept_build(struct sim_machine *m);      /* into the host area; 0 or -1 */
uint64_t sim_ept_pointer(void);
void sim_mem_publish(struct sim_machine *m);   /* tell the CPU (glue) the memory map */
void sim_guest_boot_build(struct sim_machine *m);
uint64_t sim_boot_area(const struct sim_machine *m); /* GPA of the long-mode boot area */
uint64_t sim_boot_gdt(const struct sim_machine *m);
uint64_t sim_boot_tss(const struct sim_machine *m);
void sim_bitmaps_publish(struct sim_machine *m);   /* copy the bitmaps into the host area */
/* Host pointer for guest-physical `gpa` if the whole [gpa, gpa+len) within
 * one page is RAM or shared; NULL otherwise.  *hpa gets the CPU's address. */
uint8_t *sim_gpa_page(struct sim_machine *m, uint64_t gpa, uint64_t *hpa);
int sim_gpa_check(struct sim_machine *m, uint64_t gpa, size_t len); /* all RAM/shared: 0 */
int sim_gpa_read(struct sim_machine *m, uint64_t gpa, void *buf, size_t len);
int sim_gpa_write(struct sim_machine *m, uint64_t gpa, const void *buf, size_t len);

/* machine.c */
int sim_boot(struct sim_machine *m);           /* trampoline + default VMCS; 0 or -1 */
uint64_t sim_tramp_hpa(const unsigned char *sym);
extern const unsigned char vmxlab_tramp_start[], vmxlab_tramp_end[];
extern const unsigned char vmxlab_tramp_stop_setup[], vmxlab_tramp_launch[];
extern const unsigned char vmxlab_tramp_stop_launch_fail[], vmxlab_tramp_stop_exit[];
extern const unsigned char vmxlab_tramp_resume[], vmxlab_tramp_stop_resume_fail[];

/* run.c */
void sim_vcpu_init(struct sim_machine *m);
void sim_time_init(struct sim_machine *m);

#endif
