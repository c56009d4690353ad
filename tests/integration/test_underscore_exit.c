/*
 * test_underscore_exit.c - a process that ran a loop and ends without
 * destructors (_exit, _Exit, syscall(SYS_exit_group), Python's os._exit,
 * a multiprocessing worker) is reported as exited, not as crashed.
 *
 * Each case runs a real program under the shim, then reads the trace
 * itself: the last record is SW_REC_END saying SW_END_UNDERSCORE with the
 * program's status, after the stall the program made; and the report says
 * the process exited cleanly.  A return from main is the control: its end
 * record says SW_END_EXIT.  The report says clean_exit and ended_by.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../rawtrace.h"
#include "../support.h"

#define PROG(name) sw_t_build("tests/progs/" name)

static const char *shim_env(const char *outdir)
{
	static char buf[4400];

	snprintf(buf, sizeof(buf), "env LD_PRELOAD='%s' STALLWATCH_OUTPUT='%s'",
		 sw_t_build("libstallwatch.so"), outdir);
	return buf;
}

/*
 * The trace at path has a stall of at least min_ms and ends with an end
 * record saying how/status; returns 1, or 0 when the trace has no stall
 * (some other process of the run).
 */
static int check_trace(const char *what, const char *path, unsigned how,
		       int status, long min_ms)
{
	struct sw_t_raw raw;
	struct sw_rec_stall stall;
	struct sw_rec_end end;
	struct sw_rec_hdr last;
	size_t from = 0;
	int stalls = 0;

	ck_assert_msg(sw_t_raw_load_file(path, &raw) == 0,
		      "%s: %s does not read", what, path);
	while (
	    sw_t_raw_next(&raw, &from, SW_REC_STALL, &stall, sizeof(stall))) {
		if (stall.duration_ns >= (uint64_t)min_ms * 1000000u)
			stalls++;
	}
	if (!stalls) {
		sw_t_raw_free(&raw);
		return 0;
	}
	ck_assert_msg(raw.n > 0, "%s: empty trace", what);
	memcpy(&last, raw.recs[raw.n - 1], sizeof(last));
	ck_assert_msg(last.type == SW_REC_END,
		      "%s: the last record is type %u, not the end record",
		      what, (unsigned)last.type);
	from = 0;
	ck_assert(sw_t_raw_next(&raw, &from, SW_REC_END, &end, sizeof(end)));
	ck_assert_msg(end.h.size >= sizeof(end),
		      "%s: an end record of %u bytes has no `how`", what,
		      end.h.size);
	ck_assert_msg(end.how == how && end.status == status,
		      "%s: end record how %u status %d, want how %u status %d",
		      what, end.how, end.status, how, status);
	sw_t_raw_free(&raw);
	return 1;
}

/* The report of dir: every process exited cleanly, and one that ran a loop
 * says it ended by `ended_by`. */
static void assert_report_exited(const char *what, const char *dir,
				 const char *ended_by)
{
	json_t *rep = sw_t_report(dir, NULL), *p;
	size_t i;
	int seen = 0;

	ck_assert_msg(rep != NULL, "%s: no report", what);
	ck_assert_msg(json_array_size(json_object_get(rep, "stalls")) > 0,
		      "%s: the report has no stall", what);
	json_array_foreach (json_object_get(rep, "processes"), i, p) {
		const char *by =
		    json_string_value(json_object_get(p, "ended_by"));

		ck_assert_msg(
		    json_is_true(json_object_get(p, "clean_exit")),
		    "%s: process %lld reported as not exited", what,
		    (long long)json_integer_value(json_object_get(p, "pid")));
		ck_assert_msg(by != NULL, "%s: no ended_by", what);
		if (json_array_size(json_object_get(p, "loops")) > 0 &&
		    !strcmp(by, ended_by))
			seen++;
	}
	ck_assert_msg(seen > 0, "%s: no loop process ended by %s", what,
		      ended_by);
	json_decref(rep);
}

static const struct {
	const char *end;
	unsigned how;
	int status;
	const char *ended_by; /* the report's word for it */
} c_cases[] = {
    {"_exit", SW_END_UNDERSCORE, 3, "_exit"},
    {"_Exit", SW_END_UNDERSCORE, 3, "_exit"},
    {"exit_group", SW_END_UNDERSCORE, 3, "_exit"},
    {"return", SW_END_EXIT, 0, "exit"},
};

/* A C epoll loop that stalls 300 ms, then ends in each way. */
START_TEST(test_c_loop_ends)
{
	const char *end = c_cases[_i].end, *dir = sw_t_tmpdir(end);
	char paths[1][4096];
	int rc;

	rc = sw_t_sh(NULL, "cd '%s' && %s '%s' syscall_nanosleep %s", dir,
		     shim_env(dir), PROG("stdio_stall"), end);
	ck_assert_msg(rc == c_cases[_i].status, "%s: exit status %d", end, rc);
	ck_assert_int_eq(sw_t_raw_list(dir, paths, 1), 1);
	ck_assert_msg(check_trace(end, paths[0], c_cases[_i].how,
				  c_cases[_i].status, 250),
		      "%s: the trace has no stall", end);
	assert_report_exited(end, dir, c_cases[_i].ended_by);
}
END_TEST

/* asyncio, a 200 ms stall, then os._exit(3). */
START_TEST(test_python_os_exit)
{
	const char *dir = sw_t_tmpdir("os_exit");
	char paths[1][4096];
	int rc;

	if (!sw_t_have("/usr/bin/python3")) {
		sw_t_skip("no /usr/bin/python3");
		return;
	}
	rc = sw_t_sh(NULL, "cd '%s' && %s /usr/bin/python3 '%s'", dir,
		     shim_env(dir), sw_t_src("tests/progs/asyncio_os_exit.py"));
	ck_assert_int_eq(rc, 3);
	ck_assert_int_eq(sw_t_raw_list(dir, paths, 1), 1);
	ck_assert_msg(
	    check_trace("os._exit", paths[0], SW_END_UNDERSCORE, 3, 150),
	    "os._exit: the trace has no stall");
	assert_report_exited("os._exit", dir, "_exit");
}
END_TEST

/* A multiprocessing worker (fork) runs the loop; multiprocessing ends it
 * with os._exit(0). */
START_TEST(test_python_multiprocessing_worker)
{
	const char *dir = sw_t_tmpdir("mp_worker");
	char paths[8][4096];
	int rc, n, i, with_stall = 0;

	if (!sw_t_have("/usr/bin/python3")) {
		sw_t_skip("no /usr/bin/python3");
		return;
	}
	rc = sw_t_sh(NULL, "cd '%s' && %s /usr/bin/python3 '%s' fork", dir,
		     shim_env(dir), sw_t_src("tests/progs/asyncio_os_exit.py"));
	ck_assert_int_eq(rc, 0);
	n = sw_t_raw_list(dir, paths, 8);
	ck_assert_msg(n >= 1 && n <= 8, "%d traces", n);
	for (i = 0; i < n; i++)
		with_stall += check_trace("multiprocessing worker", paths[i],
					  SW_END_UNDERSCORE, 0, 150);
	ck_assert_msg(with_stall == 1, "%d traces with the worker's stall",
		      with_stall);
	assert_report_exited("multiprocessing worker", dir, "_exit");
}
END_TEST

Suite *sw_suite_underscore_exit(void)
{
	Suite *s = suite_create("underscore_exit");
	TCase *tc = tcase_create("ends");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_c_loop_ends, 0,
			    sizeof(c_cases) / sizeof(c_cases[0]));
	tcase_add_test(tc, test_python_os_exit);
	tcase_add_test(tc, test_python_multiprocessing_worker);
	suite_add_tcase(s, tc);
	return s;
}
