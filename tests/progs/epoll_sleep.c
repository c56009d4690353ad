/*
 * epoll_sleep.c - a C epoll loop whose timer callback sleeps: a blocking
 * call on the loop thread (foundation test 1, and the SIGKILL test).
 *
 * usage: epoll_sleep [turns] [sleep_ms] [kill]
 *   every turn's callback (slow_callback) sleeps sleep_ms with nanosleep;
 *   with "kill", the program SIGKILLs itself after the last turn's stall
 *   has been closed by the next wait, so no destructor runs.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

__attribute__((noinline)) static void slow_callback(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

__attribute__((noinline)) static void on_timer(int tfd, int ms)
{
	uint64_t ticks;

	if (read(tfd, &ticks, sizeof(ticks)) < 0)
		return;
	slow_callback(ms);
}

int main(int argc, char **argv)
{
	int turns = argc > 1 ? atoi(argv[1]) : 1;
	int ms = argc > 2 ? atoi(argv[2]) : 250;
	int self_kill = argc > 3 && strcmp(argv[3], "kill") == 0;
	struct itimerspec its = {{0, 20 * 1000000L}, {0, 20 * 1000000L}};
	struct epoll_event ev = {.events = EPOLLIN}, out[4];
	int epfd, tfd, done = 0;

	epfd = epoll_create1(EPOLL_CLOEXEC);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (epfd < 0 || tfd < 0 || timerfd_settime(tfd, 0, &its, NULL) != 0) {
		perror("epoll_sleep: setup");
		return 1;
	}
	ev.data.fd = tfd;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, tfd, &ev) != 0) {
		perror("epoll_sleep: epoll_ctl");
		return 1;
	}
	while (done < turns) {
		int n = epoll_wait(epfd, out, 4, 1000), i;

		for (i = 0; i < n; i++) {
			if (out[i].data.fd == tfd) {
				on_timer(tfd, ms);
				done++;
			}
		}
	}
	/* One more wait closes the last turn (its stall is written then). */
	epoll_wait(epfd, out, 4, 0);
	if (self_kill)
		kill(getpid(), SIGKILL);
	close(tfd);
	close(epfd);
	printf("epoll_sleep: %d turns done\n", done);
	return 0;
}
