/*
 * extras.h - calls between the core and the modules that name what the
 * wrappers alone cannot: how the process ended (wrap_exit.c) and which
 * test was running (testname.c).
 */
#ifndef SW_EXTRAS_H
#define SW_EXTRAS_H

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
/* testname.c: the writer started a new file (rotation): the test in force
 * goes into it too.  Async-signal-safe. */
void sw_test_new_file(void);

#endif
