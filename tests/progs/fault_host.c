/*
 * fault_host.c - a host program for the fault tests (tests/integration/
 * test_faults.c): an epoll loop whose every turn blocks in nanosleep (so
 * the shim has a record to write on every turn) and appends a line to the
 * program's own data file.  At the end it reads the data file back and
 * checks it byte for byte.  Its stdout is deterministic, so a run under
 * the shim must print exactly what a run without it prints.
 *
 * usage: fault_host DATAFILE TURNS [SLEEP_US [ACTION]]
 *   ACTION, done once half the turns have run:
 *     rmdir=DIR   remove every file in DIR, then DIR itself (the shim's
 *                 output directory disappears under it)
 *     fill=PATH   write to PATH until the disk is full (the shim's disk
 *                 fills in the middle of the run; PATH is then removed)
 * Exits 0 when the data is intact, 1 when not, 2 on a setup error.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static void line_of(char *buf, size_t len, int turn)
{
	snprintf(buf, len, "data line %06d: the host's own bytes\n", turn);
}

__attribute__((noinline)) static void fault_work(long sleep_us)
{
	struct timespec ts = {sleep_us / 1000000, (sleep_us % 1000000) * 1000};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void remove_dir(const char *dir)
{
	char path[4096];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	if (rmdir(dir) != 0)
		perror("rmdir");
}

static void fill_disk(const char *path)
{
	static char block[4096];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0)
		return;
	memset(block, 'F', sizeof(block));
	while (write(fd, block, sizeof(block)) > 0)
		;
	/* fill the last partial page too */
	while (write(fd, block, 1) > 0)
		;
	close(fd);
}

static int check_data(const char *path, int turns)
{
	char want[128], got[128];
	FILE *f = fopen(path, "r");
	int i;

	if (!f)
		return 1;
	for (i = 0; i < turns; i++) {
		line_of(want, sizeof(want), i);
		if (!fgets(got, sizeof(got), f) || strcmp(got, want) != 0) {
			fclose(f);
			return 1;
		}
	}
	i = fgetc(f) != EOF;
	fclose(f);
	return i;
}

int main(int argc, char **argv)
{
	struct itimerspec its = {{0, 1000000}, {0, 1000000}};
	struct epoll_event ev = {.events = EPOLLIN};
	const char *action = argc > 4 ? argv[4] : "";
	char fill_path[4096] = "";
	int turns, turn = 0, ep, tfd, data, bad;
	long sleep_us;

	if (argc < 3)
		return 2;
	turns = atoi(argv[2]);
	sleep_us = argc > 3 ? atol(argv[3]) : 2000;
	data = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
	ep = epoll_create1(0);
	tfd = timerfd_create(CLOCK_MONOTONIC, 0);
	if (data < 0 || ep < 0 || tfd < 0 ||
	    timerfd_settime(tfd, 0, &its, NULL) != 0 ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev) != 0) {
		perror("fault_host: setup");
		return 2;
	}
	while (turn < turns) {
		struct epoll_event got;
		uint64_t ticks;
		char line[128];

		if (epoll_wait(ep, &got, 1, 1000) != 1)
			continue;
		if (read(tfd, &ticks, sizeof(ticks)) != sizeof(ticks))
			continue;
		fault_work(sleep_us);
		line_of(line, sizeof(line), turn);
		if (write(data, line, strlen(line)) != (ssize_t)strlen(line)) {
			perror("fault_host: write");
			return 1;
		}
		printf("turn %d\n", turn);
		turn++;
		if (turn == turns / 2 && !strncmp(action, "rmdir=", 6))
			remove_dir(action + 6);
		if (turn == turns / 2 && !strncmp(action, "fill=", 5)) {
			snprintf(fill_path, sizeof(fill_path), "%s",
				 action + 5);
			fill_disk(fill_path);
		}
	}
	close(data);
	if (fill_path[0])
		unlink(fill_path);
	bad = check_data(argv[1], turns);
	printf("fault_host: %d turns, data %s\n", turns,
	       bad ? "CORRUPT" : "intact");
	return bad;
}
