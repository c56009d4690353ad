/*
 * fdcache.c - per-fd kind and O_NONBLOCK cache (see fdcache.h).
 */
#include "fdcache.h"

#include "shim.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

uint8_t sw_fdc[SW_FDC_SIZE];

static int kind_of_mode(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return SW_FD_FILE;
	case S_IFBLK:
		return SW_FD_BLOCKDEV;
	case S_IFSOCK:
		return SW_FD_SOCKET;
	case S_IFIFO:
		return SW_FD_PIPE;
	case S_IFCHR:
		return SW_FD_TTY;
	case 0:
		return SW_FD_EVENT; /* anon inodes: eventfd, timerfd, epoll */
	default:
		return SW_FD_UNKNOWN;
	}
}

uint8_t sw_fdc_lookup(int fd)
{
	uint8_t v = sw_fdc_peek(fd);
	struct stat st;
	long fl;

	if (v & SW_FDC_VALID)
		return v;
	if (fd < 0)
		return 0;
	/* Raw syscalls: not our own wrappers, and errno is the caller's to
	 * keep (record.c restores it). */
	if (syscall(SYS_fstat, fd, &st) != 0)
		return 0;
	fl = syscall(SYS_fcntl, fd, F_GETFL);
	if (fl < 0)
		return 0;
	v = (uint8_t)(SW_FDC_VALID | (unsigned)kind_of_mode(st.st_mode) |
		      ((fl & O_NONBLOCK) ? SW_FDC_NONBLOCK : 0));
	sw_fdc_store(fd, v);
	v |= sw_fdc_peek(fd) & SW_FDC_LOOP;
	return v;
}

void sw_fdc_set_nonblock(int fd, int nonblock)
{
	uint8_t v = sw_fdc_peek(fd);

	if (!(v & SW_FDC_VALID))
		return; /* looked up on first use anyway */
	v = (uint8_t)((v & ~SW_FDC_NONBLOCK) |
		      (nonblock ? SW_FDC_NONBLOCK : 0));
	sw_fdc_store(fd, v);
}

void sw_fdc_copy(int oldfd, int newfd)
{
	uint8_t v = sw_fdc_peek(oldfd);

	/* The copy shares kind and status flags, but is not the loop's fd:
	 * closing it does not end the loop. */
	sw_fdc_store(newfd,
		     (v & SW_FDC_VALID) ? (uint8_t)(v & ~SW_FDC_LOOP) : 0);
}

int sw_fdc_forget_range(unsigned lo, unsigned hi)
{
	int had_loop = 0;
	unsigned fd;

	if (hi >= SW_FDC_SIZE)
		hi = SW_FDC_SIZE - 1;
	for (fd = lo; fd <= hi && fd < SW_FDC_SIZE; fd++) {
		uint8_t v = __atomic_load_n(&sw_fdc[fd], __ATOMIC_RELAXED);

		if (v & SW_FDC_LOOP)
			had_loop = 1;
		if (v & ~SW_FDC_LOOP)
			__atomic_store_n(&sw_fdc[fd], v & SW_FDC_LOOP,
					 __ATOMIC_RELAXED);
	}
	return had_loop;
}

void sw_fdc_mark_loop(int fd, int on)
{
	if ((unsigned)fd >= SW_FDC_SIZE)
		return;
	if (on)
		__atomic_or_fetch(&sw_fdc[fd], SW_FDC_LOOP, __ATOMIC_RELAXED);
	else
		__atomic_and_fetch(&sw_fdc[fd], (uint8_t)~SW_FDC_LOOP,
				   __ATOMIC_RELAXED);
}
