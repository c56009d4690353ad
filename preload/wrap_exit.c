/*
 * wrap_exit.c - _exit and _Exit: the end record before a process ends
 * without running destructors.
 *
 * Python's os._exit, multiprocessing workers and forked servers end this
 * way; without an end record the report said the process was killed or
 * crashed (doc/design.md, "How a process ended").  The end record says
 * SW_END_UNDERSCORE and the status; then the process ends exactly as
 * glibc's _exit does (exit_group, then exit).  syscall(SYS_exit_group)
 * comes here through wrap_syscall.c.
 */
#undef _FORTIFY_SOURCE
#include "call.h"
#include "real.h"

#include <sys/syscall.h>

void sw_exit_underscore(int status)
{
	int saved = errno;

	/* Not inside the shim or the loader (a signal handler that
	 * interrupted them: the end path reads the loader's module list),
	 * and never in a vfork child, which shares the parent's memory and
	 * would end the parent's recording.  The process then reads as not
	 * exited, as before. */
	if (!sw_active || sw_tls.guard || sw_tls.in_loader ||
	    sw_in_vfork_child())
		goto out;
	sw_finish(SW_END_UNDERSCORE, status);
out:
	errno = saved;
}

static __attribute__((noreturn)) void end_now(int status)
{
	sw_exit_underscore(status);
	for (;;) {
		sw_raw_syscall(SYS_exit_group, status, 0, 0, 0, 0, 0);
		sw_raw_syscall(SYS_exit, status, 0, 0, 0, 0, 0);
	}
}

SW_EXPORT void _exit(int status)
{
	end_now(status);
}

SW_EXPORT void _Exit(int status)
{
	end_now(status);
}
