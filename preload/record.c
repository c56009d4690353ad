/*
 * record.c - blocking-call events: the threshold and strict-mode rules,
 * the per-site flood limit, stack capture, GIL-wait totals.
 *
 * Called by the timed wrappers on a loop thread in a turn, with the
 * slot's in_wrapper set (the watchdog leaves the thread alone while we
 * unwind it).  Everything per site and per GIL wait lives in the loop's
 * slot (slot.h), written by the slot's owner; the only other writer is a flush
 * at heartbeat/exit, which takes pending counts with atomic exchanges, so the
 * fast path takes no lock.
 */
#include "record.h"
#include "call.h"
#include "event.h"
#include "modules.h"
#include "pyframes.h"
#include "stack.h"
#include "testname.h"
#include "writer.h"

#include <string.h>

/* Flood limit: per loop thread, per (call, caller) site, in the slot's
 * table (slot.h). */
#define SITE_PROBES 16

void sw_record_reset(struct sw_loop_slot *slot)
{
	memset(slot->sites, 0, sizeof(slot->sites));
	slot->gil.max_ns = 0;
	slot->gil.window_ns = 0;
	slot->gil.nips = 0;
	slot->gil.npy = 0;
	sw_tls.gil_wait_ns = 0;
	sw_tls.gil_waits = 0;
}

static struct sw_slot_site *site_get(struct sw_loop_slot *slot,
				     enum sw_call call, enum sw_event_kind kind,
				     uintptr_t caller)
{
	uintptr_t h = (caller >> 4) ^ ((uintptr_t)call * 0x9e3779b1u) ^
		      ((uintptr_t)kind << 7);
	unsigned i;

	for (i = 0; i < SITE_PROBES; i++) {
		struct sw_slot_site *s = &slot->sites[(h + i) % SW_SLOT_SITES];

		if (s->caller == caller && s->call == call && s->kind == kind)
			return s;
		if (!s->caller) {
			s->call = (uint16_t)call;
			s->kind = (uint16_t)kind;
			s->caller = caller;
			return s;
		}
	}
	return NULL; /* table full here: capture every time */
}

static void max_into(_Atomic uint64_t *v, uint64_t n)
{
	uint64_t cur = atomic_load_explicit(v, memory_order_relaxed);

	while (n > cur && !atomic_compare_exchange_weak(v, &cur, n))
		;
}

static int fd_info(int fd, uint8_t *flags)
{
	uint8_t v;

	if (fd < 0)
		return SW_FD_NONE;
	v = sw_fdc_lookup(fd);
	if (!(v & SW_FDC_VALID))
		return SW_FD_UNKNOWN;
	if (v & SW_FDC_NONBLOCK)
		*flags |= SW_EVF_NONBLOCK;
	return v & SW_FDC_KIND;
}

/* Native stack starting at the wrapper's caller: everything above it is
 * shim (record.c, the wrapper), which no report wants. */
static int capture_from(uint64_t *ips, void *caller, uint8_t *flags)
{
	int n, i, trunc = 0;

	n = sw_stack_capture(ips, SW_MAX_IPS, 0, &trunc);
	for (i = 0; i < n; i++) {
		if (ips[i] == (uint64_t)(uintptr_t)caller)
			break;
	}
	if (i < n) {
		memmove(ips, ips + i, (size_t)(n - i) * sizeof(ips[0]));
		n -= i;
	} else {
		/* No unwinder, or it lost the way: the caller at least. */
		ips[0] = (uint64_t)(uintptr_t)caller;
		n = 1;
	}
	if (trunc)
		*flags |= SW_EVF_TRUNCATED;
	return n;
}

struct event_args {
	struct sw_loop_slot *slot;
	enum sw_event_kind kind;
	enum sw_call call;
	int fd;
	uint64_t start_ns, duration_ns, total_ns, max_ns;
	uint32_t count;
	uint8_t flags;
	const uint64_t *ips; /* NULL: capture now from `caller` */
	int nips;
	const struct sw_pyframe *py; /* NULL: capture now */
	int npy;
	void *caller;
	int fd_kind; /* <0: look the fd up now */
};

static void emit_event(struct event_args *a)
{
	struct sw_event_rec r;
	uint64_t *ips = sw_event_ips(&r);
	struct sw_pyframe *py;
	uint8_t flags = a->flags;
	int nips, npy, unknown = 0;

	sw_modules_refresh();
	sw_event_init(&r, a->kind, a->call, a->slot);
	if (a->ips) {
		nips = a->nips;
		memcpy(ips, a->ips, (size_t)nips * sizeof(uint64_t));
	} else if (flags & SW_EVF_COUNT_ONLY) {
		ips[0] = (uint64_t)(uintptr_t)a->caller;
		nips = 1;
	} else {
		nips = capture_from(ips, a->caller, &flags);
	}
	py = sw_event_py(&r, nips);
	if (a->py) {
		npy = a->npy;
		memcpy(py, a->py, (size_t)npy * sizeof(*py));
	} else if (flags & SW_EVF_COUNT_ONLY) {
		npy = 0;
	} else {
		npy = sw_py_capture(py, SW_MAX_PYFRAMES, &unknown);
		if (unknown)
			flags |= SW_EVF_PY_UNKNOWN;
	}
	r.ev.start_ns = a->start_ns;
	r.ev.duration_ns = a->duration_ns;
	r.ev.total_ns = a->total_ns;
	r.ev.max_ns = a->max_ns;
	r.ev.count = a->count;
	r.ev.fd = a->fd;
	r.ev.fd_kind =
	    (uint8_t)(a->fd_kind >= 0 ? a->fd_kind : fd_info(a->fd, &flags));
	r.ev.ev_flags = flags;
	sw_test_note(r.ev.start_ns); /* the running test first */
	sw_event_write(&r, nips, npy);
}

void sw_record_call(enum sw_call call, enum sw_event_kind kind, int fd,
		    uint64_t start_ns, uint64_t duration_ns,
		    int blocking_capable, void *caller)
{
	struct sw_thread *t = &sw_tls;
	struct sw_loop_slot *slot = t->slot;
	struct event_args a;
	struct sw_slot_site *s;

	if (!slot || !sw_active)
		return;
	memset(&a, 0, sizeof(a));
	if (duration_ns < sw_cfg.call_threshold_ns) {
		if (!sw_cfg.strict || !blocking_capable)
			return;
		a.flags = SW_EVF_STRICT;
	}
	t->guard++;
	a.slot = slot;
	a.kind = kind;
	a.call = call;
	a.fd = fd;
	a.start_ns = start_ns;
	a.duration_ns = a.total_ns = a.max_ns = duration_ns;
	a.count = 1;
	a.caller = caller;
	a.fd_kind = -1;
	/* Fast calls recorded only because strict mode wants them can come
	 * by the thousand: a few stacks per site per second, the rest are
	 * counted and folded into the next captured record. */
	if ((a.flags & SW_EVF_STRICT) &&
	    (s = site_get(slot, call, kind, (uintptr_t)caller))) {
		uint32_t sec = (uint32_t)(start_ns / 1000000000ull), n;

		if (s->window != sec) {
			s->window = sec;
			s->captured = 0;
		}
		if (s->captured >= sw_cfg.stacks_per_site) {
			if (!atomic_load_explicit(&s->pend_count,
						  memory_order_relaxed)) {
				/* The fd may be closed by flush time. */
				s->pend_first_ns = start_ns;
				s->fd = fd;
				s->fd_flags = 0;
				s->fd_kind = (uint8_t)fd_info(fd, &s->fd_flags);
			}
			atomic_fetch_add(&s->pend_total_ns, duration_ns);
			max_into(&s->pend_max_ns, duration_ns);
			atomic_fetch_add(&s->pend_count, 1);
			goto out;
		}
		s->captured++;
		n = atomic_exchange(&s->pend_count, 0);
		if (n) {
			uint64_t m = atomic_exchange(&s->pend_max_ns, 0);

			a.count += n;
			a.total_ns += atomic_exchange(&s->pend_total_ns, 0);
			if (m > a.max_ns)
				a.max_ns = m;
		}
	}
	emit_event(&a);
out:
	t->guard--;
}

void sw_record_flush(struct sw_loop_slot *slot)
{
	unsigned i;

	if (!sw_cfg.strict)
		return;
	for (i = 0; i < SW_SLOT_SITES; i++) {
		struct sw_slot_site *s = &slot->sites[i];
		struct event_args a;
		uint32_t n;

		if (!s->caller || !atomic_load(&s->pend_count))
			continue;
		n = atomic_exchange(&s->pend_count, 0);
		if (!n)
			continue;
		memset(&a, 0, sizeof(a));
		a.slot = slot;
		a.kind = (enum sw_event_kind)s->kind;
		a.call = (enum sw_call)s->call;
		a.fd = s->fd;
		a.start_ns = s->pend_first_ns;
		a.count = n;
		a.total_ns = atomic_exchange(&s->pend_total_ns, 0);
		a.max_ns = atomic_exchange(&s->pend_max_ns, 0);
		a.duration_ns = a.max_ns;
		a.flags = SW_EVF_STRICT | SW_EVF_COUNT_ONLY | s->fd_flags;
		a.fd_kind = s->fd_kind;
		a.caller = (void *)s->caller;
		emit_event(&a);
	}
}

/* ---- the timed-call protocol of every wrapper ---------------------------- */

int sw_call_begin_slow(struct sw_call_ctx *c)
{
	return sw_call_enter(c);
}

static int interrupted(enum sw_call call, long r, int err)
{
	switch (call) {
	case SW_CALL_CLOCK_NANOSLEEP:
		/* libc's returns the error number, errno untouched; through
		 * syscall(2) it is -1 and errno */
		return r == EINTR || (r == -1 && err == EINTR);
	case SW_CALL_FUTEX: /* waits through syscall(2) (wrap_syscall.c) */
	case SW_CALL_NANOSLEEP:
	case SW_CALL_USLEEP:
	case SW_CALL_POLL:
	case SW_CALL_PPOLL:
	case SW_CALL_SELECT:
	case SW_CALL_PSELECT:
	case SW_CALL_SEM_WAIT:
	case SW_CALL_SEM_TIMEDWAIT:
	case SW_CALL_SEM_CLOCKWAIT:
	case SW_CALL_EPOLL_WAIT:
	case SW_CALL_EPOLL_PWAIT:
	case SW_CALL_EPOLL_PWAIT2:
		return r == -1 && err == EINTR;
	default:
		return 0;
	}
}

int sw_call_interrupted_slow(struct sw_call_ctx *c, enum sw_call call, long r)
{
	c->sigs = sw_tls.sigs;
	if (!interrupted(call, r, errno))
		return 0;
	errno = c->err; /* the call is made again, as if for the first time */
	return 1;
}

/* A timed call's duration in ns (a clock that went backwards: 0). */
static uint64_t call_duration(const struct sw_call_ctx *c, uint64_t end)
{
	uint64_t ticks = end - c->start;

	if ((int64_t)ticks < 0)
		ticks = 0;
	return sw_clk_to_ns(c->tsc, ticks);
}

/* Its start on CLOCK_MONOTONIC, the clock of every timestamp in the
 * trace: TSC ticks are converted only for calls that are recorded. */
static uint64_t call_start_ns(const struct sw_call_ctx *c, uint64_t dur)
{
	uint64_t now;

	if (!c->tsc)
		return c->start;
	now = sw_now_ns();
	return now > dur ? now - dur : 0;
}

/* Could this call block in production?  (strict mode) */
static int capable(enum sw_cap cap, int fd)
{
	uint8_t v;

	if (cap == SW_CAP_YES)
		return 1;
	if (cap != SW_CAP_FD)
		return 0;
	v = sw_fdc_lookup(fd);
	if (!(v & SW_FDC_VALID))
		return 0;
	switch (v & SW_FDC_KIND) {
	case SW_FD_FILE:
	case SW_FD_BLOCKDEV:
		return 1; /* O_NONBLOCK means nothing to a disk */
	case SW_FD_SOCKET:
	case SW_FD_PIPE:
	case SW_FD_TTY:
		return !(v & SW_FDC_NONBLOCK);
	default:
		return 0;
	}
}

void sw_call_end_at(struct sw_call_ctx *c, uint64_t end, enum sw_call call,
		    int fd, enum sw_cap cap, void *caller)
{
	struct sw_loop_slot *slot = sw_tls.slot;
	int saved = errno, can = 0;
	uint64_t dur = call_duration(c, end);

	if (dur < sw_cfg.call_threshold_ns) {
		if (!sw_cfg.strict || cap == SW_CAP_NO)
			goto out;
		can = capable(cap, fd);
		if (!can)
			goto out;
	}
	sw_tls.turn_call_ns += dur;
	sw_record_call(call, SW_EV_CALL, fd, call_start_ns(c, dur), dur, can,
		       caller);
out:
	if (slot)
		atomic_store_explicit(&slot->in_wrapper, 0,
				      memory_order_release);
	errno = saved;
}

void sw_call_end(struct sw_call_ctx *c, enum sw_call call, int fd,
		 enum sw_cap cap, void *caller)
{
	sw_call_end_at(c, sw_clk_read(c->tsc), call, fd, cap, caller);
}

/* ---- GIL waits ----------------------------------------------------------- */

void sw_gil_wait_end(struct sw_call_ctx *c, enum sw_call call, void *caller)
{
	struct sw_thread *t = &sw_tls;
	struct sw_loop_slot *slot = t->slot;
	int saved = errno;
	uint64_t dur = call_duration(c, sw_clk_read(c->tsc));
	struct sw_slot_gil *g;

	if (!slot)
		goto out;
	t->gil_wait_ns += dur;
	t->gil_waits++;
	g = &slot->gil;
	if (dur <= g->max_ns)
		goto out;
	g->max_ns = dur;
	g->start_ns = call_start_ns(c, dur);
	g->call = (uint16_t)call;
	/* Stacks only for waits that can matter: a turn's total must reach
	 * the call threshold (or be non-zero in strict mode) to be kept. */
	if (sw_active &&
	    (sw_cfg.strict || dur >= sw_cfg.call_threshold_ns / 8)) {
		int unknown = 0, npy;

		t->guard++;
		g->flags = 0;
		g->nips = (uint16_t)capture_from(g->ips, caller, &g->flags);
		npy = sw_py_capture(g->py, SW_MAX_PYFRAMES, &unknown);
		g->npy = (uint16_t)(npy > 0 ? npy : 0);
		if (unknown)
			g->flags |= SW_EVF_PY_UNKNOWN;
		t->guard--;
	} else if (!g->nips) {
		g->ips[0] = (uint64_t)(uintptr_t)caller;
		g->nips = 1;
		g->npy = 0;
		g->flags = 0;
	}
out:
	if (slot)
		atomic_store_explicit(&slot->in_wrapper, 0,
				      memory_order_release);
	errno = saved;
}

/* A loop starved by a CPU-bound thread waits a switch interval (5 ms) for
 * the GIL in every turn: each turn alone stays under the call threshold,
 * yet the loop loses a third of its time.  So waits below the threshold
 * are summed over turns for up to GIL_WINDOW_NS, and reported once the sum
 * reaches it: a loop that loses a hundredth of its time to the GIL. */
#define GIL_WINDOW_NS 1000000000ull

void sw_gil_turn_end(struct sw_loop_slot *slot)
{
	struct sw_thread *t = &sw_tls;
	struct sw_slot_gil *g = &slot->gil;
	uint64_t total = t->gil_wait_ns;
	uint32_t n = t->gil_waits;
	struct event_args a;

	if (!n)
		return;
	if (sw_active && total < sw_cfg.call_threshold_ns && !sw_cfg.strict) {
		uint64_t now = sw_now_ns();

		if (!g->window_ns)
			g->window_ns = now;
		if (now - g->window_ns < GIL_WINDOW_NS)
			return; /* keep summing */
		goto reset;	/* a quiet second: forget it */
	}
	if (sw_active && total > 0) {
		memset(&a, 0, sizeof(a));
		a.slot = slot;
		a.kind = SW_EV_GIL_WAIT;
		a.call = (enum sw_call)g->call;
		a.fd = -1;
		a.fd_kind = -1;
		a.start_ns = g->start_ns;
		a.duration_ns = total;
		a.total_ns = total;
		a.max_ns = g->max_ns;
		a.count = n;
		a.flags = g->flags;
		if (total < sw_cfg.call_threshold_ns)
			a.flags |= SW_EVF_STRICT;
		a.ips = g->ips;
		a.nips = g->nips;
		a.py = g->py;
		a.npy = g->npy;
		t->guard++;
		emit_event(&a);
		t->guard--;
	}
reset:
	t->gil_wait_ns = 0;
	t->gil_waits = 0;
	g->window_ns = 0;
	g->max_ns = 0;
	g->nips = 0;
	g->npy = 0;
}
