/*
 * test_duration.c - durations as people write them (sw_duration.h).
 */
#include <check.h>
#include <stdint.h>

#include "../../include/sw_duration.h"

static uint64_t ok(const char *s)
{
	uint64_t v = 12345;

	ck_assert_msg(sw_parse_duration(s, &v) == 0, "'%s' should parse", s);
	return v;
}

static void bad(const char *s)
{
	uint64_t v = 777;

	ck_assert_msg(sw_parse_duration(s, &v) == -1, "'%s' should not parse",
		      s);
	ck_assert_uint_eq(v, 777);
}

START_TEST(test_units)
{
	ck_assert_uint_eq(ok("50ms"), 50000000ull);
	ck_assert_uint_eq(ok("0.05s"), 50000000ull);
	ck_assert_uint_eq(ok("500us"), 500000ull);
	ck_assert_uint_eq(ok("250ns"), 250ull);
	ck_assert_uint_eq(ok("2m"), 120000000000ull);
	ck_assert_uint_eq(ok("1s"), 1000000000ull);
	ck_assert_uint_eq(ok("1.5s"), 1500000000ull);
	ck_assert_uint_eq(ok("100"), 100000000ull); /* bare number: ms */
	ck_assert_uint_eq(ok(" 10ms "), 10000000ull);
	ck_assert_uint_eq(ok("0.000000001s"), 1ull);
	ck_assert_uint_eq(ok(".5s"), 500000000ull);
	ck_assert_uint_eq(ok("0"), 0ull);
	ck_assert_uint_eq(ok("1440m"), 86400000000000ull); /* one day */
}
END_TEST

START_TEST(test_rejects)
{
	bad(NULL);
	bad("");
	bad("ms");
	bad("-5ms");
	bad("5 parsecs");
	bad("5msx");
	bad("1.2.3s");
	bad("1441m"); /* more than a day */
	bad("99999999999999999999999s");
	bad("1e3ms");
	bad(".s");
}
END_TEST

Suite *sw_suite_duration(void)
{
	Suite *s = suite_create("duration");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_units);
	tcase_add_test(tc, test_rejects);
	suite_add_tcase(s, tc);
	return s;
}
