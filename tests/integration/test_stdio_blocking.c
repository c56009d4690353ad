/*
 * test_stdio_blocking.c - blocking that goes around the named wrappers is
 * named: stdio output into a slow pipe, and syscall(2).
 *
 * glibc's stdio writes through its own internal calls, so before the
 * stdio wrappers a loop callback logging 1 MiB with fprintf into a pipe
 * the reader drained late stalled the loop with no site at all.  Each case
 * runs a real program under the shim with its output in a pipe whose
 * reader sleeps first, and asserts the report's site: the stdio (or
 * syscall) call, the callback's frame, the fd kind, and a stall made of
 * it.  syscall(2) results and errno are the kernel's, timed or not.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../support.h"

#define PROG(name) sw_t_build("tests/progs/" name)
#define MS	   1000000ll

static const char *shim_env(const char *outdir)
{
	static char buf[4400];

	snprintf(buf, sizeof(buf), "env LD_PRELOAD='%s' STALLWATCH_OUTPUT='%s'",
		 sw_t_build("libstallwatch.so"), outdir);
	return buf;
}

static json_int_t int_of(json_t *obj, const char *key)
{
	return json_integer_value(json_object_get(obj, key));
}

static const char *str_of(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? s : "";
}

/* The index of `site` in the report's sites. */
static int site_index(json_t *rep, json_t *site)
{
	json_t *s;
	size_t i;

	json_array_foreach (json_object_get(rep, "sites"), i, s) {
		if (s == site)
			return (int)i;
	}
	return -1;
}

/* A stall of at least min_ns made (at least partly) of site `idx`. */
static int stall_with_site(json_t *rep, int idx, long long min_ns)
{
	json_t *st, *v;
	size_t i, j;

	json_array_foreach (json_object_get(rep, "stalls"), i, st) {
		if (int_of(st, "duration_ns") < min_ns)
			continue;
		json_array_foreach (json_object_get(st, "sites"), j, v) {
			if (json_integer_value(v) == idx)
				return 1;
		}
	}
	return 0;
}

/*
 * The report in outdir has a blocking-call site `call` with a frame
 * `function` (NULL: any), blocked at least min_ms on an fd of kind fd_kind
 * (NULL: any), and a stall made of it.
 */
static void assert_site(const char *what, const char *outdir, const char *call,
			const char *function, const char *fd_kind, long min_ms)
{
	json_t *rep = sw_t_report(outdir, NULL), *site;

	ck_assert_msg(rep != NULL, "%s: no report", what);
	site = sw_t_find_site(rep, "blocking-call", call, function);
	if (!site)
		sw_t_dump("sites", json_object_get(rep, "sites"));
	ck_assert_msg(site != NULL, "%s: no blocking-call site %s in %s", what,
		      call, function ? function : "any frame");
	ck_assert_msg(int_of(site, "max_ns") >= min_ms * MS,
		      "%s: the %s site blocked %lld ms, want >= %ld", what,
		      call, (long long)(int_of(site, "max_ns") / MS), min_ms);
	if (fd_kind)
		ck_assert_msg(!strcmp(str_of(site, "fd_kind"), fd_kind),
			      "%s: fd kind %s, want %s", what,
			      str_of(site, "fd_kind"), fd_kind);
	ck_assert_msg(stall_with_site(rep, site_index(rep, site), min_ms * MS),
		      "%s: no stall of %ld ms or more made of the %s site",
		      what, min_ms, call);
	json_decref(rep);
}

/* The slow reader: takes the first byte (the burst has begun), sleeps
 * 700 ms, then counts the rest into `bytes`. */
#define SLOW_READER                                  \
	"{ dd bs=1 count=1 status=none >/dev/null; " \
	"sleep 0.7; wc -c > bytes; }"

/*
 * stdio_stall MODE with stderr (or stdout for puts) into a slow reader's
 * pipe; returns the bytes the reader counted (all but the first).
 */
static long run_slow_pipe(const char *dir, const char *mode)
{
	char *out = NULL;
	long bytes;
	int rc;

	if (!strcmp(mode, "puts"))
		rc = sw_t_sh(NULL, "cd '%s' && %s '%s' puts | " SLOW_READER,
			     dir, shim_env(dir), PROG("stdio_stall"));
	else
		rc = sw_t_sh(
		    NULL,
		    "cd '%s' && %s '%s' %s 2>&1 >/dev/null | " SLOW_READER, dir,
		    shim_env(dir), PROG("stdio_stall"), mode);
	ck_assert_msg(rc == 0, "%s: the pipeline failed (%d)", mode, rc);
	sw_t_sh(&out, "cat '%s/bytes'", dir);
	bytes = out ? atol(out) : -1;
	free(out);
	return bytes;
}

static const struct {
	const char *mode, *call, *function;
} stdio_cases[] = {
    {"fprintf", "fprintf", "log_burst_fprintf"},
    {"fprintf_chk", "fprintf", "log_burst_fprintf_chk"},
    {"fwrite", "fwrite", "log_burst_fwrite"},
    {"puts", "puts", "log_burst_puts"},
};

/* 1 MiB through stdio into a slow pipe, from an epoll loop's callback. */
START_TEST(test_c_stdio_into_slow_pipe)
{
	const char *mode = stdio_cases[_i].mode;
	const char *dir = sw_t_tmpdir(mode);
	long bytes = run_slow_pipe(dir, mode);

	/* Nothing lost on the way: the program's output is all there. */
	ck_assert_msg(bytes >= 16 * 65536 - 1, "%s: the reader got %ld bytes",
		      mode, bytes);
	assert_site(mode, dir, stdio_cases[_i].call, stdio_cases[_i].function,
		    "pipe", 300);
}
END_TEST

/* syscall(SYS_nanosleep / SYS_futex / SYS_write) in a loop callback is
 * timed like nanosleep, a futex wait and write; syscall(SYS_epoll_wait) is
 * a loop's wait like epoll_wait. */
START_TEST(test_c_raw_syscall)
{
	const char *dir = sw_t_tmpdir("syscall");
	int rc;

	rc = sw_t_sh(NULL, "cd '%s' && %s '%s' syscall_nanosleep", dir,
		     shim_env(dir), PROG("stdio_stall"));
	ck_assert_int_eq(rc, 0);
	assert_site("syscall(SYS_nanosleep)", dir, "nanosleep", "raw_nanosleep",
		    NULL, 250);

	dir = sw_t_tmpdir("futex");
	rc = sw_t_sh(NULL, "cd '%s' && %s '%s' syscall_futex", dir,
		     shim_env(dir), PROG("stdio_stall"));
	ck_assert_int_eq(rc, 0);
	assert_site("syscall(SYS_futex)", dir, "futex", "raw_futex_wait", NULL,
		    250);

	/* A loop that waits with syscall(SYS_epoll_wait) is a loop. */
	dir = sw_t_tmpdir("rawloop");
	rc = sw_t_sh(NULL, "cd '%s' && %s '%s' syscall_loop", dir,
		     shim_env(dir), PROG("stdio_stall"));
	ck_assert_int_eq(rc, 0);
	assert_site("syscall(SYS_epoll_wait) loop", dir, "nanosleep",
		    "named_nanosleep", NULL, 250);

	dir = sw_t_tmpdir("rawwrite");
	ck_assert(run_slow_pipe(dir, "syscall_write") == 16 * 65536 - 1);
	assert_site("syscall(SYS_write)", dir, "write", "raw_write", "pipe",
		    300);
}
END_TEST

/* Python's print() of 1 MiB from an asyncio callback into a slow pipe. */
START_TEST(test_python_print_into_slow_pipe)
{
	const char *dir = sw_t_tmpdir("print");
	char *out = NULL;
	int rc;

	if (!sw_t_have("/usr/bin/python3")) {
		sw_t_skip("no /usr/bin/python3");
		return;
	}
	rc =
	    sw_t_sh(NULL, "cd '%s' && %s /usr/bin/python3 '%s' | " SLOW_READER,
		    dir, shim_env(dir), sw_t_src("tests/progs/stdio_print.py"));
	ck_assert_int_eq(rc, 0);
	sw_t_sh(&out, "cat '%s/bytes'", dir);
	ck_assert_msg(out && atol(out) == (1 << 20), "print lost bytes: %s",
		      out ? out : "");
	free(out);
	assert_site("print()", dir, "write", "log_callback", "pipe", 300);
}
END_TEST

/*
 * syscall(2) returns what the kernel returned, with its errno, for timed
 * numbers (good and bad arguments) and passed-through ones alike; strict
 * mode proves the timed path ran.
 */
START_TEST(test_syscall_results_unchanged)
{
	const char *dir = sw_t_tmpdir("sysres");
	char *plain = NULL, *shim = NULL;
	json_t *rep;

	ck_assert_int_eq(sw_t_sh(&plain, "'%s' 2>&1", PROG("syscall_results")),
			 0);
	ck_assert_int_eq(sw_t_sh(&shim, "%s STALLWATCH_STRICT=1 '%s' 2>&1",
				 shim_env(dir), PROG("syscall_results")),
			 0);
	ck_assert_msg(plain && shim && !strcmp(plain, shim),
		      "syscall results differ under the shim:\n--- without:\n"
		      "%s\n--- with:\n%s",
		      plain ? plain : "", shim ? shim : "");
	ck_assert_msg(strstr(plain, "futex wait timeout: -1 errno ETIMEDOUT"),
		      "unexpected output: %s", plain);
	free(plain);
	free(shim);
	rep = sw_t_report(dir, NULL);
	ck_assert(rep != NULL);
	ck_assert_msg(
	    sw_t_find_site(rep, "blocking-call", "futex", "calls") &&
		sw_t_find_site(rep, "blocking-call", "nanosleep", "calls"),
	    "strict mode saw no timed syscall() in calls()");
	json_decref(rep);
}
END_TEST

/*
 * memcached -vv logs every command on its worker's stderr with fprintf:
 * 600 pipelined gets of long keys into a stderr pipe drained late stall
 * the worker's libevent loop in fprintf.
 */
START_TEST(test_memcached_slow_stderr)
{
	const char *dir = sw_t_tmpdir("memcached");
	char *out = NULL;
	int rc;

	if (!sw_t_have("memcached") || !sw_t_have("/usr/bin/python3")) {
		sw_t_skip("no memcached or /usr/bin/python3");
		return;
	}
	rc =
	    sw_t_sh(&out,
		    "cd '%s' && { (%s memcached %s -vv -s '%s/mc.sock' -t 1 "
		    "2>&1 >/dev/null & echo $! > mc.pid; wait) | "
		    "{ i=0; while [ ! -e sent ] && [ $i -lt 1500 ]; do "
		    "sleep 0.02; i=$((i+1)); done; sleep 0.8; "
		    "cat > /dev/null; }; } & "
		    "cd '%s' && timeout 60 /usr/bin/python3 '%s' '%s/mc.sock'; "
		    "sleep 1.5; kill $(cat '%s/mc.pid'); wait",
		    dir, shim_env(dir), geteuid() == 0 ? "-u root" : "", dir,
		    dir, sw_t_src("tests/progs/memcached_client.py"), dir, dir);
	ck_assert_msg(rc == 0 && out && strstr(out, "ok 600"),
		      "memcached run failed (%d): %s", rc, out ? out : "");
	free(out);
	assert_site("memcached -vv", dir, "fprintf", NULL, "pipe", 400);
}
END_TEST

Suite *sw_suite_stdio_blocking(void)
{
	Suite *s = suite_create("stdio_blocking");
	TCase *stdio = tcase_create("stdio");
	TCase *sys = tcase_create("syscall");
	TCase *real = tcase_create("real_programs");

	tcase_set_timeout(stdio, 60);
	tcase_add_loop_test(stdio, test_c_stdio_into_slow_pipe, 0,
			    sizeof(stdio_cases) / sizeof(stdio_cases[0]));
	tcase_add_test(stdio, test_python_print_into_slow_pipe);
	suite_add_tcase(s, stdio);
	tcase_set_timeout(sys, 60);
	tcase_add_test(sys, test_c_raw_syscall);
	tcase_add_test(sys, test_syscall_results_unchanged);
	suite_add_tcase(s, sys);
	tcase_set_timeout(real, 120);
	tcase_add_test(real, test_memcached_slow_stderr);
	suite_add_tcase(s, real);
	return s;
}
