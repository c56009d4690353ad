/*
 * real.c - the one resolver of the real functions (real.h): dlsym of the
 * next definition, fallbacks while dlsym runs, the unwinder's wider search.
 */
#include "real.h"

#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/syscall.h>

#include "thread.h"

#pragma GCC diagnostic ignored "-Wdeprecated-declarations" /* sigset */
#define SW_REAL_DEFINE(name) __typeof__(name) *sw_real_##name;
SW_REAL_LIST(SW_REAL_DEFINE)
SW_REAL_UNWIND_LIST(SW_REAL_DEFINE)
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

/* ---- the exception unwinder ---------------------------------------------- */

static void die_unresolved(const char *name)
{
	static const char msg[] = "stallwatch: cannot find the real ";

	(void)sw_raw_syscall(SYS_write, 2, (long)msg, sizeof(msg) - 1, 0, 0, 0);
	(void)sw_raw_syscall(SYS_write, 2, (long)name, (long)strlen(name), 0, 0,
			     0);
	(void)sw_raw_syscall(SYS_write, 2, (long)"\n", 1, 0, 0, 0);
	abort();
}

void *sw_real_resolve_unwinder(void **slot, const char *name, void *caller)
{
	static const char *const sonames[] = {
	    "libgcc_s.so.1",
	    "libstdc++.so.6",
	    "libc++abi.so.1",
	    "libunwind.so.1",
	};
	void *p = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
	Dl_info info;
	size_t i;

	if (p)
		return p;
	/* dlopen(RTLD_NOLOAD) below must reach the loader, not our dlopen
	 * wrapper's bookkeeping. */
	sw_tls.guard++;
	p = dlsym(RTLD_NEXT, name);
	if (!p && caller && dladdr(caller, &info) && info.dli_fname) {
		void *h = dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD);

		if (h) {
			p = dlsym(h, name);
			dlclose(h);
		}
	}
	for (i = 0; !p && i < sizeof(sonames) / sizeof(sonames[0]); i++) {
		void *h = dlopen(sonames[i], RTLD_NOW | RTLD_NOLOAD);

		if (h) {
			p = dlsym(h, name);
			dlclose(h);
		}
	}
	sw_tls.guard--;
	if (!p)
		die_unresolved(name);
	__atomic_store_n(slot, p, __ATOMIC_RELEASE);
	return p;
}

void sw_real_init(void)
{
#define SW_REAL_RESOLVE(name) \
	if (!sw_real_##name)  \
		(void)sw_real_resolve((void **)&sw_real_##name, #name);
	SW_REAL_LIST(SW_REAL_RESOLVE)
#undef SW_REAL_RESOLVE
	/* The unwinder: what the global scope has now (a C program has
	 * none), so that a throw rarely runs dlsym. */
#define SW_REAL_TRY(name)    \
	if (!sw_real_##name) \
		*(void **)&sw_real_##name = dlsym(RTLD_NEXT, #name);
	SW_REAL_UNWIND_LIST(SW_REAL_TRY)
#undef SW_REAL_TRY
}
