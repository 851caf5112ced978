/*
 * Integration guest: the CMOS clock (devices/rtc.c).  Reads the time the
 * way Linux does at boot (wait while UIP is set, then the BCD bytes), takes
 * three update-ended interrupts on IRQ 8 through the slave 8259A (each
 * acknowledged by reading register C, then EOI to both 8259As), halting in
 * between, reads the time again and reports:
 *   result: t0=CCYY-MM-DD hh:mm:ss t1=CCYY-MM-DD hh:mm:ss irqs=N
 */
	.code64
	.globl _start
_start:
	lea idt(%rip), %rdi
	lea rtc_isr(%rip), %rax
	/* IDT entry 0x28 (IRQ 8, the slave's base): 64-bit interrupt gate. */
	mov %ax, 0x280(%rdi)
	movw $0x08, 0x282(%rdi)
	movw $0x8e00, 0x284(%rdi)
	shr $16, %rax
	mov %ax, 0x286(%rdi)
	shr $16, %rax
	mov %eax, 0x288(%rdi)
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
	mov $0xfb, %al          /* master: only IRQ2, the slave */
	out %al, $0x21
	mov $0xfe, %al          /* slave: only IRQ8 */
	out %al, $0xa1

	lea t0(%rip), %rdi
	call read_time

	/* Register C read clears stale flags; B = UIE, 24-hour, BCD. */
	mov $0x0c, %al
	call cmos_read
	mov $0x0b, %al
	out %al, $0x70
	mov $0x12, %al
	out %al, $0x71

	sti
1:	hlt
	cmpl $3, irqs(%rip)
	jb 1b
	cli

	mov $0x0b, %al
	out %al, $0x70
	mov $0x02, %al
	out %al, $0x71
	lea t1(%rip), %rdi
	call read_time

	mov irqs(%rip), %eax
	add $'0', %al
	mov %al, ndigit(%rip)
	lea msg(%rip), %rbx
	mov $msglen, %ecx
	xor %eax, %eax
	vmcall
	mov $1, %eax
	xor %ebx, %ebx
	vmcall

/* %al: CMOS index in, the byte out. */
cmos_read:
	out %al, $0x70
	in $0x71, %al
	ret

/* The BCD byte in %al as two digits at (%rdi); %rdi moves past them. */
put_bcd:
	mov %al, %ah
	shr $4, %al
	add $'0', %al
	mov %al, (%rdi)
	mov %ah, %al
	and $0x0f, %al
	add $'0', %al
	mov %al, 1(%rdi)
	add $2, %rdi
	ret

/* CMOS byte %al as two digits, then the separator %dl. */
field:
	call cmos_read
	call put_bcd
	mov %dl, (%rdi)
	inc %rdi
	ret

/* "CCYY-MM-DD hh:mm:ss" at (%rdi), read once UIP is clear (each read of
 * register A is an exit, so virtual time moves on while the guest waits). */
read_time:
1:	mov $0x0a, %al
	call cmos_read
	test $0x80, %al
	jnz 1b
	mov $0x32, %al
	call cmos_read
	call put_bcd
	mov $0x09, %al
	mov $'-', %dl
	call field
	mov $0x08, %al
	call field
	mov $0x07, %al
	mov $' ', %dl
	call field
	mov $0x04, %al
	mov $':', %dl
	call field
	mov $0x02, %al
	call field
	mov $0x00, %al
	call cmos_read
	call put_bcd
	ret

/* IRQ 8: reading register C lowers the line; EOI the slave, then the master. */
rtc_isr:
	push %rax
	mov $0x0c, %al
	out %al, $0x70
	in $0x71, %al
	incl irqs(%rip)
	mov $0x20, %al
	out %al, $0xa0
	out %al, $0x20
	pop %rax
	iretq

	.data
	.balign 16
idtr:	.word 0x2ff
	.quad idt
irqs:	.long 0
msg:	.ascii "result: t0="
t0:	.ascii "CCYY-MM-DD hh:mm:ss"
	.ascii " t1="
t1:	.ascii "CCYY-MM-DD hh:mm:ss"
	.ascii " irqs="
ndigit:	.ascii "0\n"
	.set msglen, . - msg
	.bss
	.balign 4096
idt:	.skip 0x300
