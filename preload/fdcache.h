/*
 * fdcache.h - per-fd kind and O_NONBLOCK state, so strict mode can tell a
 * blocking read from a non-blocking one without an fcntl per call.
 *
 * One byte per fd below SW_FDC_SIZE, read and written with relaxed atomics
 * (no locks: any thread may close or fcntl an fd).  The wrappers that
 * create, change or close fds keep it true; an fd with no entry is looked
 * up with fstat + fcntl(F_GETFL) on first use.  Fds that glibc opens and
 * closes internally (fopen/fclose) are invisible to the wrappers, so every
 * fd-returning wrapper also resets the entry of the fd it returns.
 */
#ifndef SW_FDCACHE_H
#define SW_FDCACHE_H

#include <stdint.h>

#include "sw_trace.h"

#define SW_FDC_SIZE	65536
#define SW_FDC_VALID	0x80u
#define SW_FDC_NONBLOCK 0x40u
#define SW_FDC_LOOP	0x20u /* some loop waits on this epoll fd */
#define SW_FDC_SUSPECT	0x10u /* O_NONBLOCK to be checked again on next use */
#define SW_FDC_KIND	0x0fu /* enum sw_fd_kind */

extern uint8_t sw_fdc[SW_FDC_SIZE];

static inline uint8_t sw_fdc_peek(int fd)
{
	if ((unsigned)fd >= SW_FDC_SIZE)
		return 0;
	return __atomic_load_n(&sw_fdc[fd], __ATOMIC_RELAXED);
}

/* Does the cache say fd is a socket or pipe with O_NONBLOCK set, so that
 * its reads and writes cannot sleep?  (A miss says no.) */
static inline int sw_fdc_nosleep(int fd)
{
	unsigned v = sw_fdc_peek(fd);

	if ((v & (SW_FDC_VALID | SW_FDC_NONBLOCK | SW_FDC_SUSPECT)) !=
	    (SW_FDC_VALID | SW_FDC_NONBLOCK))
		return 0;
	return ((1u << (v & SW_FDC_KIND)) &
		((1u << SW_FD_SOCKET) | (1u << SW_FD_PIPE))) != 0;
}

/*
 * Store what we know of fd, keeping the loop bit: only loop.c sets and
 * clears it (sw_fdc_mark_loop), because only it knows when a loop ends.
 * A vfork child closing the parent's fds before exec shares this table
 * and must not make the parent forget its loops.
 */
static inline void sw_fdc_store(int fd, uint8_t v)
{
	uint8_t old;

	if ((unsigned)fd >= SW_FDC_SIZE)
		return;
	old = __atomic_load_n(&sw_fdc[fd], __ATOMIC_RELAXED);
	v = (uint8_t)((v & ~SW_FDC_LOOP) | (old & SW_FDC_LOOP));
	if (v != old)
		__atomic_store_n(&sw_fdc[fd], v, __ATOMIC_RELAXED);
}

/* A new fd of a known kind (socket, accept4, pipe2...). */
static inline void sw_fdc_set(int fd, int kind, int nonblock)
{
	sw_fdc_store(fd, (uint8_t)(SW_FDC_VALID | (unsigned)kind |
				   (nonblock ? SW_FDC_NONBLOCK : 0)));
}

/* Closed, or reopened as something we do not know yet (the loop bit
 * stays: see sw_fdc_store). */
static inline void sw_fdc_forget(int fd)
{
	sw_fdc_store(fd, 0);
}

/* Entry for fd (SW_FDC_VALID set), looking it up when missing; 0 when fd
 * is not open.  Costs two syscalls on a miss. */
uint8_t sw_fdc_lookup(int fd);
/* fcntl(F_SETFL) / ioctl(FIONBIO) changed O_NONBLOCK. */
void sw_fdc_set_nonblock(int fd, int nonblock);
/* dup/dup2/dup3/F_DUPFD: newfd shares oldfd's open file description. */
void sw_fdc_copy(int oldfd, int newfd);
/* close_range/closefrom: forget [lo, hi]; returns whether a loop fd was
 * among them. */
int sw_fdc_forget_range(unsigned lo, unsigned hi);
/* Mark/unmark an epoll fd as a loop's. */
void sw_fdc_mark_loop(int fd, int on);
/*
 * The safety net for an O_NONBLOCK cleared where no wrapper saw it (by
 * another process sharing the open file description, or a raw fcntl):
 * a loop thread slept through a stall outside every timed call, so every
 * socket and pipe the cache calls non-blocking is suspect, and checked
 * again (one fcntl) on its next call in a turn.  At most once a second;
 * `now_ns` is the time.
 */
void sw_fdc_suspect_all(uint64_t now_ns);
/* A suspect fd's next call: 1 if it is still non-blocking (cannot
 * sleep); otherwise its calls are timed from now on, with a note. */
int sw_fdc_recheck(int fd);

#endif
