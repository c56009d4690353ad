/*
 * gate_block.c - an epoll loop whose request handler sleeps 250 ms once:
 * `stallwatch gate --max-stall 100ms` must fail it and point at the
 * nanosleep line below (built with -g, so the native frame has file:line).
 */
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static void handle_request(void)
{
	struct timespec ts = {0, 250000000};

	nanosleep(&ts, NULL); /* BLOCKING-LINE */
}

int main(void)
{
	struct itimerspec every = {{0, 10000000}, {0, 10000000}};
	struct epoll_event ev = {.events = EPOLLIN}, got;
	int ep = epoll_create1(0),
	    tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	uint64_t ticks;
	int turn;

	if (ep < 0 || tfd < 0 || timerfd_settime(tfd, 0, &every, NULL) ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev))
		return 1;
	for (turn = 0; turn < 10; turn++) {
		if (epoll_wait(ep, &got, 1, 1000) != 1)
			return 1;
		if (read(tfd, &ticks, sizeof(ticks)) != sizeof(ticks))
			return 1;
		if (turn == 3)
			handle_request();
	}
	close(tfd);
	close(ep);
	return 0;
}
