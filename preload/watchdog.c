/*
 * watchdog.c - a thread that watches the loop threads, only in programs
 * that already have threads of their own.
 *
 * A single-threaded program stays single-threaded (doc/design.md, "Living
 * inside the host"): an extra thread would make glibc take its
 * multi-threaded paths on every cancellable system call, in malloc and in
 * stdio, and CPython 3.12 warns about os.fork() in a multi-threaded
 * process.  Samples come from each loop thread's CPU-time timer
 * (sampler.c); heartbeats from the loop thread at turn boundaries
 * (loop.c).  Where the program has threads anyway, this thread adds what
 * only a watcher can do, every max(sample interval, threshold / 2):
 *   - the heartbeat of a loop that is a quarter interval late (idle, or
 *     stuck in the kernel), so an idle loop of a live service still has
 *     current ones;
 *   - a loop thread asleep in a long turn outside every wrapper is looked
 *     at once a turn (/proc/self/task/TID/syscall): asleep in I/O on an
 *     fd the cache calls non-blocking, the cache forgets it
 *     (check_sleeping_fd).
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
 * Its /proc reads open a descriptor for microseconds: another thread of
 * the program opening one at that instant gets the next number up.
 *
 * fork: the child has no watchdog thread.  sw_watchdog_atfork_child()
 * forgets the parent's, and the child's next sw_watchdog_ensure() starts
 * its own if the child has threads.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/single_threaded.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core.h"
#include "fdcache.h"
#include "real.h"

#define WATCHDOG_STACK	(256 * 1024)
#define MAX_TICK_NS (1000000000ull) /* tick at least every second */
#define MIN_TICK_NS (10000000ull)   /* and at most every 10 ms */

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
	int fd_checked; /* check_sleeping_fd() found it asleep in this turn */
} seen[SW_MAX_LOOP_THREADS];

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
static int check_sleeping_fd(uint32_t tid)
{
	char path[64], buf[256], note[256];
	char *end;
	long n, nr, fd;
	int pfd;

	if (!have_proc)
		return 1;
	snprintf(path, sizeof(path), "/proc/self/task/%u/syscall", tid);
	pfd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
	if (pfd < 0)
		return 1;
	n = syscall(SYS_read, pfd, buf, sizeof(buf) - 1);
	syscall(SYS_close, pfd);
	if (n <= 0)
		return 1;
	buf[n] = 0;
	nr = strtol(buf, &end, 10); /* "running", or -1 outside a call */
	if (end == buf)
		return 0; /* running: look again at the next tick */
	if (*end != ' ' || !is_fd_io_syscall(nr))
		return 1;
	fd = strtol(end + 1, NULL, 16);
	if (fd < 0 || fd >= SW_FDC_SIZE || !sw_fdc_nosleep((int)fd))
		return 1;
	sw_fdc_forget((int)fd);
	snprintf(note, sizeof(note),
		 "fd %ld: a loop thread slept in I/O on it although it was "
		 "opened non-blocking (O_NONBLOCK cleared outside this "
		 "process?); its calls are timed from now on",
		 fd);
	sw_note(SW_NOTE_WARN, note);
	return 1;
}

static void scan(uint64_t now)
{
	uint64_t threshold = sw_cfg.threshold_ns;
	unsigned i, used = sw_loop_slots_used();

	for (i = 0; i < used; i++) {
		struct sw_loop_slot *slot = &sw_loop_slots[i];
		uint32_t tid = atomic_load_explicit(&slot->tid, RLX), seq;
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
			seen[i].fd_checked = 0;
		}
		if (!seen[i].fd_checked)
			seen[i].fd_checked = check_sleeping_fd(tid);
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
	interval = sw_cfg.threshold_ns / 2;
	if (interval < sw_cfg.sample_interval_ns)
		interval = sw_cfg.sample_interval_ns;
	if (interval < MIN_TICK_NS)
		interval = MIN_TICK_NS;
	if (interval > MAX_TICK_NS)
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

	if (sw_likely(atomic_load_explicit(&wd_started, RLX)))
		return;
	/* glibc's own flag: no thread was ever created in this process. */
	if (__libc_single_threaded)
		return;
	if (!sw_active || atomic_load(&wd_stop))
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
	atomic_fetch_add(&wd_gen, 1);
	atomic_store(&wd_busy, 0);
	atomic_store(&wd_started, 0);
	memset(seen, 0, sizeof(seen));
	sw_sampler_atfork_child();
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
