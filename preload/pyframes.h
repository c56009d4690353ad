/*
 * pyframes.h - CPython frames read from memory (pyframes.c, layouts in
 * pylayout.h): safe in a signal handler, no Python API.
 */
#ifndef SW_PYFRAMES_H
#define SW_PYFRAMES_H

#include "base.h"

/*
 * Prepare the Python walker for this thread/process (looks the interpreter
 * up with dlsym): call outside signal handlers, e.g. when a thread becomes
 * a loop thread.  Cheap after the first call.
 */
void sw_py_prepare(void);
/*
 * Capture the calling thread's Python frames, innermost first, emitting
 * SW_REC_PYCODE records for code objects not seen before.  Safe in a signal
 * handler: no allocation, no locks, no Python API, faulting reads return
 * errors.  Returns the number of frames (0 when not a Python thread); sets
 * *unknown when it is a Python thread whose frames could not be read.
 */
int sw_py_capture(struct sw_pyframe *out, int max, int *unknown);
/* A new trace file (rotation): code objects are written again, with new
 * ids, the next time a sample meets them.  Async-signal-safe. */
void sw_py_new_file(void);
/* In a forked child: forget the parent's code ids (its file is gone). */
void sw_py_atfork_child(void);

/* sw_py_is_gil_cond, which the condition-wait wrappers ask: call.h. */

#endif
