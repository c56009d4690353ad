/*
 * signalfd_loop.c - an epoll loop whose thread blocks every signal and
 * reads them all from a signalfd, as some daemons do.  Its callbacks burn
 * CPU for long turns (the shim's sampling ticks would come now), and it
 * sends itself SIGUSR1 once.  It prints each signal the signalfd gave and
 * exits 0 when that was exactly the one SIGUSR1.
 *
 * usage: signalfd_loop [turns] [ms]
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

__attribute__((noinline)) static void burn(int ms)
{
	double end = now_ms() + ms;
	volatile unsigned long n = 0;

	while (now_ms() < end)
		n++;
}

int main(int argc, char **argv)
{
	int turns = argc > 1 ? atoi(argv[1]) : 4;
	int ms = argc > 2 ? atoi(argv[2]) : 150;
	struct epoll_event ev = {.events = EPOLLIN}, out;
	struct signalfd_siginfo si;
	int ep, sfd, i, got = 0, usr1 = 0;
	sigset_t all;

	sigfillset(&all);
	if (sigprocmask(SIG_SETMASK, &all, NULL) != 0)
		return 2;
	sfd = signalfd(-1, &all, SFD_NONBLOCK | SFD_CLOEXEC);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (sfd < 0 || ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev) != 0)
		return 2;
	for (i = 0; i < turns; i++) {
		int n = epoll_wait(ep, &out, 1, 20);

		while (n > 0 && read(sfd, &si, sizeof(si)) == sizeof(si)) {
			printf("signal %u\n", si.ssi_signo);
			got++;
			usr1 += si.ssi_signo == SIGUSR1;
		}
		burn(ms); /* a long turn on the CPU */
		if (i == turns / 2)
			kill(getpid(), SIGUSR1);
	}
	/* the last signals, if any */
	while (epoll_wait(ep, &out, 1, 50) > 0 &&
	       read(sfd, &si, sizeof(si)) == sizeof(si)) {
		printf("signal %u\n", si.ssi_signo);
		got++;
		usr1 += si.ssi_signo == SIGUSR1;
	}
	printf("signals %d, SIGUSR1 %d\n", got, usr1);
	return got == 1 && usr1 == 1 ? 0 : 1;
}
