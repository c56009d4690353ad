/*
 * test_pytest_tests.c - stalls belong to the pytest test that ran them.
 *
 * Real pytest with pytest-asyncio (Debian's) runs three tests under the
 * shim, one of which awaits a coroutine that hides a time.sleep(0.2).  The
 * trace, read record by record, must name that test (its id, without the
 * phase) in an SW_REC_TEST written before the stall and stamped no later
 * than the stall's start; every test record names one of the suite's
 * tests.  A program that is not under pytest gets no test record.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../rawtrace.h"
#include "../support.h"

#define STALLING_TEST "test_cart.py::test_checkout_total"

static const char *shim_env(const char *outdir)
{
	static char buf[4400];

	snprintf(buf, sizeof(buf), "env LD_PRELOAD='%s' STALLWATCH_OUTPUT='%s'",
		 sw_t_build("libstallwatch.so"), outdir);
	return buf;
}

/* The name of the test record at index i of raw (copied into buf). */
static const char *test_name(const struct sw_t_raw *raw, size_t i,
			     struct sw_rec_test *rec, char *buf, size_t cap)
{
	const char *p = (const char *)raw->recs[i];
	size_t n;

	memset(rec, 0, sizeof(*rec));
	memcpy(rec, p, sizeof(*rec));
	n = rec->name_len < cap - 1 ? rec->name_len : cap - 1;
	ck_assert_msg(sizeof(*rec) + rec->name_len <= rec->h.size,
		      "a test record's name overruns it");
	memcpy(buf, p + sizeof(*rec), n);
	buf[n] = 0;
	return buf;
}

/* The JSON report gives the stall and its site that test. */
static void assert_report_test(const char *dir)
{
	char sub[4200];
	json_t *rep, *st, *site;
	const char *t;
	size_t i;
	int found = 0;

	snprintf(sub, sizeof(sub), "%s/out", dir);
	rep = sw_t_report(sub, NULL);
	ck_assert(rep != NULL);
	json_array_foreach (json_object_get(rep, "stalls"), i, st) {
		if (json_integer_value(json_object_get(st, "duration_ns")) <
		    150000000)
			continue;
		t = json_string_value(json_object_get(st, "test"));
		ck_assert_msg(t && !strcmp(t, STALLING_TEST),
			      "the 200 ms stall's test is %s", t ? t : "null");
		found++;
	}
	ck_assert_int_eq(found, 1);
	site = sw_t_find_site(rep, "blocking-call", NULL, "checkout");
	ck_assert_msg(site != NULL, "no site in checkout");
	t = json_string_value(json_object_get(site, "test"));
	ck_assert_msg(t && !strcmp(t, STALLING_TEST),
		      "the checkout site's test is %s", t ? t : "null");
	json_decref(rep);
}

START_TEST(test_pytest_stall_names_its_test)
{
	const char *dir = sw_t_tmpdir("pytest"),
		   *allowed[] = {"", "test_cart.py::test_add", STALLING_TEST,
				 "test_cart.py::test_quick"};
	char *out = NULL, name[SW_MAX_STR + 1], before[SW_MAX_STR + 1] = "";
	struct sw_t_raw raw;
	struct sw_rec_test test, last_test;
	uint64_t stall_start = 0;
	size_t i, k;
	int rc, tests = 0;

	if (sw_t_sh(NULL, "/usr/bin/python3 -c 'import pytest_asyncio' "
			  ">/dev/null 2>&1") != 0) {
		sw_t_skip("no python3-pytest-asyncio for /usr/bin/python3");
		return;
	}
	rc = sw_t_sh(&out,
		     "cd '%s' && cp '%s' '%s' . && mkdir out && "
		     "%s/out PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 -m "
		     "pytest -q -p no:cacheprovider test_cart.py",
		     dir, sw_t_src("tests/progs/pytest_suite/app.py"),
		     sw_t_src("tests/progs/pytest_suite/test_cart.py"),
		     shim_env(dir));
	ck_assert_msg(rc == 0 && out && strstr(out, "3 passed"),
		      "pytest failed (%d): %s", rc, out ? out : "");
	free(out);
	{
		char sub[4200];

		snprintf(sub, sizeof(sub), "%s/out", dir);
		ck_assert_msg(sw_t_raw_load(sub, &raw) == 0,
			      "no single trace in %s", sub);
	}
	memset(&last_test, 0, sizeof(last_test));
	for (i = 0; i < raw.n; i++) {
		struct sw_rec_hdr h;

		memcpy(&h, raw.recs[i], sizeof(h));
		if (h.type == SW_REC_TEST) {
			int ok = 0;

			test_name(&raw, i, &test, name, sizeof(name));
			for (k = 0; k < sizeof(allowed) / sizeof(allowed[0]);
			     k++)
				ok |= !strcmp(name, allowed[k]);
			ck_assert_msg(ok, "a test record names \"%s\"", name);
			ck_assert_int_eq(test.source, SW_TEST_PYTEST);
			ck_assert_msg(!tests ||
					  test.time_ns >= last_test.time_ns,
				      "test records go back in time");
			last_test = test;
			snprintf(before, sizeof(before), "%s", name);
			tests++;
		} else if (h.type == SW_REC_STALL && !stall_start) {
			struct sw_rec_stall st;

			memset(&st, 0, sizeof(st));
			memcpy(&st, raw.recs[i],
			       h.size < sizeof(st) ? h.size : sizeof(st));
			if (st.duration_ns < 150000000u)
				continue;
			stall_start = st.start_ns;
			ck_assert_msg(!strcmp(before, STALLING_TEST),
				      "the test record before the 200 ms "
				      "stall names \"%s\"",
				      before);
			ck_assert_msg(last_test.time_ns <= st.start_ns,
				      "the test record is stamped after the "
				      "stall began");
		}
	}
	sw_t_raw_free(&raw);
	ck_assert_msg(stall_start, "no stall of 150 ms or more in the trace");
	assert_report_test(dir);
}
END_TEST

/* Outside pytest: no test record at all. */
START_TEST(test_no_pytest_no_test_record)
{
	const char *dir = sw_t_tmpdir("nopytest");
	struct sw_t_raw raw;
	struct sw_rec_test test;
	struct sw_rec_stall stall;
	size_t from = 0;

	ck_assert_int_eq(sw_t_sh(NULL,
				 "cd '%s' && env -u PYTEST_CURRENT_TEST %s "
				 "'%s' syscall_nanosleep",
				 dir, shim_env(dir),
				 sw_t_build("tests/progs/stdio_stall")),
			 0);
	ck_assert_int_eq(sw_t_raw_load(dir, &raw), 0);
	ck_assert_msg(
	    !sw_t_raw_next(&raw, &from, SW_REC_TEST, &test, sizeof(test)),
	    "a test record without pytest");
	from = 0;
	ck_assert_msg(sw_t_raw_next(&raw, &from, SW_REC_STALL, &stall,
				    sizeof(stall)) != NULL,
		      "no stall in the trace");
	sw_t_raw_free(&raw);
}
END_TEST

/* The test names of dir's trace, in order, joined with '|'. */
static void test_names(const char *dir, char *out, size_t cap)
{
	struct sw_t_raw raw;
	struct sw_rec_test rec;
	char name[SW_MAX_STR + 1];
	size_t i, len = 0;

	out[0] = 0;
	ck_assert_int_eq(sw_t_raw_load(dir, &raw), 0);
	for (i = 0; i < raw.n; i++) {
		struct sw_rec_hdr h;

		memcpy(&h, raw.recs[i], sizeof(h));
		if (h.type != SW_REC_TEST)
			continue;
		test_name(&raw, i, &rec, name, sizeof(name));
		len += (size_t)snprintf(out + len, cap > len ? cap - len : 0,
					"%s|", name);
	}
	sw_t_raw_free(&raw);
}

/* A process a test started inherits the variable: its stalls belong to
 * that test from the start. */
START_TEST(test_inherited_test_name)
{
	const char *dir = sw_t_tmpdir("inherit");
	char names[1000];

	ck_assert_int_eq(
	    sw_t_sh(NULL,
		    "cd '%s' && PYTEST_CURRENT_TEST='tests/t.py::test_x[a (b)] "
		    "(call)' %s '%s' syscall_nanosleep",
		    dir, shim_env(dir), sw_t_build("tests/progs/stdio_stall")),
	    0);
	test_names(dir, names, sizeof(names));
	ck_assert_str_eq(names, "tests/t.py::test_x[a (b)]|");
}
END_TEST

/* The variable set, changed and removed at run time (os.environ: setenv
 * and unsetenv) gives one record per change seen at a stall. */
START_TEST(test_changes_at_run_time)
{
	const char *dir = sw_t_tmpdir("envchange");
	char names[1000];

	if (!sw_t_have("/usr/bin/python3")) {
		sw_t_skip("no /usr/bin/python3");
		return;
	}
	ck_assert_int_eq(
	    sw_t_sh(NULL,
		    "cd '%s' && env -u PYTEST_CURRENT_TEST %s /usr/bin/python3 "
		    "-c '\n"
		    "import asyncio, os, time\n"
		    "async def stall():\n"
		    "    await asyncio.sleep(0.01)\n"
		    "    time.sleep(0.1)\n"
		    "async def main():\n"
		    "    os.environ[\"PYTEST_CURRENT_TEST\"] = \"a.py::one "
		    "(setup)\"\n"
		    "    await stall()\n"
		    "    os.environ[\"PYTEST_CURRENT_TEST\"] = \"a.py::one "
		    "(call)\"\n"
		    "    await stall()\n"
		    "    os.environ[\"PYTEST_CURRENT_TEST\"] = \"a.py::two "
		    "(call)\"\n"
		    "    await stall()\n"
		    "    del os.environ[\"PYTEST_CURRENT_TEST\"]\n"
		    "    await stall()\n"
		    "asyncio.run(main())\n'",
		    dir, shim_env(dir)),
	    0);
	test_names(dir, names, sizeof(names));
	ck_assert_str_eq(names, "a.py::one|a.py::two||");
}
END_TEST

/* Does every trace in dir that has a stall hold a test record `want`
 * before its first stall?  Returns the number of such traces; fails on a
 * trace with a stall and no such record. */
static int traces_name_test(const char *dir, const char *want)
{
	char paths[8][4096], name[SW_MAX_STR + 1];
	struct sw_t_raw raw;
	struct sw_rec_test rec;
	int n, f, ok = 0;
	size_t i;

	n = sw_t_raw_list(dir, paths, 8);
	ck_assert_msg(n >= 1 && n <= 8, "%d traces in %s", n, dir);
	for (f = 0; f < n; f++) {
		int seen = 0;

		ck_assert_int_eq(sw_t_raw_load_file(paths[f], &raw), 0);
		for (i = 0; i < raw.n; i++) {
			struct sw_rec_hdr h;

			memcpy(&h, raw.recs[i], sizeof(h));
			if (h.type == SW_REC_TEST) {
				test_name(&raw, i, &rec, name, sizeof(name));
				seen = !strcmp(name, want);
			} else if (h.type == SW_REC_STALL) {
				ck_assert_msg(seen,
					      "%s: a stall before a test "
					      "record naming %s",
					      paths[f], want);
				ok++;
				break;
			}
		}
		sw_t_raw_free(&raw);
	}
	return ok;
}

/* A child forked during a test writes its own file, which names the test
 * again although the parent already wrote it. */
START_TEST(test_forked_child_names_the_test)
{
	const char *dir = sw_t_tmpdir("envfork");

	if (!sw_t_have("/usr/bin/python3")) {
		sw_t_skip("no /usr/bin/python3");
		return;
	}
	ck_assert_int_eq(
	    sw_t_sh(
		NULL,
		"cd '%s' && env -u PYTEST_CURRENT_TEST %s /usr/bin/python3 "
		"-c '\n"
		"import asyncio, os, time\n"
		"async def stall():\n"
		"    await asyncio.sleep(0.01)\n"
		"    time.sleep(0.1)\n"
		"os.environ[\"PYTEST_CURRENT_TEST\"] = \"f.py::forks (call)\"\n"
		"asyncio.run(stall())\n"
		"pid = os.fork()\n"
		"if pid == 0:\n"
		"    asyncio.run(stall())\n"
		"    os._exit(0)\n"
		"os.waitpid(pid, 0)\n'",
		dir, shim_env(dir)),
	    0);
	ck_assert_int_eq(traces_name_test(dir, "f.py::forks"), 2);
}
END_TEST

/* Past the size budget the newest file stands alone: it names the test
 * in force too. */
START_TEST(test_rotated_file_names_the_test)
{
	const char *dir = sw_t_tmpdir("envrotate");
	char paths[8][4096];
	int n;

	ck_assert_int_eq(
	    sw_t_sh(NULL,
		    "cd '%s' && PYTEST_CURRENT_TEST='r.py::floods (call)' "
		    "STALLWATCH_MAX_SIZE=256K STALLWATCH_SAMPLE_INTERVAL=1ms "
		    "STALLWATCH_THRESHOLD=1ms %s '%s' 400 20 2000 100 "
		    ">/dev/null",
		    dir, shim_env(dir), sw_t_build("tests/progs/raw_sleeps")),
	    0);
	n = sw_t_raw_list(dir, paths, 8);
	ck_assert_msg(n == 1, "%d current trace files", n);
	ck_assert_msg(sw_t_sh(NULL, "ls '%s' | grep -q 'swtrace\\.1$'", dir) ==
			  0,
		      "the trace did not rotate");
	ck_assert_int_eq(traces_name_test(dir, "r.py::floods"), 1);
}
END_TEST

Suite *sw_suite_pytest_tests(void)
{
	Suite *s = suite_create("pytest_tests");
	TCase *tc = tcase_create("pytest");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_pytest_stall_names_its_test);
	tcase_add_test(tc, test_no_pytest_no_test_record);
	tcase_add_test(tc, test_inherited_test_name);
	tcase_add_test(tc, test_changes_at_run_time);
	tcase_add_test(tc, test_forked_child_names_the_test);
	tcase_add_test(tc, test_rotated_file_names_the_test);
	suite_add_tcase(s, tc);
	return s;
}
