/*
 * perfmap.c - keep a JIT's perf map with the trace.
 *
 * node --perf-basic-prof (and other JITs) write /tmp/perf-PID.map, the
 * names of their generated code.  The pid is reused once the process is
 * gone, so at exit we copy the map beside the trace (the trace's path with
 * SW_TRACE_SUFFIX replaced by SW_PERFMAP_SUFFIX), where the analyzer looks.
 *
 * /tmp is shared: the source is opened O_NOFOLLOW and must be a regular
 * file owned by us; the copy is created O_EXCL|O_NOFOLLOW, mode 0600.  Raw
 * system calls keep our own wrappers out of the way, and errno is kept.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "perfmap.h"
#include "base.h"
#include "thread.h"
#include "lifecycle.h"

/* A map is a few MB even for a large Node service; stop copying at this. */
#define PERFMAP_MAX_BYTES (256ull << 20)

static int sys_open(const char *path, int flags, int mode)
{
	return (int)syscall(SYS_openat, AT_FDCWD, path, flags, mode);
}

static void sys_close(int fd)
{
	syscall(SYS_close, fd);
}

/* Write all of buf; -1 on error. */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		long n = syscall(SYS_write, fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* dst = trace_path with its SW_TRACE_SUFFIX replaced; -1 if too long. */
static int map_path(const char *trace_path, char *dst, size_t cap)
{
	size_t len = strlen(trace_path), slen = strlen(SW_TRACE_SUFFIX);

	if (len >= slen && !strcmp(trace_path + len - slen, SW_TRACE_SUFFIX))
		len -= slen;
	if (len + strlen(SW_PERFMAP_SUFFIX) + 1 > cap)
		return -1;
	memcpy(dst, trace_path, len);
	strcpy(dst + len, SW_PERFMAP_SUFFIX);
	return 0;
}

/* Bytes we may write to one file: a write past RLIMIT_FSIZE raises SIGXFSZ,
 * which would kill the host at exit because of us. */
static unsigned long long copy_limit(void)
{
	struct rlimit rl;

	if (syscall(SYS_prlimit64, 0, RLIMIT_FSIZE, NULL, &rl) == 0 &&
	    rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < PERFMAP_MAX_BYTES)
		return rl.rlim_cur;
	return PERFMAP_MAX_BYTES;
}

/* CLOCK_REALTIME when this program started (or forked): a map older than
 * that belongs to a dead process that had the same pid. */
static struct timespec armed_at;

void sw_perfmap_arm(void)
{
	clock_gettime(CLOCK_REALTIME, &armed_at);
}

static int older_than_us(const struct stat *st)
{
	return st->st_mtim.tv_sec < armed_at.tv_sec ||
	       (st->st_mtim.tv_sec == armed_at.tv_sec &&
		st->st_mtim.tv_nsec < armed_at.tv_nsec);
}

void sw_perfmap_save(const char *trace_path)
{
	char src[64], dst[4200], buf[16384];
	int saved_errno = errno, in = -1, out = -1;
	unsigned long long copied = 0, limit = copy_limit();
	struct stat st;

	if (!trace_path || !*trace_path)
		return;
	snprintf(src, sizeof(src), SW_PERF_MAP_FMT, (int)getpid());
	in = sys_open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0);
	if (in < 0)
		goto out; /* no JIT map: the usual case */
	if (syscall(SYS_fstat, in, &st) || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid())
		goto out; /* someone else's file, or not a file */
	if (older_than_us(&st))
		goto out; /* left behind by an earlier process with our pid */
	if (map_path(trace_path, dst, sizeof(dst)))
		goto out;
	out = sys_open(
	    dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0)
		goto out;
	for (;;) {
		long n = syscall(SYS_read, in, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		/* A map cut short loses only its last names: the analyzer
		 * ignores a torn last line. */
		if ((unsigned long long)n > limit - copied)
			n = (long)(limit - copied);
		if (n <= 0 || write_all(out, buf, (size_t)n))
			break;
		copied += (unsigned long long)n;
	}
out:
	if (out >= 0)
		sys_close(out);
	if (in >= 0)
		sys_close(in);
	errno = saved_errno;
}
