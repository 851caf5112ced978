/*
 * hypercall.h - the vmxlab hypercall ABI, for guests (guests/, tests) and the
 * handler build (hv/hypercall.c).  Freestanding: no C library types.
 *
 *   VMCALL with RAX = number, arguments in RBX, RCX; result in RAX
 *   (0 or a negative errno value).  Documented in docs/hypercalls.md.
 */
#ifndef VMXLAB_HYPERCALL_H
#define VMXLAB_HYPERCALL_H

#define VMXLAB_HC_CONSOLE 0  /* RBX = guest-linear buffer, RCX = length (<= 4096) */
#define VMXLAB_HC_EXIT    1  /* RBX = exit status; does not return */
#define VMXLAB_HC_PHASE   2  /* RBX = workload phase number, recorded in the trace */

#define VMXLAB_HC_CONSOLE_MAX 4096

/* The exit port: a byte written to it ends the run with that byte as the
 * exit status, for guests that cannot VMCALL from where they are (a Linux
 * /init writes it through /dev/port).  QEMU's isa-debug-exit port. */
#define VMXLAB_EXIT_PORT 0x501

/* Boot arguments: the scenario's guest `args` string, NUL-terminated, at
 * this guest-physical address; RDI holds the address at entry. */
#define VMXLAB_BOOT_ARGS_GPA 0x8000
#define VMXLAB_BOOT_ARGS_MAX 4096

#define VMXLAB_HC_EFAULT (-14) /* the buffer is not mapped in guest memory */
#define VMXLAB_HC_EINVAL (-22) /* length out of range */
#define VMXLAB_HC_ENOSYS (-38) /* unknown hypercall number */

#endif
