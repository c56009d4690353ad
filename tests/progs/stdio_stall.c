/*
 * stdio_stall.c - an epoll loop whose timer callback blocks once in a way
 * no named wrapper sees (tests/integration/test_stdio_blocking.c and
 * test_underscore_exit.c):
 *
 *   fprintf | fprintf_chk | fwrite | puts   1 MiB to stderr (puts: stdout)
 *                          through stdio, into a pipe the test drains late;
 *   syscall_nanosleep      syscall(SYS_nanosleep) for 300 ms;
 *   syscall_write          syscall(SYS_write) of 1 MiB to stderr;
 *   syscall_futex          syscall(SYS_futex, FUTEX_WAIT) timing out after
 *                          300 ms;
 *   syscall_loop           the loop itself waits with syscall(SYS_epoll_wait)
 *                          and the callback sleeps 300 ms with nanosleep;
 *   none                   no stall.
 *
 * Then the loop runs a few more turns and the process ends by END:
 * return (default), _exit, _Exit or exit_group (syscall(2)), with status 3
 * for the last three.  usage: stdio_stall MODE [END]
 */
#include <linux/futex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define CHUNK  (64 * 1024)
#define CHUNKS 16
#define TURNS  12

/* What _FORTIFY_SOURCE turns fprintf into; called directly so this
 * program needs no optimisation to use it. */
int __fprintf_chk(FILE *f, int flag, const char *fmt, ...);

static char chunk[CHUNK + 1];
static int futex_word;

__attribute__((noinline)) static void log_burst_fprintf(void)
{
	int i;

	for (i = 0; i < CHUNKS; i++)
		fprintf(stderr, "%d%s", i, chunk);
}

__attribute__((noinline)) static void log_burst_fprintf_chk(void)
{
	int i;

	for (i = 0; i < CHUNKS; i++)
		__fprintf_chk(stderr, 1, "%d%s", i, chunk);
}

__attribute__((noinline)) static void log_burst_fwrite(void)
{
	int i;

	for (i = 0; i < CHUNKS; i++)
		fwrite(chunk, 1, CHUNK, stderr);
}

__attribute__((noinline)) static void log_burst_puts(void)
{
	int i;

	for (i = 0; i < CHUNKS; i++)
		puts(chunk);
	fflush(stdout);
}

__attribute__((noinline)) static void raw_nanosleep(void)
{
	struct timespec ts = {0, 300000000};

	syscall(SYS_nanosleep, &ts, NULL);
}

__attribute__((noinline)) static void raw_write(void)
{
	static char big[CHUNK * CHUNKS];
	size_t off = 0;
	long n;

	memset(big, 'w', sizeof(big));
	while (off < sizeof(big)) {
		n = syscall(SYS_write, 2, big + off, sizeof(big) - off);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
}

__attribute__((noinline)) static void raw_futex_wait(void)
{
	struct timespec ts = {0, 300000000};

	syscall(SYS_futex, &futex_word, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0);
}

__attribute__((noinline)) static void named_nanosleep(void)
{
	struct timespec ts = {0, 300000000};

	nanosleep(&ts, NULL);
}

static int wait_loop(const char *mode, int ep, struct epoll_event *ev)
{
	if (!strcmp(mode, "syscall_loop"))
		return (int)syscall(SYS_epoll_wait, ep, ev, 1, 1000);
	return epoll_wait(ep, ev, 1, 1000);
}

static void on_timer(const char *mode, int turn)
{
	if (turn != 3)
		return;
	if (!strcmp(mode, "fprintf"))
		log_burst_fprintf();
	else if (!strcmp(mode, "fprintf_chk"))
		log_burst_fprintf_chk();
	else if (!strcmp(mode, "fwrite"))
		log_burst_fwrite();
	else if (!strcmp(mode, "puts"))
		log_burst_puts();
	else if (!strcmp(mode, "syscall_nanosleep"))
		raw_nanosleep();
	else if (!strcmp(mode, "syscall_write"))
		raw_write();
	else if (!strcmp(mode, "syscall_futex"))
		raw_futex_wait();
	else if (!strcmp(mode, "syscall_loop"))
		named_nanosleep();
}

int main(int argc, char **argv)
{
	struct itimerspec its = {{0, 20000000}, {0, 20000000}};
	struct epoll_event ev = {.events = EPOLLIN};
	const char *mode = argc > 1 ? argv[1] : "none";
	const char *end = argc > 2 ? argv[2] : "return";
	int ep, tfd, turn;
	uint64_t ticks;

	memset(chunk, 'x', CHUNK);
	ep = epoll_create1(0);
	tfd = timerfd_create(CLOCK_MONOTONIC, 0);
	if (ep < 0 || tfd < 0 || timerfd_settime(tfd, 0, &its, NULL) != 0)
		return 2;
	ev.data.fd = tfd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev) != 0)
		return 2;
	for (turn = 0; turn < TURNS; turn++) {
		if (wait_loop(mode, ep, &ev) != 1)
			return 2;
		if (read(tfd, &ticks, sizeof(ticks)) != sizeof(ticks))
			return 2;
		on_timer(mode, turn);
	}
	if (!strcmp(end, "_exit"))
		_exit(3);
	if (!strcmp(end, "_Exit"))
		_Exit(3);
	if (!strcmp(end, "exit_group"))
		syscall(SYS_exit_group, 3);
	return 0;
}
