/*
 * wrap_thread.c - pthread_create: the last moment a process is
 * single-threaded.
 *
 * Recording starts at the first loop wait (lifecycle.c), and loading libunwind
 * and creating the trace file then borrow descriptor numbers for a
 * moment, which another of the program's threads opening a descriptor at
 * that instant would not get (doc/design.md, "Living inside the host").
 * So a process that may record does both just before it creates its
 * first thread, when no other thread can open anything: libunwind is
 * memory only, and the trace file is anonymous (O_TMPFILE, one
 * close-on-exec descriptor in the high range, nothing on disk) until the
 * first loop wait names it.  The cost: a program that starts threads but
 * never runs a loop holds that one descriptor.  A single-threaded program
 * does all this at its first loop wait, where no one else can be opening
 * anything either.
 */
#include "call.h"
#include "real.h"

#include <errno.h>
#include <pthread.h>
#include <sys/single_threaded.h>

SW_EXPORT int pthread_create(pthread_t *th, const pthread_attr_t *attr,
			     void *(*start)(void *), void *arg)
{
	if (sw_unlikely(sw_armed) && !sw_active && __libc_single_threaded &&
	    !sw_tls.guard) {
		sw_before_first_thread();
	}
	return SW_REAL(pthread_create)(th, attr, start, arg);
}
