/*
 * test_single_thread.c - a single-threaded program stays single-threaded
 * under the shim (doc/design.md, "Living inside the host"): samples come
 * from the loop thread's own CPU-time timer, not from a watchdog thread.
 * The program's thread count stays 1 while its stall is sampled, CPython
 * 3.12's os.fork() does not warn about threads, and a forked child that
 * runs no loop leaves no trace file.
 */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../support.h"

#define SW sw_t_build("stallwatch")
#define MS 1000000ll

static void check_python(const char *python, const char *tag)
{
	const char *dir = sw_t_tmpdir(tag);
	json_t *rep, *site;
	char *out = NULL;
	int rc;

	if (!sw_t_have(python)) {
		sw_t_skip(python);
		return;
	}
	rc = sw_t_sh(&out,
		     "'%s' run -q -o '%s' -- '%s' -W error::DeprecationWarning "
		     "'%s'",
		     SW, dir, python, sw_t_src("tests/progs/single_thread.py"));
	ck_assert_msg(rc == 0, "%s: %s", python, out ? out : "");
	ck_assert_msg(sw_t_count_lines(out, "threads 1") == 2, "%s: %s", python,
		      out);
	ck_assert_msg(sw_t_count_lines(out, "fork ok") == 1, "%s: %s", python,
		      out);
	ck_assert_msg(!strstr(out, "DeprecationWarning"), "%s", out);
	free(out);
	/* One trace: the forked child, which ran no loop, left none. */
	ck_assert_int_eq(sw_t_count_traces(dir), 1);
	/* And the stall was sampled, in the function that burnt the CPU. */
	rep = sw_t_report(dir, NULL);
	ck_assert_ptr_nonnull(rep);
	site = sw_t_find_site(rep, "cpu-stall", NULL, "burn");
	if (!site)
		sw_t_dump("report", rep);
	ck_assert_ptr_nonnull(site);
	ck_assert_int_ge(json_integer_value(json_object_get(site, "count")), 3);
	json_decref(rep);
}

START_TEST(test_debian_python_one_thread)
{
	check_python("/usr/bin/python3", "single-debian");
}
END_TEST

START_TEST(test_python312_fork_no_warning)
{
	check_python("/root/.pyenv/versions/3.12.1/bin/python3", "single-312");
}
END_TEST

Suite *sw_suite_single_thread(void)
{
	Suite *s = suite_create("single_thread");
	TCase *tc = tcase_create("python");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_debian_python_one_thread);
	tcase_add_test(tc, test_python312_fork_no_warning);
	suite_add_tcase(s, tc);
	return s;
}
