/*
 * wrap_sleep.c - the sleep functions.  Always blocking-capable: a sleep
 * on a loop thread is the plainest way to freeze it.
 */
#undef _FORTIFY_SOURCE
#include "call.h"
#include "real.h"

SW_EXPORT int nanosleep(const struct timespec *req, struct timespec *rem)
{
	SW_TIMED(int, SW_CALL_NANOSLEEP, -1, SW_CAP_YES,
		 SW_REAL(nanosleep)(req, rem));
}

SW_EXPORT int clock_nanosleep(clockid_t clock, int flags,
			      const struct timespec *req, struct timespec *rem)
{
	SW_TIMED(int, SW_CALL_CLOCK_NANOSLEEP, -1, SW_CAP_YES,
		 SW_REAL(clock_nanosleep)(clock, flags, req, rem));
}

SW_EXPORT int usleep(useconds_t usec)
{
	SW_TIMED(int, SW_CALL_USLEEP, -1, SW_CAP_YES, SW_REAL(usleep)(usec));
}

SW_EXPORT unsigned int sleep(unsigned int seconds)
{
	SW_TIMED(unsigned int, SW_CALL_SLEEP, -1, SW_CAP_YES,
		 SW_REAL(sleep)(seconds));
}
