/*
 * follow.h - follow trace files as running processes write them, for
 * `stallwatch top`.
 *
 * Each poll reads only what was appended since the last one (from the
 * last offset); a record cut in the middle of its write(2) is left for
 * the next poll, not treated as damage.  What it keeps per loop is what a
 * live view needs: the recent heartbeats (cumulative turn counts, busy
 * time and lag histograms, so the difference of two is a window), and the
 * stalls and blocking calls / CPU samples of the last few minutes, each
 * with the place in the program's code it happened.
 */
#ifndef SW_FOLLOW_H
#define SW_FOLLOW_H

#include <stddef.h>
#include <stdint.h>

#include "../include/sw_hist.h"

#define SW_FOLLOW_HB 64 /* heartbeats kept per loop */

struct sw_fhb {
	uint64_t time_ns, turns, busy_ns, stalls, max_turn_ns;
	uint64_t buckets[SW_HIST_BUCKETS]; /* cumulative counts */
};

/* A stall, blocking call or CPU sample of the recent past. */
struct sw_fitem {
	uint64_t time_ns; /* start */
	uint64_t weight;  /* stall: its length; else blocked / CPU time */
	uint32_t place;	  /* index into the process's places (not stalls) */
	uint8_t what;	  /* SW_FI_* */
};
enum { SW_FI_STALL = 0, SW_FI_BLOCKED = 1, SW_FI_CPU = 2 };

struct sw_floop {
	uint32_t loop_id, tid;
	char thread_name[17];
	int ended;
	uint64_t born_ns;
	struct sw_fhb *hb; /* ring of SW_FOLLOW_HB, oldest at hb_first */
	size_t nhb, hb_first;
	struct sw_fitem *items; /* time order, older than the horizon pruned */
	size_t nitems, capitems;
};

struct sw_fproc {
	uint32_t pid;
	uint64_t start_mono_ns;
	char *comm, *command;
	int ended;  /* SW_REC_END read */
	int broken; /* a corrupt record: no longer followed */
	uint64_t sample_interval_ns, threshold_ns;
	struct sw_floop *loops;
	size_t nloops, caploops;
	char **places; /* "handler (app.py:12) → recv" */
	size_t nplaces, capplaces;
	void *priv; /* follow.c's own state: files, symbolizer, caches */
};

struct sw_follow {
	char **roots; /* files and directories to watch */
	size_t nroots;
	uint64_t horizon_ns; /* how long items are kept (default 5 min) */
	struct sw_fproc **procs;
	size_t nprocs, capprocs;
	void *priv;
};

/* roots: files, or directories (their *.swtrace files and those of
 * their subdirectories, one level down, as `run` lays them out). */
void sw_follow_init(struct sw_follow *f, char *const *roots, size_t n);
/* Find new files and read what every followed file gained.  Returns the
 * number of bytes read. */
uint64_t sw_follow_poll(struct sw_follow *f);
/* Is the process still running (its pid alive and no end record)? */
int sw_follow_running(const struct sw_fproc *p);
void sw_follow_free(struct sw_follow *f);

#endif
