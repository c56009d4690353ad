/*
 * nonblock_cleared.c - a loop whose non-blocking socket stops being
 * non-blocking behind the shim's back: a forked child, which shares the
 * socket's open file description, clears O_NONBLOCK with its own fcntl.
 * The shim's fd cache still says "cannot sleep", so the first recv that
 * sleeps is not timed; the watchdog must notice it and make the next ones
 * timed (watchdog.c, check_sleeping_fd).
 *
 * usage: nonblock_cleared [turns] [ms]
 *   each of `turns` turns calls recv on the socket in on_ready(); a helper
 *   thread sends the byte `ms` later, so every recv sleeps `ms`.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int sv[2];   /* the loop recvs on sv[0]; the helper sends on sv[1] */
static int kick[2]; /* the loop asks the helper for one byte */
static int delay_ms;

static void *helper(void *arg)
{
	char c;

	(void)arg;
	while (read(kick[0], &c, 1) == 1) {
		struct timespec ts = {delay_ms / 1000,
				      (long)(delay_ms % 1000) * 1000000L};

		nanosleep(&ts, NULL);
		if (send(sv[1], "x", 1, 0) != 1)
			break;
	}
	return NULL;
}

__attribute__((noinline)) static void on_ready(void)
{
	char c;

	if (write(kick[1], "k", 1) != 1 || recv(sv[0], &c, 1, 0) != 1) {
		perror("nonblock_cleared: recv");
		exit(1);
	}
}

int main(int argc, char **argv)
{
	int turns = argc > 1 ? atoi(argv[1]) : 2;
	struct epoll_event ev = {.events = EPOLLOUT}, out[4];
	pthread_t th;
	int epfd, st, i;
	pid_t pid;

	delay_ms = argc > 2 ? atoi(argv[2]) : 300;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) != 0 ||
	    pipe(kick) != 0) {
		perror("nonblock_cleared: setup");
		return 1;
	}
	/* Another process clears O_NONBLOCK on the shared description. */
	pid = fork();
	if (pid == 0)
		_exit(fcntl(sv[0], F_SETFL, 0) == 0 ? 0 : 1);
	if (pid < 0 || waitpid(pid, &st, 0) != pid || st != 0) {
		fprintf(stderr, "nonblock_cleared: child failed\n");
		return 1;
	}
	/* A raw F_GETFL: the shim's fcntl wrapper would refresh its cache. */
	if (syscall(SYS_fcntl, sv[0], F_GETFL) & O_NONBLOCK) {
		fprintf(stderr, "nonblock_cleared: O_NONBLOCK still set\n");
		return 1;
	}
	if (pthread_create(&th, NULL, helper, NULL) != 0)
		return 1;
	/* sv[1] is always writable: every epoll_wait returns at once. */
	epfd = epoll_create1(EPOLL_CLOEXEC);
	ev.data.fd = sv[1];
	if (epfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, sv[1], &ev) != 0) {
		perror("nonblock_cleared: epoll");
		return 1;
	}
	for (i = 0; i < turns; i++) {
		if (epoll_wait(epfd, out, 4, 1000) != 1)
			return 1;
		on_ready();
	}
	epoll_wait(epfd, out, 4, 0); /* close the last turn */
	close(kick[1]);
	pthread_join(th, NULL);
	printf("nonblock_cleared: %d turns\n", turns);
	return 0;
}
