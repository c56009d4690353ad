/*
 * wrap_sync.c - locks, semaphores, condition variables, pthread_join.
 *
 * On a loop thread in a turn, a lock or semaphore is tried first: only a
 * wait that actually waits is timed (and counts in strict mode).  A
 * condition wait on CPython's GIL condition is a GIL wait, summed per
 * turn (record.c), not a call of its own.  Other threads pay the usual
 * TLS check and nothing else.
 */
#undef _FORTIFY_SOURCE
#include "call.h"
#include "real.h"

#include <errno.h>

/* sem_trywait first; 1 when it got the semaphore (or failed for good). */
static inline int sem_try(sem_t *sem, int *result)
{
	int saved = errno;

	if (sem_trywait(sem) == 0) {
		*result = 0;
		return 1;
	}
	if (errno != EAGAIN) {
		*result = -1;
		return 1;
	}
	errno = saved;
	return 0;
}

#define SW_SEM_WAIT(call, real_call)                               \
	do {                                                       \
		struct sw_call_ctx c_;                             \
		int r_;                                            \
		if (sw_likely(!sw_tls.in_turn))                    \
			return real_call;                          \
		if (sem_try(sem, &r_))                             \
			return r_;                                 \
		if (!sw_call_begin_slow(&c_))                      \
			return real_call;                          \
		do                                                 \
			r_ = real_call;                            \
		while (sw_call_interrupted(&c_, call, r_));        \
		sw_call_end(&c_, call, -1, SW_CAP_YES, SW_CALLER); \
		return r_;                                         \
	} while (0)

SW_EXPORT int sem_wait(sem_t *sem)
{
	SW_SEM_WAIT(SW_CALL_SEM_WAIT, SW_REAL(sem_wait)(sem));
}

SW_EXPORT int sem_timedwait(sem_t *sem, const struct timespec *abstime)
{
	SW_SEM_WAIT(SW_CALL_SEM_TIMEDWAIT,
		    SW_REAL(sem_timedwait)(sem, abstime));
}

SW_EXPORT int sem_clockwait(sem_t *sem, clockid_t clock,
			    const struct timespec *abstime)
{
	SW_SEM_WAIT(SW_CALL_SEM_CLOCKWAIT,
		    SW_REAL(sem_clockwait)(sem, clock, abstime));
}

/* pthread_* return error numbers; errno is untouched either way. */
#define SW_LOCK_WAIT(call, try_call, real_call)                    \
	do {                                                       \
		struct sw_call_ctx c_;                             \
		int r_;                                            \
		if (sw_likely(!sw_tls.in_turn))                    \
			return real_call;                          \
		r_ = try_call;                                     \
		if (r_ != EBUSY && r_ != EAGAIN)                   \
			return r_;                                 \
		if (!sw_call_begin_slow(&c_))                      \
			return real_call;                          \
		r_ = real_call;                                    \
		sw_call_end(&c_, call, -1, SW_CAP_YES, SW_CALLER); \
		return r_;                                         \
	} while (0)

SW_EXPORT int pthread_mutex_lock(pthread_mutex_t *m)
{
	/* Only contended locks: an uncontended one never blocks. */
	SW_LOCK_WAIT(SW_CALL_MUTEX_LOCK, pthread_mutex_trylock(m),
		     SW_REAL(pthread_mutex_lock)(m));
}

SW_EXPORT int pthread_rwlock_rdlock(pthread_rwlock_t *l)
{
	SW_LOCK_WAIT(SW_CALL_RWLOCK_RDLOCK, pthread_rwlock_tryrdlock(l),
		     SW_REAL(pthread_rwlock_rdlock)(l));
}

SW_EXPORT int pthread_rwlock_wrlock(pthread_rwlock_t *l)
{
	SW_LOCK_WAIT(SW_CALL_RWLOCK_WRLOCK, pthread_rwlock_trywrlock(l),
		     SW_REAL(pthread_rwlock_wrlock)(l));
}

#define SW_COND_WAIT(call, real_call)                                      \
	do {                                                               \
		struct sw_call_ctx c_;                                     \
		int r_;                                                    \
		if (sw_likely(!sw_call_begin(&c_)))                        \
			return real_call;                                  \
		r_ = real_call;                                            \
		if (sw_py_is_gil_cond(cond))                               \
			sw_gil_wait_end(&c_, call, SW_CALLER);             \
		else                                                       \
			sw_call_end(&c_, call, -1, SW_CAP_YES, SW_CALLER); \
		return r_;                                                 \
	} while (0)

SW_EXPORT int pthread_cond_wait(pthread_cond_t *cond, pthread_mutex_t *m)
{
	SW_COND_WAIT(SW_CALL_COND_WAIT, SW_REAL(pthread_cond_wait)(cond, m));
}

SW_EXPORT int pthread_cond_timedwait(pthread_cond_t *cond, pthread_mutex_t *m,
				     const struct timespec *abstime)
{
	SW_COND_WAIT(SW_CALL_COND_TIMEDWAIT,
		     SW_REAL(pthread_cond_timedwait)(cond, m, abstime));
}

SW_EXPORT int pthread_cond_clockwait(pthread_cond_t *cond, pthread_mutex_t *m,
				     clockid_t clock,
				     const struct timespec *abstime)
{
	SW_COND_WAIT(SW_CALL_COND_CLOCKWAIT,
		     SW_REAL(pthread_cond_clockwait)(cond, m, clock, abstime));
}

SW_EXPORT int pthread_join(pthread_t thread, void **ret)
{
	SW_TIMED(int, SW_CALL_PTHREAD_JOIN, -1, SW_CAP_YES,
		 SW_REAL(pthread_join)(thread, ret));
}
