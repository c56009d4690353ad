/*
 * test_python_frames.c - Python frames in real reports, on every CPython found.
 *
 * Each test runs tests/progs/python/py_calls.py MODE under `stallwatch run`
 * with each interpreter in turn (pyenv's 3.9-3.13, Debian's python3) and
 * asserts on the JSON report: the coroutine's frame, at the exact line of
 * the call (found through the script's `# LINE:name` markers), in a site
 * of the right kind.  Missing interpreters are skipped with a message; a
 * failure names every version that failed.  The Node test does the same
 * for a JS function named through node's perf map.
 */
#include <check.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../support.h"

#define MAX_INTERPS 8

struct interp {
	char label[64];
	char path[512];
};

static struct interp interps[MAX_INTERPS];
static int ninterps = -1;

/* The highest installed patch release of 3.minor under pyenv. */
static void add_pyenv(const char *root, int minor)
{
	char pat[600];
	glob_t g;

	snprintf(pat, sizeof(pat), "%s/versions/3.%d.*/bin/python3", root,
		 minor);
	if (glob(pat, 0, NULL, &g) == 0 && g.gl_pathc) {
		struct interp *in = &interps[ninterps++];
		const char *p = g.gl_pathv[g.gl_pathc - 1], *v;

		snprintf(in->path, sizeof(in->path), "%s", p);
		v = strstr(p, "/versions/") + strlen("/versions/");
		snprintf(in->label, sizeof(in->label), "pyenv %.*s",
			 (int)(strchr(v, '/') - v), v);
	} else {
		sw_t_skipf("no pyenv CPython 3.%d under %s", minor, root);
	}
	globfree(&g);
}

static void find_interps(void)
{
	char root[512] = "", *out = NULL;
	int minor;

	if (ninterps >= 0)
		return;
	ninterps = 0;
	if (getenv("PYENV_ROOT"))
		snprintf(root, sizeof(root), "%s", getenv("PYENV_ROOT"));
	else if (sw_t_sh(&out, "pyenv root 2>/dev/null") == 0 && out && *out)
		snprintf(root, sizeof(root), "%.*s", (int)strcspn(out, "\n"),
			 out);
	else if (getenv("HOME"))
		snprintf(root, sizeof(root), "%s/.pyenv", getenv("HOME"));
	free(out);
	for (minor = 9; minor <= 13; minor++)
		add_pyenv(root, minor);
	if (sw_t_have("/usr/bin/python3")) {
		struct interp *in = &interps[ninterps++];

		snprintf(in->label, sizeof(in->label), "debian python3");
		snprintf(in->path, sizeof(in->path), "/usr/bin/python3");
	} else {
		sw_t_skip("no /usr/bin/python3");
	}
}

/* The line of `# LINE:name` in py_calls.py. */
static int marker_line(const char *name)
{
	char buf[512], want[80];
	FILE *f = fopen(sw_t_src("tests/progs/python/py_calls.py"), "r");
	int line = 0;

	ck_assert_msg(f != NULL, "py_calls.py not found");
	snprintf(want, sizeof(want), "# LINE:%s\n", name);
	while (fgets(buf, sizeof(buf), f)) {
		size_t n = strlen(buf), w = strlen(want);

		line++;
		if (n >= w && !strcmp(buf + n - w, want)) {
			fclose(f);
			return line;
		}
	}
	fclose(f);
	ck_abort_msg("no marker %s in py_calls.py", name);
	return -1;
}

static int is_str(json_t *v, const char *want)
{
	return json_is_string(v) && !strcmp(json_string_value(v), want);
}

static int ends_with(json_t *v, const char *suffix)
{
	const char *s = json_string_value(v);
	size_t n, m = strlen(suffix);

	return s && (n = strlen(s)) >= m && !strcmp(s + n - m, suffix);
}

/* Index of the Python frame fn (file suffix, line in [lo, hi]), or -1. */
static int py_frame(json_t *site, const char *fn, const char *file, int lo,
		    int hi)
{
	json_t *frames = json_object_get(site, "frames"), *fr;
	size_t i;

	json_array_foreach (frames, i, fr) {
		json_int_t line =
		    json_integer_value(json_object_get(fr, "line"));

		if (is_str(json_object_get(fr, "lang"), "python") &&
		    is_str(json_object_get(fr, "function"), fn) &&
		    ends_with(json_object_get(fr, "file"), file) &&
		    line >= lo && line <= hi)
			return (int)i;
	}
	return -1;
}

/* A one-line summary of every site, for failure messages. */
static void describe_sites(json_t *rep, char *buf, size_t cap)
{
	json_t *site, *fr;
	size_t i, j, len = 0;

	buf[0] = 0;
	json_array_foreach (json_object_get(rep, "sites"), i, site) {
		len += (size_t)snprintf(
		    buf + len, cap > len ? cap - len : 0, " [%s %s %lldms:",
		    json_string_value(json_object_get(site, "kind")),
		    json_string_value(json_object_get(site, "call")),
		    (long long)(json_integer_value(
				    json_object_get(site, "max_ns")) /
				1000000));
		json_array_foreach (json_object_get(site, "frames"), j, fr) {
			if (!is_str(json_object_get(fr, "lang"), "native"))
				len += (size_t)snprintf(
				    buf + len, cap > len ? cap - len : 0,
				    " %s:%lld",
				    json_string_value(
					json_object_get(fr, "function")),
				    (long long)json_integer_value(
					json_object_get(fr, "line")));
		}
		len +=
		    (size_t)snprintf(buf + len, cap > len ? cap - len : 0, "]");
		if (len >= cap)
			break;
	}
}

struct expect {
	const char *mode;
	const char *kind;	       /* site kind */
	const char *function;	       /* the coroutine */
	const char *line_lo, *line_hi; /* markers (hi NULL: same as lo) */
	int strict;
	long min_ms;		  /* the site's max_ns at least this */
	const char *native_under; /* a native frame inside the Python one */
	const char *absent_fn;	  /* no frame anywhere may name this */
};

/* Check the report of one run in dir; NULL on success, else why. */
static const char *check_one(const char *dir, const struct expect *x, char *why,
			     size_t cap)
{
	int lo = x->line_lo ? marker_line(x->line_lo) : 0;
	int hi = x->line_hi ? marker_line(x->line_hi) : lo;
	char *out = NULL, sites[3000];
	json_t *rep, *site;
	size_t i;
	int rc, found = 0;

	rc = sw_t_sh(&out, "cat '%s.rc'", dir);
	if (rc != 0 || !out || atoi(out) != 0) {
		free(out);
		sw_t_sh(&out, "tail -c 300 '%s.log'", dir);
		snprintf(why, cap, "run failed: %.300s", out ? out : "");
		free(out);
		return why;
	}
	free(out);
	rep = sw_t_report(dir, NULL);
	if (!rep) {
		snprintf(why, cap, "no report");
		return why;
	}
	/* A site groups the raw stacks of one place: each of them (its
	 * variants) is checked like a site of its own. */
	{
		json_t *all = json_array(), *v;
		size_t k;

		json_array_foreach (json_object_get(rep, "sites"), i, site) {
			json_t *vars = json_object_get(site, "variants");

			if (!json_array_size(vars)) {
				json_array_append(all, site);
				continue;
			}
			json_array_foreach (vars, k, v) {
				json_t *o = json_object();

				json_object_set(o, "kind",
						json_object_get(site, "kind"));
				json_object_set(o, "call",
						json_object_get(site, "call"));
				json_object_set(o, "max_ns",
						json_object_get(v, "max_ns"));
				json_object_set(o, "frames",
						json_object_get(v, "frames"));
				json_array_append_new(all, o);
			}
		}
		json_object_set_new(rep, "variant_sites", all);
	}
	json_array_foreach (json_object_get(rep, "variant_sites"), i, site) {
		json_t *frames = json_object_get(site, "frames"), *fr;
		int at;
		size_t j;

		if (x->absent_fn) {
			json_array_foreach (frames, j, fr)
				if (is_str(json_object_get(fr, "function"),
					   x->absent_fn)) {
					snprintf(
					    why, cap,
					    "frame %s leaked into a %s site",
					    x->absent_fn,
					    json_string_value(
						json_object_get(site, "kind")));
					json_decref(rep);
					return why;
				}
		}
		if (found || !is_str(json_object_get(site, "kind"), x->kind))
			continue;
		at = py_frame(site, x->function, "py_calls.py", lo, hi);
		if (at < 0)
			continue;
		if (json_integer_value(json_object_get(site, "max_ns")) <
		    x->min_ms * 1000000)
			continue;
		if (x->native_under) {
			int ok = 0;

			json_array_foreach (frames, j, fr) {
				const char *fn = json_string_value(
				    json_object_get(fr, "function"));

				if ((int)j < at && fn &&
				    is_str(json_object_get(fr, "lang"),
					   "native") &&
				    strstr(fn, x->native_under))
					ok = 1;
			}
			if (!ok)
				continue;
		} else {
			/* a mixed stack: native frames inside the Python one */
			fr = json_array_get(frames, 0);
			if (at == 0 ||
			    !is_str(json_object_get(fr, "lang"), "native"))
				continue;
		}
		found = 1;
	}
	if (!found) {
		describe_sites(rep, sites, sizeof(sites));
		snprintf(why, cap,
			 "no %s site with %s (py_calls.py:%d-%d)%s%s; sites:%s",
			 x->kind, x->function, lo, hi,
			 x->native_under ? " over native " : "",
			 x->native_under ? x->native_under : "", sites);
		json_decref(rep);
		return why;
	}
	json_decref(rep);
	return NULL;
}

/*
 * Run the mode under every interpreter, then check each report; fail
 * naming each version that failed.  Blocking calls mostly sleep, so those
 * runs go in parallel; CPU stalls run one after the other (2 cores).
 */
static void check_all(const struct expect *x, int debian_only, int parallel)
{
	char fails[8000] = "", why[4000], base[4096], dir[4200];
	char *script, *p;
	size_t len = 0, cap = 65536;
	int i, ran = 0;

	find_interps();
	snprintf(base, sizeof(base), "%s", sw_t_tmpdir(x->mode));
	script = p = calloc(1, cap);
	ck_assert_ptr_nonnull(script);
	for (i = 0; i < ninterps; i++) {
		if (debian_only && strcmp(interps[i].path, "/usr/bin/python3"))
			continue;
		p += snprintf(p, cap - (size_t)(p - script) - 1,
			      "( '%s' run -q -o '%s/%d' %s -- '%s' '%s' '%s' "
			      ">'%s/%d.log' 2>&1; echo $? >'%s/%d.rc' ) %s ",
			      sw_t_build("stallwatch"), base, i,
			      x->strict ? "--strict" : "", interps[i].path,
			      sw_t_src("tests/progs/python/py_calls.py"),
			      x->mode, base, i, base, i, parallel ? "&" : ";");
	}
	strcat(script, "wait");
	sw_t_sh(NULL, "%s", script);
	free(script);
	for (i = 0; i < ninterps; i++) {
		const char *bad;

		if (debian_only && strcmp(interps[i].path, "/usr/bin/python3"))
			continue;
		ran++;
		snprintf(dir, sizeof(dir), "%s/%d", base, i);
		bad = check_one(dir, x, why, sizeof(why));
		fprintf(stderr, "python %-16s %-12s %s%s\n", interps[i].label,
			x->mode, bad ? "FAIL: " : "ok", bad ? bad : "");
		if (bad)
			len += (size_t)snprintf(
			    fails + len,
			    len < sizeof(fails) ? sizeof(fails) - len : 0,
			    "\n  %s: %s", interps[i].label, bad);
	}
	if (!ran)
		sw_t_skip("no CPython found for this test");
	ck_assert_msg(!fails[0], "mode %s failed on:%s", x->mode, fails);
}

#define BLOCKING(name, fn, strict, min_ms)                                     \
	{                                                                      \
#name, "blocking-call", fn, #name, NULL, strict, min_ms, NULL, \
		    NULL                                                       \
	}

START_TEST(py_sleep)
{
	static const struct expect x = BLOCKING(sleep, "do_sleep", 0, 200);

	check_all(&x, 0, 1);
}
END_TEST

START_TEST(py_urlopen)
{
	static const struct expect x = BLOCKING(urlopen, "do_urlopen", 0, 200);

	check_all(&x, 0, 1);
}
END_TEST

START_TEST(py_subprocess)
{
	static const struct expect x =
	    BLOCKING(subprocess, "do_subprocess", 0, 200);

	check_all(&x, 0, 1);
}
END_TEST

START_TEST(py_lock)
{
	static const struct expect x = BLOCKING(lock, "do_lock", 0, 100);

	check_all(&x, 0, 1);
}
END_TEST

START_TEST(py_getaddrinfo)
{
	static const struct expect x =
	    BLOCKING(getaddrinfo, "do_getaddrinfo", 1, 0);

	check_all(&x, 0, 1);
}
END_TEST

START_TEST(py_fileread)
{
	static const struct expect x = BLOCKING(fileread, "do_fileread", 1, 0);

	check_all(&x, 0, 1);
}
END_TEST

START_TEST(py_worker_no_leak)
{
	static const struct expect x = {
	    "worker", "blocking-call", "do_worker", "worker_loop", NULL, 0, 200,
	    NULL,     "worker_fn"};

	check_all(&x, 0, 1);
}
END_TEST

START_TEST(py_uvloop)
{
	static const struct expect x = {
	    "uvloop", "blocking-call", "do_sleep", "sleep", NULL, 0, 200, NULL,
	    NULL};
	char *out = NULL;

	if (sw_t_sh(&out, "/usr/bin/python3 -c 'import uvloop'") != 0) {
		free(out);
		sw_t_skip(
		    "python3-uvloop is not installed for /usr/bin/python3");
		return;
	}
	free(out);
	check_all(&x, 1, 1);
}
END_TEST

/* CPU stalls come from the sampler. */
START_TEST(py_cpu)
{
	static const struct expect x = {"cpu",	     "cpu-stall", "do_cpu",
					"cpu_first", "cpu_last",  0,
					0,	     NULL,	  NULL};

	check_all(&x, 0, 0);
}
END_TEST

START_TEST(py_sqlite)
{
	static const struct expect x = {"sqlite", "cpu-stall", "do_sqlite",
					"sqlite", NULL,	       0,
					0,	  "sqlite3",   NULL};

	check_all(&x, 0, 0);
}
END_TEST

START_TEST(py_gil_wait)
{
	static const struct expect x = {"gil", "gil-wait", "do_gil", NULL, NULL,
					0,     0,	   NULL,     NULL};
	char fails[4000] = "";
	size_t len = 0;
	int i;

	(void)x;
	find_interps();
	for (i = 0; i < ninterps; i++) {
		const char *dir = sw_t_tmpdir("pygil");
		char *out = NULL, sites[2000];
		json_t *rep;
		int rc;

		/* Default settings: each turn waits about one switch interval
		 * (5 ms), under the call threshold; the shim sums them. */
		rc = sw_t_sh(&out, "'%s' run -q -o '%s' -- '%s' '%s' gil",
			     sw_t_build("stallwatch"), dir, interps[i].path,
			     sw_t_src("tests/progs/python/py_calls.py"));
		free(out);
		rep = rc == 0 ? sw_t_report(dir, NULL) : NULL;
		if (rep && sw_t_find_site(rep, "gil-wait", NULL, NULL)) {
			fprintf(stderr, "python %-16s %-12s ok\n",
				interps[i].label, "gil");
		} else {
			if (rep)
				describe_sites(rep, sites, sizeof(sites));
			else
				snprintf(sites, sizeof(sites),
					 " (run exited %d)", rc);
			fprintf(
			    stderr,
			    "python %-16s %-12s FAIL: no gil-wait site:%s\n",
			    interps[i].label, "gil", sites);
			len += (size_t)snprintf(
			    fails + len,
			    len < sizeof(fails) ? sizeof(fails) - len : 0,
			    "\n  %s: no gil-wait site:%.300s", interps[i].label,
			    sites);
		}
		json_decref(rep);
	}
	ck_assert_msg(!fails[0], "gil-wait failed on:%s", fails);
}
END_TEST

/* Bad frame chains (unmapped pointer, a cycle) while the loop thread
 * blocks: the process survives, the call is recorded, at most the one
 * fake frame is shown. */
START_TEST(py_hostile_frames)
{
	static const char *const modes[] = {"garbage", "cycle"};
	char fails[8000] = "", base[4096], dir[4200], script[12000];
	size_t len = 0, sl;
	int i, m;

	find_interps();
	for (m = 0; m < 2; m++) {
		snprintf(base, sizeof(base), "%s", sw_t_tmpdir(modes[m]));
		/* all interpreters at once: each mostly sleeps */
		script[0] = 0;
		for (i = 0, sl = 0; i < ninterps; i++)
			sl += (size_t)snprintf(
			    script + sl,
			    sl < sizeof(script) ? sizeof(script) - sl : 0,
			    "( '%s' run -q -o '%s/%d' -- '%s' '%s' '%s' "
			    ">'%s/%d.log' 2>&1 ) & ",
			    sw_t_build("stallwatch"), base, i, interps[i].path,
			    sw_t_src("tests/progs/python/py_hostile.py"),
			    modes[m], base, i);
		sw_t_sh(NULL, "%s wait", script);
		for (i = 0; i < ninterps; i++) {
			json_t *rep, *site, *fr;
			char *out = NULL;
			const char *bad = NULL;
			size_t k;
			int npy = 0;

			snprintf(dir, sizeof(dir), "%s/%d", base, i);
			sw_t_sh(&out, "cat '%s.log'", dir);
			if (!out || !strstr(out, "survived"))
				bad = "the program did not survive";
			free(out);
			rep = bad ? NULL : sw_t_report(dir, NULL);
			site = rep ? sw_t_find_site(rep, "blocking-call",
						    "usleep", NULL)
				   : NULL;
			if (!bad && !site)
				bad = "no blocking-call usleep site";
			if (site && json_integer_value(json_object_get(
					site, "max_ns")) < 200000000)
				bad = "the usleep site is shorter than 200 ms";
			if (site)
				json_array_foreach (
				    json_object_get(site, "frames"), k, fr)
					if (is_str(json_object_get(fr, "lang"),
						   "python"))
						npy++;
			if (site && npy > (m == 0 ? 0 : 1))
				bad = "too many Python frames from a bad chain";
			json_decref(rep);
			fprintf(stderr, "python %-16s hostile-%-8s %s%s\n",
				interps[i].label, modes[m],
				bad ? "FAIL: " : "ok", bad ? bad : "");
			if (bad)
				len += (size_t)snprintf(
				    fails + len,
				    len < sizeof(fails) ? sizeof(fails) - len
							: 0,
				    "\n  %s %s: %s", interps[i].label, modes[m],
				    bad);
		}
	}
	ck_assert_msg(!fails[0], "hostile frame chains:%s", fails);
}
END_TEST

/* An interpreter we can't walk: native stacks and one note. */
START_TEST(py_unsupported_note)
{
	const char *dir = sw_t_tmpdir("py38");
	char root[512] = "", pat[600], *out = NULL;
	json_t *rep, *note;
	glob_t g;
	size_t i;
	int rc, notes = 0;

	if (sw_t_sh(&out, "pyenv root 2>/dev/null") == 0 && out && *out)
		snprintf(root, sizeof(root), "%.*s", (int)strcspn(out, "\n"),
			 out);
	free(out);
	snprintf(pat, sizeof(pat), "%s/versions/3.8.*/bin/python3", root);
	if (glob(pat, 0, NULL, &g) != 0 || !g.gl_pathc) {
		sw_t_skip("no pyenv CPython 3.8 to check the unsupported note");
		return;
	}
	rc = sw_t_sh(&out, "'%s' run -q -o '%s' -- '%s' '%s' sleep",
		     sw_t_build("stallwatch"), dir, g.gl_pathv[g.gl_pathc - 1],
		     sw_t_src("tests/progs/python/py_calls.py"));
	globfree(&g);
	ck_assert_msg(rc == 0, "run exited %d: %.500s", rc, out ? out : "");
	free(out);
	rep = sw_t_report(dir, NULL);
	ck_assert_ptr_nonnull(rep);
	json_array_foreach (json_object_get(rep, "notes"), i, note)
		if (json_string_value(note) &&
		    strstr(
			json_string_value(note),
			"python 3.8: frames not supported, native stacks only"))
			notes++;
	ck_assert_msg(notes == 1,
		      "want one 'python 3.8: frames not supported' "
		      "note, got %d",
		      notes);
	/* ... and the blocking call is still there, native only */
	ck_assert_ptr_nonnull(sw_t_find_site(rep, "blocking-call", NULL, NULL));
	json_decref(rep);
}
END_TEST

/* Node with --perf-basic-prof: the spinning JS function by name. */
START_TEST(js_spin)
{
	const char *dir = sw_t_tmpdir("js");
	char *out = NULL, sites[3000];
	json_t *rep, *site, *fr;
	size_t i, j;
	int rc, found = 0, demangled = 0;

	if (!sw_t_have("node")) {
		sw_t_skip("node is not installed");
		return;
	}
	/* --js adds V8's perf map flags to NODE_OPTIONS (the user's way
	 * in); node runs inside the test's own directory. */
	rc = sw_t_sh(&out, "cd '%s' && '%s' run --js -q -o '%s' -- node '%s'",
		     dir, sw_t_build("stallwatch"), dir,
		     sw_t_src("tests/progs/js_spin.js"));
	ck_assert_msg(rc == 0, "node exited %d: %.500s", rc, out ? out : "");
	free(out);
	rc = sw_t_sh(NULL, "ls '%s'/*/*.perfmap >/dev/null 2>&1", dir);
	ck_assert_msg(rc == 0, "no perf map copied beside the trace in %s",
		      dir);
	rep = sw_t_report(dir, NULL);
	ck_assert_ptr_nonnull(rep);
	json_array_foreach (json_object_get(rep, "sites"), i, site) {
		if (!is_str(json_object_get(site, "kind"), "cpu-stall"))
			continue;
		json_array_foreach (json_object_get(site, "frames"), j, fr) {
			const char *fn =
			    json_string_value(json_object_get(fr, "function"));

			if (is_str(json_object_get(fr, "lang"), "js") && fn &&
			    strstr(fn, "spinHard"))
				found = 1;
			/* Node's own C++ frames, demangled */
			if (is_str(json_object_get(fr, "lang"), "native") &&
			    fn && strstr(fn, "v8::"))
				demangled = 1;
		}
	}
	if (!found) {
		describe_sites(rep, sites, sizeof(sites));
		fprintf(stderr,
			"js: no cpu-stall site naming spinHard; sites:%s\n",
			sites);
	}
	json_decref(rep);
	ck_assert_msg(found,
		      "no cpu-stall site with a js frame naming spinHard");
	ck_assert_msg(demangled,
		      "no demangled v8:: frame in the cpu-stall sites");
}
END_TEST

Suite *sw_suite_python_frames(void)
{
	Suite *s = suite_create("python_frames");
	TCase *calls = tcase_create("calls"), *cpu = tcase_create("cpu"),
	      *js = tcase_create("js");

	tcase_set_timeout(calls, 180);
	tcase_add_test(calls, py_sleep);
	tcase_add_test(calls, py_urlopen);
	tcase_add_test(calls, py_subprocess);
	tcase_add_test(calls, py_lock);
	tcase_add_test(calls, py_getaddrinfo);
	tcase_add_test(calls, py_fileread);
	tcase_add_test(calls, py_worker_no_leak);
	tcase_add_test(calls, py_uvloop);
	tcase_add_test(calls, py_unsupported_note);
	tcase_add_test(calls, py_hostile_frames);
	suite_add_tcase(s, calls);
	tcase_set_timeout(cpu, 180);
	tcase_add_test(cpu, py_cpu);
	tcase_add_test(cpu, py_sqlite);
	tcase_add_test(cpu, py_gil_wait);
	suite_add_tcase(s, cpu);
	tcase_set_timeout(js, 60);
	tcase_add_test(js, js_spin);
	suite_add_tcase(s, js);
	return s;
}
