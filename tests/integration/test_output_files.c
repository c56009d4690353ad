/*
 * test_output_files.c - the files the commands write: `report -o`,
 * `gate --junit` and `metrics -o` replace a regular file atomically with
 * the usual mode, and write in place into what is not a regular file (a
 * FIFO here; /dev/null in real use), which a rename would have replaced by
 * a regular file.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../support.h"

#define SW sw_t_build("stallwatch")

/* A run with one stall to write about. */
static const char *one_run(const char *tag)
{
	const char *dir = sw_t_tmpdir(tag);

	ck_assert_int_eq(sw_t_sh(NULL, "'%s' run -q -o '%s/out' -- '%s' 1 120",
				 SW, dir,
				 sw_t_build("tests/progs/epoll_sleep")),
			 0);
	return dir;
}

START_TEST(regular_file_is_replaced_with_its_mode)
{
	const char *dir = one_run("outfile-reg");
	char path[4200];
	struct stat st;

	snprintf(path, sizeof(path), "%s/r.json", dir);
	ck_assert_int_eq(sw_t_sh(NULL, "echo OLD-CONTENT > '%s'", path), 0);
	ck_assert_int_eq(sw_t_sh(NULL,
				 "umask 022 && '%s' report -q -f json -o '%s' "
				 "'%s/out'",
				 SW, path, dir),
			 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_int_eq(st.st_mode & 0777, 0644);
	ck_assert_int_eq(
	    sw_t_sh(NULL, "grep -q '\"stalls\"' '%s' && ! grep -q OLD-CONTENT '%s'",
		    path, path),
	    0);
	/* no temporary file is left beside it */
	ck_assert_int_eq(sw_t_sh(NULL, "ls '%s' | grep -c tmp", dir), 1);
}
END_TEST

/* Each command writes into a FIFO, which stays a FIFO, and its reader
 * gets the whole output. */
START_TEST(fifo_is_written_in_place)
{
	const char *dir = one_run("outfile-fifo");
	static const char *const cmds[] = {
	    "report -q -f json -o '%1$s/p' '%1$s/out'",
	    "gate -q --max-stall 10s --junit '%1$s/p' '%1$s/out'",
	    "metrics -o '%1$s/p' '%1$s/out'",
	};
	static const char *const want[] = {"\"stalls\"", "<testsuite",
					   "stallwatch_"};
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		char cmd[4096], fmt[512], *out = NULL;
		struct stat st;
		char fifo[4200];

		snprintf(fifo, sizeof(fifo), "%s/p", dir);
		unlink(fifo);
		ck_assert_int_eq(sw_t_sh(NULL, "mkfifo '%s'", fifo), 0);
		snprintf(fmt, sizeof(fmt), "'%%2$s' %s", cmds[i]);
		snprintf(cmd, sizeof(cmd), fmt, dir, SW);
		ck_assert_int_eq(
		    sw_t_sh(&out,
			    "cat '%s' > '%s/got' & %s; rc=$?; wait; exit $rc",
			    fifo, dir, cmd),
		    0);
		free(out);
		ck_assert_int_eq(lstat(fifo, &st), 0);
		ck_assert_msg(S_ISFIFO(st.st_mode), "%s replaced the FIFO",
			      cmds[i]);
		ck_assert_int_eq(
		    sw_t_sh(NULL, "grep -q '%s' '%s/got'", want[i], dir), 0);
	}
}
END_TEST

Suite *sw_suite_output_files(void)
{
	Suite *s = suite_create("output_files");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, regular_file_is_replaced_with_its_mode);
	tcase_add_test(tc, fifo_is_written_in_place);
	suite_add_tcase(s, tc);
	return s;
}
