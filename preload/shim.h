/*
 * shim.h - what the shim's modules share: per-thread state, the loop-thread
 * registry the watchdog reads, and the calls between modules.
 *
 * Module map (one file per responsibility):
 *   init.c       life cycle: constructor, first loop wait, destructor, fork
 *   clock.c      CLOCK_MONOTONIC and the TSC call clock (clock.h)
 *   settings.c   STALLWATCH_* environment -> struct sw_settings
 *   ownfd.c      the shim's own descriptors in a protected high range
 *   writer.c     the trace file: open, guard the fd, one write(2) per
 *                record, the size budget and rotation
 *   modules.c    module records (dl_iterate_phdr), again after dlopen
 *   stack.c      native stacks with libunwind (wrapper context), its
 *                validation answered without a pipe
 *   fdcache.c    per-fd kind and O_NONBLOCK cache
 *   loop.c       loop threads, turns, histograms, heartbeats, stall records
 *   record.c     building and emitting event records, flood limits
 *   real.c       resolving the real libc functions
 *   wrap_*.c     the exported wrappers, grouped by family (wrap_dl.c: dlopen
 *                and kin, which also re-emit modules; wrap_stdio.c: stdio
 *                output; wrap_syscall.c: syscall(2); wrap_exit.c: _exit;
 *                wrap_thread.c: the first pthread_create; wrap_cred.c:
 *                dropping root)
 *   sampler.c    the per-thread CPU-time timer and its signal handler
 *   watchdog.c   the watchdog thread, only where the program has threads
 *                (idle heartbeats, unwrapped system calls)
 *   pyframes.c   CPython frame walker, GIL-wait detection
 *   testname.c   the running test (pytest) as SW_REC_TEST records
 *   perfmap.c    copies a JIT perf map beside the trace at exit
 *
 * Everything here is internal: built with -fvisibility=hidden, only the
 * wrapped libc symbols are exported (SW_EXPORT).
 */
#ifndef SW_SHIM_H
#define SW_SHIM_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../include/sw_calls.h"
#include "../include/sw_hist.h"
#include "../include/sw_trace.h"

#define SW_EXPORT      __attribute__((visibility("default")))
#define SW_TLS	       __thread __attribute__((tls_model("initial-exec")))
#define sw_likely(x)   __builtin_expect(!!(x), 1)
#define sw_unlikely(x) __builtin_expect(!!(x), 0)

/* ---- settings.c ---------------------------------------------------------- */

struct sw_settings {
	int enabled;	/* 0: inert (AT_SECURE, STALLWATCH_DISABLE, no dir) */
	int strict;	/* STALLWATCH_STRICT=1 */
	int follow;	/* STALLWATCH_FOLLOW (default 1) */
	int sampling;	/* STALLWATCH_SAMPLE=0 turns the sampler off */
	int poll_loops; /* STALLWATCH_POLL_LOOPS=1: poll/ppoll waits are loop
			   boundaries */
	uint64_t threshold_ns; /* STALLWATCH_THRESHOLD, turn stall threshold */
	uint64_t call_threshold_ns;  /* STALLWATCH_CALL_THRESHOLD */
	uint64_t sample_interval_ns; /* STALLWATCH_SAMPLE_INTERVAL */
	uint64_t heartbeat_ns;	     /* STALLWATCH_HEARTBEAT */
	uint64_t max_size; /* STALLWATCH_MAX_SIZE: bytes per process, 0: none */
	uint32_t stacks_per_site; /* STALLWATCH_STACKS_PER_SITE: stacks per site
				     per second */
	char output_dir[1024];	  /* STALLWATCH_OUTPUT */
};

extern struct sw_settings sw_cfg;

/*
 * Read settings from an environment (NULL-terminated "K=V" array, so unit
 * tests can pass their own).  Bad values print one warning each on stderr
 * through `warn` (may be NULL) and keep the default.  Never fails.
 */
void sw_settings_load(struct sw_settings *cfg, char *const *envp,
		      void (*warn)(const char *msg));

/* ---- per-thread state ---------------------------------------------------- */

struct sw_loop_slot;

struct sw_thread {
	uint32_t guard;	  /* >0: inside the shim; wrappers pass through */
	uint32_t in_turn; /* a loop thread between its loop's waits */
	struct sw_loop_slot *slot; /* non-NULL on a loop thread */
	uint64_t gil_wait_ns;	   /* GIL waits in this turn (see loop.c) */
	uint32_t gil_waits;
	uint32_t unwind_warm; /* libunwind has run once on this thread */
	/* >0 inside dlopen/dlmopen/dlclose/dl_iterate_phdr (wrap_dl.c) or C++
	 * exception unwinding (sampler.c's wrappers): the loader lock may be
	 * held, so the sampler must not unwind (doc/design.md, "Stacks"). */
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

/*
 * The registry of loop threads.  Written by loop threads, read by the
 * watchdog thread, so every field the watchdog reads is atomic.  Slots are
 * never freed while the process lives (a thread that exits marks its slot
 * free by storing tid 0), so the watchdog can read them without locks.
 */
#define SW_MAX_LOOP_THREADS 512

struct sw_loop_slot {
	_Atomic uint32_t tid; /* 0: free */
	_Atomic uint32_t loop_id;
	_Atomic int32_t epfd;
	_Atomic uint32_t turn_seq;
	_Atomic uint64_t turn_start_ns; /* 0 while waiting in the loop's wait */
	_Atomic uint32_t in_wrapper; /* inside a timed wrapper: don't signal */
	_Atomic uint32_t nsamples;   /* samples in the current turn */
	/* Statistics, written by the loop thread only; others read relaxed. */
	_Atomic uint64_t turns;
	_Atomic uint64_t busy_ns;
	_Atomic uint64_t max_turn_ns;
	_Atomic uint64_t stalls;
	_Atomic uint64_t born_ns;
	_Atomic uint64_t last_heartbeat_ns;
	_Atomic uint64_t hist[SW_HIST_BUCKETS];
	char thread_name[16]; /* as of the loop's birth, for rotations */
};

extern struct sw_loop_slot sw_loop_slots[SW_MAX_LOOP_THREADS];
/* loop.c: slots [0, n) have ever been taken; the rest are all free, so a
 * scan can stop there. */
unsigned sw_loop_slots_used(void);

/* loop.c: a heartbeat for one loop now (final=1 at loop end and exit). */
void sw_loop_heartbeat(struct sw_loop_slot *slot, uint64_t now_ns, int final);
/* loop.c: heartbeats for every live loop; at exit with final=1. */
void sw_loop_heartbeat_all(uint64_t now_ns, int final);
/* loop.c: a SW_REC_LOOP record for every live loop again (a new trace
 * file after a rotation).  Async-signal-safe. */
void sw_loop_reemit_all(uint64_t now_ns);

/* clock.h: sw_now_ns(), CLOCK_MONOTONIC through the vDSO. */
uint64_t sw_now_ns(void);

/* ---- writer.c ------------------------------------------------------------ */

/*
 * Append one record (its h.size must equal len).  Async-signal-safe: one
 * write(2) on the guarded trace fd, errno preserved.  Returns 0, or -1 when
 * recording has stopped (disk full, fd gone, ...), which it reports once.
 */
int sw_emit(const void *rec, size_t len);
/* A NOTE record (enum sw_note_level) for the report; async-signal-safe. */
void sw_note(int level, const char *text);
/* Recording is live (the file is open and no write has failed). */
int sw_writer_active(void);

/* ---- stack.c ------------------------------------------------------------- */

/*
 * Capture return addresses of the calling thread, innermost first, skipping
 * `skip` shim frames.  Not for signal handlers (see sampler.c).  Sets
 * *truncated when the stack was deeper than max.
 */
int sw_stack_capture(uint64_t *ips, int max, int skip, int *truncated);
/*
 * Capture from a signal handler's interrupted context (a ucontext_t *), the
 * interrupted PC first.  The caller (sampler.c) has already checked that
 * the thread is not in the loader.  No allocation, no locks of ours.
 */
int sw_stack_capture_signal(void *ucontext, uint64_t *ips, int max,
			    int *truncated);
/*
 * libunwind is dlopen'ed RTLD_LOCAL by stack.c, not linked: libunwind.so.8
 * exports _Unwind_* and, linked into a preloaded library, would take over
 * the host's C++ exception unwinding from libgcc_s.  Returns 0 when ready.
 */
int sw_stack_init(void);
/* Warm this thread's unwinder up outside any signal handler. */
void sw_stack_warm_thread(void);
/*
 * libunwind's memory-validation pipe (pipe2 on the lowest free fds, closed
 * and reopened whenever a read on it fails) is never created: while
 * sw_tls.in_unwind, its pipe2() and close() (wrap_fd.c) and its
 * syscall(SYS_write) (wrap_syscall.c) come here, and validation reads our
 * own memory instead (stack.c).  unw_write returns -2 for a write that is
 * not libunwind's validation.
 */
int sw_stack_unw_pipe2(int fds[2], int flags);
int sw_stack_unw_close(int fd);
long sw_stack_unw_write(long fd, long addr, long len);

/* ---- record.c ------------------------------------------------------------ */

/*
 * Record a call that a wrapper timed on a loop thread in a turn: applies
 * the call threshold (or strict mode), the per-site flood limit, captures
 * the stacks and emits SW_REC_EVENT.  `caller` is the wrapper's return
 * address (__builtin_return_address(0)), the site key for flood limits.
 */
void sw_record_call(enum sw_call call, enum sw_event_kind kind, int fd,
		    uint64_t start_ns, uint64_t duration_ns,
		    int blocking_capable, void *caller);

/* ---- pyframes.c ---------------------------------------------------------- */

/*
 * Prepare the Python walker for this thread/process (looks the interpreter
 * up with dlsym): call outside signal handlers, e.g. when a thread becomes
 * a loop thread.  Cheap after the first call.
 */
void sw_py_prepare(void);
/*
 * Capture the calling thread's Python frames, innermost first, emitting
 * SW_REC_PYCODE records for code objects not seen before.  Safe in a signal
 * handler: no allocation, no locks, no Python API, faulting reads return
 * errors.  Returns the number of frames (0 when not a Python thread); sets
 * *unknown when it is a Python thread whose frames could not be read.
 */
int sw_py_capture(struct sw_pyframe *out, int max, int *unknown);
/* A new trace file (rotation): code objects are written again, with new
 * ids, the next time a sample meets them.  Async-signal-safe. */
void sw_py_new_file(void);
/* Is this condition variable the one CPython waits on to take the GIL? */
int sw_py_is_gil_cond(const void *cond);

/* ---- perfmap.c ----------------------------------------------------------- */

/* At exit: copy /tmp/perf-PID.map beside the trace, if the process has one. */
void sw_perfmap_save(const char *trace_path);
/* At start and in a forked child: maps older than now are not ours. */
void sw_perfmap_arm(void);

/* ---- watchdog.c / sampler.c ---------------------------------------------- */

/*
 * The watchdog thread runs only in programs that already have threads of
 * their own (a single-threaded program stays single-threaded): it writes
 * the heartbeats of idle loops and looks at loop threads asleep in a long
 * turn outside every wrapper (watchdog.c).  Start it if the process has
 * other threads and it is not running; cheap when running, or when the
 * process is single-threaded.
 */
void sw_watchdog_ensure(void);
/* After fork in the child: forget the parent's watchdog. */
void sw_watchdog_atfork_child(void);
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
/*
 * Destructor, before the final heartbeats and SW_REC_END: the watchdog and
 * the sampler stop writing (waits up to ~100ms for one in flight).
 */
void sw_watchdog_stop(void);
/* sampler.c: the sampling signal, 0 when sampling is off. */
int sw_sampler_signal(void);
/* sampler.c: the calling thread's CPU time (a system call). */
uint64_t sw_thread_cpu_ns(void);
/* sampler.c: CPU time the calling thread burnt since its timer's last
 * tick (a system call); UINT64_MAX without a timer. */
uint64_t sw_sampler_cpu_since_tick(void);
/* sampler.c: this thread left the loader with a sample skipped in it:
 * take it now (a signal to itself, delivered at once). */
void sw_sampler_retry(void);
/* sampler.c: stop sampling (from sw_watchdog_stop); after fork, reset. */
void sw_sampler_stop(void);
void sw_sampler_atfork_child(void);
/*
 * wrap_unwind.c: is the calling thread inside the C++/DWARF exception
 * unwinder (_Unwind_RaiseException & co.) in its current turn?  Like
 * sw_tls.in_loader, the sampler then skips the sample.
 */
int sw_unwind_busy(void);
/*
 * Threads inside dlopen/dlmopen/dlclose/dl_iterate_phdr right now:
 * wrap_dl.c adds 1 around the real call (with sw_tls.in_loader), outside
 * the guard.  While it is non-zero the sampler skips every thread's
 * sample: the loader's holder may be waiting for a lock (malloc's) that
 * the sampled thread holds, and unwinding would wait for the loader.
 */
extern _Atomic uint32_t sw_loader_busy;

#endif
