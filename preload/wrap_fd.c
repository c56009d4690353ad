/*
 * wrap_fd.c - closing and duplicating fds, pipes.
 *
 * The shim's own fds (ownfd.c) are not the program's: closing one fails
 * with EBADF as if it were not open, close_range/closefrom close
 * everything around them, and dup2/dup3 onto one first move it elsewhere.
 * libunwind's own pipe2() and close() calls (made while the shim unwinds,
 * sw_tls.in_unwind) go to stack.c, which keeps its pipe in that range.  A
 * program that closes every fd and opens its own data file can never receive
 * our bytes.  Closing a loop's epoll fd ends that loop (loop.c).  All of these
 * keep the fd cache true.
 */
#undef _FORTIFY_SOURCE
#include "call.h"
#include "real.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/close_range.h>
#include <sys/syscall.h>

/* Runs before the real call, so it must leave errno alone: a close that
 * succeeds does not touch it. */
static inline void before_close(int fd)
{
	if (sw_unlikely((sw_fdc_peek(fd) & SW_FDC_LOOP) ||
			(unsigned)fd >= SW_FDC_SIZE)) {
		int saved = errno;

		sw_loop_fd_closed(fd);
		errno = saved;
	}
}

SW_EXPORT int close(int fd)
{
	int r;

	if (sw_unlikely(sw_tls.in_unwind))
		return sw_stack_unw_close(fd);
	if (sw_unlikely(sw_ownfd_owns(fd))) {
		errno = EBADF;
		return -1;
	}
	before_close(fd);
	r = SW_REAL(close)(fd);
	if (sw_fdc_peek(fd))
		sw_fdc_forget(fd);
	return r;
}

/* `raw`: for syscall(SYS_close_range, ...), which must not need libc's
 * close_range (older glibc has none). */
static int close_range_part(unsigned first, unsigned last, int flags, int raw)
{
	int r;

	if (!(flags & CLOSE_RANGE_CLOEXEC)) {
		int saved = errno;

		sw_loop_range_closed(first, last);
		errno = saved;
	}
	r = raw ? (int)sw_raw_syscall(SYS_close_range, first, last, flags, 0, 0,
				      0)
		: SW_REAL(close_range)(first, last, flags);
	if (r == 0 && !(flags & CLOSE_RANGE_CLOEXEC))
		sw_fdc_forget_range(first, last);
	return r;
}

static int do_close_range(unsigned first, unsigned last, int flags, int raw)
{
	int ours[64], n = sw_ownfd_sorted(ours, 64), i, r = 0;
	unsigned lo = first;

	/* Close everything around the shim's own fds. */
	for (i = 0; i < n && r == 0; i++) {
		unsigned fd = (unsigned)ours[i];

		if (fd < lo || fd > last)
			continue;
		if (fd > lo)
			r = close_range_part(lo, fd - 1, flags, raw);
		if (fd == UINT_MAX)
			return r;
		lo = fd + 1;
	}
	if (r == 0 && lo <= last)
		r = close_range_part(lo, last, flags, raw);
	return r;
}

SW_EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
	return do_close_range(first, last, flags, 0);
}

SW_EXPORT void closefrom(int lowfd)
{
	int ours[64], n = sw_ownfd_sorted(ours, 64), i, saved = errno;
	unsigned low = lowfd < 0 ? 0 : (unsigned)lowfd;

	for (i = 0; i < n; i++) {
		unsigned fd = (unsigned)ours[i];

		if (fd < low)
			continue;
		if (fd > low)
			close_range_part(low, fd - 1, 0, 0);
		low = fd + 1;
	}
	sw_loop_range_closed(low, UINT_MAX);
	errno = saved;
	SW_REAL(closefrom)((int)low);
	sw_fdc_forget_range(low, UINT_MAX);
}

SW_EXPORT int dup(int fd)
{
	int r;

	if (sw_unlikely(sw_ownfd_owns(fd))) {
		errno = EBADF;
		return -1;
	}
	r = SW_REAL(dup)(fd);
	if (r >= 0)
		sw_fdc_copy(fd, r);
	return r;
}

/* dup2/dup3 onto newfd: our fd moves away first. */
static inline void before_dup_onto(int newfd)
{
	if (sw_unlikely(sw_ownfd_owns(newfd))) {
		int saved = errno;

		sw_ownfd_evacuate(newfd);
		errno = saved;
	}
}

/* ...and a loop whose epoll fd it replaced ends, once it did (a dup2
 * that fails leaves newfd alone). */
static inline void after_dup_onto(int oldfd, int newfd, int r)
{
	if (r < 0 || oldfd == newfd)
		return;
	before_close(newfd);
	sw_fdc_copy(oldfd, newfd);
}

SW_EXPORT int dup2(int oldfd, int newfd)
{
	int r;

	if (sw_unlikely(sw_ownfd_owns(oldfd))) {
		errno = EBADF;
		return -1;
	}
	if (oldfd != newfd)
		before_dup_onto(newfd);
	r = SW_REAL(dup2)(oldfd, newfd);
	after_dup_onto(oldfd, newfd, r);
	return r;
}

SW_EXPORT int dup3(int oldfd, int newfd, int flags)
{
	int r;

	if (sw_unlikely(sw_ownfd_owns(oldfd))) {
		errno = EBADF;
		return -1;
	}
	if (oldfd != newfd)
		before_dup_onto(newfd);
	r = SW_REAL(dup3)(oldfd, newfd, flags);
	after_dup_onto(oldfd, newfd, r);
	return r;
}

SW_EXPORT int pipe(int fds[2])
{
	int r = SW_REAL(pipe)(fds);

	if (r == 0) {
		sw_fdc_set(fds[0], SW_FD_PIPE, 0);
		sw_fdc_set(fds[1], SW_FD_PIPE, 0);
	}
	return r;
}

SW_EXPORT int pipe2(int fds[2], int flags)
{
	int r;

	if (sw_unlikely(sw_tls.in_unwind))
		return sw_stack_unw_pipe2(fds, flags);
	r = SW_REAL(pipe2)(fds, flags);

	if (r == 0) {
		sw_fdc_set(fds[0], SW_FD_PIPE, flags & O_NONBLOCK);
		sw_fdc_set(fds[1], SW_FD_PIPE, flags & O_NONBLOCK);
	}
	return r;
}

/*
 * syscall(2) itself: libuv closes fds with syscall(SYS_close) (so do some
 * daemons), which would end a loop or close the trace fd behind our back.
 * An assembly stub sends close, dup2, dup3 and close_range to the C path
 * below and tail-jumps to libc's syscall for every other number: no stack
 * frame of ours, so even syscall(SYS_vfork) or a clone that returns twice
 * behaves exactly as without the shim.
 */
__attribute__((used)) long sw_syscall_slow(long nr, long a1, long a2, long a3,
					   long a4, long a5, long a6)
{
	int fd = (int)a1, newfd = (int)a2;
	long r;

	switch (nr) {
	case SYS_close:
		if (sw_unlikely(sw_ownfd_owns(fd))) {
			errno = EBADF;
			return -1;
		}
		before_close(fd);
		r = sw_raw_syscall(SYS_close, fd, 0, 0, 0, 0, 0);
		if (sw_fdc_peek(fd))
			sw_fdc_forget(fd);
		return r;
	case SYS_dup2:
	case SYS_dup3:
		if (sw_unlikely(sw_ownfd_owns(fd))) {
			errno = EBADF;
			return -1;
		}
		if (fd != newfd)
			before_dup_onto(newfd);
		r = sw_raw_syscall(nr, a1, a2, a3, 0, 0, 0);
		after_dup_onto(fd, newfd, (int)r);
		return r;
	case SYS_close_range:
		return do_close_range((unsigned)a1, (unsigned)a2, (int)a3, 1);
	default:
		/* Only before the real syscall() is resolved. */
		return sw_raw_syscall(nr, a1, a2, a3, a4, a5, a6);
	}
}

__asm__(".text\n"
	".globl syscall\n"
	".type syscall, @function\n"
	".p2align 4\n"
	"syscall:\n"
	".cfi_startproc\n"
	"	endbr64\n"
	"	cmpq $3, %rdi\n" /* SYS_close */
	"	je 1f\n"
	"	cmpq $33, %rdi\n" /* SYS_dup2 */
	"	je 1f\n"
	"	cmpq $292, %rdi\n" /* SYS_dup3 */
	"	je 1f\n"
	"	cmpq $436, %rdi\n" /* SYS_close_range */
	"	je 1f\n"
	/* numbers that can sleep go to wrap_syscall.c */
	"	cmpq $511, %rdi\n"
	"	ja 2f\n"
	"	btq %rdi, sw_syscall_timed_map(%rip)\n"
	"	jc sw_syscall_timed\n"
	"2:	movq sw_real_syscall(%rip), %rax\n"
	"	testq %rax, %rax\n"
	"	jz 1f\n"
	"	jmp *%rax\n"
	"1:	jmp sw_syscall_slow\n"
	".cfi_endproc\n"
	".size syscall, .-syscall\n");
