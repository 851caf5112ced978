/*
 * image.S - a guest image for the loader tests, linked at 0x200000 as ELF64
 * and (-m32) ELF32, and copied out as a flat binary.  Its code
 * means the same in 32- and 64-bit mode, so the long-mode test machine runs
 * either: OUT 0x99 with AL = 0x42, then HLT.  .data and .bss give the ELF
 * images a second loadable segment whose memory size exceeds its file size.
 */
	.text
	.globl _start
_start:
	mov $0x42, %eax
	out %al, $0x99
	hlt

	.data
	.balign 4096
	.globl image_data
image_data:
	.long 0xfeedf00d

	.bss
	.balign 16
	.globl image_bss
image_bss:
	.skip 256

	.section .note.GNU-stack, "", @progbits
