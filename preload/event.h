/*
 * event.h - the one encoder of SW_REC_EVENT records (event.c): a timed
 * call (record.c), a CPU sample (sampler.c), a thread found asleep in an
 * unwrapped system call (watchdog.c).
 *
 * The caller fills the fixed part's fields and the tail in place
 * (sw_event_ips, then sw_event_py after nips frames); sw_event_write sets
 * the counts and the size and writes the record.  Async-signal-safe.
 */
#ifndef SW_EVENT_H
#define SW_EVENT_H

#include "base.h"

struct sw_loop_slot;

/* An event record with room for the longest tail (~4 KiB, on the stack). */
struct sw_event_rec {
	struct sw_rec_event ev;
	uint64_t
	    tail[SW_MAX_IPS + SW_MAX_PYFRAMES * sizeof(struct sw_pyframe) / 8];
};

/* Zero the record and set its kind and call, count 1, no fd, and (when
 * slot is not NULL) the slot's tid, loop and current turn. */
void sw_event_init(struct sw_event_rec *r, enum sw_event_kind kind,
		   enum sw_call call, const struct sw_loop_slot *slot);

static inline uint64_t *sw_event_ips(struct sw_event_rec *r)
{
	return r->tail;
}

/* The Python frames follow the nips native ones. */
static inline struct sw_pyframe *sw_event_py(struct sw_event_rec *r, int nips)
{
	return (struct sw_pyframe *)(void *)(r->tail + nips);
}

/* Set the tail's counts and the size, then write the record (sw_emit):
 * 0, or -1 when recording has stopped. */
int sw_event_write(struct sw_event_rec *r, int nips, int npy);

#endif
