/*
 * test_gate_verdicts.c - `stallwatch gate` on real runs, as CI uses it:
 *   - an allowlist entry exempts the place it names (the function, or
 *     file:line as a user copies it), although the stall also has a
 *     smaller second site it does not name; an unrelated entry does not;
 *   - a run in which no process ran an event loop fails, unless
 *     --allow-no-loop;
 *   - the JUnit file validates against Maven Surefire's and Jenkins'
 *     schemas, keeps its testcase names from one run to the next, leaves
 *     out processes without a loop, has one <failure> per failing
 *     testcase, and is replaced atomically;
 *   - `gate -- CMD`: the verdict decides when CMD succeeds; a failing
 *     CMD's own status wins (after the verdict is printed); a CMD killed
 *     by a signal kills the gate by the same signal.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../support.h"

#define SW	sw_t_build("stallwatch")
#define PROG_PY sw_t_src("tests/progs/gate_two_sites.py")

static const char *python(void)
{
	return sw_t_have("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
}

static int main_line(void)
{
	char *out = NULL;
	int line = 0;

	if (sw_t_sh(&out, "grep -n MAIN-SITE '%s' | cut -d: -f1", PROG_PY) == 0)
		line = atoi(out);
	free(out);
	return line;
}

/* Run the program once under `stallwatch run`; the run's parent dir. */
static const char *traced_run(const char *tag)
{
	static char dir[4096];
	char *out = NULL;
	int rc;

	snprintf(dir, sizeof(dir), "%s", sw_t_tmpdir(tag));
	rc = sw_t_sh(&out, "cd '%s' && '%s' run -q -o out -- %s '%s'", dir, SW,
		     python(), PROG_PY);
	ck_assert_msg(rc == 0, "rc %d: %s", rc, out);
	free(out);
	return dir;
}

static int gate_with_allow(const char *dir, const char *entry, char **out)
{
	char path[4200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/allow.txt", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "# accepted for now\n%s\n", entry);
	fclose(f);
	return sw_t_sh(out,
		       "cd '%s' && '%s' gate -q --max-stall 100ms --allow "
		       "allow.txt out",
		       dir, SW);
}

START_TEST(allowlist_exempts_the_named_place)
{
	const char *dir = traced_run("gate-allow");
	char *out = NULL, entry[64];
	int rc;

	rc = sw_t_sh(&out, "cd '%s' && '%s' gate -q --max-stall 100ms out", dir,
		     SW);
	ck_assert_msg(rc == 1 && strstr(out, "slow_render"), "rc %d: %s", rc,
		      out);
	free(out);
	rc = gate_with_allow(dir, "slow_render", &out);
	ck_assert_msg(rc == 0 && strstr(out, "allowed by --allow"),
		      "by function: rc %d: %s", rc, out);
	free(out);
	snprintf(entry, sizeof(entry), "gate_two_sites.py:%d", main_line());
	rc = gate_with_allow(dir, entry, &out);
	ck_assert_msg(rc == 0, "by %s: rc %d: %s", entry, rc, out);
	free(out);
	rc = gate_with_allow(dir, "tidy", &out);
	ck_assert_msg(rc == 1, "tidy is not what stalled: rc %d: %s", rc, out);
	free(out);
}
END_TEST

START_TEST(no_event_loop_is_not_a_pass)
{
	const char *dir = sw_t_tmpdir("gate-noloop");
	char *out = NULL;
	int rc;

	rc = sw_t_sh(&out,
		     "cd '%s' && '%s' gate -q --max-stall 100ms --junit j.xml "
		     "-- sh -c 'echo hi; exit 0'",
		     dir, SW);
	ck_assert_msg(rc == 1 &&
			  sw_t_count_lines(out, "no event loop seen") == 1 &&
			  strstr(out, "--allow-no-loop"),
		      "rc %d: %s", rc, out);
	free(out);
	/* and CI sees a failure there, not zero tests */
	rc = sw_t_sh(&out, "grep -c '<failure type=\"no-loop\"' '%s/j.xml'",
		     dir);
	ck_assert_msg(rc == 0 && atoi(out) == 1, "JUnit: %s", out);
	free(out);
	rc =
	    sw_t_sh(&out,
		    "cd '%s' && '%s' gate -q --max-stall 100ms --allow-no-loop "
		    "-- sh -c 'exit 0'",
		    dir, SW);
	ck_assert_msg(rc == 0 && strstr(out, "accepted by --allow-no-loop"),
		      "rc %d: %s", rc, out);
	free(out);
}
END_TEST

/* The testcases of a JUnit file, one "classname|name|time|failures" line
 * each (python3's parser, which also proves well-formedness). */
static char *cases_of(const char *xml)
{
	char *out = NULL;
	int rc = sw_t_sh(
	    &out,
	    "/usr/bin/python3 -c 'import sys, xml.etree.ElementTree as E\n"
	    "r = E.parse(sys.argv[1]).getroot()\n"
	    "for c in r.iter(\"testcase\"):\n"
	    "    print(\"%%s|%%s|%%s|%%d\" %% (c.get(\"classname\"), "
	    "c.get(\"name\"), c.get(\"time\"), len(c.findall(\"failure\"))))' "
	    "'%s'",
	    xml);

	ck_assert_msg(rc == 0, "%s: %s", xml, out);
	return out;
}

static void assert_schemas(const char *xml)
{
	static const char *const xsd[] = {
	    "tests/data/junit/surefire-test-report.xsd",
	    "tests/data/junit/jenkins-junit-10.xsd"};
	size_t i;

	for (i = 0; i < 2; i++) {
		char *out = NULL;
		int rc = sw_t_sh(&out, "xmllint --noout --schema '%s' '%s'",
				 sw_t_src(xsd[i]), xml);

		ck_assert_msg(rc == 0, "%s rejects %s: %s", xsd[i], xml, out);
		free(out);
	}
}

START_TEST(junit_validates_and_keeps_its_names)
{
	const char *dir = sw_t_tmpdir("gate-junit");
	char *out = NULL, *a, *b, xml[4200];
	int rc, i;

	if (!sw_t_have("xmllint")) {
		sw_t_skip("xmllint (libxml2-utils) not installed");
		return;
	}
	/* twice, each run with its own pids; a loopless sh around python */
	for (i = 1; i <= 2; i++) {
		rc =
		    sw_t_sh(&out,
			    "cd '%s' && '%s' gate -q --max-stall 100ms --junit "
			    "j%d.xml -- sh -c '%s %s; exit 0'",
			    dir, SW, i, python(), PROG_PY);
		ck_assert_msg(rc == 1, "run %d: rc %d: %s", i, rc, out);
		free(out);
		snprintf(xml, sizeof(xml), "%s/j%d.xml", dir, i);
		assert_schemas(xml);
	}
	snprintf(xml, sizeof(xml), "%s/j1.xml", dir);
	a = cases_of(xml);
	snprintf(xml, sizeof(xml), "%s/j2.xml", dir);
	b = cases_of(xml);
	/* one testcase: python's loop (sh ran no loop), failing once */
	ck_assert_msg(sw_t_count_lines(a, "|") == 1 && strstr(a, "|1\n") &&
			  strstr(a, "python3") && !strstr(a, "pid "),
		      "%s", a);
	/* the same names run to run (the times differ) */
	a[strcspn(a, "|")] = 0, b[strcspn(b, "|")] = 0;
	ck_assert_str_eq(a, b);
	free(a);
	free(b);
	/* every violation in the one failure, each with its place */
	rc = sw_t_sh(&out,
		     "grep -c 'message=\"1 violation: [^\"]*gate_two_sites.py:"
		     "%d: event loop stalled' '%s/j1.xml'",
		     main_line(), dir);
	ck_assert_msg(rc == 0, "%s", out);
	free(out);
	/* replaced atomically: no temporary left; an unwritable target is an
	 * error that leaves nothing behind */
	rc = sw_t_sh(&out, "ls -A '%s' | grep -c tmp", dir);
	ck_assert_msg(rc == 1, "a temporary file is left: %s", out);
	free(out);
	rc = sw_t_sh(&out,
		     "cd '%s' && '%s' gate -q --max-stall 100ms --junit "
		     "no/such/dir/j.xml stallwatch-out",
		     dir, SW);
	ck_assert_msg(rc == 2 && strstr(out, "cannot write"), "rc %d: %s", rc,
		      out);
	free(out);
}
END_TEST

START_TEST(gate_command_status)
{
	const char *dir = sw_t_tmpdir("gate-cmd");
	char *out = NULL;
	int rc;

	/* the command succeeded: the verdict decides */
	rc = sw_t_sh(&out,
		     "cd '%s' && '%s' gate -q --max-stall 100ms -- %s '%s'",
		     dir, SW, python(), PROG_PY);
	ck_assert_msg(rc == 1 && strstr(out, "FAILED"), "rc %d: %s", rc, out);
	free(out);
	rc = sw_t_sh(&out, "cd '%s' && '%s' gate -q --max-stall 1s -- %s '%s'",
		     dir, SW, python(), PROG_PY);
	ck_assert_msg(rc == 0 && strstr(out, "gate: ok"), "rc %d: %s", rc, out);
	free(out);
	/* the command failed: its status wins, the verdict is still shown */
	rc = sw_t_sh(&out,
		     "cd '%s' && '%s' gate -q --max-stall 100ms -- sh -c '%s "
		     "%s; exit 3'",
		     dir, SW, python(), PROG_PY);
	ck_assert_msg(rc == 3 && strstr(out, "FAILED") &&
			  strstr(out, "wins over the verdict"),
		      "rc %d: %s", rc, out);
	free(out);
	/* killed by a signal: the gate dies of it too */
	rc = sw_t_sh(&out,
		     "cd '%s' && '%s' gate -q --max-stall 100ms -- sh -c 'kill "
		     "-TERM $$'",
		     dir, SW);
	ck_assert_msg(rc == 128 + 15, "rc %d: %s", rc, out);
	free(out);
	rc = sw_t_sh(&out,
		     "cd '%s' && '%s' gate -q --max-stall 100ms -- "
		     "no-such-command-xyz",
		     dir, SW);
	ck_assert_msg(rc == 127 && sw_t_count_lines(out, "") == 1, "rc %d: %s",
		      rc, out);
	free(out);
	/* a command and trace paths exclude each other */
	rc = sw_t_sh(&out, "'%s' gate --max-stall 1s somedir -- true", SW);
	ck_assert_msg(rc == 2 && sw_t_count_lines(out, "") == 1, "rc %d: %s",
		      rc, out);
	free(out);
}
END_TEST

Suite *sw_suite_gate_verdicts_for_ci(void)
{
	Suite *s = suite_create("gate_verdicts_for_ci");
	TCase *tc = tcase_create("gate");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, allowlist_exempts_the_named_place);
	tcase_add_test(tc, no_event_loop_is_not_a_pass);
	tcase_add_test(tc, junit_validates_and_keeps_its_names);
	tcase_add_test(tc, gate_command_status);
	suite_add_tcase(s, tc);
	return s;
}
