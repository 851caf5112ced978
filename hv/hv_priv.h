/*
 * hv_priv.h - what the files of the reference handler build share.
 * Everything here is per machine, behind the context pointer init returns.
 */
#ifndef VMXLAB_HV_PRIV_H
#define VMXLAB_HV_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include <vmxlab/dev.h>
#include <vmxlab/hv.h>
#include <vmxlab/trace.h>
#include <vmxlab/vcpu.h>

/* What a handler tells the shared epilogue (the KVM contract, SDM-neutral). */
enum exit_result {
	EXIT_ADVANCE,   /* emulated: advance RIP past the instruction */
	EXIT_RESUME,    /* handled, RIP stays (an event was injected, or the
			   instruction must run again) */
	EXIT_GUEST_EXIT,
	EXIT_GUEST_DEAD,
	EXIT_ERROR,
};

/* A device's window of ports or guest-physical addresses.  A window a PCI
 * BAR places moves and goes dark with the guest's programming (pci.c). */
struct route {
	uint64_t base, end;      /* [base, end) */
	struct vmx_dev *dev;
	unsigned range;          /* index into dev->ops->ranges */
	bool mmio;
	bool live;               /* decoded: in port_route / mmio[] */
};

/* A PCI function on bus 0 (pci.c). */
struct pci_slot {
	struct vmx_dev *dev;     /* NULL: no function at this devfn */
	uint8_t fn;              /* index into dev->ops->pci_devfn */
};

/* The local APIC's page as the guest's IA32_APIC_BASE names it: the reset
 * base (SDM Vol. 3A 11.4.4), which the MSR policy keeps fixed (cpu.c). */
#define APIC_DEFAULT_BASE 0xfee00000ull

/*
 * An exit the reference build accounts for without a model of what it is
 * about (apic.c): counted in hv->not_modelled[] and marked with one record
 * after the handler's others.  vmxlab's own GEN range (docs/traces.md);
 * proposed for trace.h, defined here until the handler ABI has it.
 */
enum not_modelled {
	NM_LOCAL_APIC = TRC_NOT_MODELLED_LOCAL_APIC, /* the reference build has no local APIC */
	NM_NO_DEVICE = TRC_NOT_MODELLED_NO_DEVICE,   /* no RAM and no device at the GPA (mmio.c) */
};

#define MAX_ROUTES 64
#define MAX_CPUID 48
#define MAX_MSRS 64

struct cpuid_entry {
	uint32_t leaf, subleaf;
	bool any_subleaf;
	uint32_t eax, ebx, ecx, edx;
};

struct msr_slot {
	uint32_t index;
	uint64_t value;
};

struct hv {
	const struct hv_host *host;
	struct hv_exit *out;          /* of the exit being handled */
	struct vmx_dev *pic;          /* the interrupt controller, or NULL */

	uint16_t port_route[65536];   /* route index + 1, 0 = unclaimed */
	struct route routes[MAX_ROUTES]; /* every window, in device order */
	unsigned nroutes;
	struct route mmio[MAX_ROUTES];/* copies of the live MMIO windows, sorted by base */
	unsigned nmmio;
	struct vmx_vcpu *vcpu;        /* of the exit being handled */

	/* PCI configuration mechanism #1 (pci.c), when a device has functions */
	bool pci_present;
	uint32_t pci_address;         /* CONFIG_ADDRESS */
	struct pci_slot pci[256];     /* by devfn */
	uint8_t pci_warned[256 / 8];  /* functions whose BAR trouble was logged */
	bool pci_absent_logged;
	uint8_t port_warned[65536 / 8];

	struct cpuid_entry cpuid[MAX_CPUID];
	unsigned ncpuid;
	struct msr_slot msrs[MAX_MSRS]; /* MSRs kept by the hypervisor */
	unsigned nmsrs;
	uint64_t tpr;                 /* CR8 */

	/* An exception a handler asked to inject (SDM 26.6 event injection). */
	bool exc_pending;
	uint8_t exc_vector;
	bool exc_has_error;
	uint32_t exc_error;

	void *capstone;               /* csh, opened once */
	uint64_t exits[VMX_EXIT_REASON_COUNT];
	uint64_t not_modelled[VMX_EXIT_REASON_COUNT]; /* of exits[]: no model behind them */
	uint8_t not_modelled_logged[(VMX_EXIT_REASON_COUNT + 7) / 8];
	uint64_t rng;                 /* RDRAND/RDSEED generator state (cpu.c) */
	/* Guest accesses answered by policy, each logged once. */
#define MAX_ABSENT_LOGGED 32
	uint64_t absent_logged[MAX_ABSENT_LOGGED]; /* pages of GPAs without RAM or device */
	unsigned nabsent;
#define MAX_MSR_LOGGED 32
	uint32_t msr_logged[MAX_MSR_LOGGED];       /* MSRs without a policy entry */
	unsigned nmsr_logged;
	bool unknown_msr_ignore;      /* hv option unknown_msr=ignore */
};

typedef enum exit_result (*exit_handler_fn)(struct hv *hv, struct vmx_vcpu *v, uint32_t reason);

/* hv.c */
enum exit_result hv_fail(struct hv *hv, enum exit_result kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void hv_log(struct hv *hv, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void hv_trace(struct hv *hv, uint32_t event, unsigned n, ...);
bool hv_long_mode(struct vmx_vcpu *v);
bool hv_64bit_mode(struct vmx_vcpu *v);
void skip_instruction(struct vmx_vcpu *v, uint64_t len);

/* route.c: build the tables; access a device wherever it is placed. */
int route_init(struct hv *hv, char *err, size_t errlen);
const struct route *route_of(const struct hv *hv, const struct vmx_dev *dev, unsigned range);
/* Move window r to base and light or darken it: 0, or -1 with err when it
 * would overlap another live window (r is then at base, dark). */
int route_move(struct hv *hv, struct route *r, uint64_t base, bool live, char *err, size_t errlen);
/* The device-model round trip: 0, or -1 with hv->out->msg written. */
int dm_request(struct hv *hv, struct vmx_dev *dev, struct vmx_ioreq *req);
/* Device accesses return 0, or -1 when the device-model process failed
 * (the message is in hv->out->msg). */
int port_read(struct hv *hv, uint16_t port, unsigned size, uint32_t *val);
int port_write(struct hv *hv, uint16_t port, unsigned size, uint32_t val);
const struct route *mmio_route(const struct hv *hv, uint64_t gpa);
int mmio_access(struct hv *hv, const struct route *r, uint64_t gpa, unsigned size, bool write,
		uint64_t *val);
/* The vector the PIC would deliver (-1 none), the INTA cycle; -2 on a
 * device-model failure. */
int pic_pending(struct hv *hv);
int pic_ack(struct hv *hv);

/* pci.c: configuration mechanism #1 (ports 0xcf8-0xcff when pci_present). */
int pci_init(struct hv *hv, char *err, size_t errlen);
bool pci_port(const struct hv *hv, uint16_t port);
int pci_port_read(struct hv *hv, uint16_t port, unsigned size, uint32_t *val);
int pci_port_write(struct hv *hv, uint16_t port, unsigned size, uint32_t val);

/* intr.c: event injection and interrupt delivery (SDM 26.6, 27.x). */
void inject_exception(struct hv *hv, uint8_t vector, bool has_error, uint32_t error);
void inject_gp(struct hv *hv);
void inject_ud(struct hv *hv);
void reinject_idt_vectoring(struct hv *hv, struct vmx_vcpu *v);
int deliver_events(struct hv *hv, struct vmx_vcpu *v);

/* mmio.c */
int mmio_init(struct hv *hv, char *err, size_t errlen);
void mmio_fini(struct hv *hv);
/* Emulate the instruction at RIP whose access to gpa exited: against r's
 * device, or with r NULL against an absent page (reads all ones, writes
 * dropped).  what names the target in messages. */
enum exit_result mmio_emulate(struct hv *hv, struct vmx_vcpu *v, const struct route *r, uint64_t gpa,
			      const char *what);

/* apic.c */
/* Account an exit as handled without a model: count, record, say once. */
void hv_not_modelled(struct hv *hv, uint32_t reason, enum not_modelled what, uint64_t qual, uint64_t rip);

/* cpu.c: the policies */
int policy_init(struct hv *hv, char *err, size_t errlen);

/* The handlers, one per exit reason (the table is in hv.c). */
enum exit_result handle_exception_nmi(struct hv *, struct vmx_vcpu *, uint32_t);
enum exit_result handle_external_interrupt(struct hv *, struct vmx_vcpu *, uint32_t);
enum exit_result handle_triple_fault(struct hv *, struct vmx_vcpu *, uint32_t);
enum exit_result handle_interrupt_window(struct hv *, struct vmx_vcpu *, uint32_t);
enum exit_result handle_cpuid(struct hv *, struct vmx_vcpu *, uint32_t);
enum exit_result handle_hlt(struct hv *, struct vmx_vcpu *, uint32_t);
enum exit_result handle_invd(struct hv *, struct vmx_vcpu *, uint32_t);
enum exit_result handle_invlpg(struct hv *, struct vmx_vcpu *, uint32_t);
enum exit_result handle_rdtsc(struct hv *, struct vmx_vcpu *, uint32_t);
enum exit_result handle_vmcall(struct hv *, struct vmx_vcpu *, uint32_t);
enum exit_result handle_vmx_insn(struct hv *, struct vmx_vcpu *, uint32_t);
enum exit_result handle_cr_access(struct hv *, struct vmx_vcpu *, uint32_t);
enum exit_result handle_io(struct hv *, struct vmx_vcpu *, uint32_t);
enum exit_result handle_rdmsr(struct hv *, struct vmx_vcpu *, uint32_t);
enum exit_result handle_wrmsr(struct hv *, struct vmx_vcpu *, uint32_t);
enum exit_result handle_ept_violation(struct hv *, struct vmx_vcpu *, uint32_t);
enum exit_result handle_ept_misconfig(struct hv *, struct vmx_vcpu *, uint32_t);
enum exit_result handle_xsetbv(struct hv *, struct vmx_vcpu *, uint32_t);
enum exit_result handle_wbinvd(struct hv *, struct vmx_vcpu *, uint32_t);
enum exit_result handle_pause(struct hv *, struct vmx_vcpu *, uint32_t);
enum exit_result handle_dr_access(struct hv *, struct vmx_vcpu *, uint32_t);
enum exit_result handle_monitor(struct hv *, struct vmx_vcpu *, uint32_t);
enum exit_result handle_mwait(struct hv *, struct vmx_vcpu *, uint32_t);
enum exit_result handle_rdrand(struct hv *, struct vmx_vcpu *, uint32_t);
enum exit_result handle_invpcid(struct hv *, struct vmx_vcpu *, uint32_t);
enum exit_result handle_preemption_timer(struct hv *, struct vmx_vcpu *, uint32_t);
enum exit_result handle_apic_access(struct hv *, struct vmx_vcpu *, uint32_t);
enum exit_result handle_apic_write(struct hv *, struct vmx_vcpu *, uint32_t);
enum exit_result handle_eoi_induced(struct hv *, struct vmx_vcpu *, uint32_t);
enum exit_result handle_tpr_below_threshold(struct hv *, struct vmx_vcpu *, uint32_t);

#endif
