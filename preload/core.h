/*
 * core.h - calls between the shim's core modules (init, writer, modules,
 * loop, record, fdcache, stack) and the helpers every timed wrapper uses.
 * shim.h holds what other engineers' modules (watchdog, sampler, Python
 * walker) rely on; this header is private to the core and the wrappers.
 */
#ifndef SW_CORE_H
#define SW_CORE_H

#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "fdcache.h"
#include "shim.h"

/* ---- init.c -------------------------------------------------------------- */

/* 1 while the shim records: set at the end of the constructor, cleared by
 * the destructor (and never set when inert). */
extern volatile int sw_active;
/* 1 when the process may be recorded: recording starts at its first loop
 * wait (sw_start_recording); cleared if that fails. */
extern volatile int sw_armed;
/* Start recording (file, process record, modules, libunwind, sampler):
 * a loop thread's first wait, inside the guard.  0 when recording. */
int sw_start_recording(void);
/* loop.c, at a new loop: the command line changed since the process
 * record was written (a title): patch it in. */
void sw_refresh_cmdline(void);
/* writer.c: overwrite len bytes at off in the current file's head (the
 * preamble and process record), and in the copy a rotation writes. */
void sw_writer_patch_head(size_t off, const void *data, size_t len);
/* wrap_cred.c: an armed process running as root is about to become
 * another user: create its trace file now, while it still can. */
void sw_prepare_drop(void);
/* wrap_thread.c: an armed process creates its first thread: load libunwind
 * and make its trace file in advance, anonymous, while no other thread of
 * the program can be opening descriptors. */
void sw_before_first_thread(void);

/* Write "stallwatch: ..." lines on stderr (raw write(2), no stdio). */
void sw_warn_line(const char *msg);
/* The same, from pieces (NULL-terminated), safe in a signal handler. */
void sw_warn_parts(const char *first, ...);
/* Are we in a vfork child that shares the parent's memory (and TLS)?
 * A getpid syscall: only for rare paths. */
int sw_in_vfork_child(void);
/* The calling thread's kernel tid. */
uint32_t sw_gettid(void);

/* ---- writer.c ------------------------------------------------------------ */

/* Create <dir>/<comm>.<pid>[.N].swtrace.  0, or -1 after one warning. */
int sw_writer_open(const char *dir, const char *comm, int pid);
/* Make the trace file in advance, anonymous (O_TMPFILE) and high, for
 * sw_writer_open to name later: from a process's first pthread_create. */
void sw_writer_prepare(const char *dir);
/* Write the preamble and the process record in one write(2). */
int sw_writer_start(const void *process_rec, size_t len);
/* Path of the open trace file ("" when none). */
const char *sw_writer_path(void);
/* In a forked child: let go of the parent's file (without writing). */
void sw_writer_atfork_child(void);
/* Records that could not be written. */
uint64_t sw_writer_dropped(void);

/* ---- modules.c ----------------------------------------------------------- */

/* Emit records for modules not recorded yet (all of them the first time);
 * _all waits for a concurrent scan (constructor, fork child), the other
 * skips if one is running. */
void sw_modules_scan(void);
void sw_modules_scan_all(void);
/* Cheap check for modules loaded behind our back (glibc's internal dlopen
 * of NSS/iconv modules): scans only if the loader's counters moved.  Not in
 * signal handlers. */
void sw_modules_refresh(void);
/* After fork: reset the scan lock; then sw_modules_replay() writes the
 * parent's module records into the child's file (no dl_iterate_phdr in
 * the child, see modules.c). */
void sw_modules_atfork_child(void);
void sw_modules_replay(void);

/* ---- loop.c -------------------------------------------------------------- */

void sw_loop_init(void);
/* An fd marked as some loop's epoll fd is being closed (close wrappers). */
void sw_loop_fd_closed(int fd);
void sw_loop_range_closed(unsigned lo, unsigned hi);
void sw_loop_atfork_child(void);
/* Slot index of a slot pointer. */
static inline unsigned sw_slot_index(const struct sw_loop_slot *slot)
{
	return (unsigned)(slot - sw_loop_slots);
}

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

/* ---- record.c ------------------------------------------------------------ */

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
/* A GIL wait that a cond-wait wrapper timed (pyframes.c said it is one):
 * added to the turn's GIL total instead of being recorded as a call. */
void sw_gil_wait_end(struct sw_call_ctx *c, enum sw_call call, void *caller);
/* At turn end: one SW_EV_GIL_WAIT event for the turn's GIL waits. */
void sw_gil_turn_end(struct sw_loop_slot *slot);
/* Flood-limit remainders as SW_EVF_COUNT_ONLY events (heartbeat/exit). */
void sw_record_flush(struct sw_loop_slot *slot);
/* A slot starts a new loop: forget its sites and GIL state. */
void sw_record_reset(struct sw_loop_slot *slot);

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
 * the loader's locks may be held (shim.h). */
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
