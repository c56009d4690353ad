/*
 * unwrapped_sleep.c - an epoll loop whose callback sleeps in a system call
 * that no wrapper sees (an inline nanosleep syscall), in a program that has a
 * second thread of its own, so the shim's watchdog runs and can name it.
 *
 * usage: unwrapped_sleep [ms] [threads]
 *   one turn sleeps `ms` (default 300) in raw_nap(); with threads=0 the
 *   program stays single-threaded.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int stop_fd[2];

static void *idle_thread(void *arg)
{
	char c;

	(void)arg;
	return read(stop_fd[0], &c, 1) < 0 ? (void *)1 : NULL;
}

__attribute__((noinline)) static void raw_nap(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	long r;

	/* The instruction itself: syscall(2) is wrapped (wrap_syscall.c). */
	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "0"((long)SYS_nanosleep), "D"(&ts), "S"(0L)
			 : "rcx", "r11", "memory");
	(void)r;
}

int main(int argc, char **argv)
{
	long ms = argc > 1 ? atol(argv[1]) : 300;
	int threads = argc > 2 ? atoi(argv[2]) : 1;
	struct epoll_event ev = {.events = EPOLLIN}, out[1];
	int epfd = epoll_create1(EPOLL_CLOEXEC);
	int efd = eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC);
	pthread_t th;
	int t;

	if (pipe(stop_fd) != 0 || epfd < 0 || efd < 0 ||
	    epoll_ctl(epfd, EPOLL_CTL_ADD, efd, &ev) != 0) {
		perror("unwrapped_sleep: setup");
		return 1;
	}
	if (threads && pthread_create(&th, NULL, idle_thread, NULL) != 0)
		return 1;
	for (t = 0; t < 3; t++) {
		if (epoll_wait(epfd, out, 1, 1000) != 1)
			return 1;
		if (t == 1)
			raw_nap(ms);
	}
	if (write(stop_fd[1], "x", 1) != 1)
		return 1;
	if (threads)
		pthread_join(th, NULL);
	printf("unwrapped_sleep: done\n");
	return 0;
}
