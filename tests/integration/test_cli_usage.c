/*
 * test_cli_usage.c - the `stallwatch` command's behaviour: --help everywhere,
 * exit codes, one-line errors, `run` status propagation and signal
 * forwarding, report output files.  Traces are built by hand where the
 * shim is not the point.
 */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../support.h"
#include "../unit/tracebuild.h"

#define SW sw_t_build("stallwatch")

static int count_lines(const char *s)
{
	int n = 0;

	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

START_TEST(test_help_everywhere)
{
	static const char *const args[] = {
	    "--help",	   "help",     "run --help",  "report --help",
	    "gate --help", "help run", "help report", "--version"};
	size_t i;

	for (i = 0; i < sizeof(args) / sizeof(args[0]); i++) {
		char *out = NULL;
		int rc = sw_t_sh(&out, "'%s' %s", SW, args[i]);

		ck_assert_msg(rc == 0, "stallwatch %s: rc %d: %s", args[i], rc,
			      out ? out : "");
		ck_assert_msg(out && strlen(out) > 10,
			      "stallwatch %s: no output", args[i]);
		free(out);
	}
}
END_TEST

START_TEST(test_usage_errors)
{
	char *out = NULL;

	ck_assert_int_eq(sw_t_sh(&out, "'%s' frobnicate", SW), 2);
	ck_assert_ptr_nonnull(strstr(out, "unknown command"));
	free(out);
	ck_assert_int_eq(sw_t_sh(NULL, "'%s' 2>/dev/null", SW), 2);
	ck_assert_int_eq(sw_t_sh(&out, "'%s' report", SW), 2);
	ck_assert_int_eq(count_lines(out), 1);
	free(out);
	ck_assert_int_eq(sw_t_sh(&out, "'%s' report --format xml .", SW), 2);
	ck_assert_int_eq(count_lines(out), 1);
	free(out);
	ck_assert_int_eq(sw_t_sh(&out, "'%s' report --bogus .", SW), 2);
	ck_assert_int_eq(count_lines(out), 1);
	free(out);
	ck_assert_int_eq(sw_t_sh(&out, "'%s' run", SW), 2);
	ck_assert_int_eq(count_lines(out), 1);
	free(out);
}
END_TEST

START_TEST(test_bad_duration)
{
	static const char *const opts[] = {
	    "--threshold 5parsecs", "--call-threshold -1ms",
	    "--sample-interval ''", "--threshold 2d"};
	size_t i;

	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		char *out = NULL;

		ck_assert_int_eq(
		    sw_t_sh(&out, "'%s' run %s -- true", SW, opts[i]), 2);
		ck_assert_msg(count_lines(out) == 1 && strstr(out, "duration"),
			      "%s: %s", opts[i], out);
		free(out);
	}
}
END_TEST

START_TEST(test_garbage_input)
{
	const char *dir = sw_t_tmpdir("cli_garbage");
	char *out = NULL;

	sw_t_sh(NULL, "printf 'GARBAGE GARBAGE GARBAGE' > '%s/junk.swtrace'",
		dir);
	ck_assert_int_eq(
	    sw_t_sh(&out, "'%s' report '%s/junk.swtrace'", SW, dir), 2);
	ck_assert_int_eq(count_lines(out), 1);
	ck_assert_ptr_nonnull(strstr(out, "junk.swtrace"));
	free(out);
	/* The same through the directory, and in JSON. */
	ck_assert_int_eq(
	    sw_t_sh(&out, "'%s' report --format json '%s'", SW, dir), 2);
	ck_assert_int_eq(count_lines(out), 1);
	free(out);
	ck_assert_int_eq(sw_t_sh(&out, "'%s' report /nonexistent/dir", SW), 2);
	ck_assert_int_eq(count_lines(out), 1);
	free(out);
	/* An empty file is not a trace either. */
	sw_t_sh(NULL, ": > '%s/empty.swtrace'", dir);
	ck_assert_int_eq(
	    sw_t_sh(&out, "'%s' report '%s/empty.swtrace'", SW, dir), 2);
	ck_assert_int_eq(count_lines(out), 1);
	free(out);
}
END_TEST

/* A trace full of hostile strings: JSON must parse, text must carry no
 * escape character. */
START_TEST(test_hostile_strings)
{
	static const char cmd[] = "evil\x1b]0;pwned\x07\0arg\xff";
	const char *dir = sw_t_tmpdir("cli_hostile");
	char path[4096], *out = NULL;
	struct sw_pyframe py = {7, 3, SW_PYF_ENTRY, 0};
	uint64_t ip = 0x1000;
	struct tb_ev e = {.kind = SW_EV_CALL,
			  .call = 1,
			  .tid = 9,
			  .loop_id = 1,
			  .turn_seq = 1,
			  .start_ns = 2000000000ull,
			  .duration_ns = 100000000,
			  .ips = &ip,
			  .nips = 1,
			  .py = &py,
			  .npy = 1};
	json_t *root;
	json_error_t err;

	{
		struct tb b;

		tb_begin(&b, 9, cmd, sizeof(cmd), "evil\x1b[2J");
		tb_loop(&b, 1, 9, 1000, "\x1b[31mred\xc2\x9b");
		tb_pycode(&b, 7, "fn\"<script>\x1b[2J\xc0", "/tmp/\x01\xfe.py",
			  1);
		tb_event(&b, &e);
		tb_stall(&b, 9, 1, 1, 2000000000ull, 150000000ull);
		snprintf(path, sizeof(path), "%s/evil.9.swtrace", dir);
		ck_assert_int_eq(tb_write(&b, path), 0);
		tb_free(&b);
	}
	ck_assert_int_eq(sw_t_sh(&out,
				 "'%s' report --format json '%s' 2>/dev/null",
				 SW, dir),
			 0);
	root = json_loads(out, 0, &err);
	ck_assert_msg(root != NULL, "JSON does not parse: %s", err.text);
	ck_assert_int_eq(json_integer_value(json_object_get(root, "version")),
			 1);
	json_decref(root);
	free(out);
	ck_assert_int_eq(
	    sw_t_sh(&out, "'%s' report --color never '%s'", SW, dir), 0);
	ck_assert_ptr_null(strchr(out, '\x1b'));
	ck_assert_ptr_null(strchr(out, '\x07'));
	ck_assert_ptr_null(strstr(out, "\xc2\x9b"));
	free(out);
}
END_TEST

START_TEST(test_output_file)
{
	const char *dir = sw_t_tmpdir("cli_out");
	char path[4096], *out = NULL;
	static const char cmd[] = "x";
	struct tb b;
	json_t *root;
	json_error_t err;

	tb_begin(&b, 3, cmd, sizeof(cmd), "x");
	tb_end(&b, 5);
	snprintf(path, sizeof(path), "%s/x.3.swtrace", dir);
	ck_assert_int_eq(tb_write(&b, path), 0);
	tb_free(&b);
	ck_assert_int_eq(sw_t_sh(&out,
				 "'%s' report -f json -o '%s/r.json' '%s' && "
				 "ls '%s'",
				 SW, dir, path, dir),
			 0);
	ck_assert_ptr_null(strstr(out, ".tmp")); /* no temporary left */
	free(out);
	snprintf(path, sizeof(path), "%s/r.json", dir);
	root = json_load_file(path, 0, &err);
	ck_assert_msg(root != NULL, "%s", err.text);
	ck_assert_int_eq(json_array_size(json_object_get(root, "processes")),
			 1);
	json_decref(root);
	/* An unwritable target: exit 2, nothing left behind. */
	ck_assert_int_eq(sw_t_sh(&out,
				 "'%s' report -o /nonexistent/dir/r.txt '%s'",
				 SW, dir),
			 2);
	ck_assert_int_eq(count_lines(out), 1);
	free(out);
}
END_TEST

START_TEST(test_run_status)
{
	const char *dir = sw_t_tmpdir("cli_run");
	char *out = NULL;

	ck_assert_int_eq(
	    sw_t_sh(NULL, "'%s' run -q -o '%s' -- sh -c 'exit 7'", SW, dir), 7);
	ck_assert_int_eq(sw_t_sh(NULL, "'%s' run -q -o '%s' -- true", SW, dir),
			 0);
	/* Killed by a signal: 128+N, as a shell reports it. */
	ck_assert_int_eq(sw_t_sh(NULL,
				 "'%s' run -q -o '%s' -- sh -c 'kill -TERM $$'",
				 SW, dir),
			 128 + 15);
	ck_assert_int_eq(sw_t_sh(&out,
				 "'%s' run -q -o '%s' -- no-such-command-xyz",
				 SW, dir),
			 127);
	ck_assert_int_eq(count_lines(out), 1);
	ck_assert_ptr_nonnull(strstr(out, "not found"));
	free(out);
	/* The environment the program sees. */
	ck_assert_int_eq(
	    sw_t_sh(&out,
		    "LD_PRELOAD=libm.so.6 '%s' run -q -o '%s' "
		    "--threshold 0.25s --strict --no-follow -- "
		    "sh -c 'echo \"P=$LD_PRELOAD T=$STALLWATCH_THRESHOLD "
		    "S=$STALLWATCH_STRICT F=$STALLWATCH_FOLLOW "
		    "R=$STALLWATCH_ROOT_PID O=$STALLWATCH_OUTPUT M=$$\"'",
		    SW, dir),
	    0);
	{
		/* The shim first, then what was there (STALLWATCH_SHIM may
		 * name another file when set for the test run). */
		const char *shim = getenv("STALLWATCH_SHIM");
		char want[4200];

		snprintf(want, sizeof(want), "P=%s:libm.so.6",
			 shim && *shim ? shim : "");
		if (shim && *shim)
			ck_assert_msg(strstr(out, want), "%s", out);
		else
			ck_assert_msg(strstr(out, "libstallwatch.so:libm.so.6"),
				      "%s", out);
	}
	ck_assert_msg(strstr(out, "T=250000000ns S=1 F=0"), "%s", out);
	ck_assert_msg(strstr(out, "O=/"), "%s", out);
	{
		const char *r = strstr(out, "R="), *m = strstr(out, "M=");

		ck_assert(r && m && atoi(r + 2) == atoi(m + 2) &&
			  atoi(r + 2) > 0);
	}
	free(out);
}
END_TEST

START_TEST(test_run_forwards_signals)
{
	const char *dir = sw_t_tmpdir("cli_sig");
	char *out = NULL;

	/* SIGTERM to stallwatch reaches the child, which dies of it. */
	ck_assert_int_eq(
	    sw_t_sh(&out,
		    "'%s' run -q -o '%s' -- sleep 10 & p=$!; "
		    "sleep 0.5; kill -TERM $p; wait $p; echo rc=$?",
		    SW, dir),
	    0);
	ck_assert_msg(strstr(out, "rc=143"), "%s", out);
	free(out);
	/* SIGHUP too; a child that handles the signal exits its own way. */
	ck_assert_int_eq(
	    sw_t_sh(&out,
		    "'%s' run -q -o '%s' -- sh -c "
		    "'trap \"exit 42\" HUP; sleep 10 & wait' & "
		    "p=$!; sleep 0.5; kill -HUP $p; wait $p; echo rc=$?",
		    SW, dir),
	    0);
	ck_assert_msg(strstr(out, "rc=42"), "%s", out);
	free(out);
}
END_TEST

Suite *sw_suite_cli_usage(void)
{
	Suite *s = suite_create("cli_usage");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_help_everywhere);
	tcase_add_test(tc, test_usage_errors);
	tcase_add_test(tc, test_bad_duration);
	tcase_add_test(tc, test_garbage_input);
	tcase_add_test(tc, test_hostile_strings);
	tcase_add_test(tc, test_output_file);
	tcase_add_test(tc, test_run_status);
	tcase_add_test(tc, test_run_forwards_signals);
	suite_add_tcase(s, tc);
	return s;
}
