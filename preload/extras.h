/*
 * extras.h - calls between the core and the modules that name what the
 * wrappers alone cannot: how the process ended (wrap_exit.c) and which
 * test was running (testname.c).
 */
#ifndef SW_EXTRAS_H
#define SW_EXTRAS_H

#include <stdatomic.h>
#include <stdint.h>

/* init.c: final heartbeats and the end record, saying how the process
 * ended (enum sw_end_how) and its exit status.  The destructor and the
 * _exit family (wrap_exit.c) both end here. */
void sw_finish(uint32_t how, int32_t status);

/* wrap_exit.c: the process ends now without destructors (_exit, _Exit,
 * syscall(SYS_exit_group)): write the end record if recording.  errno is
 * left alone. */
void sw_exit_underscore(int status);

/*
 * testname.c: a record is about to be written from a loop thread (not a
 * signal handler): write SW_REC_TEST first if the running test changed.
 * `at_ns` is the start of what that record describes.  Costs one getenv;
 * call only on the record path.
 */
void sw_test_note(uint64_t at_ns);
/* testname.c: bumped by the environment wrappers when the running test may
 * have changed; sw_test_seen_seq is the value sw_test_note() last compared. */
extern _Atomic uint32_t sw_test_seq;
extern _Atomic uint32_t sw_test_seen_seq;

/* A loop turn starts at `now_ns`: name the test if it changed (two relaxed
 * loads while it has not). */
static inline void sw_test_turn(uint64_t now_ns)
{
	if (__builtin_expect(
		__atomic_load_n(&sw_test_seq, __ATOMIC_RELAXED) !=
		    __atomic_load_n(&sw_test_seen_seq, __ATOMIC_RELAXED),
		0))
		sw_test_note(now_ns);
}

/* testname.c: the writer started a new file (rotation): the test in force
 * goes into it too.  Async-signal-safe. */
void sw_test_new_file(void);

#endif
