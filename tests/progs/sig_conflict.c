/*
 * sig_conflict.c - a loop program that uses the sampler's own signal
 * (SIGRTMIN+5 unless told otherwise).  Run with and without the shim it must
 * behave the same: its handler runs for the signals it sends itself, it
 * reads back the handler it installed, and with SIG_DFL the signal ends it.
 *
 * usage: sig_conflict handler|dfl [signal]
 *   handler: install a handler, raise the signal 3 ways, spin 200 ms in a
 *            loop turn (sampled under the shim), print what it saw
 *   dfl:     a child sets SIG_DFL and raises the signal: killed by it
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t handled;

static void on_sig(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
	handled++;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

__attribute__((noinline)) static void spin_ms(int ms)
{
	uint64_t end = now_ns() + (uint64_t)ms * 1000000ull;

	while (now_ns() < end)
		;
}

int main(int argc, char **argv)
{
	int sig = argc > 2 ? atoi(argv[2]) : SIGRTMIN + 5;
	struct itimerspec its = {{0, 0}, {0, 10000000}};
	struct epoll_event ev = {.events = EPOLLIN}, out[2];
	struct sigaction sa, back;
	int epfd, tfd, n;
	union sigval v = {.sival_int = 7};

	if (argc < 2)
		return 2;
	/* become a loop thread first, as real services do */
	epfd = epoll_create1(0);
	tfd = timerfd_create(CLOCK_MONOTONIC, 0);
	timerfd_settime(tfd, 0, &its, NULL);
	ev.data.fd = tfd;
	epoll_ctl(epfd, EPOLL_CTL_ADD, tfd, &ev);

	if (strcmp(argv[1], "dfl") == 0) {
		/* in a child, so the death is reported the same way both
		 * times (by us, not by a shell) */
		int status = 0;
		pid_t pid;

		fflush(stdout);
		pid = fork();
		if (pid == 0) {
			signal(sig, SIG_DFL);
			kill(getpid(), sig);
			sleep(1);
			printf("sig_conflict: still alive\n");
			_exit(0);
		}
		waitpid(pid, &status, 0);
		if (WIFSIGNALED(status))
			printf("sig_conflict: child killed by signal %d\n",
			       WTERMSIG(status) == sig ? 0 : WTERMSIG(status));
		else
			printf("sig_conflict: child exited %d\n",
			       WEXITSTATUS(status));
		return 0;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sig;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL) != 0)
		return 2;
	if (sigaction(sig, NULL, &back) != 0)
		return 2;
	printf("sig_conflict: reads back its handler: %s\n",
	       (back.sa_flags & SA_SIGINFO) && back.sa_sigaction == on_sig
		   ? "yes"
		   : "no");
	kill(getpid(), sig);		   /* SI_USER */
	pthread_kill(pthread_self(), sig); /* SI_TKILL from itself */
	sigqueue(getpid(), sig, v);	   /* SI_QUEUE */
	n = epoll_wait(epfd, out, 2, 1000);
	if (n == 1) {
		uint64_t x;

		if (read(tfd, &x, sizeof(x)) != sizeof(x))
			return 2;
		spin_ms(200); /* one long turn */
	}
	n = epoll_wait(epfd, out, 2, 0);
	printf("sig_conflict: handler ran %d times\n", (int)handled);
	return 0;
}
