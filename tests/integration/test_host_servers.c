/*
 * test_host_servers.c - real servers as hosts: redis-server, nginx
 * (master and worker) and memcached, each started plain and under the
 * shim, driven by its own client (redis-cli, curl, a memcached
 * text-protocol client in Python).  The replies must be identical, and so
 * must the descriptors of the serving process: a descriptor the shim
 * holds, or one it moved the server's own descriptors up by, shows up in
 * `ls -l /proc/PID/fd`.  The scenario of each server is
 * tests/progs/host_servers.sh.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../support.h"

static void same_server(const char *name, const char *need1, const char *need2,
			int port_offset)
{
	const char *plain_dir = sw_t_tmpdir("server-plain");
	char pdir[4200], *plain = NULL, *shim = NULL;
	const char *shim_dir;
	int port = 20000 + (int)((getpid() * 7 + port_offset) % 20000);
	int rc_plain, rc_shim;

	if (!sw_t_have(need1) || !sw_t_have(need2)) {
		sw_t_skipf("%s or %s not installed: %s not tried", need1, need2,
			   name);
		return;
	}
	snprintf(pdir, sizeof(pdir), "%s", plain_dir);
	shim_dir = sw_t_tmpdir("server-shim");
	rc_plain =
	    sw_t_sh(&plain, "'%s' %s '%s' %d",
		    sw_t_src("tests/progs/host_servers.sh"), name, pdir, port);
	/* The same directory name pattern under the shim: the script
	 * prints paths inside its directory as DIR. */
	rc_shim =
	    sw_t_sh(&shim,
		    "'%s' %s '%s' %d LD_PRELOAD='%s' "
		    "STALLWATCH_OUTPUT='%s'",
		    sw_t_src("tests/progs/host_servers.sh"), name, shim_dir,
		    port + 1, sw_t_build("libstallwatch.so"), shim_dir);
	ck_assert_msg(rc_plain == 0, "%s plain: exit %d:\n%s", name, rc_plain,
		      plain ? plain : "");
	ck_assert_msg(rc_shim == rc_plain && shim && strcmp(plain, shim) == 0,
		      "%s: plain run:\n%s\nunder the shim (exit %d):\n%s", name,
		      plain, rc_shim, shim ? shim : "(none)");
	free(plain);
	free(shim);
}

START_TEST(test_redis_same_replies_and_fds)
{
	same_server("redis", "redis-server", "redis-cli", 0);
}
END_TEST

START_TEST(test_nginx_same_replies_and_worker_fds)
{
	same_server("nginx", "nginx", "curl", 2);
}
END_TEST

START_TEST(test_memcached_same_replies_and_fds)
{
	same_server("memcached", "memcached", "/usr/bin/python3", 4);
}
END_TEST

Suite *sw_suite_host_servers(void)
{
	Suite *s = suite_create("host_servers");
	TCase *tc = tcase_create("host_servers");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_redis_same_replies_and_fds);
	tcase_add_test(tc, test_nginx_same_replies_and_worker_fds);
	tcase_add_test(tc, test_memcached_same_replies_and_fds);
	suite_add_tcase(s, tc);
	return s;
}
