/*
 * spin_loop.c - an epoll loop whose timer callback spins on the CPU in a
 * named function: the CPU-stall test program (tests/integration/test_cpu_stalls.c)
 * and the "many loop threads" stress (scripts/stress.sh).
 *
 * usage: spin_loop [spin_ms [threads [turns [every]]]]
 *   spin_ms  how long the callback spins (default 300)
 *   threads  loop threads, each with its own epoll fd (default 1)
 *   turns    timer ticks each loop handles before it ends (default 4)
 *   every    1: spin on every tick; 0 (default): only on the second tick
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static int spin_ms = 300, turns = 4, every;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The function the samples must name. */
__attribute__((noinline)) uint64_t spin_in_callback(int ms)
{
	uint64_t end = now_ns() + (uint64_t)ms * 1000000ull;
	volatile uint64_t acc = 1;

	while (now_ns() < end) {
		int i;

		for (i = 0; i < 1000; i++)
			acc = acc * 6364136223846793005ull +
			      1442695040888963407ull;
	}
	return acc;
}

static void *loop_main(void *arg)
{
	struct itimerspec its = {{0, 20000000}, {0, 20000000}};
	struct epoll_event ev = {.events = EPOLLIN}, out[4];
	int epfd = epoll_create1(EPOLL_CLOEXEC);
	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	int tick = 0;

	(void)arg;
	if (epfd < 0 || tfd < 0 || timerfd_settime(tfd, 0, &its, NULL) != 0) {
		perror("spin_loop: setup");
		exit(2);
	}
	ev.data.fd = tfd;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, tfd, &ev) != 0) {
		perror("spin_loop: epoll_ctl");
		exit(2);
	}
	while (tick < turns) {
		int n = epoll_wait(epfd, out, 4, 1000), i;

		for (i = 0; i < n; i++) {
			uint64_t expirations;

			if (read(tfd, &expirations, sizeof(expirations)) < 0)
				continue;
			tick++;
			if (every || tick == 2)
				spin_in_callback(spin_ms);
		}
	}
	close(tfd);
	close(epfd);
	return NULL;
}

int main(int argc, char **argv)
{
	int threads = 1, i;
	pthread_t th[256];

	if (argc > 1)
		spin_ms = atoi(argv[1]);
	if (argc > 2)
		threads = atoi(argv[2]);
	if (argc > 3)
		turns = atoi(argv[3]);
	if (argc > 4)
		every = atoi(argv[4]);
	if (threads < 1 || threads > 256)
		threads = 1;
	if (threads == 1) {
		loop_main(NULL);
	} else {
		for (i = 0; i < threads; i++)
			pthread_create(&th[i], NULL, loop_main, NULL);
		for (i = 0; i < threads; i++)
			pthread_join(th[i], NULL);
	}
	printf("spin_loop: done\n");
	return 0;
}
