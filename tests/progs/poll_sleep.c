/*
 * poll_sleep.c - a glib-style loop that waits in poll(), whose callback
 * (poll_callback) sleeps 120 ms.  Only a loop with STALLWATCH_POLL_LOOPS=1.
 */
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

__attribute__((noinline)) static void poll_callback(void)
{
	struct timespec ts = {0, 120 * 1000000L};

	nanosleep(&ts, NULL);
}

int main(void)
{
	struct itimerspec its = {{0, 5 * 1000000L}, {0, 5 * 1000000L}};
	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK), done = 0;
	struct pollfd pfd;
	uint64_t ticks;

	if (tfd < 0 || timerfd_settime(tfd, 0, &its, NULL) != 0)
		return 2;
	pfd.fd = tfd;
	pfd.events = POLLIN;
	while (done < 3) {
		if (poll(&pfd, 1, 1000) <= 0)
			continue;
		if (read(tfd, &ticks, sizeof(ticks)) < 0)
			continue;
		if (done++ == 1)
			poll_callback();
	}
	poll(&pfd, 1, 0);
	close(tfd);
	printf("poll_sleep: done\n");
	return 0;
}
