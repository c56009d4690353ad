/*
 * errno_check.c - wrapped calls on a loop thread inside a turn keep errno
 * exactly as libc leaves it: untouched after a success, the real error
 * after a failure.  Run under strict mode with a tiny call threshold so
 * every call goes through the recording path.  Exits 0 when all hold.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define SENTINEL 4242

static int failures;

#define EXPECT_OK(expr)                                                       \
	do {                                                                  \
		errno = SENTINEL;                                             \
		if ((expr) < 0 || errno != SENTINEL) {                        \
			fprintf(stderr, "errno_check: %s: errno %d\n", #expr, \
				errno);                                       \
			failures++;                                           \
		}                                                             \
	} while (0)

#define EXPECT_ERR(expr, want)                                                 \
	do {                                                                   \
		errno = SENTINEL;                                              \
		if ((expr) >= 0 || errno != (want)) {                          \
			fprintf(stderr,                                        \
				"errno_check: %s: errno %d, want %d\n", #expr, \
				errno, want);                                  \
			failures++;                                            \
		}                                                              \
	} while (0)

static void calls(void)
{
	struct timespec ts = {0, 1000};
	struct epoll_event ev;
	char buf[16];
	int fd, p[2], ep;
	sem_t sem;

	EXPECT_OK(fd = open("/dev/null", O_RDWR));
	EXPECT_OK(write(fd, "x", 1));
	EXPECT_OK(read(fd, buf, sizeof(buf)));
	EXPECT_OK(pread(fd, buf, sizeof(buf), 0));
	EXPECT_OK(dup2(fd, 100));
	EXPECT_OK(close(100));
	EXPECT_OK(close(fd));
	EXPECT_OK(nanosleep(&ts, NULL));
	EXPECT_OK(usleep(1));
	EXPECT_OK(pipe(p));
	EXPECT_OK(write(p[1], "y", 1));
	EXPECT_OK(read(p[0], buf, 1));
	EXPECT_OK(poll(NULL, 0, 1));
	EXPECT_OK(close(p[0]));
	EXPECT_OK(close(p[1]));
	EXPECT_OK(ep = epoll_create1(0));
	EXPECT_OK(epoll_wait(ep, &ev, 1, 1)); /* a private loop */
	EXPECT_OK(close(ep));
	EXPECT_OK(sem_init(&sem, 0, 1));
	EXPECT_OK(sem_wait(&sem));
	EXPECT_ERR(open("/nonexistent/file", O_RDONLY), ENOENT);
	EXPECT_ERR(read(-1, buf, 1), EBADF);
	EXPECT_ERR(write(12345, buf, 1), EBADF);
	EXPECT_ERR(close(-1), EBADF);
	EXPECT_ERR(close(54321), EBADF);
	EXPECT_ERR(dup2(-1, 5), EBADF);
	EXPECT_ERR(recv(0x7ffff, buf, 1, 0), EBADF);
	EXPECT_ERR(connect(-1, NULL, 0), EBADF);
	EXPECT_ERR(fcntl(-1, F_GETFD), EBADF);
	/* sem_trywait-first must not leak EAGAIN into a timed wait. */
	ts.tv_sec = 0;
	EXPECT_ERR(sem_timedwait(&sem, &ts), ETIMEDOUT);
}

int main(void)
{
	struct itimerspec its = {{0, 2 * 1000000L}, {0, 2 * 1000000L}};
	struct epoll_event ev = {.events = EPOLLIN}, out[2];
	int epfd = epoll_create1(0), tfd, turn = 0;
	uint64_t ticks;

	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	if (epfd < 0 || tfd < 0 || timerfd_settime(tfd, 0, &its, NULL) != 0)
		return 2;
	ev.data.fd = tfd;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, tfd, &ev) != 0)
		return 2;
	calls(); /* not a loop thread yet */
	while (turn < 3) {
		errno = SENTINEL;
		if (epoll_wait(epfd, out, 2, 1000) <= 0)
			continue;
		if (errno != SENTINEL) {
			fprintf(stderr, "errno_check: epoll_wait: errno %d\n",
				errno);
			failures++;
		}
		if (read(tfd, &ticks, sizeof(ticks)) < 0)
			continue;
		calls(); /* in a turn */
		turn++;
	}
	close(tfd);
	close(epfd);
	if (failures)
		return 1;
	printf("errno_check: ok\n");
	return 0;
}
