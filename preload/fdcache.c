/*
 * fdcache.c - the per-fd kind and O_NONBLOCK cache (fdcache.h), which
 * tells a call that cannot sleep from one that can without a system call.
 */
#include "fdcache.h"

#include <stdatomic.h>

#include "base.h"
#include "thread.h"
#include "writer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
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

void sw_fdc_suspect_all(uint64_t now_ns)
{
	static _Atomic uint64_t last;
	uint64_t prev = atomic_load_explicit(&last, memory_order_relaxed);
	unsigned fd;

	if (prev && now_ns - prev < 1000000000ull)
		return;
	if (!atomic_compare_exchange_strong(&last, &prev, now_ns))
		return;
	for (fd = 0; fd < SW_FDC_SIZE; fd++) {
		uint8_t v = __atomic_load_n(&sw_fdc[fd], __ATOMIC_RELAXED);

		if ((v & (SW_FDC_VALID | SW_FDC_NONBLOCK)) ==
			(SW_FDC_VALID | SW_FDC_NONBLOCK) &&
		    ((v & SW_FDC_KIND) == SW_FD_SOCKET ||
		     (v & SW_FDC_KIND) == SW_FD_PIPE))
			__atomic_or_fetch(&sw_fdc[fd], SW_FDC_SUSPECT,
					  __ATOMIC_RELAXED);
	}
}

int sw_fdc_recheck(int fd)
{
	char note[256];
	int saved = errno;
	long fl;

	__atomic_and_fetch(&sw_fdc[fd], (uint8_t)~SW_FDC_SUSPECT,
			   __ATOMIC_RELAXED);
	fl = syscall(SYS_fcntl, fd, F_GETFL);
	errno = saved;
	if (fl < 0) {
		sw_fdc_forget(fd);
		return 0;
	}
	if (fl & O_NONBLOCK)
		return sw_fdc_nosleep(fd);
	sw_fdc_set_nonblock(fd, 0);
	snprintf(note, sizeof(note),
		 "fd %d: a loop thread slept through a stall outside every "
		 "timed call, and this fd, opened non-blocking, is blocking "
		 "now (O_NONBLOCK cleared outside this process?); its calls "
		 "are timed from now on",
		 fd);
	sw_tls.guard++;
	sw_note(SW_NOTE_WARN, note);
	sw_tls.guard--;
	errno = saved;
	return 0;
}
