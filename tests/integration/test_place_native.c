/*
 * test_place_native.c - stalls planted in native servers from Debian:
 * redis (DEBUG SLEEP, an EVAL busy script) and nginx (access_log to a
 * FIFO whose reader is slow).  Their headline is the program's innermost
 * named frames ("nanosleep ← debugCommand ← call ← processCommand"), never
 * libc's start-up code; redis's frames carry the name it was launched by
 * (redis-server, a symlink to redis-check-rdb).  The gate's verdicts on
 * the same runs, and their GitHub annotations, name the same places.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../support.h"

static int port_for(int base)
{
	return base + (int)(getpid() % 5000);
}

/* The place text of the site that explains the longest stall of each
 * kind, "|"-joined, and the frames' module names seen. */
static void places(json_t *rep, char *buf, size_t cap)
{
	json_t *site;
	size_t i, len = 0;

	buf[0] = 0;
	json_array_foreach (json_object_get(rep, "sites"), i, site)
		len += (size_t)snprintf(
		    buf + len, cap > len ? cap - len : 0, "%s|",
		    json_string_value(json_object_get(
			json_object_get(site, "place"), "text")));
}

START_TEST(redis_debug_sleep_and_eval_name_redis_code)
{
	const char *dir = sw_t_tmpdir("redis");
	char *out = NULL, tdir[4200], all[8000];
	json_t *rep, *site;
	int rc, port = port_for(21000), debug = 0, eval = 0, named = 0;
	size_t i, j;

	if (!sw_t_have("redis-server") || !sw_t_have("redis-cli")) {
		sw_t_skip("redis-server is not installed");
		return;
	}
	rc = sw_t_sh(
	    &out,
	    "cd '%s' && '%s' run -q -o '%s/t' -- redis-server --port %d "
	    "--save '' --appendonly no --enable-debug-command yes "
	    ">'%s/log' 2>&1 & pid=$!; "
	    "for i in $(seq 100); do redis-cli -p %d ping >/dev/null 2>&1 && "
	    "break; sleep 0.1; done; "
	    "redis-cli -p %d DEBUG SLEEP 0.3 && "
	    /* about 0.4 s of Lua here: clear of a 100 ms gate */
	    "redis-cli -p %d EVAL 'local i=0 while i < 80000000 do i=i+1 end "
	    "return i' 0; rc=$?; "
	    "redis-cli -p %d shutdown nosave >/dev/null 2>&1; wait $pid; "
	    "exit $rc",
	    dir, sw_t_build("stallwatch"), dir, port, dir, port, port, port,
	    port);
	ck_assert_msg(rc == 0, "redis under stallwatch run: rc %d: %s", rc,
		      out);
	free(out);
	snprintf(tdir, sizeof(tdir), "%s/t", dir);
	rep = sw_t_report(tdir, NULL);
	ck_assert_ptr_nonnull(rep);
	places(rep, all, sizeof(all));
	json_array_foreach (json_object_get(rep, "sites"), i, site) {
		const char *t = json_string_value(
		    json_object_get(json_object_get(site, "place"), "text"));
		json_t *fr;

		if (t && strstr(t, "debugCommand") &&
		    !strcmp(json_string_value(json_object_get(site, "kind")),
			    "blocking-call"))
			debug = 1;
		if (t && strstr(t, "evalGenericCommand") &&
		    !strcmp(json_string_value(json_object_get(site, "kind")),
			    "cpu-stall"))
			eval = 1;
		json_array_foreach (json_object_get(site, "frames"), j, fr) {
			const char *m =
			    json_string_value(json_object_get(fr, "module"));

			if (m && strstr(m, "/redis-server"))
				named = 1;
			if (m && strstr(m, "/redis-check-rdb"))
				ck_abort_msg("a frame under the exe's name %s",
					     m);
		}
	}
	ck_assert_msg(debug, "DEBUG SLEEP not placed in debugCommand: %s", all);
	ck_assert_msg(eval, "EVAL not placed in evalGenericCommand: %s", all);
	ck_assert_msg(named, "no frame under the name redis-server: %s", all);
	ck_assert_msg(!strstr(all, "__libc_start_call_main"),
		      "a place in libc's start-up: %s", all);
	json_decref(rep);
	/* The text headlines of the two stalls name them */
	rc = sw_t_sh(&out, "'%s' report '%s'", sw_t_build("stallwatch"), tdir);
	ck_assert_int_eq(rc, 0);
	ck_assert_msg(
	    sw_t_count_lines2(out, "mostly site", "debugCommand") &&
		sw_t_count_lines2(out, "mostly site", "evalGenericCommand"),
	    "headlines without debugCommand or "
	    "evalGenericCommand:\n%s",
	    out);
	free(out);
	/* The gate on the same run names both places, in its verdicts and
	 * in their GitHub annotations. */
	rc = sw_t_gate(tdir, &out);
	ck_assert_msg(rc == 1, "gate rc %d:\n%s", rc, out);
	ck_assert_msg(
	    sw_t_count_lines2(out, ": error: ", "debugCommand") >= 1 &&
		sw_t_count_lines2(out, "^::error ", "debugCommand") >= 1,
	    "no verdict or annotation in debugCommand:\n%s", out);
	ck_assert_msg(
	    sw_t_count_lines2(out, ": error: ", "evalGenericCommand") >= 1 &&
		sw_t_count_lines2(out, "^::error ", "evalGenericCommand") >= 1,
	    "no verdict or annotation in evalGenericCommand:\n%s", out);
	ck_assert_msg(!strstr(out, "__libc_start_call_main"),
		      "a verdict in libc's start-up:\n%s", out);
	free(out);
}
END_TEST

START_TEST(nginx_access_log_to_slow_fifo_names_nginx_code)
{
	const char *dir = sw_t_tmpdir("nginx");
	char *out = NULL, conf[4300], tdir[4200], all[8000];
	json_t *rep, *site;
	int rc, port = port_for(26000), found = 0;
	size_t i;
	FILE *f;

	if (!sw_t_have("/usr/sbin/nginx")) {
		sw_t_skip("nginx is not installed");
		return;
	}
	snprintf(conf, sizeof(conf), "%s/nginx.conf", dir);
	f = fopen(conf, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f,
		"daemon off; master_process off; worker_processes 1;\n"
		"error_log %s/error.log; pid %s/nginx.pid;\n"
		"events { worker_connections 64; }\n"
		"http { access_log %s/fifo;\n"
		"  client_body_temp_path %s; proxy_temp_path %s;\n"
		"  fastcgi_temp_path %s; uwsgi_temp_path %s; "
		"scgi_temp_path %s;\n"
		"  server { listen 127.0.0.1:%d; location / { return 200 "
		"\"ok\\n\"; } } }\n",
		dir, dir, dir, dir, dir, dir, dir, dir, port);
	fclose(f);
	/* The FIFO's reader takes 4 KB every 0.3 s after a second: once the
	 * pipe is full, each access-log write blocks the worker's loop. */
	rc = sw_t_sh(
	    &out,
	    "cd '%s' && mkfifo fifo && "
	    "{ sh -c 'exec 3<fifo; sleep 1; while dd bs=4096 count=1 <&3 "
	    ">/dev/null 2>&1; do sleep 0.3; done' & } ; reader=$!; "
	    "'%s' run -q -o '%s/t' -- /usr/sbin/nginx -c '%s' >'%s/log' 2>&1 & "
	    "pid=$!; "
	    "/usr/bin/python3 -c 'import socket, sys, time\n"
	    "port = int(sys.argv[1])\n"
	    "for i in range(100):\n"
	    "    try:\n"
	    "        socket.create_connection((\"127.0.0.1\", port)).close(); "
	    "break\n"
	    "    except OSError: time.sleep(0.1)\n"
	    "for i in range(800):\n"
	    "    s = socket.create_connection((\"127.0.0.1\", port))\n"
	    "    s.sendall(b\"GET /\" + b\"x\" * 60 + b\" "
	    "HTTP/1.0\\r\\n\\r\\n\")\n"
	    "    s.recv(100); s.close()\n"
	    "' %d; rc=$?; kill $(cat nginx.pid) 2>/dev/null; wait $pid; "
	    "kill $reader 2>/dev/null; exit $rc",
	    dir, sw_t_build("stallwatch"), dir, conf, dir, port);
	ck_assert_msg(rc == 0, "nginx under stallwatch run: rc %d: %s", rc,
		      out);
	free(out);
	snprintf(tdir, sizeof(tdir), "%s/t", dir);
	rep = sw_t_report(tdir, NULL);
	ck_assert_ptr_nonnull(rep);
	places(rep, all, sizeof(all));
	ck_assert_msg(json_array_size(json_object_get(rep, "stalls")) > 0,
		      "no stall: %s", all);
	json_array_foreach (json_object_get(rep, "sites"), i, site) {
		json_t *pl = json_object_get(site, "place");
		const char *t = json_string_value(json_object_get(pl, "text"));

		/* write ← ngx_http_free_request ← ... : the access log
		 * written when a request ends */
		if (t && !strncmp(t, "write \xe2\x86\x90 ngx_", 9) &&
		    json_is_true(json_object_get(pl, "in_app")))
			found = 1;
	}
	ck_assert_msg(found, "no blocking write placed in nginx's code: %s",
		      all);
	json_decref(rep);
	/* A stall's text headline names it */
	rc = sw_t_sh(&out, "'%s' report '%s'", sw_t_build("stallwatch"), tdir);
	ck_assert_int_eq(rc, 0);
	ck_assert_msg(sw_t_count_lines2(out, "mostly site",
					": write \xe2\x86\x90 ngx_") >= 1,
		      "no headline in nginx's write:\n%s", out);
	free(out);
	/* The gate on the same run names it, in a verdict and in its GitHub
	 * annotation. */
	rc = sw_t_gate(tdir, &out);
	ck_assert_msg(rc == 1, "gate rc %d:\n%s", rc, out);
	ck_assert_msg(sw_t_count_lines2(out, ": error: ",
					" in write \xe2\x86\x90 ngx_") >= 1 &&
			  sw_t_count_lines2(out, "^::error ",
					    " in write \xe2\x86\x90 ngx_") >= 1,
		      "no verdict or annotation in nginx's write:\n%s", out);
	free(out);
}
END_TEST

Suite *sw_suite_place_native(void)
{
	Suite *s = suite_create("place_native");
	TCase *tc = tcase_create("servers");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, redis_debug_sleep_and_eval_name_redis_code);
	tcase_add_test(tc, nginx_access_log_to_slow_fifo_names_nginx_code);
	suite_add_tcase(s, tc);
	return s;
}
