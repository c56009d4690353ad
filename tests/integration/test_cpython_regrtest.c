/*
 * test_cpython_regrtest.c - CPython's own regression tests as a host: the
 * short form of `make check-hosts` (scripts/check-hosts.sh short) runs
 * the descriptor, stream and fork tests of test_subprocess, test_posix
 * and test_os on one interpreter, plain and under the shim in default
 * mode, strict mode and with 1 ms sampling, and fails when a test fails
 * only under the shim (test_pass_fds_redirected and
 * TestPosixSpawn.test_close_file among them).  The full form, every
 * CPython 3.9-3.13 and the whole module list, is `make check-hosts`.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "../support.h"

START_TEST(test_cpython_fd_and_fork_tests_pass_under_shim)
{
	const char *py = sw_t_pyenv("3.12");
	const char *out_dir;
	char *out = NULL;
	int rc;

	if (!py) {
		sw_t_skip("no pyenv CPython 3.12: CPython's own tests not run");
		return;
	}
	out_dir = sw_t_tmpdir("check-hosts-short");
	rc = sw_t_sh(
	    &out,
	    "HOSTS_PYTHONS='%s' HOSTS_OUT='%s' HOSTS_SHIM='%s' '%s' short", py,
	    out_dir, sw_t_build("libstallwatch.so"),
	    sw_t_src("scripts/check-hosts.sh"));
	ck_assert_msg(rc == 0, "check-hosts short: exit %d\n%s", rc,
		      out ? out : "");
	/* It ran tests (a missing module or a bad pattern runs none). */
	ck_assert_msg(out && sw_t_count_lines(out, "3.12") >= 4 &&
			  !sw_t_count_lines(out, "no results"),
		      "check-hosts short:\n%s", out ? out : "");
	free(out);
}
END_TEST

Suite *sw_suite_cpython_regrtest(void)
{
	Suite *s = suite_create("cpython_regrtest");
	TCase *tc = tcase_create("cpython_regrtest");

	tcase_set_timeout(tc, 900);
	tcase_add_test(tc, test_cpython_fd_and_fork_tests_pass_under_shim);
	suite_add_tcase(s, tc);
	return s;
}
