/*
 * wrap_proc.c - waiting for child processes, system() and popen().
 * A wait without WNOHANG, system and popen are blocking-capable.
 */
#undef _FORTIFY_SOURCE
#include "call.h"
#include "real.h"

static inline enum sw_cap wait_cap(int options)
{
	return (options & WNOHANG) ? SW_CAP_NO : SW_CAP_YES;
}

SW_EXPORT pid_t waitpid(pid_t pid, int *status, int options)
{
	SW_TIMED(pid_t, SW_CALL_WAITPID, -1, wait_cap(options),
		 SW_REAL(waitpid)(pid, status, options));
}

SW_EXPORT pid_t wait4(pid_t pid, int *status, int options, struct rusage *usage)
{
	SW_TIMED(pid_t, SW_CALL_WAIT4, -1, wait_cap(options),
		 SW_REAL(wait4)(pid, status, options, usage));
}

SW_EXPORT int waitid(idtype_t idtype, id_t id, siginfo_t *info, int options)
{
	SW_TIMED(int, SW_CALL_WAITID, -1, wait_cap(options),
		 SW_REAL(waitid)(idtype, id, info, options));
}

SW_EXPORT pid_t wait(int *status)
{
	SW_TIMED(pid_t, SW_CALL_WAIT, -1, SW_CAP_YES, SW_REAL(wait)(status));
}

SW_EXPORT int system(const char *command)
{
	SW_TIMED(int, SW_CALL_SYSTEM, -1, SW_CAP_YES, SW_REAL(system)(command));
}

SW_EXPORT FILE *popen(const char *command, const char *type)
{
	SW_TIMED(FILE *, SW_CALL_POPEN, -1, SW_CAP_YES,
		 SW_REAL(popen)(command, type));
}
