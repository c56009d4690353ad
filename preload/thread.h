/*
 * thread.h - the shim's per-thread state (sw_tls), one initial-exec TLS
 * block per thread of the host, defined in lifecycle.c.
 *
 * Every field is the calling thread's own: written and read by that
 * thread, in wrappers and in its own signal handlers (the sampler's tick
 * runs on the thread it samples), never by another thread.
 */
#ifndef SW_THREAD_H
#define SW_THREAD_H

#include <stdint.h>

#include "base.h"

struct sw_loop_slot;

struct sw_thread {
	uint32_t guard;	  /* >0: inside the shim; wrappers pass through */
	uint32_t in_turn; /* a loop thread between its loop's waits (loop.c) */
	struct sw_loop_slot *slot; /* non-NULL on a loop thread (loop.c) */
	uint64_t gil_wait_ns;	   /* GIL waits in this turn (record.c) */
	uint32_t gil_waits;
	uint32_t unwind_warm; /* libunwind has run once on this thread */
	/* >0 inside dlopen/dlmopen/dlclose/dl_iterate_phdr (wrap_dl.c): the
	 * loader lock may be held, so the sampler must not unwind
	 * (doc/design.md, "Stacks").  C++ exception unwinding is marked apart
	 * (wrap_unwind.c, sw_unwind_busy). */
	volatile uint32_t in_loader;
	/* >0 while stack.c runs libunwind: its pipe2() and close() calls
	 * reach stack.c instead of the kernel (wrap_fd.c). */
	uint32_t in_unwind;
	/* Ticks of this thread's CPU-time timer (sampler.c): a wrapper whose
	 * sleeping call failed with EINTR while it moved retries it. */
	uint32_t sigs;
	/* The CPU accounting of the current turn, kept by the timer's
	 * handler (sampler.c) and read at the turn's end (loop.c): */
	uint32_t tick_seq;	  /* turn_seq of the turn that had a tick */
	uint32_t tick_valid;	  /* tick_seq means something */
	uint64_t turn_cpu0_ns;	  /* thread CPU time when that turn began */
	uint64_t turn_sampled_ns; /* CPU time its samples stand for */
	uint64_t turn_call_ns;	  /* time in calls recorded in the turn */
	uint32_t sample_retry;	  /* a sample skipped in the loader waits */
};

extern SW_TLS struct sw_thread sw_tls;

/* The calling thread's kernel tid (a system call). */
uint32_t sw_gettid(void);

#endif
