/*
 * wrap_cred.c - setuid and kin: a process that drops root before it runs
 * its loop (nginx and other daemons' workers) keeps a place to record.
 *
 * Recording starts at the first loop wait (lifecycle.c), which in such a worker
 * comes after it became an unprivileged user who can no longer create a
 * file in the root-owned output directory.  So when a process running as
 * root that may record but has not started is about to change its user
 * id, the trace file is created first (sw_prepare_drop): it is then one
 * of the shim's own descriptors, written when the loop starts.  A process
 * that never runs a loop after all leaves that file with its process
 * record only (doc/design.md, "Nothing without a loop": the one
 * exception).  Each wrapper then makes the real call; results and errno
 * are the real call's.
 */
#include "call.h"
#include "real.h"

#include <errno.h>
#include <unistd.h>

/* Only root becoming someone else: one branch otherwise. */
static inline void before(uid_t to)
{
	if (sw_unlikely(sw_armed) && !sw_active && to != 0 && to != (uid_t)-1 &&
	    geteuid() == 0)
		sw_prepare_drop();
}

SW_EXPORT int setuid(uid_t u)
{
	before(u);
	return SW_REAL(setuid)(u);
}

SW_EXPORT int seteuid(uid_t u)
{
	before(u);
	return SW_REAL(seteuid)(u);
}

SW_EXPORT int setreuid(uid_t r, uid_t e)
{
	before(e != (uid_t)-1 ? e : r);
	return SW_REAL(setreuid)(r, e);
}

SW_EXPORT int setresuid(uid_t r, uid_t e, uid_t s)
{
	before(e != (uid_t)-1 ? e : r);
	return SW_REAL(setresuid)(r, e, s);
}
