/*
 * eintr_read.c - a loop that reads a pipe with blocking reads and handles
 * no EINTR at all, while its turn is long enough to be sampled.  Run with
 * and without the shim, it must print the same and exit the same
 * (tests/integration/test_cpu_stalls.c): samples use SA_RESTART and are never
 * sent into the shim's wrappers.
 *
 * A child writes 40 numbered lines 5 ms apart.  The loop's one long turn
 * spins a little, then reads a line with read(), with a raw syscall (not
 * wrapped, so samples land while it blocks) or through stdio, in turn,
 * until EOF.  Any failed read ends the program with status 3.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LINES 40

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

__attribute__((noinline)) static void spin_us(int us)
{
	uint64_t end = now_ns() + (uint64_t)us * 1000ull;

	while (now_ns() < end)
		;
}

static void writer(int fd)
{
	struct timespec gap = {0, 5000000};
	char line[64];
	int i, n;

	for (i = 0; i < LINES; i++) {
		nanosleep(&gap, NULL);
		n = snprintf(line, sizeof(line), "line %02d of the pipe\n", i);
		if (write(fd, line, (size_t)n) != n)
			_exit(4);
	}
	_exit(0);
}

static void fail(const char *what)
{
	printf("%s failed: %s\n", what, strerror(errno));
	exit(3);
}

static void reader(int fd)
{
	FILE *f = NULL;
	char buf[64];
	unsigned long sum = 0, bytes = 0;
	int round = 0;
	ssize_t n;

	for (;;) {
		spin_us(2000);
		switch (round++ % 3) {
		case 0:
			n = read(fd, buf, sizeof(buf));
			if (n < 0)
				fail("read");
			break;
		case 1:
			n = syscall(SYS_read, fd, buf, sizeof(buf));
			if (n < 0)
				fail("syscall(read)");
			break;
		default:
			/* unbuffered stdio: glibc's own read, not wrapped */
			if (!f) {
				f = fdopen(dup(fd), "r");
				if (!f)
					fail("fdopen");
				setvbuf(f, NULL, _IONBF, 0);
			}
			n = (ssize_t)fread(buf, 1, 1, f);
			if (n == 0 && ferror(f))
				fail("fread");
			break;
		}
		if (n == 0)
			break;
		bytes += (unsigned long)n;
		for (ssize_t k = 0; k < n; k++)
			sum = sum * 31 + (unsigned char)buf[k];
	}
	printf("eintr_read: %lu bytes, checksum %lu\n", bytes, sum);
}

int main(void)
{
	struct itimerspec its = {{0, 0}, {0, 10000000}};
	struct epoll_event ev = {.events = EPOLLIN}, out[2];
	int p[2], epfd, tfd, status = 0, done = 0;
	pid_t pid;

	if (pipe(p) != 0)
		return 2;
	pid = fork();
	if (pid < 0)
		return 2;
	if (pid == 0) {
		close(p[0]);
		writer(p[1]);
	}
	close(p[1]);
	epfd = epoll_create1(0);
	tfd = timerfd_create(CLOCK_MONOTONIC, 0);
	timerfd_settime(tfd, 0, &its, NULL);
	ev.data.fd = tfd;
	epoll_ctl(epfd, EPOLL_CTL_ADD, tfd, &ev);
	while (!done) {
		int n = epoll_wait(epfd, out, 2, 1000), i;

		for (i = 0; i < n; i++) {
			uint64_t x;

			if (read(tfd, &x, sizeof(x)) != sizeof(x))
				fail("timerfd read");
			reader(p[0]); /* the one long turn */
			done = 1;
		}
	}
	if (waitpid(pid, &status, 0) != pid)
		fail("waitpid");
	printf("eintr_read: writer status %d\n", status);
	return 0;
}
