/*
 * base.h - what every file of the shim shares: the trace format it
 * writes, symbol visibility, the TLS model, branch hints.
 *
 * The shim is built with -fvisibility=hidden: only the wrapped libc
 * functions are exported (SW_EXPORT).  Thread-local state is
 * initial-exec, so touching it never allocates (a wrapper may run before
 * libc has set up anything else, or inside malloc).
 */
#ifndef SW_BASE_H
#define SW_BASE_H

#include <stddef.h>
#include <stdint.h>

#include "sw_calls.h"
#include "sw_hist.h"
#include "sw_trace.h"

#define SW_EXPORT      __attribute__((visibility("default")))
#define SW_TLS	       __thread __attribute__((tls_model("initial-exec")))
#define sw_likely(x)   __builtin_expect(!!(x), 1)
#define sw_unlikely(x) __builtin_expect(!!(x), 0)

#endif
