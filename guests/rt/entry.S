/*
 * entry.S - the guest's first instructions and its interrupt entry points.
 *
 * At _start the simulator has the CPU in 64-bit mode at CPL 0 with paging on
 * (identity map of the first 4 GiB), RFLAGS.IF = 0, an empty IDT and
 * RDI = the boot argument string (hypercall.h, VMXLAB_BOOT_ARGS_GPA).  We
 * clear .bss, switch to our own stack and GDT and call rt_start(args).
 *
 * The task register keeps the simulator's TSS: the guest never changes
 * privilege level and uses no IST stack, so the CPU never reads it.
 */
#include "layout.h"

	.section .text.entry, "ax"
	.code64
	.globl _start
_start:
	cli
	cld
	mov	%rdi, %r12		/* boot args: callee-saved, survives the setup */

	lea	__bss_start(%rip), %rdi
	lea	__bss_end(%rip), %rcx
	sub	%rdi, %rcx
	xor	%eax, %eax
	rep stosb

	lea	rt_stack_top(%rip), %rsp
	xor	%ebp, %ebp

	lgdt	gdt_desc(%rip)
	mov	$RT_GDT_DATA, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	%ax, %fs
	mov	%ax, %gs
	/* A far return is the way to load CS in 64-bit mode (SDM Vol. 2, RET:
	 * "far return ... pops RIP, then CS"). */
	lea	1f(%rip), %rax
	pushq	$RT_GDT_CODE
	push	%rax
	lretq
1:
	mov	%r12, %rdi
	call	rt_start
	/* rt_start ends with the exit hypercall; if that ever returns, stop. */
2:	cli
	hlt
	jmp	2b

/*
 * Interrupt entry: one 16-byte stub per vector 0-255, at
 * rt_vector_stubs + 16 * vector (idt.c fills the IDT from that).  Each stub
 * makes the frame uniform - a zero where the CPU pushes no error code - and
 * pushes its vector (SDM Vol. 3, 6.13: the CPU pushes an error code for
 * #DF 8, #TS 10, #NP 11, #SS 12, #GP 13, #PF 14, #AC 17, #CP 21, #VC 29,
 * #SX 30).
 */
	.text
	.p2align 4
	.globl rt_vector_stubs
rt_vector_stubs:
	.set vec, 0
	.rept 256
	.p2align 4
	.if !((vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30))
	pushq	$0
	.endif
	pushq	$vec
	jmp	rt_trap_common
	.set vec, vec + 1
	.endr
	.p2align 4
	.globl rt_vector_stubs_end
rt_vector_stubs_end:

/*
 * Common path: save every GPR in struct rt_frame order (rt.h), call
 * rt_trap(frame) and return to the interrupted code.  The CPU aligned RSP to
 * 16 before pushing its 5-word frame (SDM Vol. 3, 6.14.2); with the error
 * code, the vector and 15 registers RSP is 16-byte aligned again at the call.
 * Exceptions do not come back: rt_trap reports them and exits the guest.
 */
rt_trap_common:
	push	%rax
	push	%rbx
	push	%rcx
	push	%rdx
	push	%rsi
	push	%rdi
	push	%rbp
	push	%r8
	push	%r9
	push	%r10
	push	%r11
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	cld
	mov	%rsp, %rdi
	call	rt_trap
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%r11
	pop	%r10
	pop	%r9
	pop	%r8
	pop	%rbp
	pop	%rdi
	pop	%rsi
	pop	%rdx
	pop	%rcx
	pop	%rbx
	pop	%rax
	add	$16, %rsp		/* vector and error code */
	iretq

/*
 * The guest's GDT: null, 64-bit code (0x08), data (0x10) - the same
 * selectors as the simulator's (sim.h), so nothing else depends on which
 * table is loaded.  Descriptor layout: SDM Vol. 3, 3.4.5 (L = bit 53 for
 * 64-bit code; P, S, type in bits 47-40).
 */
	.section .rodata
	.p2align 4
gdt:
	.quad	0
	.quad	0x00af9a000000ffff	/* 0x08: code, 64-bit (L=1, D=0), DPL 0, present */
	.quad	0x00cf92000000ffff	/* 0x10: data, writable, DPL 0, present */
gdt_end:
gdt_desc:
	.word	gdt_end - gdt - 1
	.quad	gdt

	.bss
	.p2align 12
rt_stack:
	.skip	RT_STACK_SIZE
	.globl rt_stack_top
rt_stack_top:

	.section .note.GNU-stack, "", @progbits
