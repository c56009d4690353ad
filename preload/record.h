/*
 * record.h - records of timed calls (record.c): the call threshold and
 * strict-mode rules, the per-site flood limit, GIL-wait totals.  The
 * wrappers' side of it (struct sw_call_ctx, SW_TIMED) is in call.h.
 */
#ifndef SW_RECORD_H
#define SW_RECORD_H

#include <stdint.h>

#include "base.h"

struct sw_loop_slot;

/*
 * Record a call that a wrapper timed on a loop thread in a turn: applies
 * the call threshold (or strict mode), the per-site flood limit, captures
 * the stacks and emits SW_REC_EVENT.  `caller` is the wrapper's return
 * address, the site key for flood limits.
 */
void sw_record_call(enum sw_call call, enum sw_event_kind kind, int fd,
		    uint64_t start_ns, uint64_t duration_ns,
		    int blocking_capable, void *caller);
/* At turn end: one SW_EV_GIL_WAIT event for the turn's GIL waits. */
void sw_gil_turn_end(struct sw_loop_slot *slot);
/* Flood-limit remainders as SW_EVF_COUNT_ONLY events (heartbeat/exit). */
void sw_record_flush(struct sw_loop_slot *slot);
/* A slot starts a new loop: forget its sites and GIL state. */
void sw_record_reset(struct sw_loop_slot *slot);

#endif
