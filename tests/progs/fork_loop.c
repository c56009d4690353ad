/*
 * fork_loop.c - a loop that forks from inside a callback; the child drops
 * the inherited loop and runs one of its own (foundation test 4).  Each
 * side stalls twice in its own function, so each process's trace must
 * hold its own records: parent_work in the parent, child_work in the
 * child.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void nap(int ms)
{
	struct timespec ts = {0, ms * 1000000L};

	nanosleep(&ts, NULL);
}

__attribute__((noinline)) static void parent_work(void)
{
	nap(120);
}

__attribute__((noinline)) static void child_work(void)
{
	nap(130);
}

static int make_loop(int *tfd_out)
{
	struct itimerspec its = {{0, 10 * 1000000L}, {0, 10 * 1000000L}};
	struct epoll_event ev = {.events = EPOLLIN};
	int epfd = epoll_create1(0), tfd;

	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	if (epfd < 0 || tfd < 0 || timerfd_settime(tfd, 0, &its, NULL) != 0)
		exit(2);
	ev.data.fd = tfd;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, tfd, &ev) != 0)
		exit(2);
	*tfd_out = tfd;
	return epfd;
}

/* Run `turns` timer turns calling work(); fork in the first one if asked. */
static pid_t run(int epfd, int tfd, int turns, void (*work)(void), int fork_it)
{
	struct epoll_event out[2];
	pid_t child = 0;
	uint64_t ticks;
	int done = 0;

	while (done < turns) {
		if (epoll_wait(epfd, out, 2, 1000) <= 0)
			continue;
		if (read(tfd, &ticks, sizeof(ticks)) < 0)
			continue;
		if (fork_it && done == 0) {
			child = fork();
			if (child == 0)
				return 0;
		}
		work();
		done++;
	}
	epoll_wait(epfd, out, 2, 0);
	return child;
}

int main(void)
{
	int tfd, epfd = make_loop(&tfd), status;
	pid_t child;

	child = run(epfd, tfd, 2, parent_work, 1);
	if (child == 0) {
		/* The child: leave the parent's loop, run its own. */
		close(tfd);
		close(epfd);
		epfd = make_loop(&tfd);
		run(epfd, tfd, 2, child_work, 0);
		close(tfd);
		close(epfd);
		printf("fork_loop: child done\n");
		return 0;
	}
	close(tfd);
	close(epfd);
	if (child < 0 || waitpid(child, &status, 0) != child ||
	    !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "fork_loop: child failed\n");
		return 1;
	}
	printf("fork_loop: parent done\n");
	return 0;
}
