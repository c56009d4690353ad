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
#include <link.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/single_threaded.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "watchdog.h"
#include "call.h"
#include "event.h"
#include "loop.h"
#include "writer.h"
#include "real.h"

#define WATCHDOG_STACK (256 * 1024)
#define MAX_TICK_NS    (1000000000ull) /* tick at least every second */
#define MIN_TICK_NS    (10000000ull)   /* and at most every 10 ms */

#define RLX memory_order_relaxed

/* 0: no watchdog in this process, 1: started (or starting, or failed). */
static _Atomic int wd_started;
static _Atomic int wd_stop;
static _Atomic int wd_busy; /* the thread is between its stop check and sleep */
static _Atomic unsigned wd_gen; /* bumped at fork: a parent's thread is gone */

static int have_proc; /* /proc/self is readable (watchdog thread only) */

/* What the watchdog saw of slot i's thread: the slot's watch fields, which
 * only the watchdog thread touches (slot.h). */
static inline struct sw_slot_watch *watch_of(unsigned i)
{
	return &sw_loop_slots[i].watch;
}

/* Slots [0, watch_ready) have their watch fields set up ("nothing seen"):
 * done as slots come into use, so that slots never used are never
 * touched (each is some 12 KiB of the shim's memory). */
static unsigned watch_ready;

static void watch_prepare(unsigned used)
{
	for (; watch_ready < used; watch_ready++) {
		watch_of(watch_ready)->nr = -1;
		watch_of(watch_ready)->fd = -1;
	}
}

static uint64_t tick_ns; /* the watchdog's interval */

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
 * What /proc/self/task/TID/syscall says: "running"; or the system call the
 * thread is blocked in, "nr 0xarg1 ... 0xarg6 0xsp 0xpc"; or "-1 0xsp
 * 0xpc" when blocked outside a call.  Returns 1 and fills nr, arg1, pc when
 * it sleeps in a system call.  Raw system calls: the program may have
 * closed or reused any fd, and this thread's calls are never wrapped.
 */
/* The slot's syscall file, opened for this tid if need be. */
static int syscall_fd(unsigned i, uint32_t tid)
{
	char path[64];
	int fd;

	if (watch_of(i)->fd >= 0 && watch_of(i)->fd_tid == tid)
		return watch_of(i)->fd;
	if (watch_of(i)->fd >= 0) {
		sw_ownfd_del(watch_of(i)->fd);
		syscall(SYS_close, watch_of(i)->fd);
		watch_of(i)->fd = -1;
	}
	snprintf(path, sizeof(path), "/proc/self/task/%u/syscall", tid);
	fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	fd = sw_ownfd_move_high(fd);
	if (sw_ownfd_add(fd, NULL, NULL) != 0) {
		syscall(SYS_close, fd);
		return -1;
	}
	watch_of(i)->fd = fd;
	watch_of(i)->fd_tid = tid;
	return fd;
}

static int sleeping_in(unsigned slot, uint32_t tid, long *nr, long *arg1,
		       uint64_t *pc, uint64_t *sp)
{
	char buf[256], *p, *end;
	long n;
	int pfd, i;

	if (!have_proc || (pfd = syscall_fd(slot, tid)) < 0)
		return 0;
	n = syscall(SYS_pread64, pfd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	*nr = strtol(buf, &end, 10);
	if (end == buf || *end != ' ' || *nr < 0)
		return 0;
	*arg1 = strtol(end + 1, NULL, 16);
	/* sp and pc are the last two of the eight hex fields after nr. */
	p = end;
	for (i = 0; i < 6 && p; i++)
		p = strchr(p + 1, ' ');
	*sp = p ? strtoull(p + 1, NULL, 16) : 0;
	p = p ? strchr(p + 1, ' ') : NULL;
	*pc = p ? strtoull(p + 1, NULL, 16) : 0;
	return 1;
}

/* ---- a scanned stack for a thread asleep in the kernel ------------------ */

#define SCAN_WORDS 512		    /* 4 KiB of stack above sp */
#define SCAN_MAX   SW_SLOT_SCAN_MAX /* frames kept (watch.ips) */

struct xrange {
	uint64_t lo, hi;
};
static struct xrange xr[256];
static int nxr;

static int collect_exec(struct dl_phdr_info *info, size_t size, void *arg)
{
	int i;

	(void)size;
	(void)arg;
	for (i = 0; i < info->dlpi_phnum && nxr < 256; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
			xr[nxr].lo = info->dlpi_addr + ph->p_vaddr;
			xr[nxr].hi = xr[nxr].lo + ph->p_memsz;
			nxr++;
		}
	}
	return 0;
}

static int in_exec(uint64_t a)
{
	int i;

	for (i = 0; i < nxr; i++)
		if (a >= xr[i].lo && a < xr[i].hi)
			return 1;
	return 0;
}

/* Read our own memory without faulting (the other thread's stack). */
static int peek(uint64_t addr, void *buf, size_t len)
{
	struct iovec local = {buf, len},
		     remote = {(void *)(uintptr_t)addr, len};

	return syscall(SYS_process_vm_readv, (pid_t)syscall(SYS_getpid), &local,
		       1, &remote, 1, 0) == (long)len
		   ? 0
		   : -1;
}

/* Does the code just before `ret` end with a call instruction? */
static int after_call(uint64_t ret)
{
	unsigned char b[7];

	if (ret < 7 || peek(ret - 7, b, sizeof(b)) != 0)
		return 0;
	if (b[2] == 0xe8) /* call rel32 */
		return 1;
	if (b[5] == 0xff && (b[6] & 0x38) == 0x10) /* call *%reg */
		return 1;
	if (b[4] == 0xff && (b[5] & 0x38) == 0x10) /* call *disp8(%reg) */
		return 1;
	if (b[1] == 0xff && (b[2] & 0x38) == 0x10) /* call *disp32(...) */
		return 1;
	return 0;
}

/*
 * The thread cannot be unwound from here (it is asleep in the kernel, and
 * a signal would end its sleep with EINTR), so its stack is scanned: the
 * words above its sp that point just after a call instruction in a loaded
 * module's code are taken, innermost first, as its return addresses, as
 * crash reporters do.  A scanned stack can hold stale frames; the report
 * shows it as the call's stack all the same.
 */
static int scan_stack(uint64_t pc, uint64_t sp, uint64_t *ips, int max)
{
	uint64_t words[SCAN_WORDS];
	int n = 0, i;

	ips[n++] = pc;
	nxr = 0;
	sw_loader_enter();
	SW_REAL(dl_iterate_phdr)(collect_exec, NULL);
	sw_loader_leave();
	if (!sp || peek(sp, words, sizeof(words)) != 0)
		return n;
	for (i = 0; i < SCAN_WORDS && n < max; i++)
		if (in_exec(words[i]) && after_call(words[i]))
			ips[n++] = words[i];
	return n;
}

/*
 * A loop thread asleep in I/O on an fd the cache calls non-blocking: a
 * read, write, send or recv that its wrapper did not time (call.h,
 * sw_call_nosleep) because O_NONBLOCK was cleared where no wrapper saw it,
 * by another process sharing the open file description (a child handed
 * the same socket or pipe) or by a raw fcntl.  The cache forgets the fd:
 * its next calls are looked up again and timed.  The stall at hand is
 * still reported, and a note says why.
 */
static void check_sleeping_fd(long nr, long fd)
{
	char note[256];

	if (!is_fd_io_syscall(nr) || fd < 0 || fd >= SW_FDC_SIZE ||
	    !sw_fdc_nosleep((int)fd))
		return;
	sw_fdc_forget((int)fd);
	snprintf(note, sizeof(note),
		 "fd %ld: a loop thread slept in I/O on it although it was "
		 "opened non-blocking (O_NONBLOCK cleared outside this "
		 "process?); its calls are timed from now on",
		 fd);
	sw_note(SW_NOTE_WARN, note);
}

/* System calls whose first argument is an fd (for the event's fd). */
static int first_arg_is_fd(long nr)
{
	switch (nr) {
	case SYS_read:
	case SYS_write:
	case SYS_readv:
	case SYS_writev:
	case SYS_pread64:
	case SYS_pwrite64:
	case SYS_recvfrom:
	case SYS_sendto:
	case SYS_recvmsg:
	case SYS_sendmsg:
	case SYS_connect:
	case SYS_accept4:
	case SYS_accept:
	case SYS_fsync:
	case SYS_fdatasync:
	case SYS_flock:
	case SYS_fcntl:
	case SYS_epoll_wait:
	case SYS_epoll_pwait:
		return 1;
	default:
		return 0;
	}
}

/*
 * The loop thread of slot i was seen asleep in a system call that no
 * wrapper timed, from first_ns to last_ns, during a long turn: one
 * SW_EV_CALL event (call "unwrapped system call", the interrupted pc as
 * its one-frame stack) for the report to name it.  Its length is what
 * the watchdog saw, plus one tick.
 */
static void report_sleep(unsigned i)
{
	struct sw_event_rec rec;
	uint64_t dur;
	int nips;

	if (watch_of(i)->nr < 0)
		return;
	sw_event_init(&rec, SW_EV_CALL, SW_CALL_UNWRAPPED_SYSCALL, NULL);
	nips = watch_of(i)->nips;
	memcpy(sw_event_ips(&rec), watch_of(i)->ips,
	       (size_t)nips * sizeof(uint64_t));
	dur = watch_of(i)->last_ns - watch_of(i)->first_ns + tick_ns;
	rec.ev.start_ns = watch_of(i)->first_ns;
	rec.ev.duration_ns = dur;
	rec.ev.total_ns = dur;
	rec.ev.max_ns = dur;
	rec.ev.tid = watch_of(i)->tid;
	rec.ev.loop_id = watch_of(i)->loop_id;
	rec.ev.turn_seq = watch_of(i)->turn_seq;
	if (first_arg_is_fd(watch_of(i)->nr)) {
		rec.ev.fd = (int32_t)watch_of(i)->arg1;
		rec.ev.fd_kind = SW_FD_UNKNOWN;
	}
	rec.ev.ev_flags = SW_EVF_SIGNAL_FRAME;
	sw_event_write(&rec, nips, 0);
	watch_of(i)->nr = -1;
}

static void scan(uint64_t now)
{
	uint64_t threshold = sw_cfg.threshold_ns;
	unsigned i, used = sw_loop_slots_used();

	watch_prepare(used);
	for (i = 0; i < used; i++) {
		struct sw_loop_slot *slot = &sw_loop_slots[i];
		uint32_t tid = atomic_load_explicit(&slot->tid, RLX), seq;
		uint64_t start, pc, sp;
		long nr, arg1;

		start = atomic_load_explicit(&slot->turn_start_ns,
					     memory_order_acquire);
		seq = atomic_load_explicit(&slot->turn_seq, RLX);
		if (watch_of(i)->tid != tid || watch_of(i)->turn_seq != seq) {
			report_sleep(i); /* that turn is over */
			watch_of(i)->tid = tid;
			watch_of(i)->turn_seq = seq;
			watch_of(i)->loop_id =
			    atomic_load_explicit(&slot->loop_id, RLX);
			watch_of(i)->fd_checked = 0;
		}
		if (!tid || !start || now <= start ||
		    now - start <= threshold ||
		    atomic_load_explicit(&slot->in_wrapper, RLX)) {
			report_sleep(i);
			continue;
		}
		if (!sleeping_in(i, tid, &nr, &arg1, &pc, &sp)) {
			report_sleep(i); /* running again */
			continue;
		}
		/* Still the same turn, outside every wrapper? */
		if (atomic_load_explicit(&slot->turn_seq, RLX) != seq ||
		    atomic_load_explicit(&slot->in_wrapper, RLX))
			continue;
		if (!watch_of(i)->fd_checked) {
			watch_of(i)->fd_checked = 1;
			check_sleeping_fd(nr, arg1);
		}
		if (watch_of(i)->nr == nr && watch_of(i)->arg1 == arg1 &&
		    watch_of(i)->pc == pc) {
			watch_of(i)->last_ns = now;
			continue;
		}
		report_sleep(i);
		/* Its stack now, while it sleeps; kept only if it still sleeps
		 * in the same call afterwards (else the words may be torn). */
		watch_of(i)->nips =
		    scan_stack(pc, sp, watch_of(i)->ips, SCAN_MAX);
		{
			long nr2, arg2;
			uint64_t pc2, sp2;

			if (!sleeping_in(i, tid, &nr2, &arg2, &pc2, &sp2) ||
			    nr2 != nr || pc2 != pc || sp2 != sp)
				watch_of(i)->nips = pc ? 1 : 0;
		}
		watch_of(i)->ips[0] = pc;
		watch_of(i)->nr = nr;
		watch_of(i)->arg1 = arg1;
		watch_of(i)->pc = pc;
		watch_of(i)->sp = sp;
		watch_of(i)->first_ns = watch_of(i)->last_ns = now;
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
	/* access(), not open(): no descriptor number borrowed. */
	fd = syscall(SYS_faccessat, AT_FDCWD, "/proc/self/stat", R_OK, 0);
	have_proc = fd == 0;
	heartbeat =
	    sw_cfg.heartbeat_ns ? sw_cfg.heartbeat_ns : MAX_TICK_NS * 10;
	interval = sw_cfg.threshold_ns / 2;
	if (interval < sw_cfg.sample_interval_ns)
		interval = sw_cfg.sample_interval_ns;
	if (interval < MIN_TICK_NS)
		interval = MIN_TICK_NS;
	if (interval > MAX_TICK_NS)
		interval = MAX_TICK_NS;
	tick_ns = interval;
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

	if (atomic_exchange(&wd_stop, 1))
		return; /* stopped already */
	/* Dekker with watchdog_main's busy/stop (both seq_cst). */
	if (atomic_load(&wd_started)) {
		deadline = sw_now_ns() + 100000000ull;
		while (atomic_load(&wd_busy) && sw_now_ns() < deadline)
			SW_REAL(nanosleep)(&ms, NULL);
		/* The thread is parked for good: report the sleeps it was
		 * still watching (their turns ended just before exit). */
		if (!atomic_load(&wd_busy) && sw_writer_active()) {
			unsigned i;

			for (i = 0; i < watch_ready; i++)
				report_sleep(i);
		}
	}
}

void sw_watchdog_atfork_child(void)
{
	unsigned i;

	atomic_fetch_add(&wd_gen, 1);
	atomic_store(&wd_busy, 0);
	atomic_store(&wd_started, 0);
	/* Set up again when the child's watchdog sees them (the fds were
	 * closed by sw_ownfd_atfork_child()). */
	for (i = 0; i < watch_ready; i++)
		memset(watch_of(i), 0, sizeof(*watch_of(i)));
	watch_ready = 0;
}
