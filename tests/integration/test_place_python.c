/*
 * test_place_python.c - stalls planted in a Python service's own code, on
 * real libraries (requests, json, re, hashlib, sqlite3, time.sleep, an
 * aiohttp handler, uvloop), and a clean aiohttp service under load.
 *
 * For each planted stall the report's place (JSON `place` of the site
 * that explains the longest stall) and the text headline must name the
 * handler's function and planted line (tests/progs/python/place_app.py,
 * `# LINE:` markers) and the library call it made; the clean service must
 * read "no stall" at the top.  The gate's verdict on the same run, and its
 * GitHub annotation, are at the planted line and name the same place; the
 * clean service passes the gate.  Debian's python3 runs them: its aiohttp,
 * uvloop and requests come from Debian.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../support.h"

#define PY  "/usr/bin/python3"
#define APP "tests/progs/python/place_app.py"

struct place_case {
	const char *mode, *kind, *function, *marker;
	const char *what;   /* in the place's text, or NULL */
	const char *module; /* a Debian module the mode needs, or NULL */
};

static const struct place_case cases[] = {
    {"requests", "blocking-call", "fetch_price", "requests",
     "\xe2\x86\x92 requests.get \xe2\x86\x92 ", "requests"},
    {"json", "cpu-stall", "parse_catalog", "json", "\xe2\x86\x92 json.loads",
     NULL},
    {"re", "cpu-stall", "validate_email", "re", "\xe2\x86\x92 re.match", NULL},
    {"hashlib", "cpu-stall", "hash_password", "hashlib", NULL, NULL},
    {"sqlite", "cpu-stall", "monthly_report", "sqlite", NULL, NULL},
    {"sleep", "blocking-call", "throttle", "sleep", "nanosleep", NULL},
    {"aiohttp", "blocking-call", "serve.<locals>.order", "aiohttp", "nanosleep",
     "aiohttp"},
    {"uvloop", "blocking-call", "throttle", "sleep", "nanosleep", "uvloop"},
};

static int have_module(const char *m)
{
	return sw_t_sh(NULL, PY " -c 'import %s' >/dev/null 2>&1", m) == 0;
}

/* Run the app in one mode; the output directory. */
static const char *run_mode(const char *mode)
{
	const char *dir = sw_t_tmpdir(mode);
	char *out = NULL;
	int rc;

	rc = sw_t_sh(&out, "'%s' run -q -o '%s/t' -- " PY " '%s' %s",
		     sw_t_build("stallwatch"), dir, sw_t_src(APP), mode);
	ck_assert_msg(rc == 0, "%s under stallwatch run: rc %d: %s", mode, rc,
		      out);
	free(out);
	return dir;
}

static json_t *longest_stall(json_t *rep)
{
	json_t *st, *best = NULL;
	size_t i;

	json_array_foreach (json_object_get(rep, "stalls"), i, st)
		if (!best ||
		    json_integer_value(json_object_get(st, "duration_ns")) >
			json_integer_value(
			    json_object_get(best, "duration_ns")))
			best = st;
	return best;
}

START_TEST(planted_stall_is_named_at_its_line)
{
	const struct place_case *c = &cases[_i];
	char tdir[4200], want[128], *text = NULL;
	const char *dir, *ptext, *pfile;
	json_t *rep, *st, *site, *place;
	int line = sw_t_marker_line(APP, c->marker), rc;

	if (!sw_t_have(PY)) {
		sw_t_skip("Debian's python3 is not installed");
		return;
	}
	if (c->module && !have_module(c->module)) {
		sw_t_skip("a Python module for this case is not installed");
		return;
	}
	dir = run_mode(c->mode);
	snprintf(tdir, sizeof(tdir), "%s/t", dir);
	rep = sw_t_report(tdir, NULL);
	ck_assert_ptr_nonnull(rep);
	st = longest_stall(rep);
	ck_assert_msg(st != NULL, "%s: no stall", c->mode);
	site = json_array_get(json_object_get(rep, "sites"),
			      (size_t)json_integer_value(json_array_get(
				  json_object_get(st, "sites"), 0)));
	ck_assert_msg(site != NULL, "%s: the longest stall has no site",
		      c->mode);
	place = json_object_get(site, "place");
	ptext = json_string_value(json_object_get(place, "text"));
	pfile = json_string_value(json_object_get(place, "file"));
	if (!ptext ||
	    strcmp(json_string_value(json_object_get(site, "kind")), c->kind) ||
	    !json_is_string(json_object_get(place, "function")) ||
	    strcmp(json_string_value(json_object_get(place, "function")),
		   c->function) ||
	    !pfile || !strstr(pfile, "place_app.py") ||
	    json_integer_value(json_object_get(place, "line")) != line ||
	    (c->what && !strstr(ptext, c->what)) ||
	    !json_is_true(json_object_get(place, "in_app")))
		sw_t_dump("site", site);
	ck_assert_str_eq(json_string_value(json_object_get(site, "kind")),
			 c->kind);
	ck_assert_str_eq(json_string_value(json_object_get(place, "function")),
			 c->function);
	ck_assert_ptr_nonnull(pfile);
	ck_assert_ptr_nonnull(strstr(pfile, "place_app.py"));
	ck_assert_int_eq(json_integer_value(json_object_get(place, "line")),
			 line);
	ck_assert(json_is_true(json_object_get(place, "in_app")));
	if (c->what)
		ck_assert_msg(strstr(ptext, c->what),
			      "%s: place '%s' lacks '%s'", c->mode, ptext,
			      c->what);
	/* The text headline of the longest stall names the same place, and
	 * the source line is printed under the site's headline. */
	rc = sw_t_sh(&text, "'%s' report '%s'", sw_t_build("stallwatch"), tdir);
	ck_assert_int_eq(rc, 0);
	ck_assert_msg(strstr(text, ptext), "%s: headline without '%s':\n%s",
		      c->mode, ptext, text);
	ck_assert_msg(strstr(text, "# LINE:"),
		      "%s: no source line in the text report:\n%s", c->mode,
		      text);
	free(text);
	/* The gate's verdict on the same run, as CI prints it, is at the
	 * planted line and names the same place; so is the GitHub
	 * annotation. */
	rc = sw_t_gate(tdir, &text);
	ck_assert_msg(rc == 1, "%s: gate rc %d:\n%s", c->mode, rc, text);
	snprintf(want, sizeof(want), "place_app.py:%d: error: ", line);
	ck_assert_msg(sw_t_count_lines2(text, want, ptext) >= 1,
		      "%s: no verdict at %s naming '%s':\n%s", c->mode, want,
		      ptext, text);
	snprintf(want, sizeof(want),
		 "place_app.py,line=%d,title=stallwatch gate ", line);
	ck_assert_msg(sw_t_count_lines2(text, "^::error file=", want) >= 1 &&
			  sw_t_count_lines2(text, want, ptext) >= 1,
		      "%s: no annotation at %s naming '%s':\n%s", c->mode, want,
		      ptext, text);
	free(text);
	json_decref(rep);
}
END_TEST

START_TEST(clean_service_under_load_reads_no_stall)
{
	char tdir[4200], *text = NULL;
	const char *dir;
	json_t *rep;
	int rc;

	if (!sw_t_have(PY) || !have_module("aiohttp")) {
		sw_t_skip("Debian's python3 with aiohttp is not installed");
		return;
	}
	dir = run_mode("clean");
	snprintf(tdir, sizeof(tdir), "%s/t", dir);
	rep = sw_t_report(tdir, NULL);
	ck_assert_ptr_nonnull(rep);
	if (json_array_size(json_object_get(rep, "stalls")))
		sw_t_dump("stalls", json_object_get(rep, "stalls"));
	ck_assert_uint_eq(json_array_size(json_object_get(rep, "stalls")), 0);
	rc = sw_t_sh(&text, "'%s' report '%s'", sw_t_build("stallwatch"), tdir);
	ck_assert_int_eq(rc, 0);
	ck_assert_msg(strstr(text, "\n\nno stall") &&
			  strstr(text, "\n\nno stall") <
			      strstr(text, "\nprocess "),
		      "no \"no stall\" at the top:\n%s", text);
	free(text);
	/* and the gate passes it, with no annotation */
	rc = sw_t_gate(tdir, &text);
	ck_assert_msg(rc == 0 && !strstr(text, "::error"),
		      "the clean service fails the gate: rc %d:\n%s", rc, text);
	free(text);
	json_decref(rep);
}
END_TEST

/* --app and --not-app move the place; a bad --stacks is a usage error. */
START_TEST(app_options_move_the_place)
{
	char tdir[4200], extra[200], *out = NULL;
	const char *dir, *file;
	json_t *rep, *site;
	int rc;

	if (!sw_t_have(PY) || !have_module("requests")) {
		sw_t_skip("Debian's python3 with requests is not installed");
		return;
	}
	dir = run_mode("requests");
	snprintf(tdir, sizeof(tdir), "%s/t", dir);
	/* requests counted as the program's own: the place moves into it */
	snprintf(extra, sizeof(extra), "--app '*/requests/*'");
	rep = sw_t_report(tdir, extra);
	ck_assert_ptr_nonnull(rep);
	site = json_array_get(json_object_get(rep, "sites"), 0);
	file = json_string_value(
	    json_object_get(json_object_get(site, "place"), "file"));
	if (!file || !strstr(file, "/requests/"))
		sw_t_dump("site", site);
	ck_assert_ptr_nonnull(file);
	ck_assert_ptr_nonnull(strstr(file, "/requests/"));
	json_decref(rep);
	/* the service's own file not counted: nothing is in app */
	rep = sw_t_report(tdir, "--not-app '*place_app.py'");
	ck_assert_ptr_nonnull(rep);
	site = json_array_get(json_object_get(rep, "sites"), 0);
	ck_assert(json_is_false(
	    json_object_get(json_object_get(site, "place"), "in_app")));
	json_decref(rep);
	rc = sw_t_sh(&out, "'%s' report --stacks many '%s'",
		     sw_t_build("stallwatch"), tdir);
	ck_assert_int_eq(rc, 2);
	ck_assert_int_eq(sw_t_count_lines(out, "stallwatch: "), 1);
	free(out);
}
END_TEST

Suite *sw_suite_place_python(void)
{
	Suite *s = suite_create("place_python");
	TCase *tc = tcase_create("planted");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, planted_stall_is_named_at_its_line, 0,
			    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, clean_service_under_load_reads_no_stall);
	tcase_add_test(tc, app_options_move_the_place);
	suite_add_tcase(s, tc);
	return s;
}
