/*
 * test_blocking_calls.c - blocking calls end to end: real programs under
 * `stallwatch run`, assertions on `stallwatch report --format json`.
 *
 *   C epoll loop + nanosleep, asyncio time.sleep (Debian's python3 and a
 *   pyenv CPython), the same sleep in asyncio.to_thread (nothing), a
 *   forked child, SIGKILL after three stalls, a program that closes every
 *   fd (libc calls, and raw syscalls the shim cannot see), garbage
 *   settings, strict mode with its flood limit, a private loop, Redis,
 *   and a socket whose O_NONBLOCK another process cleared.
 */
#include <check.h>
#include <glob.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../support.h"

#define SW	   sw_t_build("stallwatch")
#define PROG(name) sw_t_build("tests/progs/" name)
#define MS	   1000000ll

static json_int_t jint(json_t *obj, const char *key)
{
	return json_integer_value(json_object_get(obj, key));
}

/* Does any frame of the site carry a function name (symbolized)? */
static int has_named_native_frame(json_t *site)
{
	json_t *fr;
	size_t i;

	json_array_foreach (json_object_get(site, "frames"), i, fr) {
		const char *lang =
		    json_string_value(json_object_get(fr, "lang"));
		const char *fn =
		    json_string_value(json_object_get(fr, "function"));

		if (lang && strcmp(lang, "native") == 0 && fn && *fn &&
		    strcmp(fn, "??") != 0)
			return 1;
	}
	return 0;
}

static int count_lines_with(const char *text, const char *needle)
{
	int n = 0;
	const char *p = text;

	while (p && (p = strstr(p, needle))) {
		n++;
		p += strlen(needle);
	}
	return n;
}

/*
 * Stalls of at least min_ns.  The programs' own stalls are long (100 ms
 * and more); on a loaded machine an unrelated turn can pass the 50 ms
 * threshold too, so counts are taken over the long ones.
 */
static int stalls_over(json_t *rep, json_int_t min_ns)
{
	json_t *stall;
	size_t i;
	int n = 0;

	json_array_foreach (json_object_get(rep, "stalls"), i, stall)
		n += jint(stall, "duration_ns") >= min_ns;
	return n;
}

/* Run a command under `stallwatch run -q -o dir`; its exit status. */
static int run_under(const char *dir, char **out, const char *cmd)
{
	return sw_t_sh(out, "'%s' run -q -o '%s' -- %s", SW, dir, cmd);
}

START_TEST(test_c_epoll_nanosleep)
{
	const char *dir = sw_t_tmpdir("fnd-epoll");
	json_t *rep, *site;
	char cmd[4200];

	snprintf(cmd, sizeof(cmd), "'%s' 1 250", PROG("epoll_sleep"));
	ck_assert_int_eq(run_under(dir, NULL, cmd), 0);
	ck_assert_int_eq(sw_t_count_traces(dir), 1);
	rep = sw_t_report(dir, NULL);
	ck_assert_ptr_nonnull(rep);
	site =
	    sw_t_find_site(rep, "blocking-call", "nanosleep", "slow_callback");
	if (!site)
		sw_t_dump("report", rep);
	ck_assert_ptr_nonnull(site);
	ck_assert_int_ge(jint(site, "total_ns"), 200 * MS);
	ck_assert_int_eq(jint(site, "count"), 1);
	/* The callback and its caller, with the test program's lines. */
	ck_assert_ptr_nonnull(
	    sw_t_site_frame(site, "slow_callback", "epoll_sleep.c", -1));
	ck_assert_ptr_nonnull(sw_t_site_frame(site, "on_timer", NULL, -1));
	/* The stall is there and is explained by that site. */
	ck_assert_int_ge(json_array_size(json_object_get(rep, "stalls")), 1);
	ck_assert_int_ge(jint(json_array_get(json_object_get(rep, "stalls"), 0),
			      "duration_ns"),
			 200 * MS);
	json_decref(rep);
}
END_TEST

/* The asyncio sleep under one interpreter. */
static void check_asyncio_sleep(const char *python)
{
	const char *dir = sw_t_tmpdir("fnd-asyncio");
	json_t *rep, *site;
	char cmd[4200], *out = NULL;

	snprintf(cmd, sizeof(cmd), "'%s' '%s'", python,
		 sw_t_src("tests/progs/asyncio_sleep.py"));
	ck_assert_msg(run_under(dir, &out, cmd) == 0, "%s: %s", python,
		      out ? out : "");
	free(out);
	rep = sw_t_report(dir, NULL);
	ck_assert_ptr_nonnull(rep);
	/* CPython sleeps with clock_nanosleep (3.11+) or select (older). */
	site = sw_t_find_site(rep, "blocking-call", "clock_nanosleep", NULL);
	if (!site)
		site = sw_t_find_site(rep, "blocking-call", "select", NULL);
	if (!site)
		sw_t_dump(python, rep);
	ck_assert_msg(site != NULL, "%s: no blocking-call site for the sleep",
		      python);
	ck_assert_int_ge(jint(site, "total_ns"), 200 * MS);
	ck_assert_msg(has_named_native_frame(site),
		      "%s: no symbolized native frame", python);
	json_decref(rep);
}

START_TEST(test_asyncio_sleep_debian)
{
	if (!sw_t_have("/usr/bin/python3")) {
		sw_t_skip("no /usr/bin/python3");
		return;
	}
	check_asyncio_sleep("/usr/bin/python3");
}
END_TEST

START_TEST(test_asyncio_sleep_pyenv)
{
	char *root = NULL, pat[1200];
	glob_t g;

	if (sw_t_sh(&root, "pyenv root 2>/dev/null") != 0 || !root || !*root) {
		free(root);
		sw_t_skip("no pyenv");
		return;
	}
	root[strcspn(root, "\n")] = 0;
	snprintf(pat, sizeof(pat), "%s/versions/3.12.*/bin/python3", root);
	free(root);
	if (glob(pat, 0, NULL, &g) != 0 || !g.gl_pathc) {
		sw_t_skip("no pyenv CPython 3.12");
		return;
	}
	check_asyncio_sleep(g.gl_pathv[g.gl_pathc - 1]);
	globfree(&g);
}
END_TEST

START_TEST(test_to_thread_reports_nothing)
{
	const char *dir = sw_t_tmpdir("fnd-tothread");
	json_t *rep, *loops, *site;
	char cmd[4200];
	size_t i;

	if (!sw_t_have("/usr/bin/python3")) {
		sw_t_skip("no /usr/bin/python3");
		return;
	}
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 '%s'",
		 sw_t_src("tests/progs/asyncio_to_thread.py"));
	ck_assert_int_eq(run_under(dir, NULL, cmd), 0);
	rep = sw_t_report(dir, NULL);
	ck_assert_ptr_nonnull(rep);
	/* The loop was seen (so the shim was live)... */
	loops = json_object_get(
	    json_array_get(json_object_get(rep, "processes"), 0), "loops");
	ck_assert_int_ge(json_array_size(loops), 1);
	ck_assert_int_gt(jint(json_array_get(loops, 0), "turns"), 2);
	/* ...and the offloaded sleep blocked nothing.  (Other short waits
	 * may show up on a loaded machine, e.g. Thread.start waiting for the
	 * worker thread to run: they are real, and not what this is about.) */
	json_array_foreach (json_object_get(rep, "sites"), i, site) {
		const char *call =
		    json_string_value(json_object_get(site, "call"));

		ck_assert_msg(!call || (strcmp(call, "clock_nanosleep") != 0 &&
					strcmp(call, "select") != 0),
			      "the offloaded sleep was reported");
		ck_assert_msg(
		    !sw_t_site_frame(site, "offloaded_sleep", NULL, -1),
		    "a site in the worker thread's function");
	}
	json_decref(rep);
}
END_TEST

/* The pid of the report's process whose stalls all name `function`. */
static void check_process_owns(json_t *rep, json_int_t pid,
			       const char *function)
{
	json_t *stalls = json_object_get(rep, "stalls"), *sites, *stall, *idx;
	size_t i, j;
	int mine = 0;

	sites = json_object_get(rep, "sites");
	json_array_foreach (stalls, i, stall) {
		if (jint(stall, "pid") != pid ||
		    jint(stall, "duration_ns") < 100 * MS)
			continue;
		mine++;
		json_array_foreach (json_object_get(stall, "sites"), j, idx) {
			json_t *site = json_array_get(
			    sites, (size_t)json_integer_value(idx));

			ck_assert_msg(sw_t_site_frame(site, function, NULL, -1),
				      "pid %lld: stall without %s",
				      (long long)pid, function);
		}
	}
	ck_assert_msg(mine == 2, "pid %lld: %d stalls, expected 2",
		      (long long)pid, mine);
}

START_TEST(test_forked_child)
{
	const char *dir = sw_t_tmpdir("fnd-fork");
	json_t *rep, *procs, *parent = NULL, *child = NULL, *p;
	size_t i;

	ck_assert_int_eq(run_under(dir, NULL, PROG("fork_loop")), 0);
	ck_assert_int_eq(sw_t_count_traces(dir), 2);
	rep = sw_t_report(dir, NULL);
	ck_assert_ptr_nonnull(rep);
	procs = json_object_get(rep, "processes");
	ck_assert_int_eq(json_array_size(procs), 2);
	json_array_foreach (procs, i, p) {
		json_t *other = json_array_get(procs, 1 - i);

		if (jint(p, "ppid") == jint(other, "pid"))
			child = p, parent = other;
	}
	if (!child)
		sw_t_dump("report", rep);
	ck_assert_ptr_nonnull(child);
	ck_assert_int_ne(jint(child, "pid"), jint(parent, "pid"));
	ck_assert_ptr_nonnull(
	    sw_t_find_site(rep, "blocking-call", "nanosleep", "parent_work"));
	ck_assert_ptr_nonnull(
	    sw_t_find_site(rep, "blocking-call", "nanosleep", "child_work"));
	/* Each process's stalls are its own. */
	check_process_owns(rep, jint(parent, "pid"), "parent_work");
	check_process_owns(rep, jint(child, "pid"), "child_work");
	json_decref(rep);
}
END_TEST

START_TEST(test_sigkill_keeps_records)
{
	const char *dir = sw_t_tmpdir("fnd-kill");
	json_t *rep, *site;
	char cmd[4200];

	snprintf(cmd, sizeof(cmd), "'%s' 3 150 kill", PROG("epoll_sleep"));
	ck_assert_int_eq(run_under(dir, NULL, cmd), 128 + 9);
	rep = sw_t_report(dir, NULL);
	ck_assert_ptr_nonnull(rep);
	ck_assert_int_eq(stalls_over(rep, 140 * MS), 3);
	site =
	    sw_t_find_site(rep, "blocking-call", "nanosleep", "slow_callback");
	ck_assert_ptr_nonnull(site);
	ck_assert_int_eq(jint(site, "count"), 3);
	/* No end record: the report must know the process did not exit. */
	ck_assert(json_is_false(json_object_get(
	    json_array_get(json_object_get(rep, "processes"), 0),
	    "clean_exit")));
	json_decref(rep);
}
END_TEST

static void check_closefds(const char *mode, int want_stalls, int want_warnings)
{
	const char *dir = sw_t_tmpdir(mode);
	char cmd[9000], data[4200], *out = NULL;
	json_t *rep;
	int rc;

	snprintf(data, sizeof(data), "%s/data.bin", dir);
	snprintf(cmd, sizeof(cmd), "'%s' '%s' %s", PROG("closefds"), data,
		 mode);
	rc = run_under(dir, &out, cmd);
	ck_assert_msg(rc == 0, "closefds %s: rc %d: %s", mode, rc,
		      out ? out : "");
	ck_assert_ptr_nonnull(strstr(out, "closefds: data intact"));
	ck_assert_msg(count_lines_with(out, "stallwatch:") == want_warnings,
		      "closefds %s: output '%s'", mode, out);
	if (want_warnings)
		ck_assert_ptr_nonnull(strstr(out, "recording stopped"));
	free(out);
	/* The data file is exactly what the program wrote (it checked the
	 * bytes itself; here the size, from outside). */
	ck_assert_int_eq(
	    sw_t_sh(NULL, "test $(stat -c %%s '%s') -eq 262144", data), 0);
	rep = sw_t_report(dir, NULL);
	ck_assert_ptr_nonnull(rep);
	ck_assert_int_eq(stalls_over(rep, 100 * MS), want_stalls);
	ck_assert_ptr_nonnull(sw_t_find_site(rep, "blocking-call", "nanosleep",
					     "stall_callback"));
	json_decref(rep);
}

START_TEST(test_closefds_libc)
{
	/* The shim keeps its fd through closefrom/close_range/close/dup2
	 * and records all three loops' stalls. */
	check_closefds("libc", 6, 0);
}
END_TEST

START_TEST(test_closefds_syscall)
{
	/* syscall(SYS_close/SYS_dup2) is guarded like close/dup2. */
	check_closefds("syscall", 6, 0);
}
END_TEST

START_TEST(test_closefds_raw)
{
	/* Raw syscalls close the trace fd for real and put the data file on
	 * its number: the shim notices, stops with one warning, and writes
	 * nothing more; the first loop's stalls are kept. */
	check_closefds("raw", 2, 1);
}
END_TEST

START_TEST(test_garbage_settings)
{
	const char *dir = sw_t_tmpdir("fnd-garbage");
	char *out = NULL;
	json_t *rep;
	int rc;

	/* Straight LD_PRELOAD: only the shim reads these. */
	rc = sw_t_sh(&out,
		     "STALLWATCH_OUTPUT='%s' STALLWATCH_THRESHOLD=banana "
		     "LD_PRELOAD='%s' '%s' 1 120",
		     dir, sw_t_build("libstallwatch.so"), PROG("epoll_sleep"));
	ck_assert_msg(rc == 0, "rc %d: %s", rc, out ? out : "");
	ck_assert_ptr_nonnull(strstr(out, "epoll_sleep: 1 turns done"));
	ck_assert_int_eq(count_lines_with(out, "stallwatch:"), 1);
	ck_assert_ptr_nonnull(
	    strstr(out, "stallwatch: ignoring STALLWATCH_THRESHOLD=banana"));
	free(out);
	/* The default threshold (50ms) applied: the 120 ms turn stalled. */
	rep = sw_t_report(dir, NULL);
	ck_assert_ptr_nonnull(rep);
	ck_assert_int_eq(stalls_over(rep, 100 * MS), 1);
	json_decref(rep);

	/* Every setting bad at once: one warning each, program unharmed. */
	rc = sw_t_sh(&out,
		     "STALLWATCH_OUTPUT='%s' STALLWATCH_THRESHOLD=-1 "
		     "STALLWATCH_CALL_THRESHOLD=soon STALLWATCH_STRICT=maybe "
		     "STALLWATCH_FOLLOW=2 STALLWATCH_SAMPLE=x "
		     "STALLWATCH_SAMPLE_INTERVAL=0 STALLWATCH_HEARTBEAT=never "
		     "STALLWATCH_STACKS_PER_SITE=lots STALLWATCH_POLL_LOOPS=? "
		     "STALLWATCH_DISABLE=perhaps "
		     "LD_PRELOAD='%s' '%s' 1 20",
		     dir, sw_t_build("libstallwatch.so"), PROG("epoll_sleep"));
	ck_assert_msg(rc == 0, "rc %d: %s", rc, out ? out : "");
	ck_assert_int_eq(count_lines_with(out, "stallwatch: ignoring"), 10);
	free(out);

	/* An output directory that cannot exist: one warning, no trace,
	 * program unharmed. */
	rc = sw_t_sh(&out,
		     "STALLWATCH_OUTPUT=/proc/nonexistent/dir LD_PRELOAD='%s' "
		     "'%s' 1 20",
		     sw_t_build("libstallwatch.so"), PROG("epoll_sleep"));
	ck_assert_msg(rc == 0, "rc %d: %s", rc, out ? out : "");
	ck_assert_int_eq(count_lines_with(out, "stallwatch:"), 1);
	ck_assert_ptr_nonnull(strstr(out, "not recording"));
	free(out);
}
END_TEST

/* Sum of `count` over sites of this kind/call with this function. */
static json_int_t site_count(json_t *rep, const char *kind, const char *call,
			     const char *function, int *nsites)
{
	json_t *site;
	json_int_t n = 0;
	size_t i;

	*nsites = 0;
	json_array_foreach (json_object_get(rep, "sites"), i, site) {
		const char *k =
		    json_string_value(json_object_get(site, "kind"));
		const char *c =
		    json_string_value(json_object_get(site, "call"));

		if (k && c && strcmp(k, kind) == 0 && strcmp(c, call) == 0 &&
		    sw_t_site_frame(site, function, NULL, -1)) {
			n += jint(site, "count");
			(*nsites)++;
		}
	}
	return n;
}

START_TEST(test_strict_and_private_loop)
{
	json_t *rep, *site, *ev;
	char cmd[4200], dir[4096], dir2[4096];
	int nsites, captured = 0;
	size_t i;

	/* sw_t_tmpdir's buffer is static: keep copies. */
	snprintf(dir, sizeof(dir), "%s", sw_t_tmpdir("fnd-strict"));
	snprintf(dir2, sizeof(dir2), "%s", sw_t_tmpdir("fnd-nostrict"));
	snprintf(cmd, sizeof(cmd), "'%s' '%s'", PROG("strict_loop"),
		 sw_t_src("tests/progs/strict_loop.c"));
	ck_assert_int_eq(
	    sw_t_sh(NULL, "'%s' run -q --strict -o '%s' -- %s", SW, dir, cmd),
	    0);
	rep = sw_t_report(dir, NULL);
	ck_assert_ptr_nonnull(rep);
	/* All 50 fast preads of a regular file are counted... */
	ck_assert_int_eq(
	    site_count(rep, "blocking-call", "pread", "read_config", &nsites),
	    50);
	site = sw_t_find_site(rep, "blocking-call", "pread", "read_config");
	ck_assert(json_is_true(json_object_get(site, "strict_only")));
	/* ...with a few stacks only (4 per site per second). */
	json_array_foreach (json_object_get(rep, "events"), i, ev) {
		json_t *s = json_array_get(json_object_get(rep, "sites"),
					   (size_t)jint(ev, "site"));

		if (strcmp(json_string_value(json_object_get(s, "call")),
			   "pread") == 0)
			captured++;
	}
	ck_assert_int_le(captured, 10);
	/* A read on an O_NONBLOCK pipe could never block. */
	ck_assert_ptr_null(sw_t_find_site(rep, NULL, "read", NULL));
	/* The private loop blocked the outer one for its 150 ms. */
	site =
	    sw_t_find_site(rep, "private-loop", "epoll_wait", "private_loop");
	if (!site)
		sw_t_dump("report", rep);
	ck_assert_ptr_nonnull(site);
	ck_assert_int_ge(jint(site, "total_ns"), 140 * MS);
	json_decref(rep);

	/* Default mode: the fast preads are not recorded at all. */
	ck_assert_int_eq(run_under(dir2, NULL, cmd), 0);
	rep = sw_t_report(dir2, NULL);
	ck_assert_ptr_nonnull(rep);
	ck_assert_ptr_null(sw_t_find_site(rep, NULL, "pread", NULL));
	ck_assert_ptr_nonnull(
	    sw_t_find_site(rep, "private-loop", "epoll_wait", "private_loop"));
	json_decref(rep);
}
END_TEST

START_TEST(test_thread_loops)
{
	const char *dir = sw_t_tmpdir("fnd-threads");
	json_t *rep, *loops, *loop, *stall, *site;
	json_int_t tids[4];
	char cmd[4200];
	size_t i, j;

	snprintf(cmd, sizeof(cmd), "'%s' 4 12", PROG("thread_loops"));
	ck_assert_int_eq(run_under(dir, NULL, cmd), 0);
	rep = sw_t_report(dir, NULL);
	ck_assert_ptr_nonnull(rep);
	/* Four loops, one per thread, each ended when its thread exited
	 * (the final heartbeats carry all 12 turns). */
	loops = json_object_get(
	    json_array_get(json_object_get(rep, "processes"), 0), "loops");
	ck_assert_int_eq(json_array_size(loops), 4);
	json_array_foreach (loops, i, loop) {
		tids[i] = jint(loop, "tid");
		ck_assert_int_eq(jint(loop, "turns"), 12);
		ck_assert_int_ge(jint(loop, "stalls"), 1);
		for (j = 0; j < i; j++)
			ck_assert_int_ne(tids[j], tids[i]);
	}
	/* One stall per thread, on that thread. */
	ck_assert_int_eq(stalls_over(rep, 70 * MS), 4);
	json_array_foreach (json_object_get(rep, "stalls"), i, stall) {
		int found = 0;

		if (jint(stall, "duration_ns") < 70 * MS)
			continue;

		for (j = 0; j < 4; j++)
			found += jint(stall, "tid") == tids[j];
		ck_assert_int_eq(found, 1);
	}
	site =
	    sw_t_find_site(rep, "blocking-call", "nanosleep", "thread_stall");
	ck_assert_ptr_nonnull(site);
	ck_assert_int_eq(jint(site, "count"), 4);
	json_decref(rep);
}
END_TEST

START_TEST(test_follow)
{
	char dir[4096], cmd[4200];

	/* exec'd children that run a loop get their own files by default
	 * (the shell, which runs none, gets nothing)... */
	snprintf(dir, sizeof(dir), "%s", sw_t_tmpdir("fnd-follow1"));
	snprintf(cmd, sizeof(cmd), "sh -c \"'%s' 1 60; true\"",
		 PROG("epoll_sleep"));
	ck_assert_int_eq(run_under(dir, NULL, cmd), 0);
	ck_assert_int_eq(sw_t_count_traces(dir), 1);
	ck_assert_int_eq(
	    sw_t_sh(NULL, "ls '%s'/*/ | grep -q '^epoll_sleep\\.'", dir), 0);
	/* ...and with STALLWATCH_FOLLOW=0 only the command itself is: here
	 * the shell, which runs no loop, so nothing is recorded... */
	snprintf(dir, sizeof(dir), "%s", sw_t_tmpdir("fnd-follow0"));
	ck_assert_int_eq(
	    sw_t_sh(NULL, "STALLWATCH_FOLLOW=0 '%s' run -q -o '%s' -- %s", SW,
		    dir, cmd),
	    0);
	ck_assert_int_eq(sw_t_count_traces(dir), 0);
	/* ...while the program itself, started directly, is. */
	snprintf(dir, sizeof(dir), "%s", sw_t_tmpdir("fnd-follow0b"));
	ck_assert_int_eq(
	    sw_t_sh(NULL,
		    "STALLWATCH_FOLLOW=0 '%s' run -q -o '%s' -- '%s' 1 60", SW,
		    dir, PROG("epoll_sleep")),
	    0);
	ck_assert_int_eq(sw_t_count_traces(dir), 1);
}
END_TEST

START_TEST(test_file_size_limit)
{
	const char *dir = sw_t_tmpdir("fnd-fsize");
	char *out = NULL;
	int rc;

	/* Every 2 ms sleep is a record (call threshold 1us): the trace would
	 * pass 4 KiB, and SIGXFSZ would kill the program.  The shim stops
	 * just short of the limit instead, with one warning. */
	rc = sw_t_sh(&out,
		     "ulimit -f 4; STALLWATCH_OUTPUT='%s' "
		     "STALLWATCH_CALL_THRESHOLD=1us LD_PRELOAD='%s' '%s' 30 2",
		     dir, sw_t_build("libstallwatch.so"), PROG("epoll_sleep"));
	ck_assert_msg(rc == 0, "rc %d: %s", rc, out ? out : "");
	ck_assert_ptr_nonnull(strstr(out, "epoll_sleep: 30 turns done"));
	ck_assert_int_eq(count_lines_with(out, "stallwatch:"), 1);
	ck_assert_ptr_nonnull(strstr(out, "RLIMIT_FSIZE"));
	free(out);
	ck_assert_int_eq(
	    sw_t_sh(NULL, "test $(cat '%s'/*.swtrace | wc -c) -le 4096", dir),
	    0);
}
END_TEST

START_TEST(test_poll_loops)
{
	char dir[4096];
	json_t *rep, *loops;

	/* Opt-in: poll() is a loop boundary, the sleep a blocking call. */
	snprintf(dir, sizeof(dir), "%s", sw_t_tmpdir("fnd-poll1"));
	ck_assert_int_eq(
	    sw_t_sh(NULL, "STALLWATCH_POLL_LOOPS=1 '%s' run -q -o '%s' -- '%s'",
		    SW, dir, PROG("poll_sleep")),
	    0);
	rep = sw_t_report(dir, NULL);
	ck_assert_ptr_nonnull(rep);
	ck_assert_ptr_nonnull(
	    sw_t_find_site(rep, "blocking-call", "nanosleep", "poll_callback"));
	ck_assert_int_eq(stalls_over(rep, 100 * MS), 1);
	json_decref(rep);
	/* Default: a thread in poll() is not a loop thread. */
	snprintf(dir, sizeof(dir), "%s", sw_t_tmpdir("fnd-poll0"));
	ck_assert_int_eq(run_under(dir, NULL, PROG("poll_sleep")), 0);
	rep = sw_t_report(dir, NULL);
	ck_assert_ptr_nonnull(rep);
	loops = json_object_get(
	    json_array_get(json_object_get(rep, "processes"), 0), "loops");
	ck_assert_int_eq(json_array_size(loops), 0);
	ck_assert_int_eq(json_array_size(json_object_get(rep, "sites")), 0);
	json_decref(rep);
}
END_TEST

START_TEST(test_asyncio_subprocess_loops)
{
	const char *dir = sw_t_tmpdir("fnd-subproc");
	json_t *rep, *loops, *stall;
	char cmd[4200];
	size_t i;

	if (!sw_t_have("/usr/bin/python3")) {
		sw_t_skip("no /usr/bin/python3");
		return;
	}
	/* subprocess.run vforks; the child closes every fd (the loop's
	 * epoll fd too) in memory it shares with the loop thread. */
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 '%s'",
		 sw_t_src("tests/progs/asyncio_subprocess.py"));
	ck_assert_int_eq(run_under(dir, NULL, cmd), 0);
	rep = sw_t_report(dir, "");
	ck_assert_ptr_nonnull(rep);
	/* The python3 process: two loops, one after the other, each with
	 * its one stall, none of them ended early by the vfork child. */
	loops = NULL;
	json_array_foreach (json_object_get(rep, "processes"), i, stall) {
		const char *comm =
		    json_string_value(json_object_get(stall, "comm"));

		if (comm && strcmp(comm, "python3") == 0)
			loops = json_object_get(stall, "loops");
	}
	ck_assert_ptr_nonnull(loops);
	ck_assert_int_eq(json_array_size(loops), 2);
	ck_assert_int_ge(jint(json_array_get(loops, 0), "stalls"), 1);
	ck_assert_int_ge(jint(json_array_get(loops, 1), "stalls"), 1);
	ck_assert_int_eq(stalls_over(rep, 100 * MS), 2);
	ck_assert_ptr_nonnull(
	    sw_t_find_site(rep, "blocking-call", NULL, "first_loop_sleep"));
	ck_assert_ptr_nonnull(
	    sw_t_find_site(rep, "blocking-call", NULL, "second_loop_sleep"));
	ck_assert_ptr_null(sw_t_find_site(rep, "private-loop", NULL, NULL));
	json_decref(rep);
}
END_TEST

START_TEST(test_errno_preserved)
{
	const char *dir = sw_t_tmpdir("fnd-errno");
	json_t *rep, *loop;
	char *out = NULL;
	int rc, three = 0;
	size_t i;

	/* Every call goes through the recording path (strict, 1us). */
	rc = sw_t_sh(
	    &out, "'%s' run -q --strict --call-threshold 1us -o '%s' -- '%s'",
	    SW, dir, PROG("errno_check"));
	ck_assert_msg(rc == 0, "rc %d: %s", rc, out ? out : "");
	free(out);
	rep = sw_t_report(dir, NULL);
	ck_assert_ptr_nonnull(rep);
	/* The calls were recorded (so errno went through the slow path),
	 * and the failing dup2 onto the loop's fd did not end the loop. */
	ck_assert_ptr_nonnull(
	    sw_t_find_site(rep, "blocking-call", "pread", NULL));
	json_array_foreach (
	    json_object_get(
		json_array_get(json_object_get(rep, "processes"), 0), "loops"),
	    i, loop)
		three += jint(loop, "turns") == 3;
	ck_assert_int_eq(three, 1);
	json_decref(rep);
}
END_TEST

START_TEST(test_redis_debug_sleep)
{
	const char *dir = sw_t_tmpdir("fnd-redis");
	int port = 20000 + (int)(getpid() % 20000), rc;
	json_t *rep, *site;
	char *out = NULL;

	if (!sw_t_have("redis-server") || !sw_t_have("redis-cli")) {
		sw_t_skip("no redis-server/redis-cli");
		return;
	}
	rc = sw_t_sh(
	    &out,
	    "'%s' run -q -o '%s' -- redis-server --port %d "
	    "--enable-debug-command yes --save '' --appendonly no "
	    "--daemonize no --logfile '' >/dev/null 2>&1 & "
	    "for i in $(seq 100); do "
	    "  redis-cli -p %d ping 2>/dev/null | grep -q PONG && break; "
	    "  sleep 0.05; "
	    "done; "
	    "redis-cli -p %d DEBUG SLEEP 0.3 && "
	    "redis-cli -p %d SHUTDOWN NOSAVE; wait",
	    SW, dir, port, port, port, port);
	ck_assert_msg(rc == 0, "rc %d: %s", rc, out ? out : "");
	free(out);
	rep = sw_t_report(dir, NULL);
	ck_assert_ptr_nonnull(rep);
	site = sw_t_find_site(rep, "blocking-call", NULL, "debugCommand");
	if (!site)
		sw_t_dump("report", rep);
	ck_assert_ptr_nonnull(site);
	ck_assert_int_ge(jint(site, "total_ns"), 250 * MS);
	json_decref(rep);
}
END_TEST

/*
 * Calls on a socket the fd cache knows to be non-blocking are not timed
 * (call.h, sw_call_nosleep).  A forked child clears O_NONBLOCK on the
 * shared description, so each of three recvs sleeps 250 ms: the first is
 * untimed (a stall with nothing to explain it), the watchdog finds the
 * thread asleep in recv on that fd and has the cache forget it, and the
 * next two are timed blocking calls naming on_ready.
 */
START_TEST(test_nonblock_cleared_elsewhere)
{
	const char *dir = sw_t_tmpdir("fnd-nonblock");
	json_t *rep, *site, *note;
	char cmd[4200], *out = NULL;
	size_t i;
	int noted = 0;

	snprintf(cmd, sizeof(cmd), "'%s' 3 250", PROG("nonblock_cleared"));
	ck_assert_msg(run_under(dir, &out, cmd) == 0, "%s", out ? out : "");
	free(out);
	rep = sw_t_report(dir, NULL);
	ck_assert_ptr_nonnull(rep);
	ck_assert_int_eq(stalls_over(rep, 200 * MS), 3);
	site = sw_t_find_site(rep, "blocking-call", "recv", "on_ready");
	if (!site || jint(site, "count") != 2)
		sw_t_dump("report", rep);
	ck_assert_ptr_nonnull(site);
	ck_assert_int_eq(jint(site, "count"), 2);
	ck_assert_int_ge(jint(site, "total_ns"), 2 * 200 * MS);
	json_array_foreach (json_object_get(rep, "notes"), i, note) {
		const char *text = json_string_value(note);

		noted += text && strstr(text, "O_NONBLOCK cleared") != NULL;
	}
	ck_assert_int_eq(noted, 1);
	json_decref(rep);
}
END_TEST

Suite *sw_suite_blocking_calls(void)
{
	Suite *s = suite_create("blocking_calls");
	TCase *tc = tcase_create("shim");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_c_epoll_nanosleep);
	tcase_add_test(tc, test_asyncio_sleep_debian);
	tcase_add_test(tc, test_asyncio_sleep_pyenv);
	tcase_add_test(tc, test_to_thread_reports_nothing);
	tcase_add_test(tc, test_forked_child);
	tcase_add_test(tc, test_sigkill_keeps_records);
	tcase_add_test(tc, test_closefds_libc);
	tcase_add_test(tc, test_closefds_syscall);
	tcase_add_test(tc, test_closefds_raw);
	tcase_add_test(tc, test_garbage_settings);
	tcase_add_test(tc, test_strict_and_private_loop);
	tcase_add_test(tc, test_thread_loops);
	tcase_add_test(tc, test_follow);
	tcase_add_test(tc, test_file_size_limit);
	tcase_add_test(tc, test_poll_loops);
	tcase_add_test(tc, test_asyncio_subprocess_loops);
	tcase_add_test(tc, test_errno_preserved);
	tcase_add_test(tc, test_redis_debug_sleep);
	tcase_add_test(tc, test_nonblock_cleared_elsewhere);
	suite_add_tcase(s, tc);
	return s;
}
