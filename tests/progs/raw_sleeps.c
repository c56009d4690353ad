/*
 * raw_sleeps.c - an epoll loop whose long turns alternate CPU bursts with
 * sleeping system calls that no wrapper sees: nanosleep, pselect6, ppoll
 * and rt_sigtimedwait, made through syscall(2) and as inline `syscall`
 * instructions.  Counts how many fail with EINTR: the program has no
 * signal handler and sends itself no signal, so without the shim there
 * are none, and the shim's sampling must not add any.
 *
 * usage: raw_sleeps [turns] [calls-per-turn] [burst-us] [sleep-us]
 * prints "raw_sleeps: calls N eintr M" and exits 0.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long calls, eintrs;

/* syscall(2) for even calls, the instruction itself for odd ones. */
static long raw4(long nr, long a, long b, long c, long d, int inl)
{
	long r;

	if (!inl) {
		r = syscall(nr, a, b, c, d);
		return r < 0 ? -errno : r;
	}
	{
		register long r10 __asm__("r10") = d;

		__asm__ volatile("syscall"
				 : "=a"(r)
				 : "0"(nr), "D"(a), "S"(b), "d"(c), "r"(r10)
				 : "rcx", "r11", "memory");
	}
	return r;
}

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

__attribute__((noinline)) static void burn(long us)
{
	double end = cpu_now() + (double)us;
	volatile unsigned long x = 0;

	while (cpu_now() < end)
		for (int i = 0; i < 1000; i++)
			x += (unsigned long)i * 2654435761u;
}

__attribute__((noinline)) static void raw_sleep(int kind, long us, int inl)
{
	struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
	sigset_t set;
	long r;

	switch (kind) {
	case 0:
		r = raw4(SYS_nanosleep, (long)&ts, 0, 0, 0, inl);
		break;
	case 1:
		r = raw4(SYS_ppoll, 0, 0, (long)&ts, 0, inl);
		break;
	case 2: {
		/* pselect6 takes 6 arguments; none after the timeout. */
		r = syscall(SYS_pselect6, 0, NULL, NULL, NULL, &ts, NULL);
		r = r < 0 ? -errno : r;
		break;
	}
	default:
		sigemptyset(&set);
		sigaddset(&set, SIGUSR2); /* blocked, never sent */
		r = raw4(SYS_rt_sigtimedwait, (long)&set, 0, (long)&ts, 8, inl);
		break;
	}
	calls++;
	if (r == -EINTR)
		eintrs++;
}

int main(int argc, char **argv)
{
	int turns = argc > 1 ? atoi(argv[1]) : 25;
	int per = argc > 2 ? atoi(argv[2]) : 40;
	long burst = argc > 3 ? atol(argv[3]) : 2000;
	long nap = argc > 4 ? atol(argv[4]) : 1000;
	struct epoll_event ev = {.events = EPOLLIN}, out[1];
	int epfd = epoll_create1(EPOLL_CLOEXEC), efd, t, i;
	sigset_t usr2;

	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	sigprocmask(SIG_BLOCK, &usr2, NULL);
	efd = eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC); /* always readable */
	if (epfd < 0 || efd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, efd, &ev)) {
		perror("raw_sleeps: setup");
		return 1;
	}
	for (t = 0; t < turns; t++) {
		if (epoll_wait(epfd, out, 1, 1000) != 1) {
			perror("raw_sleeps: epoll_wait");
			return 1;
		}
		for (i = 0; i < per; i++) {
			burn(burst);
			raw_sleep(i % 4, nap, (i / 4) % 2);
		}
	}
	printf("raw_sleeps: calls %ld eintr %ld\n", calls, eintrs);
	return 0;
}
