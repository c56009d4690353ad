/*
 * gate_calm.c - a well-behaved epoll loop: 30 short timer turns and no
 * blocking call, so `stallwatch gate` with any sane budget passes it.
 */
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
	struct itimerspec every = {{0, 5000000}, {0, 5000000}};
	struct epoll_event ev = {.events = EPOLLIN}, got;
	int ep = epoll_create1(0),
	    tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	uint64_t ticks;
	int turn;

	if (ep < 0 || tfd < 0 || timerfd_settime(tfd, 0, &every, NULL) ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev))
		return 1;
	for (turn = 0; turn < 30; turn++) {
		if (epoll_wait(ep, &got, 1, 1000) != 1)
			return 1;
		if (read(tfd, &ticks, sizeof(ticks)) != sizeof(ticks))
			return 1;
	}
	close(tfd);
	close(ep);
	return 0;
}
