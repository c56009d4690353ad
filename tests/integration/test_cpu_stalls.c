/*
 * test_cpu_stalls.c - CPU stalls: the CPU-time timer, the sampling signal
 * handler and what the analyzer makes of the samples, on real programs:
 * a C epoll loop, asyncio (pure Python and sqlite3), node, redis; a
 * private loop (node execSync); the stress (dlopen, C++ exceptions, many
 * loop threads) in a short form; EINTR and signal-conflict behaviour
 * compared with and without the shim.
 */
#include <check.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../support.h"

#define MS 1000000ll

/* Run `cmd` under `stallwatch run -q -o dir` with extra environment
 * `env` ("" for none); returns its status, output in *out if asked. */
static int run_sw(char **out, const char *dir, const char *env, const char *cmd)
{
	return sw_t_sh(out, "%s timeout -s KILL 120 '%s' run -q -o '%s' -- %s",
		       env, sw_t_build("stallwatch"), dir, cmd);
}

static json_int_t jint(json_t *obj, const char *key)
{
	return json_integer_value(json_object_get(obj, key));
}

/* The longest stall in the report (NULL when none). */
static json_t *longest_stall(json_t *rep)
{
	json_t *stalls = json_object_get(rep, "stalls"), *st, *best = NULL;
	size_t i;

	json_array_foreach (stalls, i, st) {
		if (!best ||
		    jint(st, "duration_ns") > jint(best, "duration_ns"))
			best = st;
	}
	return best;
}

static json_t *site_at(json_t *rep, json_t *index)
{
	return json_array_get(json_object_get(rep, "sites"),
			      (size_t)json_integer_value(index));
}

static int is_kind(json_t *site, const char *kind)
{
	const char *k = json_string_value(json_object_get(site, "kind"));

	return k && strcmp(k, kind) == 0;
}

/* Sampled time of a stall: the cpu-stall sites it lists. */
static long long stall_sampled_ns(json_t *rep, json_t *stall)
{
	json_t *idx;
	long long sum = 0;
	size_t i;

	json_array_foreach (json_object_get(stall, "sites"), i, idx) {
		json_t *site = site_at(rep, idx);

		if (is_kind(site, "cpu-stall"))
			sum += jint(site, "total_ns");
	}
	return sum;
}

/* A cpu-stall site of this stall with a frame naming `function`. */
static json_t *stall_cpu_frame(json_t *rep, json_t *stall, const char *function)
{
	json_t *idx, *fr;
	size_t i;

	json_array_foreach (json_object_get(stall, "sites"), i, idx) {
		json_t *site = site_at(rep, idx);

		if (is_kind(site, "cpu-stall") &&
		    (fr = sw_t_site_frame(site, function, NULL, -1)))
			return fr;
	}
	return NULL;
}

/* Any cpu-stall site (of any stall) with a native frame whose module path
 * contains `needle`. */
static json_t *cpu_frame_in_module(json_t *rep, const char *needle)
{
	json_t *site, *fr;
	size_t i, j;

	json_array_foreach (json_object_get(rep, "sites"), i, site) {
		if (!is_kind(site, "cpu-stall"))
			continue;
		json_array_foreach (json_object_get(site, "frames"), j, fr) {
			const char *m =
			    json_string_value(json_object_get(fr, "module"));

			if (m && strstr(m, needle))
				return fr;
		}
	}
	return NULL;
}

static long long total_cpu_ns(json_t *rep)
{
	json_t *site;
	long long sum = 0;
	size_t i;

	json_array_foreach (json_object_get(rep, "sites"), i, site) {
		if (is_kind(site, "cpu-stall"))
			sum += jint(site, "total_ns");
	}
	return sum;
}

/* The shim's closing note: "cpu sampler (signal N): T samples; skipped L
 * in the loader or unwinder, ...", summed over processes. */
static void sampler_counts(json_t *rep, long long *taken, long long *in_loader)
{
	json_t *note;
	size_t i;

	*taken = *in_loader = 0;
	json_array_foreach (json_object_get(rep, "notes"), i, note) {
		const char *text = json_string_value(note), *p;
		long long t, l;
		int sig;

		if (!text || !(p = strstr(text, "cpu sampler (signal ")))
			continue;
		if (sscanf(
			p,
			"cpu sampler (signal %d): %lld samples; skipped %lld "
			"in the loader",
			&sig, &t, &l) == 3) {
			*taken += t;
			*in_loader += l;
		}
	}
}

/* ---- (a) a C epoll loop whose callback spins ----------------------------- */

START_TEST(test_c_spin)
{
	const char *dir = sw_t_tmpdir("cpu-c");
	json_t *rep, *stall;
	char cmd[4096];
	long long sampled;
	int rc;

	snprintf(cmd, sizeof(cmd), "'%s' 300",
		 sw_t_build("tests/progs/spin_loop"));
	rc = run_sw(NULL, dir, "", cmd);
	ck_assert_int_eq(rc, 0);
	rep = sw_t_report(dir, NULL);
	ck_assert_ptr_nonnull(rep);
	stall = longest_stall(rep);
	if (!stall)
		sw_t_dump("report", rep);
	ck_assert_ptr_nonnull(stall);
	ck_assert_int_ge(jint(stall, "duration_ns"), 250 * MS);
	sampled = stall_sampled_ns(rep, stall);
	fprintf(stderr, "cpu c: stall %lld ms, sampled %lld ms\n",
		(long long)jint(stall, "duration_ns") / MS, sampled / MS);
	if (!stall_cpu_frame(rep, stall, "spin_in_callback"))
		sw_t_dump("report", rep);
	ck_assert_ptr_nonnull(stall_cpu_frame(rep, stall, "spin_in_callback"));
	/* Samples are ticks of the thread's CPU clock: on a loaded machine
	 * the thread gets less CPU than the stall's wall time (measured: 60
	 * of 250 ms past the threshold with 6 other builds running). */
	ck_assert_int_ge(sampled, 30 * MS);
	json_decref(rep);
}
END_TEST

/* ---- (b) pure Python burning 0.35 s in one turn -------------------------- */

static void python_burn(const char *python)
{
	const char *dir = sw_t_tmpdir("cpu-py");
	json_t *rep, *stall, *eval, *burn;
	char cmd[4096];
	long long sampled;
	int rc;

	if (!sw_t_have(python)) {
		sw_t_skipf("%s not installed", python);
		return;
	}
	snprintf(cmd, sizeof(cmd), "'%s' '%s' 0.35", python,
		 sw_t_src("tests/progs/cpu_loop.py"));
	rc = run_sw(NULL, dir, "", cmd);
	ck_assert_int_eq(rc, 0);
	rep = sw_t_report(dir, NULL);
	ck_assert_ptr_nonnull(rep);
	stall = longest_stall(rep);
	if (!stall)
		sw_t_dump("report", rep);
	ck_assert_ptr_nonnull(stall);
	ck_assert_int_ge(jint(stall, "duration_ns"), 300 * MS);
	sampled = stall_sampled_ns(rep, stall);
	/* The interpreter's eval frames: the analyzer puts the Python
	 * frames they ran in their place (pymerge.h), so either the native
	 * eval frame or the Python function it ran must be there. */
	eval = stall_cpu_frame(rep, stall, "_PyEval_EvalFrameDefault");
	burn = stall_cpu_frame(rep, stall, "burn");
	if (burn &&
	    strcmp(json_string_value(json_object_get(burn, "lang"))
		       ? json_string_value(json_object_get(burn, "lang"))
		       : "",
		   "python") != 0)
		burn = NULL;
	fprintf(stderr,
		"cpu python %s: stall %lld ms, sampled %lld ms, "
		"eval frame: %s, python frame burn: %s\n",
		python, (long long)jint(stall, "duration_ns") / MS,
		sampled / MS, eval ? "yes" : "no", burn ? "yes" : "no");
	if (!eval && !burn)
		sw_t_dump("report", rep);
	ck_assert_msg(
	    eval || burn,
	    "no eval frame (nor the Python frame it ran) in the samples");
	/* CPU-clock ticks: less than the wall time on a loaded machine. */
	ck_assert_int_ge(sampled, 30 * MS);
	json_decref(rep);
}

START_TEST(test_python_burn_debian)
{
	python_burn("/usr/bin/python3");
}
END_TEST

START_TEST(test_python_burn_pyenv)
{
	char path[1024];
	const char *root = getenv("PYENV_ROOT");

	snprintf(path, sizeof(path), "%s/versions/3.12.1/bin/python3",
		 root && *root ? root : "/root/.pyenv");
	python_burn(path);
}
END_TEST

/* ---- (c) sqlite3 in a coroutine ------------------------------------------ */

START_TEST(test_sqlite)
{
	const char *dir = sw_t_tmpdir("cpu-sqlite");
	json_t *rep, *stall, *fr;
	char cmd[4096];
	int rc;

	if (!sw_t_have("/usr/bin/python3")) {
		sw_t_skip("/usr/bin/python3 not installed");
		return;
	}
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 '%s' 1500000",
		 sw_t_src("tests/progs/sqlite_heavy.py"));
	rc = run_sw(NULL, dir, "", cmd);
	ck_assert_int_eq(rc, 0);
	rep = sw_t_report(dir, NULL);
	ck_assert_ptr_nonnull(rep);
	stall = longest_stall(rep);
	ck_assert_ptr_nonnull(stall);
	fr = cpu_frame_in_module(rep, "sqlite");
	fprintf(stderr,
		"cpu sqlite: stall %lld ms, sampled %lld ms, frame %s\n",
		(long long)jint(stall, "duration_ns") / MS,
		stall_sampled_ns(rep, stall) / MS,
		fr ? json_string_value(json_object_get(fr, "function")) : "-");
	if (!fr)
		sw_t_dump("report", rep);
	ck_assert_ptr_nonnull(fr);
	ck_assert_int_ge(stall_sampled_ns(rep, stall), 100 * MS);
	json_decref(rep);
}
END_TEST

/* ---- (d) node: a timer callback spinning 300 ms -------------------------- */

START_TEST(test_node_spin)
{
	const char *dir = sw_t_tmpdir("cpu-node");
	json_t *rep, *stall;
	char cmd[4096];
	long long sampled;
	int rc;

	if (!sw_t_have("node")) {
		sw_t_skip("node not installed");
		return;
	}
	snprintf(cmd, sizeof(cmd), "node '%s'",
		 sw_t_src("tests/progs/node_spin.js"));
	rc = run_sw(NULL, dir, "", cmd);
	ck_assert_int_eq(rc, 0); /* a sample never kills node (it resets
				  * every signal to SIG_DFL at start-up) */
	rep = sw_t_report(dir, NULL);
	ck_assert_ptr_nonnull(rep);
	stall = longest_stall(rep);
	if (!stall)
		sw_t_dump("report", rep);
	ck_assert_ptr_nonnull(stall);
	ck_assert_int_ge(jint(stall, "duration_ns"), 250 * MS);
	sampled = stall_sampled_ns(rep, stall);
	fprintf(stderr, "cpu node: stall %lld ms, sampled %lld ms\n",
		(long long)jint(stall, "duration_ns") / MS, sampled / MS);
	/* CPU-clock ticks: less than the wall time on a loaded machine. */
	ck_assert_int_ge(sampled, 30 * MS);
	json_decref(rep);
}
END_TEST

/* ---- (e) redis: KEYS * over a million keys ------------------------------- */

START_TEST(test_redis_keys)
{
	const char *dir = sw_t_tmpdir("cpu-redis");
	json_t *rep, *site;
	char *out = NULL;
	int port = 20000 + (int)(getpid() % 20000), rc;

	if (!sw_t_have("redis-server") || !sw_t_have("redis-cli")) {
		sw_t_skip("redis-server or redis-cli not installed");
		return;
	}
	rc = sw_t_sh(
	    &out,
	    "cd '%s' && ( timeout -s KILL 60 '%s' run -q -o . -- redis-server "
	    "--port %d --bind 127.0.0.1 --save '' --appendonly no "
	    "--enable-debug-command yes --daemonize no --logfile '' "
	    ">redis.log 2>&1 & ) ; "
	    "for i in $(seq 100); do redis-cli -p %d ping >/dev/null 2>&1 && "
	    "break; "
	    "sleep 0.1; done; "
	    "redis-cli -p %d debug populate 1000000 && "
	    "redis-cli -p %d keys '*' | tail -n 1 >/dev/null && "
	    "redis-cli -p %d shutdown nosave; "
	    "for i in $(seq 100); do redis-cli -p %d ping >/dev/null 2>&1 || "
	    "break; "
	    "sleep 0.1; done; sleep 0.3",
	    dir, sw_t_build("stallwatch"), port, port, port, port, port, port);
	if (rc != 0)
		fprintf(stderr, "redis run: %s\n", out ? out : "");
	free(out);
	rep = sw_t_report(dir, NULL);
	ck_assert_ptr_nonnull(rep);
	site = sw_t_find_site(rep, "cpu-stall", NULL, "keysCommand");
	fprintf(stderr, "cpu redis: keysCommand site %s, %lld ms sampled\n",
		site ? "found" : "missing",
		site ? (long long)jint(site, "total_ns") / MS : 0);
	if (!site)
		sw_t_dump("report", rep);
	ck_assert_ptr_nonnull(site);
	json_decref(rep);
}
END_TEST

/* ---- (f) node execSync: a private loop ----------------------------------- */

START_TEST(test_node_execsync)
{
	const char *dir = sw_t_tmpdir("cpu-execsync");
	json_t *rep, *site;
	char cmd[4096];
	int rc;

	if (!sw_t_have("node")) {
		sw_t_skip("node not installed");
		return;
	}
	snprintf(cmd, sizeof(cmd), "node '%s'",
		 sw_t_src("tests/progs/node_execsync.js"));
	rc = run_sw(NULL, dir, "", cmd);
	ck_assert_int_eq(rc, 0);
	rep = sw_t_report(dir, NULL);
	ck_assert_ptr_nonnull(rep);
	site = sw_t_find_site(rep, "private-loop", NULL, NULL);
	if (!site)
		sw_t_dump("report", rep);
	ck_assert_ptr_nonnull(site);
	fprintf(stderr, "private loop (node execSync): %lld ms\n",
		(long long)jint(site, "total_ns") / MS);
	ck_assert_int_ge(jint(site, "total_ns"), 200 * MS);
	json_decref(rep);
}
END_TEST

/* ---- (g) stress, short form ---------------------------------------------- */

/* scripts/stress.sh long runs the same for 20 s and more. */
START_TEST(test_stress_dlopen)
{
	const char *dir = sw_t_tmpdir("cpu-stress");
	json_t *rep;
	char cmd[4096], *out = NULL;
	long long cpu, taken = 0, in_loader = 0;
	int rc;

	/* 8 s: samples are CPU-time ticks (about 4 ms apart at 1 ms), and
	 * nearly all land in the loader or unwinder, where they are skipped. */
	snprintf(cmd, sizeof(cmd), "'%s' 8 2",
		 sw_t_build("tests/progs/dlopen_stress"));
	rc = sw_t_sh(&out,
		     "STALLWATCH_SAMPLE_INTERVAL=1ms timeout -s KILL 40 '%s' "
		     "run -q -o '%s' -- %s",
		     sw_t_build("stallwatch"), dir, cmd);
	fprintf(stderr, "stress: rc %d: %s", rc, out ? out : "");
	ck_assert_msg(rc != 137, "dlopen_stress hung (killed after 40 s)");
	ck_assert_int_eq(rc, 0);
	ck_assert_ptr_nonnull(strstr(out, "dlopen_stress: ok"));
	free(out);
	rep = sw_t_report(dir, NULL);
	ck_assert_ptr_nonnull(rep);
	cpu = total_cpu_ns(rep);
	sampler_counts(rep, &taken, &in_loader);
	fprintf(stderr,
		"stress: %lld ms sampled at 1 ms: %lld samples, %lld skipped "
		"in the loader or unwinder\n",
		cpu / MS, taken, in_loader);
	/* It was really sampled, in and out of the loader: signals landed
	 * in dlopen and in C++ unwinding, and were skipped there. */
	ck_assert_int_gt(taken, 0);
	ck_assert_int_gt(cpu, 0);
	ck_assert_int_ge(taken + in_loader, 100);
	json_decref(rep);
}
END_TEST

START_TEST(test_stress_threads)
{
	const char *dir = sw_t_tmpdir("cpu-threads");
	json_t *rep;
	char cmd[4096];
	int rc;

	/* 8 loop threads, every turn spins 60 ms, sampled every 1 ms */
	snprintf(cmd, sizeof(cmd), "'%s' 60 8 6 1",
		 sw_t_build("tests/progs/spin_loop"));
	rc = run_sw(NULL, dir, "STALLWATCH_SAMPLE_INTERVAL=1ms", cmd);
	ck_assert_int_eq(rc, 0);
	rep = sw_t_report(dir, NULL);
	ck_assert_ptr_nonnull(rep);
	ck_assert_ptr_nonnull(
	    sw_t_find_site(rep, "cpu-stall", NULL, "spin_in_callback"));
	json_decref(rep);
}
END_TEST

/* ---- (h) EINTR, signal conflicts: same with and without ------------------ */

static void same_with_and_without(const char *prog_cmd, const char *tag,
				  int want_samples)
{
	const char *dir = sw_t_tmpdir(tag);
	char *plain = NULL, *traced = NULL;
	int rc_plain, rc_traced;
	json_t *rep;

	rc_plain = sw_t_sh(&plain, "%s 2>/dev/null", prog_cmd);
	rc_traced = sw_t_sh(&traced,
			    "STALLWATCH_SAMPLE_INTERVAL=1ms timeout -s KILL 60 "
			    "'%s' run -q -o '%s' -- %s 2>/dev/null",
			    sw_t_build("stallwatch"), dir, prog_cmd);
	fprintf(stderr,
		"%s: plain rc %d, traced rc %d\n--- plain\n%s--- traced\n%s",
		tag, rc_plain, rc_traced, plain ? plain : "",
		traced ? traced : "");
	ck_assert_int_eq(rc_traced, rc_plain);
	ck_assert_ptr_nonnull(plain);
	ck_assert_ptr_nonnull(traced);
	ck_assert_str_eq(traced, plain);
	free(plain);
	free(traced);
	if (!want_samples)
		return;
	/* ... and it really was sampled while it ran */
	rep = sw_t_report(dir, NULL);
	ck_assert_ptr_nonnull(rep);
	fprintf(stderr, "%s: %lld ms sampled\n", tag, total_cpu_ns(rep) / MS);
	ck_assert_int_gt(total_cpu_ns(rep), 0);
	json_decref(rep);
}

START_TEST(test_eintr)
{
	char cmd[4096];

	snprintf(cmd, sizeof(cmd), "'%s'",
		 sw_t_build("tests/progs/eintr_read"));
	same_with_and_without(cmd, "cpu-eintr", 1);
}
END_TEST

START_TEST(test_signal_conflict)
{
	char cmd[4096];

	/* The program's handler on our signal: it still gets its signals
	 * and reads its handler back; samples continue. */
	snprintf(cmd, sizeof(cmd), "'%s' handler",
		 sw_t_build("tests/progs/sig_conflict"));
	same_with_and_without(cmd, "cpu-sig-handler", 1);
	/* SIG_DFL: the signal still ends the program. */
	snprintf(cmd, sizeof(cmd), "'%s' dfl",
		 sw_t_build("tests/progs/sig_conflict"));
	same_with_and_without(cmd, "cpu-sig-dfl", 0);
}
END_TEST

Suite *sw_suite_cpu_stalls(void)
{
	Suite *s = suite_create("cpu_stalls");
	TCase *tc = tcase_create("sampling");
	TCase *st = tcase_create("stress");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_c_spin);
	tcase_add_test(tc, test_python_burn_debian);
	tcase_add_test(tc, test_python_burn_pyenv);
	tcase_add_test(tc, test_sqlite);
	tcase_add_test(tc, test_node_spin);
	tcase_add_test(tc, test_redis_keys);
	tcase_add_test(tc, test_node_execsync);
	tcase_add_test(tc, test_eintr);
	tcase_add_test(tc, test_signal_conflict);
	suite_add_tcase(s, tc);
	tcase_set_timeout(st, 120);
	tcase_add_test(st, test_stress_dlopen);
	tcase_add_test(st, test_stress_threads);
	suite_add_tcase(s, st);
	return s;
}
