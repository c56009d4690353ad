/*
 * wrap_poll.c - poll, ppoll, select, pselect (and the fortified forms).
 * Blocking-capable when the timeout is not zero.  With
 * STALLWATCH_POLL_LOOPS=1, poll/ppoll on a thread without an epoll loop
 * are loop boundaries instead (glib-style loops).
 */
#undef _FORTIFY_SOURCE
#include "call.h"
#include "real.h"

static inline enum sw_cap ts_cap(const struct timespec *ts)
{
	return (!ts || ts->tv_sec || ts->tv_nsec) ? SW_CAP_YES : SW_CAP_NO;
}

static inline enum sw_cap tv_cap(const struct timeval *tv)
{
	return (!tv || tv->tv_sec || tv->tv_usec) ? SW_CAP_YES : SW_CAP_NO;
}

/* Is this poll a loop boundary?  Only when asked for, and only on a
 * thread that has no epoll loop of its own. */
static int poll_is_boundary(void)
{
	struct sw_loop_slot *slot = sw_tls.slot;

	return (sw_active || sw_armed) && !sw_tls.guard &&
	       (!slot ||
		atomic_load_explicit(&slot->epfd, memory_order_relaxed) < 0);
}

#define SW_POLL_LOOP(call, capable, real_call)                              \
	do {                                                                \
		if (sw_unlikely(sw_cfg.poll_loops) && poll_is_boundary()) { \
			struct sw_wait w_;                                  \
			int r_;                                             \
			if (sw_loop_wait_begin(&w_, call, SW_POLL_LOOP_KEY, \
					       capable) != SW_WAIT_PASS) {  \
				int e_ = errno;                             \
				while ((r_ = real_call) == -1 &&            \
				       sw_loop_wait_interrupted(&w_, r_))   \
					errno = e_;                         \
				sw_loop_wait_end(&w_, SW_CALLER);           \
				return r_;                                  \
			}                                                   \
		}                                                           \
	} while (0)

SW_EXPORT int poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	SW_POLL_LOOP(SW_CALL_POLL, timeout != 0,
		     SW_REAL(poll)(fds, nfds, timeout));
	SW_TIMED(int, SW_CALL_POLL, -1, timeout ? SW_CAP_YES : SW_CAP_NO,
		 SW_REAL(poll)(fds, nfds, timeout));
}

SW_EXPORT int __poll_chk(struct pollfd *fds, nfds_t nfds, int timeout,
			 size_t fdslen)
{
	SW_POLL_LOOP(SW_CALL_POLL, timeout != 0,
		     SW_REAL(__poll_chk)(fds, nfds, timeout, fdslen));
	SW_TIMED(int, SW_CALL_POLL, -1, timeout ? SW_CAP_YES : SW_CAP_NO,
		 SW_REAL(__poll_chk)(fds, nfds, timeout, fdslen));
}

SW_EXPORT int ppoll(struct pollfd *fds, nfds_t nfds, const struct timespec *ts,
		    const sigset_t *ss)
{
	SW_POLL_LOOP(SW_CALL_PPOLL, ts_cap(ts) == SW_CAP_YES,
		     SW_REAL(ppoll)(fds, nfds, ts, ss));
	SW_TIMED(int, SW_CALL_PPOLL, -1, ts_cap(ts),
		 SW_REAL(ppoll)(fds, nfds, ts, ss));
}

SW_EXPORT int __ppoll_chk(struct pollfd *fds, nfds_t nfds,
			  const struct timespec *ts, const sigset_t *ss,
			  size_t fdslen)
{
	SW_POLL_LOOP(SW_CALL_PPOLL, ts_cap(ts) == SW_CAP_YES,
		     SW_REAL(__ppoll_chk)(fds, nfds, ts, ss, fdslen));
	SW_TIMED(int, SW_CALL_PPOLL, -1, ts_cap(ts),
		 SW_REAL(__ppoll_chk)(fds, nfds, ts, ss, fdslen));
}

SW_EXPORT int select(int nfds, fd_set *r, fd_set *w, fd_set *e,
		     struct timeval *tv)
{
	SW_TIMED(int, SW_CALL_SELECT, -1, tv_cap(tv),
		 SW_REAL(select)(nfds, r, w, e, tv));
}

SW_EXPORT int pselect(int nfds, fd_set *r, fd_set *w, fd_set *e,
		      const struct timespec *ts, const sigset_t *ss)
{
	SW_TIMED(int, SW_CALL_PSELECT, -1, ts_cap(ts),
		 SW_REAL(pselect)(nfds, r, w, e, ts, ss));
}
