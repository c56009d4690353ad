/*
 * wrap_signal.c - sigaction, signal and kin, and the signal-mask calls,
 * for the sampling signal's sake.
 *
 * The sampler owns one real-time signal (sampler.c).  The program may
 * install a handler for that same number, or block it: for that signal
 * only, its handler is remembered and reported back to it as installed
 * (the sampler passes on every signal it did not send), and a mask that
 * blocks it disarms the thread's timer first.  Every other signal, and
 * every call when sampling is off, goes straight to libc, with libc's
 * result and errno.
 */
#include "call.h"
#include "real.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

SW_EXPORT int sigaction(int sig, const struct sigaction *act,
			struct sigaction *old)
{
	if (sw_likely(!sw_sampler_owns(sig)))
		return SW_REAL(sigaction)(sig, act, old);
	return sw_sampler_fake_sigaction(act, old);
}

SW_EXPORT int __sigaction(int sig, const struct sigaction *act,
			  struct sigaction *old)
{
	return sigaction(sig, act, old);
}

/* signal()-style calls: `flags` are the semantics of that variant. */
static sighandler_t fake_signal(sighandler_t handler, int flags)
{
	struct sigaction act, old;

	if (handler == SIG_ERR) {
		errno = EINVAL;
		return SIG_ERR;
	}
	memset(&act, 0, sizeof(act));
	act.sa_handler = handler;
	act.sa_flags = flags;
	sw_sampler_fake_sigaction(&act, &old);
	return (old.sa_flags & SA_SIGINFO)
		   ? (sighandler_t)(void *)old.sa_sigaction
		   : old.sa_handler;
}

SW_EXPORT sighandler_t signal(int sig, sighandler_t h)
{
	return sw_sampler_owns(sig) ? fake_signal(h, SA_RESTART)
				    : SW_REAL(signal)(sig, h);
}

SW_EXPORT sighandler_t bsd_signal(int sig, sighandler_t h)
{
	return sw_sampler_owns(sig) ? fake_signal(h, SA_RESTART)
				    : SW_REAL(bsd_signal)(sig, h);
}

SW_EXPORT sighandler_t ssignal(int sig, sighandler_t h)
{
	return sw_sampler_owns(sig) ? fake_signal(h, SA_RESTART)
				    : SW_REAL(ssignal)(sig, h);
}

SW_EXPORT sighandler_t sysv_signal(int sig, sighandler_t h)
{
	return sw_sampler_owns(sig) ? fake_signal(h, SA_RESETHAND | SA_NODEFER)
				    : SW_REAL(sysv_signal)(sig, h);
}

SW_EXPORT sighandler_t __sysv_signal(int sig, sighandler_t h)
{
	return sw_sampler_owns(sig) ? fake_signal(h, SA_RESETHAND | SA_NODEFER)
				    : SW_REAL(__sysv_signal)(sig, h);
}

/* sigset is deprecated, but programs still call it (real.h). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
SW_EXPORT sighandler_t sigset(int sig, sighandler_t h)
{
	sigset_t one;
	struct sigaction old;

	if (!sw_sampler_owns(sig))
		return SW_REAL(sigset)(sig, h);
	sigemptyset(&one);
	sigaddset(&one, sig);
	if (h == SIG_HOLD) {
		sw_sampler_fake_sigaction(NULL, &old);
		pthread_sigmask(SIG_BLOCK, &one, NULL);
		return old.sa_handler;
	}
	pthread_sigmask(SIG_UNBLOCK, &one, NULL);
	return fake_signal(h, 0);
}
#pragma GCC diagnostic pop

SW_EXPORT int pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
	return sw_sampler_mask_change(1, how, set, old);
}

SW_EXPORT int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
	return sw_sampler_mask_change(0, how, set, old);
}
