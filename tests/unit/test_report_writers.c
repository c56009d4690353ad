/*
 * test_report_writers.c - the folded and HTML writers and the gate's verdict
 * (Chrome: test_viewer_exports.c), on a report built by hand whose every
 * string is hostile: markup, a script-closing tag, quotes, control
 * characters, invalid UTF-8 and the separators of the folded format.
 */
#include <check.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../analyzer/html_escape.h"
#include "../../analyzer/model.h"
#include "../../include/sw_trace.h"
#include "../support.h"
#include "report_fixture.h"

/* cmd_gate.c: the gate on a report already in memory */
int sw_gate_judge(const struct sw_report *rep, int argc, char **argv);

#define HOSTILE_PY "/tmp/x/<img src=x onerror=alert(1)>.py"
#define BAD_UTF8_PY             \
	"/srv/\xff\xfe\xc0\xaf" \
	"bad.py"
#define COMMAND                                                         \
	"python3 <img src=x onerror=alert(1)>.py \"q\" '\x01\x1b[31m; " \
	"</script><b>x"

/* The stacks, innermost first: a sleep under hostile Python code, reached
 * through a native function whose name holds the folded format's
 * separators; a burn in a file whose name is not UTF-8; a brief read. */
static struct sw_frame frames0[] = {
    SW_T_NATIVE("clock_nanosleep", SW_T_LIBC, 0x7f0000001000),
    SW_T_NATIVE_SRC("a;b\nc d ", "/src/x.c", 10, "/usr/bin/python3", 0x401000),
    SW_T_PYTHON("block</script>", HOSTILE_PY, 7),
    SW_T_PYTHON("<module>", HOSTILE_PY, 12),
};
static struct sw_frame frames1[] = {
    SW_T_PYTHON("spin\"'&", BAD_UTF8_PY, 3),
    SW_T_NATIVE(NULL, "/usr/bin/python3", 0x402000),
};
static struct sw_frame frames2[] = {
    SW_T_NATIVE("read", SW_T_LIBC, 0x7f0000002000),
    SW_T_PYTHON("load_config", "/app/config.py", 20),
};
static struct sw_site sites[] = {
    SW_T_SITE(SW_SITE_BLOCKING, "clock_nanosleep", 1, 250300000, 250300000,
	      frames0, .fd_kind = SW_FD_NONE,
	      /* as sw_place_compute() names it */
	      .place = {.text = "block</script> (<img src=x "
				"onerror=alert(1)>.py:7) "
				"\xe2\x86\x92 clock_nanosleep",
			.function = "block</script>",
			.file = HOSTILE_PY,
			.line = 7,
			.frame = 2,
			.in_app = 1}),
    SW_T_SITE(SW_SITE_CPU, "loop turn", 12, 120000000, 10000000, frames1,
	      .fd_kind = SW_FD_NONE),
    SW_T_SITE(SW_SITE_BLOCKING, "read", 3, 5000, 2000, frames2,
	      .fd_kind = SW_FD_FILE, .strict_only = 1),
};
static size_t stall0_sites[] = {0};
static size_t stall1_sites[] = {1};
static struct sw_stall stalls[] = {
    SW_T_STALL(1500000000, 260000000, stall0_sites, .blocked_ns = 250300000),
    SW_T_STALL(2500000000, 130000000, stall1_sites, .cpu_ns = 120000000),
};
static struct sw_event events[] = {
    SW_T_EVENT(1501000000, 250300000, 0, 0, 1),
    SW_T_EVENT(2510000000, 10000000, 1, 1, 1),
    /* 5 us, strict only: outside every stall */
    SW_T_EVENT(3000000000, 2000, 2, -1, 3),
};
static struct sw_loop loops[] = {
    SW_T_LOOP("</script><i>", .born_ns = 1000000000, .last_ns = 4000000000,
	      .turns = 100, .busy_ns = 500000000, .stalls = 2,
	      .max_turn_ns = 260000000, .lag_p50_ns = 1000000,
	      .lag_p99_ns = 5000000, .lag_max_ns = 260000000,
	      .utilisation = 0.166),
};
static char *notes[] = {"a note with <b>markup</b> & \xe2\x80\xa8 separators"};
static struct sw_process procs[] = {
    SW_T_PROCESS(COMMAND, loops, .ppid = 1,
		 .trace_path = "/tmp/t/python3.4242.swtrace",
		 .threshold_ns = 100000000, .call_threshold_ns = 10000000,
		 .clean_exit = 1, .records = 50),
};

/* The shared skeleton, plus the notes only these writers show. */
static struct sw_report report(void)
{
	struct sw_report rep = SW_T_REPORT(procs, sites, stalls, events);

	rep.notes = notes;
	rep.nnotes = SW_T_LEN(notes);
	return rep;
}

/* ---- folded ---- */

START_TEST(folded_lines_parse)
{
	struct sw_report rep = report();
	char *out = sw_t_capture(sw_write_folded, &rep, NULL), *line,
	     *save = NULL;
	int n = 0, saw_block = 0;

	for (line = strtok_r(out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *sp = strrchr(line, ' '), *p;

		n++;
		/* flamegraph.pl: ^(.*)\s+?(\d+(?:\.\d*)?)$ and frames split on
		 * ; */
		ck_assert_ptr_nonnull(sp);
		ck_assert_msg(strspn(sp + 1, "0123456789") == strlen(sp + 1) &&
				  sp[1],
			      "bad value in %s", line);
		for (p = line; *p; p++)
			ck_assert_msg((unsigned char)*p >= 0x20 && *p != 0x7f,
				      "control byte in %s", line);
		ck_assert_msg(!strstr(line, ";;") && line[0] != ';' &&
				  sp[-1] != ';',
			      "empty frame in %s", line);
		if (strstr(line, "[blocking-call: clock_nanosleep]")) {
			saw_block = 1;
			ck_assert_str_eq(
			    line, "<module> (" HOSTILE_PY
				  ":12);block</script> (" HOSTILE_PY
				  ":7);a:b?c d;clock_nanosleep;[blocking-call: "
				  "clock_nanosleep] 250300");
		}
		if (strstr(line, "[cpu-stall]"))
			ck_assert_str_eq(
			    line, "[python3];spin\"'& "
				  "(/srv/????bad.py:3);[cpu-stall] 120000");
		if (strstr(line,
			   "[blocking-call: read]")) /* 5 us, strict only */
			ck_assert_str_eq(line,
					 "load_config (/app/config.py:20);read;"
					 "[blocking-call: read] 5");
	}
	ck_assert_int_eq(n, 3);
	ck_assert(saw_block);
	free(out);
}
END_TEST

/* ---- html ---- */

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (; (hay = strstr(hay, needle)); hay++)
		n++;
	return n;
}

START_TEST(html_is_inert_and_self_contained)
{
	struct sw_report rep = report();
	char *out = sw_t_capture(sw_write_html, &rep, NULL), *data, *end, *p;
	const char *open = "<script type=\"application/json\" id=\"sw-data\">";
	json_error_t err;
	json_t *root, *f;

	/* every trace string lives only inside the JSON block, escaped */
	ck_assert_uint_eq(count(out, "<img"), 0);
	/* 2 frames (file, label), the process, the place (text, loc) */
	ck_assert_uint_eq(
	    count(out, "\\u003cimg src=x onerror=alert(1)\\u003e.py"), 7);
	ck_assert_uint_eq(count(out, "</script"), 3); /* our three scripts */
	ck_assert_uint_eq(count(out, "<script"), 3);
	ck_assert_uint_eq(count(out, "<b>"), 0);
	ck_assert_uint_eq(count(out, "\x1b"), 0);
	ck_assert_uint_eq(count(out, "\xe2\x80\xa8"), 0);
	data = strstr(out, open);
	ck_assert_ptr_nonnull(data);
	data += strlen(open);
	end = strstr(data, "</script>");
	ck_assert_ptr_nonnull(end);
	*end = 0;
	data[-1] = 0; /* the '>' of the opening tag: out is now the head */
	/* outside the data: nothing is fetched from anywhere, and the
	 * script builds the DOM with textContent */
	for (p = out; p; p = p == out ? end + 1 : NULL) {
		ck_assert_uint_eq(count(p, "src="), 0);
		ck_assert_uint_eq(count(p, "href"), 0);
		ck_assert_uint_eq(count(p, "http:"), 0);
		ck_assert_uint_eq(count(p, "https:"), 0);
		ck_assert_uint_eq(count(p, "@import"), 0);
		ck_assert_uint_eq(count(p, "url("), 0);
		ck_assert_uint_eq(count(p, "innerHTML"), 0);
		ck_assert_uint_eq(count(p, "outerHTML"), 0);
		ck_assert_uint_eq(count(p, "insertAdjacentHTML"), 0);
		ck_assert_uint_eq(count(p, "document.write"), 0);
		ck_assert_uint_eq(count(p, "eval("), 0);
	}
	ck_assert_ptr_nonnull(strstr(out, "Content-Security-Policy"));
	for (p = data; *p; p++)
		ck_assert_msg(*p != '<' && *p != '>' && *p != '&' &&
				  (unsigned char)*p < 0x80,
			      "raw byte 0x%02x in the data block",
			      (unsigned char)*p);
	root = json_loads(data, 0, &err);
	ck_assert_msg(root, "data block does not parse: %s", err.text);
	/* and the strings come back intact (invalid UTF-8 as U+FFFD) */
	ck_assert_str_eq(
	    json_string_value(json_object_get(
		json_array_get(json_object_get(root, "processes"), 0),
		"command")),
	    COMMAND);
	f = json_array_get(
	    json_object_get(json_array_get(json_object_get(root, "sites"), 0),
			    "frames"),
	    2);
	ck_assert_str_eq(json_string_value(json_object_get(f, "file")),
			 HOSTILE_PY);
	ck_assert_str_eq(json_string_value(json_object_get(f, "function")),
			 "block</script>");
	/* the place comes through whole; the hostile file is not read */
	{
		json_t *s0 = json_array_get(json_object_get(root, "sites"), 0);

		ck_assert_str_eq(
		    json_string_value(json_object_get(s0, "place")),
		    sites[0].place.text);
		ck_assert_str_eq(json_string_value(json_object_get(s0, "loc")),
				 HOSTILE_PY ":7");
		ck_assert(json_is_null(json_object_get(s0, "src")));
		ck_assert_int_eq(
		    json_integer_value(json_object_get(
			json_array_get(json_object_get(s0, "frames"), 2),
			"app")),
		    0);
	}
	f = json_array_get(
	    json_object_get(json_array_get(json_object_get(root, "sites"), 1),
			    "frames"),
	    0);
	ck_assert_str_eq(json_string_value(json_object_get(f, "file")),
			 "/srv/\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
			 "bad.py");
	ck_assert_int_eq(json_array_size(json_object_get(root, "stalls")), 2);
	ck_assert_int_eq(json_array_size(json_object_get(root, "events")), 3);
	json_decref(root);
	free(out);
}
END_TEST

START_TEST(json_ascii_escapes)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	sw_json_ascii(m, "</script>\xe2\x80\xa9\xf0\x9f\x98\x80\xff\"\\\n\x01");
	sw_json_ascii(m, NULL);
	fclose(m);
	ck_assert_str_eq(buf, "\"\\u003c/"
			      "script\\u003e\\u2029\\ud83d\\ude00\\ufffd\\\"\\"
			      "\\\\n\\u0001\"null");
	free(buf);
}
END_TEST

/* ---- gate ---- */

/* Run the gate on the hand-made report; its stdout in *out. */
static int gate(char **out, const char *a1, const char *a2, const char *a3,
		const char *a4, const char *a5)
{
	char *argv[8] = {"gate"};
	int argc = 1, rc, fd, saved;
	char path[] = "/tmp/sw-gate-out.XXXXXX";
	struct sw_report rep = report();
	FILE *f;
	size_t n;

	if (a1)
		argv[argc++] = (char *)a1;
	if (a2)
		argv[argc++] = (char *)a2;
	if (a3)
		argv[argc++] = (char *)a3;
	if (a4)
		argv[argc++] = (char *)a4;
	if (a5)
		argv[argc++] = (char *)a5;
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	fflush(stdout);
	saved = dup(1);
	dup2(fd, 1);
	rc = sw_gate_judge(&rep, argc, argv);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	*out = calloc(1, 1 << 16);
	f = fopen(path, "r");
	n = fread(*out, 1, (1 << 16) - 1, f);
	(*out)[n] = 0;
	fclose(f);
	close(fd);
	unlink(path);
	return rc;
}

START_TEST(gate_max_stall_names_file_line)
{
	char *out;
	int rc = gate(&out, "--max-stall", "100ms", NULL, NULL, NULL);
	const char *first = HOSTILE_PY
	    ":7: error: event loop stalled 260.0 ms (budget "
	    "100.0 ms): blocking call clock_nanosleep in "
	    "block</script> (<img src=x onerror=alert(1)>.py:7) "
	    "\xe2\x86\x92 clock_nanosleep (pid 4242 python3 <img src=x "
	    "onerror=alert(1)>.py \"q\" '??[31m; </script><b>x, "
	    "thread 4243)\n";

	ck_assert_msg(rc == 1, "rc %d: %s", rc, out);
	ck_assert_msg(!strncmp(out, first, strlen(first)), "%s", out);
	ck_assert_msg(
	    strstr(out,
		   "/srv/????bad.py:3: error: event loop stalled 130.0 ms "
		   "(budget 100.0 ms): CPU-bound code in spin\"'&() (pid 4242"),
	    "%s", out);
	ck_assert_msg(
	    strstr(out,
		   "\nstallwatch gate: FAILED: 2 violations (max-stall 2)"),
	    "%s", out);
	ck_assert_ptr_null(strchr(out, '\x1b'));
	free(out);
}
END_TEST

START_TEST(gate_within_budget_passes)
{
	char *out;
	int rc =
	    gate(&out, "--max-stall", "300ms", "--max-lag-p99", "10ms", NULL);

	ck_assert_msg(rc == 0, "rc %d: %s", rc, out);
	ck_assert_msg(
	    strstr(out,
		   "stallwatch gate: ok: 1 process, 1 event loop, 100 turns "
		   "within budget\n") == out,
	    "%s", out);
	free(out);
}
END_TEST

START_TEST(gate_allowlist)
{
	char *out, path[] = "/tmp/sw-allow.XXXXXX";
	int fd = mkstemp(path), rc;
	const char *allow = "# test allowlist\n\n  block*  \nspin*\n";

	ck_assert_int_eq(write(fd, allow, strlen(allow)), (int)strlen(allow));
	close(fd);
	rc = gate(&out, "--max-stall", "100ms", "--allow", path, NULL);
	ck_assert_msg(rc == 0, "rc %d: %s", rc, out);
	ck_assert_msg(strstr(out, "ok:") &&
			  strstr(out, "2 occurrences allowed"),
		      "%s", out);
	free(out);
	/* by file:line and by module */
	fd = open(path, O_WRONLY | O_TRUNC);
	allow = "*/<img src=x onerror=alert(1)>.py:7\n";
	ck_assert_int_eq(write(fd, allow, strlen(allow)), (int)strlen(allow));
	close(fd);
	rc = gate(&out, "--max-stall", "100ms", "--allow", path, NULL);
	ck_assert_msg(rc == 1 && strstr(out, "1 violation (max-stall 1)"),
		      "rc %d: %s", rc, out);
	free(out);
	fd = open(path, O_WRONLY | O_TRUNC);
	allow = "libc.so.6\n";
	ck_assert_int_eq(write(fd, allow, strlen(allow)), (int)strlen(allow));
	close(fd);
	rc = gate(&out, "--no-blocking", "--allow", path, NULL, NULL);
	ck_assert_msg(rc == 0, "rc %d: %s", rc, out);
	free(out);
	unlink(path);
	rc = gate(&out, "--max-stall", "100ms", "--allow", "/nonexistent/allow",
		  NULL);
	ck_assert_int_eq(rc, 2);
	free(out);
}
END_TEST

START_TEST(gate_blocking_budgets)
{
	char *out;
	int rc = gate(&out, "--no-blocking", NULL, NULL, NULL, NULL);

	ck_assert_msg(rc == 1, "rc %d: %s", rc, out);
	ck_assert_msg(
	    strstr(out, HOSTILE_PY
		   ":7: error: blocking call clock_nanosleep in "
		   "block</script> (<img src=x onerror=alert(1)>.py:7) "
		   "\xe2\x86\x92 clock_nanosleep on the event loop (pid "
		   "4242"),
	    "%s", out);
	ck_assert_msg(
	    strstr(out,
		   "/app/config.py:20: error: blocking call read on a regular "
		   "file in load_config() on the event loop (fast here, but it "
		   "can block) [3 times, worst 2.0 us] (pid 4242"),
	    "%s", out);
	ck_assert_msg(strstr(out, "FAILED: 2 violations (no-blocking 2)"), "%s",
		      out);
	free(out);
	rc = gate(&out, "--max-blocking", "100ms", NULL, NULL, NULL);
	ck_assert_msg(rc == 1, "rc %d: %s", rc, out);
	ck_assert_msg(
	    strstr(
		out, HOSTILE_PY
		":7: error: blocking call clock_nanosleep in "
		"block</script> (<img src=x onerror=alert(1)>.py:7) "
		"\xe2\x86\x92 clock_nanosleep took 250.3 ms on the event loop "
		"(budget 100.0 ms) (pid 4242"),
	    "%s", out);
	ck_assert_msg(strstr(out, "FAILED: 1 violation (max-blocking 1)"), "%s",
		      out);
	free(out);
	rc = gate(&out, "--max-blocking", "251ms", NULL, NULL, NULL);
	ck_assert_msg(rc == 0, "rc %d: %s", rc, out);
	free(out);
	rc = gate(&out, "--max-lag-p99", "1ms", NULL, NULL, NULL);
	ck_assert_msg(
	    rc == 1 &&
		strstr(out,
		       "event loop lag p99 5.0 ms over budget 1.0 ms "
		       "(100 turns, max 260.0 ms; longest stall: blocking call "
		       "clock_nanosleep in block</script> (<img src=x "
		       "onerror=alert(1)>.py:7) \xe2\x86\x92 clock_nanosleep)"),
	    "rc %d: %s", rc, out);
	free(out);
}
END_TEST

START_TEST(gate_turn_below_threshold)
{
	char *out;
	int rc;

	/* the 260 ms turn was recorded as a stall: no separate turn line */
	rc = gate(&out, "--max-stall", "200ms", NULL, NULL, NULL);
	ck_assert_msg(rc == 1 && strstr(out, "1 violation (max-stall 1)"),
		      "rc %d: %s", rc, out);
	free(out);
	/* a long turn the shim had no stall record for */
	loops[0].max_turn_ns = 400000000;
	procs[0].threshold_ns = 500000000;
	rc = gate(&out, "--max-stall", "300ms", NULL, NULL, NULL);
	ck_assert_msg(
	    rc == 1 &&
		strstr(out, "event loop turn took 400.0 ms (budget 300.0 ms), "
			    "under the recording threshold 500.0 ms"),
	    "rc %d: %s", rc, out);
	free(out);
	/* over the threshold yet no stall record: the trace lost it */
	procs[0].threshold_ns = 100000000;
	rc = gate(&out, "--max-stall", "300ms", NULL, NULL, NULL);
	ck_assert_msg(
	    rc == 1 &&
		strstr(out, "event loop turn took 400.0 ms (budget 300.0 ms), "
			    "but the trace has no stall record of it"),
	    "rc %d: %s", rc, out);
	free(out);
}
END_TEST

START_TEST(gate_usage_errors)
{
	char *out;

	ck_assert_int_eq(
	    gate(&out, "--max-stall", "10parsecs", NULL, NULL, NULL), 2);
	free(out);
	ck_assert_int_eq(gate(&out, "--max-stall", "-5ms", NULL, NULL, NULL),
			 2);
	free(out);
	ck_assert_int_eq(gate(&out, "--bogus", NULL, NULL, NULL, NULL), 2);
	free(out);
	ck_assert_int_eq(gate(&out, "--junit", NULL, NULL, NULL, NULL), 2);
	free(out);
	ck_assert_int_eq(gate(&out, NULL, NULL, NULL, NULL, NULL),
			 2); /* no budget */
	free(out);
	ck_assert_int_eq(gate(&out, "--help", NULL, NULL, NULL, NULL), 0);
	ck_assert_ptr_nonnull(strstr(out, "usage: stallwatch gate"));
	free(out);
}
END_TEST

START_TEST(gate_junit_and_github)
{
	char *out, *py = NULL;
	const char *xml = sw_t_build("tmp/gate-unit-junit.xml");
	char xmlpath[4096];
	int rc;

	snprintf(xmlpath, sizeof(xmlpath), "%s", xml);
	sw_t_sh(NULL, "mkdir -p \"$(dirname '%s')\"", xmlpath);
	setenv("GITHUB_ACTIONS", "true", 1);
	rc = gate(&out, "--max-stall", "100ms", "--junit", xmlpath, NULL);
	unsetenv("GITHUB_ACTIONS");
	ck_assert_msg(rc == 1, "rc %d: %s", rc, out);
	ck_assert_msg(strstr(out, "\n::error file=" HOSTILE_PY
				  ",line=7,title=stallwatch gate "
				  "max-stall::event loop stalled 260.0 ms"),
		      "%s", out);
	free(out);
	rc = sw_t_sh(&py,
		     "python3 -c 'import sys, xml.etree.ElementTree as E\n"
		     "r = E.parse(sys.argv[1]).getroot()\n"
		     "cases = r.findall(\".//testcase\")\n"
		     "fails = r.findall(\".//failure\")\n"
		     "print(len(cases), len(fails), r.get(\"failures\"))\n"
		     "print(fails[0].get(\"message\"))\n"
		     "print(cases[0].get(\"classname\"))' '%s'",
		     xmlpath);
	ck_assert_msg(rc == 0, "JUnit XML does not parse: %s", py ? py : "");
	/* one testcase (the loop), one failure listing both violations,
	 * each with its place; named without the pid */
	ck_assert_msg(!strncmp(py,
			       "1 1 1\n2 violations: " HOSTILE_PY
			       ":7: event loop stalled 260.0 ms (budget "
			       "100.0 ms): blocking call clock_nanosleep in "
			       "block</script>()",
			       60),
		      "%s", py);
	ck_assert_msg(strstr(py, "bad.py:3: event loop stalled 130.0 ms"), "%s",
		      py);
	ck_assert_msg(strstr(py,
			     "\npython3 <img src=x onerror=alert(1)>.py \"q\" "
			     "'??[31m; </script><b>x\n"),
		      "%s", py);
	free(py);
	unlink(xmlpath);
}
END_TEST

Suite *sw_suite_report_writers(void)
{
	Suite *s = suite_create("report_writers");
	TCase *tc = tcase_create("writers");

	tcase_add_test(tc, folded_lines_parse);
	tcase_add_test(tc, html_is_inert_and_self_contained);
	tcase_add_test(tc, json_ascii_escapes);
	suite_add_tcase(s, tc);
	tc = tcase_create("gate");
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, gate_max_stall_names_file_line);
	tcase_add_test(tc, gate_within_budget_passes);
	tcase_add_test(tc, gate_allowlist);
	tcase_add_test(tc, gate_blocking_budgets);
	tcase_add_test(tc, gate_turn_below_threshold);
	tcase_add_test(tc, gate_usage_errors);
	tcase_add_test(tc, gate_junit_and_github);
	suite_add_tcase(s, tc);
	return s;
}
