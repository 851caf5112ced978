/*
 * Integration guest: the PIT (channel 0, mode 2, 1 kHz) interrupts through
 * the 8259A, the handler counts ticks and EOIs; the main loop halts until
 * ten ticks have arrived, then reports them and exits.  Exercises PIT
 * timers in virtual time, the PIC, the external-interrupt kick, injection
 * and HLT.
 */
	.code64
	.globl _start
_start:
	lea idt(%rip), %rdi
	lea timer_isr(%rip), %rax
	/* IDT entry 0x20: 64-bit interrupt gate, selector 0x08, DPL 0, present. */
	mov %ax, 0x200(%rdi)
	movw $0x08, 0x202(%rdi)
	movw $0x8e00, 0x204(%rdi)
	shr $16, %rax
	mov %ax, 0x206(%rdi)
	shr $16, %rax
	mov %eax, 0x208(%rdi)
	lidt idtr(%rip)

	/* 8259A: ICW1 edge+ICW4, ICW2 base 0x20 / 0x28, ICW3 cascade on IRQ2, ICW4 8086. */
	mov $0x11, %al
	out %al, $0x20
	out %al, $0xa0
	mov $0x20, %al
	out %al, $0x21
	mov $0x28, %al
	out %al, $0xa1
	mov $0x04, %al
	out %al, $0x21
	mov $0x02, %al
	out %al, $0xa1
	mov $0x01, %al
	out %al, $0x21
	out %al, $0xa1
	mov $0xfe, %al          /* only IRQ0 */
	out %al, $0x21
	mov $0xff, %al
	out %al, $0xa1

	/* 8254: channel 0, lobyte/hibyte, mode 2, count 1193 (about 1 kHz). */
	mov $0x34, %al
	out %al, $0x43
	mov $(1193 & 0xff), %al
	out %al, $0x40
	mov $(1193 >> 8), %al
	out %al, $0x40

	sti
1:	hlt
	cmpl $10, ticks(%rip)
	jb 1b
	cli

	/* "result: ticks=N\n" with N in two decimal digits. */
	mov ticks(%rip), %eax
	xor %edx, %edx
	mov $10, %ecx
	div %ecx
	add $'0', %al
	add $'0', %dl
	mov %al, digits(%rip)
	mov %dl, digits+1(%rip)
	lea msg(%rip), %rbx
	mov $msglen, %ecx
	xor %eax, %eax
	vmcall
	mov $1, %eax
	xor %ebx, %ebx
	vmcall

timer_isr:
	push %rax
	incl ticks(%rip)
	mov $0x20, %al
	out %al, $0x20          /* non-specific EOI */
	pop %rax
	iretq

	.data
	.balign 16
idtr:	.word 0x2ff
	.quad idt
ticks:	.long 0
msg:	.ascii "result: ticks="
digits:	.ascii "00\n"
	.set msglen, . - msg
	.bss
	.balign 4096
idt:	.skip 0x300
