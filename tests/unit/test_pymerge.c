/*
 * test_pymerge.c - Python frames placed among native frames (pymerge.c).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "../../analyzer/pymerge.h"

static char *codes_names[] = {NULL,	     "handler", "main",
			      "Handle._run", "run",	"<module>"};
static struct sw_pycode code_v[5];
static struct sw_pycodes codes = {code_v, 5, 5};

static void setup_codes(void)
{
	uint32_t i;

	for (i = 0; i < 5; i++) {
		code_v[i].code_id = i + 1;
		code_v[i].first_line = 1;
		code_v[i].name = codes_names[i + 1];
		code_v[i].file = "/app/x.py";
	}
}

static struct sw_frame nat(const char *fn, const char *module)
{
	struct sw_frame f;

	memset(&f, 0, sizeof(f));
	f.lang = SW_LANG_NATIVE;
	f.function = (char *)fn;
	f.module = (char *)module;
	f.addr = 0x1000;
	return f;
}

static struct sw_pyframe pyf(uint32_t id, int line, int entry)
{
	struct sw_pyframe p = {id, line, entry ? SW_PYF_ENTRY : 0, 0};

	return p;
}

static void free_out(struct sw_frame *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].function);
		free(v[i].file);
		free(v[i].module);
	}
	free(v);
}

/* Expect out[i] to be function want[i]; "py:NAME" for a Python frame. */
static void expect(const struct sw_frame *out, size_t n,
		   const char *const *want, size_t nwant)
{
	size_t i;

	ck_assert_uint_eq(n, nwant);
	for (i = 0; i < n; i++) {
		const char *w = want[i];
		int is_py = !strncmp(w, "py:", 3);

		ck_assert_msg(out[i].lang ==
				  (is_py ? SW_LANG_PYTHON : SW_LANG_NATIVE),
			      "frame %zu: lang %d, want %s", i, out[i].lang, w);
		if (is_py)
			w += 3;
		ck_assert_msg(out[i].function && !strcmp(out[i].function, w),
			      "frame %zu: %s, want %s", i,
			      out[i].function ? out[i].function : "(null)", w);
	}
}

START_TEST(eval_names)
{
	ck_assert(sw_is_eval_function("_PyEval_EvalFrameDefault"));
	ck_assert(sw_is_eval_function("_PyEval_EvalFrameDefault.cold"));
	ck_assert(!sw_is_eval_function("_PyEval_EvalFrameDefaultX"));
	ck_assert(!sw_is_eval_function("_PyEval_EvalFrame"));
	ck_assert(!sw_is_eval_function("PyEval_EvalCode"));
	ck_assert(!sw_is_eval_function(NULL));
}
END_TEST

/* 3.11+: one eval frame runs several Python frames (inlined calls). */
START_TEST(merge_interpreter_frames)
{
	struct sw_frame native[] = {
	    nat("clock_nanosleep", "/lib/x86_64-linux-gnu/libc.so.6"),
	    nat("pysleep", "/usr/bin/python3"),
	    nat("time_sleep", "/usr/bin/python3"),
	    nat("_PyEval_EvalFrameDefault", "/usr/bin/python3"),
	    nat("task_step", "/usr/lib/_asyncio.so"),
	    nat("_PyEval_EvalFrameDefault", "/usr/bin/python3"),
	    nat("Py_RunMain", "/usr/bin/python3"),
	};
	struct sw_pyframe py[] = {pyf(1, 5, 0), pyf(2, 8, 1), pyf(3, 80, 0),
				  pyf(5, 9, 1)};
	static const char *const want[] = {
	    "clock_nanosleep", "pysleep",     "time_sleep",
	    "py:handler",      "py:main",     "task_step",
	    "py:Handle._run",  "py:<module>", "Py_RunMain",
	};
	struct sw_frame *out;
	size_t n;
	int unplaced = -1;

	setup_codes();
	ck_assert_int_eq(
	    sw_pymerge(native, 7, py, 4, &codes, &out, &n, &unplaced), 0);
	expect(out, n, want, 9);
	ck_assert_int_eq(unplaced, 0);
	ck_assert_str_eq(out[3].file, "/app/x.py");
	ck_assert_int_eq(out[3].line, 5);
	ck_assert_ptr_null(out[3].module);
	ck_assert_str_eq(out[0].module, "/lib/x86_64-linux-gnu/libc.so.6");
	ck_assert_ptr_ne(out[0].function, native[0].function); /* copies */
	free_out(out, n);
}
END_TEST

/* 3.9/3.10: every frame is an entry frame, one per eval call. */
START_TEST(merge_frame_objects)
{
	struct sw_frame native[] = {
	    nat("select", "/lib/x86_64-linux-gnu/libc.so.6"),
	    nat("_PyEval_EvalFrameDefault", "libpython3.9.so.1.0"),
	    nat("function_code_fastcall", "libpython3.9.so.1.0"),
	    nat("_PyEval_EvalFrameDefault", "libpython3.9.so.1.0"),
	    nat("_PyEval_EvalFrameDefault", "libpython3.9.so.1.0"),
	    nat("main", "python3.9"),
	};
	struct sw_pyframe py[] = {pyf(1, 5, 1), pyf(2, 8, 1), pyf(5, 9, 1)};
	static const char *const want[] = {
	    "select",  "py:handler",  "function_code_fastcall",
	    "py:main", "py:<module>", "main"};
	struct sw_frame *out;
	size_t n;
	int unplaced;

	setup_codes();
	ck_assert_int_eq(
	    sw_pymerge(native, 6, py, 3, &codes, &out, &n, &unplaced), 0);
	expect(out, n, want, 6);
	free_out(out, n);
}
END_TEST

/* No interpreter symbols: just outside the shim/libc frames, flagged. */
START_TEST(merge_unplaced)
{
	struct sw_frame native[] = {
	    nat("sw_wrap", "/build/libstallwatch.so"),
	    nat("clock_nanosleep", "/lib/x86_64-linux-gnu/libc.so.6"),
	    nat(NULL, "/usr/bin/python3"),
	    nat(NULL, "/usr/bin/python3"),
	};
	struct sw_pyframe py[] = {pyf(1, 5, 1), pyf(2, 8, 1)};
	static const char *const want[] = {"sw_wrap", "clock_nanosleep",
					   "py:handler", "py:main"};
	struct sw_frame *out;
	size_t n;
	int unplaced = 0;

	setup_codes();
	ck_assert_int_eq(
	    sw_pymerge(native, 4, py, 2, &codes, &out, &n, &unplaced), 0);
	ck_assert_uint_eq(n, 6);
	expect(out, 4, want, 4);
	ck_assert_ptr_null(out[4].function);
	ck_assert_int_eq(unplaced, 1);
	free_out(out, n);
}
END_TEST

/* More eval frames than Python runs stay native; a truncated native stack
 * gets the remaining (outer) Python frames at its end; unknown ids and
 * lines degrade, never crash. */
START_TEST(merge_edges)
{
	struct sw_frame native[] = {
	    nat("_PyEval_EvalFrameDefault", "python"),
	    nat("_PyEval_EvalFrameDefault", "python"),
	};
	struct sw_pyframe py[] = {pyf(1, -1, 1)};
	struct sw_pyframe py2[] = {pyf(1, 5, 1), pyf(99, 7, 1), pyf(2, 9, 1)};
	struct sw_frame *out;
	size_t n;
	int unplaced;

	setup_codes();
	ck_assert_int_eq(
	    sw_pymerge(native, 2, py, 1, &codes, &out, &n, &unplaced), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(out[0].lang, SW_LANG_PYTHON);
	ck_assert_int_eq(out[0].line, 0);
	ck_assert_str_eq(out[1].function, "_PyEval_EvalFrameDefault");
	free_out(out, n);

	ck_assert_int_eq(
	    sw_pymerge(native, 1, py2, 3, &codes, &out, &n, &unplaced), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(out[0].function, "handler");
	ck_assert_int_eq(out[1].lang, SW_LANG_PYTHON);
	ck_assert_ptr_null(out[1].function); /* id 99 has no names */
	ck_assert_int_eq(out[1].line, 7);
	ck_assert_str_eq(out[2].function, "main");
	free_out(out, n);

	/* no Python frames at all: a plain copy */
	ck_assert_int_eq(
	    sw_pymerge(native, 2, NULL, 0, &codes, &out, &n, &unplaced), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(unplaced, 0);
	free_out(out, n);
}
END_TEST

Suite *sw_suite_pymerge(void)
{
	Suite *s = suite_create("pymerge");
	TCase *tc = tcase_create("merge");

	tcase_add_test(tc, eval_names);
	tcase_add_test(tc, merge_interpreter_frames);
	tcase_add_test(tc, merge_frame_objects);
	tcase_add_test(tc, merge_unplaced);
	tcase_add_test(tc, merge_edges);
	suite_add_tcase(s, tc);
	return s;
}
