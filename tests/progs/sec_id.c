/*
 * sec_id.c - the target of the security tests (tests/integration/
 * test_security.c): says who it runs as and whether the shim is mapped
 * into it, then runs an epoll loop whose one turn blocks in nanosleep for
 * 80 ms, so a shim that records would have a stall to write.
 *
 * Prints "secure=N shim=N" on stderr (N: AT_SECURE, and 1 when a mapping
 * whose path contains SEC_SHIM_NAME, or "libstallwatch", is present),
 * then "sec_id: done" on stdout.  Exits 0.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static int shim_mapped(void)
{
	const char *name = getenv("SEC_SHIM_NAME");
	char line[4096];
	FILE *f = fopen("/proc/self/maps", "r");
	int found = 0;

	if (!name || !*name)
		name = "libstallwatch";
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, name))
			found = 1;
	fclose(f);
	return found;
}

__attribute__((noinline)) static void sec_stall(void)
{
	struct timespec ts = {0, 80000000};

	nanosleep(&ts, NULL);
}

int main(void)
{
	struct itimerspec its = {{0, 0}, {0, 1000000}};
	struct epoll_event ev = {.events = EPOLLIN}, got;
	int ep = epoll_create1(0), tfd = timerfd_create(CLOCK_MONOTONIC, 0);
	uint64_t ticks;

	fprintf(stderr, "secure=%lu shim=%d\n", getauxval(AT_SECURE),
		shim_mapped());
	if (ep < 0 || tfd < 0 || timerfd_settime(tfd, 0, &its, NULL) ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev))
		return 2;
	if (epoll_wait(ep, &got, 1, 1000) == 1 &&
	    read(tfd, &ticks, sizeof(ticks)) == sizeof(ticks))
		sec_stall();
	epoll_wait(ep, &got, 1, 5); /* ends the stalled turn */
	printf("sec_id: done\n");
	return 0;
}
