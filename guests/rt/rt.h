/*
 * rt.h - the freestanding runtime every vmxlab guest links with.
 *
 * A workload provides
 *     int main(const char *args);
 * which runs after the runtime has installed its IDT, found its console and
 * checked nothing else; its return value becomes the exit status (hypercall
 * VMXLAB_HC_EXIT).  Interrupts are off when main starts.
 */
#ifndef VMXLAB_GUEST_RT_H
#define VMXLAB_GUEST_RT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vmxlab/hypercall.h>

int main(const char *args);

/* ------------------------------------------------------------ hypercalls */

static inline long hc_call(long nr, long a, long b)
{
	long ret;
	__asm__ volatile("vmcall" : "=a"(ret) : "a"(nr), "b"(a), "c"(b) : "memory");
	return ret;
}

static inline long hc_console(const char *buf, size_t len)
{
	return hc_call(VMXLAB_HC_CONSOLE, (long)buf, (long)len);
}

static inline long hc_phase(unsigned phase)
{
	return hc_call(VMXLAB_HC_PHASE, phase, 0);
}

/* Flushes the console, then ends the run with `status`. */
_Noreturn void rt_exit(int status);

/* Exit statuses of the runtime itself (a workload returns 0 on success). */
#define RT_EXIT_BAD_ARGS   2    /* unknown key or malformed value in the boot args */
#define RT_EXIT_SELFCHECK  3    /* a workload's internal check failed */
#define RT_EXIT_UNEXPECTED 99   /* an interrupt on a vector nobody owns */
#define RT_EXIT_EXCEPTION  100  /* + vector number, for exceptions 0-31 */

/* ------------------------------------------------------------ console */

/* The console is the 16550A at 0x3f8 when the scenario has one, otherwise
 * the console hypercall (console.c says how that is decided). */
void console_init(void);
bool console_has_uart(void);
void console_write(const char *s, size_t len);
void console_flush(void);

int rt_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int rt_vprintf(const char *fmt, va_list ap);
int rt_snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int rt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

/* ------------------------------------------------------------ boot args */

/*
 * The boot argument string is a list of key=value words separated by
 * blanks.  A workload names the keys it understands; any other key, a word
 * without '=', or a value that is not a decimal or 0x-hex number below 2^64
 * is reported and ends the run with RT_EXIT_BAD_ARGS.
 */
void args_check(const char *args, const char *const *known_keys);
/* The value of `key`, or `def` if it is absent (the last occurrence wins). */
uint64_t args_u64(const char *args, const char *key, uint64_t def);
bool args_has(const char *args, const char *key);

/* ------------------------------------------------------------ interrupts */

/* What entry.S saves, lowest address first. */
struct rt_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;   /* pushed by the CPU */
};

#define RT_IRQ_BASE  0x20  /* vector of IRQ 0 (master 8259A ICW2) */
#define RT_NR_IRQS   16

typedef void (*irq_handler_t)(unsigned irq);

/* Runtime internals: idt_init is called by rt_start, rt_trap by entry.S. */
void idt_init(void);
void rt_trap(struct rt_frame *f);

/* Install `fn` for ISA IRQ `irq` and unmask the line (Linux's setup_irq). */
void request_irq(unsigned irq, irq_handler_t fn);

static inline void local_irq_enable(void)
{
	__asm__ volatile("sti" : : : "memory");
}

static inline void local_irq_disable(void)
{
	__asm__ volatile("cli" : : : "memory");
}

static inline unsigned long local_irq_save(void)
{
	unsigned long flags;
	__asm__ volatile("pushfq\n\tpopq %0\n\tcli" : "=r"(flags) : : "memory");
	return flags;
}

static inline void local_irq_restore(unsigned long flags)
{
	__asm__ volatile("pushq %0\n\tpopfq" : : "r"(flags) : "memory", "cc");
}

static inline void cpu_relax(void)
{
	__asm__ volatile("pause" : : : "memory");
}

/* Busy-wait about `us` microseconds, assuming one instruction per
 * nanosecond (the scenario's default guest speed); like Linux's udelay it
 * is a calibrated loop, not a port access. */
void udelay(unsigned long us);

/* ------------------------------------------------------------ the PIC and PIT */

/* i8259.c: the 8259A pair driven the way Linux 2.6's i8259.c did. */
void init_8259A(void);
void mask_and_ack_8259A(unsigned irq);
void enable_8259A_irq(unsigned irq);
void disable_8259A_irq(unsigned irq);
extern uint64_t spurious_8259A_count;

/* i8253.c: PIT channel 0 as the HZ timer, the way Linux 2.6 set it up. */
#define HZ 1000
#define CLOCK_TICK_RATE 1193182u  /* the PC's 8254 input clock, Hz */
#define LATCH ((CLOCK_TICK_RATE + HZ / 2) / HZ)

void time_init(void);                /* program the PIT and install IRQ 0 */
extern volatile uint64_t jiffies;    /* timer interrupts since time_init */
extern uint64_t pit_reloads;         /* VIA686a workaround hits (expected 0) */
extern uint32_t pit_last_count;      /* the count latched by the last tick */

/* ------------------------------------------------------------ memory */

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

#endif
