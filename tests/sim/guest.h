/*
 * guest.h - shared by the tiny test guests (guests.S) and the C tests.
 *
 * A guest is a position-independent piece of code between the symbols
 * guest_NAME and guest_NAME_end; the test copies it into guest RAM and
 * starts it there.  at_NAME_N marks an instruction the test expects an exit
 * at: its guest address is load address + (at_NAME_N - guest_NAME).
 */
#ifndef VMXLAB_TEST_SIM_GUEST_H
#define VMXLAB_TEST_SIM_GUEST_H

#define GUEST_LOAD      0x100000   /* long-mode guests */
#define GUEST_LOAD_REAL 0x7c00     /* real-mode guests */
#define GUEST_IDT       0x20000    /* where guests that take interrupts build their IDT */
#define GUEST_DATA      0x30000    /* scratch data */
#define GUEST_MMIO      0xc0000000 /* an MMIO page the tests leave out of EPT */
#define GUEST_SHARED    0xd0000000 /* a page the tests map to a host buffer */

#ifdef __ASSEMBLER__

	.macro GUEST name
	.globl guest_\name, guest_\name\()_end
	.balign 16
guest_\name:
	.endm

	.macro END name
guest_\name\()_end:
	.endm

	.macro AT name, n
	.globl at_\name\()_\n
at_\name\()_\n:
	.endm

/* A 64-bit interrupt gate (SDM Vol. 3A 6.14.1) for `vector` -> `label`,
 * code selector 0x08, present, DPL 0, type 0xe:
 *   0: offset 15:0 | selector | IST 0 | P DPL 0 type | offset 31:16
 *   8: offset 63:32 | 0 */
	.macro SET_GATE vector, label
	lea \label(%rip), %rax
	mov $(GUEST_IDT + \vector * 16), %rdi
	mov %ax, (%rdi)
	movw $0x08, 2(%rdi)
	movw $0x8e00, 4(%rdi)
	shr $16, %rax
	mov %ax, 6(%rdi)
	shr $16, %rax
	mov %eax, 8(%rdi)
	movl $0, 12(%rdi)
	.endm

	.macro LOAD_IDT
	sub $16, %rsp
	movw $0xfff, (%rsp)
	movq $GUEST_IDT, 2(%rsp)
	lidt (%rsp)
	add $16, %rsp
	.endm

#else

#define GUEST_SYM(name) \
	extern const unsigned char guest_##name[], guest_##name##_end[]
#define AT_SYM(name, n) extern const unsigned char at_##name##_##n[]

#endif
#endif
