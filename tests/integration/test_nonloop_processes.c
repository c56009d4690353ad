/*
 * test_nonloop_processes.c - a process that never runs an event loop gets
 * nothing from the shim: no trace file, no descriptor, no thread.  Shell
 * scripts, build tools and the short commands a service starts all run
 * with LD_PRELOAD inherited; only the processes that wait on a loop may
 * leave a trace.
 *
 *   a shell script running 40 short commands and one asyncio program
 *   leaves exactly one trace file (also when python3 is pyenv's shell
 *   shim, a bash script that execs the interpreter);
 *   a command that runs no loop sees the same threads and descriptors.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../support.h"

/* 10 rounds of 4 short commands, then an asyncio program that waits. */
static void one_trace_for_one_loop(const char *python)
{
	const char *dir = sw_t_tmpdir("nonloop-script");
	char *out = NULL;
	int rc, n;

	rc = sw_t_sh(&out,
		     "%s sh -c 'i=0; while [ $i -lt 10 ]; do "
		     "/bin/true; /bin/echo $i >/dev/null; /bin/cat /dev/null; "
		     "/bin/ls / >/dev/null; i=$((i + 1)); done; "
		     "%s -c \"import asyncio; "
		     "asyncio.run(asyncio.sleep(0.05))\"'",
		     sw_t_preload(dir), python);
	ck_assert_msg(rc == 0, "rc %d: %s", rc, out ? out : "");
	free(out);
	n = sw_t_count_traces(dir);
	if (n != 1)
		sw_t_sh(NULL, "ls -l '%s' >&2", dir);
	ck_assert_msg(n == 1,
		      "%d trace files for 41 commands and one loop (%s)", n,
		      python);
}

START_TEST(test_script_with_one_loop_leaves_one_trace)
{
	if (!sw_t_have("/usr/bin/python3")) {
		sw_t_skip("no /usr/bin/python3");
		return;
	}
	one_trace_for_one_loop("/usr/bin/python3");
}
END_TEST

START_TEST(test_pyenv_shim_script_leaves_one_trace)
{
	const char *root = getenv("PYENV_ROOT"), *ver;
	char shim[4200], cmd[8400];

	snprintf(shim, sizeof(shim), "%s/shims/python3",
		 root && *root ? root : "/root/.pyenv");
	if (!sw_t_have(shim) || !sw_t_pyenv("3.12")) {
		sw_t_skip("no pyenv shell shims: pyenv's bash wrapper not "
			  "tried");
		return;
	}
	/* pyenv's shim is a bash script that runs `pyenv exec`, a dozen
	 * more processes with no loop before the interpreter. */
	ver = strstr(sw_t_pyenv("3.12"), "/versions/") + strlen("/versions/");
	snprintf(cmd, sizeof(cmd), "PYENV_VERSION=%.*s %s",
		 (int)(strchr(ver, '/') - ver), ver, shim);
	one_trace_for_one_loop(cmd);
}
END_TEST

START_TEST(test_nonloop_command_threads_and_fds)
{
	ck_assert_int_eq(
	    sw_t_same_plain_and_shim("Threads of grep",
				     "grep '^Threads:' /proc/self/status", ""),
	    0);
	ck_assert_int_eq(
	    sw_t_same_plain_and_shim(
		"fds of a shell", "sh -c 'ls /proc/$$/fd' | tr '\\n' ' '", ""),
	    0);
}
END_TEST

Suite *sw_suite_nonloop_processes(void)
{
	Suite *s = suite_create("nonloop_processes");
	TCase *tc = tcase_create("nonloop_processes");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_script_with_one_loop_leaves_one_trace);
	tcase_add_test(tc, test_pyenv_shim_script_leaves_one_trace);
	tcase_add_test(tc, test_nonloop_command_threads_and_fds);
	suite_add_tcase(s, tc);
	return s;
}
