/*
 * layout.h - the simulated CPU's "host-physical" address space, shared by
 * trampoline.S and the C code (plain #defines only).
 *
 *   0                     guest RAM, GPA == HPA (EPT identity), up to 3 GiB
 *   HOST_BASE 0xffc00000  the host area, 4 MiB, never mapped by EPT:
 *     +0x000000  VMXON region
 *     +0x001000  VMCS
 *     +0x002000  I/O bitmap A (ports 0000-7fff), +0x003000 bitmap B
 *     +0x004000  MSR bitmap
 *     +0x005000  host PML4, +0x006000 PDPT, +0x007000 PD (2 MiB pages
 *                identity-mapping the host area only)
 *     +0x008000  host TSS
 *     +0x009000  host stack (grows down from +0x010000)
 *     +0x010000  EPT paging structures (pool of 4 KiB pages)
 *     +0x3ff000  trampoline page; the reset vector 0xfffffff0 lies in it
 *   SHARED_HPA_BASE       host buffers mapped with sim_map_shared
 *
 * The CPU starts at the reset vector in real mode (CS base 0xffff0000,
 * IP 0xfff0), which is why the host area ends at 4 GiB.
 */
#ifndef VMXLAB_SIM_LAYOUT_H
#define VMXLAB_SIM_LAYOUT_H

#define HOST_BASE        0xffc00000
#define HOST_SIZE        0x00400000
#define HOST_VMXON       (HOST_BASE + 0x000000)
#define HOST_VMCS        (HOST_BASE + 0x001000)
#define HOST_IO_BITMAP_A (HOST_BASE + 0x002000)
#define HOST_IO_BITMAP_B (HOST_BASE + 0x003000)
#define HOST_MSR_BITMAP  (HOST_BASE + 0x004000)
#define HOST_PML4        (HOST_BASE + 0x005000)
#define HOST_PDPT        (HOST_BASE + 0x006000)
#define HOST_PD          (HOST_BASE + 0x007000)
#define HOST_TSS         (HOST_BASE + 0x008000)
#define HOST_STACK_TOP   (HOST_BASE + 0x010000)
#define HOST_EPT_POOL    (HOST_BASE + 0x010000)
#define HOST_EPT_POOL_END (HOST_BASE + 0x3ff000)
#define HOST_TRAMPOLINE  0xfffff000

/* Host GDT selectors (the GDT lives in the trampoline page). */
#define HOST_SEL_CODE64  0x08
#define HOST_SEL_DATA    0x10
#define HOST_SEL_CODE32  0x18
#define HOST_SEL_TSS     0x20

/* Offset of the trampoline page within the real-mode reset segment
 * (base 0xffff0000): what real-mode code uses as IP and data offsets. */
#define TRAMP_REAL_OFFSET 0xf000

/* sim_map_shared buffers: above every RAM/host address, below the CPU's
 * 40-bit physical-address width.  The low 32 bits stay clear of RAM so that
 * Bochs's page write-stamp table (hashed by bits 31:12) does not alias them. */
#define SHARED_HPA_BASE  0x80e0000000ull
#define SHARED_HPA_SIZE  0x1f000000ull

#endif
