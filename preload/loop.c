/*
 * loop.c - loop threads, turns, lag histograms, heartbeats, stall records.
 *
 * The loop model (doc/design.md, "The loop model"): a thread that waits in
 * epoll_wait & kin is a loop thread; its loop is the epoll fd it first waits
 * on, forgotten when that fd is closed.  A turn runs from the return of the
 * loop's wait to the next call of it; a turn longer than the threshold is a
 * stall.  A wait on another epoll fd during a turn is a private loop: a
 * blocking call.
 *
 * Each loop thread owns a slot in sw_loop_slots.  Only the owner writes
 * its statistics (plain relaxed load + store, no locked instructions); the
 * watchdog and the exit path read them.  A loop whose epoll fd another
 * thread closes is ended by its owner at its next wait (pending_end).
 */
#include "loop.h"
#include "call.h"
#include "lifecycle.h"
#include "record.h"
#include "sampler.h"
#include "watchdog.h"
#include "testname.h"
#include "writer.h"
#include "process.h"
#include "pyframes.h"
#include "real.h"
#include "stack.h"

#include <pthread.h>
#include <string.h>
#include <sys/prctl.h>

struct sw_loop_slot sw_loop_slots[SW_MAX_LOOP_THREADS];

static _Atomic uint32_t next_loop_id;
static _Atomic unsigned slot_hwm; /* slots [0, hwm) have been used */

unsigned sw_loop_slots_used(void)
{
	return atomic_load_explicit(&slot_hwm, memory_order_acquire);
}
static pthread_key_t exit_key;
static int have_exit_key;
static SW_TLS int no_free_slot;

#define RELAXED memory_order_relaxed

/*
 * The turn clock.  With the TSC as the call clock (clock.c), a turn
 * boundary reads the TSC, not clock_gettime: CLOCK_MONOTONIC is derived
 * from a per-thread anchor (a real clock_gettime and the TSC beside it,
 * taken again once ANCHOR_TICKS have passed, or if the TSC went back), so
 * turn_start_ns stays within a few microseconds of the watchdog's clock.
 * Turn durations are TSC differences (turn_tsc), exact whatever the anchor.
 */
#define ANCHOR_TICKS (1ull << 26) /* ~25 ms at 2.6 GHz */
static SW_TLS uint64_t anchor_tsc, anchor_ns;
static SW_TLS uint64_t turn_tsc; /* TSC at the turn's start, 0: none */

static inline uint64_t turn_now(uint64_t *tsc)
{
	uint64_t t, d;

	if (!sw_clk_tsc()) {
		*tsc = 0;
		return sw_now_ns();
	}
	t = sw_clk_read(1);
	*tsc = t;
	d = t - anchor_tsc;
	if (sw_unlikely(d >= ANCHOR_TICKS)) {
		anchor_ns = sw_now_ns();
		anchor_tsc = t;
		return anchor_ns;
	}
	return anchor_ns + sw_clk_to_ns(1, d);
}

static inline void add_relaxed(_Atomic uint64_t *v, uint64_t n)
{
	/* Single writer (the owner): a plain add, no lock prefix. */
	atomic_store_explicit(v, atomic_load_explicit(v, RELAXED) + n, RELAXED);
}

void sw_loop_heartbeat(struct sw_loop_slot *slot, uint64_t now_ns, int final)
{
	char buf[sizeof(struct sw_rec_heartbeat) +
		 SW_HIST_BUCKETS * sizeof(uint64_t)];
	struct sw_rec_heartbeat *hb = (struct sw_rec_heartbeat *)buf;
	uint64_t *buckets = (uint64_t *)(buf + sizeof(*hb));
	uint32_t loop_id = atomic_load(&slot->loop_id);
	unsigned i;

	if (!loop_id || !atomic_load(&slot->tid))
		return;
	sw_tls.guard++;
	memset(hb, 0, sizeof(*hb));
	hb->h.type = SW_REC_HEARTBEAT;
	hb->h.size = sizeof(buf);
	hb->time_ns = now_ns;
	hb->turns = atomic_load_explicit(&slot->turns, RELAXED);
	hb->busy_ns = atomic_load_explicit(&slot->busy_ns, RELAXED);
	hb->born_ns = atomic_load_explicit(&slot->born_ns, RELAXED);
	hb->max_turn_ns = atomic_load_explicit(&slot->max_turn_ns, RELAXED);
	hb->stalls = atomic_load_explicit(&slot->stalls, RELAXED);
	hb->loop_id = loop_id;
	hb->tid = atomic_load(&slot->tid);
	hb->nbuckets = SW_HIST_BUCKETS;
	hb->final = final ? 1 : 0;
	for (i = 0; i < SW_HIST_BUCKETS; i++)
		buckets[i] = atomic_load_explicit(&slot->hist[i], RELAXED);
	atomic_store_explicit(&slot->last_heartbeat_ns, now_ns, RELAXED);
	sw_record_flush(slot);
	sw_emit(buf, sizeof(buf));
	sw_tls.guard--;
}

void sw_loop_heartbeat_all(uint64_t now_ns, int final)
{
	unsigned i, hwm = atomic_load(&slot_hwm);

	for (i = 0; i < hwm; i++) {
		struct sw_loop_slot *slot = &sw_loop_slots[i];

		if (atomic_load(&slot->tid) && atomic_load(&slot->loop_id))
			sw_loop_heartbeat(slot, now_ns, final);
	}
}

static void emit_loop(struct sw_loop_slot *slot, uint64_t now)
{
	struct sw_rec_loop rec;

	memset(&rec, 0, sizeof(rec));
	rec.h.type = SW_REC_LOOP;
	rec.h.size = sizeof(rec);
	rec.time_ns = now;
	rec.loop_id = atomic_load(&slot->loop_id);
	rec.tid = atomic_load(&slot->tid);
	rec.epfd = atomic_load(&slot->epfd);
	if (prctl(PR_GET_NAME, rec.thread_name, 0, 0, 0) != 0)
		memset(rec.thread_name, 0, sizeof(rec.thread_name));
	rec.thread_name[sizeof(rec.thread_name) - 1] = 0;
	memcpy(slot->thread_name, rec.thread_name,
	       sizeof(slot->thread_name) < sizeof(rec.thread_name)
		   ? sizeof(slot->thread_name)
		   : sizeof(rec.thread_name));
	sw_emit(&rec, sizeof(rec));
}

void sw_loop_reemit_all(uint64_t now_ns)
{
	unsigned i, hwm = atomic_load(&slot_hwm);

	for (i = 0; i < hwm; i++) {
		struct sw_loop_slot *slot = &sw_loop_slots[i];
		struct sw_rec_loop rec;

		memset(&rec, 0, sizeof(rec));
		rec.loop_id = atomic_load(&slot->loop_id);
		rec.tid = atomic_load(&slot->tid);
		if (!rec.loop_id || !rec.tid)
			continue;
		rec.h.type = SW_REC_LOOP;
		rec.h.size = sizeof(rec);
		rec.time_ns = now_ns;
		rec.epfd = atomic_load(&slot->epfd);
		memcpy(rec.thread_name, slot->thread_name,
		       sizeof(slot->thread_name) < sizeof(rec.thread_name)
			   ? sizeof(slot->thread_name)
			   : sizeof(rec.thread_name));
		rec.thread_name[sizeof(rec.thread_name) - 1] = 0;
		sw_emit(&rec, sizeof(rec));
	}
}

static void reset_stats(struct sw_loop_slot *slot, uint64_t now)
{
	unsigned i;

	atomic_store(&slot->turn_seq, 0);
	atomic_store(&slot->turn_start_ns, 0);
	atomic_store(&slot->nsamples, 0);
	atomic_store(&slot->turns, 0);
	atomic_store(&slot->busy_ns, 0);
	atomic_store(&slot->max_turn_ns, 0);
	atomic_store(&slot->stalls, 0);
	atomic_store(&slot->born_ns, now);
	atomic_store(&slot->last_heartbeat_ns, now);
	for (i = 0; i < SW_HIST_BUCKETS; i++)
		atomic_store_explicit(&slot->hist[i], 0, RELAXED);
}

static void loop_begin(struct sw_loop_slot *slot, int key, uint64_t now)
{
	reset_stats(slot, now);
	sw_record_reset(slot);
	atomic_store(&slot->epfd, key);
	atomic_store(&slot->loop_id, atomic_fetch_add(&next_loop_id, 1) + 1);
	if (key >= 0)
		sw_fdc_mark_loop(key, 1);
	emit_loop(slot, now);
	/* A forked child's thread keeps its slot but not its timer. */
	sw_sampler_thread_init();
	sw_process_refresh_cmdline();
}

/*
 * The loop thread's CPU time over a turn that was a stall, from the CPU
 * accounting the timer's handler kept (sampler.c): one system call, paid
 * only at the end of a stall.  A turn without a tick burnt less than one
 * sample interval: what the timer counted since its last tick bounds it.
 */
static uint64_t stall_cpu_ns(struct sw_loop_slot *slot, uint64_t dur)
{
	struct sw_thread *t = &sw_tls;
	uint64_t cpu;

	if (!sw_sampler_signal())
		return 0;
	if (t->tick_valid &&
	    t->tick_seq == atomic_load_explicit(&slot->turn_seq, RELAXED)) {
		uint64_t now = sw_thread_cpu_ns();

		cpu = now > t->turn_cpu0_ns ? now - t->turn_cpu0_ns : 0;
	} else {
		cpu = sw_sampler_cpu_since_tick();
		if (cpu == UINT64_MAX)
			return 0;
		t->turn_sampled_ns = 0;
	}
	if (cpu > dur)
		cpu = dur;
	return cpu ? cpu : 1;
}

static void emit_stall(struct sw_loop_slot *slot, uint64_t start, uint64_t dur)
{
	struct sw_rec_stall rec;

	memset(&rec, 0, sizeof(rec));
	rec.h.type = SW_REC_STALL;
	rec.h.size = sizeof(rec);
	rec.start_ns = start;
	rec.duration_ns = dur;
	rec.tid = atomic_load(&slot->tid);
	rec.loop_id = atomic_load(&slot->loop_id);
	rec.turn_seq = atomic_load(&slot->turn_seq);
	rec.nsamples = atomic_load(&slot->nsamples);
	rec.cpu_ns = stall_cpu_ns(slot, dur);
	rec.sampled_ns = rec.nsamples ? sw_tls.turn_sampled_ns : 0;
	sw_test_note(start); /* the running test first */
	sw_emit(&rec, sizeof(rec));
	/* Asleep most of the turn, but in no call a wrapper timed: perhaps in
	 * I/O on an fd the cache wrongly calls non-blocking (fdcache.c). */
	if (rec.cpu_ns && rec.cpu_ns + sw_tls.turn_call_ns + dur / 4 < dur)
		sw_fdc_suspect_all(rec.start_ns + dur);
}

/* The owner's turn is over at `now` (`tsc`: the TSC then, 0: unknown):
 * count it. */
static void turn_end(struct sw_loop_slot *slot, uint64_t now, uint64_t tsc)
{
	uint64_t start = atomic_load_explicit(&slot->turn_start_ns, RELAXED);
	uint64_t dur;

	if (!start)
		return;
	if (turn_tsc && sw_clk_tsc()) {
		if (!tsc)
			tsc = sw_clk_read(1);
		dur = tsc - turn_tsc;
		if ((int64_t)dur < 0)
			dur = 0; /* a TSC that went back */
		dur = sw_clk_to_ns(1, dur);
	} else {
		if (now < start)
			return;
		dur = now - start;
	}
	add_relaxed(&slot->hist[sw_hist_index(dur)], 1);
	add_relaxed(&slot->turns, 1);
	add_relaxed(&slot->busy_ns, dur);
	if (dur > atomic_load_explicit(&slot->max_turn_ns, RELAXED))
		atomic_store_explicit(&slot->max_turn_ns, dur, RELAXED);
	if (sw_tls.gil_waits)
		sw_gil_turn_end(slot);
	if (dur > sw_cfg.threshold_ns) {
		add_relaxed(&slot->stalls, 1);
		emit_stall(slot, start, dur);
	}
}

/* End the loop on its owner thread (fd closed, thread exit, new loop). */
static void loop_finish(struct sw_loop_slot *slot, uint64_t now)
{
	struct sw_rec_loop_end rec;
	int epfd = atomic_load(&slot->epfd);

	if (!atomic_load(&slot->loop_id))
		return;
	if (sw_tls.in_turn)
		turn_end(slot, now, 0);
	atomic_store(&slot->turn_start_ns, 0);
	sw_tls.in_turn = 0;
	sw_loop_heartbeat(slot, now, 1);
	memset(&rec, 0, sizeof(rec));
	rec.h.type = SW_REC_LOOP_END;
	rec.h.size = sizeof(rec);
	rec.time_ns = now;
	rec.loop_id = atomic_load(&slot->loop_id);
	rec.tid = atomic_load(&slot->tid);
	sw_emit(&rec, sizeof(rec));
	if (epfd >= 0)
		sw_fdc_mark_loop(epfd, 0);
	atomic_store(&slot->epfd, -1);
	atomic_store(&slot->loop_id, 0);
}

static void thread_exit(void *arg)
{
	struct sw_loop_slot *slot = arg;

	if (!slot || sw_tls.slot != slot)
		return;
	sw_tls.guard++;
	if (sw_active)
		loop_finish(slot, sw_now_ns());
	sw_tls.in_turn = 0;
	sw_tls.slot = NULL;
	sw_sampler_thread_exit();
	atomic_store(&slot->in_wrapper, 0);
	atomic_store(&slot->tid, 0);
	sw_tls.guard--;
}

void sw_loop_init(void)
{
	have_exit_key = pthread_key_create(&exit_key, thread_exit) == 0;
}

/* This thread becomes a loop thread: take a free slot. */
static struct sw_loop_slot *attach(void)
{
	uint32_t tid = sw_gettid(), expected;
	unsigned i, hwm;

	if (no_free_slot)
		return NULL;
	for (i = 0; i < SW_MAX_LOOP_THREADS; i++) {
		struct sw_loop_slot *slot = &sw_loop_slots[i];

		expected = 0;
		if (atomic_load_explicit(&slot->tid, RELAXED) ||
		    !atomic_compare_exchange_strong(&slot->tid, &expected, tid))
			continue;
		hwm = atomic_load(&slot_hwm);
		while (hwm < i + 1 &&
		       !atomic_compare_exchange_weak(&slot_hwm, &hwm, i + 1))
			;
		atomic_store(&slot->pending_end, 0);
		atomic_store(&slot->epfd, -1);
		atomic_store(&slot->loop_id, 0);
		atomic_store(&slot->in_wrapper, 0);
		sw_tls.slot = slot;
		if (have_exit_key)
			pthread_setspecific(exit_key, slot);
		/* Everything the watchdog and sampler need on this thread,
		 * done here because this is not a signal handler. */
		sw_stack_warm_thread();
		sw_py_prepare();
		sw_sampler_thread_init();
		/* Only where the program has threads of its own. */
		sw_watchdog_ensure();
		return slot;
	}
	no_free_slot = 1;
	return NULL;
}

static enum sw_wait_mode wait_begin(struct sw_wait *w, enum sw_call call,
				    int key, int capable);

/* errno is the program's: a wait that succeeds must leave it as it was,
 * whatever the bookkeeping before it did. */
enum sw_wait_mode sw_loop_wait_begin(struct sw_wait *w, enum sw_call call,
				     int key, int capable)
{
	int saved = errno;
	enum sw_wait_mode mode = wait_begin(w, call, key, capable);

	errno = saved;
	return mode;
}

static enum sw_wait_mode wait_begin(struct sw_wait *w, enum sw_call call,
				    int key, int capable)
{
	struct sw_thread *t = &sw_tls;
	struct sw_loop_slot *slot = t->slot;
	uint32_t pend;
	uint64_t now, tsc;
	int cur;

	w->mode = SW_WAIT_PASS;
	if (t->guard)
		return SW_WAIT_PASS;
	if (sw_unlikely(!sw_active) && sw_armed &&
	    !(slot && atomic_load_explicit(&slot->in_wrapper, RELAXED)))
		sw_start_recording(); /* this process's first loop wait */
	if (!sw_active || !sw_writer_active()) {
		/* Recording stopped: stop timing too. */
		t->in_turn = 0;
		if (slot)
			atomic_store(&slot->turn_start_ns, 0);
		return SW_WAIT_PASS;
	}
	if (slot && atomic_load_explicit(&slot->in_wrapper, RELAXED))
		return SW_WAIT_PASS; /* inside another timed call */
	t->guard++;
	if (!slot && !(slot = attach()))
		goto pass;
	now = turn_now(&tsc);
	sw_clock_calibrate(now);
	cur = atomic_load(&slot->epfd);
	pend = atomic_load(&slot->pending_end);
	if (pend && pend == atomic_load(&slot->loop_id)) {
		atomic_store(&slot->pending_end, 0);
		loop_finish(slot, now);
		cur = -1;
	}
	if (cur != key && cur != -1 && t->in_turn) {
		/* A wait on another epoll fd inside a turn: a private loop,
		 * timed like a blocking call. */
		w->mode = SW_WAIT_PRIVATE;
		w->call = call;
		w->fd = key >= 0 ? key : -1;
		w->capable = capable;
		atomic_store_explicit(&slot->in_wrapper, 1, RELAXED);
		w->sigs = t->sigs;
		w->start_ns = sw_now_ns();
		t->guard--;
		return SW_WAIT_PRIVATE;
	}
	atomic_store_explicit(&slot->in_wrapper, 1, RELAXED);
	if (cur != key) {
		if (cur != -1)
			loop_finish(slot, now);
		loop_begin(slot, key, now);
	} else if (t->in_turn) {
		turn_end(slot, now, tsc);
		/* Signed: the watchdog may have written a heartbeat stamped
		 * a little after our TSC-derived now. */
		/* The loop thread writes its own heartbeats, at a turn
		 * boundary once due (an idle loop's last one stays valid
		 * until its next turn; the watchdog, where the program has
		 * threads anyway, writes them for idle loops too).
		 * Signed: the watchdog may have written a heartbeat stamped
		 * a little after our TSC-derived now. */
		if ((int64_t)(now - atomic_load_explicit(
					&slot->last_heartbeat_ns, RELAXED)) >=
		    (int64_t)sw_cfg.heartbeat_ns) {
			sw_loop_heartbeat(slot, now, 0);
			sw_watchdog_ensure(); /* threads may have appeared */
			/* a title may have been set */
			sw_process_refresh_cmdline();
		}
	}
	/* Release: the watchdog only needs the turn's numbers before the 0. */
	atomic_store_explicit(&slot->turn_start_ns, 0, memory_order_release);
	t->in_turn = 0;
	w->mode = SW_WAIT_BOUNDARY;
	w->sigs = t->sigs;
	t->guard--;
	(void)capable;
	return SW_WAIT_BOUNDARY;
pass:
	t->guard--;
	return SW_WAIT_PASS;
}

void sw_loop_wait_end(struct sw_wait *w, void *caller)
{
	struct sw_thread *t = &sw_tls;
	struct sw_loop_slot *slot = t->slot;
	uint64_t now, tsc;

	if (!slot)
		return;
	if (w->mode == SW_WAIT_PRIVATE) {
		/* Only recording can touch errno (the rest of this function
		 * is a clock read and stores). */
		int saved = errno;

		now = sw_now_ns();
		t->turn_call_ns += now - w->start_ns;
		sw_record_call(w->call, SW_EV_PRIVATE_LOOP, w->fd, w->start_ns,
			       now - w->start_ns, w->capable, caller);
		errno = saved;
	} else if (w->mode == SW_WAIT_BOUNDARY && sw_active &&
		   atomic_load(&slot->loop_id)) {
		now = turn_now(&tsc);
		turn_tsc = tsc;
		atomic_store_explicit(
		    &slot->turn_seq,
		    atomic_load_explicit(&slot->turn_seq, RELAXED) + 1,
		    RELAXED);
		atomic_store_explicit(&slot->nsamples, 0, RELAXED);
		t->turn_call_ns = 0;
		atomic_store_explicit(&slot->turn_start_ns, now,
				      memory_order_release);
		t->in_turn = 1;
		sw_test_turn(now);
	}
	atomic_store_explicit(&slot->in_wrapper, 0, memory_order_release);
}

static void close_loops(int lo, int hi)
{
	unsigned i, hwm = atomic_load(&slot_hwm);

	for (i = 0; i < hwm; i++) {
		struct sw_loop_slot *slot = &sw_loop_slots[i];
		int epfd = atomic_load(&slot->epfd);
		uint32_t id = atomic_load(&slot->loop_id);

		if (!id || !atomic_load(&slot->tid) || epfd < lo || epfd > hi)
			continue;
		if (slot == sw_tls.slot) {
			sw_tls.guard++;
			loop_finish(slot, sw_now_ns());
			sw_tls.guard--;
		} else {
			atomic_store(&slot->pending_end, id);
		}
	}
}

/* A vfork child closing the parent's fds before exec must not end the
 * parent's loops: it shares their memory. */
void sw_loop_fd_closed(int fd)
{
	if (fd >= 0 && sw_active && !sw_in_vfork_child())
		close_loops(fd, fd);
}

void sw_loop_range_closed(unsigned lo, unsigned hi)
{
	if (sw_active && !sw_in_vfork_child())
		close_loops((int)(lo > 0x7fffffffu ? 0x7fffffffu : lo),
			    (int)(hi > 0x7fffffffu ? 0x7fffffffu : hi));
}

/*
 * In a forked child: threads other than the forking one do not exist, and
 * the forking thread's loop, if any, starts afresh (a new loop record in
 * the child's own file) at its next wait, when the child starts
 * recording (lifecycle.c).
 */
void sw_loop_atfork_child(void)
{
	struct sw_loop_slot *me = sw_tls.slot;
	unsigned i, hwm = atomic_load(&slot_hwm);

	for (i = 0; i < hwm; i++) {
		struct sw_loop_slot *slot = &sw_loop_slots[i];

		atomic_store(&slot->pending_end, 0);
		atomic_store(&slot->loop_id, 0);
		atomic_store(&slot->epfd, -1);
		atomic_store(&slot->turn_start_ns, 0);
		atomic_store(&slot->in_wrapper, 0);
		if (slot != me)
			atomic_store(&slot->tid, 0);
	}
	sw_tls.in_turn = 0;
	sw_tls.tick_valid = 0;
	if (me)
		atomic_store(&me->tid, sw_gettid());
}
