/*
 * thread_loops.c - several threads, each with its own epoll loop; each
 * stalls once (thread_stall) and then exits, ending its loop.
 *
 * usage: thread_loops [threads] [turns]
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static int turns = 10;

__attribute__((noinline)) static void thread_stall(void)
{
	struct timespec ts = {0, 80 * 1000000L};

	nanosleep(&ts, NULL);
}

static void *loop_thread(void *arg)
{
	struct itimerspec its = {{0, 5 * 1000000L}, {0, 5 * 1000000L}};
	struct epoll_event ev = {.events = EPOLLIN}, out[2];
	int epfd = epoll_create1(0), tfd, done = 0;
	uint64_t ticks;

	(void)arg;
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	if (epfd < 0 || tfd < 0 || timerfd_settime(tfd, 0, &its, NULL) != 0)
		return (void *)1;
	ev.data.fd = tfd;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, tfd, &ev) != 0)
		return (void *)1;
	while (done < turns) {
		if (epoll_wait(epfd, out, 2, 1000) <= 0)
			continue;
		if (read(tfd, &ticks, sizeof(ticks)) < 0)
			continue;
		if (done++ == 1)
			thread_stall();
	}
	/* The thread exits with its loop fd still open: the shim ends the
	 * loop when the thread goes away. */
	close(tfd);
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 4, i, bad = 0;
	pthread_t th[64];

	if (argc > 2)
		turns = atoi(argv[2]);
	if (n > 64)
		n = 64;
	for (i = 0; i < n; i++)
		if (pthread_create(&th[i], NULL, loop_thread, NULL) != 0)
			return 2;
	for (i = 0; i < n; i++) {
		void *ret;

		pthread_join(th[i], &ret);
		bad += ret != NULL;
	}
	printf("thread_loops: %d threads done\n", n);
	return bad ? 1 : 0;
}
