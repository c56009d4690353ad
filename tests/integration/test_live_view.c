/*
 * test_live_view.c - `stallwatch top` on real services while they run: a
 * real aiohttp service and a C epoll loop, each stalling periodically
 * under the shim; `top --once` names the running loop and the planted
 * place, and forgets the process once it exits.  The interactive view is
 * driven through tmux: it picks up a service that starts after it, draws
 * its loop, re-sorts on a key, survives the service exiting and quits on
 * `q`.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../support.h"

#define SW sw_t_build("stallwatch")

/* Start cmd under the shim in the background, traces into dir with a
 * heartbeat a second; its pid. */
static int start_service(const char *dir, const char *cmd)
{
	char *out = NULL;
	int pid;

	ck_assert_int_eq(
	    sw_t_sh(&out,
		    "STALLWATCH_OUTPUT='%s' STALLWATCH_HEARTBEAT=1s "
		    "LD_PRELOAD='%s' %s >'%s/service.log' 2>&1 & echo $!",
		    dir, sw_t_build("libstallwatch.so"), cmd, dir),
	    0);
	pid = atoi(out);
	free(out);
	ck_assert_int_gt(pid, 0);
	return pid;
}

static void stop_service(int pid)
{
	int i;

	kill(pid, SIGTERM);
	for (i = 0; i < 100 && kill(pid, 0) == 0; i++)
		usleep(50000);
	kill(pid, SIGKILL);
}

/* `top --once dir` until its output holds every needle (20 s at most). */
static char *top_until(const char *dir, const char *n1, const char *n2)
{
	char *out = NULL;
	int i;

	for (i = 0; i < 80; i++) {
		free(out);
		out = NULL;
		ck_assert_int_eq(sw_t_sh(&out, "'%s' top --once '%s'", SW, dir),
				 0);
		if (strstr(out, n1) && (!n2 || strstr(out, n2)))
			return out;
		usleep(250000);
	}
	fprintf(stderr, "top never showed %s / %s:\n%s\n", n1, n2 ? n2 : "",
		out);
	ck_abort_msg("top --once did not show the service");
	return NULL;
}

/* The row of pid in top's table. */
static const char *row_of(const char *out, int pid)
{
	char needle[32];

	snprintf(needle, sizeof(needle), "\n%7d ", pid);
	return strstr(out, needle);
}

START_TEST(top_once_names_aiohttp_loop_and_place)
{
	const char *dir = sw_t_tmpdir("live-aiohttp");
	char cmd[4200], *out;
	const char *row;
	int pid;

	if (sw_t_sh(NULL, "/usr/bin/python3 -c 'import aiohttp'") != 0) {
		sw_t_skip("python3-aiohttp is not installed");
		return;
	}
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 '%s' 30",
		 sw_t_src("tests/progs/aiohttp_service.py"));
	pid = start_service(dir, cmd);
	out = top_until(dir, "render_report (", "aiohttp_service.py:15)");
	row = row_of(out, pid);
	ck_assert_msg(row != NULL, "no row for pid %d:\n%s", pid, out);
	ck_assert_ptr_nonnull(strstr(row, "python3"));
	ck_assert_ptr_nonnull(strstr(out, "top places of pid"));
	free(out);
	/* a heartbeat window: turns/s and lag columns are numbers */
	out = top_until(dir, " ms ", NULL);
	free(out);
	stop_service(pid);
	out = top_until(dir, "0 event loops", NULL);
	ck_assert_msg(!row_of(out, pid), "exited service still shown:\n%s",
		      out);
	free(out);
}
END_TEST

START_TEST(top_once_names_c_epoll_loop_and_place)
{
	const char *dir = sw_t_tmpdir("live-epoll");
	char cmd[4200], *out;
	int pid;

	snprintf(cmd, sizeof(cmd), "'%s' 400 120",
		 sw_t_build("tests/progs/epoll_sleep"));
	pid = start_service(dir, cmd);
	out = top_until(dir, "nanosleep ← slow_callback", "epoll_sleep/1");
	ck_assert_ptr_nonnull(row_of(out, pid));
	free(out);
	stop_service(pid);
}
END_TEST

/* tmux: the pane's text. */
static char *pane(const char *sock)
{
	char *out = NULL;

	sw_t_sh(&out, "tmux -L '%s' capture-pane -p -t swtop", sock);
	return out ? out : strdup("");
}

static char *pane_until(const char *sock, const char *needle)
{
	char *out = NULL;
	int i;

	for (i = 0; i < 80; i++) {
		free(out);
		out = pane(sock);
		if (strstr(out, needle))
			return out;
		usleep(250000);
	}
	fprintf(stderr, "pane never showed '%s':\n%s\n", needle, out);
	ck_abort_msg("interactive top did not show what was expected");
	return NULL;
}

START_TEST(top_interactive_follows_start_and_exit_sorts_and_quits)
{
	const char *dir = sw_t_tmpdir("live-tmux");
	char cmd[4200], sock[64], *out;
	int pid, i;

	if (!sw_t_have("tmux")) {
		sw_t_skip("tmux is not installed");
		return;
	}
	snprintf(sock, sizeof(sock), "swtest%d", (int)getpid());
	snprintf(cmd, sizeof(cmd), "'%s' 400 120",
		 sw_t_build("tests/progs/epoll_sleep"));
	/* top first, on an empty directory; the service starts later */
	if (sw_t_sh(&out,
		    "TERM=xterm tmux -L '%s' -f /dev/null new-session -d -s "
		    "swtop -x 200 -y 40 \"'%s' top '%s'\" 2>&1",
		    sock, SW, dir) != 0)
		ck_abort_msg("tmux cannot start a session: %s", out);
	free(out);
	free(pane_until(sock, "no traced process is running"));
	pid = start_service(dir, cmd);
	out = pane_until(sock, "nanosleep ← slow_callback");
	ck_assert_ptr_nonnull(strstr(out, "TURNS/s"));
	ck_assert_ptr_nonnull(strstr(out, "q quit"));
	ck_assert_ptr_nonnull(strstr(out, "[sorted by stalls]"));
	free(out);
	sw_t_sh(NULL, "tmux -L '%s' send-keys -t swtop u", sock);
	free(pane_until(sock, "[sorted by util]"));
	/* the service exits: top keeps running and says nothing runs */
	stop_service(pid);
	free(pane_until(sock, "no traced process is running"));
	sw_t_sh(NULL, "tmux -L '%s' send-keys -t swtop q", sock);
	for (i = 0; i < 40; i++) {
		if (sw_t_sh(NULL,
			    "tmux -L '%s' has-session -t swtop 2>/dev/null",
			    sock) != 0)
			break;
		usleep(100000);
	}
	sw_t_sh(NULL, "tmux -L '%s' kill-server 2>/dev/null", sock);
	ck_assert_msg(i < 40, "top did not quit on q");
}
END_TEST

START_TEST(top_usage_errors)
{
	char *out = NULL;

	ck_assert_int_eq(sw_t_sh(&out, "'%s' top --once /nonexistent/x", SW),
			 2);
	ck_assert_int_eq(sw_t_count_lines(out, "stallwatch"), 1);
	free(out);
	ck_assert_int_eq(sw_t_sh(&out, "'%s' top --sort bogus", SW), 2);
	free(out);
	ck_assert_int_eq(sw_t_sh(&out, "'%s' top --help", SW), 0);
	ck_assert_ptr_nonnull(strstr(out, "--once"));
	free(out);
}
END_TEST

Suite *sw_suite_live_view(void)
{
	Suite *s = suite_create("live_view");
	TCase *tc = tcase_create("top");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, top_once_names_aiohttp_loop_and_place);
	tcase_add_test(tc, top_once_names_c_epoll_loop_and_place);
	tcase_add_test(tc,
		       top_interactive_follows_start_and_exit_sorts_and_quits);
	tcase_add_test(tc, top_usage_errors);
	suite_add_tcase(s, tc);
	return s;
}
