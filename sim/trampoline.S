/*
 * trampoline.S - the root-mode program of the simulated CPU.
 *
 * Assembled into the host program's read-only data; sim/machine.c copies the
 * page to host-physical HOST_TRAMPOLINE (0xfffff000) before the CPU leaves
 * reset.  The CPU runs it in VMX root mode; the guest never sees it.
 *
 *   reset vector (real mode) -> protected mode -> long mode
 *   IA32_FEATURE_CONTROL, CR4.VMXE, VMXON, VMCLEAR, VMPTRLD
 *   stop_setup:  hlt          the host fills the VMCS (Bochs VMWRITE)
 *   launch:      vmlaunch
 *   stop_launch_fail: hlt     VMfail; VM_INSTRUCTION_ERROR says why
 *   stop_exit:   hlt          HOST_RIP: every VM exit arrives here
 *   resume:      vmresume
 *   stop_resume_fail: hlt
 *
 * Each HLT is a "host stop": the bx_instr_hlt hook (sim/glue.cc) sees a HLT
 * in root mode, ends the CPU loop and the host runs its code outside every
 * Bochs frame.  Before running the CPU again the host points RIP at `launch`
 * or `resume`.
 */
#include "layout.h"

#define TRAMP_HPA(label)  (HOST_TRAMPOLINE + ((label) - vmxlab_tramp_start))
#define TRAMP_REAL(label) (TRAMP_REAL_OFFSET + ((label) - vmxlab_tramp_start))

#define CR0_PE   0x00000001
#define CR0_ET   0x00000010
#define CR0_NE   0x00000020
#define CR0_PG   0x80000000
#define CR4_PAE  0x00000020
#define CR4_VMXE 0x00002000
#define MSR_EFER 0xc0000080
#define EFER_LME 0x00000100
#define MSR_FEATURE_CONTROL 0x3a
#define FEATURE_CONTROL_LOCK_VMXON 0x5 /* bit 0 lock, bit 2 VMXON outside SMX */

	.section .rodata.vmxlab_trampoline, "a"
	.balign 4096
	.globl vmxlab_tramp_start, vmxlab_tramp_end
	.globl vmxlab_tramp_stop_setup, vmxlab_tramp_launch
	.globl vmxlab_tramp_stop_launch_fail, vmxlab_tramp_stop_exit
	.globl vmxlab_tramp_resume, vmxlab_tramp_stop_resume_fail

vmxlab_tramp_start:
	.code16
start16:
	cli
	cld
	lgdtl %cs:TRAMP_REAL(gdt_desc)
	movl %cr0, %eax
	orl $(CR0_PE | CR0_NE | CR0_ET), %eax
	andl $0x9fffffff, %eax			/* caches on: CD, NW off */
	movl %eax, %cr0
	ljmpl $HOST_SEL_CODE32, $TRAMP_HPA(start32)

	.code32
start32:
	movw $HOST_SEL_DATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw %ax, %fs
	movw %ax, %gs
	movl $HOST_PML4, %eax
	movl %eax, %cr3
	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	orl $CR0_PG, %eax
	movl %eax, %cr0
	ljmpl $HOST_SEL_CODE64, $TRAMP_HPA(start64)

	.code64
start64:
	movl $HOST_STACK_TOP, %esp
	movl $HOST_SEL_TSS, %eax
	ltr %ax
	/* Bochs resets IA32_FEATURE_CONTROL to 0: VMXON needs it locked with
	 * "VMXON outside SMX" set (SDM 24.7). */
	movl $MSR_FEATURE_CONTROL, %ecx
	movl $FEATURE_CONTROL_LOCK_VMXON, %eax
	xorl %edx, %edx
	wrmsr
	movq %cr4, %rax
	orq $CR4_VMXE, %rax
	movq %rax, %cr4
	vmxon vmxon_ptr(%rip)
	vmclear vmcs_ptr(%rip)
	vmptrld vmcs_ptr(%rip)
vmxlab_tramp_stop_setup:
	hlt
vmxlab_tramp_launch:
	vmlaunch
vmxlab_tramp_stop_launch_fail:
	hlt
	jmp vmxlab_tramp_launch
vmxlab_tramp_stop_exit:
	hlt
vmxlab_tramp_resume:
	vmresume
vmxlab_tramp_stop_resume_fail:
	hlt
	jmp vmxlab_tramp_resume

	.balign 8
vmxon_ptr:
	.quad HOST_VMXON
vmcs_ptr:
	.quad HOST_VMCS

/*
 * Host GDT.  Descriptor layout (SDM Vol. 3A 3.4.5):
 *   63   56 55 54 53 52 51  48 47 46 45 44 43   40 39     16 15      0
 *  +-------+--+--+--+--+-----+--+-----+--+-------+---------+---------+
 *  |base hi|G |DB|L |  |lim  |P | DPL |S | type  | base lo | limit lo|
 *  +-------+--+--+--+--+-----+--+-----+--+-------+---------+---------+
 */
	.balign 16
gdt:
	.quad 0
	.quad 0x00af9a000000ffff		/* 0x08 64-bit code */
	.quad 0x00cf92000000ffff		/* 0x10 data, 4 GiB */
	.quad 0x00cf9a000000ffff		/* 0x18 32-bit code, 4 GiB */
	/* 0x20 64-bit TSS, available (type 9), base HOST_TSS, limit 0x67 */
	.word 0x0067
	.word (HOST_TSS & 0xffff)
	.byte ((HOST_TSS >> 16) & 0xff)
	.byte 0x89
	.byte 0x00
	.byte ((HOST_TSS >> 24) & 0xff)
	.long 0
	.long 0
gdt_end:
gdt_desc:
	.word gdt_end - gdt - 1
	.long TRAMP_HPA(gdt)

	/* The reset vector, 0xfffffff0: real mode, CS base 0xffff0000. */
	.org 0xff0
	.code16
reset_vector:
	jmp start16
	.org 0x1000
vmxlab_tramp_end:

	.section .note.GNU-stack, "", @progbits
