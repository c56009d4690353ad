/*
 * ownfd.h - the shim's own descriptors, in a protected high range
 * (ownfd.c).  The close/dup/close_range wrappers ask sw_ownfd_owns().
 */
#ifndef SW_OWNFD_H
#define SW_OWNFD_H

#include <stdatomic.h>

/* Told when an owned fd moves (dup2 onto it) to newfd, or is gone
 * (newfd -1: no room to move it, or a forked child dropped it). */
typedef void (*sw_ownfd_moved_fn)(void *arg, int oldfd, int newfd);

/* The lowest owned fd, INT_MAX when none: the fast test. */
extern _Atomic int sw_ownfd_min;

/* Constructor, before anything else of the shim: an empty table. */
void sw_ownfd_init(void);
/* The floor of the high range: 900, or half RLIMIT_NOFILE if lower. */
int sw_ownfd_floor(void);
/* Move a fd the shim just created into the high range, close-on-exec;
 * returns the new number (the old one is closed), or fd itself when there
 * is no room.  errno preserved. */
int sw_ownfd_move_high(int fd);
/* Register / forget an owned fd.  add returns -1 when the table is full. */
int sw_ownfd_add(int fd, sw_ownfd_moved_fn moved, void *arg);
void sw_ownfd_del(int fd);
int sw_ownfd_owns_slow(int fd);
static inline int sw_ownfd_owns(int fd)
{
	return fd >=
		   atomic_load_explicit(&sw_ownfd_min, memory_order_relaxed) &&
	       sw_ownfd_owns_slow(fd);
}
/* dup2/dup3 onto an owned fd: move it elsewhere first. */
void sw_ownfd_evacuate(int fd);
/* The owned fds, ascending (for close_range/closefrom). */
int sw_ownfd_sorted(int *out, int max);
/* In a forked child: close every owned fd, telling its owner. */
void sw_ownfd_atfork_child(void);

#endif
