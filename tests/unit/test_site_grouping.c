/*
 * test_site_grouping.c - raw stacks become variants of one site per place
 * and kind; a turn's CPU time before its first sample is explained; the
 * running test, how a process ended and what the size budget dropped
 * reach the report.  Traces are built by hand and loaded without symbols.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../analyzer/model.h"
#include "../../include/sw_calls.h"
#include "../support.h"
#include "report_fixture.h"
#include "tracebuild.h"

static const uint64_t stack[3] = {0x401010, 0x401020, 0x401030};
/* The program's burn() at line 10, called from main() at line 30: the
 * Python stack most samples here take. */
static const struct sw_pyframe in_burn[2] = {{1, 10, SW_PYF_ENTRY, 0},
					     {2, 30, SW_PYF_ENTRY, 0}};

/* A Python program: argv[0] is the interpreter, so its native frames are
 * not the program's. */
static void begin_python_bare(struct tb *b, uint32_t pid)
{
	static const char cmd[] = "python3\0/srv/shop/app.py";

	tb_begin_main(b, pid, cmd, sizeof(cmd), "python3",
		      "/nonexistent/python3");
}

/* The same, with the names of its code. */
static void begin_python(struct tb *b, uint32_t pid)
{
	begin_python_bare(b, pid);
	tb_pycode(b, 1, "burn", "/srv/shop/app.py", 8);
	tb_pycode(b, 2, "main", "/srv/shop/app.py", 28);
	tb_pycode(b, 3, "loads", "/usr/lib/python3.11/json/__init__.py", 299);
}

static void sample(struct tb *b, uint32_t tid, uint32_t turn, uint64_t t,
		   const struct sw_pyframe *py, uint16_t npy)
{
	struct tb_ev e = {.kind = SW_EV_SAMPLE,
			  .call = SW_CALL_TURN,
			  .tid = tid,
			  .loop_id = 1,
			  .turn_seq = turn,
			  .start_ns = t,
			  .duration_ns = 10000000,
			  .ips = stack,
			  .nips = 3,
			  .py = py,
			  .npy = npy};

	tb_event(b, &e);
}

START_TEST(cpu_burn_in_one_function_is_one_site)
{
	const char *dir = sw_t_tmpdir("group1");
	struct sw_pyframe c[2] = {{1, 11, SW_PYF_ENTRY, 0},
				  {2, 30, SW_PYF_ENTRY, 0}};
	struct sw_pyframe j[3] = {{3, 346, SW_PYF_ENTRY, 0},
				  {1, 12, SW_PYF_ENTRY, 0},
				  {2, 30, SW_PYF_ENTRY, 0}};
	char path[4096];
	struct sw_report rep;
	struct tb b;
	size_t i;

	begin_python(&b, 200);
	for (i = 0; i < 6; i++)
		sample(&b, 200, 4, 2000000000ull + i * 10000000ull, in_burn, 2);
	for (i = 0; i < 3; i++)
		sample(&b, 200, 4, 2060000000ull + i * 10000000ull, c, 2);
	/* A burn inside json.loads called from the same function is
	 * another place: "burn → json.loads". */
	for (i = 0; i < 2; i++)
		sample(&b, 200, 4, 2090000000ull + i * 10000000ull, j, 3);
	tb_stall(&b, 200, 1, 4, 1990000000ull, 120000000ull);
	tb_end(&b, 3000000000ull);
	ck_assert_int_eq(
	    tb_save(&b, path, sizeof(path), "%s/python3.200.swtrace", dir), 0);

	ck_assert_int_eq(sw_t_load_bare(dir, &rep), 0);
	ck_assert_uint_eq(rep.nsites, 2);
	ck_assert_uint_eq(rep.sites[0].kind, SW_SITE_CPU);
	ck_assert_uint_eq(rep.sites[0].count, 9);
	ck_assert_uint_eq(rep.sites[0].total_ns, 90000000);
	ck_assert_uint_eq(rep.sites[0].nvariants, 2);
	ck_assert_uint_eq(rep.sites[0].variants[0].count, 6);
	ck_assert_uint_eq(rep.sites[0].variants[1].count, 3);
	ck_assert_str_eq(rep.sites[0].place.function, "burn");
	ck_assert_str_eq(rep.sites[0].place.file, "/srv/shop/app.py");
	ck_assert_int_eq(rep.sites[0].place.line, 10);
	ck_assert_str_eq(rep.sites[0].place.text, "burn (app.py:10)");
	ck_assert_str_eq(rep.sites[1].place.text,
			 "burn (app.py:12) \xe2\x86\x92 json.loads");
	/* Every frame says whose it is. */
	for (i = 0; i < rep.sites[1].nframes; i++) {
		const struct sw_frame *f = &rep.sites[1].frames[i];

		ck_assert_int_eq(f->in_app,
				 f->lang == SW_LANG_PYTHON &&
				     !strstr(f->file, "/lib/python"));
	}
	/* Events point at their site and variant. */
	for (i = 0; i < rep.nevents; i++) {
		const struct sw_event *e = &rep.events[i];

		ck_assert_uint_lt(e->site, rep.nsites);
		ck_assert_uint_lt(e->variant, rep.sites[e->site].nvariants);
	}
	ck_assert_uint_eq(rep.nstalls, 1);
	ck_assert_uint_eq(rep.stalls[0].nsites, 2);
	ck_assert_uint_eq(rep.stalls[0].sites[0], 0);
	sw_report_free(&rep);
}
END_TEST

START_TEST(cpu_before_first_sample_is_explained)
{
	const char *dir = sw_t_tmpdir("group2");
	char path[4096];
	struct sw_report rep;
	struct tb b;
	uint64_t sum = 0;
	size_t i;

	begin_python(&b, 201);
	/* A 110 ms turn on the CPU: sampling starts past the 50 ms
	 * threshold, so the samples stand for 20 ms; the CPU clock says
	 * 100 ms. */
	sample(&b, 201, 7, 2080000000ull, in_burn, 2);
	sample(&b, 201, 7, 2090000000ull, in_burn, 2);
	tb_stall_cpu(&b, 201, 1, 7, 2000000000ull, 110000000ull, 100000000ull,
		     20000000ull);
	/* An older shim's stall record: no CPU clock, read as unknown. */
	sample(&b, 201, 8, 2500000000ull, in_burn, 2);
	tb_stall_v1(&b, 201, 1, 8, 2400000000ull, 110000000ull);
	tb_end(&b, 3000000000ull);
	ck_assert_int_eq(
	    tb_save(&b, path, sizeof(path), "%s/python3.201.swtrace", dir), 0);

	ck_assert_int_eq(sw_t_load_bare(dir, &rep), 0);
	ck_assert_uint_eq(rep.nstalls, 2);
	ck_assert_uint_eq(rep.stalls[0].cpu_ns, 100000000);
	ck_assert_uint_eq(rep.stalls[0].cpu_unsampled_ns, 80000000);
	/* >= 90% explained */
	ck_assert_uint_ge(rep.stalls[0].cpu_ns + rep.stalls[0].blocked_ns,
			  rep.stalls[0].duration_ns * 9 / 10);
	/* the clock says the rest of the turn was off the CPU */
	ck_assert_uint_eq(rep.stalls[0].off_cpu_ns, 10000000);
	ck_assert_uint_eq(rep.stalls[1].cpu_ns, 10000000);
	ck_assert_uint_eq(rep.stalls[1].cpu_unsampled_ns, 0);
	/* no clock: the rest is unexplained, not off CPU */
	ck_assert_uint_eq(rep.stalls[1].off_cpu_ns, 0);
	/* The site carries the attributed time, and its events add up. */
	ck_assert_uint_eq(rep.nsites, 1);
	ck_assert_uint_eq(rep.sites[0].total_ns, 110000000);
	ck_assert_uint_eq(rep.sites[0].variants[0].total_ns, 110000000);
	for (i = 0; i < rep.nevents; i++)
		sum += rep.events[i].total_ns;
	ck_assert_uint_eq(sum, 110000000);
	sw_report_free(&rep);
}
END_TEST

START_TEST(test_exit_and_dropped_reach_the_report)
{
	const char *dir = sw_t_tmpdir("group3");
	char path[4096];
	struct sw_report rep;
	struct tb b;

	begin_python(&b, 202);
	tb_dropped(&b, 1500000000ull, 5u << 20, 1000000000ull, 1400000000ull,
		   2);
	tb_test(&b, 1900000000ull, "tests/test_shop.py::test_checkout");
	sample(&b, 202, 3, 2080000000ull, in_burn, 2);
	tb_stall(&b, 202, 1, 3, 2000000000ull, 110000000ull);
	tb_test(&b, 2200000000ull, "");
	sample(&b, 202, 5, 2480000000ull, in_burn, 2);
	tb_stall(&b, 202, 1, 5, 2400000000ull, 110000000ull);
	tb_end_how(&b, 3000000000ull, SW_END_UNDERSCORE, 3);
	ck_assert_int_eq(
	    tb_save(&b, path, sizeof(path), "%s/python3.202.swtrace", dir), 0);

	ck_assert_int_eq(sw_t_load_bare(dir, &rep), 0);
	ck_assert_int_eq(rep.processes[0].end_how, SW_END_UNDERSCORE);
	ck_assert_int_eq(rep.processes[0].exit_status, 3);
	ck_assert_uint_eq(rep.processes[0].dropped_bytes, 5u << 20);
	ck_assert_uint_eq(rep.processes[0].rotations, 2);
	ck_assert_str_eq(rep.processes[0].name, "python3");
	{
		size_t k, n = 0;

		for (k = 0; k < rep.nnotes; k++)
			n += strstr(rep.notes[k], "dropped 5242880 bytes") &&
			     strstr(rep.notes[k], "2 rotations");
		ck_assert_uint_eq(n, 1);
	}
	ck_assert_uint_eq(rep.nstalls, 2);
	ck_assert_str_eq(rep.stalls[0].test,
			 "tests/test_shop.py::test_checkout");
	ck_assert_ptr_null(rep.stalls[1].test);
	ck_assert_str_eq(rep.events[0].test,
			 "tests/test_shop.py::test_checkout");
	ck_assert_ptr_null(rep.events[1].test);
	ck_assert_str_eq(rep.sites[0].test,
			 "tests/test_shop.py::test_checkout");
	sw_report_free(&rep);
}
END_TEST

START_TEST(rotated_parts_of_a_process_share_python_names)
{
	const char *dir = sw_t_tmpdir("group5");
	char path[4096];
	struct sw_report rep;
	struct tb b;
	size_t i, n = 0;

	/* the older part, kept as .swtrace.1: it named the code */
	begin_python(&b, 204);
	tb_loop(&b, 2, 204, 1100000000ull, "python3");
	sample(&b, 204, 2, 2000000000ull, in_burn, 2);
	tb_stall(&b, 204, 1, 2, 1950000000ull, 100000000ull);
	ck_assert_int_eq(
	    tb_save(&b, path, sizeof(path), "%s/python3.204.swtrace.1", dir),
	    0);
	/* the newer part stands alone but for the code names */
	begin_python_bare(&b, 204);
	tb_dropped(&b, 2500000000ull, 4096, 1000000000ull, 2400000000ull, 1);
	sample(&b, 204, 6, 2600000000ull, in_burn, 2);
	tb_stall(&b, 204, 1, 6, 2550000000ull, 100000000ull);
	tb_end(&b, 3000000000ull);
	ck_assert_int_eq(
	    tb_save(&b, path, sizeof(path), "%s/python3.204.swtrace", dir), 0);

	ck_assert_int_eq(sw_t_load_bare(dir, &rep), 0);
	/* one process: the older part's loop 2 (ended before the rotation)
	 * and its stall join it */
	ck_assert_uint_eq(rep.nprocesses, 1);
	ck_assert_uint_eq(rep.processes[0].nloops, 2);
	ck_assert_uint_eq(rep.nstalls, 2);
	ck_assert_uint_eq(rep.stalls[0].process, 0);
	ck_assert_uint_eq(rep.processes[0].loops[rep.stalls[0].loop].loop_id,
			  1);
	ck_assert_uint_eq(rep.processes[0].loops[rep.stalls[1].loop].loop_id,
			  1);
	ck_assert_int_eq(rep.events[0].stall, 0);
	ck_assert_int_eq(rep.events[1].stall, 1);
	ck_assert_uint_eq(rep.events[1].process, 0);
	ck_assert(rep.processes[0].clean_exit);
	ck_assert_uint_eq(rep.nsites, 1);
	ck_assert_uint_eq(rep.sites[0].count, 2);
	ck_assert_str_eq(rep.sites[0].place.function, "burn");
	for (i = 0; i < rep.nnotes; i++)
		n += strstr(rep.notes[i], "rotated") != NULL;
	ck_assert_uint_eq(n, 1);
	sw_report_free(&rep);
}
END_TEST

/* Run the text writer into a string. */
static char *text_of(const struct sw_report *rep, size_t stacks)
{
	struct sw_text_opts o = {.color = 0, .stacks = stacks};
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(sw_write_text_opts(rep, m, &o), 0);
	fclose(m);
	return buf;
}

START_TEST(text_reads_no_stall_and_brief_calls_go_to_also_seen)
{
	const char *dir = sw_t_tmpdir("group4");
	struct tb_ev e = {.kind = SW_EV_CALL,
			  .call = SW_CALL_READ,
			  .tid = 203,
			  .loop_id = 1,
			  .turn_seq = 9,
			  .start_ns = 2000000000ull,
			  .duration_ns = 12000000,
			  .ips = stack,
			  .nips = 3};
	char path[4096], *text;
	struct sw_report rep;
	struct tb b;

	begin_python(&b, 203);
	/* A short read outside the program's code that stalled nothing
	 * (the interpreter reading at start-up), and one in the program's
	 * own function. */
	tb_event(&b, &e);
	e.start_ns = 2100000000ull;
	e.py = in_burn;
	e.npy = 2;
	e.turn_seq = 10;
	tb_event(&b, &e);
	e.start_ns = 2200000000ull;
	e.py = in_burn;
	e.npy = 1;
	tb_event(&b, &e);
	tb_end(&b, 3000000000ull);
	ck_assert_int_eq(
	    tb_save(&b, path, sizeof(path), "%s/python3.203.swtrace", dir), 0);

	ck_assert_int_eq(sw_t_load_bare(dir, &rep), 0);
	ck_assert_uint_eq(rep.nstalls, 0);
	ck_assert_uint_eq(rep.nsites, 2);
	text = text_of(&rep, 1);
	ck_assert_ptr_nonnull(strstr(text, "\n\nno stall: "));
	ck_assert_ptr_nonnull(strstr(text, "Sites by total time (1)"));
	ck_assert_ptr_nonnull(
	    strstr(text, "#1 blocking-call burn (app.py:10)"));
	ck_assert_ptr_nonnull(strstr(text, "Also seen"));
	/* the site in burn has two stacks: one shown, one more on request */
	ck_assert_ptr_nonnull(strstr(text, "1 more stack (--stacks N)"));
	free(text);
	text = text_of(&rep, 5);
	ck_assert_ptr_nonnull(strstr(text, "stack 2 of 2"));
	ck_assert_ptr_null(strstr(text, "more stack"));
	free(text);
	sw_report_free(&rep);
}
END_TEST

Suite *sw_suite_site_grouping(void)
{
	Suite *s = suite_create("site_grouping");
	TCase *tc = tcase_create("grouping");

	tcase_add_test(tc, cpu_burn_in_one_function_is_one_site);
	tcase_add_test(tc, cpu_before_first_sample_is_explained);
	tcase_add_test(tc, test_exit_and_dropped_reach_the_report);
	tcase_add_test(tc, text_reads_no_stall_and_brief_calls_go_to_also_seen);
	tcase_add_test(tc, rotated_parts_of_a_process_share_python_names);
	suite_add_tcase(s, tc);
	return s;
}
