/*
 * testname.h - the running test (pytest's PYTEST_CURRENT_TEST, seen
 * through the environment wrappers) as SW_REC_TEST records (testname.c).
 */
#ifndef SW_TESTNAME_H
#define SW_TESTNAME_H

#include <stdatomic.h>
#include <stdint.h>

/* Constructor: resolve setenv & co., and take the test already named in
 * the environment, before the program's threads exist. */
void sw_test_init(void);
/* In a forked child: its new file gets the test in force again. */
void sw_test_atfork_child(void);
/*
 * A record is about to be written from a loop thread (not a signal
 * handler): write SW_REC_TEST first if the running test changed.  `at_ns`
 * is the start of what that record describes.  Costs one getenv; call
 * only on the record path.
 */
void sw_test_note(uint64_t at_ns);
/* The writer started a new file (rotation): the test in force goes into
 * it too.  Async-signal-safe. */
void sw_test_new_file(void);

/* Bumped by the environment wrappers when the running test may have
 * changed; sw_test_seen_seq is the value sw_test_note() last compared. */
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

#endif
