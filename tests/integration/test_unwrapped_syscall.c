/*
 * test_unwrapped_syscall.c - a loop thread asleep in a system call that no
 * wrapper sees is named, where the program has a thread of its own so the
 * watchdog runs (doc/design.md, "Living inside the host"): the watchdog
 * reads /proc/self/task/TID/syscall and scans the sleeping thread's stack,
 * and the report gets a blocking-call site "unwrapped system call" with
 * the program's function on it.  A single-threaded program gets no
 * watchdog, so no such site: its stall shows as time off the CPU.
 */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "../support.h"

#define SW	   sw_t_build("stallwatch")
#define PROG(name) sw_t_build("tests/progs/" name)
#define MS	   1000000ll
#define CALL	   "unwrapped system call"

static json_t *run_prog(const char *tag, int threads)
{
	const char *dir = sw_t_tmpdir(tag);
	char *out = NULL;
	int rc;

	rc = sw_t_sh(&out, "'%s' run -q -o '%s' -- '%s' 400 %d", SW, dir,
		     PROG("unwrapped_sleep"), threads);
	ck_assert_msg(rc == 0, "%s", out ? out : "");
	free(out);
	return sw_t_report(dir, NULL);
}

START_TEST(test_threaded_program_names_raw_sleep)
{
	json_t *rep = run_prog("unwrapped-mt", 1), *site;

	ck_assert_ptr_nonnull(rep);
	site = sw_t_find_site(rep, "blocking-call", CALL, "raw_nap");
	if (!site)
		sw_t_dump("report", rep);
	ck_assert_ptr_nonnull(site);
	ck_assert_int_eq(json_integer_value(json_object_get(site, "count")), 1);
	ck_assert_int_ge(json_integer_value(json_object_get(site, "total_ns")),
			 200 * MS);
	ck_assert_int_le(json_integer_value(json_object_get(site, "total_ns")),
			 450 * MS);
	json_decref(rep);
}
END_TEST

START_TEST(test_single_threaded_program_has_no_watcher)
{
	json_t *rep = run_prog("unwrapped-st", 0);

	ck_assert_ptr_nonnull(rep);
	ck_assert_ptr_null(sw_t_find_site(rep, "blocking-call", CALL, NULL));
	json_decref(rep);
}
END_TEST

Suite *sw_suite_unwrapped_syscall(void)
{
	Suite *s = suite_create("unwrapped_syscall");
	TCase *tc = tcase_create("watchdog");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_threaded_program_names_raw_sleep);
	tcase_add_test(tc, test_single_threaded_program_has_no_watcher);
	suite_add_tcase(s, tc);
	return s;
}
