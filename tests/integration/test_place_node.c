/*
 * test_place_node.c - stalls planted in a Node program's own functions, on
 * Node's built-ins (fs.readFileSync, crypto.pbkdf2Sync, zlib.gzipSync,
 * child_process.execSync, JSON.stringify), run under `stallwatch run
 * --js`; and a test of Node's test runner whose code blocks.
 *
 * The place of the site that explains the longest stall names the planted
 * function at its line (V8's perf map gives a function's own line: the
 * `// LINE:fn_*` markers of tests/progs/place_app.js) and the built-in it
 * called; the text headline names the same place, and so do the gate's
 * verdict on the same run and its GitHub annotation (at that line).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../support.h"

#define APP "tests/progs/place_app.js"

struct node_case {
	const char *mode, *kind, *function;
	const char *what; /* in the place's text, or NULL */
};

static const struct node_case cases[] = {
    {"readfile", "blocking-call", "loadCatalog",
     "\xe2\x86\x92 fs.readFileSync \xe2\x86\x92 "},
    {"pbkdf2", "cpu-stall", "hashPassword", "\xe2\x86\x92 crypto.pbkdf2Sync"},
    {"gzip", "cpu-stall", "compressReport", "\xe2\x86\x92 zlib."},
    {"exec", "private-loop", "runBackup",
     "\xe2\x86\x92 child_process.execSync \xe2\x86\x92 "},
    {"stringify", "cpu-stall", "renderOrders", NULL},
};

/* The heaviest site of this kind in the longest stall that has one (a
 * page fault or a GC can make another turn longer). */
static json_t *site_of_longest_stall(json_t *rep, const char *kind)
{
	json_t *st, *idx, *found = NULL;
	json_int_t longest = -1;
	size_t i, j;

	json_array_foreach (json_object_get(rep, "stalls"), i, st) {
		json_int_t d =
		    json_integer_value(json_object_get(st, "duration_ns"));

		if (d <= longest)
			continue;
		json_array_foreach (json_object_get(st, "sites"), j, idx) {
			json_t *site =
			    json_array_get(json_object_get(rep, "sites"),
					   (size_t)json_integer_value(idx));

			if (site && !strcmp(json_string_value(
						json_object_get(site, "kind")),
					    kind)) {
				found = site;
				longest = d;
				break;
			}
		}
	}
	return found;
}

/* V8 sometimes runs a function through the shared interpreter entry,
 * which no perf map names: the frame inside the place is then that
 * unnamed trampoline, and the place is its caller. */
static int planted_frame_unnamed(json_t *site)
{
	json_t *frames = json_object_get(site, "frames");
	json_int_t at = json_integer_value(
	    json_object_get(json_object_get(site, "place"), "frame"));
	const char *fn;

	if (at < 1)
		return 0;
	fn = json_string_value(json_object_get(
	    json_array_get(frames, (size_t)at - 1), "function"));
	return fn && strstr(fn, "InterpreterEntryTrampoline");
}

START_TEST(planted_stall_names_the_function_and_builtin)
{
	const struct node_case *c = &cases[_i];
	const char *dir = sw_t_tmpdir(c->mode);
	char marker[64], want[128], *out = NULL;
	json_t *rep, *site, *place;
	const char *ptext;
	int rc, line;

	if (!sw_t_have("node")) {
		sw_t_skip("node is not installed");
		return;
	}
	snprintf(marker, sizeof(marker), "fn_%s", c->mode);
	line = sw_t_marker_line(APP, marker);
	rc = sw_t_sh(
	    &out, "cd '%s' && '%s' run -q --js -o '%s/t' -- node '%s' %s", dir,
	    sw_t_build("stallwatch"), dir, sw_t_src(APP), c->mode);
	ck_assert_msg(rc == 0, "node under stallwatch run: rc %d: %s", rc, out);
	free(out);
	snprintf(marker, sizeof(marker), "%s/t", dir);
	rep = sw_t_report(marker, NULL);
	ck_assert_ptr_nonnull(rep);
	site = site_of_longest_stall(rep, c->kind);
	if (!site)
		sw_t_dump("stalls", json_object_get(rep, "stalls"));
	ck_assert_msg(site != NULL, "%s: no %s site in the longest stall",
		      c->mode, c->kind);
	place = json_object_get(site, "place");
	ptext = json_string_value(json_object_get(place, "text"));
	if (!ptext || !json_is_string(json_object_get(place, "function")) ||
	    strcmp(json_string_value(json_object_get(place, "function")),
		   c->function) ||
	    (c->what && !strstr(ptext, c->what)))
		sw_t_dump("site", site);
	ck_assert_str_eq(json_string_value(json_object_get(site, "kind")),
			 c->kind);
	if (strcmp(json_string_value(json_object_get(place, "function")),
		   c->function) &&
	    planted_frame_unnamed(site)) {
		sw_t_skipf("%s: V8 ran %s through its shared interpreter "
			   "entry (unnamed); the place is its caller",
			   c->mode, c->function);
		json_decref(rep);
		return;
	}
	ck_assert_str_eq(json_string_value(json_object_get(place, "function")),
			 c->function);
	ck_assert_ptr_nonnull(strstr(
	    json_string_value(json_object_get(place, "file")), "place_app.js"));
	ck_assert_int_eq(json_integer_value(json_object_get(place, "line")),
			 line);
	ck_assert(json_is_true(json_object_get(place, "in_app")));
	if (c->what)
		ck_assert_msg(strstr(ptext, c->what),
			      "%s: place '%s' lacks '%s'", c->mode, ptext,
			      c->what);
	rc =
	    sw_t_sh(&out, "'%s' report '%s'", sw_t_build("stallwatch"), marker);
	ck_assert_int_eq(rc, 0);
	ck_assert_msg(strstr(out, ptext), "%s: headline without '%s':\n%s",
		      c->mode, ptext, out);
	free(out);
	/* The gate's verdict on the same run, as CI prints it, is at the
	 * planted line and names the same place; so is the GitHub
	 * annotation. */
	rc = sw_t_gate(marker, &out);
	ck_assert_msg(rc == 1, "%s: gate rc %d:\n%s", c->mode, rc, out);
	snprintf(want, sizeof(want), "place_app.js:%d: error: ", line);
	ck_assert_msg(sw_t_count_lines2(out, want, ptext) >= 1,
		      "%s: no verdict at %s naming '%s':\n%s", c->mode, want,
		      ptext, out);
	snprintf(want, sizeof(want),
		 "place_app.js,line=%d,title=stallwatch gate ", line);
	ck_assert_msg(sw_t_count_lines2(out, "^::error file=", want) >= 1 &&
			  sw_t_count_lines2(out, want, ptext) >= 1,
		      "%s: no annotation at %s naming '%s':\n%s", c->mode, want,
		      ptext, out);
	free(out);
	json_decref(rep);
}
END_TEST

/* A stall in code under test of `node --test` is reported in that test:
 * the test's callback in the test file. */
START_TEST(node_test_runner_names_the_test)
{
	const char *dir = sw_t_tmpdir("node_test");
	const char *file = "tests/progs/place_checkout.test.js";
	char want[256], tdir[4200], *out = NULL;
	json_t *rep, *site, *st;
	size_t i;
	int rc, found = 0;

	if (!sw_t_have("node")) {
		sw_t_skip("node is not installed");
		return;
	}
	rc = sw_t_sh(
	    &out, "cd '%s' && '%s' run -q --js -o '%s/t' -- node --test '%s'",
	    dir, sw_t_build("stallwatch"), dir, sw_t_src(file));
	ck_assert_msg(rc == 0, "node --test under stallwatch: rc %d: %s", rc,
		      out);
	free(out);
	snprintf(want, sizeof(want), "place_checkout.test.js:%d",
		 sw_t_marker_line(file, "test"));
	snprintf(tdir, sizeof(tdir), "%s/t", dir);
	rep = sw_t_report(tdir, NULL);
	ck_assert_ptr_nonnull(rep);
	json_array_foreach (json_object_get(rep, "sites"), i, site) {
		json_t *pl = json_object_get(site, "place");

		if (!json_is_string(json_object_get(pl, "function")) ||
		    strcmp(json_string_value(json_object_get(pl, "function")),
			   "chargeCard"))
			continue;
		found = 1;
		ck_assert_str_eq(
		    json_string_value(json_object_get(site, "test")), want);
	}
	if (!found)
		sw_t_dump("sites", json_object_get(rep, "sites"));
	ck_assert_msg(found, "no site in chargeCard");
	found = 0;
	json_array_foreach (json_object_get(rep, "stalls"), i, st)
		if (json_is_string(json_object_get(st, "test")) &&
		    !strcmp(json_string_value(json_object_get(st, "test")),
			    want))
			found = 1;
	ck_assert_msg(found, "no stall reported in test %s", want);
	json_decref(rep);
}
END_TEST

Suite *sw_suite_place_node(void)
{
	Suite *s = suite_create("place_node");
	TCase *tc = tcase_create("planted");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, planted_stall_names_the_function_and_builtin, 0,
			    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, node_test_runner_names_the_test);
	suite_add_tcase(s, tc);
	return s;
}
