/*
 * test_host_threads.c - a single-threaded program stays single-threaded
 * under the shim.  glibc takes its multi-threaded paths (cancellable
 * syscalls, malloc arenas, stdio locks) as soon as a second thread exists,
 * and CPython 3.12 warns on fork() in a multi-threaded process, so an
 * extra thread is a change of behaviour.  Each test runs a real loop
 * plain and under the shim and compares what it saw:
 *
 *   the Threads: line of /proc/self/status in the middle of a sampled
 *   CPU stall and while idle, in a C epoll loop and in asyncio;
 *   CPython 3.12's os.fork() after a sampled stall: no DeprecationWarning.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "../support.h"

#define PROG(name) sw_t_build("tests/progs/" name)
#define FAST	   "STALLWATCH_SAMPLE_INTERVAL=1ms STALLWATCH_THRESHOLD=1ms"

START_TEST(test_c_epoll_loop_threads)
{
	char tail[4200];

	snprintf(tail, sizeof(tail), "'%s' threads", PROG("host_loop"));
	ck_assert_int_eq(
	    sw_t_same_plain_and_shim("C loop, default settings", tail, ""), 0);
	ck_assert_int_eq(
	    sw_t_same_plain_and_shim("C loop, 1 ms sampling", tail, FAST), 0);
	ck_assert_int_eq(sw_t_same_plain_and_shim("C loop, strict", tail,
						  "STALLWATCH_STRICT=1"),
			 0);
}
END_TEST

START_TEST(test_asyncio_threads)
{
	const char *pythons[2] = {"/usr/bin/python3", sw_t_pyenv("3.12")};
	char tail[4200];

	for (int i = 0; i < 2; i++) {
		if (!pythons[i] || !sw_t_have(pythons[i])) {
			sw_t_skipf("CPython %s not installed",
				   i ? "3.12 (pyenv)" : "/usr/bin/python3");
			continue;
		}
		snprintf(tail, sizeof(tail), "'%s' '%s'", pythons[i],
			 sw_t_src("tests/progs/host_threads.py"));
		ck_assert_int_eq(sw_t_same_plain_and_shim(
				     "asyncio, default settings", tail, ""),
				 0);
		ck_assert_int_eq(sw_t_same_plain_and_shim(
				     "asyncio, 1 ms sampling", tail, FAST),
				 0);
	}
}
END_TEST

START_TEST(test_fork_without_deprecation_warning)
{
	const char *py = sw_t_pyenv("3.12");
	char tail[4200];

	if (!py) {
		sw_t_skip("no pyenv CPython 3.12: its fork() warning not "
			  "checked");
		return;
	}
	/* The output includes stderr: a warning would be a difference. */
	snprintf(tail, sizeof(tail), "'%s' '%s'", py,
		 sw_t_src("tests/progs/host_fork.py"));
	ck_assert_int_eq(sw_t_same_plain_and_shim(
			     "os.fork() in 3.12, default settings", tail, ""),
			 0);
	ck_assert_int_eq(sw_t_same_plain_and_shim(
			     "os.fork() in 3.12, 1 ms sampling", tail, FAST),
			 0);
}
END_TEST

Suite *sw_suite_host_threads(void)
{
	Suite *s = suite_create("host_threads");
	TCase *tc = tcase_create("host_threads");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_c_epoll_loop_threads);
	tcase_add_test(tc, test_asyncio_threads);
	tcase_add_test(tc, test_fork_without_deprecation_warning);
	suite_add_tcase(s, tc);
	return s;
}
