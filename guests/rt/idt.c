/*
 * idt.c - the IDT, exception reports and IRQ dispatch.
 *
 * Every vector goes through entry.S's stubs to rt_trap.  Exceptions (0-31)
 * and vectors nobody owns are fatal: a report on the console hypercall
 * (which needs no device, so it works even if the UART is what faulted)
 * and the exit hypercall with status 100 + vector (99 for a stray vector).
 * Vectors 0x20-0x2f are the 8259A's IRQs 0-15 and are handled the way
 * Linux 2.6's __do_IRQ handled an XT-PIC interrupt: the chip's ack
 * (mask_and_ack_8259A), the handler with interrupts still off (the timer
 * was SA_INTERRUPT), then the chip's end (enable_8259A_irq, only if the
 * line has a handler: an unclaimed line stays masked).
 */
#include "layout.h"
#include "rt.h"

/* SDM Vol. 3, 6.14.1: a 64-bit interrupt gate, 16 bytes. */
struct idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;   /* P=1, DPL=0, type 0xe: 64-bit interrupt gate */
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
} __attribute__((packed));

_Static_assert(sizeof(struct idt_gate) == 16, "IDT gate is 16 bytes");

extern const char rt_vector_stubs[], rt_vector_stubs_end[];

static struct idt_gate idt[256] __attribute__((aligned(16)));
static irq_handler_t irq_handlers[RT_NR_IRQS];

void idt_init(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idtr = { sizeof(idt) - 1, (uint64_t)idt };

	for (unsigned v = 0; v < 256; v++) {
		uint64_t a = (uint64_t)rt_vector_stubs + (uint64_t)v * RT_STUB_SIZE;
		idt[v] = (struct idt_gate){
			.offset_lo = (uint16_t)a,
			.selector = RT_GDT_CODE,
			.type_attr = 0x8e,
			.offset_mid = (uint16_t)(a >> 16),
			.offset_hi = (uint32_t)(a >> 32),
		};
	}
	__asm__ volatile("lidt %0" : : "m"(idtr));
}

static const char *const exc_names[32] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
	"#BR bound range", "#UD invalid opcode", "#NM device not available",
	"#DF double fault", "coprocessor segment overrun", "#TS invalid TSS",
	"#NP segment not present", "#SS stack fault", "#GP general protection",
	"#PF page fault", "reserved 15", "#MF x87 error", "#AC alignment check",
	"#MC machine check", "#XM SIMD error", "#VE virtualization", "#CP control protection",
	"reserved 22", "reserved 23", "reserved 24", "reserved 25", "reserved 26",
	"reserved 27", "#HV hypervisor injection", "#VC VMM communication",
	"#SX security", "reserved 31",
};

/* One line through the console hypercall, bypassing console.c. */
static void hc_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void hc_line(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	int n = rt_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	hc_console(buf, (size_t)n);
}

static _Noreturn void fatal(const struct rt_frame *f, const char *what, int status)
{
	uint64_t cr2;
	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	console_flush();
	hc_line("\nguest: %s (vector %lu) error=0x%lx rip=0x%lx cr2=0x%lx\n", what,
		(unsigned long)f->vector, (unsigned long)f->error, (unsigned long)f->rip,
		(unsigned long)cr2);
	hc_line("guest: rsp=0x%lx rflags=0x%lx rax=0x%lx rbx=0x%lx rcx=0x%lx rdx=0x%lx\n",
		(unsigned long)f->rsp, (unsigned long)f->rflags, (unsigned long)f->rax,
		(unsigned long)f->rbx, (unsigned long)f->rcx, (unsigned long)f->rdx);
	hc_line("guest: rsi=0x%lx rdi=0x%lx rbp=0x%lx exit status %d\n", (unsigned long)f->rsi,
		(unsigned long)f->rdi, (unsigned long)f->rbp, status);
	rt_exit(status);
}

static void do_IRQ(unsigned irq)
{
	irq_handler_t fn = irq_handlers[irq];

	mask_and_ack_8259A(irq);
	if (fn) {
		fn(irq);
		enable_8259A_irq(irq);
	}
}

void rt_trap(struct rt_frame *f)
{
	uint64_t v = f->vector;

	if (v >= RT_IRQ_BASE && v < RT_IRQ_BASE + RT_NR_IRQS)
		do_IRQ((unsigned)(v - RT_IRQ_BASE));
	else if (v < 32)
		fatal(f, exc_names[v], RT_EXIT_EXCEPTION + (int)v);
	else
		fatal(f, "unexpected interrupt", RT_EXIT_UNEXPECTED);
}

void request_irq(unsigned irq, irq_handler_t fn)
{
	unsigned long flags = local_irq_save();
	irq_handlers[irq] = fn;
	enable_8259A_irq(irq);
	local_irq_restore(flags);
}
