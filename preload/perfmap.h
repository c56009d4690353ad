/*
 * perfmap.h - a JIT's perf map (node --perf-basic-prof) copied beside the
 * trace at exit (perfmap.c), so JavaScript frames get names.
 */
#ifndef SW_PERFMAP_H
#define SW_PERFMAP_H

/* At exit: copy the process's perf map (SW_PERF_MAP_FMT) beside the trace. */
void sw_perfmap_save(const char *trace_path);
/* At start and in a forked child: maps older than now are not ours. */
void sw_perfmap_arm(void);

#endif
