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

#include "core.h"
#include "ownfd.h"
#include "real.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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
 * libunwind's memory-validation pipe, as the shim keeps it: in the high
 * range, registered with ownfd.c.  `ref` is libunwind's own int[2] (the
 * array it passed to pipe2), rewritten when the pipe moves or a forked
 * child drops it, so libunwind never reads or writes a number that is not
 * the shim's (a dropped pipe reads as -1: EBADF, and libunwind asks for a
 * new one).
 */
static struct {
	int fd[2];
	int *ref;
	dev_t dev;
	ino_t ino;
} upipe = {{-1, -1}, NULL, 0, 0};

static void upipe_moved(void *arg, int oldfd, int newfd)
{
	int i = (int)(intptr_t)arg;

	(void)oldfd;
	upipe.fd[i] = newfd;
	if (upipe.ref)
		__atomic_store_n(&upipe.ref[i], newfd, __ATOMIC_RELEASE);
}

/* Is our pipe still open under its numbers (not closed by a raw syscall
 * behind our back and the number reused)? */
static int upipe_intact(void)
{
	struct stat st;

	return upipe.fd[0] >= 0 && upipe.fd[1] >= 0 &&
	       syscall(SYS_fstat, upipe.fd[0], &st) == 0 &&
	       st.st_dev == upipe.dev && st.st_ino == upipe.ino &&
	       syscall(SYS_fstat, upipe.fd[1], &st) == 0 &&
	       st.st_dev == upipe.dev && st.st_ino == upipe.ino;
}

int sw_stack_unw_pipe2(int fds[2], int flags)
{
	int tmp[2], i, saved = errno;
	struct stat st;

	upipe.ref = fds;
	if (upipe_intact())
		goto give;
	/* Gone: forget the numbers, closing only what is still ours. */
	for (i = 0; i < 2; i++) {
		if (upipe.fd[i] < 0)
			continue;
		sw_ownfd_del(upipe.fd[i]);
		if (syscall(SYS_fstat, upipe.fd[i], &st) == 0 &&
		    st.st_dev == upipe.dev && st.st_ino == upipe.ino)
			syscall(SYS_close, upipe.fd[i]);
		upipe.fd[i] = -1;
	}
	if (syscall(SYS_pipe2, tmp, flags | O_CLOEXEC) != 0)
		return -1;
	for (i = 0; i < 2; i++) {
		upipe.fd[i] = sw_ownfd_move_high(tmp[i]);
		sw_ownfd_add(upipe.fd[i], upipe_moved, (void *)(intptr_t)i);
	}
	if (syscall(SYS_fstat, upipe.fd[0], &st) == 0) {
		upipe.dev = st.st_dev;
		upipe.ino = st.st_ino;
	}
give:
	fds[0] = upipe.fd[0];
	fds[1] = upipe.fd[1];
	errno = saved;
	return 0;
}

int sw_stack_unw_close(int fd)
{
	/* Ours: keep it (libunwind's pipe2 that follows gets it back, or a
	 * fresh pair if it is broken).  Anything else is not the shim's to
	 * close. */
	if (fd >= 0 && (fd == upipe.fd[0] || fd == upipe.fd[1]))
		return 0;
	errno = EBADF;
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
