/*
 * watchdog.c - one thread per process that watches the loop threads'
 * turns (issue 3).
 *
 * Every sample interval it scans the loop-slot registry (lock-free, see
 * shim.h).  A slot whose turn has run longer than the stall threshold, and
 * whose thread is not inside a wrapper (that call records its own stack)
 * and is running rather than asleep in the kernel (thread_running()), is
 * asked for a sample (sampler.c).  It also writes the heartbeat of a
 * loop that is a quarter interval late with its own (idle, or stuck), so
 * an idle loop of a live service still has current ones.
 *
 * The thread is invisible to the shim and harmless to the host:
 *   - sw_tls.guard is set for its whole life, so its own calls are never
 *     wrapped, timed or turned into a loop;
 *   - it is created with every signal blocked, so no process-directed
 *     signal is ever delivered to it;
 *   - it takes no lock the host could hold (the registry is atomics; a
 *     record is one write(2));
 *   - it is detached and simply dies with the process; sw_watchdog_stop()
 *     (the destructor, before SW_REC_END) makes it stop writing first.
 *
 * Long turns are sampled every interval for the first 10 s, then every
 * 10th interval, then every 100th after 100 s (each sample weighted by the
 * intervals it stands for), so a loop stuck for an hour does not fill the
 * disk.
 *
 * fork: the child has no watchdog thread.  sw_watchdog_atfork_child()
 * forgets the parent's, and the child's next sw_watchdog_ensure() starts
 * its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "fdcache.h"
#include "real.h"
#include "shim.h"

#define WATCHDOG_STACK	(256 * 1024)
#define SLOW_AFTER_NS	(10ull * 1000000000ull)	 /* then every 10th interval */
#define SLOWER_AFTER_NS (100ull * 1000000000ull) /* then every 100th */
#define MAX_TICK_NS	(1000000000ull) /* tick at least every second */
#define FRESH_NS	(50000ull) /* a thread state older than this is re-read */

#define RLX memory_order_relaxed

/* 0: no watchdog in this process, 1: started (or starting, or failed). */
static _Atomic int wd_started;
static _Atomic int wd_stop;
static _Atomic int wd_busy; /* the thread is between its stop check and sleep */
static _Atomic unsigned wd_gen; /* bumped at fork: a parent's thread is gone */

static int have_proc; /* /proc/self is readable (watchdog thread only) */

/* Per-slot state, touched by the watchdog thread only. */
static struct {
	uint32_t tid, turn_seq;
	uint64_t ticks; /* ticks seen over the threshold in this turn */
	int fd_checked; /* check_sleeping_fd() ran in this turn */
} seen[SW_MAX_LOOP_THREADS];

/*
 * Is the thread running (or runnable) right now, rather than asleep in
 * the kernel?  A signal that lands in a sleeping system call the shim
 * does not wrap (a raw syscall(SYS_nanosleep), sigtimedwait, ...) makes it
 * fail with EINTR even under SA_RESTART, and a sleeping thread is not
 * burning CPU anyway.  A thread in user mode when tgkill runs takes the
 * signal before it can enter another system call; what is left is a window
 * of microseconds between this read and the tgkill.
 * Raw system calls: the program may have closed or reused any fd.
 */
static int thread_running(uint32_t tid)
{
	char path[64], buf[512];
	const char *p;
	long n;
	int fd;

	if (!have_proc)
		return 1; /* no /proc (a bare container): sample regardless */
	snprintf(path, sizeof(path), "/proc/self/task/%u/stat", tid);
	fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0; /* the thread is gone */
	n = syscall(SYS_read, fd, buf, sizeof(buf) - 1);
	syscall(SYS_close, fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	/* "tid (comm) S ...": comm may hold ')' and spaces */
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] == 'R';
}

/*
 * thread_running() with a fresh answer: if reading the state took long
 * (this thread was preempted on a busy machine), the state may be stale,
 * so read it again; the tgkill follows within a few hundred nanoseconds.
 */
static int running_now(uint32_t tid)
{
	int tries;

	for (tries = 0; tries < 3; tries++) {
		uint64_t t0 = sw_now_ns();
		int running = thread_running(tid);

		if (!running)
			return 0;
		if (sw_now_ns() - t0 < FRESH_NS)
			return 1;
	}
	return 0;
}

/* System calls whose first argument is an fd that the read/write/send/recv
 * wrappers leave untimed when the fd cache says it cannot sleep. */
static int is_fd_io_syscall(long nr)
{
	switch (nr) {
	case SYS_read:
	case SYS_write:
	case SYS_readv:
	case SYS_writev:
	case SYS_recvfrom:
	case SYS_sendto:
	case SYS_recvmsg:
	case SYS_sendmsg:
	case SYS_connect:
	case SYS_accept4:
#ifdef SYS_accept
	case SYS_accept:
#endif
		return 1;
	default:
		return 0;
	}
}

/*
 * A loop thread is asleep in the kernel in a long turn, outside every
 * timed wrapper.  Usually a raw system call the shim does not see; but it
 * can also be a read, write, send or recv that its wrapper did not time
 * because the fd cache says the fd is a non-blocking socket or pipe
 * (core.h, sw_call_nosleep), after O_NONBLOCK was cleared where no
 * wrapper saw it: by another process sharing the open file description
 * (a child handed the same socket or pipe), or by a raw fcntl.
 * /proc/self/task/TID/syscall names the system call and its first
 * argument ("nr 0xarg1 ...").  If that is such an fd, the cache forgets
 * it: its next calls are looked up again and timed.  The stall at hand
 * is still reported, unexplained, and a note says why.
 */
static void check_sleeping_fd(uint32_t tid)
{
	char path[64], buf[256], note[256];
	char *end;
	long n, nr, fd;
	int pfd;

	if (!have_proc)
		return;
	snprintf(path, sizeof(path), "/proc/self/task/%u/syscall", tid);
	pfd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
	if (pfd < 0)
		return;
	n = syscall(SYS_read, pfd, buf, sizeof(buf) - 1);
	syscall(SYS_close, pfd);
	if (n <= 0)
		return;
	buf[n] = 0;
	nr = strtol(buf, &end, 10); /* "running", or -1 outside a call */
	if (end == buf || *end != ' ' || !is_fd_io_syscall(nr))
		return;
	fd = strtol(end + 1, NULL, 16);
	if (fd < 0 || fd >= SW_FDC_SIZE || !sw_fdc_nosleep((int)fd))
		return;
	sw_fdc_forget((int)fd);
	snprintf(note, sizeof(note),
		 "fd %ld: a loop thread slept in I/O on it although it was "
		 "opened non-blocking (O_NONBLOCK cleared outside this "
		 "process?); its calls are timed from now on",
		 fd);
	sw_note(SW_NOTE_WARN, note);
}

static uint32_t stride_for(uint64_t over_ns)
{
	if (over_ns >= SLOWER_AFTER_NS)
		return 100;
	if (over_ns >= SLOW_AFTER_NS)
		return 10;
	return 1;
}

static void scan(uint64_t now)
{
	uint64_t threshold = sw_cfg.threshold_ns;
	unsigned i, used = sw_loop_slots_used();

	for (i = 0; i < used; i++) {
		struct sw_loop_slot *slot = &sw_loop_slots[i];
		uint32_t tid = atomic_load_explicit(&slot->tid, RLX), seq,
			 stride;
		uint64_t start;

		if (!tid)
			continue;
		start = atomic_load_explicit(&slot->turn_start_ns,
					     memory_order_acquire);
		if (!start || now <= start || now - start <= threshold)
			continue;
		if (atomic_load_explicit(&slot->in_wrapper, RLX))
			continue;
		seq = atomic_load_explicit(&slot->turn_seq, RLX);
		if (seen[i].tid != tid || seen[i].turn_seq != seq) {
			seen[i].tid = tid;
			seen[i].turn_seq = seq;
			seen[i].ticks = 0;
			seen[i].fd_checked = 0;
		}
		stride = stride_for(now - start - threshold);
		if (seen[i].ticks++ % stride)
			continue;
		/* Still the same turn, still not in a wrapper: the handler
		 * checks both again on the thread itself. */
		if (!running_now(tid)) {
			if (!seen[i].fd_checked) {
				seen[i].fd_checked = 1;
				check_sleeping_fd(tid);
			}
			continue;
		}
		if (atomic_load_explicit(&slot->turn_start_ns, RLX) != start ||
		    atomic_load_explicit(&slot->in_wrapper, RLX))
			continue;
		sw_sampler_kick(i, tid, seq, stride);
	}
}

/*
 * Heartbeats for loops that did not write their own: a loop thread writes
 * one at a turn boundary once the interval has passed, so only loops that
 * are idle (or stuck) are a quarter interval late, and only those get one
 * from here.  Duplicates are harmless, and rare this way.
 */
static void heartbeats(uint64_t now, uint64_t heartbeat)
{
	unsigned i, used = sw_loop_slots_used();

	for (i = 0; i < used; i++) {
		struct sw_loop_slot *slot = &sw_loop_slots[i];
		uint64_t last;

		if (!atomic_load_explicit(&slot->tid, RLX) ||
		    !atomic_load_explicit(&slot->loop_id, RLX))
			continue;
		last = atomic_load_explicit(&slot->last_heartbeat_ns, RLX);
		if (now > last && now - last >= heartbeat + heartbeat / 4)
			sw_loop_heartbeat(slot, now, 0);
	}
}

static void *watchdog_main(void *arg)
{
	unsigned gen = (unsigned)(uintptr_t)arg;
	uint64_t interval, heartbeat, last_beat, now, next;
	struct timespec ts;
	long fd;

	sw_tls.guard = 1; /* for life: nothing this thread does is wrapped */
	fd = syscall(SYS_openat, AT_FDCWD, "/proc/self/stat",
		     O_RDONLY | O_CLOEXEC);
	have_proc = fd >= 0;
	if (fd >= 0)
		syscall(SYS_close, fd);
	heartbeat =
	    sw_cfg.heartbeat_ns ? sw_cfg.heartbeat_ns : MAX_TICK_NS * 10;
	interval = sw_sampler_signal() ? sw_cfg.sample_interval_ns : 0;
	if (!interval || interval > MAX_TICK_NS)
		interval = MAX_TICK_NS;
	last_beat = sw_now_ns();
	next = last_beat + interval;
	for (;;) {
		ts.tv_sec = (time_t)(next / 1000000000ull);
		ts.tv_nsec = (long)(next % 1000000000ull);
		while (SW_REAL(clock_nanosleep)(CLOCK_MONOTONIC, TIMER_ABSTIME,
						&ts, NULL) == EINTR)
			;
		atomic_store(&wd_busy, 1);
		if (atomic_load(&wd_stop) || atomic_load(&wd_gen) != gen) {
			atomic_store(&wd_busy, 0);
			break;
		}
		now = sw_now_ns();
		if (sw_sampler_signal())
			scan(now);
		if (now - last_beat >= heartbeat / 4) {
			last_beat = now;
			if (sw_writer_active())
				heartbeats(now, heartbeat);
		}
		atomic_store(&wd_busy, 0);
		next += interval;
		if (next <= now) /* we were late: skip, don't burst */
			next = now + interval;
	}
	return NULL;
}

static void start_watchdog(void)
{
	pthread_attr_t attr;
	sigset_t all;
	pthread_t th;
	int rc, saved_errno = errno;
	char msg[160];
	ssize_t w;

	sw_tls.guard++;
	if (pthread_attr_init(&attr) != 0)
		goto out;
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, WATCHDOG_STACK);
	sigfillset(&all);
	pthread_attr_setsigmask_np(&attr, &all);
	rc = pthread_create(&th, &attr, watchdog_main,
			    (void *)(uintptr_t)atomic_load(&wd_gen));
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		int n =
		    snprintf(msg, sizeof(msg),
			     "stallwatch: cannot start the watchdog thread "
			     "(%s): no CPU samples, no periodic heartbeats\n",
			     strerror(rc));
		w = write(2, msg, (size_t)n);
		(void)w;
		goto out;
	}
	pthread_setname_np(th, "stallwatch");
out:
	sw_tls.guard--;
	errno = saved_errno;
}

void sw_watchdog_ensure(void)
{
	int expect = 0;

	if (sw_tls.slot)
		sw_sampler_thread_init(); /* one TLS test after the first */
	if (sw_likely(atomic_load_explicit(&wd_started, RLX)))
		return;
	if (!sw_cfg.enabled || atomic_load(&wd_stop))
		return;
	if (!atomic_compare_exchange_strong(&wd_started, &expect, 1))
		return;
	start_watchdog();
}

void sw_watchdog_stop(void)
{
	uint64_t deadline;
	struct timespec ms = {0, 1000000};

	atomic_store(&wd_stop, 1);
	/* Dekker with watchdog_main's busy/stop (both seq_cst). */
	if (atomic_load(&wd_started)) {
		deadline = sw_now_ns() + 100000000ull;
		while (atomic_load(&wd_busy) && sw_now_ns() < deadline)
			SW_REAL(nanosleep)(&ms, NULL);
	}
	sw_sampler_stop();
}

void sw_watchdog_atfork_child(void)
{
	struct sw_loop_slot *slot = sw_tls.slot;

	atomic_fetch_add(&wd_gen, 1);
	atomic_store(&wd_busy, 0);
	atomic_store(&wd_started, 0);
	memset(seen, 0, sizeof(seen));
	sw_sampler_atfork_child();
	/* The forking thread may be a loop thread that runs on in the child
	 * without ever becoming one again: start the child's watchdog now.
	 * (glibc has reset its locks before running fork handlers.) */
	if (slot && atomic_load(&slot->loop_id))
		sw_watchdog_ensure();
}

/*
 * A safety net for sw_watchdog_stop(): this file's destructor runs before
 * init.c's (fini_array runs in reverse link order, and the Makefile links
 * the shim sources sorted), so the watchdog has stopped writing before the end
 * record even if the destructor there does not call sw_watchdog_stop().
 */
__attribute__((destructor)) static void watchdog_fini(void)
{
	int saved_errno = errno;

	sw_tls.guard++;
	sw_watchdog_stop();
	sw_tls.guard--;
	errno = saved_errno;
}
