/*
 * loop.h - loop threads and their turns (loop.c): slots, turn timing,
 * histograms, stall and loop records, heartbeats (doc/design.md, "The
 * loop model").  The waits the wrappers report are in call.h.
 */
#ifndef SW_LOOP_H
#define SW_LOOP_H

#include <stdint.h>

struct sw_loop_slot;

void sw_loop_init(void);
/* In a forked child: forget the parent's loops (the forking thread's
 * starts afresh at its next wait). */
void sw_loop_atfork_child(void);
/* A heartbeat for one loop now (final=1 at loop end and exit). */
void sw_loop_heartbeat(struct sw_loop_slot *slot, uint64_t now_ns, int final);
/* Heartbeats for every live loop; at exit with final=1. */
void sw_loop_heartbeat_all(uint64_t now_ns, int final);
/* A SW_REC_LOOP record for every live loop again (a new trace file after
 * a rotation).  Async-signal-safe. */
void sw_loop_reemit_all(uint64_t now_ns);

#endif
