/*
 * test_no_eintr.c - the shim's sampling never makes a program's own
 * sleeping system calls fail with EINTR (doc/design.md, "Living inside
 * the host").  raw_sleeps runs long loop turns of CPU bursts and
 * nanosleep, pselect6, ppoll and rt_sigtimedwait made through syscall(2)
 * and as inline instructions, which no wrapper sees; it counts EINTRs.
 * Its turns are sampled (the test checks that too), so the samples'
 * signals are there to interrupt: at default settings none may, and with
 * 1 ms sampling and a 1 ms threshold at most 1 in 1,000.
 */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../support.h"

#define SW	   sw_t_build("stallwatch")
#define PROG(name) sw_t_build("tests/progs/" name)

/* Run raw_sleeps under the shim with `env`; calls and EINTRs counted. */
static void run_raw_sleeps(const char *tag, const char *env, int turns,
			   long *calls, long *eintrs)
{
	const char *dir = sw_t_tmpdir(tag);
	char *out = NULL;
	const char *line;
	json_t *rep;
	int rc;

	rc = sw_t_sh(&out, "%s '%s' run -q -o '%s' -- '%s' %d 40 2000 1000",
		     env, SW, dir, PROG("raw_sleeps"), turns);
	ck_assert_msg(rc == 0, "raw_sleeps: %s", out ? out : "");
	line = out ? strstr(out, "raw_sleeps: calls ") : NULL;
	ck_assert_msg(line != NULL, "no count in: %s", out ? out : "");
	ck_assert_int_eq(
	    sscanf(line, "raw_sleeps: calls %ld eintr %ld", calls, eintrs), 2);
	fprintf(stderr, "no-eintr (%s): %ld EINTR in %ld raw sleeping calls\n",
		*env ? env : "default settings", *eintrs, *calls);
	free(out);
	/* The turns were sampled: signals did arrive while those calls
	 * were being made. */
	rep = sw_t_report(dir, NULL);
	ck_assert_ptr_nonnull(rep);
	if (!sw_t_find_site(rep, "cpu-stall", NULL, NULL))
		sw_t_dump("report", rep);
	ck_assert_ptr_nonnull(sw_t_find_site(rep, "cpu-stall", NULL, NULL));
	json_decref(rep);
}

START_TEST(test_default_settings_no_eintr)
{
	long calls = 0, eintrs = -1;

	run_raw_sleeps("eintr-default", "", 25, &calls, &eintrs);
	ck_assert_int_eq(calls, 1000);
	ck_assert_int_eq(eintrs, 0);
}
END_TEST

START_TEST(test_fast_sampling_at_most_one_in_1000)
{
	long calls = 0, eintrs = -1;

	run_raw_sleeps(
	    "eintr-1ms",
	    "STALLWATCH_SAMPLE_INTERVAL=1ms STALLWATCH_THRESHOLD=1ms", 25,
	    &calls, &eintrs);
	ck_assert_int_eq(calls, 1000);
	ck_assert_int_le(eintrs, 1);
}
END_TEST

Suite *sw_suite_no_eintr(void)
{
	Suite *s = suite_create("no_eintr");
	TCase *tc = tcase_create("raw_sleeps");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_default_settings_no_eintr);
	tcase_add_test(tc, test_fast_sampling_at_most_one_in_1000);
	suite_add_tcase(s, tc);
	return s;
}
