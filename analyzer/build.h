/*
 * build.h - the state shared by the steps that turn traces into a report
 * (internal to load.c, sites.c, stalls.c and tests.c):
 *   load.c    read and pair trace files, processes, notes, the driver
 *   sites.c   records -> raw stacks -> sites grouped by place, ranking
 *   stalls.c  each stall explained by the events of its turn
 *   tests.c   which test each event, stall and site ran in
 */
#ifndef SW_BUILD_H
#define SW_BUILD_H

#include "hashmap.h"
#include "model.h"
#include "place.h"
#include "reader.h"
#include "symbolize.h"

/* An event with what links it to its stall; parallel to report.events
 * while loading.  ev.site is a raw stack index until sw_sites_group(). */
struct sw_ev_link {
	struct sw_event ev;
	size_t pos;
	uint32_t loop_id, turn_seq;
	uint16_t kind;
};

/* One distinct stack of one kind and call (a site's variant to be). */
struct sw_stack {
	enum sw_site_kind kind;
	const char *call;
	int fd_kind;
	int strict_only;
	uint64_t count, total_ns, max_ns;
	struct sw_frame *frames;
	size_t nframes;
	size_t site, variant; /* set by sw_sites_group() */
};

struct sw_builder {
	struct sw_report *rep;
	const struct sw_load_opts *opts;
	size_t cap_events, cap_notes, cap_tests;
	struct sw_stack *stacks;
	size_t nstacks, cap_stacks;
	struct sw_strmap stack_by_key;
	struct sw_intmap stack_by_caller; /* (process, kind, call, ips[0]) */
	struct sw_wordmap stack_by_raw;	  /* a process's raw stack */
	struct sw_strmap notes_seen;
	struct sw_strmap test_names;
	struct sw_ev_link *links; /* parallel to rep->events */
	size_t cap_links;
};

void sw_build_note(struct sw_builder *b, char *msg);
void sw_frames_free(struct sw_frame *f, size_t n);

/* sites.c */
void sw_sites_add_events(struct sw_builder *b, size_t pi,
			 const struct sw_trace *t, struct sw_symbolizer *sym,
			 int *unplaced);
/* Raw stacks -> sites by place and kind; events' site and variant. */
void sw_sites_group(struct sw_builder *b);
/* Sites ranked by total time; events' and stalls' indices follow. */
void sw_sites_rank(struct sw_report *rep);

/* stalls.c: stalls from every trace, linked to the sorted events es,
 * explained; CPU time before a turn's first sample given to its samples
 * (events' total_ns, sites' totals). */
void sw_stalls_build(struct sw_builder *b, struct sw_trace *traces,
		     size_t ntraces, struct sw_ev_link *es);

/* tests.c: the test of every event (es sorted by process and time), stall
 * and site. */
void sw_tests_assign(struct sw_builder *b, struct sw_trace *traces,
		     size_t ntraces, struct sw_ev_link *es);

#endif
