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
 * in its local scope, so the resolver (real.c, SW_REAL_UNWINDER) falls
 * back to the calling object's own dependencies, then to the usual
 * sonames.
 */
#include <stdatomic.h>
#include <unwind.h>

#include "call.h"
#include "real.h"

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

#define CALLER __builtin_return_address(0)

/* ---- the wrappers -------------------------------------------------------- */

SW_EXPORT _Unwind_Reason_Code
_Unwind_RaiseException(struct _Unwind_Exception *exc)
{
	__typeof__(_Unwind_RaiseException) *real =
	    SW_REAL_UNWINDER(_Unwind_RaiseException, CALLER);
	_Unwind_Reason_Code rc;

	mark_enter();
	rc = real(exc); /* returns only when no handler was found */
	mark_leave();
	return rc;
}

SW_EXPORT void _Unwind_Resume(struct _Unwind_Exception *exc)
{
	__typeof__(_Unwind_Resume) *real =
	    SW_REAL_UNWINDER(_Unwind_Resume, CALLER);

	mark_enter();
	real(exc); /* never returns */
	mark_leave();
}

SW_EXPORT _Unwind_Reason_Code
_Unwind_Resume_or_Rethrow(struct _Unwind_Exception *exc)
{
	__typeof__(_Unwind_Resume_or_Rethrow) *real =
	    SW_REAL_UNWINDER(_Unwind_Resume_or_Rethrow, CALLER);
	_Unwind_Reason_Code rc;

	mark_enter();
	rc = real(exc);
	mark_leave();
	return rc;
}

SW_EXPORT _Unwind_Reason_Code _Unwind_ForcedUnwind(
    struct _Unwind_Exception *exc, _Unwind_Stop_Fn stop, void *stop_arg)
{
	__typeof__(_Unwind_ForcedUnwind) *real =
	    SW_REAL_UNWINDER(_Unwind_ForcedUnwind, CALLER);
	_Unwind_Reason_Code rc;

	mark_enter();
	rc = real(exc, stop, stop_arg);
	mark_leave();
	return rc;
}

SW_EXPORT void _Unwind_DeleteException(struct _Unwind_Exception *exc)
{
	__typeof__(_Unwind_DeleteException) *real =
	    SW_REAL_UNWINDER(_Unwind_DeleteException, CALLER);

	mark_leave();
	real(exc);
}

SW_EXPORT void *__cxa_begin_catch(void *exc)
{
	__typeof__(__cxa_begin_catch) *real =
	    SW_REAL_UNWINDER(__cxa_begin_catch, CALLER);

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
	__typeof__(_Unwind_Backtrace) *real =
	    SW_REAL_UNWINDER(_Unwind_Backtrace, CALLER);
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
