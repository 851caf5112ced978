/*
 * vmxlab instrumentation for the Bochs CPU (configured with
 * --enable-instrumentation=instrument/vmxlab; sim/sim.mk copies this
 * directory into the Bochs tree).
 *
 * Every BX_INSTR_* hook compiles to nothing except two:
 *   HLT              rare: sim/glue.cc recognises the root-mode exit stub's
 *                    HLT (the VM exit has reached the host) and a shutdown.
 *   AFTER_EXECUTION  per retired instruction, so gated by a flag the glue
 *                    sets only while single-stepping; the unarmed cost is
 *                    one load and one predicted branch.
 * The stock instrument/stubs header makes an out-of-line call for every
 * hook, per instruction; that is what this file avoids.
 */
#ifndef VMXLAB_BX_INSTRUMENT_H
#define VMXLAB_BX_INSTRUMENT_H

#if BX_INSTRUMENTATION

class bxInstruction_c;

extern bool vmxlab_instr_step_armed;
void vmxlab_instr_hlt(unsigned cpu);
void vmxlab_instr_after_execution(unsigned cpu, bxInstruction_c *i);

#define BX_INSTR_HLT(cpu_id) vmxlab_instr_hlt(cpu_id)
#define BX_INSTR_AFTER_EXECUTION(cpu_id, i)                          \
	do {                                                         \
		if (__builtin_expect(vmxlab_instr_step_armed, 0))    \
			vmxlab_instr_after_execution(cpu_id, i);     \
	} while (0)

#else
#define BX_INSTR_HLT(cpu_id)
#define BX_INSTR_AFTER_EXECUTION(cpu_id, i)
#endif

#define BX_INSTR_INIT_ENV()
#define BX_INSTR_EXIT_ENV()
#define BX_INSTR_INITIALIZE(cpu_id)
#define BX_INSTR_EXIT(cpu_id)
#define BX_INSTR_RESET(cpu_id, type)
#define BX_INSTR_MWAIT(cpu_id, addr, len, flags)
#define BX_INSTR_DEBUG_PROMPT()
#define BX_INSTR_DEBUG_CMD(cmd)
#define BX_INSTR_CNEAR_BRANCH_TAKEN(cpu_id, branch_eip, new_eip)
#define BX_INSTR_CNEAR_BRANCH_NOT_TAKEN(cpu_id, branch_eip)
#define BX_INSTR_UCNEAR_BRANCH(cpu_id, what, branch_eip, new_eip)
#define BX_INSTR_FAR_BRANCH(cpu_id, what, prev_cs, prev_eip, new_cs, new_eip)
#define BX_INSTR_OPCODE(cpu_id, i, opcode, len, is32, is64)
#define BX_INSTR_EXCEPTION(cpu_id, vector, error_code)
#define BX_INSTR_INTERRUPT(cpu_id, vector)
#define BX_INSTR_HWINTERRUPT(cpu_id, vector, cs, eip)
#define BX_INSTR_CLFLUSH(cpu_id, laddr, paddr)
#define BX_INSTR_CACHE_CNTRL(cpu_id, what)
#define BX_INSTR_TLB_CNTRL(cpu_id, what, new_cr3)
#define BX_INSTR_PREFETCH_HINT(cpu_id, what, seg, offset)
#define BX_INSTR_BEFORE_EXECUTION(cpu_id, i)
#define BX_INSTR_REPEAT_ITERATION(cpu_id, i)
#define BX_INSTR_LIN_ACCESS(cpu_id, lin, phy, len, memtype, rw)
#define BX_INSTR_PHY_ACCESS(cpu_id, phy, len, memtype, rw)
#define BX_INSTR_INP(addr, len)
#define BX_INSTR_INP2(addr, len, val)
#define BX_INSTR_OUTP(addr, len, val)
#define BX_INSTR_WRMSR(cpu_id, addr, value)
#define BX_INSTR_VMEXIT(cpu_id, reason, qualification)

#endif
