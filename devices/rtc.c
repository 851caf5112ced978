/*
 * rtc.c - the PC/AT real-time clock: a Motorola MC146818A (datasheet
 * "MC146818A Real-Time Clock Plus RAM (RTC)", Motorola) with the PC's
 * 32.768 kHz time base, its 14 clock bytes and 114 bytes of CMOS RAM,
 * reached through the PC/AT's index/data pair.
 *
 * Range 0 = 0x70-0x71: 0x70 (write) selects the byte 0x71 reads and writes,
 * and its bit 7 is the PC's NMI mask.  The PC convention of a century byte
 * at 0x32 is kept in the clock (below).  IRQ# drives ISA IRQ 8 and follows
 * IRQF: the line rises when a flag of register C meets its enable bit and
 * falls when register C is read (or the enable is cleared).  IRQ 8 is edge
 * triggered at the slave 8259A, which latches the rise; a guest that never
 * reads register C gets no second interrupt, as on a PC.
 *
 * Time: nothing ticks.  The clock is a count of seconds since
 * 0000-01-01T00:00:00 (proleptic Gregorian, modulo 10000 years) as of a
 * virtual time `synced`, and the divider chain is a phase: its 32.768 kHz
 * tick k happens at virtual time ceil(k * 10^9 / 32768) - chain_off ns.
 * Everything the guest sees (the time registers, UIP, the flags of
 * register C) follows from the present virtual time by exact integer
 * arithmetic, and every access first brings the state up to that time
 * (rtc_sync).  A guest that polls UIP or reads the time costs no timer: the
 * one platform timer is armed only to raise IRQ 8, only for a source whose
 * enable bit is set, and not while IRQF is already set (nothing the guest
 * could see would change before it reads register C).  At virtual time 0
 * the clock reads the `date` option, and its updates fall on whole seconds
 * of virtual time until the guest moves them.
 *
 * Modelling choices (the datasheet's behaviour unless said otherwise):
 * - Reset state: no BIOS runs before the guest, so the clock starts as a PC
 *   BIOS leaves it: A = 0x26 (32.768 kHz time base, 1024 Hz rate), B = 0x02
 *   (24-hour, BCD), the CMOS RAM zeroed.  The device's reset is the chip's
 *   RESET pin ("RESET" pin description): PIE, AIE, UIE, SQWE and the flags
 *   of register C are cleared; the time, register A and SET, DM, 24/12 and
 *   DSE are kept (the chip is battery-backed).
 * - The update cycle ("Update Cycle"): UIP reads 1 for the 8 chain ticks
 *   (244 us, t_BUC of Table 6) before each update; the update itself takes
 *   no time (the chip's t_UC is 1984 us at 32.768 kHz, during which the
 *   clock bytes are not readable), so the new time, UF and AF appear at the
 *   end of the UIP window.
 * - The time is kept as seconds, not as counter bytes, so a change of DM or
 *   24/12 with SET = 0 shows the same time in the new format at once (the
 *   chip would go on counting the old bytes wrongly until the time is
 *   rewritten).  The alarm bytes are compared as bytes in the format in
 *   force at each update, as the chip does.
 * - Writes of the time: with SET = 1 the clock stands still and registers
 *   0-9 and 0x32 read back exactly as written; clearing SET takes them as
 *   the new time.  With SET = 0 a write takes effect at once.  Either way the
 *   divider chain keeps its phase, so the next update comes when it would
 *   have ("Register B", SET).  A write of B with SET = 1 clears UIE (the
 *   datasheet: SET going high clears it).  A value the chip could not count from (a
 *   digit above 9 in BCD, seconds 60, month 13, February 30, hour 0 in
 *   12-hour mode, day of week 0 ...) is clamped into its range when it is
 *   taken (each digit weighed as written, then the nearest valid value) and
 *   logged once per kind; the chip's behaviour there is unspecified.
 * - The century byte 0x32 is a clock field here: it reads in the format of
 *   the other bytes and counts when the year passes 99, and the calendar is
 *   Gregorian with it (2100 has no February 29).  The chip has no century:
 *   0x32 is plain RAM to it, its year wraps from 99 to 00 and it makes every
 *   year divisible by 4 a leap year.
 * - Daylight saving (DSE) is kept as a bit but never moves the clock
 *   (logged once); SQWE has no pin to drive on a PC.
 * - The divider ("Register A" DV2-DV0, Table 4): only DV = 010, the PC's
 *   32.768 kHz time base, runs the chain.  DV = 11x holds it in reset; any
 *   other value (the 4.194304 and 1.048576 MHz settings and the test modes,
 *   which would run the PC's crystal at a wrong rate) stops it, logged
 *   once.  A stopped clock neither updates nor makes periodic interrupts and
 *   UIP reads 0.  Entering 010 from any other value restarts the chain: the
 *   first update comes half a second later.
 * - Port 0x70 is write-only on the PC/AT: it reads 0xff.  The NMI mask bit
 *   is kept and shown by the dump; there is no NMI to mask.
 *
 * Accesses wider than a byte are split into byte accesses at off, off+1, ...
 * (little-endian, like two ISA cycles: `outw 0x70` with index | value << 8
 * selects and writes); bytes past 0x71 read 0xff and are dropped on write.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <vmxlab/dev.h>

#define RTC_IRQ       8
#define NS_PER_S      1000000000ull
#define NEVER         UINT64_MAX

/* A 32.768 kHz chain tick is 10^9 / 32768 = 1953125 / 64 ns. */
#define TICK_NS_NUM   1953125ull
#define TICK_NS_DEN   64u
#define CHAIN_HZ      32768u
/* Updates happen at chain tick 16384 (mod 32768): half a second after the
 * divider leaves reset ("Register A", DV2-DV0). */
#define UPDATE_PHASE  16384u
/* t_BUC, UIP before the update: 244 us, 8 ticks (Table 6). */
#define UIP_TICKS     8u

#define SECS_PER_DAY  86400u
#define DAYS_PER_400Y 146097u
/* 10000 Gregorian years, the span of century:year (25 x 400 years, a whole
 * number of weeks too). */
#define CLOCK_DAYS    (25ull * DAYS_PER_400Y)
#define CLOCK_SECS    (CLOCK_DAYS * SECS_PER_DAY)

#define DEFAULT_DATE  "2026-01-01T00:00:00"

/*
 * Address map ("Address Map"): bytes 0-13 are the clock, 14-63
 * user RAM on the MC146818A (the PC's chipsets extend it to 127).
 */
enum {
	REG_SEC = 0x00,
	REG_SEC_ALARM = 0x01,
	REG_MIN = 0x02,
	REG_MIN_ALARM = 0x03,
	REG_HOUR = 0x04,
	REG_HOUR_ALARM = 0x05,
	REG_DOW = 0x06,
	REG_MDAY = 0x07,
	REG_MON = 0x08,
	REG_YEAR = 0x09,
	REG_A = 0x0a,
	REG_B = 0x0b,
	REG_C = 0x0c,
	REG_D = 0x0d,
	REG_CENTURY = 0x32,     /* the PC/AT BIOS's convention, not the chip's */
	CMOS_SIZE = 128,
};

#define RANGE_PORTS 0
#define PORT_INDEX  0
#define PORT_DATA   1

/*
 * Port 0x70 (PC/AT), write only:
 *
 *     7     6   5   4   3   2   1   0
 *   +-----+---------------------------+
 *   | NMI |   index of the CMOS byte  |
 *   +-----+---------------------------+
 *   NMI: 1 = NMI disabled
 */
#define IDX_NMI  0x80
#define IDX_MASK 0x7f

/*
 * Register A ("Register A"):
 *
 *     7     6     5     4     3     2     1     0
 *   +-----+-----+-----+-----+-----+-----+-----+-----+
 *   | UIP | DV2 | DV1 | DV0 | RS3 | RS2 | RS1 | RS0 |
 *   +-----+-----+-----+-----+-----+-----+-----+-----+
 *   UIP: update in progress (read only)
 *   DV:  010 = 32.768 kHz time base, running; 11x = divider chain reset;
 *        000 = 4.194304 MHz, 001 = 1.048576 MHz (Table 4)
 *   RS:  periodic rate, 32768 >> (RS - 1) Hz for RS 3-15; 0 = none;
 *        RS 1 and 2 give 256 and 128 Hz at 32.768 kHz (Table 5)
 */
#define A_UIP        0x80
#define A_WRITABLE   0x7f
#define A_DV(v)      (((unsigned)(v) >> 4) & 7)
#define A_RS(v)      ((unsigned)(v) & 15)
#define DV_32K       2
#define DV_RESET_LO  6    /* 110 and 111 */
#define A_POWER_ON   0x26

/*
 * Register B ("Register B"):
 *
 *     7     6     5     4     3      2     1       0
 *   +-----+-----+-----+-----+------+----+-------+-----+
 *   | SET | PIE | AIE | UIE | SQWE | DM | 24/12 | DSE |
 *   +-----+-----+-----+-----+------+----+-------+-----+
 *   SET:  1 = updates inhibited, the time may be written
 *   PIE, AIE, UIE: periodic, alarm, update-ended interrupt enables
 *   SQWE: square-wave output enable (no pin on the PC)
 *   DM:   1 = binary, 0 = BCD     24/12: 1 = 24-hour, 0 = 12-hour
 *   DSE:  daylight saving enable
 */
#define B_SET        0x80
#define B_PIE        0x40
#define B_AIE        0x20
#define B_UIE        0x10
#define B_SQWE       0x08
#define B_DM         0x04
#define B_24H        0x02
#define B_DSE        0x01
#define B_POWER_ON   B_24H

/*
 * Register C ("Register C"), read only, cleared by a read:
 *
 *     7      6    5    4    3   2   1   0
 *   +------+----+----+----+---+---+---+---+
 *   | IRQF | PF | AF | UF | 0 | 0 | 0 | 0 |
 *   +------+----+----+----+---+---+---+---+
 *   IRQF = PF & PIE | AF & AIE | UF & UIE; the IRQ# pin is asserted while
 *   it is 1.  PF, AF and UF sit at the bit positions of PIE, AIE and UIE.
 */
#define C_IRQF       0x80
#define C_PF         0x40
#define C_AF         0x20
#define C_UF         0x10
#define C_FLAGS      0x70

/*
 * Register D ("Register D"), read only:
 *
 *     7     6   5   4   3   2   1   0
 *   +-----+---+---+---+---+---+---+---+
 *   | VRT | 0 | 0 | 0 | 0 | 0 | 0 | 0 |
 *   +-----+---+---+---+---+---+---+---+
 *   VRT: valid RAM and time (the battery is good)
 */
#define D_VRT        0x80

/* Hours in 12-hour mode ("Time, Calendar, and Alarm Locations"): bit 7
 * is PM, bits 6-0 are 1-12. */
#define HOUR_PM      0x80
/* An alarm byte with both top bits set matches any value ("Interrupts", alarm). */
#define ALARM_ANY    0xc0

/* The clock's fields, in the order of their bytes. */
enum field { F_SEC, F_MIN, F_HOUR, F_DOW, F_MDAY, F_MON, F_YEAR, F_CENTURY, NFIELDS };

static const uint8_t field_reg[NFIELDS] = {
	REG_SEC, REG_MIN, REG_HOUR, REG_DOW, REG_MDAY, REG_MON, REG_YEAR, REG_CENTURY,
};
static const char *const field_name[NFIELDS] = {
	"seconds", "minutes", "hours", "day of week", "day of month", "month", "year", "century",
};

/* Kinds of guest nonsense, each logged once. */
enum {
	LOG_ACCESS = 1u << 0,
	LOG_READ_ONLY = 1u << 1,
	LOG_DIVIDER = 1u << 2,
	LOG_NOT_BCD = 1u << 3,
	LOG_RANGE = 1u << 4,
	LOG_DSE = 1u << 5,
	LOG_NO_RATE = 1u << 6,
};

/* A broken-down time; hours 0-23 whatever the mode. */
struct rtc_tm {
	unsigned v[NFIELDS];
};

struct rtc_state {
	const struct vmx_platform *plat;
	uint8_t index;              /* port 0x70 bits 6-0 */
	bool nmi_mask;              /* port 0x70 bit 7 */
	uint8_t reg_a;              /* DV and RS; UIP is computed */
	uint8_t reg_b;
	uint8_t reg_c;              /* PF, AF, UF as of `synced`; IRQF is computed */
	uint8_t alarm_sec;          /* bytes 1, 3, 5 as written */
	uint8_t alarm_min;
	uint8_t alarm_hour;
	uint8_t held[NFIELDS];      /* SET = 1: the time bytes as written */
	uint8_t ram[CMOS_SIZE];     /* bytes 14-127 (0-13 and 0x32 are the clock's) */
	uint64_t clock;             /* seconds since 0000-01-01T00:00:00, as of `synced` */
	uint8_t dow_off;            /* day of week = (days + dow_off) % 7 + 1 */
	uint32_t chain_off;         /* the divider chain's phase, ns (0..10^9-1) */
	vtime_t synced;             /* the time flags and clock were brought to */
	bool irq;                   /* IRQ 8 as driven */
	int timer;                  /* raises IRQ 8 */
	vtime_t deadline;           /* that timer's deadline, or NEVER */
	unsigned logged;            /* LOG_* kinds already reported */
};

#define rtc_log(r, ...) \
	((r)->plat && (r)->plat->log ? (r)->plat->log((r)->plat->ctx, "rtc", __VA_ARGS__) : (void)0)
#define rtc_log_once(r, kind, ...) \
	((r)->logged & (kind) ? (void)0 : ((r)->logged |= (kind), rtc_log(r, __VA_ARGS__)))

/* ---------------------------------------------------------------- calendar */

static bool leap_year(unsigned y)
{
	return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

static unsigned month_days(unsigned y, unsigned m)
{
	static const uint8_t days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && leap_year(y) ? 29 : days[m - 1];
}

/* Days from 0000-01-01 to y-01-01; year 0 is a leap year. */
static uint64_t days_before_year(unsigned y)
{
	return 365ull * y + (y + 3) / 4 - (y + 99) / 100 + (y + 399) / 400;
}

static uint64_t tm_to_clock(const struct rtc_tm *tm)
{
	unsigned y = tm->v[F_CENTURY] * 100 + tm->v[F_YEAR];
	uint64_t days = days_before_year(y);

	for (unsigned m = 1; m < tm->v[F_MON]; m++)
		days += month_days(y, m);
	days += tm->v[F_MDAY] - 1;
	return days * SECS_PER_DAY + tm->v[F_HOUR] * 3600u + tm->v[F_MIN] * 60u + tm->v[F_SEC];
}

static void clock_to_tm(uint64_t clock, uint8_t dow_off, struct rtc_tm *tm)
{
	uint64_t days = clock / SECS_PER_DAY;
	unsigned tod = (unsigned)(clock % SECS_PER_DAY);
	unsigned y = (unsigned)(days * 400 / DAYS_PER_400Y);
	unsigned m = 1;
	uint64_t d;

	while (y > 0 && days_before_year(y) > days)
		y--;
	while (days_before_year(y + 1) <= days)
		y++;
	d = days - days_before_year(y);
	while (d >= month_days(y, m))
		d -= month_days(y, m++);
	tm->v[F_SEC] = tod % 60;
	tm->v[F_MIN] = tod / 60 % 60;
	tm->v[F_HOUR] = tod / 3600;
	tm->v[F_DOW] = (unsigned)((days + dow_off) % 7) + 1;
	tm->v[F_MDAY] = (unsigned)d + 1;
	tm->v[F_MON] = m;
	tm->v[F_YEAR] = y % 100;
	tm->v[F_CENTURY] = y / 100;
}

/* The dow_off that makes day number `days` read as `dow` (1-7). */
static uint8_t dow_offset(uint64_t days, unsigned dow)
{
	return (uint8_t)((dow - 1 + 7 - days % 7) % 7);
}

/* ---------------------------------------------------------------- data modes */

/* "Time, Calendar, and Alarm Data Modes": BCD or binary by DM. */
static uint8_t encode_num(const struct rtc_state *r, unsigned v)
{
	if (r->reg_b & B_DM)
		return (uint8_t)v;
	return (uint8_t)((v / 10) << 4 | v % 10);
}

static uint8_t encode(const struct rtc_state *r, enum field f, unsigned v)
{
	unsigned h12;

	if (f != F_HOUR || (r->reg_b & B_24H))
		return encode_num(r, v);
	h12 = v % 12 ? v % 12 : 12;
	return (uint8_t)(encode_num(r, h12) | (v >= 12 ? HOUR_PM : 0));
}

static unsigned decode_num(struct rtc_state *r, enum field f, uint8_t b)
{
	if (r->reg_b & B_DM)
		return b;
	if ((b & 0x0f) > 9 || (b >> 4) > 9)
		rtc_log_once(r, LOG_NOT_BCD, "%s %#04x is not BCD: taken as %u", field_name[f], b,
			     (b >> 4) * 10u + (b & 0x0f));
	return (b >> 4) * 10u + (b & 0x0f);
}

static unsigned clamp_field(struct rtc_state *r, enum field f, unsigned v, unsigned lo, unsigned hi)
{
	unsigned c = v < lo ? lo : v > hi ? hi : v;

	if (c != v)
		rtc_log_once(r, LOG_RANGE, "%s %u out of range %u-%u: taken as %u", field_name[f], v, lo,
			     hi, c);
	return c;
}

/* A byte written to the time field f as a number, hours 0-23 (tm_fix
 * brings the others into range). */
static unsigned decode(struct rtc_state *r, enum field f, uint8_t b)
{
	unsigned h;

	if (f != F_HOUR || (r->reg_b & B_24H))
		return decode_num(r, f, b);
	h = clamp_field(r, f, decode_num(r, f, b & (uint8_t)~HOUR_PM), 1, 12);
	return h % 12 + (b & HOUR_PM ? 12 : 0);
}

/* Every field into its range; the day last, as it depends on the others. */
static void tm_fix(struct rtc_state *r, struct rtc_tm *tm)
{
	static const uint8_t lo[NFIELDS] = { 0, 0, 0, 1, 1, 1, 0, 0 };
	static const uint8_t hi[NFIELDS] = { 59, 59, 23, 7, 31, 12, 99, 99 };
	unsigned y;

	for (unsigned f = 0; f < NFIELDS; f++)
		if (f != F_MDAY)
			tm->v[f] = clamp_field(r, f, tm->v[f], lo[f], hi[f]);
	y = tm->v[F_CENTURY] * 100 + tm->v[F_YEAR];
	tm->v[F_MDAY] = clamp_field(r, F_MDAY, tm->v[F_MDAY], 1, month_days(y, tm->v[F_MON]));
}

static void set_clock(struct rtc_state *r, const struct rtc_tm *tm)
{
	r->clock = tm_to_clock(tm);
	r->dow_off = dow_offset(r->clock / SECS_PER_DAY, tm->v[F_DOW]);
}

/* ---------------------------------------------------------------- divider chain */

static bool chain_running(const struct rtc_state *r)
{
	return A_DV(r->reg_a) == DV_32K;
}

static bool clock_running(const struct rtc_state *r)
{
	return chain_running(r) && !(r->reg_b & B_SET);
}

/* Chain ticks by time t: floor((t + chain_off) * 64 / 1953125), in 64 bits. */
static uint64_t chain_ticks(const struct rtc_state *r, vtime_t t)
{
	uint64_t q = t / TICK_NS_NUM + r->chain_off / TICK_NS_NUM;
	uint64_t rem = t % TICK_NS_NUM + r->chain_off % TICK_NS_NUM;

	q += rem / TICK_NS_NUM;
	rem %= TICK_NS_NUM;
	return q * TICK_NS_DEN + rem * TICK_NS_DEN / TICK_NS_NUM;
}

/* The first time at which chain_ticks reaches k, or NEVER past 64 bits. */
static vtime_t tick_time(const struct rtc_state *r, uint64_t k)
{
	uint64_t a = k / TICK_NS_DEN, b = k % TICK_NS_DEN;
	uint64_t x;

	if (k == NEVER || a > (UINT64_MAX - 2 * TICK_NS_NUM) / TICK_NS_NUM)
		return NEVER;
	x = a * TICK_NS_NUM + (b * TICK_NS_NUM + TICK_NS_DEN - 1) / TICK_NS_DEN;
	return x > r->chain_off ? x - r->chain_off : 0;
}

/* Updates by chain tick c: the ticks 16384 + 32768 n <= c. */
static uint64_t updates_by(uint64_t c)
{
	return (c + UPDATE_PHASE) / CHAIN_HZ;
}

/* The chain tick of update number n (0-based). */
static uint64_t update_tick(uint64_t n)
{
	return n * CHAIN_HZ + UPDATE_PHASE;
}

/* Ticks per periodic interrupt, Table 5 (32.768 kHz column); 0: none. */
static uint64_t periodic_ticks(const struct rtc_state *r)
{
	unsigned rs = A_RS(r->reg_a);

	if (rs == 0)
		return 0;
	if (rs <= 2)
		rs += 7;
	return 1ull << (rs - 1);
}

/* UIP ("Register A", Table 6) at `synced`: the 8 ticks before an update. */
static bool uip(const struct rtc_state *r)
{
	return clock_running(r) &&
	       (chain_ticks(r, r->synced) + UPDATE_PHASE) % CHAIN_HZ >= CHAIN_HZ - UIP_TICKS;
}

/* ---------------------------------------------------------------- alarm */

/* Values 0..n-1 of field f whose byte matches the alarm byte, as a bit mask. */
static uint64_t alarm_matches(const struct rtc_state *r, uint8_t alarm, enum field f, unsigned n)
{
	if ((alarm & ALARM_ANY) == ALARM_ANY)
		return (1ull << n) - 1;
	for (unsigned v = 0; v < n; v++)
		if (encode(r, f, v) == alarm)
			return 1ull << v;
	return 0;
}

/*
 * "Interrupts": after each update the alarm bytes are compared with the time.
 * Returns m (1..86400) such that the m-th update after time of day `tod`
 * matches, or 0 if no time of day does.
 */
static unsigned alarm_next(const struct rtc_state *r, unsigned tod)
{
	uint64_t hours = alarm_matches(r, r->alarm_hour, F_HOUR, 24);
	uint64_t mins = alarm_matches(r, r->alarm_min, F_MIN, 60);
	uint64_t secs = alarm_matches(r, r->alarm_sec, F_SEC, 60);
	unsigned h0 = tod / 3600, m0 = tod / 60 % 60, s0 = tod % 60;

	if (!hours || !mins || !secs)
		return 0;
	for (unsigned day = 0; day < 2; day++) {
		for (unsigned h = day ? 0 : h0; h < 24; h++) {
			bool now_h = !day && h == h0;
			uint64_t ms = now_h ? mins & (~0ull << m0) : mins;

			if (!(hours >> h & 1))
				continue;
			for (; ms; ms &= ms - 1) {
				unsigned m = (unsigned)__builtin_ctzll(ms);
				unsigned from = now_h && m == m0 ? s0 + 1 : 0;
				uint64_t ss = from < 60 ? secs & (~0ull << from) : 0;

				if (ss)
					return day * SECS_PER_DAY + h * 3600 + m * 60 +
					       (unsigned)__builtin_ctzll(ss) - tod;
			}
		}
	}
	return 0;
}

/* ---------------------------------------------------------------- time */

static vtime_t rtc_now(const struct rtc_state *r)
{
	return r->plat->now(r->plat->ctx);
}

/*
 * Bring the flags and the clock from `synced` to `now`: PF if the chain
 * passed a periodic edge ("Periodic Interrupt Selection"), and, unless SET
 * holds the clock, UF after updates ("Update Cycle") and AF if one of them
 * matched the alarm.  Touches nothing but the state: the dump runs it on a
 * copy.
 */
static void rtc_sync(struct rtc_state *r, vtime_t now)
{
	uint64_t c0, c1, p, n;
	unsigned m;

	if (now <= r->synced)
		return;
	if (chain_running(r)) {
		c0 = chain_ticks(r, r->synced);
		c1 = chain_ticks(r, now);
		p = periodic_ticks(r);
		if (p && c1 / p != c0 / p)
			r->reg_c |= C_PF;
		n = clock_running(r) ? updates_by(c1) - updates_by(c0) : 0;
		if (n) {
			r->reg_c |= C_UF;
			if (!(r->reg_c & C_AF)) {
				m = alarm_next(r, (unsigned)(r->clock % SECS_PER_DAY));
				if (m && m <= n)
					r->reg_c |= C_AF;
			}
			r->clock = (r->clock + n % CLOCK_SECS) % CLOCK_SECS;
		}
	}
	r->synced = now;
}

static bool irqf(const struct rtc_state *r)
{
	return r->reg_c & r->reg_b & C_FLAGS;
}

/* IRQ 8 to IRQF; true if the line moved. */
static bool irq_update(struct rtc_state *r)
{
	bool level = irqf(r);

	if (level == r->irq)
		return false;
	r->irq = level;
	r->plat->set_irq(r->plat->ctx, RTC_IRQ, level);
	return true;
}

/* When IRQF would next become 1 with no access in between, or NEVER. */
static vtime_t next_irq_time(const struct rtc_state *r)
{
	vtime_t best = NEVER, t;
	uint64_t c, p, n;
	unsigned m;

	if (irqf(r) || !chain_running(r))
		return NEVER;
	c = chain_ticks(r, r->synced);
	p = periodic_ticks(r);
	if ((r->reg_b & B_PIE) && p)
		best = tick_time(r, (c / p + 1) * p);
	if (!clock_running(r))
		return best;
	n = updates_by(c);
	if (r->reg_b & B_UIE) {
		t = tick_time(r, update_tick(n));
		best = t < best ? t : best;
	}
	if (r->reg_b & B_AIE) {
		m = alarm_next(r, (unsigned)(r->clock % SECS_PER_DAY));
		t = m ? tick_time(r, update_tick(n + m - 1)) : NEVER;
		best = t < best ? t : best;
	}
	return best;
}

static void rtc_schedule(struct rtc_state *r)
{
	r->deadline = next_irq_time(r);
	if (r->timer < 0)
		return;
	if (r->deadline == NEVER)
		r->plat->timer_cancel(r->plat->ctx, r->timer);
	else
		r->plat->timer_arm(r->plat->ctx, r->timer, r->deadline);
}

static void rtc_timer_fired(void *s, vtime_t now)
{
	struct rtc_state *r = s;

	r->deadline = NEVER;
	rtc_sync(r, now);
	irq_update(r);
	rtc_schedule(r);
}

/* ---------------------------------------------------------------- registers */

static int reg_field(unsigned idx)
{
	for (int f = 0; f < NFIELDS; f++)
		if (field_reg[f] == idx)
			return f;
	return -1;
}

static void current_tm(const struct rtc_state *r, struct rtc_tm *tm)
{
	clock_to_tm(r->clock, r->dow_off, tm);
}

/* Byte idx as a read would return it, without a read's side effects; the
 * state is synced. */
static uint8_t peek(const struct rtc_state *r, unsigned idx)
{
	int f = reg_field(idx);
	struct rtc_tm tm;

	if (f >= 0) {
		if (r->reg_b & B_SET)
			return r->held[f];
		current_tm(r, &tm);
		return encode(r, (enum field)f, tm.v[f]);
	}
	switch (idx) {
	case REG_SEC_ALARM:
		return r->alarm_sec;
	case REG_MIN_ALARM:
		return r->alarm_min;
	case REG_HOUR_ALARM:
		return r->alarm_hour;
	case REG_A:
		return (uint8_t)(r->reg_a | (uip(r) ? A_UIP : 0));
	case REG_B:
		return r->reg_b;
	case REG_C:
		return (uint8_t)(r->reg_c | (irqf(r) ? C_IRQF : 0));
	case REG_D:
		return D_VRT;
	default:
		return r->ram[idx];
	}
}

/* The time bytes as the new time, when SET is cleared. */
static void take_held(struct rtc_state *r)
{
	struct rtc_tm tm;

	for (unsigned f = 0; f < NFIELDS; f++)
		tm.v[f] = decode(r, f, r->held[f]);
	tm_fix(r, &tm);
	set_clock(r, &tm);
}

static void write_time(struct rtc_state *r, enum field f, uint8_t val)
{
	struct rtc_tm tm;

	if (r->reg_b & B_SET) {
		r->held[f] = val;
		return;
	}
	current_tm(r, &tm);
	tm.v[f] = decode(r, f, val);
	tm_fix(r, &tm);
	set_clock(r, &tm);
}

/* Register A: a divider leaving reset restarts the chain half a second
 * before its first update ("Register A", DV2-DV0). */
static void write_a(struct rtc_state *r, uint8_t val)
{
	bool was_running = chain_running(r);
	unsigned dv = A_DV(val);

	r->reg_a = val & A_WRITABLE;
	if (dv != DV_32K && dv < DV_RESET_LO)
		rtc_log_once(r, LOG_DIVIDER, "register A %#04x: divider %u%u%u is not the PC's "
			     "32.768 kHz time base (010): the clock stops", val, dv >> 2, dv >> 1 & 1,
			     dv & 1);
	if (chain_running(r) && !was_running)
		r->chain_off = (uint32_t)((NS_PER_S - r->synced % NS_PER_S) % NS_PER_S);
	if ((r->reg_b & B_PIE) && !A_RS(val))
		rtc_log_once(r, LOG_NO_RATE, "periodic interrupt enabled with rate select 0: none occurs");
}

/* Register B: SET going to 1 freezes the time bytes and clears UIE; going
 * to 0 takes them as the new time ("Register B"). */
static void write_b(struct rtc_state *r, uint8_t val)
{
	bool was_set = r->reg_b & B_SET;
	struct rtc_tm tm;

	if (val & B_SET)
		val &= (uint8_t)~B_UIE;
	r->reg_b = val;
	if ((val & B_SET) && !was_set) {
		current_tm(r, &tm);
		for (unsigned f = 0; f < NFIELDS; f++)
			r->held[f] = encode(r, f, tm.v[f]);
	} else if (!(val & B_SET) && was_set) {
		take_held(r);
	}
	if (val & B_DSE)
		rtc_log_once(r, LOG_DSE, "daylight saving (DSE) is not modelled: the clock keeps "
			     "standard time");
	if ((val & B_PIE) && !A_RS(r->reg_a))
		rtc_log_once(r, LOG_NO_RATE, "periodic interrupt enabled with rate select 0: none occurs");
}

static uint8_t read_data(struct rtc_state *r)
{
	unsigned idx = r->index;
	uint8_t v = peek(r, idx);

	if (idx == REG_C) {
		r->reg_c = 0;
		irq_update(r);
		rtc_schedule(r);
	}
	return v;
}

static void write_data(struct rtc_state *r, uint8_t val)
{
	unsigned idx = r->index;
	int f = reg_field(idx);

	if (f >= 0) {
		write_time(r, (enum field)f, val);
	} else {
		switch (idx) {
		case REG_SEC_ALARM:
			r->alarm_sec = val;
			break;
		case REG_MIN_ALARM:
			r->alarm_min = val;
			break;
		case REG_HOUR_ALARM:
			r->alarm_hour = val;
			break;
		case REG_A:
			write_a(r, val);
			break;
		case REG_B:
			write_b(r, val);
			break;
		case REG_C:
		case REG_D:
			rtc_log_once(r, LOG_READ_ONLY, "write %#04x to read-only register %c ignored", val,
				     idx == REG_C ? 'C' : 'D');
			return;
		default:
			r->ram[idx] = val;
			return;
		}
	}
	irq_update(r);
	rtc_schedule(r);
}

/* ---------------------------------------------------------------- ports */

static bool access_ok(struct rtc_state *r, unsigned range, uint16_t off, unsigned size, const char *what)
{
	if (range == RANGE_PORTS && (size == 1 || size == 2 || size == 4))
		return true;
	rtc_log_once(r, LOG_ACCESS, "bad %s: range %u offset %u size %u", what, range, off, size);
	return false;
}

static uint32_t rtc_pio_read(void *s, unsigned range, uint16_t off, unsigned size)
{
	struct rtc_state *r = s;
	uint32_t val = 0;

	if (!access_ok(r, range, off, size, "read"))
		return 0xffffffff;
	rtc_sync(r, rtc_now(r));
	if (irq_update(r))
		rtc_schedule(r);
	for (unsigned i = 0; i < size; i++) {
		unsigned port = (unsigned)off + i;
		uint8_t b = port == PORT_DATA ? read_data(r) : 0xff;

		val |= (uint32_t)b << (8 * i);
	}
	return val;
}

static void rtc_pio_write(void *s, unsigned range, uint16_t off, unsigned size, uint32_t val)
{
	struct rtc_state *r = s;

	if (!access_ok(r, range, off, size, "write"))
		return;
	rtc_sync(r, rtc_now(r));
	if (irq_update(r))
		rtc_schedule(r);
	for (unsigned i = 0; i < size; i++) {
		unsigned port = (unsigned)off + i;
		uint8_t b = (uint8_t)(val >> (8 * i));

		if (port == PORT_INDEX) {
			r->index = b & IDX_MASK;
			r->nmi_mask = b & IDX_NMI;
		} else if (port == PORT_DATA) {
			write_data(r, b);
		}
	}
}

/* ---------------------------------------------------------------- lifecycle */

/* The chip's RESET pin ("RESET" pin description). */
static void rtc_reset(void *s)
{
	struct rtc_state *r = s;

	rtc_sync(r, rtc_now(r));
	r->reg_b &= (uint8_t)~(B_PIE | B_AIE | B_UIE | B_SQWE);
	r->reg_c = 0;
	irq_update(r);
	rtc_schedule(r);
}

/* "YYYY-MM-DDTHH:MM:SS", UTC; false if it is not one or not a valid time. */
static bool parse_date(const char *v, struct rtc_tm *tm)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd";
	unsigned y, mon, d, h, mi, sec;

	if (strlen(v) != sizeof(shape) - 1)
		return false;
	for (unsigned i = 0; shape[i]; i++)
		if (shape[i] == 'd' ? v[i] < '0' || v[i] > '9' : v[i] != shape[i])
			return false;
	if (sscanf(v, "%4u-%2u-%2uT%2u:%2u:%2u", &y, &mon, &d, &h, &mi, &sec) != 6)
		return false;
	if (mon < 1 || mon > 12 || d < 1 || d > month_days(y, mon) || h > 23 || mi > 59 || sec > 59)
		return false;
	tm->v[F_SEC] = sec;
	tm->v[F_MIN] = mi;
	tm->v[F_HOUR] = h;
	tm->v[F_MDAY] = d;
	tm->v[F_MON] = mon;
	tm->v[F_YEAR] = y % 100;
	tm->v[F_CENTURY] = y / 100;
	return true;
}

/* Options "key=value,...": date=YYYY-MM-DDTHH:MM:SS, the time at virtual time 0. */
static int parse_options(struct rtc_state *r, const char *options, struct rtc_tm *tm)
{
	char buf[256];
	char *save = NULL;

	if (!parse_date(DEFAULT_DATE, tm))
		return -1;
	if (!options || !*options)
		return 0;
	if (strlen(options) >= sizeof(buf)) {
		rtc_log(r, "options too long");
		return -1;
	}
	strcpy(buf, options);
	for (char *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');

		if (eq)
			*eq = '\0';
		if (!eq || strcmp(kv, "date")) {
			rtc_log(r, "unknown option '%s' (known: date)", kv);
			return -1;
		}
		if (!parse_date(eq + 1, tm)) {
			rtc_log(r, "bad value '%s' for option date: want YYYY-MM-DDTHH:MM:SS, a valid "
				"UTC time in years 0000-9999", eq + 1);
			return -1;
		}
	}
	return 0;
}

static int rtc_init(void *s, const struct vmx_platform *plat, const char *options)
{
	struct rtc_state *r = s;
	struct rtc_tm tm;

	r->plat = plat;
	r->timer = -1;
	r->deadline = NEVER;
	if (parse_options(r, options, &tm))
		return -1;
	r->reg_a = A_POWER_ON;
	r->reg_b = B_POWER_ON;
	r->clock = tm_to_clock(&tm);
	/* 0000-01-01 was a Saturday: day 1 is Sunday, as PC BIOSes count. */
	r->dow_off = 6;
	/* Updates on whole seconds of virtual time: tick 16384 at time 0. */
	r->chain_off = NS_PER_S / 2;
	r->synced = 0;
	r->timer = plat->timer_new(plat->ctx, rtc_timer_fired, r);
	if (r->timer < 0) {
		rtc_log(r, "no platform timer for IRQ 8");
		return -1;
	}
	return 0;
}

static void rtc_fini(void *s)
{
	struct rtc_state *r = s;

	if (r->timer >= 0)
		r->plat->timer_cancel(r->plat->ctx, r->timer);
}

/* ---------------------------------------------------------------- save/restore */

#define RTC_IMAGE_MAGIC   0x20435452u /* "RTC " */
#define RTC_IMAGE_VERSION 1

struct rtc_image {
	uint32_t magic;
	uint16_t version;
	uint16_t size;
	uint64_t clock;
	uint64_t synced;
	uint32_t chain_off;
	uint8_t index, nmi_mask, reg_a, reg_b;
	uint8_t reg_c, alarm_sec, alarm_min, alarm_hour;
	uint8_t dow_off, irq, pad[6];
	uint8_t held[NFIELDS];
	uint8_t ram[CMOS_SIZE];
};

_Static_assert(sizeof(struct rtc_image) == 184, "rtc image layout is fixed");

static long rtc_save(const void *s, void *buf, size_t len)
{
	const struct rtc_state *r = s;
	struct rtc_image img;

	if (len < sizeof(img))
		return -1;
	memset(&img, 0, sizeof(img));
	img.magic = RTC_IMAGE_MAGIC;
	img.version = RTC_IMAGE_VERSION;
	img.size = sizeof(img);
	img.clock = r->clock;
	img.synced = r->synced;
	img.chain_off = r->chain_off;
	img.index = r->index;
	img.nmi_mask = r->nmi_mask;
	img.reg_a = r->reg_a;
	img.reg_b = r->reg_b;
	img.reg_c = r->reg_c;
	img.alarm_sec = r->alarm_sec;
	img.alarm_min = r->alarm_min;
	img.alarm_hour = r->alarm_hour;
	img.dow_off = r->dow_off;
	img.irq = r->irq;
	memcpy(img.held, r->held, sizeof(img.held));
	memcpy(img.ram, r->ram, sizeof(img.ram));
	memcpy(buf, &img, sizeof(img));
	return (long)sizeof(img);
}

/* Only what the model can reach: a restored state keeps its invariants. */
static bool image_ok(const struct rtc_image *img)
{
	static const uint8_t zero[sizeof(img->pad)];

	return img->magic == RTC_IMAGE_MAGIC && img->version == RTC_IMAGE_VERSION &&
	       img->size == sizeof(*img) && img->clock < CLOCK_SECS && img->chain_off < NS_PER_S &&
	       img->index <= IDX_MASK && img->nmi_mask <= 1 && !(img->reg_a & ~A_WRITABLE) &&
	       !((img->reg_b & B_SET) && (img->reg_b & B_UIE)) && !(img->reg_c & ~C_FLAGS) &&
	       img->dow_off < 7 && img->irq == ((img->reg_c & img->reg_b & C_FLAGS) != 0) &&
	       !memcmp(img->pad, zero, sizeof(zero));
}

static int rtc_restore(void *s, const void *buf, size_t len)
{
	struct rtc_state *r = s;
	struct rtc_image img;

	if (len != sizeof(img))
		return -1;
	memcpy(&img, buf, sizeof(img));
	if (!image_ok(&img)) {
		rtc_log(r, "restore: not an rtc image of version %d, or out of range", RTC_IMAGE_VERSION);
		return -1;
	}
	r->clock = img.clock;
	r->synced = img.synced;
	r->chain_off = img.chain_off;
	r->index = img.index;
	r->nmi_mask = img.nmi_mask;
	r->reg_a = img.reg_a;
	r->reg_b = img.reg_b;
	r->reg_c = img.reg_c;
	r->alarm_sec = img.alarm_sec;
	r->alarm_min = img.alarm_min;
	r->alarm_hour = img.alarm_hour;
	r->dow_off = img.dow_off;
	memcpy(r->held, img.held, sizeof(r->held));
	memcpy(r->ram, img.ram, sizeof(r->ram));
	/* The line follows the image, whatever it was before. */
	r->irq = img.irq;
	r->plat->set_irq(r->plat->ctx, RTC_IRQ, r->irq);
	rtc_schedule(r);
	return 0;
}

/* ---------------------------------------------------------------- dump */

static const char *const dow_name[8] = { "?", "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };

static void dump_rate(FILE *out, const struct rtc_state *r)
{
	uint64_t p = periodic_ticks(r);

	if (!p)
		fprintf(out, "none");
	else if (p <= CHAIN_HZ)
		fprintf(out, "%llu Hz", (unsigned long long)(CHAIN_HZ / p));
}

static void rtc_dump(const void *s, FILE *out)
{
	struct rtc_state r = *(const struct rtc_state *)s;
	vtime_t now = rtc_now(&r);
	struct rtc_tm tm;
	uint8_t a, b, c;
	unsigned dv;
	vtime_t next;

	rtc_sync(&r, now);
	current_tm(&r, &tm);
	a = peek(&r, REG_A);
	b = r.reg_b;
	c = peek(&r, REG_C);
	dv = A_DV(a);
	fprintf(out, "rtc now %llu ns: clock %04u-%02u-%02uT%02u:%02u:%02u %s, %s\n", (unsigned long long)now,
		tm.v[F_CENTURY] * 100 + tm.v[F_YEAR], tm.v[F_MON], tm.v[F_MDAY], tm.v[F_HOUR], tm.v[F_MIN],
		tm.v[F_SEC], dow_name[tm.v[F_DOW]],
		!chain_running(&r) ? "stopped (divider)" : (b & B_SET) ? "held (SET)" : "running");
	fprintf(out, "rtc read as: sec=%02x min=%02x hour=%02x dow=%02x day=%02x month=%02x year=%02x "
		"century=%02x (%s, %s)\n", peek(&r, REG_SEC), peek(&r, REG_MIN), peek(&r, REG_HOUR),
		peek(&r, REG_DOW), peek(&r, REG_MDAY), peek(&r, REG_MON), peek(&r, REG_YEAR),
		peek(&r, REG_CENTURY), b & B_DM ? "binary" : "BCD", b & B_24H ? "24-hour" : "12-hour");
	fprintf(out, "rtc alarm: sec=%02x min=%02x hour=%02x\n", r.alarm_sec, r.alarm_min, r.alarm_hour);
	fprintf(out, "rtc index=%02x NMI mask=%d (NMI %s)\n", r.index, r.nmi_mask,
		r.nmi_mask ? "disabled" : "enabled");
	fprintf(out, "rtc A=%02x UIP=%d DV=%u%u%u (%s) RS=%u (", a, !!(a & A_UIP), dv >> 2, dv >> 1 & 1,
		dv & 1,
		dv == DV_32K ? "32.768 kHz, running" : dv >= DV_RESET_LO ? "divider reset" : "stopped",
		A_RS(a));
	dump_rate(out, &r);
	fprintf(out, ")\n");
	fprintf(out, "rtc B=%02x SET=%d PIE=%d AIE=%d UIE=%d SQWE=%d DM=%d (%s) 24/12=%d (%s) DSE=%d\n", b,
		!!(b & B_SET), !!(b & B_PIE), !!(b & B_AIE), !!(b & B_UIE), !!(b & B_SQWE), !!(b & B_DM),
		b & B_DM ? "binary" : "BCD", !!(b & B_24H), b & B_24H ? "24-hour" : "12-hour", b & B_DSE);
	fprintf(out, "rtc C=%02x IRQF=%d PF=%d AF=%d UF=%d (pending, cleared by a read)\n", c, !!(c & C_IRQF),
		!!(c & C_PF), !!(c & C_AF), !!(c & C_UF));
	fprintf(out, "rtc D=%02x VRT=1\n", D_VRT);
	next = next_irq_time(&r);
	fprintf(out, "rtc irq8=%d next rise=", r.irq);
	if (next == NEVER)
		fprintf(out, "none%s\n", irqf(&r) ? " (IRQF set)" : "");
	else
		fprintf(out, "%llu ns\n", (unsigned long long)next);
	for (unsigned row = 0; row < CMOS_SIZE; row += 16) {
		fprintf(out, "rtc cmos %02x:", row);
		for (unsigned i = row; i < row + 16; i++)
			fprintf(out, " %02x", peek(&r, i));
		fputc('\n', out);
	}
}

const struct vmx_dev_ops rtc_dev_ops = {
	.name = "rtc",
	.state_size = sizeof(struct rtc_state),
	.init = rtc_init,
	.fini = rtc_fini,
	.reset = rtc_reset,
	.pio_read = rtc_pio_read,
	.pio_write = rtc_pio_write,
	.save = rtc_save,
	.restore = rtc_restore,
	.dump = rtc_dump,
	.nranges = 1,
	.ranges = {
		[RANGE_PORTS] = { .base = 0x70, .len = 2 },
	},
};
