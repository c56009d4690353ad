/*
 * test_reader.c - trace format encode/decode: a clean file, a torn tail,
 * corruption in the middle, a record claiming a huge size, bad magic.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "../../analyzer/reader.h"
#include "tracebuild.h"

static void build_basic(struct tb *b)
{
	static const char cmd[] = "prog\0--flag\0x";
	struct sw_segment seg = {0x400000, 0x401000, 0, 5, 0};
	uint64_t ips[3] = {0x400100, 0x400200, 0x400300};
	uint64_t turns[4] = {1000, 2000, 3000, 60000000};
	struct tb_ev e = {.kind = SW_EV_CALL,
			  .call = 1,
			  .tid = 7,
			  .loop_id = 1,
			  .turn_seq = 5,
			  .start_ns = 2000000000ull,
			  .duration_ns = 60000000,
			  .ips = ips,
			  .nips = 3};

	tb_begin(b, 1234, cmd, sizeof(cmd), "prog");
	tb_module(b, "/bin/prog", 0, 0x400000, &seg, 1,
		  (const uint8_t *)"\1\2\3\4", 4, SW_MOD_MAIN);
	tb_loop(b, 1, 7, 1000000000ull, "main");
	tb_event(b, &e);
	tb_stall(b, 7, 1, 5, 1990000000ull, 80000000);
	tb_heartbeat(b, 1, 7, 1000000000ull, 3000000000ull, turns, 4, 60006000);
	tb_pycode(b, 9, "handler", "app.py", 10);
	tb_end(b, 3000000000ull);
}

START_TEST(test_roundtrip)
{
	struct tb b;
	struct sw_trace t;
	char err[256];

	build_basic(&b);
	ck_assert_int_eq(
	    sw_trace_parse(&t, b.buf, b.len, "x.swtrace", err, sizeof(err)), 0);
	ck_assert_uint_eq(t.proc.pid, 1234);
	ck_assert_str_eq(t.cmdline, "prog --flag x");
	ck_assert_str_eq(t.comm, "prog");
	ck_assert_str_eq(t.exe, "/bin/exe");
	ck_assert_uint_eq(t.nmodules, 1);
	ck_assert_str_eq(t.modules[0].path, "/bin/prog");
	ck_assert_uint_eq(t.modules[0].build_id_len, 4);
	ck_assert_uint_eq(t.modules[0].segments[0].end, 0x401000);
	ck_assert_uint_eq(t.nloops, 1);
	ck_assert_str_eq(t.loops[0].thread_name, "main");
	ck_assert(t.loops[0].has_heartbeat);
	ck_assert_uint_eq(t.loops[0].hb.turns, 4);
	ck_assert_uint_eq(t.nevents, 1);
	ck_assert_uint_eq(t.events[0].rec.nips, 3);
	ck_assert_uint_eq(t.events[0].ips[2], 0x400300);
	ck_assert_uint_eq(t.nstalls, 1);
	ck_assert_uint_eq(t.stalls[0].turn_seq, 5);
	ck_assert_uint_eq(t.pycodes.n, 1);
	ck_assert_str_eq(t.pycodes.v[0].file, "app.py");
	ck_assert(t.has_end);
	ck_assert_uint_eq(t.torn_bytes, 0);
	ck_assert_uint_eq(t.nproblems, 0);
	ck_assert_uint_eq(t.records, 8);
	sw_trace_free(&t);
	tb_free(&b);
}
END_TEST

START_TEST(test_torn_tail)
{
	struct tb b;
	struct sw_trace t;
	char err[256];
	size_t full, cut;

	build_basic(&b);
	full = b.len;
	/* Tear the end record (24 bytes) in the middle, and also check a
	 * tail shorter than a record header. */
	for (cut = 1; cut < sizeof(struct sw_rec_end); cut++) {
		ck_assert_int_eq(sw_trace_parse(&t, b.buf, full - cut, "x", err,
						sizeof(err)),
				 0);
		ck_assert_uint_eq(t.nevents, 1);
		ck_assert_uint_eq(t.nstalls, 1);
		ck_assert(!t.has_end);
		ck_assert_uint_eq(t.torn_bytes,
				  sizeof(struct sw_rec_end) - cut);
		ck_assert_uint_eq(t.nproblems, 1);
		ck_assert_ptr_nonnull(strstr(t.problems[0], "torn"));
		sw_trace_free(&t);
	}
	tb_free(&b);
}
END_TEST

/* Offset of the n-th record (0 = process record). */
static size_t rec_offset(const struct tb *b, int n)
{
	size_t off = sizeof(struct sw_preamble);
	struct sw_rec_hdr h;

	while (n-- > 0) {
		memcpy(&h, b->buf + off, sizeof(h));
		off += h.size;
	}
	return off;
}

START_TEST(test_corrupt_middle)
{
	struct tb b;
	struct sw_trace t;
	struct sw_rec_event e;
	char err[256];
	size_t off;

	build_basic(&b);
	/* The event is record 3: claim more ips than the record holds. */
	off = rec_offset(&b, 3);
	memcpy(&e, b.buf + off, sizeof(e));
	ck_assert_uint_eq(e.h.type, SW_REC_EVENT);
	e.nips = 200;
	memcpy(b.buf + off, &e, sizeof(e));
	ck_assert_int_eq(
	    sw_trace_parse(&t, b.buf, b.len, "x", err, sizeof(err)), 0);
	ck_assert(t.corrupt);
	ck_assert_uint_eq(t.corrupt_at, off);
	ck_assert_uint_eq(t.nmodules, 1); /* kept what came before */
	ck_assert_uint_eq(t.nloops, 1);
	ck_assert_uint_eq(t.nevents, 0);
	ck_assert_uint_eq(t.nstalls, 0);
	ck_assert_ptr_nonnull(strstr(t.problems[0], "corrupt"));
	sw_trace_free(&t);
	tb_free(&b);
}
END_TEST

START_TEST(test_huge_size)
{
	struct tb b;
	struct sw_trace t;
	struct sw_rec_hdr h;
	char err[256];
	size_t off;

	build_basic(&b);
	off = rec_offset(&b, 2);
	memcpy(&h, b.buf + off, sizeof(h));
	h.size = 0xfffffff0u;
	memcpy(b.buf + off, &h, sizeof(h));
	ck_assert_int_eq(
	    sw_trace_parse(&t, b.buf, b.len, "x", err, sizeof(err)), 0);
	ck_assert(t.corrupt);
	ck_assert_uint_eq(t.nmodules, 1);
	ck_assert_uint_eq(t.nloops, 0);
	sw_trace_free(&t);

	/* A size within the limit but beyond the file, in the middle of a
	 * file, reads as a torn tail: nothing is allocated for it. */
	h.size = SW_REC_MAX_SIZE;
	memcpy(b.buf + off, &h, sizeof(h));
	ck_assert_int_eq(
	    sw_trace_parse(&t, b.buf, b.len, "x", err, sizeof(err)), 0);
	ck_assert_uint_eq(t.torn_bytes, b.len - off);
	sw_trace_free(&t);

	/* A heartbeat with the wrong bucket count is corruption. */
	tb_free(&b);
}
END_TEST

START_TEST(test_bad_counts)
{
	struct tb b;
	struct sw_trace t;
	struct sw_rec_module m;
	struct sw_rec_hdr h;
	char err[256];
	size_t off;

	build_basic(&b);
	off = rec_offset(&b, 1);
	memcpy(&m, b.buf + off, sizeof(m));
	m.nsegments = 65;
	memcpy(b.buf + off, &m, sizeof(m));
	ck_assert_int_eq(
	    sw_trace_parse(&t, b.buf, b.len, "x", err, sizeof(err)), 0);
	ck_assert(t.corrupt);
	ck_assert_uint_eq(t.nmodules, 0);
	sw_trace_free(&t);
	tb_free(&b);

	/* Unknown record types are skipped, reading goes on. */
	build_basic(&b);
	off = rec_offset(&b, 2);
	memcpy(&h, b.buf + off, sizeof(h));
	h.type = 999;
	memcpy(b.buf + off, &h, sizeof(h));
	ck_assert_int_eq(
	    sw_trace_parse(&t, b.buf, b.len, "x", err, sizeof(err)), 0);
	ck_assert(!t.corrupt);
	ck_assert_uint_eq(t.skipped, 2); /* the loop, and its heartbeat */
	ck_assert_uint_eq(t.nloops, 0);
	ck_assert_uint_eq(t.nevents, 1);
	ck_assert(t.has_end);
	sw_trace_free(&t);
	tb_free(&b);
}
END_TEST

START_TEST(test_not_a_trace)
{
	struct tb b;
	struct sw_trace t;
	char err[256];
	uint32_t v = 2;

	ck_assert_int_eq(sw_trace_parse(&t, "hello world, not a trace", 24, "x",
					err, sizeof(err)),
			 -1);
	ck_assert_ptr_nonnull(strstr(err, "magic"));
	sw_trace_free(&t);
	ck_assert_int_eq(sw_trace_parse(&t, "", 0, "x", err, sizeof(err)), -1);
	sw_trace_free(&t);

	build_basic(&b);
	memcpy(b.buf + 8, &v, 4);
	ck_assert_int_eq(
	    sw_trace_parse(&t, b.buf, b.len, "x", err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "version"));
	sw_trace_free(&t);
	/* Only a preamble. */
	ck_assert_int_eq(sw_trace_parse(&t, b.buf, sizeof(struct sw_preamble),
					"x", err, sizeof(err)),
			 -1);
	sw_trace_free(&t);
	tb_free(&b);
}
END_TEST

/* Every prefix and many single-byte corruptions of a valid trace parse
 * without crashing (the fuzzer's job in depth; this is the smoke test). */
START_TEST(test_mutations)
{
	struct tb b;
	struct sw_trace t;
	char err[256];
	size_t i;
	unsigned seed = 12345;

	build_basic(&b);
	for (i = 0; i <= b.len; i++) {
		sw_trace_parse(&t, b.buf, i, "x", err, sizeof(err));
		sw_trace_free(&t);
	}
	for (i = 0; i < 20000; i++) {
		uint8_t *copy = malloc(b.len);
		size_t pos;

		memcpy(copy, b.buf, b.len);
		seed = seed * 1103515245u + 12345u;
		pos = 16 + (seed >> 8) % (b.len - 16);
		copy[pos] = (uint8_t)(seed >> 3);
		sw_trace_parse(&t, copy, b.len, "x", err, sizeof(err));
		sw_trace_free(&t);
		free(copy);
	}
	tb_free(&b);
}
END_TEST

Suite *sw_suite_reader(void)
{
	Suite *s = suite_create("reader");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_torn_tail);
	tcase_add_test(tc, test_corrupt_middle);
	tcase_add_test(tc, test_huge_size);
	tcase_add_test(tc, test_bad_counts);
	tcase_add_test(tc, test_not_a_trace);
	tcase_add_test(tc, test_mutations);
	suite_add_tcase(s, tc);
	return s;
}
