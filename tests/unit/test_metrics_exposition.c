/*
 * test_metrics_exposition.c - `stallwatch metrics` on a trace built by
 * hand: every line is valid Prometheus text exposition (families typed
 * once, label values escaped), the turn histogram uses the shim's real
 * bucket bounds and its +Inf bucket equals the count, counters carry the
 * trace's numbers, --places N keeps N place labels plus "other", and
 * --listen serves the same text over HTTP (OpenMetrics when asked).
 */
#include <check.h>
#include <math.h>
#include <signal.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../include/sw_calls.h"
#include "../support.h"
#include "tracebuild.h"

#define HOSTILE_COMM "we\"b\\x"

static const char *make_trace(void)
{
	static char path[4200];
	const char *dir = sw_t_tmpdir("metrics");
	static const char cmd[] = "python3\0web.py";
	uint64_t turns[100];
	struct tb b;
	int i;

	tb_begin(&b, 777, cmd, sizeof(cmd), HOSTILE_COMM);
	tb_loop(&b, 1, 778, 1000000000ull, "web");
	for (i = 0; i < 3; i++) {
		char name[32];

		snprintf(name, sizeof(name), "handler%d", i);
		tb_pycode(&b, 10 + (uint32_t)i, name, "/app/web.py", 10 * i);
	}
	for (i = 0; i < 3; i++) {
		/* handler0 blocks 300 ms, handler1 200, handler2 100 */
		struct sw_pyframe py = {.code_id = 10 + (uint32_t)i,
					.line = 10 * i + 1};
		struct tb_ev e = {.kind = SW_EV_CALL,
				  .call = SW_CALL_READ,
				  .tid = 778,
				  .loop_id = 1,
				  .turn_seq = (uint32_t)i,
				  .start_ns = 2000000000ull + 1000000000ull * i,
				  .duration_ns = 100000000ull * (3 - i),
				  .py = &py,
				  .npy = 1};

		tb_event(&b, &e);
		tb_stall(&b, 778, 1, (uint32_t)i, e.start_ns - 1000,
			 e.duration_ns + 5000);
	}
	for (i = 0; i < 100; i++)
		turns[i] =
		    i < 97 ? 2000000ull : 100000000ull * (uint64_t)(i - 96);
	tb_heartbeat(&b, 1, 778, 1000000000ull, 7000000000ull, turns, 100,
		     800000000ull);
	snprintf(path, sizeof(path), "%s/web.777.swtrace", dir);
	ck_assert_int_eq(tb_write(&b, path), 0);
	tb_free(&b);
	return dir;
}

/* name{k="v",...} value: the labels parse, values are escaped. */
static void check_sample(const char *line, char *name, size_t nlen)
{
	const char *p = line, *q;

	q = p + strspn(p, "abcdefghijklmnopqrstuvwxyz_:"
			  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
	ck_assert_msg(q > p, "no metric name: %s", line);
	snprintf(name, nlen, "%.*s", (int)(q - p), p);
	p = q;
	if (*p == '{') {
		p++;
		while (*p != '}') {
			q = p + strspn(p, "abcdefghijklmnopqrstuvwxyz_");
			ck_assert_msg(q > p && q[0] == '=' && q[1] == '"',
				      "bad label in: %s", line);
			p = q + 2;
			while (*p && *p != '"') {
				if (*p == '\\') {
					ck_assert_msg(strchr("\\\"n", p[1]),
						      "bad escape in: %s",
						      line);
					p++;
				}
				ck_assert_msg((unsigned char)*p >= 0x20,
					      "control byte in: %s", line);
				p++;
			}
			ck_assert_msg(*p == '"', "unterminated: %s", line);
			p++;
			if (*p == ',')
				p++;
		}
		p++;
	}
	ck_assert_msg(*p == ' ', "no value: %s", line);
	strtod(p + 1, (char **)&q);
	ck_assert_msg(q > p + 1 && *q == 0, "bad value: %s", line);
}

static double value_of(const char *out, const char *prefix)
{
	const char *p = strstr(out, prefix);

	ck_assert_msg(p != NULL, "no line starting %s", prefix);
	p = strchr(p, '}');
	ck_assert_ptr_nonnull(p);
	return strtod(p + 1, NULL);
}

START_TEST(exposition_is_valid_and_exact)
{
	const char *dir = make_trace();
	char *out = NULL, *copy, *line, *save = NULL, name[256], typed[64][128];
	int ntyped = 0, i, nbuckets = 0;
	double last_cum = -1, inf = -1;

	ck_assert_int_eq(sw_t_sh(&out, "'%s' metrics '%s' 2>&1",
				 sw_t_build("stallwatch"), dir),
			 0);
	copy = strdup(out);
	for (line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "# TYPE ", 7)) {
			char fam[128];

			ck_assert_int_eq(sscanf(line + 7, "%127s", fam), 1);
			for (i = 0; i < ntyped; i++)
				ck_assert_msg(strcmp(typed[i], fam),
					      "family %s typed twice", fam);
			snprintf(typed[ntyped++], sizeof(typed[0]), "%s", fam);
			continue;
		}
		if (line[0] == '#')
			continue;
		check_sample(line, name, sizeof(name));
		/* the sample's family was typed before it */
		for (i = 0; i < ntyped; i++)
			if (!strncmp(name, typed[i], strlen(typed[i])))
				break;
		ck_assert_msg(i < ntyped, "sample before its TYPE: %s", line);
		if (!strcmp(name,
			    "stallwatch_loop_turn_duration_seconds_bucket")) {
			const char *le = strstr(line, "le=\"");
			double cum = strtod(strrchr(line, ' ') + 1, NULL);

			ck_assert_ptr_nonnull(le);
			ck_assert_msg(cum >= last_cum, "buckets decrease: %s",
				      line);
			last_cum = cum;
			if (!strncmp(le, "le=\"+Inf\"", 9)) {
				inf = cum;
				continue;
			}
			/* a real shim bucket bound: a power of two ns */
			{
				double ns = strtod(le + 4, NULL) * 1e9;
				double k = log2(ns);

				ck_assert_msg(fabs(k - round(k)) < 1e-6,
					      "le not a bucket bound: %s",
					      line);
			}
			nbuckets++;
		}
	}
	ck_assert_int_gt(nbuckets, 20);
	ck_assert(inf == 100);
	ck_assert(
	    value_of(out, "stallwatch_loop_turn_duration_seconds_count{") ==
	    100);
	/* 97 turns of 2 ms are under 4.194304 ms (2^22 ns), none under 2^20 */
	ck_assert_ptr_nonnull(strstr(out, "le=\"0.004194304\"} 97\n"));
	ck_assert_ptr_nonnull(strstr(out, "le=\"0.001048576\"} 0\n"));
	ck_assert(value_of(out, "stallwatch_loop_stalls_total{") == 3);
	ck_assert(value_of(out, "stallwatch_loop_turns_total{") == 100);
	ck_assert(value_of(out, "stallwatch_loop_busy_seconds_total{") == 0.8);
	/* the hostile name, escaped */
	ck_assert_ptr_nonnull(
	    strstr(out, "process=\"we\\\"b\\\\x\",pid=\"777\",loop=\"1\""));
	ck_assert_ptr_nonnull(strstr(out,
				     "kind=\"blocking-call\",place=\""
				     "handler0 (web.py:1) → read\"} 0.3\n"));
	free(copy);
	free(out);
}
END_TEST

START_TEST(places_are_bounded)
{
	const char *dir = make_trace();
	char *out = NULL;

	ck_assert_int_eq(sw_t_sh(&out, "'%s' metrics --places 1 '%s' 2>&1",
				 sw_t_build("stallwatch"), dir),
			 0);
	/* the heaviest place keeps its name; the other two are summed */
	ck_assert_int_eq(sw_t_count_lines(out, "stallwatch_blocked_seconds_"
					       "total{"),
			 2);
	ck_assert_ptr_nonnull(
	    strstr(out, "place=\"handler0 (web.py:1) → read\"} 0.3\n"));
	ck_assert_ptr_nonnull(strstr(out, "place=\"other\"} 0.3\n"));
	free(out);
	ck_assert_int_eq(sw_t_sh(&out, "'%s' metrics --places x '%s' 2>&1",
				 sw_t_build("stallwatch"), dir),
			 2);
	free(out);
}
END_TEST

/* -o writes the same text atomically, for node_exporter's textfile
 * collector: the file appears whole, no temporary file stays. */
START_TEST(output_file_is_written_whole)
{
	const char *dir = make_trace();
	char *out = NULL, *file = NULL, path[4300];

	ck_assert_int_eq(
	    sw_t_sh(&out, "'%s' metrics '%s'", sw_t_build("stallwatch"), dir),
	    0);
	snprintf(path, sizeof(path), "%s/stallwatch.prom", dir);
	ck_assert_int_eq(sw_t_sh(NULL, "'%s' metrics -o '%s' '%s'",
				 sw_t_build("stallwatch"), path, dir),
			 0);
	file = sw_t_slurp(path, NULL);
	ck_assert_ptr_nonnull(file);
	ck_assert_str_eq(file, out);
	ck_assert_int_eq(sw_t_sh(NULL, "ls '%s' | grep -q tmp", dir), 1);
	free(file);
	free(out);
	ck_assert_int_eq(sw_t_sh(NULL,
				 "'%s' metrics -o /nonexistent/x.prom "
				 "'%s' 2>/dev/null",
				 sw_t_build("stallwatch"), dir),
			 2);
}
END_TEST

/* --listen serves the same text on /metrics, 404 elsewhere, and stops
 * on SIGTERM. */
START_TEST(listen_serves_metrics)
{
	const char *dir = make_trace();
	char *out = NULL, url[128];
	int port, pid, i;

	ck_assert_int_eq(sw_t_sh(&out, "/usr/bin/python3 -c 'import socket; "
				       "s=socket.socket(); "
				       "s.bind((\"127.0.0.1\", 0)); "
				       "print(s.getsockname()[1])'"),
			 0);
	port = atoi(out);
	free(out);
	ck_assert_int_gt(port, 0);
	ck_assert_int_eq(sw_t_sh(&out,
				 "'%s' metrics --listen 127.0.0.1:%d '%s' "
				 ">/dev/null 2>&1 & echo $!",
				 sw_t_build("stallwatch"), port, dir),
			 0);
	pid = atoi(out);
	free(out);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	for (i = 0; i < 100; i++) {
		out = NULL;
		if (sw_t_sh(&out, "curl -sf '%s/metrics'", url) == 0)
			break;
		free(out);
		out = NULL;
		usleep(100000);
	}
	ck_assert_msg(out != NULL, "metrics --listen never answered");
	ck_assert_ptr_nonnull(strstr(out,
				     "\nstallwatch_loop_stalls_total{"
				     "process=\"we\\\"b\\\\x\",pid=\"777\","
				     "loop=\"1\"} 3\n"));
	free(out);
	/* a scraper that asks for OpenMetrics gets it */
	ck_assert_int_eq(
	    sw_t_sh(
		&out,
		"curl -sf -H 'Accept: application/openmetrics-text;"
		"version=1.0.0,text/plain;version=0.0.4;q=0.5' '%s/metrics'",
		url),
	    0);
	ck_assert_ptr_nonnull(
	    strstr(out, "\n# TYPE stallwatch_loop_stalls counter\n"));
	ck_assert_ptr_nonnull(strstr(out, "\nstallwatch_loop_stalls_total{"));
	ck_assert_ptr_null(strstr(out, "# TYPE stallwatch_loop_stalls_total"));
	ck_assert(strlen(out) > 6 && !strcmp(out + strlen(out) - 6, "# EOF\n"));
	free(out);
	ck_assert_int_eq(sw_t_sh(&out,
				 "curl -s -o /dev/null -w '%%{http_code}' "
				 "'%s/other'",
				 url),
			 0);
	ck_assert_str_eq(out, "404");
	free(out);
	kill(pid, SIGTERM);
	for (i = 0; i < 50 && kill(pid, 0) == 0; i++)
		usleep(100000);
	ck_assert_msg(i < 50, "metrics --listen did not stop on SIGTERM");
}
END_TEST

Suite *sw_suite_metrics_exposition(void)
{
	Suite *s = suite_create("metrics_exposition");
	TCase *tc = tcase_create("exposition");

	tcase_add_test(tc, exposition_is_valid_and_exact);
	tcase_add_test(tc, places_are_bounded);
	tcase_add_test(tc, output_file_is_written_whole);
	tcase_add_test(tc, listen_serves_metrics);
	suite_add_tcase(s, tc);
	return s;
}
