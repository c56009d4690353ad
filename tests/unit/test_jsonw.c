/*
 * test_jsonw.c - JSON string escaping: quotes, backslashes, control
 * characters, invalid UTF-8; every output must parse with jansson.
 */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../analyzer/jsonw.h"
#include "../../analyzer/util.h"

static char *esc(const char *s, size_t len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	if (len == (size_t)-1)
		sw_json_str(f, s);
	else
		sw_json_strn(f, s, len);
	fclose(f);
	return buf;
}

static void check(const char *in, size_t len, const char *want)
{
	char *got = esc(in, len);

	ck_assert_str_eq(got, want);
	free(got);
}

START_TEST(test_basic)
{
	check("hello", -1, "\"hello\"");
	check("", -1, "\"\"");
	check(NULL, -1, "null");
	check("a\"b\\c/d", -1, "\"a\\\"b\\\\c/d\"");
	check("\n\r\t\b\f", -1, "\"\\n\\r\\t\\b\\f\"");
	check("\x01\x1b[31m\x7f", -1, "\"\\u0001\\u001b[31m\\u007f\"");
	check("a\0b", 3, "\"a\\u0000b\"");
	check("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", -1,
	      "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
	check("\xe2\x80\xa8", -1, "\"\\u2028\"");
}
END_TEST

START_TEST(test_invalid_utf8)
{
	check("\xff", -1, "\"\\ufffd\"");
	check("a\xc3", -1, "\"a\\ufffd\"");	     /* truncated */
	check("\xc0\xaf", -1, "\"\\ufffd\\ufffd\""); /* overlong '/' */
	check("\xed\xa0\x80", -1, "\"\\ufffd\\ufffd\\ufffd\""); /* surrogate */
	check("\xf4\x90\x80\x80", -1, "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	check("\x80x", -1, "\"\\ufffdx\"");
}
END_TEST

/* Every 1- to 3-byte string escapes to something jansson parses back. */
START_TEST(test_always_valid)
{
	unsigned a, b, c;
	char in[3];

	for (a = 0; a < 256; a++)
		for (b = 0; b < 256; b += 3)
			for (c = 0; c < 256; c += 17) {
				json_error_t err;
				json_t *v;
				char *out;

				in[0] = (char)a;
				in[1] = (char)b;
				in[2] = (char)c;
				out = esc(in, 3);
				v = json_loads(out,
					       JSON_DECODE_ANY | JSON_ALLOW_NUL,
					       &err);
				ck_assert_msg(v != NULL,
					      "%s does not parse: %s", out,
					      err.text);
				ck_assert(json_is_string(v));
				json_decref(v);
				free(out);
			}
}
END_TEST

START_TEST(test_terminal_safe)
{
	char *s = sw_strdup_safe("ok\x1b[2J\x07\xc2\x9b"
				 "31m\xff end");

	ck_assert_str_eq(s, "ok?[2J??31m? end");
	free(s);
	s = sw_strdup_safe("caf\xc3\xa9");
	ck_assert_str_eq(s, "caf\xc3\xa9");
	free(s);
}
END_TEST

START_TEST(test_human_durations)
{
	char b[32];

	ck_assert_str_eq(sw_fmt_duration(b, sizeof(b), 850), "850 ns");
	ck_assert_str_eq(sw_fmt_duration(b, sizeof(b), 1200000), "1.2 ms");
	ck_assert_str_eq(sw_fmt_duration(b, sizeof(b), 250000000), "250 ms");
	ck_assert_str_eq(sw_fmt_duration(b, sizeof(b), 1500000000), "1.5 s");
	ck_assert_str_eq(sw_fmt_duration(b, sizeof(b), 12000), "12 us");
}
END_TEST

Suite *sw_suite_jsonw(void)
{
	Suite *s = suite_create("jsonw");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_basic);
	tcase_add_test(tc, test_invalid_utf8);
	tcase_add_test(tc, test_always_valid);
	tcase_add_test(tc, test_terminal_safe);
	tcase_add_test(tc, test_human_durations);
	suite_add_tcase(s, tc);
	return s;
}
