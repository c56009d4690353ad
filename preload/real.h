/*
 * real.h - the one resolver of the real functions behind every wrapper
 * of the shim, found with dlsym(RTLD_NEXT) (real.c).
 *
 * lifecycle.c resolves the whole list in the constructor, so that later calls
 * (possibly from a host's signal handler) never run dlsym.  Calls made
 * before the constructor (another library's constructor, a malloc that
 * reads a file while dlsym itself allocates) resolve on first use; a call
 * that re-enters the resolver on the same thread gets a raw-syscall
 * fallback where one exists (read, write, open, close...), else fails with
 * ENOSYS rather than recursing.
 *
 * The pointer types come from libc's own declarations via __typeof__, so
 * a wrapper and its real function cannot disagree.
 */
#ifndef SW_REAL_H
#define SW_REAL_H

#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <unwind.h>

#include "base.h"

/* The fortified entry points have no public declarations without
 * _FORTIFY_SOURCE; these are glibc's. */
ssize_t __read_chk(int fd, void *buf, size_t nbytes, size_t buflen);
ssize_t __pread_chk(int fd, void *buf, size_t nbytes, off_t offset,
		    size_t buflen);
ssize_t __pread64_chk(int fd, void *buf, size_t nbytes, off64_t offset,
		      size_t buflen);
ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags);
ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags,
		       struct sockaddr *addr, socklen_t *addrlen);
int __poll_chk(struct pollfd *fds, nfds_t nfds, int timeout, size_t fdslen);
int __ppoll_chk(struct pollfd *fds, nfds_t nfds, const struct timespec *ts,
		const sigset_t *ss, size_t fdslen);
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);
int __vfprintf_chk(FILE *f, int flag, const char *fmt, va_list ap);
int __vprintf_chk(int flag, const char *fmt, va_list ap);
/* Declared only for older standards. */
sighandler_t bsd_signal(int sig, sighandler_t handler);
/* The C++ runtime's, declared in no C header. */
void *__cxa_begin_catch(void *exc);

/* Every real function a wrapper calls. */
#define SW_REAL_LIST(X)           \
	X(nanosleep)              \
	X(clock_nanosleep)        \
	X(usleep)                 \
	X(sleep)                  \
	X(read)                   \
	X(write)                  \
	X(pread)                  \
	X(pread64)                \
	X(pwrite)                 \
	X(pwrite64)               \
	X(readv)                  \
	X(writev)                 \
	X(__read_chk)             \
	X(__pread_chk)            \
	X(__pread64_chk)          \
	X(recv)                   \
	X(recvfrom)               \
	X(recvmsg)                \
	X(send)                   \
	X(sendto)                 \
	X(sendmsg)                \
	X(__recv_chk)             \
	X(__recvfrom_chk)         \
	X(connect)                \
	X(accept)                 \
	X(accept4)                \
	X(socket)                 \
	X(socketpair)             \
	X(getaddrinfo)            \
	X(gethostbyname)          \
	X(gethostbyname_r)        \
	X(getnameinfo)            \
	X(poll)                   \
	X(ppoll)                  \
	X(__poll_chk)             \
	X(__ppoll_chk)            \
	X(select)                 \
	X(pselect)                \
	X(open)                   \
	X(open64)                 \
	X(openat)                 \
	X(openat64)               \
	X(__open_2)               \
	X(__open64_2)             \
	X(__openat_2)             \
	X(__openat64_2)           \
	X(fsync)                  \
	X(fdatasync)              \
	X(msync)                  \
	X(flock)                  \
	X(lockf)                  \
	X(lockf64)                \
	X(fcntl)                  \
	X(fcntl64)                \
	X(ioctl)                  \
	X(waitpid)                \
	X(wait4)                  \
	X(waitid)                 \
	X(wait)                   \
	X(system)                 \
	X(popen)                  \
	X(sem_wait)               \
	X(sem_timedwait)          \
	X(sem_clockwait)          \
	X(pthread_mutex_lock)     \
	X(pthread_cond_wait)      \
	X(pthread_cond_timedwait) \
	X(pthread_cond_clockwait) \
	X(pthread_rwlock_rdlock)  \
	X(pthread_rwlock_wrlock)  \
	X(pthread_join)           \
	X(close)                  \
	X(close_range)            \
	X(closefrom)              \
	X(dup)                    \
	X(dup2)                   \
	X(dup3)                   \
	X(pipe)                   \
	X(pipe2)                  \
	X(epoll_wait)             \
	X(epoll_pwait)            \
	X(epoll_pwait2)           \
	X(dlopen)                 \
	X(dlmopen)                \
	X(dlclose)                \
	X(dl_iterate_phdr)        \
	X(syscall)                \
	X(pthread_create)         \
	X(setuid)                 \
	X(seteuid)                \
	X(setreuid)               \
	X(setresuid)              \
	X(setenv)                 \
	X(putenv)                 \
	X(unsetenv)               \
	X(clearenv)               \
	X(sigaction)              \
	X(signal)                 \
	X(bsd_signal)             \
	X(ssignal)                \
	X(sysv_signal)            \
	X(__sysv_signal)          \
	X(sigset)                 \
	X(pthread_sigmask)        \
	X(sigprocmask)            \
	X(fwrite)                 \
	X(fwrite_unlocked)        \
	X(fputs)                  \
	X(fputs_unlocked)         \
	X(fputc)                  \
	X(fputc_unlocked)         \
	X(putc)                   \
	X(putc_unlocked)          \
	X(putchar)                \
	X(putchar_unlocked)       \
	X(puts)                   \
	X(vfprintf)               \
	X(vprintf)                \
	X(__vfprintf_chk)         \
	X(__vprintf_chk)          \
	X(fflush)                 \
	X(fflush_unlocked)

/*
 * The exception unwinder's entry points (wrap_unwind.c).  A C++ library
 * loaded RTLD_LOCAL (a Python extension) has its runtime only in its own
 * scope, so these are also looked up in the calling object's scope, then
 * under the usual sonames (SW_REAL_UNWINDER).  The constructor finds what
 * the global scope has; the rest on first use.
 */
#define SW_REAL_UNWIND_LIST(X)       \
	X(_Unwind_RaiseException)    \
	X(_Unwind_Resume)            \
	X(_Unwind_Resume_or_Rethrow) \
	X(_Unwind_ForcedUnwind)      \
	X(_Unwind_Backtrace)         \
	X(_Unwind_DeleteException)   \
	X(__cxa_begin_catch)

/* sigset is deprecated, and naming it is enough for a warning: the
 * shim wraps it all the same, since programs still call it. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#define SW_REAL_DECLARE(name) extern __typeof__(name) *sw_real_##name;
SW_REAL_LIST(SW_REAL_DECLARE)
SW_REAL_UNWIND_LIST(SW_REAL_DECLARE)
#undef SW_REAL_DECLARE
#pragma GCC diagnostic pop

/*
 * Resolve one real function (slow path of SW_REAL).  Never returns NULL:
 * when dlsym cannot help it returns a raw-syscall fallback or a function
 * that fails with ENOSYS.
 */
void *sw_real_resolve(void **slot, const char *name);
/* Resolve the whole list (constructor). */
void sw_real_init(void);
/* The unwinder's slow path: the global scope, then the scope of the
 * object at `caller`, then libgcc_s, libstdc++, libc++abi, libunwind.
 * Without the real unwinder the host cannot go on: not found, it says so
 * on stderr and aborts. */
void *sw_real_resolve_unwinder(void **slot, const char *name, void *caller);

/*
 * A system call without libc: for the fallbacks above and for the
 * syscall() wrapper's slow path (wrap_fd.c), which must not depend on
 * resolving anything.  Returns like syscall(2): -1 with errno set.
 */
static inline long sw_raw_syscall(long n, long a1, long a2, long a3, long a4,
				  long a5, long a6)
{
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;
	register long r9 __asm__("r9") = a6;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8),
			   "r"(r9)
			 : "rcx", "r11", "memory");
	if (ret < 0 && ret > -4096) {
		errno = (int)-ret;
		return -1;
	}
	return ret;
}

#define SW_REAL_UNWINDER(name, caller)                       \
	(sw_likely(sw_real_##name != NULL)                   \
	     ? sw_real_##name                                \
	     : (__typeof__(name) *)sw_real_resolve_unwinder( \
		   (void **)&sw_real_##name, #name, (caller)))

#define SW_REAL(name)                                                        \
	(sw_likely(sw_real_##name != NULL)                                   \
	     ? sw_real_##name                                                \
	     : (__typeof__(name) *)sw_real_resolve((void **)&sw_real_##name, \
						   #name))

#endif
