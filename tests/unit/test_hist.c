/*
 * test_hist.c - the turn-length histogram (sw_hist.h) and the
 * percentiles the analyzer reads from it.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../analyzer/model.h"
#include "../../include/sw_hist.h"
#include "../support.h"
#include "tracebuild.h"

START_TEST(test_buckets_cover)
{
	uint64_t v;
	unsigned i, prev = 0;

	/* Every value lands in a bucket whose bounds hold it; buckets are
	 * ordered; resolution is 12.5%. */
	for (i = 0; i < SW_HIST_BUCKETS - 1; i++) {
		ck_assert_uint_le(sw_hist_lower(i), sw_hist_upper(i));
		ck_assert_uint_eq(sw_hist_upper(i) + 1, sw_hist_lower(i + 1));
		ck_assert_uint_eq(sw_hist_index(sw_hist_lower(i)), i);
		ck_assert_uint_eq(sw_hist_index(sw_hist_upper(i)), i);
	}
	for (v = 1; v < (1ull << 47); v = v * 3 + 1) {
		unsigned idx = sw_hist_index(v);

		ck_assert_uint_ge(idx, prev);
		prev = idx;
		ck_assert_uint_le(sw_hist_lower(idx), v);
		ck_assert_uint_ge(sw_hist_upper(idx), v);
		if (v >= 8)
			ck_assert(sw_hist_upper(idx) - sw_hist_lower(idx) <=
				  v / 8 + 1);
	}
	ck_assert_uint_eq(sw_hist_index(UINT64_MAX), SW_HIST_BUCKETS - 1);
}
END_TEST

static struct sw_loop *load_loop(const uint64_t *turns, size_t n,
				 struct sw_report *rep)
{
	static const char cmd[] = "x";
	const char *dir = sw_t_tmpdir("hist");
	char path[4096], *paths[1] = {path};
	struct sw_load_opts o = {.no_symbols = 1, .quiet = 1};
	struct tb b;

	tb_begin(&b, 5, cmd, sizeof(cmd), "x");
	tb_loop(&b, 1, 5, 1000, "x");
	tb_heartbeat(&b, 1, 5, 1000, 1000 + 4000000000ull, turns, n,
		     1000000000ull);
	snprintf(path, sizeof(path), "%s/x.5.swtrace", dir);
	ck_assert_int_eq(tb_write(&b, path), 0);
	tb_free(&b);
	ck_assert_int_eq(sw_report_load(rep, paths, 1, &o), 0);
	ck_assert_uint_eq(rep->nprocesses, 1);
	ck_assert_uint_eq(rep->processes[0].nloops, 1);
	return &rep->processes[0].loops[0];
}

START_TEST(test_percentiles)
{
	uint64_t *turns = calloc(1000, sizeof(*turns));
	struct sw_report rep;
	struct sw_loop *l;
	size_t i;

	/* 1000 turns: 1 us .. 1000 us.  p50 ~ 500 us, p99 ~ 990 us, each
	 * within the bucket resolution (12.5%) and never below the truth. */
	for (i = 0; i < 1000; i++)
		turns[i] = (i + 1) * 1000;
	l = load_loop(turns, 1000, &rep);
	ck_assert_uint_eq(l->turns, 1000);
	ck_assert_uint_ge(l->lag_p50_ns, 500000);
	ck_assert_uint_le(l->lag_p50_ns, 500000 * 1.125);
	ck_assert_uint_ge(l->lag_p99_ns, 990000);
	ck_assert_uint_le(l->lag_p99_ns, 1000000); /* capped by the max */
	ck_assert_uint_eq(l->lag_max_ns, 1000000);
	ck_assert(l->utilisation > 0.2499 && l->utilisation < 0.2501);
	sw_report_free(&rep);

	/* One long turn among many short ones: p50 short, p99 short, max
	 * long. */
	for (i = 0; i < 1000; i++)
		turns[i] = i == 500 ? 300000000 : 20000;
	l = load_loop(turns, 1000, &rep);
	ck_assert_uint_le(l->lag_p50_ns, 20000 * 1.125);
	ck_assert_uint_le(l->lag_p99_ns, 20000 * 1.125);
	ck_assert_uint_eq(l->lag_max_ns, 300000000);
	sw_report_free(&rep);

	/* A single turn: every percentile is that turn (capped by max). */
	turns[0] = 123456789;
	l = load_loop(turns, 1, &rep);
	ck_assert_uint_eq(l->lag_p50_ns, 123456789);
	ck_assert_uint_eq(l->lag_p99_ns, 123456789);
	sw_report_free(&rep);
	free(turns);
}
END_TEST

Suite *sw_suite_hist(void)
{
	Suite *s = suite_create("hist");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_buckets_cover);
	tcase_add_test(tc, test_percentiles);
	suite_add_tcase(s, tc);
	return s;
}
