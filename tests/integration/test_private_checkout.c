/*
 * test_private_checkout.c - `make check` works from a checkout inside a
 * 0700 directory (root's /root, the usual place on a Debian box): the
 * security tests, which run programs as other users, pass with the build
 * directory out of those users' reach.  The build's programs are copied
 * under a fresh 0700 directory and the security suite runs from there.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../support.h"

START_TEST(security_tests_pass_from_a_0700_directory)
{
	const char *tmp = sw_t_tmpdir("private-checkout");
	char priv[4096], *out = NULL;
	int rc;

	if (geteuid() != 0 || !sw_t_have("setpriv")) {
		sw_t_skip("needs root and setpriv: the other-user tests skip "
			  "anyway");
		return;
	}
	snprintf(priv, sizeof(priv), "%s/home", tmp);
	ck_assert_int_eq(mkdir(priv, 0700), 0);
	ck_assert_int_eq(chmod(priv, 0700), 0);
	rc = sw_t_sh(
	    &out,
	    "mkdir -p '%s/build/tests' && cp -a '%s' '%s' "
	    "'%s/build/' && cp -a '%s' '%s' '%s/build/tests/'",
	    priv, sw_t_build("stallwatch"), sw_t_build("libstallwatch.so"),
	    priv, sw_t_build("tests/progs"), sw_t_build("tests/runner"), priv);
	ck_assert_msg(rc == 0, "copy: %s", out);
	free(out);
	rc = sw_t_sh(&out,
		     "SW_ROOT='%s' SW_BUILD='%s/build' CK_RUN_SUITE=security "
		     "CK_VERBOSITY=normal '%s/build/tests/runner'",
		     sw_t_src(""), priv, priv);
	ck_assert_msg(rc == 0 && strstr(out, "100%: Checks: "),
		      "the security suite from a 0700 directory: rc %d:\n%s",
		      rc, out);
	free(out);
}
END_TEST

Suite *sw_suite_private_checkout(void)
{
	Suite *s = suite_create("private_checkout");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, security_tests_pass_from_a_0700_directory);
	suite_add_tcase(s, tc);
	return s;
}
