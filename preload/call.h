/*
 * call.h - the call protocol: everything a wrapper (wrap_*.c) may use.
 * A wrapper includes this header and real.h, nothing else of the shim.
 *
 * It brings in the state a wrapper consults (the thread's sw_tls, its
 * loop slot, the settings, the clocks, the fd cache, the shim's own
 * descriptors, the life-cycle flags) and declares:
 *   - how a blocking call is timed (struct sw_call_ctx, SW_TIMED) and how
 *     a wait at a loop boundary is reported (struct sw_wait);
 *   - what wrappers tell the rest of the shim: a loop's epoll fd closed,
 *     the loader changed, libunwind's pipe, a GIL wait, _exit, the
 *     program's view of the sampling signal, the running test's name.
 * The functions are implemented in the modules named beside them
 * (doc/design.md, "Wrappers").
 */
#ifndef SW_CALL_H
#define SW_CALL_H

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "base.h"
#include "clock.h"
#include "fdcache.h"
#include "lifecycle.h"
#include "ownfd.h"
#include "settings.h"
#include "slot.h"
#include "thread.h"

/* ---- what wrappers tell the rest of the shim ---------------------------- */

/* loop.c: an fd (or a range) that may be some loop's epoll fd is being
 * closed; a vfork child's closes are ignored. */
void sw_loop_fd_closed(int fd);
void sw_loop_range_closed(unsigned lo, unsigned hi);
/* modules.c: emit records for modules not recorded yet; skips if a scan
 * is running.  After dlopen and kin (wrap_dl.c). */
void sw_modules_scan(void);
/* modules.c: a cheap check for modules loaded behind our back (glibc's
 * internal dlopen of NSS/iconv modules): scans only if the loader's
 * counters moved.  Not in signal handlers. */
void sw_modules_refresh(void);
/*
 * stack.c: libunwind's memory-validation pipe (pipe2 on the lowest free
 * fds, closed and reopened whenever a read on it fails) is never created:
 * while sw_tls.in_unwind, its pipe2() and close() (wrap_fd.c) and its
 * syscall(SYS_write) (wrap_syscall.c) come here, and validation reads our
 * own memory instead.  unw_write returns -2 for a write that is not
 * libunwind's validation.
 */
int sw_stack_unw_pipe2(int fds[2], int flags);
int sw_stack_unw_close(int fd);
long sw_stack_unw_write(long fd, long addr, long len);
/* pyframes.c: is this condition variable the one CPython waits on to
 * take the GIL? */
int sw_py_is_gil_cond(const void *cond);
/* wrap_exit.c: the process ends now without destructors (_exit, _Exit,
 * syscall(SYS_exit_group)): write the end record if recording.  errno is
 * left alone. */
void sw_exit_underscore(int status);
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
 * Defined in sampler.c.
 */
extern _Atomic uint32_t sw_loader_busy;
/* sampler.c: this thread left the loader with a sample skipped in it:
 * take it now (a signal to itself, delivered at once). */
void sw_sampler_retry(void);
/* testname.c: the environment variable pytest names the running test in,
 * and its value as the environment wrappers (wrap_env.c) saw it change
 * (v NULL: removed). */
#define SW_TEST_VAR	"PYTEST_CURRENT_TEST"
#define SW_TEST_VAR_LEN (sizeof(SW_TEST_VAR) - 1)
void sw_test_env_set(const char *v);
int sw_test_env_is_set(void);
/* sampler.c: is `sig` the sampling signal?  Then sigaction() and kin
 * (wrap_signal.c) see and change only the program's view of it: */
int sw_sampler_owns(int sig);
int sw_sampler_fake_sigaction(const struct sigaction *act,
			      struct sigaction *old);
/* sampler.c: the program changes the calling thread's signal mask
 * (pthread_sigmask, or sigprocmask when !is_pthread): the thread's timer
 * is disarmed before the sampling signal is blocked, armed again once it
 * is unblocked.  The real call's result and errno. */
int sw_sampler_mask_change(int is_pthread, int how, const sigset_t *set,
			   sigset_t *old);

/* ---- waits at a loop boundary (loop.c) ----------------------------------- */

/* A wait at a loop boundary (epoll_wait & kin, poll loops). */
enum sw_wait_mode { SW_WAIT_PASS = 0, SW_WAIT_BOUNDARY, SW_WAIT_PRIVATE };
struct sw_wait {
	enum sw_wait_mode mode;
	enum sw_call call;
	int fd;
	int capable;
	uint32_t sigs; /* sw_tls.sigs before the real wait */
	uint64_t start_ns;
};
/* Did one of our timer ticks make this wait fail with EINTR?  (Then it
 * is made again: see sw_call_interrupted.)  errno is restored. */
static inline int sw_loop_wait_interrupted(struct sw_wait *w, int r)
{
	if (sw_likely(w->sigs == sw_tls.sigs) || r != -1 || errno != EINTR)
		return 0;
	w->sigs = sw_tls.sigs;
	return 1;
}
/*
 * Before the real wait.  `key` is the epoll fd, or SW_POLL_LOOP_KEY for a
 * poll/ppoll loop (STALLWATCH_POLL_LOOPS=1).  Returns the mode; on
 * SW_WAIT_PASS the caller just calls the real function.
 */
#define SW_POLL_LOOP_KEY (-2)
enum sw_wait_mode sw_loop_wait_begin(struct sw_wait *w, enum sw_call call,
				     int key, int capable);
/* After the real wait (errno preserved). */
void sw_loop_wait_end(struct sw_wait *w, void *caller);

/* ---- timed calls (record.c) --------------------------------------------- */

/* How a timed call decides "blocking-capable" (strict mode), and whether
 * it can sleep at all (sw_call_nosleep). */
enum sw_cap {
	SW_CAP_NO = 0,	/* never (only slow calls are recorded) */
	SW_CAP_YES = 1, /* always: sleeps, name resolution, waits that waited */
	SW_CAP_FD = 2,	/* I/O on fd: files always, others unless O_NONBLOCK */
	SW_CAP_NOWAIT = 3, /* socket I/O with MSG_DONTWAIT: cannot sleep */
};

struct sw_call_ctx {
	uint64_t start; /* sw_clk_read(tsc) before the real call */
	int tsc;	/* the clock `start` was read on */
	uint32_t sigs;	/* sw_tls.sigs before the real call */
	int err;	/* errno before it, for a call made again */
};

int sw_call_begin_slow(struct sw_call_ctx *c);
void sw_call_end(struct sw_call_ctx *c, enum sw_call call, int fd,
		 enum sw_cap cap, void *caller);
/* sw_call_end with the end already read on c's clock. */
void sw_call_end_at(struct sw_call_ctx *c, uint64_t end, enum sw_call call,
		    int fd, enum sw_cap cap, void *caller);
/* A GIL wait that a cond-wait wrapper timed (sw_py_is_gil_cond said it is
 * one): added to the turn's GIL total instead of being recorded as a call. */
void sw_gil_wait_end(struct sw_call_ctx *c, enum sw_call call, void *caller);

/*
 * The whole cost of a wrapper on a thread that is not in a loop turn: one
 * initial-exec TLS load and a branch.
 */
static inline int sw_call_begin(struct sw_call_ctx *c)
{
	if (sw_likely(!sw_tls.in_turn))
		return 0;
	return sw_call_begin_slow(c);
}

#define SW_CALLER __builtin_return_address(0)

/* Around every real dlopen/dlclose/dl_iterate_phdr: the sampler must not
 * unwind this thread (in_loader), nor any thread (sw_loader_busy) while
 * the loader's locks may be held. */
static inline void sw_loader_enter(void)
{
	sw_tls.in_loader++;
	atomic_fetch_add_explicit(&sw_loader_busy, 1, memory_order_seq_cst);
}

static inline void sw_loader_leave(void)
{
	atomic_fetch_sub_explicit(&sw_loader_busy, 1, memory_order_seq_cst);
	sw_tls.in_loader--;
	/* A sample was skipped in there: take it now (sampler.c). */
	if (sw_unlikely(sw_tls.sample_retry) && !sw_tls.in_loader)
		sw_sampler_retry();
}

/*
 * Can this call not sleep?  Socket I/O with MSG_DONTWAIT, or I/O whose
 * blocking O_NONBLOCK decides, on a socket or pipe the fd cache knows to
 * be non-blocking (a cache miss counts as "may sleep": no syscall here to
 * find out).  Such a call is not timed at all (SW_TIMED): it cannot block
 * the loop, the turn around it is timed, and CPU spent inside it is
 * sampled like the program's own code.  This is what keeps the shim
 * cheap on a loop's everyday socket traffic: the clock reads are what a
 * timed call costs (two rdtsc, about 20 ns here), not the bookkeeping.
 *
 * If the cache is wrong (another process sharing the open file
 * description cleared O_NONBLOCK), such a call can sleep untimed; the
 * watchdog notices the thread asleep in it during a long turn and makes
 * the cache forget that fd, so its next calls are timed (watchdog.c).
 */
static inline int sw_call_nosleep(int fd, enum sw_cap cap)
{
	if (cap == SW_CAP_NOWAIT)
		return 1;
	return cap == SW_CAP_FD && sw_fdc_nosleep(fd);
}

/* sw_call_begin_slow, inline for the plain timed wrappers (SW_TIMED). */
static inline int sw_call_enter(struct sw_call_ctx *c)
{
	struct sw_thread *t = &sw_tls;
	struct sw_loop_slot *slot = t->slot;

	if (t->guard || !slot ||
	    atomic_load_explicit(&slot->in_wrapper, memory_order_relaxed))
		return 0;
	atomic_store_explicit(&slot->in_wrapper, 1, memory_order_relaxed);
	c->sigs = t->sigs;
	c->err = errno;
	c->tsc = sw_clk_tsc();
	c->start = sw_clk_read(c->tsc);
	return 1;
}

/* sw_call_begin for a call on fd: 0 (no timing) when it cannot sleep. */
static inline int sw_call_begin_fd(struct sw_call_ctx *c, int fd,
				   enum sw_cap cap)
{
	if (sw_likely(!sw_tls.in_turn) || sw_call_nosleep(fd, cap))
		return 0;
	if (sw_unlikely(sw_fdc_peek(fd) & SW_FDC_SUSPECT) && cap == SW_CAP_FD &&
	    sw_fdc_recheck(fd))
		return 0;
	return sw_call_enter(c);
}

/*
 * After the real call: a call shorter than the call threshold, in default
 * mode (or one strict mode never records), costs a clock read, a compare
 * and the in_wrapper store.  errno is untouched here; the slow path keeps
 * it.  A TSC that went backwards looks huge and takes the slow path,
 * which counts it as 0.
 */
static inline void sw_call_leave(struct sw_call_ctx *c, enum sw_call call,
				 int fd, enum sw_cap cap, void *caller)
{
	uint64_t end = sw_clk_read(c->tsc);
	uint64_t thr =
	    c->tsc ? sw_clk.call_threshold_ticks : sw_cfg.call_threshold_ns;
	struct sw_loop_slot *slot;

	if (sw_unlikely(end - c->start >= thr) ||
	    (cap != SW_CAP_NO && sw_unlikely(sw_cfg.strict))) {
		sw_call_end_at(c, end, call, fd, cap, caller);
		return;
	}
	slot = sw_tls.slot;
	if (slot)
		atomic_store_explicit(&slot->in_wrapper, 0,
				      memory_order_release);
}

/*
 * Did one of the shim's own timer ticks (sampler.c) make this sleeping
 * call fail with EINTR, which the program would not have seen without the
 * shim?  A CPU-time timer only ticks while the thread runs, so such a tick
 * landed on the way into the sleep: the call is simply made again (its
 * timeout, if relative, restarts a few microseconds late).  Only for the
 * calls that EINTR even under SA_RESTART; `r` is the call's result.
 */
int sw_call_interrupted_slow(struct sw_call_ctx *c, enum sw_call call, long r);
static inline int sw_call_interrupted(struct sw_call_ctx *c, enum sw_call call,
				      long r)
{
	if (sw_likely(c->sigs == sw_tls.sigs))
		return 0;
	return sw_call_interrupted_slow(c, call, r);
}

/*
 * The body of a plain timed wrapper: on a thread that is not in a turn,
 * or for a call that cannot sleep, the real call (usually a tail jump);
 * otherwise the real call between two clock reads, then the record rules.
 * errno is the real call's.
 */
#define SW_TIMED(type, call, fd, cap, real_call)                  \
	do {                                                      \
		struct sw_call_ctx c_;                            \
		type r_;                                          \
		if (sw_likely(!sw_call_begin_fd(&c_, fd, cap)))   \
			return real_call;                         \
		do                                                \
			r_ = real_call;                           \
		while (sw_call_interrupted(&c_, call, (long)r_)); \
		sw_call_leave(&c_, call, fd, cap, SW_CALLER);     \
		return r_;                                        \
	} while (0)

#endif
