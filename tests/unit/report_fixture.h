/*
 * report_fixture.h - reports for the unit tests: built by hand on one
 * skeleton (process 4242 running python3, its loop 1 on thread 4243) that
 * each suite adds its own data to, or loaded without symbols from a trace
 * built by hand (tracebuild.h); and a writer's output as a string.
 *
 * Each suite keeps its data in its own tables: only what is the same in
 * all of them is here.  A macro's trailing arguments are more designated
 * initializers of the same element, so what differs stays in sight; they
 * must not name a field the macro sets (-Werror=override-init).
 */
#ifndef SW_TEST_REPORT_FIXTURE_H
#define SW_TEST_REPORT_FIXTURE_H

#include <stddef.h>
#include <stdio.h>

#include "../../analyzer/model.h"

/* Elements in a table (an array, never a pointer). */
#define SW_T_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* The one process of a hand-built report and the thread of its loop; the
 * writers print both, and the tests spell them out in what they expect. */
#define SW_T_PID  4242
#define SW_T_TID  4243
#define SW_T_LIBC "/lib/x86_64-linux-gnu/libc.so.6"

/* Frames, innermost first in a table, one line each. */
#define SW_T_NATIVE(fn, mod, address)                                      \
	{                                                                  \
		.lang = SW_LANG_NATIVE, .function = (fn), .module = (mod), \
		.addr = (address)                                          \
	}
/* A native frame with debug information: its source file and line. */
#define SW_T_NATIVE_SRC(fn, src, ln, mod, address)                       \
	{                                                                \
		.lang = SW_LANG_NATIVE, .function = (fn), .file = (src), \
		.line = (ln), .module = (mod), .addr = (address)         \
	}
#define SW_T_PYTHON(fn, src, ln)                                         \
	{                                                                \
		.lang = SW_LANG_PYTHON, .function = (fn), .file = (src), \
		.line = (ln)                                             \
	}

/* A site of n occurrences of kind k and call `name` taking `total` ns,
 * the longest `max`, whose (heaviest) stack is the frame table `stack`;
 * then the suite's own fields (fd_kind, place, variants). */
#define SW_T_SITE(k, name, n, total, max, stack, ...)                    \
	{                                                                \
		.kind = (k), .call = (name), .count = (n),               \
		.total_ns = (total), .max_ns = (max), .frames = (stack), \
		.nframes = SW_T_LEN(stack), __VA_ARGS__                  \
	}

/* A stall of the loop, explained by the sites whose indexes are the table
 * `why`; then the suite's own fields (blocked_ns, cpu_ns). */
#define SW_T_STALL(start, dur, why, ...)                                   \
	{                                                                  \
		.process = 0, .loop = 0, .pid = SW_T_PID, .tid = SW_T_TID, \
		.start_ns = (start), .duration_ns = (dur), .sites = (why), \
		.nsites = SW_T_LEN(why), __VA_ARGS__                       \
	}

/* An occurrence of site `at` on the loop's thread, in stall `in` (-1:
 * none), standing for n; then the suite's own fields (total_ns,
 * variant). */
#define SW_T_EVENT(start, dur, at, in, n, ...)                      \
	{                                                           \
		.process = 0, .tid = SW_T_TID, .start_ns = (start), \
		.duration_ns = (dur), .site = (at), .stall = (in),  \
		.count = (n), __VA_ARGS__                           \
	}

/* Loop 1 on the thread SW_T_TID; then the suite's own statistics. */
#define SW_T_LOOP(name, ...)                                          \
	{                                                             \
		.loop_id = 1, .tid = SW_T_TID, .thread_name = (name), \
		__VA_ARGS__                                           \
	}

/* The process: python3 started at 1 s on the monotonic clock, sampling
 * every 10 ms, with the loop table `lp`; then the suite's own fields. */
#define SW_T_PROCESS(cmd, lp, ...)                                            \
	{                                                                     \
		.pid = SW_T_PID, .command = (cmd), .exe = "/usr/bin/python3", \
		.comm = "python3", .start_mono_ns = 1000000000,               \
		.sample_interval_ns = 10000000, .loops = (lp),                \
		.nloops = SW_T_LEN(lp), __VA_ARGS__                           \
	}

/* The report over a suite's tables; no notes and no tests unless the
 * suite sets them. */
#define SW_T_REPORT(procs, site_table, stall_table, event_table) \
	((struct sw_report){.processes = (procs),                \
			    .nprocesses = SW_T_LEN(procs),       \
			    .sites = (site_table),               \
			    .nsites = SW_T_LEN(site_table),      \
			    .stalls = (stall_table),             \
			    .nstalls = SW_T_LEN(stall_table),    \
			    .events = (event_table),             \
			    .nevents = SW_T_LEN(event_table)})

/*
 * The writer's output on rep, NUL-terminated, its length in *len when len
 * is not NULL; the test fails when the writer reports an error.  Caller
 * frees.
 */
char *sw_t_capture(int (*writer)(const struct sw_report *, FILE *),
		   const struct sw_report *rep, size_t *len);

/* A trace file, or a directory of them, loaded quietly and without
 * symbols (the tests' executables are not on disk): sw_report_load()'s
 * 0 or -1. */
int sw_t_load_bare(const char *path, struct sw_report *rep);

#endif
