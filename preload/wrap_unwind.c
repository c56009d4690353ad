/*
 * wrap_unwind.c - mark the threads that are inside the exception unwinder.
 *
 * The sampler unwinds a loop thread from a signal handler.  If the signal
 * lands while that thread is itself unwinding (a C++ throw, a forced
 * unwind, _Unwind_Backtrace), the interrupted unwinder may hold the loader
 * lock (dl_iterate_phdr, on C libraries older than glibc 2.35) or libgcc's
 * object_mutex, and may be half way through updating its caches: the
 * sample is skipped (doc/design.md, "Stacks").
 *
 * The entry points of the unwinder do not all return: _Unwind_Resume never
 * does, _Unwind_RaiseException, _Unwind_Resume_or_Rethrow and
 * _Unwind_ForcedUnwind only on failure; on success they jump straight into
 * a landing pad.  So this is not a counter but a per-thread flag:
 *   - every entry point sets it (a cleanup landing pad runs outside the
 *     unwinder and re-enters it through _Unwind_Resume, which sets it
 *     again);
 *   - it is cleared when an entry point returns, when a C++ catch handler
 *     starts (__cxa_begin_catch) and when an exception is deleted
 *     (_Unwind_DeleteException: foreign and Rust exceptions);
 *   - it remembers the loop turn it was set in, so a flag left behind by a
 *     runtime that catches some other way only costs the samples of that
 *     one turn (sw_unwind_busy() ignores a flag from an earlier turn).
 * Between the landing pad and __cxa_begin_catch the flag is still set:
 * those few instructions are conservatively not sampled.
 *
 * _Unwind_Backtrace would report this wrapper as the first frame; the
 * wrapper passes the caller's callback a view that skips its own frame.
 *
 * The real functions come from the next object in the global scope; a
 * C++ library loaded RTLD_LOCAL (a Python extension) has its runtime only
 * in its local scope, so the lookup falls back to the calling object's
 * own dependencies, then to the usual sonames.
 */
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <unwind.h>

#include "shim.h"

struct unwind_mark {
	uint32_t active;
	uint32_t turn; /* turn_seq of the loop when it was set */
};

static SW_TLS struct unwind_mark mark;

static uint32_t current_turn(void)
{
	struct sw_loop_slot *slot = sw_tls.slot;

	return slot
		   ? atomic_load_explicit(&slot->turn_seq, memory_order_relaxed)
		   : 0;
}

static inline void mark_enter(void)
{
	mark.turn = current_turn();
	atomic_signal_fence(memory_order_seq_cst);
	mark.active = 1;
	atomic_signal_fence(memory_order_seq_cst);
}

static inline void mark_leave(void)
{
	atomic_signal_fence(memory_order_seq_cst);
	mark.active = 0;
	atomic_signal_fence(memory_order_seq_cst);
}

int sw_unwind_busy(void)
{
	return mark.active && mark.turn == current_turn();
}

/* ---- finding the real functions ------------------------------------------ */

static void die_unresolved(const char *name)
{
	static const char msg[] = "stallwatch: cannot find the real ";
	ssize_t r;

	/* Without the real unwinder the host could not continue anyway. */
	r = write(2, msg, sizeof(msg) - 1);
	r = write(2, name, strlen(name));
	r = write(2, "\n", 1);
	(void)r;
	abort();
}

static void *resolve(_Atomic(void *) *cache, const char *name, void *caller)
{
	static const char *const sonames[] = {
	    "libgcc_s.so.1",
	    "libstdc++.so.6",
	    "libc++abi.so.1",
	    "libunwind.so.1",
	};
	void *p = atomic_load_explicit(cache, memory_order_acquire);
	Dl_info info;
	size_t i;

	if (sw_likely(p != NULL))
		return p;
	sw_tls.guard++;
	p = dlsym(RTLD_NEXT, name);
	/* The caller's own scope (it may have been loaded RTLD_LOCAL). */
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
	atomic_store_explicit(cache, p, memory_order_release);
	return p;
}

#define REAL(type, name)                                             \
	static _Atomic(void *) real_##name;                          \
	static type *get_##name(void *caller)                        \
	{                                                            \
		return (type *)resolve(&real_##name, #name, caller); \
	}

typedef _Unwind_Reason_Code raise_fn(struct _Unwind_Exception *);
typedef void resume_fn(struct _Unwind_Exception *);
typedef _Unwind_Reason_Code forced_fn(struct _Unwind_Exception *,
				      _Unwind_Stop_Fn, void *);
typedef _Unwind_Reason_Code backtrace_fn(_Unwind_Trace_Fn, void *);
typedef void delete_fn(struct _Unwind_Exception *);
typedef void *begin_catch_fn(void *);

REAL(raise_fn, _Unwind_RaiseException)
REAL(resume_fn, _Unwind_Resume)
REAL(raise_fn, _Unwind_Resume_or_Rethrow)
REAL(forced_fn, _Unwind_ForcedUnwind)
REAL(backtrace_fn, _Unwind_Backtrace)
REAL(delete_fn, _Unwind_DeleteException)
REAL(begin_catch_fn, __cxa_begin_catch)

#define CALLER __builtin_return_address(0)

/* Resolve what the global scope has now, so that a throw rarely runs
 * dlsym; anything missing is looked up again on first use. */
__attribute__((constructor)) static void unwind_resolve_early(void)
{
#define EARLY(name)                                    \
	do {                                           \
		void *p = dlsym(RTLD_NEXT, #name);     \
		if (p)                                 \
			atomic_store(&real_##name, p); \
	} while (0)
	sw_tls.guard++;
	EARLY(_Unwind_RaiseException);
	EARLY(_Unwind_Resume);
	EARLY(_Unwind_Resume_or_Rethrow);
	EARLY(_Unwind_ForcedUnwind);
	EARLY(_Unwind_Backtrace);
	EARLY(_Unwind_DeleteException);
	EARLY(__cxa_begin_catch);
	sw_tls.guard--;
#undef EARLY
}

/* ---- the wrappers -------------------------------------------------------- */

SW_EXPORT _Unwind_Reason_Code
_Unwind_RaiseException(struct _Unwind_Exception *exc)
{
	raise_fn *real = get__Unwind_RaiseException(CALLER);
	_Unwind_Reason_Code rc;

	mark_enter();
	rc = real(exc); /* returns only when no handler was found */
	mark_leave();
	return rc;
}

SW_EXPORT void _Unwind_Resume(struct _Unwind_Exception *exc)
{
	resume_fn *real = get__Unwind_Resume(CALLER);

	mark_enter();
	real(exc); /* never returns */
	mark_leave();
}

SW_EXPORT _Unwind_Reason_Code
_Unwind_Resume_or_Rethrow(struct _Unwind_Exception *exc)
{
	raise_fn *real = get__Unwind_Resume_or_Rethrow(CALLER);
	_Unwind_Reason_Code rc;

	mark_enter();
	rc = real(exc);
	mark_leave();
	return rc;
}

SW_EXPORT _Unwind_Reason_Code _Unwind_ForcedUnwind(
    struct _Unwind_Exception *exc, _Unwind_Stop_Fn stop, void *stop_arg)
{
	forced_fn *real = get__Unwind_ForcedUnwind(CALLER);
	_Unwind_Reason_Code rc;

	mark_enter();
	rc = real(exc, stop, stop_arg);
	mark_leave();
	return rc;
}

SW_EXPORT void _Unwind_DeleteException(struct _Unwind_Exception *exc)
{
	delete_fn *real = get__Unwind_DeleteException(CALLER);

	mark_leave();
	real(exc);
}

SW_EXPORT void *__cxa_begin_catch(void *exc)
{
	begin_catch_fn *real = get___cxa_begin_catch(CALLER);

	mark_leave();
	return real(exc);
}

/* _Unwind_Backtrace: hide this wrapper's own frame from the callback. */
struct bt_view {
	_Unwind_Trace_Fn fn;
	void *arg;
	int skipped;
};

static _Unwind_Reason_Code bt_skip_self(struct _Unwind_Context *ctx, void *arg)
{
	struct bt_view *v = arg;

	if (!v->skipped) {
		v->skipped = 1; /* the first frame is the wrapper below */
		return _URC_NO_REASON;
	}
	return v->fn(ctx, v->arg);
}

SW_EXPORT __attribute__((noinline)) _Unwind_Reason_Code
_Unwind_Backtrace(_Unwind_Trace_Fn fn, void *arg)
{
	backtrace_fn *real = get__Unwind_Backtrace(CALLER);
	struct bt_view view = {fn, arg, 0};
	_Unwind_Reason_Code rc;
	uint32_t was = mark.active;

	if (!fn)
		return real(fn, arg);
	mark_enter();
	rc = real(bt_skip_self, &view);
	if (!was)
		mark_leave();
	return rc;
}
