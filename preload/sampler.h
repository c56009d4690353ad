/*
 * sampler.h - CPU samples of long turns (sampler.c): a per-thread
 * CPU-time timer on each loop thread and its signal handler, which
 * unwinds the interrupted context (doc/design.md, "Sampling").
 */
#ifndef SW_SAMPLER_H
#define SW_SAMPLER_H

#include <stdint.h>

/* Install the sampling signal handler (when recording starts). */
void sw_sampler_install(void);
/*
 * Prepare the calling loop thread for samples: an alternate signal stack
 * (unless the program set one), a warm unwinder, and its CPU-time timer.
 * Call it when a thread starts a loop, outside signal handlers;
 * idempotent, one TLS test after the first call.
 */
void sw_sampler_thread_init(void);
/* A loop thread leaves: delete its timer. */
void sw_sampler_thread_exit(void);
/* Stop sampling (at the end, after the watchdog); waits up to ~100ms for
 * a sample in flight. */
void sw_sampler_stop(void);
/* In a forked child: the parent's timers and stacks are gone. */
void sw_sampler_atfork_child(void);
/* The sampling signal, 0 when sampling is off. */
int sw_sampler_signal(void);
/* The calling thread's CPU time (a system call). */
uint64_t sw_thread_cpu_ns(void);
/* CPU time the calling thread burnt since its timer's last tick (a
 * system call); UINT64_MAX without a timer. */
uint64_t sw_sampler_cpu_since_tick(void);

#endif
