/*
 * perfmap.h - names for JIT code from perf map files.
 *
 * node --perf-basic-prof writes "START SIZE name" lines (hex without 0x)
 * to /tmp/perf-PID.map; the shim copies it beside the trace at exit.  V8
 * reuses addresses, so a later line for the same address wins.
 */
#ifndef SW_PERFMAP_H
#define SW_PERFMAP_H

#include <stddef.h>
#include <stdint.h>

struct sw_perfmap;

/* Load a map file; NULL when absent or unreadable (not an error). */
struct sw_perfmap *sw_perfmap_load(const char *path);
/* The name covering addr, or NULL. */
const char *sw_perfmap_lookup(const struct sw_perfmap *map, uint64_t addr);
void sw_perfmap_free(struct sw_perfmap *map);

#endif
