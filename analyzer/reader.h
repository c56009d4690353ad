/*
 * reader.h - trace files -> validated, decoded records.
 *
 * The reader trusts nothing in a file: every size, count and length is
 * checked against the bytes actually present before anything is copied
 * or allocated.  A torn last record is skipped (torn_bytes); corruption
 * in the middle stops the file there, keeping what was read before it;
 * both leave a note.  Only a file that is not a trace at all (unreadable,
 * bad magic or version, no valid process record) is an error.
 */
#ifndef SW_READER_H
#define SW_READER_H

#include <stddef.h>
#include <stdint.h>

#include "../include/sw_trace.h"

/* Names of one process's code ids, from its SW_REC_PYCODE records. */
struct sw_pycode {
	uint32_t code_id;
	int first_line;
	char *name;
	char *file;
};

struct sw_pycodes {
	struct sw_pycode *v; /* sorted by code_id for bsearch */
	size_t n, cap;
};

struct sw_tmodule {
	uint64_t bias, base;
	uint32_t flags; /* SW_MOD_* */
	uint32_t nsegments;
	struct sw_segment *segments;
	uint8_t build_id[SW_BUILD_ID_MAX];
	uint32_t build_id_len;
	char *path;
	size_t first_event; /* events read before this record */
};

struct sw_tevent {
	struct sw_rec_event rec; /* fixed part, copied */
	uint64_t *ips;		 /* rec.nips, innermost first (in ipsv) */
	struct sw_pyframe *py;	 /* rec.npy, innermost first (in pyv) */
};

struct sw_tloop {
	struct sw_rec_loop rec;
	int ended;
	uint64_t end_ns;
	char thread_name[17];
	int has_heartbeat;
	struct sw_rec_heartbeat hb; /* the latest heartbeat */
	uint64_t *buckets; /* SW_HIST_BUCKETS, NULL without heartbeat */
};

struct sw_tnote {
	uint32_t level;
	uint64_t time_ns;
	char *text;
};

/* A SW_REC_TEST record: the test running from time_ns on. */
struct sw_ttest {
	uint64_t time_ns;
	uint32_t source;
	char *name; /* "" when no test runs */
};

struct sw_trace {
	char *path;
	struct sw_rec_process proc;
	char *cmdline; /* argv joined with spaces */
	char *exe, *comm;

	struct sw_tmodule *modules;
	size_t nmodules, cap_modules;
	struct sw_tloop *loops;
	size_t nloops, cap_loops;
	struct sw_tevent *events;
	size_t nevents, cap_events;
	/* Every event's stack, back to back (one allocation instead of two
	 * per record): events[i].ips and .py point in here. */
	uint64_t *ipsv;
	size_t nipsv, cap_ipsv;
	struct sw_pyframe *pyv;
	size_t npyv, cap_pyv;
	struct sw_rec_stall *stalls;
	size_t nstalls, cap_stalls;
	struct sw_pycodes pycodes;
	struct sw_tnote *notes; /* SW_REC_NOTE records from the shim */
	size_t nnotes, cap_notes;

	struct sw_ttest *tests; /* in file order */
	size_t ntests, cap_tests;
	int has_dropped;
	struct sw_rec_dropped dropped; /* the latest (cumulative) */

	int has_end;
	struct sw_rec_end end; /* zero-filled past an older, shorter record */

	uint64_t records;    /* valid records read */
	uint64_t torn_bytes; /* bytes of a torn last record */
	uint64_t skipped;    /* records of unknown type or kind */
	uint64_t corrupt_at; /* offset where corruption stopped reading */
	int corrupt;	     /* 1 when corrupt_at is set */
	char **problems;     /* reader's own notes about this file */
	size_t nproblems, cap_problems;
};

/*
 * Decode a whole trace held in memory.  Returns 0, or -1 with a one-line
 * reason in err (not a trace, bad version, bad process record).  The
 * trace must be freed with sw_trace_free() in both cases.
 */
int sw_trace_parse(struct sw_trace *t, const void *buf, size_t len,
		   const char *path, char *err, size_t errlen);
/* Read and decode a file; -1 with a reason (unreadable or not a trace). */
int sw_trace_read(struct sw_trace *t, const char *path, char *err,
		  size_t errlen);
void sw_trace_free(struct sw_trace *t);

/* Two files of one process (a rotation kept X.swtrace.1 and X.swtrace):
 * names of Python code ids that dst lacks are taken from src, so frames
 * whose code was named before the rotation keep their names. */
void sw_trace_adopt_pycodes(struct sw_trace *dst, const struct sw_trace *src);

/* Find a loop of the trace by id; NULL when unknown. */
struct sw_tloop *sw_trace_loop(struct sw_trace *t, uint32_t loop_id);

/*
 * Expand the paths given on a command line: files as they are, directories
 * to their *.swtrace files (sorted).  Returns 0, or -1 with a reason in
 * err for a path that does not exist or cannot be listed.
 */
int sw_trace_expand(char *const *paths, size_t npaths, char ***files,
		    size_t *nfiles, char *err, size_t errlen);

#endif
