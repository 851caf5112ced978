/*
 * Test guest: console text with the line ends of a serial console ("\r\n")
 * and a lone carriage return, written in two pieces so that one "\r\n" is
 * split between them.  vmxlab keeps and shows it with '\n' line ends only.
 */
	.code64
	.globl _start
_start:
	lea msg(%rip), %rbx
	mov $part1, %ecx
	xor %eax, %eax
	vmcall                  /* console write: RBX = text, RCX = length */
	lea msg+part1(%rip), %rbx
	mov $part2, %ecx
	xor %eax, %eax
	vmcall
	mov $1, %eax            /* exit, status 0 */
	xor %ebx, %ebx
	vmcall

	.data
msg:	.ascii "boot\r\nresult: crlf=1\r"
	.set part1, . - msg
	.ascii "\nover\rwritten\n"
	.set part2, . - msg - part1
