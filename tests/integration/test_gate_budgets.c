/*
 * test_gate_budgets.c - `stallwatch gate` and the folded and Chrome formats on
 * real traces made under `stallwatch run`:
 *   - a coroutine blocking 250 ms in a file named
 *     `<img src=x onerror=alert(1)>.py` (tests/progs/gate_block.py copied
 *     to that name at test time) fails --max-stall 100ms at its file:line;
 *   - a well-behaved asyncio program and a calm C loop pass;
 *   - an allowlist with the function's name turns the failure into a pass;
 *   - --junit writes XML that python3's parser accepts, with the failure;
 *   - garbage input, a missing path and a bad duration exit 2; a
 *     directory without traces saw no event loop: 1.
 * The programs run once, in an unchecked fixture; each test then reads the
 * traces.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../support.h"

#define HOSTILE "<img src=x onerror=alert(1)>.py"

static char sw[4096], base[4096], hostile[4200];
static char pyblock[4200], pycalm[4200], cblock[4200], ccalm[4200];
static int have_py, py_frames, py_line, c_line, c_frames;
static int rc_pyblock = -1, rc_pycalm = -1, rc_cblock = -1, rc_ccalm = -1;
static char native_fn[256]; /* innermost named frame of the sleep site */
static const char
    *python; /* Debian's python3: `python3` may be a pyenv shim script */

static int grep_line(const char *file, const char *marker)
{
	char *out = NULL;
	int line = 0;

	if (sw_t_sh(&out, "grep -n '%s' '%s' | head -1 | cut -d: -f1", marker,
		    file) == 0 &&
	    out)
		line = atoi(out);
	free(out);
	return line;
}

static int run_under(const char *dir, const char *cmd)
{
	char *out = NULL;
	int rc = sw_t_sh(&out, "'%s' run -q -o '%s' -- %s", sw, dir, cmd);

	if (rc != 0)
		fprintf(stderr, "gate test: `%s` exited %d: %.2000s\n", cmd, rc,
			out ? out : "");
	free(out);
	return rc;
}

/* Does the trace's sleep site have Python frames in the hostile file (and
 * which native function is innermost)? */
static void inspect_block_trace(void)
{
	json_t *rep = sw_t_report(pyblock, NULL), *site, *fr;
	size_t i;

	if (!rep)
		return;
	site = sw_t_find_site(rep, "blocking-call", NULL, NULL);
	if (site) {
		py_frames =
		    sw_t_site_frame(site, "block", HOSTILE, py_line) != NULL;
		json_array_foreach (json_object_get(site, "frames"), i, fr) {
			const char *fn =
			    json_string_value(json_object_get(fr, "function"));

			if (fn && !native_fn[0])
				snprintf(native_fn, sizeof(native_fn), "%s",
					 fn);
		}
	}
	if (!py_frames)
		sw_t_dump(
		    "gate test: no Python frame block() in the sleep site",
		    site);
	json_decref(rep);
	rep = sw_t_report(cblock, NULL);
	site =
	    rep ? sw_t_find_site(rep, "blocking-call", NULL, "handle_request")
		: NULL;
	c_frames =
	    site && sw_t_site_frame(site, "handle_request", "gate_block.c", -1);
	json_decref(rep);
}

static void setup(void)
{
	snprintf(sw, sizeof(sw), "%s", sw_t_build("stallwatch"));
	snprintf(base, sizeof(base), "%s", sw_t_tmpdir("gate"));
	snprintf(hostile, sizeof(hostile), "%s/" HOSTILE, base);
	snprintf(pyblock, sizeof(pyblock), "%s/pyblock", base);
	snprintf(pycalm, sizeof(pycalm), "%s/pycalm", base);
	snprintf(cblock, sizeof(cblock), "%s/cblock", base);
	snprintf(ccalm, sizeof(ccalm), "%s/ccalm", base);
	python = sw_t_have("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
	have_py = sw_t_have(python);
	py_line = grep_line(sw_t_src("tests/progs/gate_block.py"),
			    "the blocking call");
	c_line =
	    grep_line(sw_t_src("tests/progs/gate_block.c"), "BLOCKING-LINE");
	if (have_py) {
		sw_t_sh(NULL, "cp '%s' '%s'",
			sw_t_src("tests/progs/gate_block.py"), hostile);
		char cmd[4400];

		snprintf(cmd, sizeof(cmd), "%s '%s'", python, hostile);
		rc_pyblock = run_under(pyblock, cmd);
	}
	rc_cblock = run_under(cblock, sw_t_build("tests/progs/gate_block"));
	rc_ccalm = run_under(ccalm, sw_t_build("tests/progs/gate_calm"));
	if (have_py) {
		char cmd[4400];

		snprintf(cmd, sizeof(cmd), "%s '%s'", python,
			 sw_t_src("tests/progs/gate_calm.py"));
		rc_pycalm = run_under(pycalm, cmd);
	}
	inspect_block_trace();
}

static void teardown(void)
{
}

static int need_py(void)
{
	if (!have_py)
		sw_t_skip("python3 not found");
	else
		ck_assert_msg(
		    rc_pyblock == 0,
		    "the blocking program failed under stallwatch run");
	return have_py;
}

START_TEST(stall_fails_at_file_line)
{
	char *out = NULL, want[256];
	int rc;

	if (!need_py())
		return;
	rc = sw_t_sh(&out, "cd '%s' && '%s' gate -q --max-stall 100ms '%s'",
		     sw_t_src(""), sw, pyblock);
	ck_assert_msg(rc == 1, "rc %d: %s", rc, out);
	ck_assert_msg(strstr(out, ": error: event loop stalled "), "%s", out);
	ck_assert_msg(strstr(out, "nanosleep"), "%s", out);
	ck_assert_msg(strstr(out, "(pid ") && strstr(out, "python3"), "%s",
		      out);
	ck_assert_msg(
	    strstr(out, "\nstallwatch gate: FAILED: 1 violation (max-stall 1)"),
	    "%s", out);
	/* file:line needs the Python frames: asserted whenever the
	 * JSON report has them */
	snprintf(want, sizeof(want), HOSTILE ":%d: error: event loop stalled ",
		 py_line);
	if (py_frames)
		ck_assert_msg(strstr(out, want), "want '%s' in: %s", want, out);
	else
		fprintf(stderr,
			"NOTE: no Python frames in the trace: %s not checked\n",
			want);
	free(out);
}
END_TEST

START_TEST(blocking_budgets)
{
	char *out = NULL, *took;
	int rc;

	if (!need_py())
		return;
	rc = sw_t_sh(&out, "'%s' gate -q --max-blocking 100ms '%s'", sw,
		     pyblock);
	took = out ? strstr(out, " took ") : NULL;
	ck_assert_msg(rc == 1 && strstr(out, "nanosleep") && took &&
			  atof(took + 6) >= 200.0,
		      "rc %d: %s", rc, out);
	free(out);
	/* a budget no loaded machine can miss */
	rc = sw_t_sh(&out, "'%s' gate -q --max-blocking 10s '%s'", sw, pyblock);
	ck_assert_msg(rc == 0 && strstr(out, "stallwatch gate: ok: "),
		      "rc %d: %s", rc, out);
	free(out);
	rc = sw_t_sh(&out, "'%s' gate -q --no-blocking '%s'", sw, pyblock);
	ck_assert_msg(rc == 1 && strstr(out, "no-blocking"), "rc %d: %s", rc,
		      out);
	free(out);
}
END_TEST

START_TEST(allowlist_turns_it_into_a_pass)
{
	char *out = NULL, allow[4300];
	FILE *f;
	int rc;

	if (!need_py())
		return;
	snprintf(allow, sizeof(allow), "%s/allow.txt", base);
	f = fopen(allow, "w");
	ck_assert_ptr_nonnull(f);
	/* the Python function when the frames are there, else the innermost
	 * native function of the site */
	fprintf(f, "# known and accepted\n\n%s\n",
		py_frames ? "block" : native_fn);
	fclose(f);
	rc = sw_t_sh(&out, "'%s' gate -q --max-stall 100ms --allow '%s' '%s'",
		     sw, allow, pyblock);
	ck_assert_msg(rc == 0, "rc %d (allow %s): %s", rc,
		      py_frames ? "block" : native_fn, out);
	ck_assert_msg(strstr(out, "stallwatch gate: ok: ") &&
			  strstr(out, "allowed by --allow"),
		      "%s", out);
	free(out);
	/* a glob that matches nothing leaves the failure */
	f = fopen(allow, "w");
	fprintf(f, "nothing_like_it*\n");
	fclose(f);
	rc = sw_t_sh(&out, "'%s' gate -q --max-stall 100ms --allow '%s' '%s'",
		     sw, allow, pyblock);
	ck_assert_msg(rc == 1, "rc %d: %s", rc, out);
	free(out);
}
END_TEST

START_TEST(junit_is_valid_xml)
{
	char *out = NULL, xml[4300];
	int rc;

	if (!need_py())
		return;
	snprintf(xml, sizeof(xml), "%s/junit.xml", base);
	rc = sw_t_sh(&out,
		     "GITHUB_ACTIONS=true '%s' gate -q --max-stall 100ms "
		     "--junit '%s' '%s'",
		     sw, xml, pyblock);
	ck_assert_msg(rc == 1, "rc %d: %s", rc, out);
	ck_assert_msg(strstr(out, "\n::error ") &&
			  strstr(out, "title=stallwatch gate max-stall::"),
		      "%s", out);
	if (py_frames) {
		char want[64];

		snprintf(want, sizeof(want), ",line=%d,", py_line);
		ck_assert_msg(strstr(out, want), "%s", out);
	}
	free(out);
	rc = sw_t_sh(
	    &out,
	    "python3 -c 'import sys, xml.etree.ElementTree as E\n"
	    "r = E.parse(sys.argv[1]).getroot()\n"
	    "cases = r.findall(\".//testcase\")\n"
	    "fails = r.findall(\".//failure\")\n"
	    "assert r.tag == \"testsuite\" and cases and fails, \"shape\"\n"
	    "print(\"cases\", len(cases), \"failures\", len(fails))\n"
	    "print(fails[0].get(\"type\"), fails[0].get(\"message\"))' '%s'",
	    xml);
	ck_assert_msg(rc == 0, "JUnit XML rejected: %s", out);
	ck_assert_msg(strstr(out, "failures 1\nmax-stall 1 violation: ") &&
			  strstr(out, "event loop stalled ") &&
			  strstr(out, "nanosleep"),
		      "%s", out);
	free(out);
}
END_TEST

START_TEST(calm_programs_pass)
{
	char *out = NULL;
	int rc;

	ck_assert_msg(rc_ccalm == 0, "gate_calm failed under stallwatch run");
	rc = sw_t_sh(&out,
		     "'%s' gate -q --max-stall 100ms --max-blocking 50ms '%s'",
		     sw, ccalm);
	ck_assert_msg(
	    rc == 0 &&
		strstr(out, "stallwatch gate: ok: 1 process, 1 event loop"),
	    "rc %d: %s", rc, out);
	free(out);
	if (!have_py) {
		sw_t_skip("python3 not found");
		return;
	}
	ck_assert_msg(rc_pycalm == 0,
		      "gate_calm.py failed under stallwatch run");
	rc = sw_t_sh(
	    &out,
	    "'%s' gate -q --max-stall 100ms --max-blocking 50ms '%s' '%s'", sw,
	    pycalm, ccalm);
	ck_assert_msg(rc == 0 &&
			  strstr(out, "stallwatch gate: ok: 2 processes"),
		      "rc %d: %s", rc, out);
	free(out);
}
END_TEST

START_TEST(native_location)
{
	char *out = NULL, want[128];
	int rc;

	ck_assert_msg(rc_cblock == 0, "gate_block failed under stallwatch run");
	rc = sw_t_sh(&out, "'%s' gate -q --max-stall 100ms '%s'", sw, cblock);
	ck_assert_msg(rc == 1 && strstr(out, "nanosleep"), "rc %d: %s", rc,
		      out);
	snprintf(want, sizeof(want),
		 "gate_block.c:%d: error: event loop stalled ", c_line);
	if (c_frames)
		ck_assert_msg(strstr(out, want), "want '%s' in: %s", want, out);
	else
		fprintf(stderr,
			"NOTE: handle_request not symbolized: %s not checked\n",
			want);
	free(out);
	/* options may follow the paths */
	rc = sw_t_sh(&out, "'%s' gate '%s' -q --max-stall 100ms", sw, cblock);
	ck_assert_msg(rc == 1 && strstr(out, "FAILED: 1 violation"),
		      "rc %d: %s", rc, out);
	free(out);
}
END_TEST

/* One line on stderr, nothing else. */
static void assert_one_line(const char *out)
{
	const char *nl = strchr(out, '\n');

	ck_assert_msg(nl && !nl[1] && !strncmp(out, "stallwatch", 10),
		      "not one line: '%s'", out);
}

START_TEST(bad_input_exits_2)
{
	char *out = NULL;
	int rc;

	sw_t_sh(
	    NULL,
	    "mkdir -p '%s/garbage' '%s/empty' && head -c 4096 /dev/urandom > "
	    "'%s/garbage/x.swtrace' && printf 'SWTRACE\\0junk' > "
	    "'%s/garbage/y.swtrace'",
	    base, base, base, base);
	rc = sw_t_sh(
	    &out, "'%s' gate -q --max-stall 100ms '%s/garbage/x.swtrace' 2>&1",
	    sw, base);
	ck_assert_msg(rc == 2, "garbage: rc %d: %s", rc, out);
	assert_one_line(out);
	free(out);
	rc = sw_t_sh(
	    &out, "'%s' gate -q --max-stall 100ms '%s/garbage/y.swtrace' 2>&1",
	    sw, base);
	ck_assert_msg(rc == 2, "truncated: rc %d: %s", rc, out);
	assert_one_line(out);
	free(out);
	rc = sw_t_sh(&out,
		     "'%s' gate -q --max-stall 100ms '%s/no/such/dir' 2>&1", sw,
		     base);
	ck_assert_msg(rc == 2, "missing: rc %d: %s", rc, out);
	assert_one_line(out);
	free(out);
	rc = sw_t_sh(&out, "'%s' gate -q --max-stall 100ms '%s/empty' 2>&1", sw,
		     base);
	/* nothing to judge is not a pass: no event loop seen */
	ck_assert_msg(rc == 1 && strstr(out, "no event loop seen"),
		      "empty dir: rc %d: %s", rc, out);
	assert_one_line(out);
	free(out);
	rc = sw_t_sh(&out, "'%s' gate -q --max-stall 100parsecs '%s' 2>&1", sw,
		     ccalm);
	ck_assert_msg(rc == 2, "bad duration: rc %d: %s", rc, out);
	assert_one_line(out);
	free(out);
	rc = sw_t_sh(&out, "'%s' gate -q --max-stall 100ms 2>&1", sw);
	ck_assert_msg(rc == 2, "no path: rc %d: %s", rc, out);
	assert_one_line(out);
	free(out);
	rc = sw_t_sh(&out, "'%s' gate -q '%s' 2>&1", sw, ccalm);
	ck_assert_msg(rc == 2, "no budget: rc %d: %s", rc, out);
	assert_one_line(out);
	free(out);
	rc = sw_t_sh(&out, "'%s' gate --help", sw);
	ck_assert_msg(rc == 0 && strstr(out, "usage: stallwatch gate"),
		      "rc %d: %s", rc, out);
	free(out);
}
END_TEST

START_TEST(folded_feeds_flamegraph)
{
	char *out = NULL, *line, *save = NULL, want[4400];
	int rc, found = 0, found_py = 0;

	ck_assert_msg(rc_cblock == 0, "gate_block failed under stallwatch run");
	if (have_py)
		rc = sw_t_sh(
		    &out, "'%s' report --format folded '%s' '%s' 2>/dev/null",
		    sw, pyblock, cblock);
	else
		rc = sw_t_sh(&out,
			     "'%s' report --format folded '%s' 2>/dev/null", sw,
			     cblock);
	ck_assert_msg(rc == 0 && out && *out, "rc %d: %s", rc, out);
	snprintf(want, sizeof(want), "block (%s:%d);", hostile, py_line);
	for (line = strtok_r(out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *sp = strrchr(line, ' ');

		/* flamegraph.pl: ^(.*)\s+?(\d+(?:\.\d*)?)$, frames split on ';'
		 */
		ck_assert_msg(sp && sp[1] &&
				  strspn(sp + 1, "0123456789") ==
				      strlen(sp + 1),
			      "bad line '%s'", line);
		ck_assert_msg(!strstr(line, ";;") && line[0] != ';',
			      "empty frame: '%s'", line);
		if (strstr(line, "nanosleep]") && atol(sp + 1) >= 200000)
			found++;
		if (strstr(line, want))
			found_py++;
	}
	ck_assert_msg(found >= (have_py ? 2 : 1),
		      "no 250 ms sleep line in the folded output");
	/* Python frames as `function (file:line)`, when the trace has them */
	ck_assert_msg(!py_frames || found_py == 1, "no line with '%s'", want);
	free(out);
	if (sw_t_have("flamegraph.pl")) {
		rc = sw_t_sh(&out,
			     "'%s' report --format folded '%s' 2>/dev/null | "
			     "flamegraph.pl",
			     sw, cblock);
		ck_assert_msg(rc == 0 && strstr(out, "<svg"),
			      "flamegraph.pl: %d %.500s", rc, out);
		free(out);
	} else {
		sw_t_skip("flamegraph.pl not installed: checked the line "
			  "grammar only");
	}
}
END_TEST

START_TEST(chrome_has_stall_event)
{
	char *out = NULL;
	json_error_t err;
	json_t *root, *ev;
	size_t i;
	int rc, stall = 0, call = 0, named = 0;

	ck_assert_msg(rc_cblock == 0, "gate_block failed under stallwatch run");
	rc = sw_t_sh(&out, "'%s' report --format chrome '%s' 2>/dev/null", sw,
		     cblock);
	ck_assert_msg(rc == 0, "rc %d: %s", rc, out);
	root = json_loads(out, 0, &err);
	ck_assert_msg(root, "chrome JSON: %s (line %d)", err.text, err.line);
	json_array_foreach (json_object_get(root, "traceEvents"), i, ev) {
		const char *ph = json_string_value(json_object_get(ev, "ph"));
		const char *cat = json_string_value(json_object_get(ev, "cat"));
		const char *name =
		    json_string_value(json_object_get(ev, "name"));
		double dur = json_number_value(json_object_get(ev, "dur"));

		if (!ph)
			continue;
		if (!strcmp(ph, "X") && cat && !strcmp(cat, "stall") &&
		    dur >= 200000)
			stall++;
		if (!strcmp(ph, "X") && cat && !strcmp(cat, "blocking-call") &&
		    name && strstr(name, "nanosleep") && dur >= 200000)
			call++;
		if (!strcmp(ph, "M") && name && !strcmp(name, "process_name"))
			named++;
	}
	ck_assert_msg(stall == 1 && call == 1 && named == 1,
		      "stall %d call %d named %d: %.3000s", stall, call, named,
		      out);
	json_decref(root);
	free(out);
}
END_TEST

Suite *sw_suite_gate_budgets(void)
{
	Suite *s = suite_create("gate_budgets");
	TCase *tc = tcase_create("gate");

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, stall_fails_at_file_line);
	tcase_add_test(tc, blocking_budgets);
	tcase_add_test(tc, allowlist_turns_it_into_a_pass);
	tcase_add_test(tc, junit_is_valid_xml);
	tcase_add_test(tc, calm_programs_pass);
	tcase_add_test(tc, native_location);
	tcase_add_test(tc, bad_input_exits_2);
	tcase_add_test(tc, folded_feeds_flamegraph);
	tcase_add_test(tc, chrome_has_stall_event);
	suite_add_tcase(s, tc);
	return s;
}
