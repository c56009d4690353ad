/*
 * event.c - the one encoder of SW_REC_EVENT (event.h): the fixed part's
 * defaults, the tail's counts and the record's size in one place, so the
 * three writers of events cannot disagree on the layout.
 */
#include "event.h"

#include <stdatomic.h>
#include <string.h>

#include "slot.h"
#include "writer.h"

void sw_event_init(struct sw_event_rec *r, enum sw_event_kind kind,
		   enum sw_call call, const struct sw_loop_slot *slot)
{
	memset(&r->ev, 0, sizeof(r->ev));
	r->ev.h.type = SW_REC_EVENT;
	r->ev.kind = (uint16_t)kind;
	r->ev.call = (uint16_t)call;
	r->ev.count = 1;
	r->ev.fd = -1;
	r->ev.fd_kind = SW_FD_NONE;
	if (slot) {
		r->ev.tid =
		    atomic_load_explicit(&slot->tid, memory_order_relaxed);
		r->ev.loop_id =
		    atomic_load_explicit(&slot->loop_id, memory_order_relaxed);
		r->ev.turn_seq =
		    atomic_load_explicit(&slot->turn_seq, memory_order_relaxed);
	}
}

int sw_event_write(struct sw_event_rec *r, int nips, int npy)
{
	if (nips < 0)
		nips = 0;
	if (npy < 0)
		npy = 0;
	r->ev.nips = (uint16_t)nips;
	r->ev.npy = (uint16_t)npy;
	r->ev.h.size =
	    (uint32_t)(sizeof(r->ev) + (size_t)nips * sizeof(uint64_t) +
		       (size_t)npy * sizeof(struct sw_pyframe));
	return sw_emit(r, r->ev.h.size);
}
