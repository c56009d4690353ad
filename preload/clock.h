/*
 * clock.h - the shim's clocks: CLOCK_MONOTONIC through the vDSO for every
 * timestamp in the trace, and the call clock (the TSC, calibrated against
 * it) for timing wrapped calls cheaply (doc/design.md, "Clock").
 */
#ifndef SW_CLOCK_H
#define SW_CLOCK_H

#include <stdatomic.h>
#include <stdint.h>

#ifndef sw_unlikely
#define sw_unlikely(x) __builtin_expect(!!(x), 0)
#endif

/* CLOCK_MONOTONIC in ns, through the vDSO. */
uint64_t sw_now_ns(void);

/*
 * Timed calls read the TSC when the CPU has an invariant one (cpuid says so;
 * /proc/cpuinfo is not read) and clock.c has calibrated it against
 * CLOCK_MONOTONIC; until then, and on other CPUs, they read
 * CLOCK_MONOTONIC through the vDSO.  A call remembers which clock it
 * started on (struct sw_call_ctx), so the switch can happen at any time.
 * Durations become ns with a calibrated mult (ns = ticks * mult >> 32)
 * only when a call is recorded; the record's start_ns is then taken from
 * CLOCK_MONOTONIC, so timestamps in the trace keep one clock.
 */
enum sw_clk_state {
	SW_CLK_OFF = 0,	    /* vDSO only (no invariant TSC, or not started) */
	SW_CLK_PENDING = 1, /* reference pair taken, calibrating later */
	SW_CLK_BUSY = 2,    /* one thread is calibrating */
	SW_CLK_ON = 3,	    /* mult and call_threshold_ticks are valid */
};

struct sw_clock {
	_Atomic int state; /* enum sw_clk_state */
	uint64_t mult;	   /* ns = ticks * mult >> 32 */
	/* ticks < this <=> ns < the call threshold */
	uint64_t call_threshold_ticks;
};

extern struct sw_clock sw_clk;

/* Constructor / fork child: take the reference pair if the CPU has an
 * invariant TSC. */
void sw_clock_start(void);
/* Calibrate once enough time has passed since the reference pair (a loop
 * thread at a turn boundary, inside the guard).  Cheap when done. */
void sw_clock_calibrate_slow(uint64_t now_ns);
static inline void sw_clock_calibrate(uint64_t now_ns)
{
	if (sw_unlikely(
		atomic_load_explicit(&sw_clk.state, memory_order_relaxed) ==
		SW_CLK_PENDING))
		sw_clock_calibrate_slow(now_ns);
}

/* Is the TSC the call clock now?  (acquire: mult is valid when it is) */
static inline int sw_clk_tsc(void)
{
	return atomic_load_explicit(&sw_clk.state, memory_order_acquire) ==
	       SW_CLK_ON;
}

static inline uint64_t sw_clk_read(int tsc)
{
#if defined(__x86_64__) || defined(__i386__)
	if (tsc)
		return __builtin_ia32_rdtsc();
#else
	(void)tsc;
#endif
	return sw_now_ns();
}

/* A tick count of the given clock as ns. */
static inline uint64_t sw_clk_to_ns(int tsc, uint64_t ticks)
{
	if (!tsc)
		return ticks;
	return (uint64_t)(((unsigned __int128)ticks * sw_clk.mult) >> 32);
}

#endif
