/*
 * ownfd.c - the shim's own descriptors: kept in a protected high range,
 * invisible to the program (doc/design.md, "Living inside the host").
 *
 * The shim holds few descriptors, and only in a process that runs a loop:
 * the trace file, and in programs with threads the watchdog's /proc file
 * per loop thread (libunwind's validation pipe is never created, stack.c). Each
 * is moved above a high floor (F_DUPFD_CLOEXEC) right after it is created, so
 * the program's own open(), pipe() and socket() get the numbers they would
 * get without the shim, and registered here so that the wrappers keep the
 * program's hands off them:
 *   - close() of one fails with EBADF, as if it were not open;
 *   - close_range()/closefrom() close everything around them;
 *   - dup2()/dup3() onto one first move it elsewhere (its owner is told
 *     the new number), then the program gets the number it asked for;
 *   - a forked child drops them all (it has no loop yet, doc/design.md
 *     "Nothing without a loop"); its owners are told they are gone.
 * The registry is a fixed array read without locks: the close wrapper's
 * fast path is one relaxed load and a compare against the lowest owned fd.
 */
#include "ownfd.h"
#include "base.h"
#include "thread.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Owned fds live at or above this (or half the fd limit, if lower). */
#define SW_OWNFD_FLOOR 900
#define MAX_OWNED      64

static struct {
	_Atomic int fd; /* -1: free entry */
	sw_ownfd_moved_fn moved;
	void *arg;
} owned[MAX_OWNED];

_Atomic int sw_ownfd_min = INT_MAX; /* lowest owned fd, INT_MAX: none */
static _Atomic int busy;	    /* one registry change at a time */

/*
 * Inside the guard: a sampling signal that lands on this thread while it
 * holds the registry takes no sample, so libunwind cannot ask for a new
 * pipe (and this lock) from the handler.
 */
static void lock(void)
{
	int expected = 0;

	sw_tls.guard++;
	while (!atomic_compare_exchange_weak(&busy, &expected, 1)) {
		expected = 0;
		sched_yield();
	}
}

static void unlock(void)
{
	atomic_store(&busy, 0);
	sw_tls.guard--;
}

static void recompute_min(void)
{
	int i, m = INT_MAX;

	for (i = 0; i < MAX_OWNED; i++) {
		int fd = atomic_load(&owned[i].fd);

		if (fd >= 0 && fd < m)
			m = fd;
	}
	atomic_store(&sw_ownfd_min, m);
}

void sw_ownfd_init(void)
{
	int i;

	for (i = 0; i < MAX_OWNED; i++)
		atomic_store(&owned[i].fd, -1);
}

int sw_ownfd_floor(void)
{
	struct rlimit rl;

	if (syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &rl) != 0 ||
	    rl.rlim_cur == RLIM_INFINITY)
		return SW_OWNFD_FLOOR;
	if (rl.rlim_cur > 2 * SW_OWNFD_FLOOR)
		return SW_OWNFD_FLOOR;
	return (int)(rl.rlim_cur / 2);
}

int sw_ownfd_move_high(int fd)
{
	int high, saved = errno;

	if (fd < 0)
		return fd;
	high = (int)syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, sw_ownfd_floor());
	if (high < 0) {
		/* No room up there: keep it where it is, close-on-exec. */
		syscall(SYS_fcntl, fd, F_SETFD, FD_CLOEXEC);
		errno = saved;
		return fd;
	}
	syscall(SYS_close, fd);
	errno = saved;
	return high;
}

int sw_ownfd_add(int fd, sw_ownfd_moved_fn moved, void *arg)
{
	int i, r = -1;

	if (fd < 0)
		return -1;
	lock();
	for (i = 0; i < MAX_OWNED; i++) {
		if (atomic_load(&owned[i].fd) >= 0)
			continue;
		owned[i].moved = moved;
		owned[i].arg = arg;
		atomic_store(&owned[i].fd, fd);
		r = 0;
		break;
	}
	recompute_min();
	unlock();
	return r;
}

void sw_ownfd_del(int fd)
{
	int i;

	if (fd < 0)
		return;
	lock();
	for (i = 0; i < MAX_OWNED; i++)
		if (atomic_load(&owned[i].fd) == fd)
			atomic_store(&owned[i].fd, -1);
	recompute_min();
	unlock();
}

int sw_ownfd_owns_slow(int fd)
{
	int i;

	for (i = 0; i < MAX_OWNED; i++)
		if (atomic_load_explicit(&owned[i].fd, memory_order_relaxed) ==
		    fd)
			return 1;
	return 0;
}

void sw_ownfd_evacuate(int fd)
{
	int i, nfd, saved = errno;

	lock();
	for (i = 0; i < MAX_OWNED; i++) {
		if (atomic_load(&owned[i].fd) != fd)
			continue;
		nfd = (int)syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, fd + 1);
		if (nfd < 0)
			nfd = (int)syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC,
					   sw_ownfd_floor());
		atomic_store(&owned[i].fd, nfd < 0 ? -1 : nfd);
		/* The owner switches to the new number (or learns it has
		 * none) before the old one changes hands. */
		if (owned[i].moved)
			owned[i].moved(owned[i].arg, fd, nfd);
		/* The caller's dup2 replaces the old number (closing our
		 * copy); if it fails, the number would stay open but
		 * unused: close it now so the state is the same either
		 * way. */
		syscall(SYS_close, fd);
		break;
	}
	recompute_min();
	unlock();
	errno = saved;
}

int sw_ownfd_sorted(int *out, int max)
{
	int i, j, n = 0;

	for (i = 0; i < MAX_OWNED && n < max; i++) {
		int fd = atomic_load(&owned[i].fd);

		if (fd < 0)
			continue;
		for (j = n; j > 0 && out[j - 1] > fd; j--)
			out[j] = out[j - 1];
		out[j] = fd;
		n++;
	}
	return n;
}

void sw_ownfd_atfork_child(void)
{
	int i;

	/* glibc has reset its own locks before fork handlers run; ours may
	 * have been held by a thread that does not exist here. */
	atomic_store(&busy, 0);
	for (i = 0; i < MAX_OWNED; i++) {
		int fd = atomic_exchange(&owned[i].fd, -1);

		if (fd < 0)
			continue;
		if (owned[i].moved)
			owned[i].moved(owned[i].arg, fd, -1);
		syscall(SYS_close, fd);
	}
	recompute_min();
}
