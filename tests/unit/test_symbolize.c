/*
 * test_symbolize.c - symbolization of tests/progs/symtest: the program
 * prints its module map and addresses whose functions and lines it knows;
 * a trace is built from them and the symbolizer must name them exactly.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../analyzer/reader.h"
#include "../../analyzer/symbolize.h"
#include "../support.h"
#include "tracebuild.h"

struct known {
	uint64_t addr;
	int line, call_line;
	char func[128], outer[128];
	int is_pc;
};

struct symtest {
	char path[4096];
	uint64_t bias, base;
	uint8_t id[64];
	uint16_t idlen;
	struct sw_segment segs[16];
	uint32_t nsegs;
	struct known k[8];
	int nk;
};

static void run_symtest(struct symtest *st)
{
	char *out = NULL, *line, *save = NULL, idhex[200];
	int rc;

	memset(st, 0, sizeof(*st));
	rc = sw_t_sh(&out, "'%s'", sw_t_build("tests/progs/symtest"));
	ck_assert_msg(rc == 0 && out, "symtest failed to run (rc %d)", rc);
	for (line = strtok_r(out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned long long a, b, c;
		unsigned prot;
		struct known *k = &st->k[st->nk];

		if (sscanf(line, "module %4095s %llx %llx %199s", st->path, &a,
			   &b, idhex) >= 3) {
			size_t i;

			st->bias = a;
			st->base = b;
			for (i = 0; idhex[2 * i] && idhex[2 * i + 1] && i < 64;
			     i++) {
				unsigned v;

				sscanf(idhex + 2 * i, "%2x", &v);
				st->id[i] = (uint8_t)v;
			}
			st->idlen = (uint16_t)i;
		} else if (sscanf(line, "seg %llx %llx %llx %u", &a, &b, &c,
				  &prot) == 4 &&
			   st->nsegs < 16) {
			st->segs[st->nsegs++] =
			    (struct sw_segment){a, b, c, prot, 0};
		} else if (st->nk < 8 &&
			   sscanf(line, "ret %llx %d %127s %127s %d", &a,
				  &k->line, k->func, k->outer,
				  &k->call_line) >= 3) {
			k->addr = a;
			st->nk++;
		} else if (st->nk < 8 &&
			   sscanf(line, "pc %llx %127s", &a, k->func) == 2) {
			k->addr = a;
			k->is_pc = 1;
			st->nk++;
		}
	}
	free(out);
	ck_assert_uint_gt(st->nsegs, 0);
	ck_assert_int_eq(st->nk, 4);
}

static void parse_trace(const struct symtest *st, struct sw_trace *t,
			int bad_id)
{
	static const char cmd[] = "symtest";
	uint8_t id[64];
	char err[256];
	struct tb b;

	memcpy(id, st->id, sizeof(id));
	if (bad_id)
		id[0] ^= 0xff;
	tb_begin(&b, 42, cmd, sizeof(cmd), "symtest");
	tb_module(&b, st->path, st->bias, st->base, st->segs, st->nsegs, id,
		  st->idlen, SW_MOD_MAIN);
	ck_assert_int_eq(sw_trace_parse(t, b.buf, b.len, "symtest.swtrace", err,
					sizeof(err)),
			 0);
	tb_free(&b);
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = s ? strlen(s) : 0, m = strlen(suffix);

	return s && n >= m && !strcmp(s + n - m, suffix);
}

START_TEST(test_functions_and_lines)
{
	struct symtest st;
	struct sw_trace t;
	struct sw_symbolizer *sym;
	const struct sw_frame *f;
	size_t n;
	int i;

	run_symtest(&st);
	parse_trace(&st, &t, 0);
	sym = sw_sym_open(&t, 0, NULL);
	for (i = 0; i < st.nk; i++) {
		const struct known *k = &st.k[i];

		n = sw_sym_addr(sym, k->addr, k->is_pc, &f);
		ck_assert_uint_ge(n, 1);
		if (k->outer[0]) {
			/* A return address inside an inlined function: the
			 * inlined frame first, then its caller at the call. */
			ck_assert_uint_eq(n, 2);
			ck_assert_str_eq(f[0].function, k->func);
			ck_assert(f[0].inlined);
			ck_assert_int_eq(f[0].line, k->line);
			ck_assert_str_eq(f[1].function, k->outer);
			ck_assert(!f[1].inlined);
			ck_assert_int_eq(f[1].line, k->call_line);
			ck_assert(
			    ends_with(f[1].file, "tests/progs/symtest.c"));
		} else {
			ck_assert_uint_eq(n, 1);
			ck_assert_str_eq(f[0].function, k->func);
			ck_assert(
			    ends_with(f[0].file, "tests/progs/symtest.c"));
			if (!k->is_pc)
				ck_assert_int_eq(f[0].line, k->line);
		}
		ck_assert_str_eq(f[0].module, st.path);
		ck_assert_uint_eq(f[0].rel_addr, k->addr - st.base);
	}
	/* An interrupted PC at a function's entry is that function; read as
	 * a return address (minus one) it would be the function before. */
	n = sw_sym_addr(sym, st.k[2].addr, 0, &f);
	ck_assert(f[n - 1].function == NULL ||
		  strcmp(f[n - 1].function, st.k[2].func) != 0);
	ck_assert_uint_eq(sw_sym_notes(sym, &(char *const *){NULL}), 0);
	sw_sym_close(sym);
	sw_trace_free(&t);
}
END_TEST

START_TEST(test_build_id_mismatch)
{
	struct symtest st;
	struct sw_trace t;
	struct sw_symbolizer *sym;
	const struct sw_frame *f;
	char *const *notes;
	size_t n;

	run_symtest(&st);
	parse_trace(&st, &t, 1);
	sym = sw_sym_open(&t, 0, NULL);
	n = sw_sym_addr(sym, st.k[0].addr, 0, &f);
	ck_assert_uint_eq(n, 1);
	ck_assert_ptr_null(f[0].function);
	ck_assert_str_eq(f[0].module, st.path);
	ck_assert_uint_eq(sw_sym_notes(sym, &notes), 1);
	ck_assert_ptr_nonnull(strstr(notes[0], "build-id"));
	sw_sym_close(sym);
	sw_trace_free(&t);
}
END_TEST

START_TEST(test_no_symbols_and_unknown)
{
	struct symtest st;
	struct sw_trace t;
	struct sw_symbolizer *sym;
	const struct sw_frame *f;

	run_symtest(&st);
	parse_trace(&st, &t, 0);
	sym = sw_sym_open(&t, 1, NULL);
	ck_assert_uint_eq(sw_sym_addr(sym, st.k[0].addr, 0, &f), 1);
	ck_assert_ptr_null(f[0].function);
	ck_assert_str_eq(f[0].module, st.path);
	/* An address in no module. */
	ck_assert_uint_eq(sw_sym_addr(sym, 0x1234, 0, &f), 1);
	ck_assert_ptr_null(f[0].module);
	ck_assert_uint_eq(f[0].addr, 0x1234);
	sw_sym_close(sym);
	sw_trace_free(&t);
}
END_TEST

START_TEST(test_demangle)
{
	char *d = sw_demangle("_ZN2ns5Klass6methodEi");

	ck_assert_str_eq(d, "ns::Klass::method(int)");
	free(d);
	ck_assert_ptr_null(sw_demangle("main"));
	ck_assert_ptr_null(sw_demangle("_Zgarbage!"));
	ck_assert_ptr_null(sw_demangle(NULL));
}
END_TEST

Suite *sw_suite_symbolize(void)
{
	Suite *s = suite_create("symbolize");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_functions_and_lines);
	tcase_add_test(tc, test_build_id_mismatch);
	tcase_add_test(tc, test_no_symbols_and_unknown);
	tcase_add_test(tc, test_demangle);
	suite_add_tcase(s, tc);
	return s;
}
