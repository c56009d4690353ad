/*
 * test_perfmap.c - JIT perf maps: parsing, later lines winning, overlaps,
 * hostile input (analyzer/perfmap.c).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../analyzer/perfmap.h"

static char map_path[256];

static void write_map(const char *text)
{
	FILE *f;

	snprintf(map_path, sizeof(map_path), "/tmp/sw-test-perfmap.%d",
		 (int)getpid());
	f = fopen(map_path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void expect(const struct sw_perfmap *m, uint64_t addr, const char *want)
{
	const char *got = sw_perfmap_lookup(m, addr);

	if (!want)
		ck_assert_msg(!got, "0x%llx: got %s, want nothing",
			      (unsigned long long)addr, got);
	else
		ck_assert_msg(
		    got && !strcmp(got, want), "0x%llx: got %s, want %s",
		    (unsigned long long)addr, got ? got : "(null)", want);
}

START_TEST(later_lines_win)
{
	struct sw_perfmap *m;

	write_map("1000 100 A\n"
		  "1080 100 B\n" /* overlaps A's tail */
		  "2000 10 C\n"
		  "2000 10 D\n" /* same address, reused */
		  "3000 10 LazyCompile:*spin /tmp/x.js:3:14\n"
		  "4000 100 outer\n"
		  "4010 10 inner\n" /* later, inside outer */
		  "5010 10 inner2\n"
		  "5000 100 outer2\n"); /* later, covers inner2 */
	m = sw_perfmap_load(map_path);
	ck_assert_ptr_nonnull(m);
	expect(m, 0xfff, NULL);
	expect(m, 0x1000, "A");
	expect(m, 0x107f, "A");
	expect(m, 0x1080, "B");
	expect(m, 0x117f, "B");
	expect(m, 0x1180, NULL);
	expect(m, 0x2005, "D");
	expect(m, 0x3000, "LazyCompile:*spin /tmp/x.js:3:14");
	expect(m, 0x4005, "outer");
	expect(m, 0x4015, "inner");
	expect(m, 0x4050, "outer");
	expect(m, 0x5015, "outer2");
	expect(m, 0x50ff, "outer2");
	expect(m, 0x5100, NULL);
	sw_perfmap_free(m);
	unlink(map_path);
}
END_TEST

START_TEST(hostile_input)
{
	struct sw_perfmap *m;
	char *big = malloc(20000);
	size_t i;

	ck_assert_ptr_nonnull(big);
	strcpy(big, "zzz not a line\n"
		    "10 0 empty\n"
		    "ffffffffffffffff 10 wraps\n"
		    "12345678901234567 10 too many digits\n"
		    "20 10\n" /* no name */
		    "30 10 ok\n"
		    "40 ");
	for (i = strlen(big); i < 19000; i++)
		big[i] = 'x';
	strcpy(big + i, "\n50 10 after-long-line\n60 10 no-newline");
	write_map(big);
	free(big);
	m = sw_perfmap_load(map_path);
	ck_assert_ptr_nonnull(m);
	expect(m, 0x10, NULL);
	expect(m, 0x35, "ok");
	expect(m, 0x55, "after-long-line");
	expect(m, 0x65, "no-newline");
	sw_perfmap_free(m);
	unlink(map_path);
	ck_assert_ptr_null(sw_perfmap_load("/nonexistent/perf-1.map"));
	ck_assert_ptr_null(sw_perfmap_lookup(NULL, 0x10));
	sw_perfmap_free(NULL);
}
END_TEST

Suite *sw_suite_perfmap(void)
{
	Suite *s = suite_create("perfmap");
	TCase *tc = tcase_create("load");

	tcase_add_test(tc, later_lines_win);
	tcase_add_test(tc, hostile_input);
	suite_add_tcase(s, tc);
	return s;
}
