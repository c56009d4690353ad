/*
 * stack.h - native stacks with libunwind (stack.c), dlopen'ed RTLD_LOCAL
 * at the start of recording (doc/design.md, "Stacks").
 */
#ifndef SW_STACK_H
#define SW_STACK_H

#include <stdint.h>

/*
 * libunwind is dlopen'ed RTLD_LOCAL, not linked: libunwind.so.8 exports
 * _Unwind_* and, linked into a preloaded library, would take over the
 * host's C++ exception unwinding from libgcc_s.  Returns 0 when ready.
 */
int sw_stack_init(void);
/* Warm this thread's unwinder up outside any signal handler. */
void sw_stack_warm_thread(void);
/*
 * Capture return addresses of the calling thread, innermost first, skipping
 * `skip` shim frames.  Not for signal handlers.  Sets *truncated when the
 * stack was deeper than max.
 */
int sw_stack_capture(uint64_t *ips, int max, int skip, int *truncated);
/*
 * Capture from a signal handler's interrupted context (a ucontext_t *), the
 * interrupted PC first.  The caller (sampler.c) has already checked that
 * the thread is not in the loader.  No allocation, no locks of ours.
 */
int sw_stack_capture_signal(void *ucontext, uint64_t *ips, int max,
			    int *truncated);

/* libunwind's validation pipe, answered without one: call.h. */

#endif
