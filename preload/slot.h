/*
 * slot.h - one loop thread's slot: everything the shim keeps per loop
 * thread, in one struct (doc/design.md, "The loop model").
 *
 * A thread takes a free slot at its first loop wait (loop.c) and keeps
 * it until it exits.  Slots are never freed while the process lives (an
 * exiting thread stores tid 0), so other threads read them without locks.
 * Each group of fields below says which thread writes it and which
 * threads read it; a field another thread reads is atomic.
 */
#ifndef SW_SLOT_H
#define SW_SLOT_H

#include <stdatomic.h>
#include <stdint.h>

#include "base.h"

#define SW_MAX_LOOP_THREADS 512
/* Sites per loop thread in record.c's flood-limit table. */
#define SW_SLOT_SITES 128
/* Frames of a sleeping thread's stack the watchdog keeps. */
#define SW_SLOT_SCAN_MAX 32

/*
 * record.c: one (call, caller) site of this loop thread, for the flood
 * limit.  Written by the loop thread; the pend_* counts are also taken,
 * with atomic exchanges, by a flush at heartbeat or exit.
 */
struct sw_slot_site {
	uintptr_t caller; /* 0: free entry */
	uint16_t call;
	uint16_t kind;
	int32_t fd;	  /* fd of the first pending occurrence */
	uint8_t fd_kind;  /* its kind, taken while it was open */
	uint8_t fd_flags; /* SW_EVF_NONBLOCK */
	uint32_t window;  /* the second the captures below were counted in */
	uint32_t captured;
	uint64_t pend_first_ns;
	_Atomic uint32_t pend_count; /* occurrences not captured yet */
	_Atomic uint64_t pend_total_ns;
	_Atomic uint64_t pend_max_ns;
};

/* record.c: the longest GIL wait of the current turn, with its stacks.
 * The loop thread's own. */
struct sw_slot_gil {
	uint64_t max_ns;
	uint64_t start_ns;
	uint64_t window_ns; /* when the waits summed so far began (0: none) */
	uint16_t call;
	uint16_t nips;
	uint16_t npy;
	uint8_t flags;
	uint64_t ips[SW_MAX_IPS];
	struct sw_pyframe py[SW_MAX_PYFRAMES];
};

/* watchdog.c: what the watchdog last saw of this slot's thread.  The
 * watchdog thread's own (the destructor reads it once the watchdog is
 * parked for good; a forked child resets it). */
struct sw_slot_watch {
	uint32_t tid, turn_seq, loop_id;
	int fd_checked; /* the O_NONBLOCK check ran on a sleep in this turn */
	/* The unwrapped system call it was last seen asleep in (nr -1:
	 * none): reported when it ends. */
	long nr, arg1;
	uint64_t pc, sp, first_ns, last_ns;
	int nips;
	uint64_t ips[SW_SLOT_SCAN_MAX]; /* its scanned stack */
	/* /proc/self/task/TID/syscall of that thread, kept open (one of the
	 * shim's own fds, ownfd.c) and read again with pread: opened once
	 * per loop thread, not at every stall.  -1: not open; fd_tid: whose. */
	int fd;
	uint32_t fd_tid;
};

struct sw_loop_slot {
	/* Identity and turn state.  Written by the loop thread (tid also by
	 * the claiming compare-and-swap, and by a forked child); read by the
	 * watchdog thread, by heartbeats written from other threads, and by
	 * the sampler's handler on the loop thread itself. */
	_Atomic uint32_t tid; /* 0: free */
	_Atomic uint32_t loop_id;
	_Atomic int32_t epfd;
	_Atomic uint32_t turn_seq;
	_Atomic uint64_t turn_start_ns; /* 0 while waiting in the loop's wait */
	_Atomic uint32_t in_wrapper; /* inside a timed wrapper: don't sample */
	_Atomic uint32_t nsamples;   /* samples in the current turn */
	/* loop_id another thread asked to end (it closed the loop's epoll
	 * fd): written by that thread, taken by the owner at its next wait. */
	_Atomic uint32_t pending_end;
	/* Statistics: written by the loop thread only; heartbeats from other
	 * threads (watchdog, exit) read them relaxed. */
	_Atomic uint64_t turns;
	_Atomic uint64_t busy_ns;
	_Atomic uint64_t max_turn_ns;
	_Atomic uint64_t stalls;
	_Atomic uint64_t born_ns;
	_Atomic uint64_t last_heartbeat_ns;
	_Atomic uint64_t hist[SW_HIST_BUCKETS];
	/* As of the loop's birth, for the loop records a rotation writes
	 * again (any thread). */
	char thread_name[16];

	/* record.c: the loop thread's own. */
	struct sw_slot_site sites[SW_SLOT_SITES];
	struct sw_slot_gil gil;

	/* watchdog.c: the watchdog thread's own, on lines of its own. */
	struct sw_slot_watch watch __attribute__((aligned(64)));
};

extern struct sw_loop_slot sw_loop_slots[SW_MAX_LOOP_THREADS];

/* loop.c: slots [0, n) have ever been taken; the rest are all free, so a
 * scan can stop there. */
unsigned sw_loop_slots_used(void);

#endif
