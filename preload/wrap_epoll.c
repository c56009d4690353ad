/*
 * wrap_epoll.c - epoll_wait, epoll_pwait, epoll_pwait2: the loop
 * boundaries (loop.c).  A wait on the thread's own loop fd ends a turn
 * and starts the next; a wait on another epoll fd inside a turn is a
 * private loop, timed and recorded like a blocking call.
 */
#undef _FORTIFY_SOURCE
#include "call.h"
#include "real.h"

/* A wait that one of the shim's timer ticks interrupted on its way into
 * the kernel is made again (call.h, sw_call_interrupted); errno is the
 * program's again. */
#define SW_LOOP_WAIT(call, epfd, capable, real_call)                \
	do {                                                        \
		struct sw_wait w_;                                  \
		int r_, e_ = errno;                                 \
		if (sw_loop_wait_begin(&w_, call, epfd, capable) == \
		    SW_WAIT_PASS)                                   \
			return real_call;                           \
		while ((r_ = real_call) == -1 &&                    \
		       sw_loop_wait_interrupted(&w_, r_))           \
			errno = e_;                                 \
		sw_loop_wait_end(&w_, SW_CALLER);                   \
		return r_;                                          \
	} while (0)

SW_EXPORT int epoll_wait(int epfd, struct epoll_event *events, int maxevents,
			 int timeout)
{
	SW_LOOP_WAIT(SW_CALL_EPOLL_WAIT, epfd, timeout != 0,
		     SW_REAL(epoll_wait)(epfd, events, maxevents, timeout));
}

SW_EXPORT int epoll_pwait(int epfd, struct epoll_event *events, int maxevents,
			  int timeout, const sigset_t *sigmask)
{
	SW_LOOP_WAIT(
	    SW_CALL_EPOLL_PWAIT, epfd, timeout != 0,
	    SW_REAL(epoll_pwait)(epfd, events, maxevents, timeout, sigmask));
}

SW_EXPORT int epoll_pwait2(int epfd, struct epoll_event *events, int maxevents,
			   const struct timespec *timeout,
			   const sigset_t *sigmask)
{
	SW_LOOP_WAIT(
	    SW_CALL_EPOLL_PWAIT2, epfd,
	    !timeout || timeout->tv_sec || timeout->tv_nsec,
	    SW_REAL(epoll_pwait2)(epfd, events, maxevents, timeout, sigmask));
}
