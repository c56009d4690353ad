/*
 * wrap_syscall.c - syscall(2) with a number that can sleep, timed like the
 * named wrapper of the same call.
 *
 * A program (or a runtime: Rust's futex-based locks, libuv's fallbacks)
 * that calls syscall(SYS_read, ...) or syscall(SYS_futex, ...) goes around
 * every named wrapper: a loop thread asleep there showed no blocking call
 * (doc/design.md, "Blocking that bypasses the wrappers").  The syscall()
 * stub in wrap_fd.c jumps here for the numbers in sw_syscall_timed_map,
 * and tail-jumps to libc for every other number, as before.
 *
 * Every number here makes the same system call with the same arguments
 * as libc's syscall() would (sw_raw_syscall: -1 and errno on failure), so
 * the result and errno are the kernel's.  The stub jumps rather than calls,
 * so our return address is the program's call: the site's caller.
 * exit_group also writes the end record first (wrap_exit.c).
 */
#undef _FORTIFY_SOURCE
#include "call.h"
#include "real.h"

#include <linux/futex.h>
#include <sys/syscall.h>

/* Bit n set: syscall(n, ...) comes here.  Read by the stub in wrap_fd.c
 * (numbers 0-511 only). */
const uint64_t sw_syscall_timed_map[8] = {
    [0] = (1ull << SYS_read) | (1ull << SYS_write) | (1ull << SYS_poll) |
	  (1ull << SYS_pread64) | (1ull << SYS_pwrite64) | (1ull << SYS_readv) |
	  (1ull << SYS_writev) | (1ull << SYS_select) |
	  (1ull << SYS_nanosleep) | (1ull << SYS_connect) |
	  (1ull << SYS_accept) | (1ull << SYS_sendto) | (1ull << SYS_recvfrom) |
	  (1ull << SYS_sendmsg) | (1ull << SYS_recvmsg) | (1ull << SYS_wait4),
    [1] = (1ull << (SYS_flock - 64)) | (1ull << (SYS_fsync - 64)) |
	  (1ull << (SYS_fdatasync - 64)),
    [3] = (1ull << (SYS_futex - 192)) | (1ull << (SYS_clock_nanosleep - 192)) |
	  (1ull << (SYS_exit_group - 192)) | (1ull << (SYS_epoll_wait - 192)) |
	  (1ull << (SYS_waitid - 192)),
    [4] = (1ull << (SYS_pselect6 - 256)) | (1ull << (SYS_ppoll - 256)) |
	  (1ull << (SYS_epoll_pwait - 256)) | (1ull << (SYS_accept4 - 256)),
    [6] = 1ull << (441 - 384), /* epoll_pwait2 */
    [7] = 1ull << (449 - 448), /* futex_waitv */
};

/* Each number above is in the word it is shifted into (x86_64 numbers). */
_Static_assert(SYS_wait4 < 64 && SYS_flock / 64 == 1 &&
		   SYS_fdatasync / 64 == 1 && SYS_futex / 64 == 3 &&
		   SYS_waitid / 64 == 3 && SYS_exit_group / 64 == 3 &&
		   SYS_pselect6 / 64 == 4 && SYS_accept4 / 64 == 4,
	       "syscall numbers moved: fix sw_syscall_timed_map");

#ifndef FUTEX_LOCK_PI2
#define FUTEX_LOCK_PI2 13
#endif
#define SYS_EPOLL_PWAIT2 441
#define SYS_FUTEX_WAITV	 449

static inline enum sw_cap msg_cap(long flags)
{
	return (flags & MSG_DONTWAIT) ? SW_CAP_NOWAIT : SW_CAP_FD;
}

/* A wait with a timeout argument: blocking-capable for strict mode when
 * it has none (waits forever).  The timeout itself is not read: a bad
 * pointer must fail with EFAULT in the kernel, as without the shim, not
 * fault here.  A slow wait is recorded whatever its timeout. */
static inline enum sw_cap timeout_cap(long ptr)
{
	return ptr ? SW_CAP_NO : SW_CAP_YES;
}

/* A futex operation that waits (the rest wake, requeue or fail fast). */
static inline int futex_waits(long op)
{
	switch (op & FUTEX_CMD_MASK) {
	case FUTEX_WAIT:
	case FUTEX_WAIT_BITSET:
	case FUTEX_LOCK_PI:
	case FUTEX_LOCK_PI2:
	case FUTEX_WAIT_REQUEUE_PI:
		return 1;
	default:
		return 0;
	}
}

/* An epoll wait through syscall(): the loop boundary, as in wrap_epoll.c. */
static long loop_wait(enum sw_call call, long nr, long a1, long a2, long a3,
		      long a4, long a5, long a6, int capable, void *caller)
{
	struct sw_wait w;
	long r;

	int e = errno;

	if (sw_loop_wait_begin(&w, call, (int)a1, capable) == SW_WAIT_PASS)
		return sw_raw_syscall(nr, a1, a2, a3, a4, a5, a6);
	/* shim: made again after our own tick's EINTR (call.h) */
	while ((r = sw_raw_syscall(nr, a1, a2, a3, a4, a5, a6)) == -1 &&
	       sw_loop_wait_interrupted(&w, (int)r))
		errno = e;
	sw_loop_wait_end(&w, caller);
	return r;
}

__attribute__((used, noinline)) long
sw_syscall_timed(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	void *caller = SW_CALLER;
	struct sw_call_ctx c;
	enum sw_call call;
	enum sw_cap cap = SW_CAP_FD;
	int fd = (int)a1;
	long r;

	/* shim: libunwind's memory validation while the shim unwinds (stack.c)
	 */
	if (sw_unlikely(sw_tls.in_unwind) && nr == SYS_write) {
		r = sw_stack_unw_write(a1, a2, a3);
		if (r != -2)
			return r;
	}
	switch (nr) {
	case SYS_exit_group:
		sw_exit_underscore((int)a1);
		return sw_raw_syscall(nr, a1, a2, a3, a4, a5, a6);
	case SYS_epoll_wait:
		return loop_wait(SW_CALL_EPOLL_WAIT, nr, a1, a2, a3, a4, a5, a6,
				 a4 != 0, caller);
	case SYS_epoll_pwait:
		return loop_wait(SW_CALL_EPOLL_PWAIT, nr, a1, a2, a3, a4, a5,
				 a6, a4 != 0, caller);
	case SYS_EPOLL_PWAIT2:
		return loop_wait(SW_CALL_EPOLL_PWAIT2, nr, a1, a2, a3, a4, a5,
				 a6, 1, caller);
	}
	/* Everything below is a plain timed call: off a loop turn (nearly
	 * always) it is just the system call. */
	if (sw_likely(!sw_tls.in_turn))
		return sw_raw_syscall(nr, a1, a2, a3, a4, a5, a6);
	switch (nr) {
	case SYS_read:
		call = SW_CALL_READ;
		break;
	case SYS_write:
		call = SW_CALL_WRITE;
		break;
	case SYS_pread64:
		call = SW_CALL_PREAD;
		break;
	case SYS_pwrite64:
		call = SW_CALL_PWRITE;
		break;
	case SYS_readv:
		call = SW_CALL_READV;
		break;
	case SYS_writev:
		call = SW_CALL_WRITEV;
		break;
	case SYS_recvfrom:
		call = SW_CALL_RECVFROM;
		cap = msg_cap(a4);
		break;
	case SYS_recvmsg:
		call = SW_CALL_RECVMSG;
		cap = msg_cap(a3);
		break;
	case SYS_sendto:
		call = SW_CALL_SENDTO;
		cap = msg_cap(a4);
		break;
	case SYS_sendmsg:
		call = SW_CALL_SENDMSG;
		cap = msg_cap(a3);
		break;
	case SYS_connect:
		call = SW_CALL_CONNECT;
		break;
	case SYS_accept:
		call = SW_CALL_ACCEPT;
		break;
	case SYS_accept4:
		call = SW_CALL_ACCEPT4;
		break;
	case SYS_poll:
		call = SW_CALL_POLL;
		fd = -1;
		cap = a3 ? SW_CAP_YES : SW_CAP_NO;
		break;
	case SYS_ppoll:
		call = SW_CALL_PPOLL;
		fd = -1;
		cap = timeout_cap(a3);
		break;
	case SYS_select:
		call = SW_CALL_SELECT;
		fd = -1;
		cap = timeout_cap(a5);
		break;
	case SYS_pselect6:
		call = SW_CALL_PSELECT;
		fd = -1;
		cap = timeout_cap(a5);
		break;
	case SYS_nanosleep:
		call = SW_CALL_NANOSLEEP;
		fd = -1;
		cap = SW_CAP_YES;
		break;
	case SYS_clock_nanosleep:
		call = SW_CALL_CLOCK_NANOSLEEP;
		fd = -1;
		cap = SW_CAP_YES;
		break;
	case SYS_wait4:
		call = SW_CALL_WAIT4;
		fd = -1;
		cap = (a3 & WNOHANG) ? SW_CAP_NO : SW_CAP_YES;
		break;
	case SYS_waitid:
		call = SW_CALL_WAITID;
		fd = -1;
		cap = (a4 & WNOHANG) ? SW_CAP_NO : SW_CAP_YES;
		break;
	case SYS_flock:
		call = SW_CALL_FLOCK;
		cap = (a2 & LOCK_NB) ? SW_CAP_NO : SW_CAP_YES;
		break;
	case SYS_fsync:
		call = SW_CALL_FSYNC;
		cap = SW_CAP_YES;
		break;
	case SYS_fdatasync:
		call = SW_CALL_FDATASYNC;
		cap = SW_CAP_YES;
		break;
	case SYS_futex:
		/* Wakes are most futex calls: never timed. */
		if (!futex_waits(a2))
			return sw_raw_syscall(nr, a1, a2, a3, a4, a5, a6);
		call = SW_CALL_FUTEX;
		fd = -1;
		cap = SW_CAP_YES;
		break;
	case SYS_FUTEX_WAITV:
		call = SW_CALL_FUTEX;
		fd = -1;
		cap = SW_CAP_YES;
		break;
	default:
		return sw_raw_syscall(nr, a1, a2, a3, a4, a5, a6);
	}
	if (sw_call_nosleep(fd, cap) || !sw_call_enter(&c))
		return sw_raw_syscall(nr, a1, a2, a3, a4, a5, a6);
	/* shim: made again after our own tick's EINTR (call.h) */
	do
		r = sw_raw_syscall(nr, a1, a2, a3, a4, a5, a6);
	while (sw_call_interrupted(&c, call, r));
	sw_call_leave(&c, call, fd, cap, caller);
	return r;
}
