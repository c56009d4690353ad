/*
 * clock.c - the shim's clocks: CLOCK_MONOTONIC for timestamps, and the
 * TSC calibrated against it for timing calls cheaply.  The TSC is the call
 * clock only on a CPU whose cpuid says it is invariant, after one calibration
 * against CLOCK_MONOTONIC 50 ms after start; until then, and elsewhere, timed
 * calls read CLOCK_MONOTONIC (doc/design.md, "Clock").
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "clock.h"
#include "base.h"
#include "settings.h"

uint64_t sw_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- the call clock: TSC calibrated against CLOCK_MONOTONIC (call.h) ---- */

struct sw_clock sw_clk;

/* The reference pair, and how long to wait before the second one: 50 ms
 * against two pairs read within ~100 ns of each other leaves a few ppm. */
static uint64_t clk_ref_tsc, clk_ref_ns;
#define CLK_CALIBRATE_NS 50000000ull

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

/* A (tsc, CLOCK_MONOTONIC) pair: the monotonic read between the two TSC
 * reads of the tightest of a few tries. */
static void clk_pair(uint64_t *tsc, uint64_t *ns)
{
	uint64_t best = UINT64_MAX;
	int i;

	for (i = 0; i < 5; i++) {
		uint64_t a = __builtin_ia32_rdtsc();
		uint64_t m = sw_now_ns();
		uint64_t b = __builtin_ia32_rdtsc();

		if (b >= a && b - a < best) {
			best = b - a;
			*tsc = a + (b - a) / 2;
			*ns = m;
		}
	}
	if (best == UINT64_MAX) {
		*tsc = __builtin_ia32_rdtsc();
		*ns = sw_now_ns();
	}
}

static int cpu_invariant_tsc(void)
{
	unsigned a, b, c, d;

	if (!__get_cpuid(0x80000000u, &a, &b, &c, &d) || a < 0x80000007u)
		return 0;
	if (!__get_cpuid(0x80000007u, &a, &b, &c, &d))
		return 0;
	return (d >> 8) & 1;
}

void sw_clock_start(void)
{
	if (atomic_load(&sw_clk.state) != SW_CLK_OFF || !cpu_invariant_tsc())
		return;
	clk_pair(&clk_ref_tsc, &clk_ref_ns);
	atomic_store(&sw_clk.state, SW_CLK_PENDING);
}

void sw_clock_calibrate_slow(uint64_t now_ns)
{
	int expect = SW_CLK_PENDING, saved = errno;
	uint64_t tsc, ns, dt, dn, mult, thr;
	unsigned __int128 m;

	if (now_ns < clk_ref_ns + CLK_CALIBRATE_NS ||
	    !atomic_compare_exchange_strong(&sw_clk.state, &expect,
					    SW_CLK_BUSY))
		return;
	clk_pair(&tsc, &ns);
	/* The invariant-TSC bit (cpuid) is what the kernel's constant_tsc
	 * and nonstop_tsc come from; /proc/cpuinfo is not read: opening it
	 * would take a descriptor number from a running program. */
	if (tsc <= clk_ref_tsc || ns <= clk_ref_ns)
		goto off;
	dt = tsc - clk_ref_tsc;
	dn = ns - clk_ref_ns;
	m = ((unsigned __int128)dn << 32) / dt;
	/* A TSC between 50 MHz and 20 GHz, or something is wrong. */
	if (m < (1ull << 32) / 20 || m > (1ull << 32) * 20)
		goto off;
	mult = (uint64_t)m;
	/* The fewest ticks that are the call threshold or more, exactly as
	 * the slow path converts them, so both sides agree at the edge. */
	m = ((unsigned __int128)sw_cfg.call_threshold_ns << 32) / mult;
	thr = m > UINT64_MAX / 2 ? UINT64_MAX / 2 : (uint64_t)m;
	while (thr && ((unsigned __int128)(thr - 1) * mult >> 32) >=
			  sw_cfg.call_threshold_ns)
		thr--;
	while (((unsigned __int128)thr * mult >> 32) < sw_cfg.call_threshold_ns)
		thr++;
	sw_clk.mult = mult;
	sw_clk.call_threshold_ticks = thr;
	atomic_store_explicit(&sw_clk.state, SW_CLK_ON, memory_order_release);
	errno = saved;
	return;
off:
	atomic_store(&sw_clk.state, SW_CLK_OFF);
	errno = saved;
}
#else
void sw_clock_start(void)
{
}

void sw_clock_calibrate_slow(uint64_t now_ns)
{
	(void)now_ns;
}
#endif
