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

#include "shim.h"

/* ---- init.c -------------------------------------------------------------- */

/* 1 while the shim records: set at the end of the constructor, cleared by
 * the destructor (and never set when inert). */
extern volatile int sw_active;

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
/* Write the preamble and the process record in one write(2). */
int sw_writer_start(const void *process_rec, size_t len);
/* Path of the open trace file ("" when none). */
const char *sw_writer_path(void);
/* In a forked child: let go of the parent's file (without writing). */
void sw_writer_atfork_child(void);
/* The program is about to dup2/dup3 onto fd, which is the trace fd: move
 * the trace fd elsewhere first (or stop recording if it cannot). */
void sw_writer_evacuate(int fd);
/* The trace fd, or -1 (close_range/closefrom split around it). */
int sw_writer_fd(void);
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
	uint64_t start_ns;
};
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

/* How a timed call decides "blocking-capable" (strict mode). */
enum sw_cap {
	SW_CAP_NO = 0,	/* never (only slow calls are recorded) */
	SW_CAP_YES = 1, /* always: sleeps, name resolution, waits that waited */
	SW_CAP_FD = 2,	/* I/O on fd: files always, others unless O_NONBLOCK */
};

struct sw_call_ctx {
	uint64_t start_ns;
};

int sw_call_begin_slow(struct sw_call_ctx *c);
void sw_call_end(struct sw_call_ctx *c, enum sw_call call, int fd,
		 enum sw_cap cap, void *caller);
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
}

/*
 * The body of a plain timed wrapper: on a thread that is not in a turn,
 * the real call (usually a tail jump); in a turn, the real call between
 * two clock reads, then the record rules.  errno is the real call's.
 */
#define SW_TIMED(type, call, fd, cap, real_call)            \
	do {                                                \
		struct sw_call_ctx c_;                      \
		type r_;                                    \
		if (sw_likely(!sw_tls.in_turn))             \
			return real_call;                   \
		if (!sw_call_begin_slow(&c_))               \
			return real_call;                   \
		r_ = real_call;                             \
		sw_call_end(&c_, call, fd, cap, SW_CALLER); \
		return r_;                                  \
	} while (0)

#endif
