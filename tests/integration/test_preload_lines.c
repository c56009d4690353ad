/*
 * test_preload_lines.c - `stallwatch preload` prints lines that really
 * load the shim: the --shell lines, eval'ed, make a C epoll loop write its
 * trace into the suggested directory (keeping an LD_PRELOAD already set);
 * the plain lines work with env(1); the --systemd drop-in has the
 * Environment= lines and a state directory outside PrivateTmp.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../support.h"

#define SW sw_t_build("stallwatch")

START_TEST(shell_lines_load_the_shim)
{
	const char *dir = sw_t_tmpdir("preload-shell");
	char *out = NULL;

	ck_assert_int_eq(sw_t_sh(&out, "'%s' preload", SW), 0);
	ck_assert_msg(strstr(out, "LD_PRELOAD=/") &&
			  strstr(out, "/libstallwatch.so\n"),
		      "no absolute shim path in:\n%s", out);
	free(out);
	/* eval the export lines, with another library already preloaded */
	ck_assert_int_eq(sw_t_sh(&out,
				 "LD_PRELOAD=libm.so.6 && export LD_PRELOAD && "
				 "eval \"$('%s' preload --shell -o '%s')\" && "
				 "echo \"$LD_PRELOAD\" && '%s' 1 150",
				 SW, dir,
				 sw_t_build("tests/progs/epoll_sleep")),
			 0);
	ck_assert_msg(strstr(out, "libstallwatch.so:libm.so.6"),
		      "the existing LD_PRELOAD was not kept:\n%s", out);
	free(out);
	ck_assert_int_eq(sw_t_count_traces(dir), 1);
}
END_TEST

START_TEST(env_lines_load_the_shim)
{
	const char *dir = sw_t_tmpdir("preload-env");
	char *out = NULL;

	ck_assert_int_eq(sw_t_sh(&out, "env $('%s' preload -o '%s') '%s' 1 150",
				 SW, dir,
				 sw_t_build("tests/progs/epoll_sleep")),
			 0);
	free(out);
	ck_assert_int_eq(sw_t_count_traces(dir), 1);
}
END_TEST

START_TEST(systemd_drop_in)
{
	char *out = NULL;

	ck_assert_int_eq(sw_t_sh(&out, "'%s' preload --systemd", SW), 0);
	ck_assert_ptr_nonnull(strstr(out, "\n[Service]\n"));
	ck_assert_ptr_nonnull(strstr(out, "\nEnvironment=LD_PRELOAD=/"));
	ck_assert_ptr_nonnull(strstr(
	    out, "\nEnvironment=STALLWATCH_OUTPUT=/var/lib/stallwatch\n"));
	ck_assert_ptr_nonnull(strstr(out, "\nStateDirectory=stallwatch\n"));
	free(out);
	ck_assert_int_eq(
	    sw_t_sh(&out, "'%s' preload --systemd -o '/srv/sw traces'", SW), 0);
	ck_assert_ptr_nonnull(strstr(
	    out, "\nEnvironment=\"STALLWATCH_OUTPUT=/srv/sw traces\"\n"));
	ck_assert_ptr_nonnull(strstr(out, "\nReadWritePaths=/srv/sw traces\n"));
	free(out);
	if (sw_t_have("systemd-analyze")) {
		/* systemd itself parses the drop-in's lines */
		const char *d = sw_t_tmpdir("preload-unit");

		ck_assert_int_eq(
		    sw_t_sh(
			&out,
			"cd '%s' && printf "
			"'[Service]\\nExecStart=/bin/true\\n' "
			"> sw-test.service && '%s' preload --systemd | "
			"grep -v '^#' | grep -v '^\\[Service\\]' >> "
			"sw-test.service && systemd-analyze verify "
			"./sw-test.service 2>&1 | grep -i 'unknown\\|invalid' "
			"|| true",
			d, SW),
		    0);
		ck_assert_msg(out[0] == 0, "systemd-analyze: %s", out);
		free(out);
	}
}
END_TEST

START_TEST(preload_usage_errors)
{
	char *out = NULL;

	ck_assert_int_eq(sw_t_sh(&out, "'%s' preload --shell --systemd", SW),
			 2);
	free(out);
	ck_assert_int_eq(sw_t_sh(&out, "'%s' preload -o relative/dir", SW), 2);
	free(out);
	/* a copy of the binary with no shim beside it */
	{
		const char *d = sw_t_tmpdir("preload-alone");

		ck_assert_int_eq(sw_t_sh(&out,
					 "cp '%s' '%s/sw' && '%s/sw' preload",
					 SW, d, d),
				 1);
		ck_assert_ptr_nonnull(
		    strstr(out, "libstallwatch.so not found"));
		free(out);
	}
}
END_TEST

Suite *sw_suite_preload_lines(void)
{
	Suite *s = suite_create("preload_lines");
	TCase *tc = tcase_create("preload");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, shell_lines_load_the_shim);
	tcase_add_test(tc, env_lines_load_the_shim);
	tcase_add_test(tc, systemd_drop_in);
	tcase_add_test(tc, preload_usage_errors);
	suite_add_tcase(s, tc);
	return s;
}
