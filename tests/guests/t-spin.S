/*
 * Integration guest: port I/O forever (an OUT to the PIC's IMR in a loop),
 * for tests that stop a run from outside: limits, signals, a dying
 * device-model process.
 */
	.code64
	.globl _start
_start:
	mov $0xff, %al
1:	out %al, $0x21
	jmp 1b
