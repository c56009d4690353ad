/*
 * syscall_results.c - prints the result and errno of syscall(2) for
 * numbers the shim times and numbers it passes through, with good and bad
 * arguments, from inside an epoll loop's turn (where the shim times them).
 * tests/integration/test_stdio_blocking.c compares the output with and
 * without the shim: it must be identical.
 */
#include <errno.h>
#include <linux/futex.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static void show(const char *what, long r)
{
	printf("%s: %ld errno %s\n", what, r,
	       r < 0 ? strerrorname_np(errno) : "-");
}

static void calls(void)
{
	static int word = 7;
	struct timespec ts = {0, 1000000}, zero = {0, 0};
	char buf[16];
	int fds[2];

	if (pipe(fds) != 0)
		return;
	errno = 0;
	show("read bad fd", syscall(SYS_read, -1, buf, sizeof(buf)));
	show("write", syscall(SYS_write, fds[1], "abc", 3));
	show("read bad buf", syscall(SYS_read, fds[0], (void *)8, 4));
	show("read", syscall(SYS_read, fds[0], buf, sizeof(buf)));
	show("write bad buf", syscall(SYS_write, fds[1], (void *)8, 4));
	show("nanosleep", syscall(SYS_nanosleep, &ts, NULL));
	show("nanosleep bad ts", syscall(SYS_nanosleep, (void *)8, NULL));
	show("nanosleep negative",
	     syscall(SYS_nanosleep, &(struct timespec){-1, 0}, NULL));
	show("clock_nanosleep bad clock",
	     syscall(SYS_clock_nanosleep, 12345, 0, &ts, NULL));
	show("ppoll bad ts", syscall(SYS_ppoll, NULL, 0, (void *)8, NULL, 8));
	show("pselect6 zero",
	     syscall(SYS_pselect6, 0, NULL, NULL, NULL, &zero, NULL));
	show("poll", syscall(SYS_poll, NULL, 0, 1));
	show("futex wake",
	     syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0));
	show("futex wait wrong value",
	     syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 8, &ts, NULL, 0));
	show("futex wait timeout",
	     syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 7, &ts, NULL, 0));
	show("futex bad op", syscall(SYS_futex, &word, 99, 0, NULL, NULL, 0));
	show("wait4 no child", syscall(SYS_wait4, -1, NULL, 0, NULL));
	show("fsync bad fd", syscall(SYS_fsync, -1));
	show("epoll_wait bad fd", syscall(SYS_epoll_wait, -1, NULL, 1, 0));
	show("getpid is a number", syscall(SYS_getpid) > 0);
	show("bad number", syscall(100000));
	show("negative number", syscall(-1));
	close(fds[0]);
	close(fds[1]);
}

int main(void)
{
	struct itimerspec its = {{0, 5000000}, {0, 5000000}};
	struct epoll_event ev = {.events = EPOLLIN};
	int ep = epoll_create1(0), tfd = timerfd_create(CLOCK_MONOTONIC, 0);
	uint64_t ticks;
	int turn;

	if (ep < 0 || tfd < 0 || timerfd_settime(tfd, 0, &its, NULL) != 0)
		return 2;
	ev.data.fd = tfd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev) != 0)
		return 2;
	for (turn = 0; turn < 3; turn++) {
		if (epoll_wait(ep, &ev, 1, 1000) != 1 ||
		    read(tfd, &ticks, sizeof(ticks)) != sizeof(ticks))
			return 2;
		if (turn == 1)
			calls();
	}
	return 0;
}
