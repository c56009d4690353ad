/*
 * fault_stderr.c - a daemon-like program that closes stdin, stdout and
 * stderr and then opens its own data files, which get fds 0, 1 and 2
 * (tests/integration/test_faults.c).  Half way through its epoll loop it
 * removes the shim's output directory, so a shim that warns writes its
 * "stallwatch: ..." line to fd 2: the program's third data file.  At the
 * end the program checks all three files byte for byte.
 *
 * usage: fault_stderr DATADIR OUTDIR
 * Exits 0 when the data is intact, 1 when not, 2 on a setup error.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define TURNS 40

static void remove_dir(const char *dir)
{
	char path[4096];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			unlink(path);
		}
	}
	closedir(d);
	rmdir(dir);
}

__attribute__((noinline)) static void stderr_stall(void)
{
	struct timespec ts = {0, 3000000};

	nanosleep(&ts, NULL);
}

static int check(const char *path, char tag)
{
	char buf[TURNS * 16 + 1];
	int fd = open(path, O_RDONLY), i;
	ssize_t n;

	if (fd < 0)
		return 1;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n != TURNS * 8)
		return 1;
	for (i = 0; i < TURNS * 8; i++)
		if (buf[i] != tag)
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	struct itimerspec its = {{0, 1000000}, {0, 1000000}};
	struct epoll_event ev = {.events = EPOLLIN};
	char paths[3][4096], block[8];
	int fds[3], ep, tfd, i, turn;

	if (argc != 3)
		return 2;
	close(0);
	close(1);
	close(2);
	for (i = 0; i < 3; i++) {
		snprintf(paths[i], sizeof(paths[i]), "%s/data%d", argv[1], i);
		fds[i] = open(paths[i], O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fds[i] != i)
			return 2;
	}
	ep = epoll_create1(0);
	tfd = timerfd_create(CLOCK_MONOTONIC, 0);
	if (ep < 0 || tfd < 0 || timerfd_settime(tfd, 0, &its, NULL) ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev))
		return 2;
	for (turn = 0; turn < TURNS;) {
		struct epoll_event got;
		uint64_t ticks;

		if (epoll_wait(ep, &got, 1, 1000) != 1 ||
		    read(tfd, &ticks, sizeof(ticks)) != sizeof(ticks))
			continue;
		stderr_stall();
		for (i = 0; i < 3; i++) {
			memset(block, 'A' + i, sizeof(block));
			if (write(fds[i], block, sizeof(block)) !=
			    sizeof(block))
				return 1;
		}
		if (++turn == TURNS / 2)
			remove_dir(argv[2]);
	}
	for (i = 0; i < 3; i++)
		close(fds[i]);
	for (i = 0; i < 3; i++)
		if (check(paths[i], (char)('A' + i)))
			return 1;
	return 0;
}
