/*
 * sampler.c - the sampling signal handler: what a loop thread is doing
 * while its turn runs long.
 *
 * Every loop thread has a per-thread CPU-time timer (timer_create on
 * CLOCK_THREAD_CPUTIME_ID, SIGEV_THREAD_ID) that sends it a real-time
 * signal (default SIGRTMIN+5, setting STALLWATCH_SIGNAL) every sample
 * interval of CPU time it burns.  No thread watches: a single-threaded
 * program stays single-threaded (doc/design.md, "Living inside the host").
 * The timer only runs while the thread burns CPU, so an idle or sleeping
 * loop is never woken, and a thread asleep in a system call is never
 * interrupted by it; what is left is a tick that lands while the thread is
 * in the kernel on its way into a sleep (a fraction of a microsecond per
 * call).  The handler checks the age of the current turn: past the
 * threshold it writes one SW_EV_SAMPLE event (native stack from the
 * interrupted context, Python frames) linked to the turn by (loop_id,
 * turn_seq); before it, it only keeps the turn's CPU accounting (loop.c
 * fills sw_rec_stall.cpu_ns and sampled_ns from it).  Long turns are
 * sampled every tick for the first 10 s, then every 10th, then every 100th
 * after 100 s (each sample weighted by the CPU time it stands for), so a
 * loop stuck for an hour does not fill the disk.
 *
 * The wrappers retry a sleeping call that one of our ticks interrupted
 * (sw_tls.sigs, call.h), so a loop's own epoll_wait or nanosleep never
 * returns EINTR because of the shim.
 *
 * Telling our signals from others: ours carry si_code SI_TIMER and the
 * address of `timer_cookie` as their value.  Anything else is someone
 * else's signal.
 *
 * Conflicts: stallwatch stays in charge.  sigaction(), signal() and kin
 * are wrapped for the sampling signal only (wrap_signal.c): the program's
 * handler is remembered and reported back to it as installed, and every signal
 * we did not send is passed on to it (SIG_DFL is emulated: the signal is
 * re-raised with the default action, which ends the process as it would
 * have).  If the signal already has a handler when the shim starts (an
 * earlier preloaded library), another real-time signal is chosen, or, when
 * STALLWATCH_SIGNAL named it, sampling gives way with one warning.
 *
 * The handler allocates nothing, takes no lock, saves errno, and skips
 * (and counts) samples it must not take: the thread is inside the shim
 * (guard), inside the loader or the exception unwinder, or any thread is
 * inside the loader (the loader lock, doc/design.md "Stacks"), inside a
 * wrapper (that call records its own stack), or not on a large enough
 * alternate stack.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "sampler.h"

#include "call.h"
#include "event.h"
#include "loop.h"
#include "pyframes.h"
#include "real.h"
#include "stack.h"
#include "sw_settings.h"
#include "writer.h"

#define DEFAULT_SIGNAL_OFFSET 5		   /* SIGRTMIN+5 */
#define ALTSTACK_SIZE	      (256 * 1024) /* ours, MAP_NORESERVE, touched lazily */
#define ALTSTACK_MIN	      (64 * 1024) /* smallest altstack we sample on */
#define STOP_WAIT_NS	      (100ull * 1000000ull) /* sw_sampler_stop's patience */
#define FLUSH_TRIES	      200 /* sched_yield()s waiting for a sample to land */
#define SIDE_SWITCH_ROOM      2048 /* altstack left to switch stacks from */

#define RLX memory_order_relaxed

_Atomic uint32_t sw_loader_busy; /* call.h */

static _Atomic int sample_sig; /* 0: sampling off */
static _Atomic int self_pid;
static _Atomic int stopped;
static _Atomic int inflight; /* handlers between their stop check and exit */

/* Our timers' signals carry this address as their value. */
static const char timer_cookie;

#define SLOW_AFTER_NS	(10ull * 1000000000ull)	 /* then every 10th tick */
#define SLOWER_AFTER_NS (100ull * 1000000000ull) /* then every 100th */

static struct {
	_Atomic uint64_t taken, write_failed, in_shim, in_loader, stale,
	    no_stack, ticks, chained;
} stats;

/* ---- per-thread sample stacks -------------------------------------------- */

/*
 * Every loop thread gets a stack of ours: [guard page | stack | side].  It
 * is the thread's alternate signal stack unless the program set one; a
 * program's altstack may be too small for libunwind (Python's faulthandler,
 * which pytest turns on, sets a 16 KiB one), so then the handler moves to
 * our stack with swapcontext.  `side` holds the two contexts for that; the
 * kernel never writes there (the altstack we install stops below it).
 */
struct side {
	ucontext_t back, run;
};

struct altstack {
	void *map; /* the mapping, NULL if none */
	size_t map_len;
	int installed; /* it is the thread's altstack (we set it) */
	int state;     /* 0: not prepared, 1: prepared */
	int timer_ok;  /* `timer` is this thread's CPU-time timer */
	int disarmed;  /* the thread blocks the sampling signal: no ticks */
	timer_t timer;
	void *uc; /* side call: the arguments of take_sample */
	uint32_t turn_seq;
	uint64_t weight_ns;
	uint64_t last_cpu_ns; /* thread CPU time at the previous tick */
	uint32_t over_ticks;  /* ticks past the threshold in tick_seq's turn */
	/* A sample skipped inside the loader, to take when the thread leaves
	 * it: its weight and turn, and whether our own tgkill is on its
	 * way (sw_sampler_retry). */
	uint64_t retry_ns;
	uint32_t retry_seq;
	volatile int retry_sent;
};

static SW_TLS struct altstack alt;

static struct side *side_of(void)
{
	uintptr_t top = (uintptr_t)alt.map + alt.map_len;

	return (struct side *)((top - sizeof(struct side)) & ~(uintptr_t)63);
}

/* ---- the program's view of the signal ------------------------------------ */

/* Double-buffered so the handler never sees a half-written action. */
static struct sigaction prog_act[2];
static _Atomic int prog_cur;

static void prog_get(struct sigaction *out)
{
	*out = prog_act[atomic_load_explicit(&prog_cur, memory_order_acquire)];
}

static void prog_set(const struct sigaction *act)
{
	int next = !atomic_load_explicit(&prog_cur, RLX);

	prog_act[next] = *act;
	atomic_store_explicit(&prog_cur, next, memory_order_release);
}

/* sigaction() as the program sees it for the sampling signal. */
int sw_sampler_fake_sigaction(const struct sigaction *act,
			      struct sigaction *old)
{
	struct sigaction cur;

	prog_get(&cur);
	if (act) {
		prog_set(act);
	}
	if (old)
		*old = cur;
	return 0;
}

/* ---- notes --------------------------------------------------------------- */

static void sampler_note(int level, const char *text, int to_stderr)
{
	size_t len = strlen(text);
	ssize_t r;

	if (to_stderr) {
		r = write(2, "stallwatch: ", 12);
		r = write(2, text, len);
		r = write(2, "\n", 1);
		(void)r;
	}
	sw_note(level, text);
}

/* ---- the handler --------------------------------------------------------- */

static void take_sample(void *ucontext, uint32_t turn_seq, uint64_t weight_ns)
{
	struct sw_loop_slot *slot = sw_tls.slot;
	struct sw_event_rec rec;
	int nips, npy, truncated = 0, unknown = 0;
	uint64_t interval;

	if (!slot || !sw_tls.in_turn ||
	    atomic_load_explicit(&slot->turn_seq, RLX) != turn_seq ||
	    atomic_load_explicit(&slot->in_wrapper, RLX)) {
		atomic_fetch_add_explicit(&stats.stale, 1, RLX);
		return;
	}
	if (sw_tls.guard) {
		atomic_fetch_add_explicit(&stats.in_shim, 1, RLX);
		return;
	}
	if (sw_tls.in_loader || sw_unwind_busy() ||
	    atomic_load_explicit(&sw_loader_busy, RLX)) {
		atomic_fetch_add_explicit(&stats.in_loader, 1, RLX);
		/* Taken again when this thread leaves the loader, if it
		 * is in it (sw_sampler_retry). */
		if (sw_tls.in_loader) {
			alt.retry_ns += weight_ns;
			alt.retry_seq = turn_seq;
			sw_tls.sample_retry = 1;
		}
		return;
	}

	sw_tls.guard++;
	sw_event_init(&rec, SW_EV_SAMPLE, SW_CALL_TURN, slot);
	rec.ev.turn_seq = turn_seq;
	rec.ev.start_ns = sw_now_ns();
	nips = sw_stack_capture_signal(ucontext, sw_event_ips(&rec), SW_MAX_IPS,
				       &truncated);
	if (nips < 0)
		nips = 0;
	npy = sw_py_capture(sw_event_py(&rec, nips), SW_MAX_PYFRAMES, &unknown);

	interval = weight_ns ? weight_ns : sw_cfg.sample_interval_ns;
	rec.ev.duration_ns = interval;
	rec.ev.total_ns = interval;
	rec.ev.max_ns = interval;
	rec.ev.ev_flags = SW_EVF_SIGNAL_FRAME |
			  (truncated ? SW_EVF_TRUNCATED : 0) |
			  (unknown ? SW_EVF_PY_UNKNOWN : 0);
	if (sw_event_write(&rec, nips, npy) == 0) {
		atomic_fetch_add_explicit(&slot->nsamples, 1, RLX);
		sw_tls.turn_sampled_ns += interval;
		atomic_fetch_add_explicit(&stats.taken, 1, RLX);
	} else {
		atomic_fetch_add_explicit(&stats.write_failed, 1, RLX);
	}
	sw_tls.guard--;
}

static void side_entry(void)
{
	take_sample(alt.uc, alt.turn_seq, alt.weight_ns);
}

/*
 * take_sample needs some 40 KiB (libunwind, the record): run it here when
 * on a large altstack (ours), else switch to this thread's own stack.
 */
static void sample_on_a_big_stack(void *uc, uint32_t turn_seq,
				  uint64_t weight_ns)
{
	struct side *side;
	stack_t ss;
	char here;

	if (sigaltstack(NULL, &ss) != 0)
		goto no_stack;
	if ((ss.ss_flags & SS_ONSTACK) && ss.ss_size >= ALTSTACK_MIN) {
		take_sample(uc, turn_seq, weight_ns);
		return;
	}
	if (!alt.map)
		goto no_stack;
	/* On a small altstack: room for swapcontext's frame? */
	if ((ss.ss_flags & SS_ONSTACK) &&
	    (uintptr_t)&here - (uintptr_t)ss.ss_sp < SIDE_SWITCH_ROOM)
		goto no_stack;
	side = side_of();
	if (getcontext(&side->run) != 0)
		goto no_stack;
	side->run.uc_stack.ss_sp =
	    (char *)alt.map + (alt.map_len - ALTSTACK_SIZE);
	side->run.uc_stack.ss_size =
	    (size_t)((uintptr_t)side - (uintptr_t)side->run.uc_stack.ss_sp);
	side->run.uc_link = &side->back;
	alt.uc = uc;
	alt.turn_seq = turn_seq;
	alt.weight_ns = weight_ns;
	makecontext(&side->run, side_entry, 0);
	if (swapcontext(&side->back, &side->run) != 0)
		goto no_stack;
	return;
no_stack:
	atomic_fetch_add_explicit(&stats.no_stack, 1, RLX);
}

/* A signal we did not send: do what the program asked for. */
static void chain(int sig, siginfo_t *si, void *uc, int self_sent)
{
	struct sigaction a;

	prog_get(&a);
	if (a.sa_flags & SA_SIGINFO) {
		if (!a.sa_sigaction)
			return;
		atomic_fetch_add_explicit(&stats.chained, 1, RLX);
		if (a.sa_flags & SA_RESETHAND) {
			struct sigaction dfl = {.sa_handler = SIG_DFL};

			prog_set(&dfl);
		}
		a.sa_sigaction(sig, si, uc);
		return;
	}
	if (a.sa_handler == SIG_IGN)
		return;
	if (a.sa_handler == SIG_DFL) {
		struct sigaction dfl = {.sa_handler = SIG_DFL};

		/* A late request of ours (its thread left the loop): drop. */
		if (self_sent)
			return;
		/* The default action of a real-time signal ends the process:
		 * re-raise it with that action; it is delivered when this
		 * handler returns and unblocks it. */
		sigemptyset(&dfl.sa_mask);
		SW_REAL(sigaction)(sig, &dfl, NULL);
		syscall(SYS_tgkill, (pid_t)syscall(SYS_getpid),
			(pid_t)syscall(SYS_gettid), sig);
		return;
	}
	atomic_fetch_add_explicit(&stats.chained, 1, RLX);
	if (a.sa_flags & SA_RESETHAND) {
		struct sigaction dfl = {.sa_handler = SIG_DFL};

		prog_set(&dfl);
	}
	a.sa_handler(sig);
}

static uint32_t stride_for(uint64_t over_ns)
{
	if (over_ns >= SLOWER_AFTER_NS)
		return 100;
	if (over_ns >= SLOW_AFTER_NS)
		return 10;
	return 1;
}

uint64_t sw_thread_cpu_ns(void)
{
	struct timespec ts;

	if (syscall(SYS_clock_gettime, CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t sw_sampler_cpu_since_tick(void)
{
	struct itimerspec its;

	uint64_t rem;

	/* Disarmed (the thread blocks the signal): no tick marks the turn's
	 * CPU time, so it is unknown. */
	if (!alt.timer_ok || alt.disarmed ||
	    timer_gettime(alt.timer, &its) != 0)
		return UINT64_MAX;
	rem = (uint64_t)its.it_value.tv_sec * 1000000000ull +
	      (uint64_t)its.it_value.tv_nsec;
	return rem >= sw_cfg.sample_interval_ns
		   ? 0
		   : sw_cfg.sample_interval_ns - rem;
}

/*
 * One tick of this thread's CPU-time timer: `overrun` more intervals
 * passed before it was delivered.  Keeps the turn's CPU accounting and
 * samples a turn past the threshold.
 */
static void on_tick(void *uc)
{
	struct sw_thread *t = &sw_tls;
	struct sw_loop_slot *slot = t->slot;
	uint64_t start, now, age, cpu, span,
	    interval = sw_cfg.sample_interval_ns;
	uint32_t seq, stride;

	atomic_fetch_add_explicit(&stats.ticks, 1, RLX);
	/* The CPU time this tick stands for: the timer is checked at the
	 * scheduler tick, so with a short interval one tick covers several
	 * (about 4 ms at HZ 250, doc/design.md). */
	cpu = sw_thread_cpu_ns();
	span = cpu - alt.last_cpu_ns;
	if (!alt.last_cpu_ns || span > 100 * interval || span < interval)
		span = interval;
	alt.last_cpu_ns = cpu;
	if (!slot || !t->in_turn)
		return;
	start = atomic_load_explicit(&slot->turn_start_ns, RLX);
	if (!start)
		return;
	now = sw_now_ns();
	age = now > start ? now - start : 0;
	seq = atomic_load_explicit(&slot->turn_seq, RLX);
	if (t->tick_seq != seq || !t->tick_valid) {
		/* The turn's first tick: its CPU so far is at most what the
		 * timer counted since the previous tick, and at most the
		 * turn's age. */
		t->tick_seq = seq;
		t->tick_valid = 1;
		t->turn_cpu0_ns = cpu - (span < age ? span : age);
		t->turn_sampled_ns = 0;
		alt.over_ticks = 0;
	}
	if (age <= sw_cfg.threshold_ns)
		return;
	if (t->guard) {
		atomic_fetch_add_explicit(&stats.in_shim, 1, RLX);
		return;
	}
	/* A stuck loop still writes its heartbeats. */
	if (sw_cfg.heartbeat_ns &&
	    now - atomic_load_explicit(&slot->last_heartbeat_ns, RLX) >=
		sw_cfg.heartbeat_ns &&
	    !atomic_load_explicit(&slot->in_wrapper, RLX))
		sw_loop_heartbeat(slot, now, 0);
	stride = stride_for(age - sw_cfg.threshold_ns);
	if (alt.over_ticks++ % stride)
		return;
	/* Past the threshold: the part of this tick's span inside it. */
	if (span > age - sw_cfg.threshold_ns)
		span = age - sw_cfg.threshold_ns;
	sample_on_a_big_stack(uc, seq, span * stride);
}

static void on_sample_signal(int sig, siginfo_t *si, void *ucontext)
{
	int saved_errno = errno;

	if (alt.retry_sent && si && si->si_code == SI_TKILL &&
	    si->si_pid == atomic_load_explicit(&self_pid, RLX)) {
		/* Our own retry (sw_sampler_retry): the thread has just left
		 * the loader, in the same turn. */
		uint64_t w = alt.retry_ns;

		alt.retry_sent = 0;
		alt.retry_ns = 0;
		atomic_fetch_add(&inflight, 1);
		if (!atomic_load(&stopped))
			sample_on_a_big_stack(ucontext, alt.retry_seq, w);
		atomic_fetch_sub(&inflight, 1);
	} else if (si && si->si_code == SI_TIMER &&
		   si->si_value.sival_ptr == (void *)&timer_cookie) {
		sw_tls.sigs++;
		/* stop/inflight: Dekker with sw_sampler_stop (seq_cst). */
		atomic_fetch_add(&inflight, 1);
		if (!atomic_load(&stopped))
			on_tick(ucontext);
		atomic_fetch_sub(&inflight, 1);
	} else {
		chain(sig, si, ucontext, 0);
	}
	errno = saved_errno;
}

void sw_sampler_retry(void)
{
	struct sw_loop_slot *slot = sw_tls.slot;
	int sig = atomic_load_explicit(&sample_sig, RLX), saved;

	if (sw_tls.guard || sw_tls.in_loader)
		return; /* later: the next time it leaves the loader */
	sw_tls.sample_retry = 0;
	if (!sig || !slot || !sw_tls.in_turn || atomic_load(&stopped) ||
	    atomic_load_explicit(&slot->turn_seq, RLX) != alt.retry_seq) {
		alt.retry_ns = 0;
		return;
	}
	/* Delivered on the way out of tgkill, here, in user mode: no sleep
	 * of the program's to interrupt. */
	saved = errno;
	alt.retry_sent = 1;
	syscall(SYS_tgkill, (pid_t)atomic_load_explicit(&self_pid, RLX),
		(pid_t)syscall(SYS_gettid), sig);
	alt.retry_sent = 0;
	errno = saved;
}

int sw_sampler_signal(void)
{
	return atomic_load(&stopped) ? 0
				     : atomic_load_explicit(&sample_sig, RLX);
}

/* ---- per-thread alternate stacks ----------------------------------------- */
static pthread_key_t alt_key;
static pthread_once_t alt_once = PTHREAD_ONCE_INIT;
static int alt_key_ok;

/* Thread exit: drop our altstack if it is still the thread's. */
static void alt_release(void *map)
{
	stack_t cur, off = {.ss_flags = SS_DISABLE};
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	if (!map || sigaltstack(NULL, &cur) != 0)
		return;
	if (cur.ss_sp == (char *)map + page) {
		if ((cur.ss_flags & SS_ONSTACK) || sigaltstack(&off, NULL) != 0)
			return; /* in use: leave it */
	}
	alt.map = NULL;
	alt.installed = 0;
	munmap(map, ALTSTACK_SIZE + page);
}

static void alt_make_key(void)
{
	alt_key_ok = pthread_key_create(&alt_key, alt_release) == 0;
}

/*
 * This thread's CPU-time timer: a tick every sample interval of CPU time
 * the thread burns, delivered to this thread only.
 */
/* Arm (on) or disarm this thread's timer; errno is kept. */
static void timer_arm(int on)
{
	struct itimerspec its;
	uint64_t iv = sw_cfg.sample_interval_ns;
	int saved = errno;

	memset(&its, 0, sizeof(its));
	if (on) {
		its.it_interval.tv_sec = (time_t)(iv / 1000000000ull);
		its.it_interval.tv_nsec = (long)(iv % 1000000000ull);
		its.it_value = its.it_interval;
	}
	if (timer_settime(alt.timer, 0, &its, NULL) == 0)
		alt.disarmed = !on;
	errno = saved;
}

/*
 * This thread's CPU-time timer: a tick every sample interval of CPU time
 * the thread burns, delivered to this thread only.  It stays disarmed
 * while the thread blocks the signal (see sw_sampler_mask_change).
 */
static void start_timer(int sig)
{
	struct sigevent sev;
	sigset_t cur;

	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = sig;
	sev.sigev_value.sival_ptr = (void *)&timer_cookie;
	sev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
	if (timer_create(CLOCK_THREAD_CPUTIME_ID, &sev, &alt.timer) != 0)
		return;
	alt.timer_ok = 1;
	alt.disarmed = 1;
	sw_tls.tick_valid = 0;
	if (SW_REAL(pthread_sigmask)(SIG_BLOCK, NULL, &cur) == 0 &&
	    sigismember(&cur, sig))
		return; /* blocked: armed when the program unblocks it */
	timer_arm(1);
	if (alt.disarmed) {
		alt.timer_ok = 0;
		timer_delete(alt.timer);
	}
}

/*
 * The program changes this thread's signal mask.  A loop thread that
 * blocks the sampling signal gets no ticks: a tick would stay pending, and
 * a signalfd, sigwaitinfo or sigtimedwait of the program's over a full set
 * would read it as the program's own (doc/design.md, "Sampling").  So the
 * timer is disarmed before the signal is blocked (no tick can slip in
 * between), and armed again once the signal is unblocked.  The program's
 * call, its result and errno are untouched; no extra system call is made
 * unless the sampling signal's state changes.
 */
int sw_sampler_mask_change(int is_pthread, int how, const sigset_t *set,
			   sigset_t *old)
{
	int sig = atomic_load_explicit(&sample_sig, RLX), r, in_set, blocked;
	int disarmed_before = alt.disarmed;

	/* The shim's own calls (libunwind blocks every signal around its
	 * locks and restores the handler's mask, which holds the sampling
	 * signal) say nothing of the program's mask. */
	if (sw_likely(!alt.timer_ok) || !sig || !set || sw_tls.guard) {
		if (is_pthread)
			return SW_REAL(pthread_sigmask)(how, set, old);
		goto plain;
	}
	in_set = sigismember(set, sig) == 1;
	if (in_set && how != SIG_UNBLOCK && !alt.disarmed)
		timer_arm(0);
	if (is_pthread) {
		r = SW_REAL(pthread_sigmask)(how, set, old);
	} else {
		r = SW_REAL(sigprocmask)(how, set, old);
	}
	if (r != 0) {
		if (alt.disarmed != disarmed_before)
			timer_arm(!disarmed_before);
		return r;
	}
	switch (how) {
	case SIG_BLOCK:
		blocked = in_set || disarmed_before;
		break;
	case SIG_UNBLOCK:
		blocked = !in_set && disarmed_before;
		break;
	default:
		blocked = in_set;
		break;
	}
	if (blocked != alt.disarmed)
		timer_arm(!blocked);
	return r;
plain:
	return SW_REAL(sigprocmask)(how, set, old);
}

void sw_sampler_thread_exit(void)
{
	if (alt.timer_ok) {
		alt.timer_ok = 0;
		timer_delete(alt.timer);
	}
}

/* The altstack part, once per thread. */
static void prepare_stack(void)
{
	size_t page;
	stack_t cur, ss;
	void *map;

	alt.state = 1;
	/* The first unwind on a thread takes a lock: do it here. */
	sw_stack_warm_thread();
	sw_py_prepare();
	if (sigaltstack(NULL, &cur) != 0)
		return;
	page = (size_t)sysconf(_SC_PAGESIZE);
	map = mmap(NULL, ALTSTACK_SIZE + page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1,
		   0);
	if (map == MAP_FAILED)
		return;
	/* A guard page below: an overflow faults instead of scribbling. */
	mprotect(map, page, PROT_NONE);
	alt.map = map;
	alt.map_len = ALTSTACK_SIZE + page;
	/* The program's own altstack stays (see sample_on_a_big_stack). */
	if (cur.ss_flags & SS_DISABLE) {
		memset(&ss, 0, sizeof(ss));
		ss.ss_sp = (char *)map + page;
		ss.ss_size =
		    (size_t)((uintptr_t)side_of() - (uintptr_t)ss.ss_sp);
		if (sigaltstack(&ss, NULL) == 0)
			alt.installed = 1;
	}
	pthread_once(&alt_once, alt_make_key);
	if (alt_key_ok)
		pthread_setspecific(alt_key, map);
}

void sw_sampler_thread_init(void)
{
	int saved_errno, sig = atomic_load_explicit(&sample_sig, RLX);

	if (sw_likely(alt.state && alt.timer_ok) || !sig ||
	    atomic_load(&stopped))
		return;
	saved_errno = errno;
	sw_tls.guard++;
	if (!alt.state)
		prepare_stack();
	if (!alt.timer_ok)
		start_timer(sig);
	sw_tls.guard--;
	errno = saved_errno;
}

/* ---- install, stop, fork ------------------------------------------------- */

/* STALLWATCH_SIGNAL: a number, or RTMIN+N / RTMAX-N (SIG prefix optional). */
static int parse_signal(const char *s)
{
	char *end;
	long n;

	if (!s || !*s)
		return 0;
	if (strncmp(s, "SIG", 3) == 0)
		s += 3;
	if (strncmp(s, "RTMIN", 5) == 0 || strncmp(s, "RTMAX", 5) == 0) {
		int base = s[4] == 'N' ? SIGRTMIN : SIGRTMAX;

		s += 5;
		if (!*s)
			return base;
		n = strtol(s, &end, 10);
		if (*end || (*s != '+' && *s != '-'))
			return -1;
		n += base;
	} else {
		n = strtol(s, &end, 10);
		if (*end)
			return -1;
	}
	return n >= SIGRTMIN && n <= SIGRTMAX ? (int)n : -1;
}

static int is_default(int sig)
{
	struct sigaction cur;

	if (SW_REAL(sigaction)(sig, NULL, &cur) != 0)
		return 0;
	return !(cur.sa_flags & SA_SIGINFO) && cur.sa_handler == SIG_DFL;
}

void sw_sampler_install(void)
{
	const char *env = getenv(SW_ENV_SIGNAL);
	struct sigaction sa, prev;
	char msg[200];
	int sig, wanted, i;

	atomic_store(&self_pid, (int)getpid());
	if (!sw_cfg.enabled || !sw_cfg.sampling || !sw_cfg.sample_interval_ns ||
	    atomic_load(&sample_sig))
		return;
	if (!SW_REAL(sigaction))
		return;
	wanted = parse_signal(env);
	if (wanted < 0) {
		snprintf(msg, sizeof(msg),
			 SW_ENV_SIGNAL
			 "=%s is not a real-time signal "
			 "(%d..%d, RTMIN+N, RTMAX-N); using the default",
			 env, SIGRTMIN, SIGRTMAX);
		sampler_note(SW_NOTE_WARN, msg, 1);
		wanted = 0;
	}
	sig = 0;
	if (wanted) {
		if (is_default(wanted))
			sig = wanted;
	} else {
		for (i = SIGRTMIN + DEFAULT_SIGNAL_OFFSET; i <= SIGRTMAX; i++) {
			if (is_default(i)) {
				sig = i;
				break;
			}
		}
	}
	if (!sig) {
		snprintf(msg, sizeof(msg),
			 "signal %d already has a handler: CPU sampling is off",
			 wanted ? wanted : SIGRTMIN + DEFAULT_SIGNAL_OFFSET);
		sampler_note(SW_NOTE_WARN, msg, 1);
		return;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sample_signal;
	sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
	/* Nothing asynchronous interrupts a sample; faults still do. */
	sigfillset(&sa.sa_mask);
	sigdelset(&sa.sa_mask, SIGSEGV);
	sigdelset(&sa.sa_mask, SIGBUS);
	sigdelset(&sa.sa_mask, SIGILL);
	sigdelset(&sa.sa_mask, SIGFPE);
	sigdelset(&sa.sa_mask, SIGTRAP);
	if (SW_REAL(sigaction)(sig, &sa, &prev) != 0)
		return;
	prog_act[0] = prev;
	prog_act[1] = prev;
	atomic_store(&sample_sig, sig);
}

void sw_sampler_stop(void)
{
	uint64_t deadline, taken, skipped;
	struct timespec ms = {0, 1000000};
	char msg[256];

	if (atomic_exchange(&stopped, 1) || !atomic_load(&sample_sig))
		return;
	deadline = sw_now_ns() + STOP_WAIT_NS;
	while (atomic_load(&inflight) > 0 && sw_now_ns() < deadline)
		SW_REAL(nanosleep)(&ms, NULL);
	taken = atomic_load(&stats.taken);
	skipped = atomic_load(&stats.in_loader) + atomic_load(&stats.in_shim) +
		  atomic_load(&stats.stale) + atomic_load(&stats.no_stack);
	if (!taken && !skipped && !atomic_load(&stats.chained))
		return;
	snprintf(
	    msg, sizeof(msg),
	    "cpu sampler (signal %d): %llu samples; skipped %llu in the "
	    "loader or unwinder, %llu inside the shim, %llu after the turn "
	    "or in a wrapper, %llu without an alternate stack; %llu "
	    "ticks of the CPU timers; %llu signals passed to the program",
	    atomic_load(&sample_sig), (unsigned long long)taken,
	    (unsigned long long)atomic_load(&stats.in_loader),
	    (unsigned long long)atomic_load(&stats.in_shim),
	    (unsigned long long)atomic_load(&stats.stale),
	    (unsigned long long)atomic_load(&stats.no_stack),
	    (unsigned long long)atomic_load(&stats.ticks),
	    (unsigned long long)atomic_load(&stats.chained));
	sampler_note(SW_NOTE_INFO, msg, 0);
}

void sw_sampler_atfork_child(void)
{

	atomic_store(&self_pid, (int)getpid());
	atomic_store(&inflight, 0);
	/* Timers are not inherited: this thread gets a new one when it
	 * waits on a loop again (sw_sampler_thread_init). */
	alt.timer_ok = 0;
	sw_tls.tick_valid = 0;
	alt.retry_ns = 0;
	alt.retry_sent = 0;
	sw_tls.sample_retry = 0;
	atomic_store(&stats.taken, 0);
	atomic_store(&stats.write_failed, 0);
	atomic_store(&stats.in_shim, 0);
	atomic_store(&stats.in_loader, 0);
	atomic_store(&stats.stale, 0);
	atomic_store(&stats.no_stack, 0);
	atomic_store(&stats.ticks, 0);
	atomic_store(&stats.chained, 0);
}

/* ---- the program's view of the sampling signal (wrap_signal.c) ---------- */

int sw_sampler_owns(int sig)
{
	int s = atomic_load_explicit(&sample_sig, RLX);

	return s && sig == s;
}
