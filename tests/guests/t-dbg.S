/*
 * Debugger test guest (tests/cli/test_debug*.sh): a known instruction
 * sequence for stepi, port I/O to the PIC, a loop for RIP breakpoints, a
 * console line and a clean exit.  With boot arguments starting with "mmio"
 * it first loads from 0xfed00000, which is neither RAM nor a device window:
 * an EPT violation the handler cannot emulate (the run ends there).
 */
	.code64
	.globl _start
_start:
	mov $0x1234, %eax       /* rax = 0x1234 */
	mov $0x10, %ecx         /* rcx = 0x10 */
	add %ecx, %eax          /* rax = 0x1244 */
	lea 0x8(%rax), %rdx     /* rdx = 0x124c */
	shl $4, %rdx            /* rdx = 0x124c0 */
	xor %ebx, %ebx
	mov $0x11, %al          /* PIC ICW1..ICW4, then the IMR */
	out %al, $0x20
	mov $0x20, %al
	out %al, $0x21
	mov $0x04, %al
	out %al, $0x21
	mov $0x01, %al
	out %al, $0x21
	mov $0xa5, %al
	out %al, $0x21
	xor %eax, %eax
	in $0x21, %al           /* 0xa5 */
	mov %al, %bl
	mov $3, %ecx
.Lloop:
	mov %cl, %al
	out %al, $0x80          /* no device: the write is dropped */
	dec %ecx
	jnz .Lloop
	cmpb $'m', (%rdi)
	jne .Lreport
	mov $0xfed00000, %rsi
	mov (%rsi), %eax        /* EPT violation */
.Lreport:
	lea msg(%rip), %rbx
	mov $msglen, %ecx
	xor %eax, %eax
	vmcall                  /* console */
	mov $1, %eax
	xor %ebx, %ebx
	vmcall                  /* exit 0 */

	.data
msg:	.ascii "t-dbg: done\n"
	.set msglen, . - msg
