/*
 * fault_eintr.c - does the host see an EINTR it would not see without the
 * shim?  (tests/integration/test_faults.c)
 *
 * An epoll loop whose turns are long enough (over any stall threshold) to
 * be sampled, spending them in calls that fail with EINTR when a signal
 * handler runs, SA_RESTART or not: nanosleep, usleep, clock_nanosleep,
 * poll and epoll_wait with timeouts through libc (the shim wraps these,
 * and must not signal a thread inside its wrappers), and the same sleeps
 * and waits through raw syscalls and sigtimedwait, which no wrapper sees.
 * Between the waits it spins on the CPU, where sampling is expected.
 *
 * Each call that fails with EINTR is counted (and retried); the program
 * prints the counts per call and exits 0.  Without the shim every count
 * is 0, so a run under it must print the same.
 *
 * usage: fault_eintr [TURNS [WAIT_MS]]
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

enum {
	C_NANOSLEEP,
	C_USLEEP,
	C_CLOCK_NANOSLEEP,
	C_POLL,
	C_EPOLL,
	C_RAW_NANOSLEEP,
	C_RAW_EPOLL,
	C_SIGTIMEDWAIT,
	C__N
};
static const char *const names[C__N] = {
    "nanosleep",  "usleep",	   "clock_nanosleep", "poll",
    "epoll_wait", "raw nanosleep", "raw epoll_pwait", "sigtimedwait",
};
static unsigned long eintr[C__N];

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

static struct timespec ts_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	return ts;
}

/* Wait about ms in each kind of call, counting EINTRs. */
__attribute__((noinline)) static void waits(int ms, int other_ep)
{
	struct timespec ts, rem;
	struct epoll_event ev;
	struct pollfd pfd = {.fd = -1};
	sigset_t set;
	siginfo_t si;

	ts = ts_ms(ms);
	while (nanosleep(&ts, &rem) != 0 && errno == EINTR)
		eintr[C_NANOSLEEP]++, ts = rem;
	if (usleep((useconds_t)ms * 1000) != 0 && errno == EINTR)
		eintr[C_USLEEP]++;
	ts = ts_ms(ms);
	{
		int r;

		while ((r = clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &rem)) ==
		       EINTR)
			eintr[C_CLOCK_NANOSLEEP]++, ts = rem;
	}
	if (poll(&pfd, 1, ms) < 0 && errno == EINTR)
		eintr[C_POLL]++;
	if (epoll_wait(other_ep, &ev, 1, ms) < 0 && errno == EINTR)
		eintr[C_EPOLL]++;
	ts = ts_ms(ms);
	while (syscall(SYS_nanosleep, &ts, &rem) != 0 && errno == EINTR)
		eintr[C_RAW_NANOSLEEP]++, ts = rem;
	if (syscall(SYS_epoll_pwait, other_ep, &ev, 1, ms, NULL, 8) < 0 &&
	    errno == EINTR)
		eintr[C_RAW_EPOLL]++;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2); /* blocked, never sent: a pure timeout */
	ts = ts_ms(ms);
	if (sigtimedwait(&set, &si, &ts) < 0 && errno == EINTR)
		eintr[C_SIGTIMEDWAIT]++;
}

int main(int argc, char **argv)
{
	int turns = argc > 1 ? atoi(argv[1]) : 3;
	int wait_ms = argc > 2 ? atoi(argv[2]) : 40;
	struct itimerspec its = {{0, 20000000}, {0, 20000000}};
	struct epoll_event ev = {.events = EPOLLIN};
	int ep = epoll_create1(0), other = epoll_create1(0);
	int tfd = timerfd_create(CLOCK_MONOTONIC, 0), t, i;
	unsigned long total = 0;
	sigset_t block;

	sigemptyset(&block);
	sigaddset(&block, SIGUSR2);
	sigprocmask(SIG_BLOCK, &block, NULL);
	if (ep < 0 || other < 0 || tfd < 0 ||
	    timerfd_settime(tfd, 0, &its, NULL) != 0 ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev) != 0) {
		perror("fault_eintr: setup");
		return 2;
	}
	for (t = 0; t < turns;) {
		struct epoll_event got;
		uint64_t ticks;

		if (epoll_wait(ep, &got, 1, 1000) != 1)
			continue;
		if (read(tfd, &ticks, sizeof(ticks)) != sizeof(ticks))
			continue;
		/* One long turn: CPU, waits of every kind, CPU again. */
		spin_ms(wait_ms);
		waits(wait_ms, other);
		spin_ms(wait_ms);
		t++;
	}
	for (i = 0; i < C__N; i++) {
		printf("%s: %lu EINTR\n", names[i], eintr[i]);
		total += eintr[i];
	}
	printf("fault_eintr: %d turns, %lu EINTR in all\n", turns, total);
	return 0;
}
