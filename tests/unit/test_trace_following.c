/*
 * test_trace_following.c - `top`'s reader follows a trace as it grows: a
 * record cut in the middle of its write is left for the next poll (not an
 * error), the next poll resumes at that offset and decodes it, every
 * heartbeat is kept for windows, events get their place, an end record
 * ends the process, a corrupt record stops following without a crash, and
 * a pid now held by a process that started after the trace's is not
 * taken for the traced process.  The traces name the test's own pid.
 */
#include <check.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../analyzer/follow.h"
#include "../../include/sw_calls.h"
#include "../support.h"
#include "tracebuild.h"

#include <time.h>

/* Times near now: top keeps only the last few minutes. */
static uint64_t base(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec -
	       10000000000ull;
}

/* The trace's process record says the shim started now: top checks
 * that the pid was not reused by a later process. */
static void started_now(struct tb *b)
{
	struct timespec ts;
	uint64_t now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	memcpy(b->buf + sizeof(struct sw_preamble) +
		   offsetof(struct sw_rec_process, start_mono_ns),
	       &now, sizeof(now));
}

static void heartbeat(struct tb *b, uint64_t t, uint64_t turns, uint64_t busy)
{
	struct sw_rec_heartbeat h;
	uint64_t *buckets = calloc(SW_HIST_BUCKETS, 8);

	buckets[sw_hist_index(1000000)] = turns; /* 1 ms turns */
	memset(&h, 0, sizeof(h));
	h.time_ns = t;
	h.turns = turns;
	h.busy_ns = busy;
	h.born_ns = base();
	h.max_turn_ns = 1000000;
	h.loop_id = 1;
	h.tid = 99;
	h.nbuckets = SW_HIST_BUCKETS;
	tb_rec(b, &h, sizeof(h), SW_REC_HEARTBEAT, buckets, SW_HIST_BUCKETS * 8,
	       NULL, 0, NULL, 0);
	free(buckets);
}

static void append(const char *path, const uint8_t *p, size_t n)
{
	FILE *f = fopen(path, "ab");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fwrite(p, 1, n, f), n);
	fclose(f);
}

START_TEST(follows_a_growing_trace)
{
	const char *dir = sw_t_tmpdir("follow");
	char path[4200], *roots[1];
	static const char cmd[] = "svc";
	struct sw_pyframe py = {.code_id = 5, .line = 12};
	struct tb_ev ev = {.kind = SW_EV_CALL,
			   .call = SW_CALL_READ,
			   .tid = 99,
			   .loop_id = 1,
			   .start_ns = 0,
			   .duration_ns = 200000000ull,
			   .py = &py,
			   .npy = 1};
	struct tb b, more;
	struct sw_follow f;
	struct sw_fproc *p;
	struct sw_floop *l;
	size_t cut;

	uint64_t t0 = base();

	ev.start_ns = t0 + 3000000000ull;
	snprintf(path, sizeof(path), "%s/svc.%d.swtrace", dir, (int)getpid());
	tb_begin(&b, (uint32_t)getpid(), cmd, sizeof(cmd), "svc");
	started_now(&b);
	tb_loop(&b, 1, 99, t0, "lo\x1b[2Jop");
	tb_pycode(&b, 5, "handler", "/srv/app.py", 10);
	heartbeat(&b, t0 + 2000000000ull, 100, 100000000ull);
	cut = b.len;
	tb_event(&b, &ev);
	tb_stall(&b, 99, 1, 7, ev.start_ns - 1000000, 201000000ull);
	/* the file ends 10 bytes into the event record */
	ck_assert_int_eq(tb_write(&(struct tb){b.buf, cut + 10, 0}, path), 0);

	roots[0] = (char *)dir;
	sw_follow_init(&f, roots, 1);
	sw_follow_poll(&f);
	ck_assert_int_eq(f.nprocs, 1);
	p = f.procs[0];
	ck_assert(sw_follow_running(p));
	ck_assert_str_eq(p->comm, "svc");
	ck_assert_int_eq(p->nloops, 1);
	l = &p->loops[0];
	ck_assert_str_eq(l->thread_name, "lo?[2Jop"); /* no escape left */
	ck_assert_int_eq(l->nhb, 1);
	ck_assert_int_eq(l->nitems, 0); /* the torn event waits */

	/* the writer finishes: the rest of the event, a stall, a heartbeat */
	memset(&more, 0, sizeof(more));
	heartbeat(&more, t0 + 4000000000ull, 300, 500000000ull);
	append(path, b.buf + cut + 10, b.len - cut - 10);
	append(path, more.buf, more.len);
	sw_follow_poll(&f);
	l = &f.procs[0]->loops[0];
	ck_assert_int_eq(l->nhb, 2);
	ck_assert_int_eq(l->hb[(l->hb_first + 1) % SW_FOLLOW_HB].turns, 300);
	ck_assert_int_eq(l->nitems, 2);
	ck_assert_int_eq(l->items[0].what, SW_FI_STALL);
	ck_assert_int_eq(l->items[1].what, SW_FI_BLOCKED);
	ck_assert_int_eq(l->items[1].weight, 200000000ull);
	ck_assert_str_eq(p->places[l->items[1].place],
			 "handler (app.py:12) → read");

	/* a clean exit ends the process for top */
	tb_free(&more);
	memset(&more, 0, sizeof(more));
	tb_end(&more, 5000000000ull);
	append(path, more.buf, more.len);
	sw_follow_poll(&f);
	ck_assert(!sw_follow_running(f.procs[0]));
	sw_follow_free(&f);
	tb_free(&more);
	tb_free(&b);
}
END_TEST

START_TEST(corrupt_record_stops_following)
{
	const char *dir = sw_t_tmpdir("follow_bad");
	char path[4200], *roots[1];
	static const char cmd[] = "svc";
	struct sw_rec_hdr bad = {.size = 3, .type = SW_REC_STALL};
	struct tb b;
	struct sw_follow f;

	snprintf(path, sizeof(path), "%s/svc.%d.swtrace", dir, (int)getpid());
	tb_begin(&b, (uint32_t)getpid(), cmd, sizeof(cmd), "svc");
	started_now(&b);
	tb_loop(&b, 1, 99, 1000000000ull, "loop");
	tb_raw(&b, &bad, sizeof(bad));
	ck_assert_int_eq(tb_write(&b, path), 0);
	roots[0] = (char *)dir;
	sw_follow_init(&f, roots, 1);
	sw_follow_poll(&f);
	ck_assert_int_eq(f.nprocs, 1);
	ck_assert(!sw_follow_running(f.procs[0]));
	sw_follow_poll(&f); /* and stays quiet */
	sw_follow_free(&f);
	tb_free(&b);
}
END_TEST

START_TEST(reused_pid_is_not_running)
{
	const char *dir = sw_t_tmpdir("follow_reused");
	char path[4200], *roots[1];
	static const char cmd[] = "svc";
	struct tb b;
	struct sw_follow f;

	/* the shim in the traced process started at 1 s after boot: this
	 * pid's process started long after, so it is another one */
	snprintf(path, sizeof(path), "%s/svc.%d.swtrace", dir, (int)getpid());
	tb_begin(&b, (uint32_t)getpid(), cmd, sizeof(cmd), "svc");
	tb_loop(&b, 1, 99, 1000000000ull, "loop");
	ck_assert_int_eq(tb_write(&b, path), 0);
	roots[0] = (char *)dir;
	sw_follow_init(&f, roots, 1);
	sw_follow_poll(&f);
	ck_assert_int_eq(f.nprocs, 1);
	ck_assert(!sw_follow_running(f.procs[0]));
	sw_follow_free(&f);
	tb_free(&b);
}
END_TEST

Suite *sw_suite_trace_following(void)
{
	Suite *s = suite_create("trace_following");
	TCase *tc = tcase_create("follow");

	tcase_add_test(tc, follows_a_growing_trace);
	tcase_add_test(tc, corrupt_record_stops_following);
	tcase_add_test(tc, reused_pid_is_not_running);
	suite_add_tcase(s, tc);
	return s;
}
