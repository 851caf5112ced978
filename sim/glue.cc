/*
 * glue.cc - everything the Bochs CPU archives need from outside, and the
 * mechanics sim/machine.c drives them with (glue.h).  The only file of
 * vmxlab that includes Bochs headers.
 *
 * What Bochs expects from its surroundings, and what it gets here:
 *   logfunctions, genlog, io, pluginlog   a logger: INFO/DEBUG dropped, ERROR
 *                                        kept for entry-failure reports,
 *                                        PANIC/FATAL longjmp back to the host
 *   SIM, root_param, siminterface_log    parameter answers for the CPU model
 *   bx_pc_system                         a timer wheel counted in ticks
 *                                        (one per retired instruction)
 *   BX_MEM_C                             physical memory = host buffers
 *   bx_devices                           device stubs; port I/O to a callback
 *   bx_cpu, bx_dbg, apic_id_mask,        plain globals
 *   simulate_xapic
 *   vmxlab_instr_*                       the hooks of sim/instrument/
 *
 * Bochs is global state: one CPU per process, one thread.
 */
#include <csetjmp>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "bochs.h"
#include "cpu/cpu.h"
#include "cpu/decoder/ia_opcodes.h"
#include "gui/paramtree.h"
#include "gui/siminterface.h"
#include "iodev/iodev.h"
#include "memory/memory-bochs.h"
#include "pc_system.h"

#include "glue.h"
#include "layout.h"

/* VM-instruction error numbers (SDM 31.4) returned by glue_vmread/vmwrite. */
enum { GLUE_VMX_OK = 0, GLUE_VMX_UNSUPPORTED = 12, GLUE_VMX_READ_ONLY = 13 };

/* ------------------------------------------------------------ host state */

static struct glue_memmap mem;
static glue_pio_fn pio_fn;
static void *pio_ctx;
static uint8_t intr_vector;

/* GLUE_* bits not yet returned.  Atomic because glue_request_stop may come
 * from a signal handler while a hook sets other bits. */
static unsigned pending;
static uint64_t host_stop_rip;
static bool guard_active;
static jmp_buf guard;
static char panic_text[512];

bool vmxlab_instr_step_armed;

static void request_cpu_stop(unsigned bits)
{
	__atomic_fetch_or(&pending, bits, __ATOMIC_RELAXED);
	bx_pc_system.kill_bochs_request = 1;
	BX_CPU(0)->async_event |= 1;
}

/* ------------------------------------------------------------ logger
 *
 * ERROR messages of root mode go to a ring; machine.c marks it before a VM
 * entry and reads what was logged since when the entry failed: Bochs names
 * the failed check there ("VMFAIL: VMCS guest invalid CR0").  Messages from
 * inside the guest (one per EPT violation, for one) are not formatted at all
 * unless glue_set_log(true) asked for them on stderr, the first
 * LOG_PRINT_MAX messages.
 */
#define ERR_RING 16
#define ERR_LEN 200
#define LOG_PRINT_MAX 50
static char err_ring[ERR_RING][ERR_LEN];
static unsigned err_head, err_mark; /* monotonically increasing counters */
static bool log_stderr;
static unsigned log_printed;
static char err_joined[ERR_RING * (ERR_LEN + 2)];

logfunctions::logfunctions(void) : name(NULL), prefix(NULL), logio(NULL)
{
	for (int i = 0; i < N_LOGLEV; i++)
		onoff[i] = ACT_IGNORE;
}

logfunctions::~logfunctions(void)
{
	free(name);
	free(prefix);
}

void logfunctions::put(const char *n, const char *p)
{
	free(name);
	free(prefix);
	name = n ? strdup(n) : NULL;
	prefix = p ? strdup(p) : NULL;
}

void logfunctions::info(const char *, ...) {}
void logfunctions::ldebug(const char *, ...) {}

void logfunctions::error(const char *fmt, ...)
{
	if (!log_stderr && BX_CPU(0)->in_vmx_guest)
		return;
	char *slot = err_ring[err_head++ % ERR_RING];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(slot, ERR_LEN, fmt, ap);
	va_end(ap);
	if (!log_stderr)
		return;
	if (log_printed < LOG_PRINT_MAX)
		fprintf(stderr, "bochs %s: %s\n", prefix ? prefix : "", slot);
	else if (log_printed == LOG_PRINT_MAX)
		fprintf(stderr, "bochs: further errors not printed\n");
	log_printed++;
}

/* A panic leaves the CPU in an undefined state: back to the host call that
 * entered Bochs, which reports it; the machine must be reset. */
[[noreturn]] static void bochs_panic(const char *prefix, const char *fmt, va_list ap)
{
	int n = snprintf(panic_text, sizeof panic_text, "%s%s", prefix ? prefix : "",
			 prefix ? ": " : "");
	if (n < 0 || (size_t)n >= sizeof panic_text)
		n = 0;
	vsnprintf(panic_text + n, sizeof panic_text - n, fmt, ap);
	if (guard_active) {
		guard_active = false;
		longjmp(guard, 1);
	}
	fprintf(stderr, "vmxlab: Bochs panic outside the simulator: %s\n", panic_text);
	abort();
}

void logfunctions::panic(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	bochs_panic(prefix, fmt, ap);
}

void logfunctions::fatal1(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	bochs_panic(prefix, fmt, ap);
}

extern "C" void glue_errors_mark(void)
{
	err_mark = err_head;
}

extern "C" const char *glue_errors_since_mark(void)
{
	unsigned from = err_mark;
	if (err_head - from > ERR_RING)
		from = err_head - ERR_RING;
	err_joined[0] = '\0';
	for (unsigned i = from; i != err_head; i++) {
		if (err_joined[0])
			strcat(err_joined, "; ");
		strcat(err_joined, err_ring[i % ERR_RING]);
	}
	return err_joined;
}

extern "C" void glue_set_log(bool to_stderr)
{
	log_stderr = to_stderr;
	log_printed = 0;
}

/* ------------------------------------------------------------ plain globals */

iofunctions *io;
logfunctions *genlog;
logfunctions *pluginlog;
logfunctions *siminterface_log;
bx_list_c *root_param;
bx_debug_t bx_dbg;
bx_gui_c *bx_gui; /* no GUI: only the speaker stub's unused methods refer to it */
Bit32u apic_id_mask = 0xff;
bool simulate_xapic = true;

/* ------------------------------------------------------------ parameters
 *
 * The CPU reads its configuration through SIM->get_param_*(name).  Known
 * names get vmxlab's values; any other is created on first use with 0 / ""
 * (every bool is 0, reset_on_triple_fault and ignore_bad_msrs included).
 */
static const char *cpu_model_names[] = {
#define bx_define_cpudb(model) #model,
#include "cpudb.h"
#undef bx_define_cpudb
	NULL,
};

class glue_sim : public bx_simulator_interface_c {
	unsigned next_id = 1;
	bx_param_c *params[64] = {};
	unsigned nparams = 0;

	bx_param_c *find(const char *name)
	{
		for (unsigned i = 0; i < nparams; i++)
			if (strcmp(params[i]->get_name(), name) == 0)
				return params[i];
		return NULL;
	}
	bx_param_c *keep(bx_param_c *p)
	{
		if (nparams < sizeof params / sizeof params[0])
			params[nparams++] = p;
		return p;
	}

public:
	unsigned cpu_model = 0;

	unsigned gen_param_id() override { return next_id++; }
	bx_param_num_c *get_param_num(const char *name, bx_param_c *) override
	{
		bx_param_c *p = find(name);
		if (!p) {
			bool one = !strcmp(name, BXPN_CPU_NPROCESSORS) || !strcmp(name, BXPN_CPU_NCORES) ||
				   !strcmp(name, BXPN_CPU_NTHREADS);
			p = keep(new bx_param_num_c(root_param, name, name, "", 0, BX_MAX_BIT64S, one));
		}
		return (bx_param_num_c *)p;
	}
	bx_param_bool_c *get_param_bool(const char *name, bx_param_c *) override
	{
		bx_param_c *p = find(name);
		if (!p)
			p = keep(new bx_param_bool_c(root_param, name, name, "", 0));
		return (bx_param_bool_c *)p;
	}
	bx_param_string_c *get_param_string(const char *name, bx_param_c *) override
	{
		bx_param_c *p = find(name);
		if (!p)
			p = keep(new bx_param_string_c(root_param, name, name, "", "", 256));
		return (bx_param_string_c *)p;
	}
	bx_param_enum_c *get_param_enum(const char *name, bx_param_c *) override
	{
		bx_param_c *p = find(name);
		if (!p) {
			Bit64s initial = strcmp(name, BXPN_CPU_MODEL) ? 0 : cpu_model;
			p = keep(new bx_param_enum_c(root_param, name, name, "", cpu_model_names, initial, 0));
		}
		return (bx_param_enum_c *)p;
	}
};

static glue_sim sim_params;
bx_simulator_interface_c *SIM = &sim_params;

/* ------------------------------------------------------------ timer wheel
 *
 * Bochs's inline tick functions (pc_system.h) count currCountdown down by
 * the retired instructions and call countdownEvent() at 0.  The clock is
 *   now = ticksTotal + (currCountdownPeriod - currCountdown)
 * and the countdown always runs to the earliest active timer (at most
 * 2^31 ticks ahead, so that it fits the 32-bit counter).  initialize() and
 * start_timers() keep Bochs's names with vmxlab's meaning (clock back to 0;
 * re-base the countdown): nothing in the CPU archives calls them.
 */
#define COUNTDOWN_MAX 0x7fffffffu

static Bit64u wheel_now(void)
{
	return bx_pc_system_c::time_ticks();
}

bx_pc_system_c::bx_pc_system_c()
{
	put("pc_system", "SYS");
	a20_mask = ~(bx_phy_address)0;
	enable_a20 = true;
	timer[0].inUse = true; /* slot 0 stays reserved, as Bochs expects */
	numTimers = 1;
	ticksTotal = 0;
	currCountdown = currCountdownPeriod = COUNTDOWN_MAX;
}

void bx_pc_system_c::initialize(Bit32u)
{
	ticksTotal = 0;
	currCountdown = currCountdownPeriod = COUNTDOWN_MAX;
	for (unsigned i = 1; i < numTimers; i++)
		timer[i].active = false;
	kill_bochs_request = 0;
	HRQ = false;
}

/* Re-base the countdown on the current time, to the earliest deadline. */
void bx_pc_system_c::start_timers(void)
{
	Bit64u now = wheel_now();
	Bit64u next = now + COUNTDOWN_MAX;
	for (unsigned i = 1; i < numTimers; i++)
		if (timer[i].active && timer[i].timeToFire < next)
			next = timer[i].timeToFire;
	Bit64u delta = next > now ? next - now : 1;
	ticksTotal = now;
	currCountdown = currCountdownPeriod = (Bit32u)delta;
}

int bx_pc_system_c::register_timer_ticks(void *this_ptr, bx_timer_handler_t funct, Bit64u ticks,
					 bool continuous, bool active, const char *id)
{
	unsigned i = 1;
	while (i < numTimers && timer[i].inUse)
		i++;
	if (i == BX_MAX_TIMERS) {
		panic("register_timer_ticks: no free timer for '%s'", id);
		return -1; /* not reached: panic() does not return */
	}
	if (i == numTimers)
		numTimers++;
	timer[i].inUse = true;
	timer[i].period = ticks ? ticks : 1;
	timer[i].timeToFire = wheel_now() + timer[i].period;
	timer[i].active = active;
	timer[i].continuous = continuous;
	timer[i].funct = funct;
	timer[i].this_ptr = this_ptr;
	snprintf(timer[i].id, sizeof timer[i].id, "%s", id);
	timer[i].param = 0;
	if (active)
		start_timers();
	return (int)i;
}

void bx_pc_system_c::activate_timer_ticks(unsigned i, Bit64u ticks, bool continuous)
{
	if (i == 0 || i >= numTimers)
		return;
	timer[i].period = ticks ? ticks : 1;
	timer[i].timeToFire = wheel_now() + timer[i].period;
	timer[i].continuous = continuous;
	timer[i].active = true;
	start_timers();
}

void bx_pc_system_c::deactivate_timer(unsigned i)
{
	if (i > 0 && i < numTimers)
		timer[i].active = false;
}

void bx_pc_system_c::countdownEvent(void)
{
	bool due[BX_MAX_TIMERS];

	ticksTotal += currCountdownPeriod;
	currCountdown = currCountdownPeriod = 0;
	for (unsigned i = 1; i < numTimers; i++) {
		due[i] = timer[i].active && timer[i].timeToFire <= ticksTotal;
		if (!due[i])
			continue;
		if (timer[i].continuous)
			timer[i].timeToFire += timer[i].period;
		else
			timer[i].active = false;
	}
	for (unsigned i = 1; i < numTimers; i++) {
		if (!due[i])
			continue;
		triggeredTimer = i;
		timer[i].funct(timer[i].this_ptr);
	}
	start_timers();
}

int bx_pc_system_c::Reset(unsigned type)
{
	BX_CPU(0)->reset(type);
	return 0;
}

void bx_pc_system_c::invlpg(bx_address addr)
{
	BX_CPU(0)->TLB_invlpg(addr);
}

bool bx_pc_system_c::get_enable_a20(void)
{
	return true;
}

/* Defined before bx_cpu: the CPU's local APIC registers timers when bx_cpu
 * is constructed. */
bx_pc_system_c bx_pc_system;

/* The two timers of the host: the event queue's next deadline and the
 * instruction budget.  Both just end the CPU loop. */
static int glue_timer_handle[GLUE_TIMERS];

static void glue_timer_fired(void *)
{
	request_cpu_stop(GLUE_TIMER);
}

/* ------------------------------------------------------------ memory
 *
 * Host-physical addresses (layout.h) to host pointers.  The CPU caches the
 * pointer getHostMemAddr returns in its TLB, so RAM, the host area and
 * shared buffers are accessed directly; NULL sends the access to
 * read/writePhysicalPage (nothing is mapped there by EPT, so only a broken
 * host program gets there).
 */
static Bit8u *hpa_to_host(bx_phy_address a)
{
	if (a < mem.ram_size)
		return mem.ram + a;
	if (a >= HOST_BASE && a < (bx_phy_address)HOST_BASE + HOST_SIZE && mem.host)
		return mem.host + (a - HOST_BASE);
	for (unsigned i = 0; i < mem.nshared; i++)
		if (a >= mem.shared[i].hpa && a - mem.shared[i].hpa < mem.shared[i].len)
			return mem.shared[i].host + (a - mem.shared[i].hpa);
	return NULL;
}

Bit8u *BX_MEM_C::getHostMemAddr(BX_CPU_C *, bx_phy_address addr, unsigned)
{
	return hpa_to_host(addr);
}

void BX_MEM_C::readPhysicalPage(BX_CPU_C *, bx_phy_address addr, unsigned len, void *data)
{
	Bit8u *p = hpa_to_host(addr);
	if (p) {
		memcpy(data, p, len);
		return;
	}
	memset(data, 0xff, len);
	genlog->error("read of unbacked physical address 0x" FMT_PHY_ADDRX, addr);
}

void BX_MEM_C::writePhysicalPage(BX_CPU_C *, bx_phy_address addr, unsigned len, void *data)
{
	Bit8u *p = hpa_to_host(addr);
	if (!p) {
		genlog->error("write to unbacked physical address 0x" FMT_PHY_ADDRX, addr);
		return;
	}
	pageWriteStampTable.decWriteStamp(addr, len);
	memcpy(p, data, len);
}

bool BX_MEM_C::dbg_fetch_mem(BX_CPU_C *, bx_phy_address addr, unsigned len, Bit8u *buf)
{
	Bit8u *p = hpa_to_host(addr);
	if (!p)
		return false;
	memcpy(buf, p, len);
	return true;
}

Bit64u BX_MEMORY_STUB_C::get_memory_len(void)
{
	return mem.ram_size;
}

/* ------------------------------------------------------------ devices
 *
 * Only the stubs: the CPU reaches the PIC for the vector of an external
 * interrupt it delivers itself (no external-interrupt exiting), and the
 * I/O bus for ports the I/O bitmaps let through (and root-mode I/O).
 */
class glue_pic : public bx_pic_stub_c {
public:
	Bit8u IAC(void) override { return intr_vector; }
};
static glue_pic pic;

bx_devices_c::bx_devices_c()
{
	put("devices", "DEV");
	pluginCmosDevice = &stubCmos;
	pluginDmaDevice = &stubDma;
	pluginHardDrive = &stubHardDrive;
	pluginPicDevice = &pic;
	pluginPitDevice = &stubPit;
	pluginSpeaker = &stubSpeaker;
	pluginVgaDevice = &stubVga;
#if BX_SUPPORT_IODEBUG
	pluginIODebug = &stubIODebug;
#endif
#if BX_SUPPORT_APIC
	pluginIOAPIC = &stubIOAPIC;
#endif
#if BX_SUPPORT_GAMEPORT
	pluginGameport = &stubGameport;
#endif
#if BX_SUPPORT_PCI
	pluginPci2IsaBridge = &stubPci2Isa;
	pluginPciIdeController = &stubPciIde;
	pluginACPIController = &stubACPIController;
#endif
	bulkIOHostAddr = NULL;
	bulkIOQuantumsRequested = 0;
	bulkIOQuantumsTransferred = 0;
}

bx_devices_c::~bx_devices_c() {}

Bit32u bx_devices_c::inp(Bit16u addr, unsigned io_len)
{
	if (!pio_fn)
		return io_len == 4 ? 0xffffffffu : (1u << (8 * io_len)) - 1;
	return pio_fn(pio_ctx, addr, io_len, false, 0);
}

void bx_devices_c::outp(Bit16u addr, Bit32u value, unsigned io_len)
{
	if (pio_fn)
		pio_fn(pio_ctx, addr, io_len, true, value);
}

#if BX_SUPPORT_PCI
Bit32u bx_pci_device_c::pci_read_handler(Bit8u, unsigned)
{
	return 0xffffffffu;
}
#endif

bx_devices_c bx_devices;

/* The CPU.  Its constructor logs, creates the local APIC (which registers
 * timers) and seeds rand() from the wall clock; glue_init reseeds. */
BX_CPU_C bx_cpu;

/* ------------------------------------------------------------ hooks */

/*
 * HLT hook (sim/instrument/instrument.h).  In root mode a HLT is one of the
 * trampoline's host stops: make the CPU active again (so that the loop
 * does not wait for an interrupt) and end the loop; RIP already points past
 * the HLT.  A root-mode shutdown means the trampoline itself broke.  In the
 * guest, a HLT that did not exit halts the guest: the host decides whether
 * anything can still wake it.
 */
void vmxlab_instr_hlt(unsigned)
{
	BX_CPU_C *cpu = BX_CPU(0);

	if (cpu->in_vmx_guest) {
		request_cpu_stop(GLUE_GUEST_HLT);
		return;
	}
	if (cpu->activity_state == BX_CPU_C::BX_ACTIVITY_STATE_SHUTDOWN) {
		request_cpu_stop(GLUE_SHUTDOWN);
		return;
	}
	host_stop_rip = cpu->prev_rip;
	cpu->activity_state = BX_CPU_C::BX_ACTIVITY_STATE_ACTIVE;
	request_cpu_stop(GLUE_HOST_STOP);
}

/* After-execution hook, armed only for a single step.  VMLAUNCH/VMRESUME
 * commit once the CPU is already in the guest: they are the host's. */
void vmxlab_instr_after_execution(unsigned, bxInstruction_c *i)
{
	if (!BX_CPU(0)->in_vmx_guest)
		return;
	unsigned op = i->getIaOpcode();
	if (op == BX_IA_VMLAUNCH || op == BX_IA_VMRESUME)
		return;
	vmxlab_instr_step_armed = false;
	request_cpu_stop(GLUE_STEP);
}

/* ------------------------------------------------------------ the C side */

static bool cpu_initialised;
static unsigned cpu_model_index;

static int model_index(const char *name)
{
	for (int i = 0; cpu_model_names[i]; i++)
		if (strcmp(cpu_model_names[i], name) == 0)
			return i;
	return -1;
}

static void glue_reseed(uint32_t seed)
{
	srand(seed ? seed : 0x766d786cu); /* RDRAND/RDSEED use rand() */
}

/* Run fn; a Bochs panic inside ends it early and returns false. */
static bool guarded(void (*fn)(void))
{
	if (_setjmp(guard)) {
		guard_active = false;
		return false;
	}
	guard_active = true;
	fn();
	guard_active = false;
	return true;
}

static void init_cpu(void)
{
	if (!genlog) {
		genlog = new logfunctions();
		genlog->put("vmxlab", "GEN");
		pluginlog = new logfunctions();
		pluginlog->put("plugin", "PLUGIN");
		siminterface_log = new logfunctions();
		siminterface_log->put("siminterface", "SIM");
		root_param = new bx_list_c(NULL, "bochs", "root");
	}
	BX_CPU(0)->initialize();
	BX_CPU(0)->sanity_checks();
	for (unsigned t = 0; t < GLUE_TIMERS; t++)
		glue_timer_handle[t] = bx_pc_system.register_timer_ticks(NULL, glue_timer_fired, 1, false,
									  false, "vmxlab");
}

extern "C" int glue_init(const char *cpu_model, uint32_t seed, char *err, size_t errlen)
{
	int idx = model_index(cpu_model);
	if (idx < 0) {
		snprintf(err, errlen, "unknown CPU model '%s'", cpu_model);
		return -1;
	}
	if (cpu_initialised && (unsigned)idx != cpu_model_index) {
		snprintf(err, errlen, "CPU model '%s' asked, but this process already runs '%s' "
			 "(one CPU model per process)", cpu_model, cpu_model_names[cpu_model_index]);
		return -1;
	}
	if (!cpu_initialised) {
		sim_params.cpu_model = (unsigned)idx;
		if (!guarded(init_cpu)) {
			snprintf(err, errlen, "Bochs failed to initialise the CPU: %s", panic_text);
			return -1;
		}
		cpu_initialised = true;
		cpu_model_index = (unsigned)idx;
	}
	glue_reseed(seed);
	return 0;
}

extern "C" void glue_set_memmap(const struct glue_memmap *map)
{
	mem = *map;
	if (cpu_initialised)
		BX_CPU(0)->TLB_flush();
}

extern "C" void glue_set_pio(glue_pio_fn fn, void *ctx)
{
	pio_fn = fn;
	pio_ctx = ctx;
}

static void reset_cpu(void)
{
	bx_pc_system.initialize(0);
	BX_CPU(0)->reset(BX_RESET_HARDWARE);
	pageWriteStampTable.resetWriteStamps();
	BX_CPU(0)->iCache.flushICacheEntries();
}

extern "C" int glue_reset(void)
{
	__atomic_store_n(&pending, 0, __ATOMIC_RELAXED);
	vmxlab_instr_step_armed = false;
	panic_text[0] = '\0';
	return guarded(reset_cpu) ? 0 : -1;
}

static void run_cpu(void)
{
	bx_pc_system.kill_bochs_request = 0;
	BX_CPU(0)->cpu_loop();
}

extern "C" unsigned glue_run(void)
{
	if (!__atomic_load_n(&pending, __ATOMIC_RELAXED) && !guarded(run_cpu))
		__atomic_fetch_or(&pending, GLUE_PANIC, __ATOMIC_RELAXED);
	bx_pc_system.kill_bochs_request = 0;
	return __atomic_exchange_n(&pending, 0, __ATOMIC_RELAXED);
}

extern "C" uint64_t glue_host_stop_rip(void)
{
	return host_stop_rip;
}

extern "C" const char *glue_panic_text(void)
{
	return panic_text;
}

extern "C" void glue_request_stop(void)
{
	request_cpu_stop(GLUE_REQUEST);
}

extern "C" bool glue_take_request(void)
{
	return __atomic_fetch_and(&pending, ~(unsigned)GLUE_REQUEST, __ATOMIC_RELAXED) & GLUE_REQUEST;
}

extern "C" void glue_step_arm(bool on)
{
	vmxlab_instr_step_armed = on;
}

extern "C" bool glue_in_guest(void)
{
	return BX_CPU(0)->in_vmx_guest;
}

extern "C" bool glue_guest_if(void)
{
	return BX_CPU(0)->get_IF();
}

extern "C" bool glue_guest_halted(void)
{
	BX_CPU_C *cpu = BX_CPU(0);
	return cpu->in_vmx_guest && cpu->activity_state != BX_CPU_C::BX_ACTIVITY_STATE_ACTIVE;
}

extern "C" uint64_t glue_gpr(unsigned n)
{
	return n < BX_GENERAL_REGISTERS ? BX_CPU(0)->gen_reg[n].rrx : 0;
}

extern "C" void glue_set_gpr(unsigned n, uint64_t val)
{
	if (n < BX_GENERAL_REGISTERS)
		BX_CPU(0)->gen_reg[n].rrx = val;
}

extern "C" uint64_t glue_reg(unsigned r)
{
	BX_CPU_C *cpu = BX_CPU(0);
	switch (r) {
	case GLUE_REG_CR2:
		return cpu->cr2;
	case GLUE_REG_DR0:
	case GLUE_REG_DR1:
	case GLUE_REG_DR2:
	case GLUE_REG_DR3:
		return cpu->dr[r - GLUE_REG_DR0];
	case GLUE_REG_DR6:
		return cpu->dr6.val32;
	case GLUE_REG_XCR0:
		return cpu->xcr0.val32;
	}
	return 0;
}

extern "C" void glue_set_reg(unsigned r, uint64_t val)
{
	BX_CPU_C *cpu = BX_CPU(0);
	switch (r) {
	case GLUE_REG_CR2:
		cpu->cr2 = val;
		break;
	case GLUE_REG_DR0:
	case GLUE_REG_DR1:
	case GLUE_REG_DR2:
	case GLUE_REG_DR3:
		cpu->dr[r - GLUE_REG_DR0] = val;
		break;
	case GLUE_REG_DR6:
		cpu->dr6.val32 = (Bit32u)val;
		break;
	case GLUE_REG_XCR0:
		cpu->xcr0.val32 = (Bit32u)val;
		break;
	}
}

extern "C" uint64_t glue_rip(void)
{
	return BX_CPU(0)->get_rip();
}

extern "C" void glue_set_root_rip(uint64_t rip)
{
	BX_CPU_C *cpu = BX_CPU(0);
	cpu->gen_reg[BX_64BIT_REG_RIP].rrx = rip;
	cpu->prev_rip = rip;
	cpu->invalidate_prefetch_q();
}

extern "C" uint64_t glue_rflags(void)
{
	return BX_CPU(0)->read_eflags();
}

extern "C" void glue_crs(uint64_t *cr0, uint64_t *cr2, uint64_t *cr3, uint64_t *cr4, uint64_t *efer)
{
	BX_CPU_C *cpu = BX_CPU(0);
	*cr0 = cpu->cr0.get32();
	*cr2 = cpu->cr2;
	*cr3 = cpu->cr3;
	*cr4 = cpu->cr4.get32();
	*efer = cpu->efer.get32();
}

extern "C" void glue_segs(uint16_t *cs, uint16_t *ss, uint64_t *gdt_base, uint16_t *gdt_limit,
			  uint64_t *idt_base, uint16_t *idt_limit)
{
	BX_CPU_C *cpu = BX_CPU(0);
	*cs = cpu->sregs[BX_SEG_REG_CS].selector.value;
	*ss = cpu->sregs[BX_SEG_REG_SS].selector.value;
	*gdt_base = cpu->gdtr.base;
	*gdt_limit = cpu->gdtr.limit;
	*idt_base = cpu->idtr.base;
	*idt_limit = cpu->idtr.limit;
}

extern "C" uint64_t glue_icount(void)
{
	return BX_CPU(0)->get_icount();
}

extern "C" int glue_rdmsr(uint32_t msr, uint64_t *val)
{
	Bit64u v = 0;
	if (!BX_CPU(0)->rdmsr(msr, &v))
		return -1;
	*val = v;
	return 0;
}

extern "C" void glue_set_intr(bool level, uint8_t vector)
{
	intr_vector = vector;
	if (level)
		BX_CPU(0)->raise_INTR();
	else
		BX_CPU(0)->clear_INTR();
}

/* Bochs's vmread()/vmwrite() know the field widths, the "_HIGH" halves and
 * the packed access-rights format of its VMCS layout. */
extern "C" int glue_vmread(uint32_t field, uint64_t *val)
{
	BX_CPU_C *cpu = BX_CPU(0);
	if (cpu->vmcsptr == BX_INVALID_VMCSPTR || !cpu->vmcs_map->is_valid(field))
		return GLUE_VMX_UNSUPPORTED;
	*val = cpu->vmread(field);
	return GLUE_VMX_OK;
}

extern "C" int glue_vmwrite(uint32_t field, uint64_t val)
{
	BX_CPU_C *cpu = BX_CPU(0);
	if (cpu->vmcsptr == BX_INVALID_VMCSPTR || !cpu->vmcs_map->is_valid(field))
		return GLUE_VMX_UNSUPPORTED;
	if (VMCS_FIELD_TYPE(field) == VMCS_FIELD_TYPE_READ_ONLY)
		return GLUE_VMX_READ_ONLY;
	cpu->vmwrite(field, val);
	return GLUE_VMX_OK;
}

extern "C" void glue_code_written(uint64_t hpa, uint64_t len)
{
	if (!len)
		return;
	for (uint64_t page = hpa & ~0xfffull; page < hpa + len; page += 0x1000)
		pageWriteStampTable.decWriteStamp(page);
}

extern "C" void glue_tlb_flush(void)
{
	BX_CPU(0)->TLB_flush();
}

extern "C" uint64_t glue_ticks(void)
{
	return wheel_now();
}

extern "C" void glue_clock_reset(void)
{
	bx_pc_system.initialize(0);
}

extern "C" void glue_advance(uint64_t ticks)
{
	while (ticks) {
		Bit32u n = ticks > COUNTDOWN_MAX ? COUNTDOWN_MAX : (Bit32u)ticks;
		bx_pc_system_c::tickn(n);
		ticks -= n;
	}
}

extern "C" void glue_timer_arm(unsigned which, uint64_t abs_tick)
{
	Bit64u now = wheel_now();
	bx_pc_system.activate_timer_ticks(glue_timer_handle[which], abs_tick > now ? abs_tick - now : 1,
					  false);
}

extern "C" void glue_timer_cancel(unsigned which)
{
	bx_pc_system.deactivate_timer(glue_timer_handle[which]);
}
