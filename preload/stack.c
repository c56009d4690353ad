/*
 * stack.c - native stacks: raw return addresses, symbolized offline.
 *
 * libunwind is dlopen'ed RTLD_LOCAL, never linked: libunwind.so.8 also
 * exports _Unwind_*, and linked into a preloaded library it would take
 * over the host's C++ exception handling from libgcc_s.  Its functions are
 * looked up by their real (prefixed) names, e.g. _ULx86_64_init_local.
 *
 * The per-thread cache policy is set once; every loop thread is warmed up
 * outside signal handlers (the first unwind on a thread takes locks and
 * may allocate).  Without libunwind, stacks come from the frame-pointer
 * chain within the thread's stack bounds, or are just the caller.
 */
#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "stack.h"
#include "call.h"
#include "writer.h"
#include "real.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <ucontext.h>

#define SW_STR2(x) #x
#define SW_STR(x)  SW_STR2(x)

static struct {
	_Atomic int state; /* 0 untried, 1 ready, -1 unavailable */
	int (*backtrace)(void **, int);
	__typeof__(unw_init_local2) *init_local2;
	__typeof__(unw_step) *step;
	__typeof__(unw_get_reg) *get_reg;
	__typeof__(unw_set_caching_policy) *set_caching_policy;
	unw_addr_space_t *local_as;
} unw;

/*
 * libunwind's memory validation, without a pipe.  libunwind 1.6 checks an
 * address by writing one byte from it into a pipe (EFAULT: not readable),
 * opened with pipe2() on the two lowest free fds, and closed and reopened
 * on those numbers whenever a read on it fails: numbers that may be, or
 * become, the program's (doc/design.md, "Living inside the host").  While
 * the shim unwinds (sw_tls.in_unwind), its pipe2() gets two numbers no
 * process can have open, so every read on them fails with EBADF and
 * touches nothing; its close() of them does nothing; and its
 * syscall(SYS_write, ...) on the write end is answered here with a
 * process_vm_readv of our own memory, which fails with EFAULT exactly
 * where the pipe write would.  No descriptor is created at all.
 */
#define UNW_FAKE_READ  0x7ffffff0
#define UNW_FAKE_WRITE 0x7ffffff1

int sw_stack_unw_pipe2(int fds[2], int flags)
{
	(void)flags;
	fds[0] = UNW_FAKE_READ;
	fds[1] = UNW_FAKE_WRITE;
	return 0;
}

int sw_stack_unw_close(int fd)
{
	if (fd == UNW_FAKE_READ || fd == UNW_FAKE_WRITE)
		return 0;
	/* Anything else is not the shim's to close. */
	errno = EBADF;
	return -1;
}

long sw_stack_unw_write(long fd, long addr, long len)
{
	char buf[8];
	struct iovec local = {buf, 0}, remote = {(void *)addr, 0};
	long n;

	if (fd != UNW_FAKE_WRITE)
		return -2; /* not libunwind's validation: a real write */
	if (len < 0 || len > (long)sizeof(buf)) {
		errno = EINVAL;
		return -1;
	}
	local.iov_len = remote.iov_len = (size_t)len;
	n = syscall(SYS_process_vm_readv, (pid_t)syscall(SYS_getpid), &local, 1,
		    &remote, 1, 0);
	if (n == len)
		return len;
	errno = EFAULT;
	return -1;
}

/* The thread's stack, for bounds-checked frame-pointer walks. */
static SW_TLS uintptr_t stack_lo, stack_hi;

int sw_stack_init(void)
{
	void *h;
	int expected = 0;

	if (atomic_load(&unw.state))
		return atomic_load(&unw.state) > 0 ? 0 : -1;
	sw_tls.guard++;
	/* Its set-up (unw_set_caching_policy runs tdep_init) opens the
	 * validation pipe: in_unwind sends that to sw_stack_unw_pipe2. */
	sw_tls.in_unwind++;
	sw_loader_enter();
	h = SW_REAL(dlopen)("libunwind.so.8", RTLD_NOW | RTLD_LOCAL);
	sw_loader_leave();
	if (h) {
		unw.backtrace =
		    (int (*)(void **, int))dlsym(h, "unw_backtrace");
		unw.init_local2 = (__typeof__(unw.init_local2))dlsym(
		    h, SW_STR(unw_init_local2));
		unw.step = (__typeof__(unw.step))dlsym(h, SW_STR(unw_step));
		unw.get_reg =
		    (__typeof__(unw.get_reg))dlsym(h, SW_STR(unw_get_reg));
		unw.set_caching_policy =
		    (__typeof__(unw.set_caching_policy))dlsym(
			h, SW_STR(unw_set_caching_policy));
		unw.local_as =
		    (unw_addr_space_t *)dlsym(h, SW_STR(unw_local_addr_space));
	}
	if (h && unw.backtrace && unw.init_local2 && unw.step && unw.get_reg &&
	    unw.set_caching_policy && unw.local_as) {
		unw.set_caching_policy(*unw.local_as, UNW_CACHE_PER_THREAD);
		if (atomic_compare_exchange_strong(&unw.state, &expected, 1))
			(void)0;
	} else {
		atomic_store(&unw.state, -1);
	}
	sw_tls.in_unwind--;
	sw_tls.guard--;
	return atomic_load(&unw.state) > 0 ? 0 : -1;
}

static void note_stack_bounds(void)
{
	pthread_attr_t attr;
	void *addr;
	size_t size;

	if (pthread_getattr_np(pthread_self(), &attr) != 0)
		return;
	if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
		stack_lo = (uintptr_t)addr;
		stack_hi = (uintptr_t)addr + size;
	}
	pthread_attr_destroy(&attr);
}

void sw_stack_warm_thread(void)
{
	uint64_t ips[64];
	int trunc;

	if (sw_tls.unwind_warm)
		return;
	sw_tls.guard++;
	/* Only the frame-pointer walk needs them, and for the main thread
	 * glibc reads /proc/self/maps to find them: a descriptor, for a
	 * moment, that another thread of the program could have wanted. */
	if (atomic_load(&unw.state) <= 0)
		note_stack_bounds();
	/* The first unwind on a thread sets up libunwind's per-thread cache
	 * and reads the unwind tables of the modules on the stack. */
	(void)sw_stack_capture(ips, 64, 0, &trunc);
	sw_tls.unwind_warm = 1;
	sw_tls.guard--;
}

/* Frame-pointer walk from fp, bounded by the thread's stack. */
static int fp_walk(uintptr_t fp, uint64_t *ips, int max, int *truncated)
{
	int n = 0;

	if (!stack_lo)
		return 0;
	while (n < max) {
		uintptr_t next, ret;

		if (fp < stack_lo || fp + 16 > stack_hi || (fp & 7))
			return n;
		next = ((uintptr_t *)fp)[0];
		ret = ((uintptr_t *)fp)[1];
		if (!ret)
			return n;
		ips[n++] = ret;
		if (next <= fp)
			return n;
		fp = next;
	}
	*truncated = 1;
	return n;
}

__attribute__((noinline)) int sw_stack_capture(uint64_t *ips, int max, int skip,
					       int *truncated)
{
	void *buf[SW_MAX_IPS + 16];
	int n, want, drop;

	*truncated = 0;
	if (max <= 0)
		return 0;
	if (max > SW_MAX_IPS)
		max = SW_MAX_IPS;
	if (atomic_load_explicit(&unw.state, memory_order_relaxed) <= 0)
		return fp_walk((uintptr_t)__builtin_frame_address(0), ips, max,
			       truncated);
	/* unw_backtrace's first entry is inside unw_backtrace itself. */
	drop = 1 + (skip > 0 ? skip : 0);
	want = max + drop + 1;
	if (want > (int)(sizeof(buf) / sizeof(buf[0])))
		want = (int)(sizeof(buf) / sizeof(buf[0]));
	sw_tls.guard++;
	sw_tls.in_unwind++;
	n = unw.backtrace(buf, want);
	sw_tls.in_unwind--;
	sw_tls.guard--;
	if (n <= drop)
		return 0;
	n -= drop;
	if (n > max) {
		n = max;
		*truncated = 1;
	}
	memcpy(ips, buf + drop, (size_t)n * sizeof(uint64_t));
	return n;
}

int sw_stack_capture_signal(void *ucontext, uint64_t *ips, int max,
			    int *truncated)
{
	ucontext_t *uc = ucontext;
	unw_cursor_t cursor;
	unw_word_t ip;
	int n = 0, r;

	*truncated = 0;
	if (!uc || max <= 0)
		return 0;
	if (max > SW_MAX_IPS)
		max = SW_MAX_IPS;
	if (atomic_load_explicit(&unw.state, memory_order_relaxed) <= 0) {
		ips[n++] = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
		return n + fp_walk((uintptr_t)uc->uc_mcontext.gregs[REG_RBP],
				   ips + n, max - n, truncated);
	}
	/* On x86_64 unw_context_t is ucontext_t: start from the interrupted
	 * registers, flagged as a signal frame so the first IP is not
	 * treated as a return address. */
	sw_tls.in_unwind++;
	if (unw.init_local2(&cursor, (unw_context_t *)uc,
			    UNW_INIT_SIGNAL_FRAME) < 0) {
		sw_tls.in_unwind--;
		return 0;
	}
	do {
		if (unw.get_reg(&cursor, UNW_REG_IP, &ip) < 0 || !ip)
			break;
		ips[n++] = ip;
		if (n == max) {
			if (unw.step(&cursor) > 0)
				*truncated = 1;
			break;
		}
		r = unw.step(&cursor);
	} while (r > 0);
	sw_tls.in_unwind--;
	return n;
}
