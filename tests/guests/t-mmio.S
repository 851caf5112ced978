/*
 * Integration guest: MMIO through EPT violations.  Stores, loads, a
 * read-modify-write, a zero-extending load, a REP STOS and a compare, all on
 * the test device's window at 0xfed00000; exits with status 0 only if every
 * value read back is right (test_hv_live checks the device side).
 */
	.code64
	.globl _start
_start:
	mov $0xfed00000, %rbx
	movl $0xdeadbeef, 0x10(%rbx)
	mov 0x10(%rbx), %eax
	mov %eax, %r12d
	orl $0x100, 0x20(%rbx)
	movzbl 0x11(%rbx), %r13d
	mov $0xfed00100, %rdi
	mov $4, %ecx
	mov $0xa5a5a5a5, %eax
	cld
	rep stosl
	mov $1, %r14d
	cmp $0xdeadbeef, %r12d
	jne 1f
	cmp $0xbe, %r13d
	jne 1f
	cmpb $0xef, 0x10(%rbx)
	jne 1f
	xor %r14d, %r14d
1:	mov %r14d, %ebx
	mov $1, %eax
	vmcall
