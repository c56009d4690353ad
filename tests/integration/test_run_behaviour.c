/*
 * test_run_behaviour.c - `stallwatch run` behaves like the program it runs
 * and keeps each run apart:
 *   - two runs into one output directory: each has a directory of its own,
 *     the second run's summary and `report OUTDIR` show only its stall,
 *     and the first stays reachable by its directory;
 *   - a script's background job (SIGINT ignored by the shell) still gets
 *     the SIGINT sent to `run`, and its own handler runs; a program that
 *     installs none inherits the ignored disposition, as without `run`;
 *   - `run` dies of the signal that killed the program (a parent sees
 *     WIFSIGNALED with the same number), without a core of its own;
 *   - --js writes nothing into the working directory, and leaves no
 *     /tmp/perf-PID.map behind once copied beside the trace;
 *   - --max-size reaches the shim as STALLWATCH_MAX_SIZE.
 */
#include <check.h>
#include <jansson.h>
#include <regex.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../support.h"

#define SW sw_t_build("stallwatch")

extern char **environ;

static const char *python(void)
{
	/* `python3` on PATH may be a pyenv shell shim: a bash in between */
	return sw_t_have("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
}

/* Does any site of the JSON report have a frame in this function? */
static int report_has_function(json_t *rep, const char *fn)
{
	json_t *site;
	size_t i;

	json_array_foreach (json_object_get(rep, "sites"), i, site)
		if (sw_t_site_frame(site, fn, NULL, -1))
			return 1;
	return 0;
}

/* The run directory a summary's details line names (static buffer). */
static const char *details_dir(const char *out)
{
	static char dir[4096];
	const char *p = out ? strstr(out, "details: stallwatch report ") : NULL;

	if (!p)
		return NULL;
	p += strlen("details: stallwatch report ");
	snprintf(dir, sizeof(dir), "%.*s", (int)strcspn(p, "\n"), p);
	return dir;
}

START_TEST(two_runs_one_directory)
{
	const char *tmp = sw_t_tmpdir("run-two");
	char dir[4096], first[4096], *out = NULL, *err = NULL;
	const char *d;
	json_t *rep;
	regex_t re;
	int rc;

	snprintf(dir, sizeof(dir), "%s/out", tmp);
	rc = sw_t_sh(&out, "'%s' run -o '%s' -- %s '%s' first_run 2>&1", SW,
		     dir, python(), sw_t_src("tests/progs/run_blocks_in.py"));
	ck_assert_msg(rc == 0, "first run: rc %d: %s", rc, out);
	ck_assert_msg(strstr(out, "first_run"), "first summary: %s", out);
	d = details_dir(out);
	ck_assert_msg(d, "no details line: %s", out);
	snprintf(first, sizeof(first), "%s", d);
	free(out);
	/* <outdir>/<program>-<YYYYmmdd-HHMMSS>-<pid> */
	ck_assert_int_eq(regcomp(&re, "/out/python3-[0-9]{8}-[0-9]{6}-[0-9]+$",
				 REG_EXTENDED | REG_NOSUB),
			 0);
	ck_assert_msg(regexec(&re, first, 0, NULL, 0) == 0, "run dir %s",
		      first);
	regfree(&re);

	rc = sw_t_sh(&out, "'%s' run -o '%s' -- %s '%s' second_run 2>&1", SW,
		     dir, python(), sw_t_src("tests/progs/run_blocks_in.py"));
	ck_assert_msg(rc == 0, "second run: rc %d: %s", rc, out);
	ck_assert_msg(strstr(out, "second_run") && !strstr(out, "first_run"),
		      "the second summary mixes runs: %s", out);
	d = details_dir(out);
	ck_assert_msg(d && strcmp(d, first), "details: %s", out);
	free(out);

	/* the parent: the newest run, and one line on how to see others */
	rc = sw_t_sh(&err, "'%s' report '%s' 2>&1 >/dev/null", SW, dir);
	ck_assert_msg(rc == 0 &&
			  sw_t_count_lines(err, "newest of 2 runs") == 1 &&
			  strstr(err, "another run"),
		      "rc %d: %s", rc, err);
	free(err);
	rep = sw_t_report(dir, NULL);
	ck_assert_ptr_nonnull(rep);
	ck_assert_msg(report_has_function(rep, "second_run") &&
			  !report_has_function(rep, "first_run"),
		      "report OUTDIR is not the newest run alone");
	ck_assert_int_eq(json_array_size(json_object_get(rep, "stalls")), 1);
	json_decref(rep);
	/* and the first run by its own directory */
	rep = sw_t_report(first, NULL);
	ck_assert_ptr_nonnull(rep);
	ck_assert(report_has_function(rep, "first_run") &&
		  !report_has_function(rep, "second_run"));
	json_decref(rep);
}
END_TEST

START_TEST(background_sigint_reaches_the_handler)
{
	const char *tmp = sw_t_tmpdir("run-sigint");
	char *out = NULL;
	int rc;

	/* A non-interactive shell starts `&` jobs with SIGINT ignored; the
	 * program installs its own handler, so the signal must reach it. */
	rc = sw_t_sh(&out,
		     "cd '%s' && sh -c '\"$0\" run -q -o out -- \"$1\" \"$2\" "
		     "ready & p=$!; i=0; while [ ! -e ready ] && [ $i -lt 400 "
		     "]; do sleep 0.05; i=$((i+1)); done; kill -INT $p; wait "
		     "$p; echo rc=$?' '%s' '%s' '%s' 2>&1",
		     tmp, SW, python(),
		     sw_t_src("tests/progs/run_sigint_app.py"));
	ck_assert_msg(rc == 0, "rc %d: %s", rc, out);
	ck_assert_msg(strstr(out, "KeyboardInterrupt handled") &&
			  strstr(out, "rc=0"),
		      "the program did not get SIGINT: %s", out);
	free(out);
	/* A program that installs no handler inherits SIGINT ignored, as
	 * it does without stallwatch. */
	rc = sw_t_sh(&out,
		     "cd '%s' && sh -c '\"$0\" run -q -o out -- \"$1\" -c "
		     "\"import signal; print(\\\"ign\\\", signal.getsignal("
		     "signal.SIGINT) == signal.SIG_IGN)\" & wait; "
		     "\"$1\" -c \"import signal; print(\\\"plain\\\", "
		     "signal.getsignal(signal.SIGINT) == signal.SIG_IGN)\" & "
		     "wait' '%s' '%s' 2>&1",
		     tmp, SW, python());
	ck_assert_msg(rc == 0 && strstr(out, "plain True") &&
			  strstr(out, "ign True"),
		      "rc %d: %s", rc, out);
	free(out);
}
END_TEST

/* Spawn `stallwatch run -q -o DIR -- sh -c SCRIPT` in dir; its status. */
static int spawn_run(const char *dir, const char *script)
{
	char outdir[4200];
	char *argv[] = {(char *)SW, "run", "-q", "-o",		 outdir,
			"--",	    "sh",  "-c", (char *)script, NULL};
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int status = -1;

	snprintf(outdir, sizeof(outdir), "%s/out", dir);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addchdir_np(&fa, dir);
	ck_assert_int_eq(posix_spawn(&pid, SW, &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return status;
}

START_TEST(dies_by_the_programs_signal)
{
	const char *tmp = sw_t_tmpdir("run-signal-death");
	static const int sigs[] = {SIGTERM, SIGSEGV, SIGABRT};
	char dir[4096], script[64];
	size_t i;
	int st;

	snprintf(dir, sizeof(dir), "%s", tmp);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		snprintf(script, sizeof(script), "kill -%d $$", sigs[i]);
		st = spawn_run(dir, script);
		ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == sigs[i],
			      "signal %d: status 0x%x", sigs[i], st);
		ck_assert_msg(!WCOREDUMP(st), "stallwatch dumped a core");
	}
	/* no core file of stallwatch's own in its working directory */
	ck_assert_int_eq(
	    sw_t_sh(NULL, "test -z \"$(ls -A '%s' | grep -v '^out$')\"", dir),
	    0);
	/* and an exit status is passed as it is */
	st = spawn_run(dir, "exit 7");
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 7);
}
END_TEST

START_TEST(js_writes_only_under_the_output_directory)
{
	const char *tmp = sw_t_tmpdir("run-js-clean");
	char *out = NULL;
	int rc;

	if (!sw_t_have("node")) {
		sw_t_skip("node is not installed");
		return;
	}
	/* control: V8's plain perf flag leaves its log in the cwd, so the
	 * assertion below can fail */
	rc = sw_t_sh(&out,
		     "mkdir '%s/control' && cd '%s/control' && node "
		     "--perf-basic-prof -e 1 && ls -A",
		     tmp, tmp);
	ck_assert_msg(rc == 0 && strstr(out, "v8.log"),
		      "control: no isolate log: rc %d: %s", rc, out);
	free(out);
	rc = sw_t_sh(&out,
		     "mkdir '%s/cwd' && cd '%s/cwd' && '%s' run --js -q -o "
		     "'%s/out' -- node '%s' && ls -A",
		     tmp, tmp, SW, tmp, sw_t_src("tests/progs/js_spin.js"));
	ck_assert_msg(rc == 0, "rc %d: %s", rc, out);
	ck_assert_msg(!strstr(out, "v8.log") && !strstr(out, "isolate-"),
		      "--js left files in the working directory: %s", out);
	free(out);
	rc = sw_t_sh(&out, "ls -A '%s/cwd' | wc -l; ls '%s'/out/*/*.perfmap",
		     tmp, tmp);
	ck_assert_msg(rc == 0 && !strncmp(out, "0\n", 2),
		      "cwd not empty, or no perf map beside the trace: %s",
		      out);
	free(out);
	/* and node's own /tmp/perf-PID.map, which the copy holds, is gone */
	rc = sw_t_sh(&out,
		     "for f in '%s'/out/*/*.perfmap; do p=${f%%.perfmap}; "
		     "p=${p##*.}; test ! -e /tmp/perf-$p.map || echo left "
		     "$p; done",
		     tmp);
	ck_assert_msg(rc == 0 && !strstr(out, "left"), "%s", out);
	free(out);
}
END_TEST

START_TEST(max_size_reaches_the_shim)
{
	const char *dir = sw_t_tmpdir("run-max-size");
	char *out = NULL;
	int rc;

	rc = sw_t_sh(&out,
		     "'%s' run -q --max-size 512K -o '%s' -- sh -c 'echo "
		     "M=$STALLWATCH_MAX_SIZE'",
		     SW, dir);
	ck_assert_msg(rc == 0 && strstr(out, "M=512K\n"), "rc %d: %s", rc, out);
	free(out);
	rc = sw_t_sh(&out, "'%s' run -q --max-size 12Q -o '%s' -- true", SW,
		     dir);
	ck_assert_msg(rc == 2 && sw_t_count_lines(out, "") == 1 &&
			  strstr(out, "--max-size"),
		      "rc %d: %s", rc, out);
	free(out);
}
END_TEST

Suite *sw_suite_run_behaves_like_the_program(void)
{
	Suite *s = suite_create("run_behaves_like_the_program");
	TCase *tc = tcase_create("run");

	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, two_runs_one_directory);
	tcase_add_test(tc, background_sigint_reaches_the_handler);
	tcase_add_test(tc, dies_by_the_programs_signal);
	tcase_add_test(tc, js_writes_only_under_the_output_directory);
	tcase_add_test(tc, max_size_reaches_the_shim);
	suite_add_tcase(s, tc);
	return s;
}
