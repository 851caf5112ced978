/*
 * layout.h - constants shared by entry.S and the C runtime.
 */
#ifndef VMXLAB_GUEST_LAYOUT_H
#define VMXLAB_GUEST_LAYOUT_H

#define RT_GDT_CODE   0x08
#define RT_GDT_DATA   0x10
#define RT_STACK_SIZE 0x10000  /* 64 KiB: the kernels keep their arrays static */
#define RT_STUB_SIZE  16       /* bytes per interrupt entry stub (entry.S) */

#endif
