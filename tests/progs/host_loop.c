/*
 * host_loop.c - what a C epoll loop sees of its own process (descriptors,
 * threads) around a CPU stall long enough to be sampled (the shim unwinds
 * then).  The tests run it plain and under the shim and compare the
 * output: anything the shim takes, moves, closes or adds shows up as a
 * difference.
 *
 * usage: host_loop first OUTFILE
 *          the number of the first descriptor it opens, of its epoll fd,
 *          and of a file it opens after the stall, written to OUTFILE
 *          (run with 0, 1 or 2 closed too);
 *        host_loop pipe
 *          close_range(3, ~0) as a daemon does, then a pipe (fds 3 and 4)
 *          and an epoll loop: ABCDEFGH written before the stall, IJ after,
 *          everything read back; prints what it read, exits 1 when it is
 *          not exactly ABCDEFGHIJ;
 *        host_loop threads
 *          the Threads: line of /proc/self/status in the middle of a
 *          stalled turn and after idle turns (the loop asleep in
 *          epoll_wait for 100 ms each).
 * Exits 2 on a setup error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A turn that burns CPU: what the shim's sampler exists for. */
__attribute__((noinline)) static void burn_cpu(double seconds)
{
	double end = cpu_now() + seconds;
	volatile uint64_t n = 0;

	while (cpu_now() < end)
		n++;
}

/*
 * An epoll loop on a 10 ms timer: `turns` turns, the one numbered
 * `stall_turn` burns 300 ms of CPU between before() and after().
 */
static int run_loop(int epfd, int turns, int stall_turn, void (*before)(void),
		    void (*after)(void))
{
	struct itimerspec its = {{0, 10 * 1000000L}, {0, 10 * 1000000L}};
	struct epoll_event ev = {.events = EPOLLIN}, out[4];
	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	uint64_t ticks;
	int turn = 0;

	if (tfd < 0 || timerfd_settime(tfd, 0, &its, NULL) != 0)
		return -1;
	ev.data.fd = tfd;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, tfd, &ev) != 0)
		goto fail;
	/* Bounded: a loop whose timer no longer ticks (its fd replaced
	 * behind its back) gives up instead of spinning. */
	for (int waits = 0; turn < turns; waits++) {
		int n;

		if (waits > 1000) {
			fprintf(stderr, "the timer stopped ticking\n");
			goto fail;
		}
		n = epoll_wait(epfd, out, 4, 1000);
		if (n <= 0)
			continue;
		if (read(tfd, &ticks, sizeof(ticks)) < 0) {
			if (errno == EAGAIN)
				continue;
			/* Its timer fd was closed or replaced behind its
			 * back: say so rather than spin. */
			perror("read timerfd");
			goto fail;
		}
		if (++turn == stall_turn) {
			if (before)
				before();
			burn_cpu(0.3);
			if (after)
				after();
		}
	}
	close(tfd);
	return 0;
fail:
	close(tfd);
	return -1;
}

static int pipe_fds[2];

static void write_head(void)
{
	if (write(pipe_fds[1], "ABCDEFGH", 8) != 8)
		perror("write ABCDEFGH");
}

static void write_tail(void)
{
	if (write(pipe_fds[1], "IJ", 2) != 2)
		perror("write IJ");
}

static int do_pipe(void)
{
	char buf[64], shown[256];
	size_t len = 0, o = 0;
	ssize_t got;
	int epfd;

	/* A daemon's start-up: nothing inherited survives. */
	if (syscall(SYS_close_range, 3u, ~0u, 0u) != 0) {
		perror("close_range");
		return 2;
	}
	if (pipe2(pipe_fds, O_NONBLOCK | O_CLOEXEC) != 0) {
		perror("pipe2");
		return 2;
	}
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0 || run_loop(epfd, 5, 3, write_head, write_tail) != 0) {
		perror("loop");
		return 2;
	}
	while (len < sizeof(buf) &&
	       (got = read(pipe_fds[0], buf + len, sizeof(buf) - len)) > 0)
		len += (size_t)got;
	for (size_t i = 0; i < len && o + 5 < sizeof(shown); i++)
		o += (size_t)snprintf(
		    shown + o, sizeof(shown) - o,
		    buf[i] >= 0x20 && buf[i] < 0x7f ? "%c" : "\\x%02x",
		    (unsigned char)buf[i]);
	shown[o] = 0;
	printf("pipe fds %d %d epoll %d read %zu bytes: %s\n", pipe_fds[0],
	       pipe_fds[1], epfd, len, shown);
	return len == 10 && memcmp(buf, "ABCDEFGHIJ", 10) == 0 ? 0 : 1;
}

static int do_first(const char *outfile)
{
	int first = open("/dev/null", O_RDONLY), epfd, later, out;
	char line[128];

	epfd = epoll_create1(0);
	if (first < 0 || epfd < 0 || run_loop(epfd, 4, 2, NULL, NULL) != 0)
		return 2;
	later = open("/dev/null", O_RDONLY);
	out = open(outfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (out < 0)
		return 2;
	snprintf(line, sizeof(line),
		 "first %d epoll %d after-stall %d out %d\n", first, epfd,
		 later, out);
	if (write(out, line, strlen(line)) < 0)
		return 2;
	close(out);
	return 0;
}

/* The number on the Threads: line of /proc/self/status, or -1. */
static int thread_count(void)
{
	char line[256];
	int n = -1;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Threads: %d", &n) == 1)
			break;
	fclose(f);
	return n;
}

static int stalled_threads = -1;

static void count_threads(void)
{
	stalled_threads = thread_count();
}

static int do_threads(void)
{
	struct epoll_event ev;
	int epfd = epoll_create1(EPOLL_CLOEXEC), idle;

	if (epfd < 0 || run_loop(epfd, 4, 2, NULL, count_threads) != 0)
		return 2;
	for (int i = 0; i < 3; i++)
		epoll_wait(epfd, &ev, 1, 100);
	idle = thread_count();
	printf("threads during a stall: %d, while idle: %d\n", stalled_threads,
	       idle);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "first") == 0)
		return do_first(argv[2]);
	if (argc == 2 && strcmp(argv[1], "pipe") == 0)
		return do_pipe();
	if (argc == 2 && strcmp(argv[1], "threads") == 0)
		return do_threads();
	fprintf(stderr, "usage: host_loop first OUTFILE | pipe | threads\n");
	return 2;
}
