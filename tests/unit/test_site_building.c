/*
 * test_site_building.c - records -> report: sites, stalls, loops, notes.
 * Traces are built by hand and loaded without symbols.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../analyzer/model.h"
#include "../support.h"
#include "../../include/sw_calls.h"
#include "report_fixture.h"
#include "tracebuild.h"

static const uint64_t stack_a[3] = {0x401010, 0x401020, 0x401030};
static const uint64_t stack_b[2] = {0x401110, 0x401120};

static void begin(struct tb *b, uint32_t pid)
{
	static const char cmd[] = "server\0--port\0"
				  "8080";
	uint64_t turns[3] = {1000000, 2000000, 300000000};

	tb_begin_main(b, pid, cmd, sizeof(cmd), "server",
		      "/nonexistent/server");
	tb_heartbeat(b, 1, pid, 1000000000ull, 3000000000ull, turns, 3,
		     303000000ull);
}

/* A nanosleep (call 1) from stack_a, in turn `turn` of loop 1: the call
 * most of these tests record, then vary. */
static struct tb_ev sleep_call(uint32_t tid, uint32_t turn, uint64_t start,
			       uint64_t dur)
{
	struct tb_ev e = {.kind = SW_EV_CALL,
			  .call = 1,
			  .tid = tid,
			  .loop_id = 1,
			  .turn_seq = turn,
			  .start_ns = start,
			  .duration_ns = dur,
			  .ips = stack_a,
			  .nips = 3};

	return e;
}

START_TEST(test_identical_stacks)
{
	const char *dir = sw_t_tmpdir("agg1");
	char path[4096];
	struct sw_report rep;
	struct tb b;
	struct tb_ev e = sleep_call(100, 3, 2000000000ull, 100000000);

	begin(&b, 100);
	tb_event(&b, &e);
	e.start_ns = 2100000000ull;
	e.duration_ns = 150000000;
	tb_event(&b, &e);
	e.ips = stack_b;
	e.nips = 2;
	e.duration_ns = 20000000;
	tb_event(&b, &e);
	tb_stall(&b, 100, 1, 3, 1990000000ull, 300000000ull);
	tb_end(&b, 3000000000ull);
	ck_assert_int_eq(
	    tb_save(&b, path, sizeof(path), "%s/server.100.swtrace", dir), 0);

	ck_assert_int_eq(sw_t_load_bare(dir, &rep), 0);
	ck_assert_uint_eq(rep.nprocesses, 1);
	ck_assert_str_eq(rep.processes[0].command, "server --port 8080");
	ck_assert_uint_eq(rep.nsites, 2);
	/* Ranked by total time: the repeated stack first. */
	ck_assert_uint_eq(rep.sites[0].count, 2);
	ck_assert_uint_eq(rep.sites[0].total_ns, 250000000);
	ck_assert_uint_eq(rep.sites[0].max_ns, 150000000);
	ck_assert_str_eq(rep.sites[0].call, "nanosleep");
	ck_assert_uint_eq(rep.sites[0].nframes, 3);
	ck_assert_str_eq(rep.sites[0].frames[0].module, "/nonexistent/server");
	ck_assert_uint_eq(rep.sites[0].frames[0].addr, 0x401010);
	ck_assert_uint_eq(rep.sites[0].frames[0].rel_addr, 0x1010);
	ck_assert_uint_eq(rep.sites[1].count, 1);
	ck_assert_uint_eq(rep.nevents, 3);
	ck_assert_uint_eq(rep.nstalls, 1);
	ck_assert_int_eq(rep.events[0].stall, 0);
	ck_assert_uint_eq(rep.stalls[0].nsites, 2);
	ck_assert_uint_eq(rep.stalls[0].sites[0], 0);
	/* [2.0,2.1) + [2.1,2.25) + [2.1,2.12) overlap: 250 ms. */
	ck_assert_uint_eq(rep.stalls[0].blocked_ns, 250000000);
	ck_assert_uint_eq(rep.stalls[0].cpu_ns, 0);
	/* Loop from the heartbeat. */
	ck_assert_uint_eq(rep.processes[0].nloops, 1);
	ck_assert_uint_eq(rep.processes[0].loops[0].turns, 3);
	ck_assert_uint_eq(rep.processes[0].loops[0].lag_max_ns, 300000000);
	ck_assert(rep.processes[0].loops[0].lag_p50_ns >= 2000000 &&
		  rep.processes[0].loops[0].lag_p50_ns < 2300000);
	ck_assert_uint_eq(rep.processes[0].loops[0].lag_p99_ns, 300000000);
	ck_assert(rep.processes[0].loops[0].utilisation > 0.15 &&
		  rep.processes[0].loops[0].utilisation < 0.16);
	sw_report_free(&rep);
}
END_TEST

START_TEST(test_sample_inside_call)
{
	const char *dir = sw_t_tmpdir("agg2");
	char path[4096];
	struct sw_report rep;
	struct tb b;
	struct tb_ev call = sleep_call(200, 9, 2000000000ull, 100000000);
	struct tb_ev smp = {.kind = SW_EV_SAMPLE,
			    .call = SW_CALL_TURN,
			    .tid = 200,
			    .loop_id = 1,
			    .turn_seq = 9,
			    .duration_ns = 10000000,
			    .flags = SW_EVF_SIGNAL_FRAME,
			    .ips = stack_b,
			    .nips = 2};
	size_t i, cpu_site = 99;

	begin(&b, 200);
	tb_event(&b, &call);
	/* One sample inside the call (not CPU), three after it (CPU). */
	smp.start_ns = 2050000000ull;
	tb_event(&b, &smp);
	for (i = 0; i < 3; i++) {
		smp.start_ns = 2110000000ull + i * 10000000ull;
		tb_event(&b, &smp);
	}
	tb_stall(&b, 200, 1, 9, 2000000000ull, 150000000ull);
	ck_assert_int_eq(
	    tb_save(&b, path, sizeof(path), "%s/server.200.swtrace", dir), 0);

	ck_assert_int_eq(sw_t_load_bare(path, &rep), 0);
	ck_assert_uint_eq(rep.nstalls, 1);
	ck_assert_uint_eq(rep.stalls[0].blocked_ns, 100000000);
	ck_assert_uint_eq(rep.stalls[0].cpu_ns, 30000000);
	ck_assert_uint_eq(rep.stalls[0].nsites, 2);
	for (i = 0; i < rep.nsites; i++)
		if (rep.sites[i].kind == SW_SITE_CPU)
			cpu_site = i;
	ck_assert_uint_ne(cpu_site, 99);
	ck_assert_str_eq(sw_site_kind_name(rep.sites[cpu_site].kind),
			 "cpu-stall");
	ck_assert_str_eq(rep.sites[cpu_site].call, "loop turn");
	ck_assert_uint_eq(rep.sites[cpu_site].count, 4);
	ck_assert_uint_eq(rep.sites[cpu_site].total_ns, 40000000);
	/* The process had no end record: a note says so. */
	ck_assert_uint_ge(rep.nnotes, 1);
	sw_report_free(&rep);
}
END_TEST

START_TEST(test_count_only_folds)
{
	const char *dir = sw_t_tmpdir("agg3");
	char path[4096];
	struct sw_report rep;
	struct tb b;
	uint64_t caller = stack_a[0], other = 0x401500;
	struct tb_ev e = {.kind = SW_EV_CALL,
			  .call = 5,
			  .tid = 300,
			  .start_ns = 2000000000ull,
			  .duration_ns = 1000,
			  .flags = SW_EVF_STRICT,
			  .ips = stack_a,
			  .nips = 3};

	begin(&b, 300);
	tb_event(&b, &e);
	e.flags = SW_EVF_STRICT | SW_EVF_COUNT_ONLY;
	e.ips = &caller;
	e.nips = 1;
	e.count = 500;
	e.total_ns = 500000;
	e.max_ns = 3000;
	tb_event(&b, &e);
	e.ips = &other; /* no full stack for this caller: its own site */
	tb_event(&b, &e);
	ck_assert_int_eq(
	    tb_save(&b, path, sizeof(path), "%s/server.300.swtrace", dir), 0);

	ck_assert_int_eq(sw_t_load_bare(path, &rep), 0);
	ck_assert_uint_eq(rep.nsites, 2);
	ck_assert_uint_eq(rep.sites[0].count, 501);
	ck_assert_uint_eq(rep.sites[0].total_ns, 501000);
	ck_assert_uint_eq(rep.sites[0].max_ns, 3000);
	ck_assert_uint_eq(rep.sites[0].nframes, 3);
	ck_assert(rep.sites[0].strict_only);
	ck_assert_uint_eq(rep.sites[1].count, 500);
	ck_assert_uint_eq(rep.sites[1].nframes, 1);
	ck_assert_uint_eq(rep.nevents, 3);
	ck_assert_int_eq(rep.events[0].stall, -1);
	sw_report_free(&rep);
}
END_TEST

/* Same stack in two processes: one site; stalls sorted by process. */
START_TEST(test_two_processes)
{
	const char *dir = sw_t_tmpdir("agg4");
	char path[4096];
	struct sw_report rep;
	struct tb b;
	struct tb_ev e = sleep_call(0, 1, 2000000000ull, 100000000);
	uint32_t pid;

	for (pid = 400; pid < 402; pid++) {
		begin(&b, pid);
		e.tid = pid;
		tb_event(&b, &e);
		tb_stall(&b, pid, 1, 1, 2000000000ull, 120000000ull);
		tb_end(&b, 3000000000ull);
		ck_assert_int_eq(tb_save(&b, path, sizeof(path),
					 "%s/server.%u.swtrace", dir, pid),
				 0);
	}
	ck_assert_int_eq(sw_t_load_bare(dir, &rep), 0);
	ck_assert_uint_eq(rep.nprocesses, 2);
	ck_assert_uint_eq(rep.nsites, 1);
	ck_assert_uint_eq(rep.sites[0].count, 2);
	ck_assert_uint_eq(rep.nstalls, 2);
	ck_assert_uint_eq(rep.stalls[0].process, 0);
	ck_assert_uint_eq(rep.stalls[1].process, 1);
	ck_assert_uint_eq(rep.stalls[1].blocked_ns, 100000000);
	ck_assert_int_eq(rep.events[1].stall, 1);
	sw_report_free(&rep);
}
END_TEST

START_TEST(test_garbage_fails)
{
	const char *dir = sw_t_tmpdir("agg5");
	char path[4096];
	struct sw_report rep;
	FILE *f;

	snprintf(path, sizeof(path), "%s/bad.swtrace", dir);
	f = fopen(path, "w");
	fputs("this is not a trace at all, just text\n", f);
	fclose(f);
	ck_assert_int_eq(sw_t_load_bare(path, &rep), -1);
	ck_assert_int_eq(sw_t_load_bare("/nonexistent/path", &rep), -1);
}
END_TEST

Suite *sw_suite_site_building(void)
{
	Suite *s = suite_create("site_building");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_identical_stacks);
	tcase_add_test(tc, test_sample_inside_call);
	tcase_add_test(tc, test_count_only_folds);
	tcase_add_test(tc, test_two_processes);
	tcase_add_test(tc, test_garbage_fails);
	suite_add_tcase(s, tc);
	return s;
}
