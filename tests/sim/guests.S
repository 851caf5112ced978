/*
 * guests.S - the tiny guests of the simulator tests (tests/sim/*.c) and of
 * bench/bench_sim.c.  Each one exercises a few exits; the expected exits
 * are in the tables of test_sim_exits.c, next to the guest's name.
 * Long-mode guests run at GUEST_LOAD with sim's identity paging and GDT.
 */
#include "guest.h"

	.section .rodata.vmxlab_test_guests, "a"
	.code64

/* OUT/IN with an immediate port; the handler answers IN with 0x77. */
GUEST io_imm
	mov $0x5a, %al
AT io_imm, 1
	out %al, $0x80
AT io_imm, 2
	in $0x21, %al
AT io_imm, 3
	out %al, $0x81			/* al is what the handler gave */
AT io_imm, 4
	hlt
END io_imm

/* OUT/IN through DX, 1, 2 and 4 bytes. */
GUEST io_dx
	mov $0x3f8, %dx
	mov $0x12345678, %eax
AT io_dx, 1
	out %al, (%dx)
AT io_dx, 2
	out %ax, (%dx)
AT io_dx, 3
	out %eax, (%dx)
AT io_dx, 4
	in (%dx), %eax
AT io_dx, 5
	hlt
END io_dx

/* String I/O: rep outsb from a buffer, rep insw into one. */
GUEST io_string
	lea 1f(%rip), %rsi
	mov $3, %ecx
	mov $0x80, %dx
AT io_string, 1
	rep outsb
	mov $GUEST_DATA, %edi
	mov $2, %ecx
	mov $0x1f0, %dx
AT io_string, 2
	rep insw
AT io_string, 3
	hlt
AT io_string, data
1:	.ascii "abc"
END io_string

/* CPUID, HLT, RDTSC, VMCALL, INVLPG. */
GUEST misc
	xor %eax, %eax
AT misc, 1
	cpuid
AT misc, 2
	rdtsc
AT misc, 3
	vmcall
	mov $0x123000, %eax
AT misc, 4
	invlpg (%rax)
AT misc, 5
	hlt
END misc

/* RDMSR/WRMSR: FS_BASE is let through by the test, APIC_BASE exits. */
GUEST msr
	mov $0xc0000100, %ecx		/* IA32_FS_BASE */
	mov $0x1234, %eax
	xor %edx, %edx
	wrmsr
	mov $0x1b, %ecx			/* IA32_APIC_BASE */
AT msr, 1
	rdmsr
AT msr, 2
	wrmsr
	mov $0xc0000100, %ecx
	rdmsr
AT msr, 3
	out %eax, $0x80			/* eax: FS_BASE as written */
AT msr, 4
	hlt
END msr

/* MOV to CR0 (CD), CR3, CR4 (PSE), CR8. */
GUEST cr
	mov %cr0, %rax
	bts $30, %rax
AT cr, 1
	mov %rax, %cr0
	mov %cr3, %rbx
AT cr, 2
	mov %rbx, %cr3
	mov %cr4, %rcx
	bts $4, %rcx
AT cr, 3
	mov %rcx, %cr4
	mov $5, %edx
AT cr, 4
	mov %rdx, %cr8
AT cr, 5
	hlt
END cr

/* EPT violations: read, write and fetch at GUEST_MMIO (not in EPT). */
GUEST ept
	mov $(GUEST_MMIO + 8), %rbx
AT ept, 1
	mov (%rbx), %eax
AT ept, 2
	movl $0xabcd, (%rbx)
	lea 1f(%rip), %rbx		/* the handler resumes at rbx */
	mov $GUEST_MMIO, %eax
AT ept, 3
	jmp *%rax
1:
AT ept, 4
	hlt
END ept

/* #UD and #PF through the exception bitmap. */
GUEST exc
AT exc, 1
	ud2
	mov $0x100000000, %rbx		/* beyond sim's 4 GiB identity map */
AT exc, 2
	mov (%rbx), %eax
AT exc, 3
	hlt
END exc

/* Interrupt window: IF=0 at start, sti; nop; the window opens after nop. */
GUEST irq_window
	nop
	sti
	nop
AT irq_window, 1
	cli
AT irq_window, 2
	hlt
END irq_window

/* Injected events reaching the guest's handlers: at the first HLT the test
 * injects external interrupt 0x20, at the second #UD, at the third #GP
 * with error code 0x1234 (each time with RIP past the HLT). */
GUEST inject
	SET_GATE 0x20, 1f
	SET_GATE 6, 2f
	SET_GATE 13, 3f
	LOAD_IDT
	sti				/* an external interrupt can only be injected with IF = 1 */
AT inject, 1
	hlt
AT inject, 2
	out %al, $0xe1			/* back from the interrupt handler */
AT inject, 3
	hlt
AT inject, 4
	hlt
AT inject, 5
	out %al, $0xe3
AT inject, 6
	hlt
1:
AT inject, 10
	out %al, $0xe0
	iretq
2:
AT inject, 11
	out %al, $0xe6			/* returns to the RIP the exception was injected at */
	iretq
3:
	pop %rax			/* the error code */
AT inject, 12
	out %eax, $0xe7
	iretq
END inject

/* An external interrupt (INTR raised by a test timer) exits with reason 1;
 * the test then injects it and the guest's handler runs. */
GUEST extint
	SET_GATE 0x20, 2f
	LOAD_IDT
	sti
AT extint, 1
1:	jmp 1b
2:
AT extint, 2
	out %al, $0xe0
	hlt
END extint

/* No IDT: ud2 -> #UD -> #GP (IDT limit) -> #DF -> triple fault. */
GUEST triple
	nop
AT triple, 1
	ud2
END triple

/* A loop of OUTs: the exit round trip (determinism test, bench). */
GUEST out_loop
	xor %ecx, %ecx
1:	inc %ecx
AT out_loop, 1
	out %al, $0x80
	jmp 1b
END out_loop

/* No exits at all: the guest speed (bench). */
GUEST spin
	xor %eax, %eax
	xor %ecx, %ecx
1:	add %rcx, %rax
	inc %rcx
	xor $0x55, %rax
	dec %rcx
	inc %rcx
	cmp $-1, %rcx
	jne 1b
	hlt
END spin

/* Writes to a page mapped to a host buffer: no exit until the OUT. */
GUEST shared
	mov $GUEST_SHARED, %rbx
	movq $0x1122334455667788, %rax
	mov %rax, (%rbx)
	mov 8(%rbx), %rax		/* the host put a value there */
AT shared, 1
	out %eax, $0x80
	hlt
END shared

/* Straight-line code to single-step through. */
GUEST step
	mov $1, %eax
	add $2, %eax
	add $3, %eax
AT step, 1
	out %al, $0x80
	hlt
END step

/* The determinism guest: computation, I/O, CPUID, RDTSC and a timer
 * interrupt from the test's event queue. */
GUEST determ
	SET_GATE 0x20, 3f
	LOAD_IDT
	sti
	xor %ebx, %ebx
1:	mov $200, %ecx
2:	imul $33, %rbx, %rbx
	add %rcx, %rbx
	loop 2b
	out %al, $0x80
	mov %ebx, %eax
	cpuid
	rdtsc
	jmp 1b
3:	out %al, $0xe0
	iretq
END determ

/* HLT without HLT exiting: with IF = 1 a timer's interrupt wakes the guest
 * (and exits, external-interrupt exiting); with IF = 0 nothing can. */
GUEST wake
	sti
AT wake, 1
	hlt
	out %al, $0x80
END wake

GUEST halt_cli
	cli
	hlt
END halt_cli

/* ---------------------------------------------------------------- real mode */
	.code16

/* At GUEST_LOAD_REAL, CS = 0.  The last write goes to VGA memory, which the
 * test leaves out of EPT. */
GUEST real
	mov $0x12, %al
AT real, 1
	out %al, $0x80
AT real, 2
	in $0x60, %al
	xor %eax, %eax
AT real, 3
	cpuid
	mov $0x3f8, %dx
AT real, 4
	out %al, (%dx)
	mov $0xb800, %ax
	mov %ax, %ds
AT real, 5
	movw $0x0741, 0			/* 'A' on the text screen */
AT real, 6
	hlt
END real

	.section .note.GNU-stack, "", @progbits
