/* Scenario files: every key of the reference read, every kind of mistake
 * reported with FILE:LINE:COLUMN. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../vm/vm.h"

static char dir[] = "/tmp/vmxlab-scenario-XXXXXX";
static struct scenario sc;
static char err[1024];

static const char *write_file(const char *name, const char *text)
{
	static char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static int load(const char *text)
{
	err[0] = '\0';
	return scenario_load(write_file("s.yaml", text), &sc, err, sizeof(err));
}

/* The error must start with the file and the given line:column. */
static void assert_error_at(const char *text, int line, int col, const char *what)
{
	char want[300];
	assert_int_equal(load(text), -1);
	snprintf(want, sizeof(want), "%s/s.yaml:%d:%d: ", dir, line, col);
	if (strncmp(err, want, strlen(want)) || !strstr(err, what))
		fail_msg("got '%s', want '%s...%s'", err, want, what);
}

static void full_scenario_is_read(void **state)
{
	(void)state;
	write_file("g.elf", "x");
	assert_int_equal(load("name: full\n"
			      "description: every key\n"
			      "machine:\n  ram: 128M\n  cpu: corei7_skylake_x\n  guest_mips: 2500\n  mode: real\n  tsc_mhz: 3000\n"
			      "guest:\n  image: g.elf\n  args: \"ticks=5 work=0x10\"\n  load_addr: 0x7c00\n"
			      "hv:\n  options: [\"cpuid=1=1,2,3,4\"]\n"
			      "devices:\n  pic: { placement: dm }\n  pit:\n    placement: hv\n  uart: { placement: dm, x: 1 }\n"
			      "cost:\n  exit_roundtrip: 2us\n  handler: 150ns\n  mmio_emulation: 1.5us\n  dm_roundtrip: 0.03ms\n"
			      "  reasons: { HLT: 1us, cpuid: 200 }\n"
			      "limits:\n  instructions: 1e9\n  virtual_time: 2s\n"
			      "record:\n  trace: out.trace\n  native_costs: yes\n"
			      "expect:\n  status: 3\n  output: [a, \"b c\"]\n  exits: { IO_INSTRUCTION: { min: 5 }, HLT: 7 }\n"
			      "  exit_share: { IO_INSTRUCTION: { min: 50, max: 90 } }\n"
			      "  total_exits: { max: 100 }\n  predicted_time: { min: 1ms, max: 1s }\n"),
			 0);
	assert_string_equal(sc.name, "full");
	assert_int_equal(sc.mc.sim.ram_size, 128u << 20);
	assert_string_equal(sc.mc.sim.cpu_model, "corei7_skylake_x");
	assert_true(sc.mc.sim.insns_per_ns > 2.49 && sc.mc.sim.insns_per_ns < 2.51);
	assert_int_equal(sc.mc.sim.mode, SIM_MODE_REAL);
	assert_int_equal(sc.mc.tsc_khz, 3000000);
	assert_non_null(strstr(sc.mc.image, "/g.elf"));
	assert_string_equal(sc.mc.args, "ticks=5 work=0x10");
	assert_int_equal(sc.mc.load_addr, 0x7c00);
	assert_string_equal(sc.mc.hv_options, "cpuid=1=1,2,3,4\n");
	assert_int_equal(sc.mc.ndevs, 3);
	assert_string_equal(sc.mc.devs[0].name, "pic");
	assert_int_equal(sc.mc.devs[0].placement, PLACE_DM);
	assert_int_equal(sc.mc.devs[1].placement, PLACE_HV);
	assert_string_equal(sc.mc.devs[2].options, "x=1");
	assert_int_equal(sc.mc.cost.exit_roundtrip_ns, 2000);
	assert_int_equal(sc.mc.cost.handler_ns, 150);
	assert_int_equal(sc.mc.cost.mmio_emulation_ns, 1500);
	assert_int_equal(sc.mc.cost.dm_roundtrip_ns, 30000);
	assert_int_equal(sc.mc.cost.reason_ns[EXIT_REASON_HLT], 1000);
	assert_int_equal(sc.mc.cost.reason_ns[EXIT_REASON_CPUID], 200);
	assert_int_equal(sc.mc.max_insns, 1000000000);
	assert_int_equal(sc.mc.max_vtime, 2000000000);
	assert_string_equal(sc.mc.trace_path, "out.trace");
	assert_true(sc.mc.native_costs);
	assert_int_equal(sc.expect.status, 3);
	assert_int_equal(sc.expect.noutput, 2);
	assert_string_equal(sc.expect.output[1], "b c");
	assert_int_equal(sc.expect.nexits, 2);
	assert_int_equal(sc.expect.exits[0].r.min, 5);
	assert_int_equal(sc.expect.exits[0].r.max, UINT64_MAX);
	assert_int_equal(sc.expect.exits[1].r.min, 7);
	assert_int_equal(sc.expect.exits[1].r.max, 7);
	assert_int_equal(sc.expect.total_exits.max, 100);
	assert_int_equal(sc.expect.nshare, 1);
	assert_int_equal(sc.expect.share[0].r.min, 50);
	assert_int_equal(sc.expect.share[0].r.max, 90);
	assert_int_equal(sc.expect.predicted_ns.min, 1000000);
}

static void defaults_apply(void **state)
{
	(void)state;
	assert_int_equal(load("guest: { workload: timer }\n"), 0);
	assert_string_equal(sc.name, "s.yaml");
	assert_string_equal(sc.workload, "timer");
	assert_int_equal(sc.mc.sim.ram_size, 64u << 20);
	assert_int_equal(sc.mc.cost.dm_roundtrip_ns, 10000);
	assert_int_equal(sc.mc.tsc_khz, 2400000);
	assert_int_equal(sc.mc.ndevs, 0);
	/* A scenario without limits still ends: 60 s of virtual time, 10 min
	 * of host time (docs/scenarios.md). */
	assert_int_equal(sc.mc.max_vtime, 60000000000ull);
	assert_int_equal(sc.mc.max_wall_ns, 600000000000ull);
	assert_int_equal(sc.mc.max_insns, 0);
	assert_int_equal(load("guest: { workload: timer }\nlimits: { virtual_time: none, wall_time: 90s }\n"), 0);
	assert_int_equal(sc.mc.max_vtime, 0);
	assert_int_equal(sc.mc.max_wall_ns, 90000000000ull);
}

/* A device's options are checked by its model when the machine is built;
 * the error then points at the device in the file. */
static void device_errors_are_placed(void **state)
{
	char out[8192];
	(void)state;
	assert_int_equal(load("guest: { workload: timer }\ndevices:\n  pic: {}\n  ne2k: { placement: dm, bogus: 1 }\n"), 0);
	scenario_locate_error(&sc, "device ne2k: bad options 'bogus=1'", out, sizeof(out));
	char want[300];
	snprintf(want, sizeof(want), "%s/s.yaml:4:3: device ne2k: bad options 'bogus=1'", dir);
	assert_string_equal(out, want);
	scenario_locate_error(&sc, "device ne2kx: odd", out, sizeof(out));
	snprintf(want, sizeof(want), "%s/s.yaml: device ne2kx: odd", dir);
	assert_string_equal(out, want);
}

static void mistakes_name_file_line_and_column(void **state)
{
	(void)state;
	assert_error_at("guest: { workload: timer }\nmachin: {}\n", 2, 1, "unknown key 'machin' in the scenario");
	assert_error_at("guest: { workload: timer }\nmachine:\n  ram: lots\n", 3, 8, "'lots' is not a size");
	assert_error_at("guest: { workload: timer }\nmachine:\n  ram: 100K\n", 3, 8, "between 1M and 3G");
	assert_error_at("guest: { workload: timer }\nmachine:\n  mode: protected\n", 3, 9, "'long' or 'real'");
	assert_error_at("guest: { workload: timer }\nmachine: [1, 2]\n", 2, 10, "machine must be a mapping");
	assert_error_at("guest: { workload: timer }\ndevices:\n  vga3000: {}\n", 3, 3, "unknown device 'vga3000'");
	assert_error_at("guest: { workload: timer }\ndevices:\n  pic: { placement: space }\n", 3, 21, "not 'space'");
	assert_error_at("guest: { workload: timer }\ncost:\n  dm_roundtrip: fast\n", 3, 17, "not a duration");
	assert_error_at("guest: { workload: timer }\ncost:\n  reasons: { NOPE: 1 }\n", 3, 14, "'NOPE' is not an exit reason");
	assert_error_at("guest: { workload: timer }\nlimits:\n  instructions: -5\n", 3, 17, "not a count");
	assert_error_at("guest: { workload: timer }\nlimits:\n  wall_time: forever\n", 3, 14, "or none");
	assert_error_at("guest: { workload: timer }\nlimits:\n  cpu_time: 1s\n", 3, 3, "wall_time");
	assert_error_at("guest: { workload: timer }\nrecord:\n  native_costs: maybe\n", 3, 17, "not true or false");
	assert_error_at("guest: { workload: timer }\nexpect:\n  exits: { HLT: { min: 9, max: 3 } }\n", 3, 17, "min is above max");
	assert_error_at("guest: { workload: timer }\nexpect:\n  output: text\n", 3, 11, "must be a list");
	assert_error_at("guest: { workload: timer }\nexpect:\n  exit_share: { HLT: 150 }\n", 3, 22, "percentage");
	assert_error_at("guest:\n  image: /nonexistent.elf\n", 2, 10, "No such file");
	assert_error_at("guest: { workload: ../x }\n", 1, 20, "not a workload name");
	assert_error_at("name: x\n", 1, 1, "a workload, an image or linux is required");
	assert_error_at("guest: [1, 2\n", 2, 1, "YAML syntax");
	/* Duplicate keys, a second document, an exit status past int, a NUL in
	 * a string and a guest image that is not a regular file (a FIFO would
	 * hang the run): each an error at its place. */
	assert_error_at("guest: { workload: timer }\nguest: { workload: cpu }\n", 2, 1, "'guest' is given twice (first at line 1)");
	assert_error_at("guest: { workload: timer, workload: cpu }\n", 1, 27, "'workload' is given twice");
	assert_error_at("guest: { workload: timer }\n---\nname: b\n", 3, 1, "a second YAML document");
	/* A syntax error after the document is one too (make fuzz-scenario). */
	assert_error_at("guest: { workload: timer }\n--- %rgs:37\n", 2, 5, "YAML syntax");
	assert_error_at("guest: { workload: timer }\nexpect: { status: 4294967296 }\n", 2, 19, "not an exit status");
	assert_error_at("name: \"a\\0b\"\nguest: { workload: timer }\n", 1, 7, "holds a NUL character");
	assert_error_at("guest: { workload: timer }\n\"name\\0x\": b\n", 2, 1, "a key holds a NUL character");
	assert_error_at("guest: { workload: timer }\ndevices: { \"pic\\0x\": {} }\n", 2, 12, "a key holds a NUL character");
	assert_error_at("guest: { image: /dev/null }\n", 1, 17, "not a regular file");
	assert_error_at("", 1, 1, "the file is empty");
	assert_error_at("# only a comment\n", 1, 1, "the file is empty");
	/* A cost past a second, or past what virtual time can hold, is out of range. */
	assert_error_at("guest: { workload: timer }\ncost:\n  handler: 2s\n", 3, 12, "out of range (0 to 1s)");
	assert_error_at("guest: { workload: timer }\ncost:\n  reasons: { HLT: 5s }\n", 3, 19, "out of range (0 to 1s)");
	assert_error_at("guest: { workload: timer }\ncost:\n  dm_roundtrip: 1e19\n", 3, 17, "not a duration");
	/* A file that is not there names itself. */
	assert_int_equal(scenario_load("/nonexistent/s.yaml", &sc, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/s.yaml: cannot open"));
}

static void number_parsers(void **state)
{
	uint64_t v;
	(void)state;
	assert_true(parse_size("64M", &v));
	assert_int_equal(v, 64u << 20);
	assert_true(parse_size("2GiB", &v));
	assert_int_equal(v, 2ull << 30);
	assert_false(parse_size("M", &v));
	assert_true(parse_duration_ns("1.5us", &v));
	assert_int_equal(v, 1500);
	assert_true(parse_duration_ns("250", &v));
	assert_int_equal(v, 250);
	assert_false(parse_duration_ns("5 parsecs", &v));
	assert_true(parse_count("1e9", &v));
	assert_int_equal(v, 1000000000);
	assert_false(parse_count("1.5", &v));
	assert_false(parse_count("1e30", &v));
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(full_scenario_is_read),
		cmocka_unit_test(defaults_apply),
		cmocka_unit_test(device_errors_are_placed),
		cmocka_unit_test(mistakes_name_file_line_and_column),
		cmocka_unit_test(number_parsers),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		return 1;
	return rc;
}
