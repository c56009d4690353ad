/*
 * wrap_file.c - opening files, syncing and locking them, fcntl and ioctl.
 *
 * open/openat are timed (a slow disk or a FIFO blocks there) but are not
 * blocking-capable by themselves.  fcntl and ioctl also keep the fd cache
 * true (F_SETFL, FIONBIO, F_DUPFD) and treat the trace fd as not open.
 */
#undef _FORTIFY_SOURCE
#include "call.h"
#include "real.h"

#include <fcntl.h>
#include <stdarg.h>

#define NEEDS_MODE(flags) \
	(((flags)&O_CREAT) || ((flags)&__O_TMPFILE) == __O_TMPFILE)

static inline int opened(int fd)
{
	/* glibc opens and closes fds internally (fopen, fclose) without
	 * passing through our wrappers: whatever we knew about this number
	 * is stale. */
	if (fd >= 0)
		sw_fdc_forget(fd);
	return fd;
}

#define SW_OPEN_BODY(real_call)                                           \
	do {                                                              \
		struct sw_call_ctx c_;                                    \
		int r_;                                                   \
		if (sw_likely(!sw_call_begin(&c_)))                       \
			return opened(real_call);                         \
		r_ = opened(real_call);                                   \
		sw_call_end(&c_, SW_CALL_OPEN, -1, SW_CAP_NO, SW_CALLER); \
		return r_;                                                \
	} while (0)

#define SW_OPENAT_BODY(real_call)                                           \
	do {                                                                \
		struct sw_call_ctx c_;                                      \
		int r_;                                                     \
		if (sw_likely(!sw_call_begin(&c_)))                         \
			return opened(real_call);                           \
		r_ = opened(real_call);                                     \
		sw_call_end(&c_, SW_CALL_OPENAT, -1, SW_CAP_NO, SW_CALLER); \
		return r_;                                                  \
	} while (0)

#define GET_MODE(flags, mode)                       \
	do {                                        \
		va_list ap_;                        \
		if (NEEDS_MODE(flags)) {            \
			va_start(ap_, flags);       \
			mode = va_arg(ap_, mode_t); \
			va_end(ap_);                \
		}                                   \
	} while (0)

SW_EXPORT int open(const char *path, int flags, ...)
{
	mode_t mode = 0;

	GET_MODE(flags, mode);
	SW_OPEN_BODY(SW_REAL(open)(path, flags, mode));
}

SW_EXPORT int open64(const char *path, int flags, ...)
{
	mode_t mode = 0;

	GET_MODE(flags, mode);
	SW_OPEN_BODY(SW_REAL(open64)(path, flags, mode));
}

SW_EXPORT int __open_2(const char *path, int flags)
{
	SW_OPEN_BODY(SW_REAL(__open_2)(path, flags));
}

SW_EXPORT int __open64_2(const char *path, int flags)
{
	SW_OPEN_BODY(SW_REAL(__open64_2)(path, flags));
}

SW_EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;

	GET_MODE(flags, mode);
	SW_OPENAT_BODY(SW_REAL(openat)(dirfd, path, flags, mode));
}

SW_EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;

	GET_MODE(flags, mode);
	SW_OPENAT_BODY(SW_REAL(openat64)(dirfd, path, flags, mode));
}

SW_EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
	SW_OPENAT_BODY(SW_REAL(__openat_2)(dirfd, path, flags));
}

SW_EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
	SW_OPENAT_BODY(SW_REAL(__openat64_2)(dirfd, path, flags));
}

SW_EXPORT int fsync(int fd)
{
	SW_TIMED(int, SW_CALL_FSYNC, fd, SW_CAP_YES, SW_REAL(fsync)(fd));
}

SW_EXPORT int fdatasync(int fd)
{
	SW_TIMED(int, SW_CALL_FDATASYNC, fd, SW_CAP_YES,
		 SW_REAL(fdatasync)(fd));
}

SW_EXPORT int msync(void *addr, size_t len, int flags)
{
	SW_TIMED(int, SW_CALL_MSYNC, -1,
		 (flags & MS_SYNC) ? SW_CAP_YES : SW_CAP_NO,
		 SW_REAL(msync)(addr, len, flags));
}

SW_EXPORT int flock(int fd, int op)
{
	SW_TIMED(int, SW_CALL_FLOCK, fd,
		 (op & LOCK_NB) ? SW_CAP_NO : SW_CAP_YES,
		 SW_REAL(flock)(fd, op));
}

SW_EXPORT int lockf(int fd, int cmd, off_t len)
{
	SW_TIMED(int, SW_CALL_LOCKF, fd, cmd == F_LOCK ? SW_CAP_YES : SW_CAP_NO,
		 SW_REAL(lockf)(fd, cmd, len));
}

SW_EXPORT int lockf64(int fd, int cmd, off64_t len)
{
	SW_TIMED(int, SW_CALL_LOCKF, fd, cmd == F_LOCK ? SW_CAP_YES : SW_CAP_NO,
		 SW_REAL(lockf64)(fd, cmd, len));
}

/* Shared by fcntl and fcntl64 (the same function on 64-bit). */
static int do_fcntl(__typeof__(fcntl) *real, int fd, int cmd, void *arg,
		    void *caller)
{
	struct sw_call_ctx c;
	int r;

	if (sw_unlikely(sw_ownfd_owns(fd))) {
		errno = EBADF; /* as if the shim were not there */
		return -1;
	}
	if (cmd == F_SETLKW || cmd == F_OFD_SETLKW) {
		if (sw_likely(!sw_call_begin(&c)))
			return real(fd, cmd, arg);
		r = real(fd, cmd, arg);
		sw_call_end(&c, SW_CALL_FCNTL_SETLKW, fd, SW_CAP_YES, caller);
		return r;
	}
	r = real(fd, cmd, arg);
	if (r < 0)
		return r;
	switch (cmd) {
	case F_SETFL:
		sw_fdc_set_nonblock(fd, ((long)arg & O_NONBLOCK) != 0);
		break;
	case F_GETFL:
		/* Free news: another process sharing the description may
		 * have changed O_NONBLOCK since we looked. */
		sw_fdc_set_nonblock(fd, (r & O_NONBLOCK) != 0);
		break;
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		sw_fdc_copy(fd, r);
		break;
	}
	return r;
}

SW_EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	/* Like glibc: the third argument, if any, is an int or a pointer,
	 * and reading it as a pointer is harmless on this ABI. */
	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return do_fcntl(SW_REAL(fcntl), fd, cmd, arg, SW_CALLER);
}

SW_EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return do_fcntl(SW_REAL(fcntl64), fd, cmd, arg, SW_CALLER);
}

SW_EXPORT int ioctl(int fd, unsigned long request, ...)
{
	va_list ap;
	void *arg;
	int r;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (sw_unlikely(sw_ownfd_owns(fd))) {
		errno = EBADF;
		return -1;
	}
	r = SW_REAL(ioctl)(fd, request, arg);
	if (r == 0 && request == FIONBIO && arg)
		sw_fdc_set_nonblock(fd, *(const int *)arg != 0);
	return r;
}
