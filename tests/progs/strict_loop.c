/*
 * strict_loop.c - calls that are fast here but could block in production,
 * for strict mode, plus a private loop.
 *
 * usage: strict_loop FILE
 *   turn 1: read_config() preads FILE 50 times (a regular file: always
 *           blocking-capable), then reads an empty O_NONBLOCK pipe (never);
 *   turn 2: private_loop() waits 150 ms on an epoll fd of its own.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define READS 50

__attribute__((noinline)) static void read_config(const char *path)
{
	char buf[64];
	int fd = open(path, O_RDONLY), i;

	if (fd < 0)
		return;
	for (i = 0; i < READS; i++)
		if (pread(fd, buf, sizeof(buf), 0) < 0)
			break;
	close(fd);
}

__attribute__((noinline)) static void poll_pipe(void)
{
	int p[2];
	char c;

	if (pipe2(p, O_NONBLOCK) != 0)
		return;
	if (read(p[0], &c, 1) < 0) /* EAGAIN: never blocks */
		(void)0;
	close(p[0]);
	close(p[1]);
}

__attribute__((noinline)) static void private_loop(void)
{
	struct epoll_event ev;
	int ep = epoll_create1(0);

	epoll_wait(ep, &ev, 1, 150);
	close(ep);
}

int main(int argc, char **argv)
{
	struct itimerspec its = {{0, 5 * 1000000L}, {0, 5 * 1000000L}};
	struct epoll_event ev = {.events = EPOLLIN}, out[2];
	int epfd = epoll_create1(0), tfd, turn = 0;
	uint64_t ticks;

	if (argc < 2)
		return 2;
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	if (epfd < 0 || tfd < 0 || timerfd_settime(tfd, 0, &its, NULL) != 0)
		return 2;
	ev.data.fd = tfd;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, tfd, &ev) != 0)
		return 2;
	while (turn < 2) {
		if (epoll_wait(epfd, out, 2, 1000) <= 0)
			continue;
		if (read(tfd, &ticks, sizeof(ticks)) < 0)
			continue;
		if (turn++ == 0) {
			read_config(argv[1]);
			poll_pipe();
		} else {
			private_loop();
		}
	}
	epoll_wait(epfd, out, 2, 0);
	close(tfd);
	close(epfd);
	printf("strict_loop: done\n");
	return 0;
}
