/*
 * closefds.c - a daemon-like program that closes every fd, opens its own
 * data file and checks it byte for byte (foundation test 6).  Its epoll
 * loop stalls before and after the closing, so the shim has records to
 * write while the data file is open.
 *
 * usage: closefds DATAFILE [libc|syscall|raw]
 *   libc:    closefrom, close_range, a close() loop, and dup2 of the data
 *            file over every fd number up to 2048 (the trace fd included);
 *   syscall: close and dup2 through libc's syscall(), as libuv and some
 *            daemons do;
 *   raw:     the same with inline syscall instructions the shim cannot
 *            see, so the trace fd really is closed and its number reused
 *            for the data file.
 * Exits 0 when the data is intact, 1 when not, 2 on a setup error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define DATA_SIZE (256 * 1024)
#define MAX_FD	  2048

static unsigned char pattern(size_t i)
{
	return (unsigned char)((i * 2654435761u) >> 13);
}

__attribute__((noinline)) static void stall_callback(void)
{
	struct timespec ts = {0, 120 * 1000000L};

	nanosleep(&ts, NULL);
}

/* One short epoll loop: two timer turns that each stall. */
static int run_loop(void)
{
	struct itimerspec its = {{0, 10 * 1000000L}, {0, 10 * 1000000L}};
	struct epoll_event ev = {.events = EPOLLIN}, out[2];
	int epfd = epoll_create1(0), tfd, done = 0;
	uint64_t ticks;

	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	if (epfd < 0 || tfd < 0 || timerfd_settime(tfd, 0, &its, NULL) != 0)
		return -1;
	ev.data.fd = tfd;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, tfd, &ev) != 0)
		return -1;
	while (done < 2) {
		if (epoll_wait(epfd, out, 2, 1000) > 0) {
			if (read(tfd, &ticks, sizeof(ticks)) < 0 &&
			    errno != EAGAIN)
				return -1;
			stall_callback();
			done++;
		}
	}
	epoll_wait(epfd, out, 2, 0);
	close(tfd);
	close(epfd);
	return 0;
}

enum mode { LIBC, SYSCALL, RAW };

/* A system call no library can intercept. */
static long raw_syscall(long n, long a, long b)
{
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b)
			 : "rcx", "r11", "memory");
	return ret;
}

static void close_fd(enum mode mode, int fd)
{
	if (mode == RAW)
		raw_syscall(SYS_close, fd, 0);
	else if (mode == SYSCALL)
		syscall(SYS_close, fd);
	else
		close(fd);
}

static void dup_fd(enum mode mode, int fd, int other)
{
	if (mode == RAW)
		raw_syscall(SYS_dup2, fd, other);
	else if (mode == SYSCALL)
		syscall(SYS_dup2, fd, other);
	else
		dup2(fd, other);
}

static void close_everything(enum mode mode)
{
	int fd;

	if (mode != LIBC) {
		for (fd = 3; fd < 65536; fd++)
			close_fd(mode, fd);
		return;
	}
	closefrom(3);
	close_range(3, ~0u, 0);
	for (fd = 3; fd < 65536; fd++)
		close(fd);
}

int main(int argc, char **argv)
{
	static unsigned char buf[DATA_SIZE], back[DATA_SIZE];
	enum mode mode = LIBC;
	int fd, other, i;
	size_t n;

	if (argc < 2) {
		fprintf(stderr,
			"usage: closefds DATAFILE [libc|syscall|raw]\n");
		return 2;
	}
	if (argc > 2 && strcmp(argv[2], "raw") == 0)
		mode = RAW;
	else if (argc > 2 && strcmp(argv[2], "syscall") == 0)
		mode = SYSCALL;
	if (run_loop() != 0) {
		perror("closefds: loop");
		return 2;
	}
	close_everything(mode);
	fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		perror("closefds: open");
		return 2;
	}
	/* Make the data file answer on every fd number, as a daemon that
	 * dup2's its log over inherited fds would. */
	for (other = 3; other < MAX_FD; other++) {
		if (other == fd)
			continue;
		dup_fd(mode, fd, other);
	}
	for (n = 0; n < DATA_SIZE; n++)
		buf[n] = pattern(n);
	for (i = 0; i < 4; i++) {
		if (write(fd, buf + i * (DATA_SIZE / 4), DATA_SIZE / 4) !=
		    DATA_SIZE / 4) {
			perror("closefds: write");
			return 2;
		}
		/* Loop turns (and shim records) between the writes. */
		if (i == 1 && run_loop() != 0)
			return 2;
	}
	if (run_loop() != 0)
		return 2;
	if (pread(fd, back, DATA_SIZE, 0) != DATA_SIZE) {
		fprintf(stderr, "closefds: data file has the wrong size\n");
		return 1;
	}
	if (lseek(fd, 0, SEEK_END) != DATA_SIZE) {
		fprintf(stderr, "closefds: data file grew: %ld bytes\n",
			(long)lseek(fd, 0, SEEK_END));
		return 1;
	}
	if (memcmp(buf, back, DATA_SIZE) != 0) {
		fprintf(stderr, "closefds: data file corrupted\n");
		return 1;
	}
	printf("closefds: data intact\n");
	return 0;
}
