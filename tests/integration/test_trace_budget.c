/*
 * test_trace_budget.c - STALLWATCH_MAX_SIZE caps what one process writes
 * (doc/design.md, "The disk budget").  A loop that stalls on every turn,
 * sampled every millisecond, writes far more than a 256 KiB budget: the
 * trace rotates to `<file>.1`, the two files stay under the budget, the
 * newest data survive (the loop's final heartbeat with every turn, the
 * end record), each file stands alone, and the newest one says what was
 * dropped.
 */
#include <check.h>
#include <glob.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../include/sw_trace.h"
#include "../support.h"

#define SW	   sw_t_build("stallwatch")
#define PROG(name) sw_t_build("tests/progs/" name)
#define BUDGET	   (256 * 1024)

struct scan {
	int process_first, modules, loops, dropped_recs, ends;
	struct sw_rec_dropped dropped;
};

/* Walk one trace file's records. */
static void scan_file(const char *path, struct scan *sc)
{
	size_t len = 0, off = sizeof(struct sw_preamble);
	char *data = sw_t_slurp(path, &len);

	memset(sc, 0, sizeof(*sc));
	ck_assert_ptr_nonnull(data);
	ck_assert_int_ge(len, sizeof(struct sw_preamble));
	ck_assert_int_eq(memcmp(data, SW_TRACE_MAGIC, 8), 0);
	while (off + sizeof(struct sw_rec_hdr) <= len) {
		struct sw_rec_hdr h;

		memcpy(&h, data + off, sizeof(h));
		if (h.size < sizeof(h) || off + h.size > len)
			break;
		if (off == sizeof(struct sw_preamble))
			sc->process_first = h.type == SW_REC_PROCESS;
		sc->modules += h.type == SW_REC_MODULE;
		sc->loops += h.type == SW_REC_LOOP;
		sc->ends += h.type == SW_REC_END;
		if (h.type == SW_REC_DROPPED && h.size >= sizeof(sc->dropped)) {
			sc->dropped_recs++;
			memcpy(&sc->dropped, data + off, sizeof(sc->dropped));
		}
		off += h.size;
	}
	free(data);
}

START_TEST(test_flooding_loop_stays_under_budget)
{
	const char *dir = sw_t_tmpdir("budget");
	char pattern[4200], *out = NULL;
	struct scan cur, old;
	glob_t g;
	size_t i;
	long long total = 0;
	struct stat st;
	json_t *rep, *loop;
	int rc;

	rc = sw_t_sh(&out,
		     "STALLWATCH_MAX_SIZE=256K STALLWATCH_SAMPLE_INTERVAL=1ms "
		     "STALLWATCH_THRESHOLD=1ms '%s' run -q -o '%s' -- '%s' "
		     "400 20 2000 100",
		     SW, dir, PROG("raw_sleeps"));
	ck_assert_msg(rc == 0, "%s", out ? out : "");
	free(out);
	/* Two files, together under the budget (a record of slack). */
	/* the run's own directory inside dir */
	snprintf(pattern, sizeof(pattern), "%s/*/raw_sleeps.*", dir);
	ck_assert_int_eq(glob(pattern, 0, NULL, &g), 0);
	ck_assert_int_eq(g.gl_pathc, 2);
	for (i = 0; i < g.gl_pathc; i++) {
		ck_assert_int_eq(stat(g.gl_pathv[i], &st), 0);
		total += st.st_size;
	}
	fprintf(stderr, "budget: %lld bytes kept of a %d budget\n", total,
		BUDGET);
	ck_assert_int_le(total, BUDGET + 8192);
	ck_assert_int_ge(total, BUDGET / 2);
	/* Sorted: "….swtrace" before "….swtrace.1". */
	ck_assert_ptr_nonnull(strstr(g.gl_pathv[1], ".swtrace.1"));
	scan_file(g.gl_pathv[0], &cur);
	scan_file(g.gl_pathv[1], &old);
	globfree(&g);
	/* Each file stands alone: process record first, modules, loop. */
	ck_assert(cur.process_first && old.process_first);
	ck_assert_int_ge(cur.modules, 1);
	ck_assert_int_eq(cur.modules, old.modules);
	ck_assert_int_ge(cur.loops, 1);
	ck_assert_int_ge(old.loops, 1);
	/* The newest file has the end; it says what was dropped, and when. */
	ck_assert_int_eq(cur.ends, 1);
	ck_assert_int_eq(old.ends, 0);
	ck_assert_int_eq(cur.dropped_recs, 1);
	ck_assert_int_ge(cur.dropped.rotations, 2);
	ck_assert_int_gt(cur.dropped.bytes, 0);
	ck_assert_int_gt(cur.dropped.last_dropped_ns,
			 cur.dropped.first_dropped_ns);
	ck_assert_int_ge(cur.dropped.time_ns, cur.dropped.last_dropped_ns);
	/* The newest data survived: the final heartbeat counts every turn. */
	rep = sw_t_report(dir, NULL);
	ck_assert_ptr_nonnull(rep);
	loop = json_array_get(
	    json_object_get(
		json_array_get(json_object_get(rep, "processes"), 0), "loops"),
	    0);
	ck_assert_ptr_nonnull(loop);
	ck_assert_int_eq(json_integer_value(json_object_get(loop, "turns")),
			 399);
	json_decref(rep);
}
END_TEST

START_TEST(test_small_trace_is_not_rotated)
{
	const char *dir = sw_t_tmpdir("budget-small");
	char pattern[4200];
	glob_t g;

	ck_assert_int_eq(sw_t_sh(NULL,
				 "STALLWATCH_MAX_SIZE=256K '%s' run -q -o '%s' "
				 "-- '%s' 3 5 1000 100",
				 SW, dir, PROG("raw_sleeps")),
			 0);
	/* the run's own directory inside dir */
	snprintf(pattern, sizeof(pattern), "%s/*/raw_sleeps.*", dir);
	ck_assert_int_eq(glob(pattern, 0, NULL, &g), 0);
	ck_assert_int_eq(g.gl_pathc, 1);
	globfree(&g);
}
END_TEST

Suite *sw_suite_trace_budget(void)
{
	Suite *s = suite_create("trace_budget");
	TCase *tc = tcase_create("rotation");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_flooding_loop_stays_under_budget);
	tcase_add_test(tc, test_small_trace_is_not_rotated);
	suite_add_tcase(s, tc);
	return s;
}
