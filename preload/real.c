/*
 * real.c - lazy dlsym(RTLD_NEXT) of the real functions (see real.h).
 */
#include "real.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/syscall.h>

#define SW_REAL_DEFINE(name) __typeof__(name) *sw_real_##name;
SW_REAL_LIST(SW_REAL_DEFINE)
#undef SW_REAL_DEFINE

/* dlsym may allocate, and the host's malloc may call read/open (a malloc
 * that reads its config file): that call must not resolve again. */
static SW_TLS int resolving;

/* ---- fallbacks for a call that arrives while dlsym is running ----------- */

static ssize_t fb_read(int fd, void *buf, size_t n)
{
	return sw_raw_syscall(SYS_read, fd, (long)buf, (long)n, 0, 0, 0);
}

static ssize_t fb_write(int fd, const void *buf, size_t n)
{
	return sw_raw_syscall(SYS_write, fd, (long)buf, (long)n, 0, 0, 0);
}

static ssize_t fb_pread(int fd, void *buf, size_t n, off_t off)
{
	return sw_raw_syscall(SYS_pread64, fd, (long)buf, (long)n, off, 0, 0);
}

static ssize_t fb_pwrite(int fd, const void *buf, size_t n, off_t off)
{
	return sw_raw_syscall(SYS_pwrite64, fd, (long)buf, (long)n, off, 0, 0);
}

static int fb_close(int fd)
{
	return (int)sw_raw_syscall(SYS_close, fd, 0, 0, 0, 0, 0);
}

static int fb_open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;

	if (flags & (O_CREAT | __O_TMPFILE)) {
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	return (int)sw_raw_syscall(SYS_openat, AT_FDCWD, (long)path, flags,
				   mode, 0, 0);
}

static int fb_openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;

	if (flags & (O_CREAT | __O_TMPFILE)) {
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	return (int)sw_raw_syscall(SYS_openat, dirfd, (long)path, flags, mode,
				   0, 0);
}

/* The rest fail cleanly: -1/ENOSYS, or NULL for pointer results. */
static long fb_enosys(void)
{
	errno = ENOSYS;
	return -1;
}

static void *fb_enosys_null(void)
{
	errno = ENOSYS;
	return NULL;
}

static void *fallback(const char *name)
{
	static const struct {
		const char *name;
		void *fn;
	} table[] = {
	    {"read", (void *)fb_read},
	    {"write", (void *)fb_write},
	    {"pread", (void *)fb_pread},
	    {"pread64", (void *)fb_pread},
	    {"pwrite", (void *)fb_pwrite},
	    {"pwrite64", (void *)fb_pwrite},
	    {"close", (void *)fb_close},
	    {"open", (void *)fb_open},
	    {"open64", (void *)fb_open},
	    {"openat", (void *)fb_openat},
	    {"openat64", (void *)fb_openat},
	    {"popen", (void *)fb_enosys_null},
	    {"gethostbyname", (void *)fb_enosys_null},
	    {"dlopen", (void *)fb_enosys_null},
	    {"dlmopen", (void *)fb_enosys_null},
	};
	size_t i;

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		if (strcmp(table[i].name, name) == 0)
			return table[i].fn;
	}
	return (void *)fb_enosys;
}

void *sw_real_resolve(void **slot, const char *name)
{
	void *fn;
	int saved = errno;

	if (resolving)
		return fallback(name);
	resolving = 1;
	fn = dlsym(RTLD_NEXT, name);
	resolving = 0;
	errno = saved;
	if (!fn)
		return fallback(
		    name); /* not cached: a later call may find it */
	__atomic_store_n(slot, fn, __ATOMIC_RELEASE);
	return fn;
}

void sw_real_init(void)
{
#define SW_REAL_RESOLVE(name) \
	if (!sw_real_##name)  \
		(void)sw_real_resolve((void **)&sw_real_##name, #name);
	SW_REAL_LIST(SW_REAL_RESOLVE)
#undef SW_REAL_RESOLVE
}
