/*
 * test_place_memcached.c - memcached -vv logging every command to a stderr
 * pipe whose reader is slow: once the pipe is full, each log line written
 * through stdio blocks the worker thread's event loop.  glibc's stdio
 * reaches the kernel through internal calls, so the site's call is the
 * stdio function memcached called (fprintf, fputc, ...); its place names
 * memcached's own frames (the program is the app), and the gate's verdict
 * on the same run and its GitHub annotation name the same place.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../support.h"

/* The calls through which a log line can block: stdio and write(2). */
static int is_output_call(const char *call)
{
	static const char *const calls[] = {
	    "fwrite", "fprintf", "vfprintf", "fputc",  "fputs", "putc",
	    "puts",   "fflush",	 "write",    "writev", NULL};
	size_t i;

	for (i = 0; call && calls[i]; i++)
		if (!strcmp(call, calls[i]))
			return 1;
	return 0;
}

START_TEST(memcached_verbose_log_to_slow_pipe_names_memcached_code)
{
	const char *dir = sw_t_tmpdir("memcached");
	char *out = NULL, tdir[4200], place[1024] = "";
	json_t *rep, *site;
	int rc, port = 31000 + (int)(getpid() % 5000);
	size_t i;

	if (!sw_t_have("memcached")) {
		sw_t_skip("memcached is not installed");
		return;
	}
	/* The FIFO's reader takes 4 KB every 0.3 s after a second; each
	 * `get` of a 240-byte key logs about 500 bytes, so the 64 KB pipe is
	 * full after about 130 of the 200 requests. */
	rc = sw_t_sh(
	    &out,
	    "cd '%s' && mkfifo fifo && "
	    "{ sh -c 'exec 3<fifo; sleep 1; while dd bs=4096 count=1 <&3 "
	    ">/dev/null 2>&1; do sleep 0.3; done' & } ; reader=$!; "
	    "'%s' run -q -o '%s/t' -- memcached -vv -U 0 -t 1 -u root "
	    "-l 127.0.0.1 -p %d 2>fifo & pid=$!; "
	    "/usr/bin/python3 -c 'import socket, sys, time\n"
	    "port = int(sys.argv[1])\n"
	    "for i in range(100):\n"
	    "    try:\n"
	    "        s = socket.create_connection((\"127.0.0.1\", port)); "
	    "break\n"
	    "    except OSError: time.sleep(0.1)\n"
	    "k = b\"k\" * 240\n"
	    "s.sendall(b\"set \" + k + b\" 0 0 3\\r\\nabc\\r\\n\")\n"
	    "assert s.recv(100) == b\"STORED\\r\\n\"\n"
	    "for i in range(200):\n"
	    "    s.sendall(b\"get \" + k + b\"\\r\\n\")\n"
	    "    d = b\"\"\n"
	    "    while not d.endswith(b\"END\\r\\n\"): d += s.recv(1000)\n"
	    "s.sendall(b\"quit\\r\\n\")\n"
	    "' %d; rc=$?; kill $pid 2>/dev/null; wait $pid; "
	    "kill $reader 2>/dev/null; exit $rc",
	    dir, sw_t_build("stallwatch"), dir, port, port);
	ck_assert_msg(rc == 0, "memcached under stallwatch run: rc %d: %s", rc,
		      out);
	free(out);
	snprintf(tdir, sizeof(tdir), "%s/t", dir);
	rep = sw_t_report(tdir, NULL);
	ck_assert_ptr_nonnull(rep);
	ck_assert_msg(json_array_size(json_object_get(rep, "stalls")) > 0,
		      "no stall");
	json_array_foreach (json_object_get(rep, "sites"), i, site) {
		json_t *pl = json_object_get(site, "place");
		const char *t = json_string_value(json_object_get(pl, "text"));

		if (!*place && t && strstr(t, "memcached") &&
		    is_output_call(
			json_string_value(json_object_get(site, "call"))) &&
		    !strcmp(json_string_value(json_object_get(site, "kind")),
			    "blocking-call") &&
		    json_is_true(json_object_get(pl, "in_app")))
			snprintf(place, sizeof(place), "%s", t);
	}
	if (!*place)
		sw_t_dump("sites", json_object_get(rep, "sites"));
	ck_assert_msg(*place, "no blocking log write placed in memcached");
	json_decref(rep);
	/* The text headlines of the stalls name memcached's code */
	rc = sw_t_sh(&out, "'%s' report '%s'", sw_t_build("stallwatch"), tdir);
	ck_assert_int_eq(rc, 0);
	ck_assert_msg(sw_t_count_lines2(out, "mostly site", "memcached") >= 1,
		      "no headline in memcached's code:\n%s", out);
	free(out);
	/* The gate on the same run names it, in a verdict and in its GitHub
	 * annotation. */
	rc = sw_t_gate(tdir, &out);
	ck_assert_msg(rc == 1, "gate rc %d:\n%s", rc, out);
	ck_assert_msg(sw_t_count_lines2(out, ": error: ", place) >= 1 &&
			  sw_t_count_lines2(out, "^::error ", place) >= 1,
		      "no verdict or annotation in '%s':\n%s", place, out);
	free(out);
}
END_TEST

Suite *sw_suite_place_memcached(void)
{
	Suite *s = suite_create("place_memcached");
	TCase *tc = tcase_create("server");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc,
		       memcached_verbose_log_to_slow_pipe_names_memcached_code);
	suite_add_tcase(s, tc);
	return s;
}
