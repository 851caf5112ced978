/*
 * Integration guest: port I/O reaches the device and IN returns its value.
 * Programs the master 8259A, writes the IMR (OCW1), reads it back, reads
 * port 0x99 (no device: all ones), and reports both values.
 */
	.code64
	.globl _start
_start:
	mov $0x11, %al          /* ICW1: edge, cascade, ICW4 needed */
	out %al, $0x20
	mov $0x20, %al          /* ICW2: vectors 0x20-0x27 */
	out %al, $0x21
	mov $0x04, %al          /* ICW3: slave on IRQ2 */
	out %al, $0x21
	mov $0x01, %al          /* ICW4: 8086 mode */
	out %al, $0x21
	mov $0xa5, %al          /* OCW1: the IMR */
	out %al, $0x21
	xor %eax, %eax
	in $0x21, %al
	lea imr(%rip), %rdi
	call hex8
	mov $0x99, %dx
	in %dx, %al
	lea none(%rip), %rdi
	call hex8
	lea msg(%rip), %rbx
	mov $msglen, %ecx
	xor %eax, %eax
	vmcall
	mov $1, %eax
	xor %ebx, %ebx
	vmcall

/* Two hex digits of AL at (%rdi). */
hex8:
	mov %al, %ah
	shr $4, %al
	call nibble
	mov %al, (%rdi)
	mov %ah, %al
	and $0xf, %al
	call nibble
	mov %al, 1(%rdi)
	ret
nibble:
	cmp $10, %al
	jb 1f
	add $('a' - 10 - '0'), %al
1:	add $'0', %al
	ret

	.data
msg:	.ascii "result: imr="
imr:	.ascii "?? none="
none:	.ascii "??\n"
	.set msglen, . - msg
