/*
 * lifecycle.h - the shim's life cycle (lifecycle.c): the constructor
 * arms, the first loop wait starts recording, the destructor (or _exit)
 * finishes, a forked child starts over.  The order in which modules start
 * and stop is written down there, and only there.
 */
#ifndef SW_LIFECYCLE_H
#define SW_LIFECYCLE_H

#include <stdint.h>

/* 1 while the shim records: set when recording starts, cleared when it
 * finishes (and never set when inert). */
extern volatile int sw_active;
/* 1 when the process may be recorded: recording starts at its first loop
 * wait (sw_start_recording); cleared if that fails. */
extern volatile int sw_armed;

/* Start recording (file, process record, modules, libunwind, sampler):
 * a loop thread's first wait, inside the guard.  0 when recording. */
int sw_start_recording(void);
/* Final heartbeats and the end record, saying how the process ended
 * (enum sw_end_how) and its exit status: from the destructor and from
 * the _exit family (wrap_exit.c). */
void sw_finish(uint32_t how, int32_t status);
/* An armed process running as root is about to become another user
 * (wrap_cred.c): create its trace file now, while it still can. */
void sw_prepare_drop(void);
/* An armed process creates its first thread (wrap_thread.c): load
 * libunwind and make its trace file in advance, anonymous, while no other
 * thread of the program can be opening descriptors. */
void sw_before_first_thread(void);
/* Are we in a vfork child that shares the parent's memory (and TLS)?
 * A getpid syscall: only for rare paths. */
int sw_in_vfork_child(void);

#endif
