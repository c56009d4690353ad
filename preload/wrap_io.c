/*
 * wrap_io.c - read/write and kin, with their 64-bit and fortified (_chk)
 * entry points.  Blocking-capable when the fd is a file or block device,
 * or a socket/pipe/tty without O_NONBLOCK (fdcache.c).
 */
#undef _FORTIFY_SOURCE
#include "call.h"
#include "real.h"

SW_EXPORT ssize_t read(int fd, void *buf, size_t n)
{
	SW_TIMED(ssize_t, SW_CALL_READ, fd, SW_CAP_FD,
		 SW_REAL(read)(fd, buf, n));
}

SW_EXPORT ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
	SW_TIMED(ssize_t, SW_CALL_READ, fd, SW_CAP_FD,
		 SW_REAL(__read_chk)(fd, buf, n, buflen));
}

SW_EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
	SW_TIMED(ssize_t, SW_CALL_WRITE, fd, SW_CAP_FD,
		 SW_REAL(write)(fd, buf, n));
}

SW_EXPORT ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
	SW_TIMED(ssize_t, SW_CALL_PREAD, fd, SW_CAP_FD,
		 SW_REAL(pread)(fd, buf, n, off));
}

SW_EXPORT ssize_t pread64(int fd, void *buf, size_t n, off64_t off)
{
	SW_TIMED(ssize_t, SW_CALL_PREAD, fd, SW_CAP_FD,
		 SW_REAL(pread64)(fd, buf, n, off));
}

SW_EXPORT ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off,
			      size_t buflen)
{
	SW_TIMED(ssize_t, SW_CALL_PREAD, fd, SW_CAP_FD,
		 SW_REAL(__pread_chk)(fd, buf, n, off, buflen));
}

SW_EXPORT ssize_t __pread64_chk(int fd, void *buf, size_t n, off64_t off,
				size_t buflen)
{
	SW_TIMED(ssize_t, SW_CALL_PREAD, fd, SW_CAP_FD,
		 SW_REAL(__pread64_chk)(fd, buf, n, off, buflen));
}

SW_EXPORT ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	SW_TIMED(ssize_t, SW_CALL_PWRITE, fd, SW_CAP_FD,
		 SW_REAL(pwrite)(fd, buf, n, off));
}

SW_EXPORT ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
	SW_TIMED(ssize_t, SW_CALL_PWRITE, fd, SW_CAP_FD,
		 SW_REAL(pwrite64)(fd, buf, n, off));
}

SW_EXPORT ssize_t readv(int fd, const struct iovec *iov, int iovcnt)
{
	SW_TIMED(ssize_t, SW_CALL_READV, fd, SW_CAP_FD,
		 SW_REAL(readv)(fd, iov, iovcnt));
}

SW_EXPORT ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
	SW_TIMED(ssize_t, SW_CALL_WRITEV, fd, SW_CAP_FD,
		 SW_REAL(writev)(fd, iov, iovcnt));
}
