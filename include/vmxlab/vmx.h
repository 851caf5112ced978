/*
 * vmx.h - the VT-x architecture as data: VMCS field encodings, basic exit
 * reasons, control bits, and the exit-qualification / interruption-information
 * / instruction-information layouts as named structs with codecs.
 *
 * Implemented by vmx-model/ (tables in vmcs_fields.c and exit_reasons.c,
 * codecs in codec.c).  Used by everything: hv/ handlers, the simulator's
 * live backend, replay, the debugger and the reports.
 *
 * References are to the Intel SDM, Volume 3 (order no. 325384), Appendix B
 * (field encodings) and Appendix C (exit reasons), chapters 25-29.
 */
#ifndef VMXLAB_VMX_H
#define VMXLAB_VMX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * VMCS component encoding (SDM 25.11.2, Table 25-21):
 *
 *   31        15 14  13 12 11  10 9              1  0
 *  +-----------+------+--+------+-----------------+---+
 *  | reserved  |width |0 | type |      index      |hi |
 *  +-----------+------+--+------+-----------------+---+
 *
 *  width: 0 16-bit, 1 64-bit, 2 32-bit, 3 natural width
 *  type:  0 control, 1 VM-exit information (read-only), 2 guest state, 3 host
 *  hi:    access type; 1 addresses the upper 32 bits of a 64-bit field
 */
enum vmcs_width { VMCS_W16 = 0, VMCS_W64 = 1, VMCS_W32 = 2, VMCS_WNAT = 3 };
enum vmcs_type { VMCS_T_CTRL = 0, VMCS_T_EXIT = 1, VMCS_T_GUEST = 2, VMCS_T_HOST = 3 };

#define VMCS_ENC_HIGH(e)   ((e) & 1u)
#define VMCS_ENC_INDEX(e)  (((e) >> 1) & 0x1ffu)
#define VMCS_ENC_TYPE(e)   (((e) >> 10) & 3u)
#define VMCS_ENC_WIDTH(e)  (((e) >> 13) & 3u)
#define VMCS_ENC_RESERVED  0xffff9000u /* bit 12 and bits 31:15 must be 0 */

/*
 * Every VMCS field of SDM Appendix B, in encoding order:
 * X(NAME, encoding, width, type).  Width and type are written out rather than
 * derived so that a unit test can check the table against the encoding bits.
 * Fields marked (Bochs 3.0) are those the simulated CPU implements; the rest
 * exist architecturally and read as unsupported on the live backend.
 */
#define VMCS_FIELDS(X)                                                         \
	/* B.1.1 16-bit control fields */                                      \
	X(VIRTUAL_PROCESSOR_ID, 0x0000, VMCS_W16, VMCS_T_CTRL)                 \
	X(POSTED_INTR_NV, 0x0002, VMCS_W16, VMCS_T_CTRL)                       \
	X(EPTP_INDEX, 0x0004, VMCS_W16, VMCS_T_CTRL)                           \
	X(HLAT_PREFIX_SIZE, 0x0006, VMCS_W16, VMCS_T_CTRL)                     \
	X(LAST_PID_POINTER_INDEX, 0x0008, VMCS_W16, VMCS_T_CTRL)               \
	X(VIRTUAL_TIMER_VECTOR, 0x000a, VMCS_W16, VMCS_T_CTRL)                 \
	/* B.1.2 16-bit guest-state fields */                                  \
	X(GUEST_ES_SELECTOR, 0x0800, VMCS_W16, VMCS_T_GUEST)                   \
	X(GUEST_CS_SELECTOR, 0x0802, VMCS_W16, VMCS_T_GUEST)                   \
	X(GUEST_SS_SELECTOR, 0x0804, VMCS_W16, VMCS_T_GUEST)                   \
	X(GUEST_DS_SELECTOR, 0x0806, VMCS_W16, VMCS_T_GUEST)                   \
	X(GUEST_FS_SELECTOR, 0x0808, VMCS_W16, VMCS_T_GUEST)                   \
	X(GUEST_GS_SELECTOR, 0x080a, VMCS_W16, VMCS_T_GUEST)                   \
	X(GUEST_LDTR_SELECTOR, 0x080c, VMCS_W16, VMCS_T_GUEST)                 \
	X(GUEST_TR_SELECTOR, 0x080e, VMCS_W16, VMCS_T_GUEST)                   \
	X(GUEST_INTR_STATUS, 0x0810, VMCS_W16, VMCS_T_GUEST)                   \
	X(GUEST_PML_INDEX, 0x0812, VMCS_W16, VMCS_T_GUEST)                     \
	X(GUEST_UINV, 0x0814, VMCS_W16, VMCS_T_GUEST)                          \
	/* B.1.3 16-bit host-state fields */                                   \
	X(HOST_ES_SELECTOR, 0x0c00, VMCS_W16, VMCS_T_HOST)                     \
	X(HOST_CS_SELECTOR, 0x0c02, VMCS_W16, VMCS_T_HOST)                     \
	X(HOST_SS_SELECTOR, 0x0c04, VMCS_W16, VMCS_T_HOST)                     \
	X(HOST_DS_SELECTOR, 0x0c06, VMCS_W16, VMCS_T_HOST)                     \
	X(HOST_FS_SELECTOR, 0x0c08, VMCS_W16, VMCS_T_HOST)                     \
	X(HOST_GS_SELECTOR, 0x0c0a, VMCS_W16, VMCS_T_HOST)                     \
	X(HOST_TR_SELECTOR, 0x0c0c, VMCS_W16, VMCS_T_HOST)                     \
	/* B.2.1 64-bit control fields */                                      \
	X(IO_BITMAP_A, 0x2000, VMCS_W64, VMCS_T_CTRL)                          \
	X(IO_BITMAP_B, 0x2002, VMCS_W64, VMCS_T_CTRL)                          \
	X(MSR_BITMAP, 0x2004, VMCS_W64, VMCS_T_CTRL)                           \
	X(VM_EXIT_MSR_STORE_ADDR, 0x2006, VMCS_W64, VMCS_T_CTRL)               \
	X(VM_EXIT_MSR_LOAD_ADDR, 0x2008, VMCS_W64, VMCS_T_CTRL)                \
	X(VM_ENTRY_MSR_LOAD_ADDR, 0x200a, VMCS_W64, VMCS_T_CTRL)               \
	X(EXECUTIVE_VMCS_POINTER, 0x200c, VMCS_W64, VMCS_T_CTRL)               \
	X(PML_ADDRESS, 0x200e, VMCS_W64, VMCS_T_CTRL)                          \
	X(TSC_OFFSET, 0x2010, VMCS_W64, VMCS_T_CTRL)                           \
	X(VIRTUAL_APIC_PAGE_ADDR, 0x2012, VMCS_W64, VMCS_T_CTRL)               \
	X(APIC_ACCESS_ADDR, 0x2014, VMCS_W64, VMCS_T_CTRL)                     \
	X(POSTED_INTR_DESC_ADDR, 0x2016, VMCS_W64, VMCS_T_CTRL)                \
	X(VM_FUNCTION_CONTROL, 0x2018, VMCS_W64, VMCS_T_CTRL)                  \
	X(EPT_POINTER, 0x201a, VMCS_W64, VMCS_T_CTRL)                          \
	X(EOI_EXIT_BITMAP0, 0x201c, VMCS_W64, VMCS_T_CTRL)                     \
	X(EOI_EXIT_BITMAP1, 0x201e, VMCS_W64, VMCS_T_CTRL)                     \
	X(EOI_EXIT_BITMAP2, 0x2020, VMCS_W64, VMCS_T_CTRL)                     \
	X(EOI_EXIT_BITMAP3, 0x2022, VMCS_W64, VMCS_T_CTRL)                     \
	X(EPTP_LIST_ADDR, 0x2024, VMCS_W64, VMCS_T_CTRL)                       \
	X(VMREAD_BITMAP, 0x2026, VMCS_W64, VMCS_T_CTRL)                        \
	X(VMWRITE_BITMAP, 0x2028, VMCS_W64, VMCS_T_CTRL)                       \
	X(VE_INFORMATION_ADDR, 0x202a, VMCS_W64, VMCS_T_CTRL)                  \
	X(XSS_EXIT_BITMAP, 0x202c, VMCS_W64, VMCS_T_CTRL)                      \
	X(ENCLS_EXITING_BITMAP, 0x202e, VMCS_W64, VMCS_T_CTRL)                 \
	X(SPP_TABLE_POINTER, 0x2030, VMCS_W64, VMCS_T_CTRL)                    \
	X(TSC_MULTIPLIER, 0x2032, VMCS_W64, VMCS_T_CTRL)                       \
	X(TERTIARY_VM_EXEC_CONTROL, 0x2034, VMCS_W64, VMCS_T_CTRL)             \
	X(ENCLV_EXITING_BITMAP, 0x2036, VMCS_W64, VMCS_T_CTRL)                 \
	X(LOW_PASID_DIRECTORY, 0x2038, VMCS_W64, VMCS_T_CTRL)                  \
	X(HIGH_PASID_DIRECTORY, 0x203a, VMCS_W64, VMCS_T_CTRL)                 \
	X(SHARED_EPT_POINTER, 0x203c, VMCS_W64, VMCS_T_CTRL)                   \
	X(PCONFIG_EXITING_BITMAP, 0x203e, VMCS_W64, VMCS_T_CTRL)               \
	X(HLAT_POINTER, 0x2040, VMCS_W64, VMCS_T_CTRL)                         \
	X(PID_POINTER_TABLE_ADDR, 0x2042, VMCS_W64, VMCS_T_CTRL)               \
	X(SECONDARY_VM_EXIT_CONTROLS, 0x2044, VMCS_W64, VMCS_T_CTRL)           \
	X(IA32_SPEC_CTRL_MASK, 0x204a, VMCS_W64, VMCS_T_CTRL)                  \
	X(IA32_SPEC_CTRL_SHADOW, 0x204c, VMCS_W64, VMCS_T_CTRL)                \
	X(GUEST_DEADLINE_SHADOW, 0x204e, VMCS_W64, VMCS_T_CTRL)                \
	X(INJECTED_EVENT_DATA, 0x2052, VMCS_W64, VMCS_T_CTRL)                  \
	/* B.2.2 64-bit read-only data fields */                               \
	X(GUEST_PHYSICAL_ADDRESS, 0x2400, VMCS_W64, VMCS_T_EXIT)               \
	X(MSR_DATA, 0x2402, VMCS_W64, VMCS_T_EXIT)                             \
	X(ORIGINAL_EVENT_DATA, 0x2404, VMCS_W64, VMCS_T_EXIT)                  \
	/* B.2.3 64-bit guest-state fields */                                  \
	X(VMCS_LINK_POINTER, 0x2800, VMCS_W64, VMCS_T_GUEST)                   \
	X(GUEST_IA32_DEBUGCTL, 0x2802, VMCS_W64, VMCS_T_GUEST)                 \
	X(GUEST_IA32_PAT, 0x2804, VMCS_W64, VMCS_T_GUEST)                      \
	X(GUEST_IA32_EFER, 0x2806, VMCS_W64, VMCS_T_GUEST)                     \
	X(GUEST_IA32_PERF_GLOBAL_CTRL, 0x2808, VMCS_W64, VMCS_T_GUEST)         \
	X(GUEST_PDPTE0, 0x280a, VMCS_W64, VMCS_T_GUEST)                        \
	X(GUEST_PDPTE1, 0x280c, VMCS_W64, VMCS_T_GUEST)                        \
	X(GUEST_PDPTE2, 0x280e, VMCS_W64, VMCS_T_GUEST)                        \
	X(GUEST_PDPTE3, 0x2810, VMCS_W64, VMCS_T_GUEST)                        \
	X(GUEST_IA32_BNDCFGS, 0x2812, VMCS_W64, VMCS_T_GUEST)                  \
	X(GUEST_IA32_RTIT_CTL, 0x2814, VMCS_W64, VMCS_T_GUEST)                 \
	X(GUEST_IA32_LBR_CTL, 0x2816, VMCS_W64, VMCS_T_GUEST)                  \
	X(GUEST_IA32_PKRS, 0x2818, VMCS_W64, VMCS_T_GUEST)                     \
	X(GUEST_IA32_FRED_CONFIG, 0x281a, VMCS_W64, VMCS_T_GUEST)              \
	X(GUEST_IA32_FRED_RSP1, 0x281c, VMCS_W64, VMCS_T_GUEST)                \
	X(GUEST_IA32_FRED_RSP2, 0x281e, VMCS_W64, VMCS_T_GUEST)                \
	X(GUEST_IA32_FRED_RSP3, 0x2820, VMCS_W64, VMCS_T_GUEST)                \
	X(GUEST_IA32_FRED_STKLVLS, 0x2822, VMCS_W64, VMCS_T_GUEST)             \
	X(GUEST_IA32_FRED_SSP1, 0x2824, VMCS_W64, VMCS_T_GUEST)                \
	X(GUEST_IA32_FRED_SSP2, 0x2826, VMCS_W64, VMCS_T_GUEST)                \
	X(GUEST_IA32_FRED_SSP3, 0x2828, VMCS_W64, VMCS_T_GUEST)                \
	X(GUEST_IA32_SPEC_CTRL, 0x282e, VMCS_W64, VMCS_T_GUEST)                \
	X(GUEST_DEADLINE, 0x2830, VMCS_W64, VMCS_T_GUEST)                      \
	/* B.2.4 64-bit host-state fields */                                   \
	X(HOST_IA32_PAT, 0x2c00, VMCS_W64, VMCS_T_HOST)                        \
	X(HOST_IA32_EFER, 0x2c02, VMCS_W64, VMCS_T_HOST)                       \
	X(HOST_IA32_PERF_GLOBAL_CTRL, 0x2c04, VMCS_W64, VMCS_T_HOST)           \
	X(HOST_IA32_PKRS, 0x2c06, VMCS_W64, VMCS_T_HOST)                       \
	X(HOST_IA32_FRED_CONFIG, 0x2c08, VMCS_W64, VMCS_T_HOST)                \
	X(HOST_IA32_FRED_RSP1, 0x2c0a, VMCS_W64, VMCS_T_HOST)                  \
	X(HOST_IA32_FRED_RSP2, 0x2c0c, VMCS_W64, VMCS_T_HOST)                  \
	X(HOST_IA32_FRED_RSP3, 0x2c0e, VMCS_W64, VMCS_T_HOST)                  \
	X(HOST_IA32_FRED_STKLVLS, 0x2c10, VMCS_W64, VMCS_T_HOST)               \
	X(HOST_IA32_FRED_SSP1, 0x2c12, VMCS_W64, VMCS_T_HOST)                  \
	X(HOST_IA32_FRED_SSP2, 0x2c14, VMCS_W64, VMCS_T_HOST)                  \
	X(HOST_IA32_FRED_SSP3, 0x2c16, VMCS_W64, VMCS_T_HOST)                  \
	X(HOST_IA32_SPEC_CTRL, 0x2c1a, VMCS_W64, VMCS_T_HOST)                  \
	/* B.3.1 32-bit control fields */                                      \
	X(PIN_BASED_VM_EXEC_CONTROL, 0x4000, VMCS_W32, VMCS_T_CTRL)            \
	X(CPU_BASED_VM_EXEC_CONTROL, 0x4002, VMCS_W32, VMCS_T_CTRL)            \
	X(EXCEPTION_BITMAP, 0x4004, VMCS_W32, VMCS_T_CTRL)                     \
	X(PAGE_FAULT_ERROR_CODE_MASK, 0x4006, VMCS_W32, VMCS_T_CTRL)           \
	X(PAGE_FAULT_ERROR_CODE_MATCH, 0x4008, VMCS_W32, VMCS_T_CTRL)          \
	X(CR3_TARGET_COUNT, 0x400a, VMCS_W32, VMCS_T_CTRL)                     \
	X(VM_EXIT_CONTROLS, 0x400c, VMCS_W32, VMCS_T_CTRL)                     \
	X(VM_EXIT_MSR_STORE_COUNT, 0x400e, VMCS_W32, VMCS_T_CTRL)              \
	X(VM_EXIT_MSR_LOAD_COUNT, 0x4010, VMCS_W32, VMCS_T_CTRL)               \
	X(VM_ENTRY_CONTROLS, 0x4012, VMCS_W32, VMCS_T_CTRL)                    \
	X(VM_ENTRY_MSR_LOAD_COUNT, 0x4014, VMCS_W32, VMCS_T_CTRL)              \
	X(VM_ENTRY_INTR_INFO, 0x4016, VMCS_W32, VMCS_T_CTRL)                   \
	X(VM_ENTRY_EXCEPTION_ERROR_CODE, 0x4018, VMCS_W32, VMCS_T_CTRL)        \
	X(VM_ENTRY_INSTRUCTION_LEN, 0x401a, VMCS_W32, VMCS_T_CTRL)             \
	X(TPR_THRESHOLD, 0x401c, VMCS_W32, VMCS_T_CTRL)                        \
	X(SECONDARY_VM_EXEC_CONTROL, 0x401e, VMCS_W32, VMCS_T_CTRL)            \
	X(PLE_GAP, 0x4020, VMCS_W32, VMCS_T_CTRL)                              \
	X(PLE_WINDOW, 0x4022, VMCS_W32, VMCS_T_CTRL)                           \
	X(NOTIFY_WINDOW, 0x4024, VMCS_W32, VMCS_T_CTRL)                        \
	/* B.3.2 32-bit read-only data fields */                               \
	X(VM_INSTRUCTION_ERROR, 0x4400, VMCS_W32, VMCS_T_EXIT)                 \
	X(VM_EXIT_REASON, 0x4402, VMCS_W32, VMCS_T_EXIT)                       \
	X(VM_EXIT_INTR_INFO, 0x4404, VMCS_W32, VMCS_T_EXIT)                    \
	X(VM_EXIT_INTR_ERROR_CODE, 0x4406, VMCS_W32, VMCS_T_EXIT)              \
	X(IDT_VECTORING_INFO, 0x4408, VMCS_W32, VMCS_T_EXIT)                   \
	X(IDT_VECTORING_ERROR_CODE, 0x440a, VMCS_W32, VMCS_T_EXIT)             \
	X(VM_EXIT_INSTRUCTION_LEN, 0x440c, VMCS_W32, VMCS_T_EXIT)              \
	X(VMX_INSTRUCTION_INFO, 0x440e, VMCS_W32, VMCS_T_EXIT)                 \
	/* B.3.3 32-bit guest-state fields */                                  \
	X(GUEST_ES_LIMIT, 0x4800, VMCS_W32, VMCS_T_GUEST)                      \
	X(GUEST_CS_LIMIT, 0x4802, VMCS_W32, VMCS_T_GUEST)                      \
	X(GUEST_SS_LIMIT, 0x4804, VMCS_W32, VMCS_T_GUEST)                      \
	X(GUEST_DS_LIMIT, 0x4806, VMCS_W32, VMCS_T_GUEST)                      \
	X(GUEST_FS_LIMIT, 0x4808, VMCS_W32, VMCS_T_GUEST)                      \
	X(GUEST_GS_LIMIT, 0x480a, VMCS_W32, VMCS_T_GUEST)                      \
	X(GUEST_LDTR_LIMIT, 0x480c, VMCS_W32, VMCS_T_GUEST)                    \
	X(GUEST_TR_LIMIT, 0x480e, VMCS_W32, VMCS_T_GUEST)                      \
	X(GUEST_GDTR_LIMIT, 0x4810, VMCS_W32, VMCS_T_GUEST)                    \
	X(GUEST_IDTR_LIMIT, 0x4812, VMCS_W32, VMCS_T_GUEST)                    \
	X(GUEST_ES_AR_BYTES, 0x4814, VMCS_W32, VMCS_T_GUEST)                   \
	X(GUEST_CS_AR_BYTES, 0x4816, VMCS_W32, VMCS_T_GUEST)                   \
	X(GUEST_SS_AR_BYTES, 0x4818, VMCS_W32, VMCS_T_GUEST)                   \
	X(GUEST_DS_AR_BYTES, 0x481a, VMCS_W32, VMCS_T_GUEST)                   \
	X(GUEST_FS_AR_BYTES, 0x481c, VMCS_W32, VMCS_T_GUEST)                   \
	X(GUEST_GS_AR_BYTES, 0x481e, VMCS_W32, VMCS_T_GUEST)                   \
	X(GUEST_LDTR_AR_BYTES, 0x4820, VMCS_W32, VMCS_T_GUEST)                 \
	X(GUEST_TR_AR_BYTES, 0x4822, VMCS_W32, VMCS_T_GUEST)                   \
	X(GUEST_INTERRUPTIBILITY_INFO, 0x4824, VMCS_W32, VMCS_T_GUEST)         \
	X(GUEST_ACTIVITY_STATE, 0x4826, VMCS_W32, VMCS_T_GUEST)                \
	X(GUEST_SMBASE, 0x4828, VMCS_W32, VMCS_T_GUEST)                        \
	X(GUEST_SYSENTER_CS, 0x482a, VMCS_W32, VMCS_T_GUEST)                   \
	X(VMX_PREEMPTION_TIMER_VALUE, 0x482e, VMCS_W32, VMCS_T_GUEST)          \
	/* B.3.4 32-bit host-state field */                                    \
	X(HOST_IA32_SYSENTER_CS, 0x4c00, VMCS_W32, VMCS_T_HOST)                \
	/* B.4.1 natural-width control fields */                               \
	X(CR0_GUEST_HOST_MASK, 0x6000, VMCS_WNAT, VMCS_T_CTRL)                 \
	X(CR4_GUEST_HOST_MASK, 0x6002, VMCS_WNAT, VMCS_T_CTRL)                 \
	X(CR0_READ_SHADOW, 0x6004, VMCS_WNAT, VMCS_T_CTRL)                     \
	X(CR4_READ_SHADOW, 0x6006, VMCS_WNAT, VMCS_T_CTRL)                     \
	X(CR3_TARGET_VALUE0, 0x6008, VMCS_WNAT, VMCS_T_CTRL)                   \
	X(CR3_TARGET_VALUE1, 0x600a, VMCS_WNAT, VMCS_T_CTRL)                   \
	X(CR3_TARGET_VALUE2, 0x600c, VMCS_WNAT, VMCS_T_CTRL)                   \
	X(CR3_TARGET_VALUE3, 0x600e, VMCS_WNAT, VMCS_T_CTRL)                   \
	/* B.4.2 natural-width read-only data fields */                        \
	X(EXIT_QUALIFICATION, 0x6400, VMCS_WNAT, VMCS_T_EXIT)                  \
	X(IO_RCX, 0x6402, VMCS_WNAT, VMCS_T_EXIT)                              \
	X(IO_RSI, 0x6404, VMCS_WNAT, VMCS_T_EXIT)                              \
	X(IO_RDI, 0x6406, VMCS_WNAT, VMCS_T_EXIT)                              \
	X(IO_RIP, 0x6408, VMCS_WNAT, VMCS_T_EXIT)                              \
	X(GUEST_LINEAR_ADDRESS, 0x640a, VMCS_WNAT, VMCS_T_EXIT)                \
	/* B.4.3 natural-width guest-state fields */                           \
	X(GUEST_CR0, 0x6800, VMCS_WNAT, VMCS_T_GUEST)                          \
	X(GUEST_CR3, 0x6802, VMCS_WNAT, VMCS_T_GUEST)                          \
	X(GUEST_CR4, 0x6804, VMCS_WNAT, VMCS_T_GUEST)                          \
	X(GUEST_ES_BASE, 0x6806, VMCS_WNAT, VMCS_T_GUEST)                      \
	X(GUEST_CS_BASE, 0x6808, VMCS_WNAT, VMCS_T_GUEST)                      \
	X(GUEST_SS_BASE, 0x680a, VMCS_WNAT, VMCS_T_GUEST)                      \
	X(GUEST_DS_BASE, 0x680c, VMCS_WNAT, VMCS_T_GUEST)                      \
	X(GUEST_FS_BASE, 0x680e, VMCS_WNAT, VMCS_T_GUEST)                      \
	X(GUEST_GS_BASE, 0x6810, VMCS_WNAT, VMCS_T_GUEST)                      \
	X(GUEST_LDTR_BASE, 0x6812, VMCS_WNAT, VMCS_T_GUEST)                    \
	X(GUEST_TR_BASE, 0x6814, VMCS_WNAT, VMCS_T_GUEST)                      \
	X(GUEST_GDTR_BASE, 0x6816, VMCS_WNAT, VMCS_T_GUEST)                    \
	X(GUEST_IDTR_BASE, 0x6818, VMCS_WNAT, VMCS_T_GUEST)                    \
	X(GUEST_DR7, 0x681a, VMCS_WNAT, VMCS_T_GUEST)                          \
	X(GUEST_RSP, 0x681c, VMCS_WNAT, VMCS_T_GUEST)                          \
	X(GUEST_RIP, 0x681e, VMCS_WNAT, VMCS_T_GUEST)                          \
	X(GUEST_RFLAGS, 0x6820, VMCS_WNAT, VMCS_T_GUEST)                       \
	X(GUEST_PENDING_DBG_EXCEPTIONS, 0x6822, VMCS_WNAT, VMCS_T_GUEST)       \
	X(GUEST_SYSENTER_ESP, 0x6824, VMCS_WNAT, VMCS_T_GUEST)                 \
	X(GUEST_SYSENTER_EIP, 0x6826, VMCS_WNAT, VMCS_T_GUEST)                 \
	X(GUEST_S_CET, 0x6828, VMCS_WNAT, VMCS_T_GUEST)                        \
	X(GUEST_SSP, 0x682a, VMCS_WNAT, VMCS_T_GUEST)                          \
	X(GUEST_INTR_SSP_TABLE_ADDR, 0x682c, VMCS_WNAT, VMCS_T_GUEST)          \
	/* B.4.4 natural-width host-state fields */                            \
	X(HOST_CR0, 0x6c00, VMCS_WNAT, VMCS_T_HOST)                            \
	X(HOST_CR3, 0x6c02, VMCS_WNAT, VMCS_T_HOST)                            \
	X(HOST_CR4, 0x6c04, VMCS_WNAT, VMCS_T_HOST)                            \
	X(HOST_FS_BASE, 0x6c06, VMCS_WNAT, VMCS_T_HOST)                        \
	X(HOST_GS_BASE, 0x6c08, VMCS_WNAT, VMCS_T_HOST)                        \
	X(HOST_TR_BASE, 0x6c0a, VMCS_WNAT, VMCS_T_HOST)                        \
	X(HOST_GDTR_BASE, 0x6c0c, VMCS_WNAT, VMCS_T_HOST)                      \
	X(HOST_IDTR_BASE, 0x6c0e, VMCS_WNAT, VMCS_T_HOST)                      \
	X(HOST_IA32_SYSENTER_ESP, 0x6c10, VMCS_WNAT, VMCS_T_HOST)              \
	X(HOST_IA32_SYSENTER_EIP, 0x6c12, VMCS_WNAT, VMCS_T_HOST)              \
	X(HOST_RSP, 0x6c14, VMCS_WNAT, VMCS_T_HOST)                            \
	X(HOST_RIP, 0x6c16, VMCS_WNAT, VMCS_T_HOST)                            \
	X(HOST_S_CET, 0x6c18, VMCS_WNAT, VMCS_T_HOST)                          \
	X(HOST_SSP, 0x6c1a, VMCS_WNAT, VMCS_T_HOST)                            \
	X(HOST_INTR_SSP_TABLE_ADDR, 0x6c1c, VMCS_WNAT, VMCS_T_HOST)

enum vmcs_field {
#define VMX_X_ENUM(name, enc, w, t) VMCS_##name = (enc),
	VMCS_FIELDS(VMX_X_ENUM)
#undef VMX_X_ENUM
};

struct vmcs_field_info {
	uint32_t encoding;
	const char *name;    /* e.g. "GUEST_RIP" */
	enum vmcs_width width;
	enum vmcs_type type;
};

/* The table, in encoding order, and lookups.  A "_HIGH" encoding (bit 0 set)
 * is found as its 64-bit field. NULL when the encoding is not architectural. */
extern const struct vmcs_field_info vmcs_field_table[];
extern const size_t vmcs_field_count;
const struct vmcs_field_info *vmcs_field_lookup(uint32_t encoding);
/* The encoding's row in vmcs_field_table, or -1 where vmcs_field_lookup
 * gives NULL.  Both are O(1): a direct index by encoding, no search. */
int vmcs_field_index(uint32_t encoding);
const struct vmcs_field_info *vmcs_field_by_name(const char *name);
unsigned vmcs_width_bits(enum vmcs_width w); /* 16, 64, 32, 64 (natural) */
const char *vmcs_width_name(enum vmcs_width w);
const char *vmcs_type_name(enum vmcs_type t);

/*
 * Basic exit reasons, SDM Appendix C (Table C-1): X(NAME, number, "SDM name").
 * Numbers 35, 38, 42 and 71 are not used by the architecture.
 */
#define VMX_EXIT_REASONS(X)                                                    \
	X(EXCEPTION_NMI, 0, "Exception or non-maskable interrupt (NMI)")      \
	X(EXTERNAL_INTERRUPT, 1, "External interrupt")                         \
	X(TRIPLE_FAULT, 2, "Triple fault")                                     \
	X(INIT_SIGNAL, 3, "INIT signal")                                       \
	X(SIPI, 4, "Start-up IPI (SIPI)")                                      \
	X(IO_SMI, 5, "I/O system-management interrupt (SMI)")                  \
	X(OTHER_SMI, 6, "Other SMI")                                           \
	X(INTERRUPT_WINDOW, 7, "Interrupt window")                             \
	X(NMI_WINDOW, 8, "NMI window")                                         \
	X(TASK_SWITCH, 9, "Task switch")                                       \
	X(CPUID, 10, "CPUID")                                                  \
	X(GETSEC, 11, "GETSEC")                                                \
	X(HLT, 12, "HLT")                                                      \
	X(INVD, 13, "INVD")                                                    \
	X(INVLPG, 14, "INVLPG")                                                \
	X(RDPMC, 15, "RDPMC")                                                  \
	X(RDTSC, 16, "RDTSC")                                                  \
	X(RSM, 17, "RSM")                                                      \
	X(VMCALL, 18, "VMCALL")                                                \
	X(VMCLEAR, 19, "VMCLEAR")                                              \
	X(VMLAUNCH, 20, "VMLAUNCH")                                            \
	X(VMPTRLD, 21, "VMPTRLD")                                              \
	X(VMPTRST, 22, "VMPTRST")                                              \
	X(VMREAD, 23, "VMREAD")                                                \
	X(VMRESUME, 24, "VMRESUME")                                            \
	X(VMWRITE, 25, "VMWRITE")                                              \
	X(VMXOFF, 26, "VMXOFF")                                                \
	X(VMXON, 27, "VMXON")                                                  \
	X(CR_ACCESS, 28, "Control-register accesses")                          \
	X(DR_ACCESS, 29, "MOV DR")                                             \
	X(IO_INSTRUCTION, 30, "I/O instruction")                               \
	X(MSR_READ, 31, "RDMSR")                                               \
	X(MSR_WRITE, 32, "WRMSR")                                              \
	X(INVALID_GUEST_STATE, 33, "VM-entry failure due to invalid guest state") \
	X(MSR_LOAD_FAIL, 34, "VM-entry failure due to MSR loading")            \
	X(MWAIT, 36, "MWAIT")                                                  \
	X(MONITOR_TRAP_FLAG, 37, "Monitor trap flag")                          \
	X(MONITOR, 39, "MONITOR")                                              \
	X(PAUSE, 40, "PAUSE")                                                  \
	X(MCE_DURING_VMENTRY, 41, "VM-entry failure due to machine-check event") \
	X(TPR_BELOW_THRESHOLD, 43, "TPR below threshold")                      \
	X(APIC_ACCESS, 44, "APIC access")                                      \
	X(VIRTUALIZED_EOI, 45, "Virtualized EOI")                              \
	X(GDTR_IDTR, 46, "Access to GDTR or IDTR")                             \
	X(LDTR_TR, 47, "Access to LDTR or TR")                                 \
	X(EPT_VIOLATION, 48, "EPT violation")                                  \
	X(EPT_MISCONFIG, 49, "EPT misconfiguration")                           \
	X(INVEPT, 50, "INVEPT")                                                \
	X(RDTSCP, 51, "RDTSCP")                                                \
	X(PREEMPTION_TIMER, 52, "VMX-preemption timer expired")                \
	X(INVVPID, 53, "INVVPID")                                              \
	X(WBINVD, 54, "WBINVD or WBNOINVD")                                    \
	X(XSETBV, 55, "XSETBV")                                                \
	X(APIC_WRITE, 56, "APIC write")                                        \
	X(RDRAND, 57, "RDRAND")                                                \
	X(INVPCID, 58, "INVPCID")                                              \
	X(VMFUNC, 59, "VMFUNC")                                                \
	X(ENCLS, 60, "ENCLS")                                                  \
	X(RDSEED, 61, "RDSEED")                                                \
	X(PML_FULL, 62, "Page-modification log full")                          \
	X(XSAVES, 63, "XSAVES")                                                \
	X(XRSTORS, 64, "XRSTORS")                                              \
	X(PCONFIG, 65, "PCONFIG")                                              \
	X(SPP_EVENT, 66, "SPP-related event")                                  \
	X(UMWAIT, 67, "UMWAIT")                                                \
	X(TPAUSE, 68, "TPAUSE")                                                \
	X(LOADIWKEY, 69, "LOADIWKEY")                                          \
	X(ENCLV, 70, "ENCLV")                                                  \
	X(ENQCMD_PASID_FAIL, 72, "ENQCMD PASID translation failure")           \
	X(ENQCMDS_PASID_FAIL, 73, "ENQCMDS PASID translation failure")         \
	X(BUS_LOCK, 74, "Bus lock")                                            \
	X(INSTRUCTION_TIMEOUT, 75, "Instruction timeout (notify window)")      \
	X(SEAMCALL, 76, "SEAMCALL")                                            \
	X(TDCALL, 77, "TDCALL")                                                \
	X(RDMSRLIST, 78, "RDMSRLIST")                                          \
	X(WRMSRLIST, 79, "WRMSRLIST")                                          \
	X(URDMSR, 80, "URDMSR")                                                \
	X(UWRMSR, 81, "UWRMSR")

enum vmx_exit_reason {
#define VMX_X_ENUM(name, nr, desc) EXIT_REASON_##name = (nr),
	VMX_EXIT_REASONS(VMX_X_ENUM)
#undef VMX_X_ENUM
	VMX_EXIT_REASON_MAX = 81
};
#define VMX_EXIT_REASON_COUNT (VMX_EXIT_REASON_MAX + 1)

/* Short name ("IO_INSTRUCTION") or NULL for an unused/out-of-range number. */
const char *vmx_exit_reason_name(uint32_t basic_reason);
/* SDM wording ("I/O instruction") or NULL. */
const char *vmx_exit_reason_desc(uint32_t basic_reason);
/* Inverse of vmx_exit_reason_name; -1 if unknown.  Case-insensitive. */
int vmx_exit_reason_by_name(const char *name);

/*
 * Exit-reason field, VMCS 0x4402 (SDM 25.9.1, "Format of Exit Reason"):
 *   15:0 basic reason | 25:16 0 | 26 bus lock detected | 27 enclave mode |
 *   28 pending MTF | 29 exit from VMX root | 30 0 | 31 VM-entry failure
 */
#define VMX_EXIT_REASON_BASIC(r)     ((r) & 0xffffu)
#define VMX_EXIT_REASON_BUS_LOCK     (1u << 26)
#define VMX_EXIT_REASON_ENCLAVE      (1u << 27)
#define VMX_EXIT_REASON_PENDING_MTF  (1u << 28)
#define VMX_EXIT_REASON_FROM_ROOT    (1u << 29)
#define VMX_EXIT_REASON_ENTRY_FAIL   (1u << 31)

/* VM-instruction error numbers, SDM 31.4 (Table 31-1) - the ones vmxlab uses. */
enum vmx_insn_error {
	VMXERR_NONE = 0,
	VMXERR_ENTRY_INVALID_CONTROL_FIELD = 7,
	VMXERR_ENTRY_INVALID_HOST_STATE_FIELD = 8,
	VMXERR_UNSUPPORTED_VMCS_COMPONENT = 12,
	VMXERR_VMWRITE_READ_ONLY_COMPONENT = 13,
	VMXERR_ENTRY_MOV_SS_BLOCKING = 26,
};

/* ---- VM-execution, VM-exit and VM-entry control bits (SDM 25.6-25.8) ---- */

/* Pin-based VM-execution controls (Table 25-5). */
#define PIN_EXTERNAL_INTERRUPT_EXITING  (1u << 0)
#define PIN_NMI_EXITING                 (1u << 3)
#define PIN_VIRTUAL_NMIS                (1u << 5)
#define PIN_PREEMPTION_TIMER            (1u << 6)
#define PIN_POSTED_INTERRUPTS           (1u << 7)

/* Primary processor-based VM-execution controls (Table 25-6). */
#define CPU_INTERRUPT_WINDOW_EXITING    (1u << 2)
#define CPU_USE_TSC_OFFSETTING          (1u << 3)
#define CPU_HLT_EXITING                 (1u << 7)
#define CPU_INVLPG_EXITING              (1u << 9)
#define CPU_MWAIT_EXITING               (1u << 10)
#define CPU_RDPMC_EXITING               (1u << 11)
#define CPU_RDTSC_EXITING               (1u << 12)
#define CPU_CR3_LOAD_EXITING            (1u << 15)
#define CPU_CR3_STORE_EXITING           (1u << 16)
#define CPU_ACTIVATE_TERTIARY_CONTROLS  (1u << 17)
#define CPU_CR8_LOAD_EXITING            (1u << 19)
#define CPU_CR8_STORE_EXITING           (1u << 20)
#define CPU_USE_TPR_SHADOW              (1u << 21)
#define CPU_NMI_WINDOW_EXITING          (1u << 22)
#define CPU_MOV_DR_EXITING              (1u << 23)
#define CPU_UNCONDITIONAL_IO_EXITING    (1u << 24)
#define CPU_USE_IO_BITMAPS              (1u << 25)
#define CPU_MONITOR_TRAP_FLAG           (1u << 27)
#define CPU_USE_MSR_BITMAPS             (1u << 28)
#define CPU_MONITOR_EXITING             (1u << 29)
#define CPU_PAUSE_EXITING               (1u << 30)
#define CPU_ACTIVATE_SECONDARY_CONTROLS (1u << 31)

/* Secondary processor-based VM-execution controls (Table 25-7). */
#define CPU2_VIRTUALIZE_APIC_ACCESSES   (1u << 0)
#define CPU2_ENABLE_EPT                 (1u << 1)
#define CPU2_DESCRIPTOR_TABLE_EXITING   (1u << 2)
#define CPU2_ENABLE_RDTSCP              (1u << 3)
#define CPU2_VIRTUALIZE_X2APIC          (1u << 4)
#define CPU2_ENABLE_VPID                (1u << 5)
#define CPU2_WBINVD_EXITING             (1u << 6)
#define CPU2_UNRESTRICTED_GUEST         (1u << 7)
#define CPU2_APIC_REGISTER_VIRT         (1u << 8)
#define CPU2_VIRTUAL_INTR_DELIVERY      (1u << 9)
#define CPU2_PAUSE_LOOP_EXITING         (1u << 10)
#define CPU2_RDRAND_EXITING             (1u << 11)
#define CPU2_ENABLE_INVPCID             (1u << 12)
#define CPU2_ENABLE_VMFUNC              (1u << 13)
#define CPU2_VMCS_SHADOWING             (1u << 14)
#define CPU2_RDSEED_EXITING             (1u << 16)
#define CPU2_ENABLE_PML                 (1u << 17)
#define CPU2_EPT_VIOLATION_VE           (1u << 18)
#define CPU2_ENABLE_XSAVES              (1u << 20)
#define CPU2_MODE_BASED_EPT_EXEC        (1u << 22)
#define CPU2_USE_TSC_SCALING            (1u << 25)

/* Primary VM-exit controls (Table 25-13). */
#define EXIT_SAVE_DEBUG_CONTROLS        (1u << 2)
#define EXIT_HOST_ADDR_SPACE_SIZE       (1u << 9)
#define EXIT_LOAD_PERF_GLOBAL_CTRL      (1u << 12)
#define EXIT_ACK_INTR_ON_EXIT           (1u << 15)
#define EXIT_SAVE_IA32_PAT              (1u << 18)
#define EXIT_LOAD_IA32_PAT              (1u << 19)
#define EXIT_SAVE_IA32_EFER             (1u << 20)
#define EXIT_LOAD_IA32_EFER             (1u << 21)
#define EXIT_SAVE_PREEMPTION_TIMER      (1u << 22)

/* VM-entry controls (Table 25-15). */
#define ENTRY_LOAD_DEBUG_CONTROLS       (1u << 2)
#define ENTRY_IA32E_MODE_GUEST          (1u << 9)
#define ENTRY_SMM                       (1u << 10)
#define ENTRY_LOAD_PERF_GLOBAL_CTRL     (1u << 13)
#define ENTRY_LOAD_IA32_PAT             (1u << 14)
#define ENTRY_LOAD_IA32_EFER            (1u << 15)

/* Guest interruptibility state, VMCS 0x4824 (SDM 25.4.2, Table 25-3). */
#define INTR_BLOCKING_STI               (1u << 0)
#define INTR_BLOCKING_MOV_SS            (1u << 1)
#define INTR_BLOCKING_SMI               (1u << 2)
#define INTR_BLOCKING_NMI               (1u << 3)
#define INTR_BLOCKING_ENCLAVE           (1u << 4)

/* Guest activity state, VMCS 0x4826 (SDM 25.4.2). */
enum vmx_activity_state {
	ACTIVITY_ACTIVE = 0, ACTIVITY_HLT = 1, ACTIVITY_SHUTDOWN = 2, ACTIVITY_WAIT_SIPI = 3,
};

/* Architectural registers and bits handlers need. */
#define X86_CR0_PE  (1ull << 0)
#define X86_CR0_MP  (1ull << 1)
#define X86_CR0_TS  (1ull << 3)
#define X86_CR0_ET  (1ull << 4)
#define X86_CR0_NE  (1ull << 5)
#define X86_CR0_WP  (1ull << 16)
#define X86_CR0_PG  (1ull << 31)
#define X86_CR4_PSE (1ull << 4)
#define X86_CR4_PAE (1ull << 5)
#define X86_CR4_PGE (1ull << 7)
#define X86_CR4_LA57 (1ull << 12)
#define X86_CR4_VMXE (1ull << 13)
#define X86_EFER_LME (1ull << 8)
#define X86_EFER_LMA (1ull << 10)
#define X86_EFER_NXE (1ull << 11)
#define X86_RFLAGS_CF (1ull << 0)
#define X86_RFLAGS_PF (1ull << 2)
#define X86_RFLAGS_AF (1ull << 4)
#define X86_RFLAGS_ZF (1ull << 6)
#define X86_RFLAGS_SF (1ull << 7)
#define X86_RFLAGS_TF (1ull << 8)
#define X86_RFLAGS_IF (1ull << 9)
#define X86_RFLAGS_DF (1ull << 10)
#define X86_RFLAGS_OF (1ull << 11)

/* General-purpose registers, numbered as the qualification and
 * instruction-information fields number them (SDM Table 28-3), followed by
 * the guest registers that VM exits leave live in the CPU and that no VMCS
 * field holds (CR2, DR0-DR3, DR6, XCR0): handlers reach them the same way. */
enum vmx_gpr {
	GPR_RAX, GPR_RCX, GPR_RDX, GPR_RBX, GPR_RSP, GPR_RBP, GPR_RSI, GPR_RDI,
	GPR_R8, GPR_R9, GPR_R10, GPR_R11, GPR_R12, GPR_R13, GPR_R14, GPR_R15,
	GPR_COUNT,
	VREG_CR2 = GPR_COUNT, VREG_DR0, VREG_DR1, VREG_DR2, VREG_DR3, VREG_DR6, VREG_XCR0,
	VREG_COUNT
};
const char *vmx_gpr_name(enum vmx_gpr r); /* "rax" .. "r15", "cr2" .. "xcr0" */

/* Segment registers, numbered as instruction information numbers them. */
enum vmx_seg { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_COUNT };

/* ---------------- Exit qualifications (SDM 28.2.1) ---------------- */

/*
 * I/O instructions (Table 28-5):
 *
 *   63    32 31       16 15   7  6   5    4    3   2    0
 *  +--------+-----------+------+---+----+-----+---+------+
 *  |   0    |   port    |  0   |imm|rep |str  |in |size-1|
 *  +--------+-----------+------+---+----+-----+---+------+
 *  size-1: 0 = 1 byte, 1 = 2 bytes, 3 = 4 bytes (other values are not used)
 */
struct vmx_io_qual {
	uint8_t size;      /* 1, 2 or 4 */
	bool in;           /* direction: IN/INS */
	bool string;       /* INS/OUTS */
	bool rep;          /* REP prefix */
	bool imm;          /* operand encoding: immediate port (else DX) */
	uint16_t port;
};

/*
 * Control-register accesses (Table 28-3):
 *
 *   63    32 31      16 15  12 11 8  7  6  5 4  3  0
 *  +--------+----------+------+-----+---+---+----+----+
 *  |   0    |LMSW src  |  0   | GPR | 0 |mem|type| CR |
 *  +--------+----------+------+-----+---+---+----+----+
 *  type: 0 MOV to CR, 1 MOV from CR, 2 CLTS, 3 LMSW; mem (bit 6): LMSW operand
 *  is memory (1) or register (0)
 */
enum vmx_cr_access_type { CR_MOV_TO = 0, CR_MOV_FROM = 1, CR_CLTS = 2, CR_LMSW = 3 };
struct vmx_cr_qual {
	uint8_t cr;                    /* 0, 3, 4 or 8 (0 for CLTS and LMSW) */
	enum vmx_cr_access_type type;
	bool lmsw_mem;
	uint8_t gpr;                   /* enum vmx_gpr for MOV CR */
	uint16_t lmsw_source;          /* LMSW source data */
};

/*
 * MOV DR (Table 28-4):   11:8 GPR | 4 direction (0 to DR, 1 from DR) | 2:0 DR
 */
struct vmx_dr_qual {
	uint8_t dr;
	bool from_dr;
	uint8_t gpr;
};

/*
 * EPT violations (Table 28-7):
 *   0 read   1 write   2 fetch                       (the access that faulted)
 *   3 readable 4 writable 5 executable 6 user-executable (what the EPT entry allowed)
 *   7 guest linear address valid  8 the access was to the translation of that
 *   linear address (0: to a paging-structure entry)  9 user-mode address
 *   10 read/write page  11 execute-disable page (9-11 with advanced info)
 *   12 NMI unblocking due to IRET  13 shadow-stack access  14 supervisor
 *   shadow stack  15 guest-paging verification  16 asynchronous to instruction
 */
struct vmx_ept_qual {
	bool read, write, fetch;
	bool readable, writable, executable, user_executable;
	bool gla_valid, gla_translation;
	bool user, rw, nx;
	bool nmi_unblocking;
	bool shadow_stack, supervisor_shadow_stack;
	bool paging_verification, async;
};

/*
 * Task switch (Table 28-2):   15:0 TSS selector | 31:30 source
 *   source: 0 CALL, 1 IRET, 2 JMP, 3 task gate in IDT
 */
enum vmx_task_switch_source { TS_CALL = 0, TS_IRET = 1, TS_JMP = 2, TS_IDT = 3 };
struct vmx_task_switch_qual {
	uint16_t selector;
	enum vmx_task_switch_source source;
};

/*
 * INVLPG: the qualification is the linear-address operand (64 bits; upper 32
 * bits 0 outside 64-bit mode).  INVEPT, INVPCID, INVVPID, LGDT/LIDT/LLDT/LTR,
 * SGDT/SIDT/SLDT/STR, VMCLEAR, VMPTRLD, VMPTRST, VMREAD, VMWRITE, VMXON,
 * XRSTORS, XSAVES: the displacement of the memory operand, sign-extended
 * (SDM 28.2.1, "various instructions"); the rest of the operand is in the
 * VM-exit instruction-information field.
 */
struct vmx_invlpg_qual {
	uint64_t linear_address;
};
struct vmx_displacement_qual {
	int64_t displacement;
};

/* ------- Interruption information (SDM 25.8.3, 25.9.2, 25.9.3) -------
 *
 *   31   30    13  12      11      10   8 7      0
 *  +-----+--------+-----+---------+------+--------+
 *  |valid|   0    |NMI-U|err valid| type | vector |
 *  +-----+--------+-----+---------+------+--------+
 *  Used by VM-entry interruption info (0x4016), VM-exit interruption info
 *  (0x4404) and IDT-vectoring info (0x4408).  Bit 12 (NMI unblocking due to
 *  IRET) exists only in the exit interruption info; it must be 0 on entry.
 */
enum vmx_intr_type {
	INTR_TYPE_EXT_INTR = 0,
	INTR_TYPE_NMI = 2,
	INTR_TYPE_HARD_EXCEPTION = 3,
	INTR_TYPE_SOFT_INTR = 4,
	INTR_TYPE_PRIV_SW_EXCEPTION = 5,
	INTR_TYPE_SOFT_EXCEPTION = 6,
	INTR_TYPE_OTHER_EVENT = 7,
};
struct vmx_intr_info {
	bool valid;
	uint8_t vector;
	enum vmx_intr_type type;
	bool error_code_valid;
	bool nmi_unblocking;
};
const char *vmx_intr_type_name(enum vmx_intr_type t);

/* ------- VM-exit instruction information (SDM 28.2.5, Tables 28-8..28-19) ----
 *
 *   31  28 27 26  23 22 21  18 17 15 14 13 12 11 10  9  7  6   3  2  1  0
 *  +------+--+------+--+------+-----+-----+-----+--+-----+------+--+-----+
 *  | reg2 |BI| base |II|index | seg |undef|opsz |MR|asize| reg1 |u |scale|
 *  +------+--+------+--+------+-----+-----+-----+--+-----+------+--+-----+
 *  BI/II: base/index invalid; MR: 1 = register operand (reg1), 0 = memory;
 *  asize: 0 16-bit, 1 32-bit, 2 64-bit; opsz (12:11): operand size
 *  (RDRAND/RDSEED: 0 16, 1 32, 2 64; LGDT/SGDT family uses bit 11 only);
 *  bits 29:28 double as the instruction identity for descriptor-table exits.
 *  INS/OUTS define only asize and seg.  Each instruction uses a subset: the
 *  codec carries every field, the handler reads those its instruction defines.
 */
struct vmx_insn_info {
	uint8_t scaling;      /* 0..3: index * 1, 2, 4, 8 */
	uint8_t reg1;
	uint8_t addr_size;    /* 0 16-bit, 1 32-bit, 2 64-bit */
	bool reg_operand;     /* bit 10 */
	uint8_t operand_size; /* bits 12:11 */
	uint8_t segment;      /* enum vmx_seg */
	uint8_t index_reg;
	bool index_invalid;
	uint8_t base_reg;
	bool base_invalid;
	uint8_t reg2;         /* bits 31:28 */
};
/* Bits 29:28 of instruction information for GDTR/IDTR and LDTR/TR exits. */
#define VMX_INSN_INFO_IDENTITY(raw) (((raw) >> 28) & 3u)

/* Codecs.  decode never fails (reserved and undefined bits are ignored);
 * encode returns the raw field with those bits 0.  The I/O decode returns
 * false for an unused size-1 value (2, 4-7), with size 0 and the other
 * fields filled. */
bool vmx_io_qual_decode(uint64_t raw, struct vmx_io_qual *q);
uint64_t vmx_io_qual_encode(const struct vmx_io_qual *q);
void vmx_cr_qual_decode(uint64_t raw, struct vmx_cr_qual *q);
uint64_t vmx_cr_qual_encode(const struct vmx_cr_qual *q);
void vmx_dr_qual_decode(uint64_t raw, struct vmx_dr_qual *q);
uint64_t vmx_dr_qual_encode(const struct vmx_dr_qual *q);
void vmx_ept_qual_decode(uint64_t raw, struct vmx_ept_qual *q);
uint64_t vmx_ept_qual_encode(const struct vmx_ept_qual *q);
void vmx_task_switch_qual_decode(uint64_t raw, struct vmx_task_switch_qual *q);
uint64_t vmx_task_switch_qual_encode(const struct vmx_task_switch_qual *q);
void vmx_invlpg_qual_decode(uint64_t raw, struct vmx_invlpg_qual *q);
uint64_t vmx_invlpg_qual_encode(const struct vmx_invlpg_qual *q);
/* The processor stores the displacement already sign-extended to 64 bits. */
void vmx_displacement_qual_decode(uint64_t raw, struct vmx_displacement_qual *q);
uint64_t vmx_displacement_qual_encode(const struct vmx_displacement_qual *q);
void vmx_intr_info_decode(uint32_t raw, struct vmx_intr_info *i);
uint32_t vmx_intr_info_encode(const struct vmx_intr_info *i);
void vmx_insn_info_decode(uint32_t raw, struct vmx_insn_info *i);
uint32_t vmx_insn_info_encode(const struct vmx_insn_info *i);

/* One-line human descriptions, e.g. "IN AL, 0x21 (imm8, 1 byte)" or
 * "MOV CR3 <- rax".  Return the number of characters written like snprintf. */
int vmx_io_qual_format(const struct vmx_io_qual *q, char *buf, size_t len);
int vmx_cr_qual_format(const struct vmx_cr_qual *q, char *buf, size_t len);
int vmx_ept_qual_format(const struct vmx_ept_qual *q, char *buf, size_t len);
int vmx_intr_info_format(const struct vmx_intr_info *i, char *buf, size_t len);

#endif
