/*
 * The live machine (vm.h) built from its configuration: the simulator's
 * CPU and RAM, the devices here or in a vmxlab-dm process, memory shared
 * with a device, the guest image and its boot arguments, the handler build
 * and its host, the trace; and what reports and the debugger ask of it.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "machine_priv.h"

void machine_config_defaults(struct machine_config *c)
{
	memset(c, 0, sizeof(*c));
	c->sim.ram_size = 64ull << 20;
	c->sim.mode = SIM_MODE_LONG64;
	c->sim.insns_per_ns = 1.0;
	c->load_addr = 0x100000;
	c->tsc_khz = 2400000;  /* xenalyze's default --cpu-hz */
	cost_model_defaults(&c->cost);
}

/* ------------------------------------------------------------ setup */

/* vmx_platform.map_shared for devices placed hv: a memfd-backed buffer
 * (so it could be handed to another process) mapped into the guest at
 * [gpa, gpa+len) with sim_map_shared - no exits.  add_devices then leaves
 * that window out of MMIO emulation. */
static void *machine_map_shared(void *ctx, uint64_t gpa, uint64_t len)
{
	struct machine *m = ctx;

	if (m->nshared == sizeof(m->shared) / sizeof(m->shared[0]) || !len)
		return NULL;
	int fd = memfd_create("vmxlab-shared-vram", MFD_CLOEXEC);
	if (fd < 0)
		return NULL;
	void *host = MAP_FAILED;
	if (ftruncate(fd, (off_t)len) == 0)
		host = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (host == MAP_FAILED)
		return NULL;
	if (sim_map_shared(m->sim, gpa, len, host)) {
		machine_log(1, "cannot share 0x%" PRIx64 "+0x%" PRIx64 " with a device: %s", gpa, len, sim_error(m->sim));
		munmap(host, len);
		return NULL;
	}
	m->shared[m->nshared++] = (struct machine_shared){ gpa, len, host };
	return host;
}

static bool shared_mapped(const struct machine *m, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < m->nshared; i++)
		if (m->shared[i].gpa == gpa && m->shared[i].len == len)
			return true;
	return false;
}

static int add_devices(struct machine *m, char *err, size_t errlen)
{
	const char *dm_specs[PLATFORM_MAX_DEVS];
	char spec[PLATFORM_MAX_DEVS][300];
	unsigned ndm = 0;

	for (unsigned i = 0; i < m->cfg.ndevs; i++) {
		const struct machine_dev_config *d = &m->cfg.devs[i];
		const struct vmx_dev_ops *ops = vmx_dev_lookup(d->name);
		if (!ops) {
			snprintf(err, errlen, "unknown device '%s'", d->name);
			return -1;
		}
		bool here = d->placement == PLACE_HV;
		if (!platform_add(m->plat, ops, d->options, d->placement, here, err, errlen))
			return -1;
		if (!here) {
			m->dm_index[i] = ndm;
			snprintf(spec[ndm], sizeof(spec[ndm]), "%s:%s", d->name, d->options);
			dm_specs[ndm] = spec[ndm];
			ndm++;
			if (ops->intr_ack)
				m->pic_in_dm = true;
		}
		for (unsigned r = 0; r < ops->nranges; r++)
			if (ops->ranges[r].mmio && !shared_mapped(m, ops->ranges[r].base, ops->ranges[r].len) &&
			    sim_map_mmio(m->sim, ops->ranges[r].base, ops->ranges[r].len)) {
				snprintf(err, errlen, "device %s: cannot leave 0x%" PRIx64 "+0x%" PRIx64 " out of EPT: %s",
					 d->name, ops->ranges[r].base, ops->ranges[r].len, sim_error(m->sim));
				return -1;
			}
	}
	if (ndm) {
		char dm_exe[4096];
		uint64_t ram_size;
		const char *env = getenv("VMXLAB_DM");
		if (env && *env)
			snprintf(dm_exe, sizeof(dm_exe), "%s", env);
		else
			vm_exe_path(dm_exe, sizeof(dm_exe), "vmxlab-dm");
		sim_ram(m->sim, &ram_size);
		m->dm = dm_spawn(dm_exe, sim_ram_fd(m->sim), ram_size, ndm, dm_specs, err, errlen);
		if (!m->dm)
			return -1;
		host_dm_started(m);
	}
	return 0;
}

/* The SYSCALL MSRs a 64-bit guest writes once and the CPU uses on every
 * system call and SWAPGS: left to the guest by the MSR bitmap (SDM
 * 25.6.9), as KVM and Xen leave them, so they reach the CPU. */
static const uint32_t guest_owned_msrs[] = {
	0xc0000081, /* STAR */
	0xc0000082, /* LSTAR */
	0xc0000083, /* CSTAR */
	0xc0000084, /* FMASK */
	0xc0000102, /* KERNEL_GS_BASE */
	0xc0000103, /* TSC_AUX */
};

/* splitmix64 (Steele, Lea, Flood 2014): the RNG seed's bytes from the scenario's number. */
static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static bool has_device(const struct machine_config *c, const char *name)
{
	for (unsigned i = 0; i < c->ndevs; i++)
		if (!strcmp(c->devs[i].name, name))
			return true;
	return false;
}

static int load_guest(struct machine *m, char *err, size_t errlen)
{
	const struct machine_config *cfg = &m->cfg;

	for (size_t i = 0; i < sizeof(guest_owned_msrs) / sizeof(guest_owned_msrs[0]); i++)
		sim_intercept_msr(m->sim, guest_owned_msrs[i], false, false);
	if (cfg->linux_boot.kernel[0]) {
		uint8_t seed[32];
		uint64_t x = cfg->linux_boot.rng_seed;
		for (unsigned i = 0; i < sizeof(seed); i += 8) {
			uint64_t r = splitmix64(&x);
			memcpy(seed + i, &r, 8);
		}
		struct sim_linux lx = { .kernel = cfg->linux_boot.kernel, .initrd = cfg->linux_boot.initrd,
					.cmdline = cfg->linux_boot.cmdline, .rng_seed = seed,
					.rng_seed_len = sizeof(seed), .vga_text = has_device(cfg, "vga") };
		if (sim_load_linux(m->sim, &lx)) {
			snprintf(err, errlen, "%s", sim_error(m->sim));
			return -1;
		}
		return 0;
	}
	if (sim_load_image(m->sim, cfg->image, cfg->load_addr)) {
		snprintf(err, errlen, "%s", sim_error(m->sim));
		return -1;
	}
	/* Boot arguments at VMXLAB_BOOT_ARGS_GPA, RDI pointing at them. */
	if (sim_load_bytes(m->sim, VMXLAB_BOOT_ARGS_GPA, cfg->args, strnlen(cfg->args, sizeof(cfg->args) - 1) + 1)) {
		snprintf(err, errlen, "cannot place the boot arguments: %s", sim_error(m->sim));
		return -1;
	}
	vcpu_set_gpr(m->vcpu, GPR_RDI, VMXLAB_BOOT_ARGS_GPA);
	return 0;
}

struct machine *machine_create(const struct machine_config *cfg, char *err, size_t errlen)
{
	struct machine *m = calloc(1, sizeof(*m));

	if (!m) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	m->cfg = *cfg;
	m->dm_pic_pending = -1;
	m->rng = 0x2545f491u;
	m->stats = calloc(VMX_EXIT_REASON_COUNT, sizeof(*m->stats));
	m->ports = calloc(65536, sizeof(*m->ports));
	if (!m->stats || !m->ports) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	struct sim_config sc = cfg->sim;
	sc.tsc_khz = cfg->tsc_khz;
	m->sim = sim_create(&sc, err, errlen);
	if (!m->sim)
		goto fail;
	m->vcpu = sim_vcpu(m->sim);
	uint64_t ram_size;
	uint8_t *ram = sim_ram(m->sim, &ram_size);
	struct platform_config pc = { .ram = ram, .ram_size = ram_size, .map_shared = machine_map_shared };
	host_platform_config(m, &pc);
	m->plat = platform_new(&pc);
	if (!m->plat || host_timers_new(m)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (add_devices(m, err, errlen))
		goto fail;
	if (screen_start(m, err, errlen))
		goto fail;
	if (load_guest(m, err, errlen))
		goto fail;
	char hv_path[4096];
	if (cfg->hv_path[0])
		snprintf(hv_path, sizeof(hv_path), "%s", cfg->hv_path);
	else
		vm_exe_path(hv_path, sizeof(hv_path), "libvmxlab-hv.so");
	if (hv_load(hv_path, &m->hvb, err, errlen))
		goto fail;
	host_init(m, &m->host);
	m->hv = m->hvb.hv->init(&m->host, err, errlen);
	if (!m->hv)
		goto fail;
	vm_core_init(&m->core, m->hvb.hv);
	m->core.prof_tag = cfg->prof_tag;
	m->core.begin = host_exit_begin;
	m->core.ctx = m;
	if (cfg->trace_path[0] && record_open(m, err, errlen))
		goto fail;
	if (cfg->max_insns)
		sim_set_budget(m->sim, cfg->max_insns);
	host_rearm_dev_timer(m);
	return m;
fail:
	machine_destroy(m);
	return NULL;
}

void machine_destroy(struct machine *m)
{
	if (!m)
		return;
	if (m->trace)
		trc_writer_close(m->trace, NULL, 0);
	input_rec_free(m->inputs);
	free(m->held);
	free(m->dmheld);
	for (unsigned i = 0; i < 4; i++)
		free(m->shadow[i]);
	free(m->dbg);
	if (m->hv)
		m->hvb.hv->fini(m->hv);
	hv_unload(&m->hvb);
	dm_close(m->dm);
	screen_stop(m);
	platform_free(m->plat);
	sim_destroy(m->sim);
	for (unsigned i = 0; i < m->nshared; i++)
		munmap(m->shared[i].host, m->shared[i].len);
	free(m->stats);
	free(m->ports);
	free(m);
}


/* ------------------------------------------------------------ what reports and the debugger ask */

const struct reason_stats *machine_reason_stats(const struct machine *m, unsigned reason)
{
	return reason < VMX_EXIT_REASON_COUNT ? &m->stats[reason] : NULL;
}

const struct port_stats *machine_port_stats(const struct machine *m, uint16_t port)
{
	return &m->ports[port];
}

const struct port_stats *machine_mmio_stats(const struct machine *m, unsigned dev, const char **name)
{
	if (dev >= platform_ndevs(m->plat))
		return NULL;
	*name = platform_dev(m->plat, dev)->ops->name;
	return &m->mmio[dev];
}

const char *machine_port_device(const struct machine *m, uint16_t port)
{
	return platform_owner_name(m->plat, false, port);
}

const struct vmx_dev *machine_owner(const struct machine *m, bool mmio, uint64_t addr)
{
	return platform_owner(m->plat, mmio, addr);
}

struct sim_machine *machine_sim(struct machine *m)
{
	return m->sim;
}

int machine_dump_device(struct machine *m, const char *name, FILE *out)
{
	struct vmx_dev *d = platform_find(m->plat, name);

	if (!d)
		return -1;
	if (d->placement == PLACE_HV) {
		if (d->ops->dump)
			d->ops->dump(d->state, out);
		return 0;
	}
	struct vmx_ioreq none = { 0 };
	if (host_dm_request(m, DM_OP_DUMP, m->dm_index[d->index], &none))
		return -1;
	fputs(dm_page(m->dm)->dump, out);
	return 0;
}

struct vmx_vcpu *machine_vcpu(struct machine *m)
{
	return m->vcpu;
}

const char *machine_hv_name(const struct machine *m)
{
	return m->hvb.hv && m->hvb.hv->name ? m->hvb.hv->name : "?";
}

unsigned machine_ndevs(const struct machine *m)
{
	return platform_ndevs(m->plat);
}

const struct vmx_dev *machine_device(const struct machine *m, unsigned i)
{
	return i < platform_ndevs(m->plat) ? platform_dev(m->plat, i) : NULL;
}

