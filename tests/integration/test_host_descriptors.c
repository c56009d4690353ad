/*
 * test_host_descriptors.c - the shim never takes, reads, writes or closes
 * a descriptor the program could own.  Each test runs a real program
 * plain and under the shim (default mode, LD_PRELOAD) and compares what
 * the program saw: its exit status, its output, the numbers of the
 * descriptors it opened, the data it wrote through them, and the
 * descriptors its children see.
 *
 *   closed standard streams (python3 with fd 1 closed, with fd 0 closed);
 *   the first descriptor a program opens, with and without 0/1/2 closed;
 *   closerange(3, N) at start-up, then the program's own files, pipe or
 *   loop on fds 3 and 4 across a sampled CPU stall (C and asyncio);
 *   the fds a child of a loop process sees (subprocess, ls /proc/self/fd).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../support.h"

#define PROG(name) sw_t_build("tests/progs/" name)

/* Pythons to try: Debian's and pyenv's 3.12 (NULL entries are absent). */
static const char *pythons[2];

static void find_pythons(void)
{
	pythons[0] = sw_t_have("/usr/bin/python3") ? "/usr/bin/python3" : NULL;
	pythons[1] = sw_t_pyenv("3.12");
	if (!pythons[0])
		sw_t_skip("no /usr/bin/python3: Debian's CPython not tried");
	if (!pythons[1])
		sw_t_skip("no pyenv CPython 3.12: not tried");
}

START_TEST(test_print_with_stdout_closed)
{
	char tail[4200];

	find_pythons();
	for (int i = 0; i < 2; i++) {
		if (!pythons[i])
			continue;
		/* CPython sets sys.stdout to None and print() does nothing:
		 * exit 0, unless something now sits on fd 1. */
		snprintf(tail, sizeof(tail),
			 "'%s' -c 'print(1)' >&-; echo \"exit $?\" >&2",
			 pythons[i]);
		ck_assert_int_eq(sw_t_same_plain_and_shim(
				     "print(1) with fd 1 closed", tail, ""),
				 0);
	}
}
END_TEST

START_TEST(test_stdin_closed_is_none)
{
	char tail[4200];

	find_pythons();
	for (int i = 0; i < 2; i++) {
		if (!pythons[i])
			continue;
		snprintf(tail, sizeof(tail),
			 "'%s' -c 'import os, sys; "
			 "print(\"stdin\", sys.stdin, \"first open\", "
			 "os.open(\"/dev/null\", os.O_RDONLY))' <&-",
			 pythons[i]);
		ck_assert_int_eq(sw_t_same_plain_and_shim(
				     "sys.stdin with fd 0 closed", tail, ""),
				 0);
	}
}
END_TEST

/* The C loop's first fd, its epoll fd and a file opened after a sampled
 * stall: the same numbers with the shim, whatever of 0/1/2 is closed. */
START_TEST(test_first_fd_number)
{
	static const char *const closed[] = {"", "<&-", ">&-", "2>&-",
					     "<&- >&- 2>&-"};
	const char *dir = sw_t_tmpdir("host-first-fd");

	for (size_t i = 0; i < sizeof(closed) / sizeof(closed[0]); i++) {
		char *plain, *shim, path[4200];

		ck_assert_int_eq(sw_t_sh(NULL, "'%s' first '%s/plain' %s",
					 PROG("host_loop"), dir, closed[i]),
				 0);
		ck_assert_int_eq(
		    sw_t_sh(NULL,
			    "%s STALLWATCH_SAMPLE_INTERVAL=1ms "
			    "STALLWATCH_THRESHOLD=1ms '%s' first '%s/shim' %s",
			    sw_t_preload(dir), PROG("host_loop"), dir,
			    closed[i]),
		    0);
		snprintf(path, sizeof(path), "%s/plain", dir);
		plain = sw_t_slurp(path, NULL);
		snprintf(path, sizeof(path), "%s/shim", dir);
		shim = sw_t_slurp(path, NULL);
		ck_assert_ptr_nonnull(plain);
		ck_assert_ptr_nonnull(shim);
		ck_assert_msg(strcmp(plain, shim) == 0,
			      "closed '%s': plain %s under the shim %s",
			      closed[i], plain, shim);
		free(plain);
		free(shim);
	}
}
END_TEST

/* close_range(3, ~0), a pipe on 3 and 4, ABCDEFGH before a sampled stall
 * and IJ after: exactly ABCDEFGHIJ read back (C epoll loop). */
START_TEST(test_c_pipe_across_sampled_stall)
{
	char tail[4200];

	snprintf(tail, sizeof(tail), "'%s' pipe", PROG("host_loop"));
	ck_assert_int_eq(
	    sw_t_same_plain_and_shim("C pipe, default settings", tail, ""), 0);
	ck_assert_int_eq(
	    sw_t_same_plain_and_shim(
		"C pipe, 1 ms sampling", tail,
		"STALLWATCH_SAMPLE_INTERVAL=1ms STALLWATCH_THRESHOLD=1ms"),
	    0);
}
END_TEST

/* The same in asyncio, and two data files on fds 3 and 4, and a loop
 * whose own epoll fd and self-pipe are on 3, 4 and 5. */
START_TEST(test_asyncio_closerange_then_stall)
{
	static const char *const modes[] = {"pipe", "files", "loop"};
	const char *data = sw_t_tmpdir("host-closerange");
	char tail[8400];

	find_pythons();
	for (int i = 0; i < 2; i++) {
		if (!pythons[i])
			continue;
		for (int m = 0; m < 3; m++) {
			/* Only "files" takes the directory of its files. */
			snprintf(tail, sizeof(tail), "'%s' '%s' %s '%s'",
				 pythons[i],
				 sw_t_src("tests/progs/host_closerange.py"),
				 modes[m], m == 1 ? data : "");
			ck_assert_int_eq(
			    sw_t_same_plain_and_shim(modes[m], tail, ""), 0);
			ck_assert_int_eq(sw_t_same_plain_and_shim(
					     modes[m], tail,
					     "STALLWATCH_SAMPLE_INTERVAL=1ms "
					     "STALLWATCH_THRESHOLD=1ms"),
					 0);
		}
	}
}
END_TEST

/* A child of a loop process (after a sampled stall) sees the same fds
 * with and without the shim: `ls -l /proc/self/fd` started by
 * subprocess, with close_fds and without. */
START_TEST(test_child_of_loop_sees_no_shim_fds)
{
	char tail[4200];

	find_pythons();
	for (int i = 0; i < 2; i++) {
		if (!pythons[i])
			continue;
		snprintf(tail, sizeof(tail),
			 "'%s' '%s' | sed 's#/proc/[0-9]*/#/proc/PID/#g'",
			 pythons[i], sw_t_src("tests/progs/host_child_fds.py"));
		ck_assert_int_eq(
		    sw_t_same_plain_and_shim("child's /proc/self/fd", tail, ""),
		    0);
	}
}
END_TEST

/* A program that never runs a loop holds no descriptor of the shim's. */
START_TEST(test_nonloop_program_fds)
{
	/* "lrwx------ 1 root root 64 Nov 30 00:20 3 -> target": the fd and
	 * its target, without inode, pid or temporary names. */
	ck_assert_int_eq(sw_t_same_plain_and_shim(
			     "ls -l /proc/self/fd",
			     "ls -l /proc/self/fd | sed -E 's/^.* ([0-9]+) -> "
			     "/\\1 -> /; s#/proc/[0-9]+/#/proc/PID/#; "
			     "s/\\[[0-9]+\\]//; s/out\\.[A-Za-z0-9]+/out/; "
			     "s/ \\(deleted\\)$//'",
			     ""),
			 0);
}
END_TEST

Suite *sw_suite_host_descriptors(void)
{
	Suite *s = suite_create("host_descriptors");
	TCase *tc = tcase_create("host_descriptors");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_print_with_stdout_closed);
	tcase_add_test(tc, test_stdin_closed_is_none);
	tcase_add_test(tc, test_first_fd_number);
	tcase_add_test(tc, test_c_pipe_across_sampled_stall);
	tcase_add_test(tc, test_asyncio_closerange_then_stall);
	tcase_add_test(tc, test_child_of_loop_sees_no_shim_fds);
	tcase_add_test(tc, test_nonloop_program_fds);
	suite_add_tcase(s, tc);
	return s;
}
