/*
 * wrap_fd.c - closing and duplicating fds, pipes.
 *
 * The trace fd is not the program's: closing it fails with EBADF as if it
 * were not open, close_range/closefrom close everything around it, and
 * dup2/dup3 onto its number first move it elsewhere.  A program that
 * closes every fd and opens its own data file can never receive our
 * bytes.  Closing a loop's epoll fd ends that loop (loop.c).  All of
 * these keep the fd cache true.
 */
#undef _FORTIFY_SOURCE
#include "core.h"
#include "fdcache.h"
#include "real.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/close_range.h>

static inline void before_close(int fd)
{
	if (sw_unlikely((sw_fdc_peek(fd) & SW_FDC_LOOP) ||
			(unsigned)fd >= SW_FDC_SIZE))
		sw_loop_fd_closed(fd);
}

SW_EXPORT int close(int fd)
{
	int r;

	if (sw_unlikely(sw_writer_owns_fd(fd))) {
		errno = EBADF;
		return -1;
	}
	before_close(fd);
	r = SW_REAL(close)(fd);
	if (sw_fdc_peek(fd))
		sw_fdc_forget(fd);
	return r;
}

static int close_range_part(unsigned first, unsigned last, int flags)
{
	int r;

	if (!(flags & CLOSE_RANGE_CLOEXEC))
		sw_loop_range_closed(first, last);
	r = SW_REAL(close_range)(first, last, flags);
	if (r == 0 && !(flags & CLOSE_RANGE_CLOEXEC))
		sw_fdc_forget_range(first, last);
	return r;
}

SW_EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
	int ours = sw_writer_fd(), r = 0;

	if (ours < 0 || (unsigned)ours < first || (unsigned)ours > last)
		return close_range_part(first, last, flags);
	/* Close everything around the trace fd. */
	if ((unsigned)ours > first)
		r = close_range_part(first, (unsigned)ours - 1, flags);
	if (r == 0 && (unsigned)ours < last)
		r = close_range_part((unsigned)ours + 1, last, flags);
	return r;
}

SW_EXPORT void closefrom(int lowfd)
{
	unsigned low = lowfd < 0 ? 0 : (unsigned)lowfd;
	int ours = sw_writer_fd();

	if (ours >= 0 && (unsigned)ours >= low) {
		if ((unsigned)ours > low)
			close_range_part(low, (unsigned)ours - 1, 0);
		low = (unsigned)ours + 1;
	}
	sw_loop_range_closed(low, UINT_MAX);
	SW_REAL(closefrom)((int)low);
	sw_fdc_forget_range(low, UINT_MAX);
}

SW_EXPORT int dup(int fd)
{
	int r;

	if (sw_unlikely(sw_writer_owns_fd(fd))) {
		errno = EBADF;
		return -1;
	}
	r = SW_REAL(dup)(fd);
	if (r >= 0)
		sw_fdc_copy(fd, r);
	return r;
}

/* dup2/dup3 onto newfd: our fd moves away first, a loop fd ends. */
static inline void before_dup_onto(int newfd)
{
	if (sw_unlikely(sw_writer_owns_fd(newfd)))
		sw_writer_evacuate(newfd);
	before_close(newfd);
}

SW_EXPORT int dup2(int oldfd, int newfd)
{
	int r;

	if (sw_unlikely(sw_writer_owns_fd(oldfd))) {
		errno = EBADF;
		return -1;
	}
	if (oldfd != newfd)
		before_dup_onto(newfd);
	r = SW_REAL(dup2)(oldfd, newfd);
	if (r >= 0 && oldfd != newfd)
		sw_fdc_copy(oldfd, newfd);
	return r;
}

SW_EXPORT int dup3(int oldfd, int newfd, int flags)
{
	int r;

	if (sw_unlikely(sw_writer_owns_fd(oldfd))) {
		errno = EBADF;
		return -1;
	}
	if (oldfd != newfd)
		before_dup_onto(newfd);
	r = SW_REAL(dup3)(oldfd, newfd, flags);
	if (r >= 0)
		sw_fdc_copy(oldfd, newfd);
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
	int r = SW_REAL(pipe2)(fds, flags);

	if (r == 0) {
		sw_fdc_set(fds[0], SW_FD_PIPE, flags & O_NONBLOCK);
		sw_fdc_set(fds[1], SW_FD_PIPE, flags & O_NONBLOCK);
	}
	return r;
}
