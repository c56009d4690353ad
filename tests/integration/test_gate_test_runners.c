/*
 * test_gate_test_runners.c - `stallwatch gate -- CMD` around real test
 * runners, as a CI job runs it: pytest with pytest-asyncio (Debian's),
 * Node's own test runner, and Jest from npm (skipped, saying so, when npm
 * cannot fetch it).  Each suite has one test that stalls its event loop
 * in the code under test (tests/progs/suites/).  The gate must exit 1,
 * and its JUnit must fail that test and only that test, with the place of
 * the blocking call; the test is named in the JUnit, in the GitHub
 * annotations (one at the place, one at the test) and in the JSON.
 */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../support.h"

#define SW sw_t_build("stallwatch")

static int marker_line(const char *file, const char *marker)
{
	char *out = NULL;
	int line = 0;

	if (sw_t_sh(&out, "grep -n '%s' '%s' | head -1 | cut -d: -f1", marker,
		    sw_t_src(file)) == 0)
		line = atoi(out);
	free(out);
	return line;
}

/* A copy of a suite in a fresh directory (the runner writes nothing into
 * the source tree); returns the directory (static buffer). */
static const char *suite_copy(const char *suite, const char *tag)
{
	static char dir[4096];

	snprintf(dir, sizeof(dir), "%s/suite", sw_t_tmpdir(tag));
	ck_assert_int_eq(sw_t_sh(NULL, "cp -r '%s' '%s'", sw_t_src(suite), dir),
			 0);
	return dir;
}

/* The failing tests of a JUnit file, "name|message" per line, after a
 * first line "N" with the number of testcases; validated against both
 * schemas first.  A loop's own testcase ("event loop N ...", what
 * happened outside any test, such as the runner's start-up on a loaded
 * machine) is not a test and is left out. */
static char *junit_failures(const char *xml)
{
	static const char *const xsd[] = {
	    "tests/data/junit/surefire-test-report.xsd",
	    "tests/data/junit/jenkins-junit-10.xsd"};
	char *out = NULL;
	size_t i;
	int rc;

	for (i = 0; i < 2 && sw_t_have("xmllint"); i++) {
		rc = sw_t_sh(&out, "xmllint --noout --schema '%s' '%s'",
			     sw_t_src(xsd[i]), xml);
		ck_assert_msg(rc == 0, "%s: %s", xsd[i], out);
		free(out);
	}
	rc = sw_t_sh(
	    &out,
	    "/usr/bin/python3 -c 'import sys, xml.etree.ElementTree as E\n"
	    "r = E.parse(sys.argv[1]).getroot()\n"
	    "cs = list(r.iter(\"testcase\"))\n"
	    "print(len(cs))\n"
	    "for c in cs:\n"
	    "    if c.get(\"name\").startswith(\"event loop \"):\n"
	    "        continue\n"
	    "    for f in c.findall(\"failure\"):\n"
	    "        print(\"%%s|%%s\" %% (c.get(\"name\"), "
	    "f.get(\"message\")))' "
	    "'%s'",
	    xml);
	ck_assert_msg(rc == 0, "%s: %s", xml, out);
	return out;
}

/* One failing testcase, named with want_test, its message naming
 * want_place. */
static void assert_one_failure(const char *fails, const char *want_test,
			       const char *want_place)
{
	const char *second = strchr(fails, '\n');

	ck_assert_msg(second && sw_t_count_lines(second + 1, "|") == 1,
		      "want exactly one failing testcase: %s", fails);
	ck_assert_msg(strstr(second, want_test) && strstr(second, want_place),
		      "want a failure of %s at %s: %s", want_test, want_place,
		      fails);
}

/* Some stall of the run's JSON report has a test naming want_test. */
static void assert_json_test(const char *outdir, const char *want_test)
{
	json_t *rep = sw_t_report(outdir, NULL), *st;
	size_t i;
	int found = 0;

	ck_assert_ptr_nonnull(rep);
	json_array_foreach (json_object_get(rep, "stalls"), i, st) {
		const char *t = json_string_value(json_object_get(st, "test"));

		found |= t && strstr(t, want_test) != NULL;
	}
	if (!found)
		sw_t_dump("no stall names the test",
			  json_object_get(rep, "stalls"));
	ck_assert(found);
	json_decref(rep);
}

START_TEST(pytest_fails_the_blocking_test_only)
{
	const char *dir;
	char *out = NULL, *fails, xml[4200], place[64], ann[128];
	int rc;

	if (sw_t_sh(NULL, "/usr/bin/python3 -c 'import pytest, "
			  "pytest_asyncio' 2>/dev/null") != 0) {
		sw_t_skip("python3-pytest or python3-pytest-asyncio missing");
		return;
	}
	dir = suite_copy("tests/progs/suites/pytest", "runners-pytest");
	rc = sw_t_sh(&out,
		     "cd '%s' && GITHUB_ACTIONS=true '%s' gate -q --max-stall "
		     "100ms --junit j.xml -o out -- /usr/bin/python3 -m pytest "
		     "-q -p no:cacheprovider",
		     dir, SW);
	ck_assert_msg(rc == 1, "rc %d: %s", rc, out);
	/* annotations: at the blocking line, and at the test */
	snprintf(
	    ann, sizeof(ann), "::error file=shop.py,line=%d,",
	    marker_line("tests/progs/suites/pytest/shop.py", "BLOCKING-LINE"));
	ck_assert_msg(strstr(out, ann), "want %s in: %s", ann, out);
	ck_assert_msg(strstr(out, "::error file=test_shop.py,line=") &&
			  strstr(out, "in test test_shop.py%3A%3Atest_checkout_"
				      "total::"),
		      "no annotation at the test: %s", out);
	free(out);
	snprintf(xml, sizeof(xml), "%s/j.xml", dir);
	fails = junit_failures(xml);
	snprintf(
	    place, sizeof(place), "shop.py:%d",
	    marker_line("tests/progs/suites/pytest/shop.py", "BLOCKING-LINE"));
	assert_one_failure(fails, "test_shop.py::test_checkout_total", place);
	free(fails);
	/* every test that turned the loop has a testcase, also the quiet
	 * async one; the sync test never ran on a loop and has none */
	{
		char *junit = NULL;

		ck_assert_int_eq(sw_t_sh(&junit, "cat '%s'", xml), 0);
		ck_assert_msg(
		    strstr(junit, "name=\"test_shop.py::test_browse\""),
		    "no testcase for the quiet async test: %s", junit);
		ck_assert_msg(!strstr(junit, "test_prices_are_known"),
			      "a sync test got a loop testcase: %s", junit);
		free(junit);
	}
	snprintf(xml, sizeof(xml), "%s/out", dir);
	assert_json_test(xml, "test_checkout_total");
}
END_TEST

START_TEST(node_test_fails_the_busy_test_only)
{
	const char *dir;
	char *out = NULL, *fails, xml[4200];
	int rc;

	if (!sw_t_have("node")) {
		sw_t_skip("node is not installed");
		return;
	}
	dir = suite_copy("tests/progs/suites/node", "runners-node");
	rc = sw_t_sh(&out,
		     "cd '%s' && GITHUB_ACTIONS=true '%s' gate -q --js "
		     "--max-stall 100ms --junit j.xml -o out -- node --test",
		     dir, SW);
	ck_assert_msg(rc == 1, "rc %d: %s", rc, out);
	ck_assert_msg(strstr(out, "::error file=cart.js,line=") &&
			  strstr(out, "::error file=cart.test.js,line=") &&
			  strstr(out, "in test checkout computes total::"),
		      "annotations at the place and at the test: %s", out);
	free(out);
	snprintf(xml, sizeof(xml), "%s/j.xml", dir);
	fails = junit_failures(xml);
	/* named by the runner's title, the place in cart.js */
	assert_one_failure(fails, "checkout computes total", "cart.js:");
	free(fails);
	snprintf(xml, sizeof(xml), "%s/out", dir);
	assert_json_test(xml, "cart.test.js");
}
END_TEST

/* Jest from npm, cached under the build directory. */
static const char *jest_modules(void)
{
	static char mods[4096];
	char *out = NULL;
	int rc;

	snprintf(mods, sizeof(mods), "%s", sw_t_build("npm/node_modules"));
	if (sw_t_sh(NULL, "test -x '%s/.bin/jest'", mods) == 0)
		return mods;
	rc = sw_t_sh(&out,
		     "mkdir -p '%s' && cd '%s' && timeout 300 npm install "
		     "--no-audit --no-fund --loglevel=error --prefix . jest@29",
		     sw_t_build("npm"), sw_t_build("npm"));
	if (rc != 0) {
		fprintf(stderr, "npm install jest: %.500s\n", out ? out : "");
		free(out);
		return NULL;
	}
	free(out);
	return mods;
}

START_TEST(jest_fails_the_busy_test_only)
{
	const char *dir, *mods;
	char *out = NULL, *fails, xml[4200];
	int rc;

	if (!sw_t_have("node") || !sw_t_have("npm")) {
		sw_t_skip("node or npm is not installed: Jest not tested");
		return;
	}
	mods = jest_modules();
	if (!mods) {
		sw_t_skip("npm could not install Jest: Jest not tested");
		return;
	}
	dir = suite_copy("tests/progs/suites/node", "runners-jest");
	rc = sw_t_sh(&out,
		     "cd '%s' && ln -s '%s' node_modules && "
		     "GITHUB_ACTIONS=true '%s' gate -q --js --max-stall 100ms "
		     "--junit j.xml -o out -- node node_modules/.bin/jest "
		     "--runInBand --ci",
		     dir, mods, SW);
	ck_assert_msg(rc == 1, "rc %d: %s", rc, out);
	ck_assert_msg(strstr(out, "::error file=cart.js,line="),
		      "annotation at the place: %s", out);
	free(out);
	snprintf(xml, sizeof(xml), "%s/j.xml", dir);
	fails = junit_failures(xml);
	/* Jest's own start-up (loading the test file's modules) may stall
	 * the loop too; the busy test fails at cart.js, the other not */
	ck_assert_msg(strstr(fails, "\ncheckout computes total|") &&
			  strstr(fails, "in busy (cart.js:") &&
			  !strstr(fails, "adds prices"),
		      "want the busy test failing at cart.js: %s", fails);
	free(fails);
}
END_TEST

Suite *sw_suite_gate_judges_test_suites(void)
{
	Suite *s = suite_create("gate_judges_test_suites");
	TCase *tc = tcase_create("runners");

	tcase_set_timeout(tc, 360);
	tcase_add_test(tc, pytest_fails_the_blocking_test_only);
	tcase_add_test(tc, node_test_fails_the_busy_test_only);
	tcase_add_test(tc, jest_fails_the_busy_test_only);
	suite_add_tcase(s, tc);
	return s;
}
