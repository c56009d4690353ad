/*
 * test_process_labels.c - a process is shown under its own name: nginx
 * renames its workers after fork ("nginx: worker process"), and a worker's
 * trace, made at its first loop wait, carries that title, not the master's.
 * The master never waits on a loop, so it leaves no trace at all.
 */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../support.h"

#define SW sw_t_build("stallwatch")

START_TEST(nginx_worker_shows_its_own_title)
{
	const char *dir = sw_t_tmpdir("labels-nginx");
	int port = 21000 + (int)(getpid() % 9000);
	char conf[4200], out[4200];
	json_t *rep, *p;
	size_t i, workers = 0, masters = 0;
	FILE *f;

	if (access("/usr/sbin/nginx", X_OK) != 0) {
		sw_t_skip("nginx is not installed");
		return;
	}
	snprintf(conf, sizeof(conf), "%s/nginx.conf", dir);
	f = fopen(conf, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f,
		"daemon off; worker_processes 1; pid %s/nginx.pid;\n"
		"error_log %s/error.log;\n"
		"events { worker_connections 64; }\n"
		"http { access_log off; client_body_temp_path %s;\n"
		"  proxy_temp_path %s; fastcgi_temp_path %s;\n"
		"  uwsgi_temp_path %s; scgi_temp_path %s;\n"
		"  server { listen 127.0.0.1:%d;\n"
		"    location / { return 200 \"hi\\n\"; } } }\n",
		dir, dir, dir, dir, dir, dir, dir, port);
	fclose(f);
	snprintf(out, sizeof(out), "%s/out", dir);
	/* master + worker under run; one request; a graceful stop */
	ck_assert_int_eq(
	    sw_t_sh(NULL,
		    "'%s' run -q -o '%s' -- /usr/sbin/nginx -p '%s' -c '%s' "
		    ">/dev/null 2>&1 & "
		    "for i in $(seq 50); do curl -sf http://127.0.0.1:%d/ "
		    ">/dev/null && break; sleep 0.1; done; "
		    "kill -QUIT $(cat '%s/nginx.pid'); wait",
		    SW, out, dir, conf, port, dir),
	    0);
	rep = sw_t_report(out, NULL);
	ck_assert_ptr_nonnull(rep);
	json_array_foreach (json_object_get(rep, "processes"), i, p) {
		const char *cmd =
		    json_string_value(json_object_get(p, "command"));

		ck_assert_ptr_nonnull(cmd);
		workers += strncmp(cmd, "nginx: worker process", 21) == 0;
		masters += strstr(cmd, "master") != NULL;
	}
	if (workers != 1 || masters != 0)
		sw_t_dump("processes", json_object_get(rep, "processes"));
	ck_assert_int_eq(workers, 1);
	ck_assert_int_eq(masters, 0);
	json_decref(rep);
}
END_TEST

Suite *sw_suite_process_labels(void)
{
	Suite *s = suite_create("process_labels");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, nginx_worker_shows_its_own_title);
	suite_add_tcase(s, tc);
	return s;
}
