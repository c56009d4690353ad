/*
 * pymerge.h - place Python frames among native ones.
 *
 * A record carries native return addresses and, separately, the Python
 * frames the thread was running (sw_trace.h: struct sw_pyframe).  In the
 * merged stack each run of Python frames stands where the native
 * interpreter frame that runs it stands: a native frame whose function is
 * an eval loop (_PyEval_EvalFrameDefault, and _PyEval_EvalFrame /
 * PyEval_EvalFrameEx on older versions) takes the Python frames up to and
 * including the next one flagged SW_PYF_ENTRY.
 */
#ifndef SW_PYMERGE_H
#define SW_PYMERGE_H

#include "../include/sw_trace.h"
#include "model.h"
#include "reader.h"

/* Is this native function name an interpreter eval loop? */
int sw_is_eval_function(const char *name);

/*
 * Merge `native` (innermost first) with `py` (innermost first).  Python
 * frames that no eval frame claims (no symbols for the interpreter) are
 * placed just outside the innermost run of frames from the shim/libc, and
 * a note is added by the caller.  *out is malloc'ed; frames' strings are
 * newly allocated copies.  Returns 0, -1 on allocation failure.
 */
int sw_pymerge(const struct sw_frame *native, size_t nnative,
	       const struct sw_pyframe *py, size_t npy,
	       const struct sw_pycodes *codes, struct sw_frame **out,
	       size_t *nout, int *unplaced);

#endif
