/*
 * writer.c - the trace file: create it safely, keep the program's hands
 * off its fd, append one record per write(2).
 *
 * Every write is a raw syscall on an fd kept high and close-on-exec.
 * Before each write the fd is checked (fstat dev/ino) to still be our
 * file, so a program that closed every fd behind our back (a raw syscall)
 * and opened its own data file never receives our bytes.  The fd is one
 * of the shim's own (ownfd.c), so that the program cannot close or
 * overwrite it to begin with.
 *
 * On any failure (disk full, fd gone, file size limit) recording stops for
 * good with one warning; the host runs on.  Writers in flight are counted
 * so that moving the fd (dup2 onto it) waits for them.
 */
#include "core.h"
#include "ownfd.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static _Atomic int trace_fd = -1;
static _Atomic int stopped;	 /* 1 after a failure: no more writes */
static _Atomic int inflight;	 /* sw_emit calls between fd load and write */
static _Atomic uint64_t written; /* bytes in the file */
static _Atomic uint64_t dropped; /* records not written */
static pid_t trace_pid;		 /* the process the file belongs to */
static dev_t trace_dev;
static ino_t trace_ino;
static char trace_path[1200];

static void trace_fd_moved(void *arg, int oldfd, int newfd);

static long sys_close(int fd)
{
	return syscall(SYS_close, fd);
}

/* Stop recording for good, with one warning. */
static void stop(const char *why, int err)
{
	int expected = 0;

	if (!atomic_compare_exchange_strong(&stopped, &expected, 1))
		return;
	sw_warn_parts("stallwatch: ", why, " ", trace_path, err ? ": " : "",
		      err ? strerrordesc_np(err) : "", "; recording stopped",
		      NULL);
}

int sw_writer_active(void)
{
	return atomic_load_explicit(&trace_fd, memory_order_relaxed) >= 0 &&
	       !atomic_load_explicit(&stopped, memory_order_relaxed);
}

const char *sw_writer_path(void)
{
	return trace_path;
}

uint64_t sw_writer_dropped(void)
{
	return atomic_load(&dropped);
}

static int write_all(int fd, const void *buf, size_t len)
{
	ssize_t n;

	do {
		n = syscall(SYS_write, fd, buf, len);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno;
	if ((size_t)n != len)
		return ENOSPC; /* a short write on a regular file: full */
	return 0;
}

int sw_emit(const void *rec, size_t len)
{
	int saved = errno, fd, err;
	struct stat st;
	struct rlimit rl;
	uint64_t at;

	if (atomic_load_explicit(&stopped, memory_order_relaxed) ||
	    len > SW_REC_MAX_SIZE) {
		atomic_fetch_add(&dropped, 1);
		errno = saved;
		return -1;
	}
	/* A vfork child (posix_spawn, Python's subprocess) shares our memory
	 * and runs wrappers on the parent thread's TLS until it execs: it
	 * must not write into the parent's trace. */
	if (sw_unlikely((pid_t)syscall(SYS_getpid) != trace_pid)) {
		errno = saved;
		return -1;
	}
	atomic_fetch_add(&inflight, 1);
	fd = atomic_load(&trace_fd);
	if (fd < 0)
		goto drop;
	if (syscall(SYS_fstat, fd, &st) != 0 || st.st_dev != trace_dev ||
	    st.st_ino != trace_ino) {
		stop("trace fd was closed or replaced behind our back:", 0);
		goto drop;
	}
	/* Deleted (the output directory was removed): nobody could read
	 * what we write, and the disk space would only be freed at exit. */
	if (st.st_nlink == 0) {
		stop("trace file was deleted:", 0);
		goto drop;
	}
	/* Exceeding RLIMIT_FSIZE would send SIGXFSZ, which kills the host:
	 * stop just short of it instead. */
	at = atomic_fetch_add(&written, len);
	if (syscall(SYS_prlimit64, 0, RLIMIT_FSIZE, NULL, &rl) == 0 &&
	    rl.rlim_cur != RLIM_INFINITY && at + len > rl.rlim_cur) {
		stop("file size limit (RLIMIT_FSIZE) reached for", 0);
		goto drop;
	}
	err = write_all(fd, rec, len);
	if (err) {
		stop("cannot write", err);
		goto drop;
	}
	atomic_fetch_sub(&inflight, 1);
	errno = saved;
	return 0;
drop:
	atomic_fetch_sub(&inflight, 1);
	atomic_fetch_add(&dropped, 1);
	errno = saved;
	return -1;
}

void sw_note(int level, const char *text)
{
	struct {
		struct sw_rec_note n;
		char text[256];
	} rec;
	size_t len = strlen(text);

	if (len > sizeof(rec.text))
		len = sizeof(rec.text);
	memset(&rec.n, 0, sizeof(rec.n));
	rec.n.h.type = SW_REC_NOTE;
	rec.n.h.size = (uint32_t)(sizeof(rec.n) + len);
	rec.n.time_ns = sw_now_ns();
	rec.n.level = (uint32_t)level;
	rec.n.text_len = (uint32_t)len;
	memcpy(rec.text, text, len);
	sw_emit(&rec, rec.n.h.size);
}

int sw_writer_start(const void *process_rec, size_t len)
{
	char buf[sizeof(struct sw_preamble) + 3 * SW_MAX_STR + 256];
	struct sw_preamble pre;

	if (len + sizeof(pre) > sizeof(buf))
		return -1;
	memcpy(pre.magic, SW_TRACE_MAGIC, sizeof(pre.magic));
	pre.version = SW_TRACE_VERSION;
	pre.byte_order = 0x01020304u;
	memcpy(buf, &pre, sizeof(pre));
	memcpy(buf + sizeof(pre), process_rec, len);
	return sw_emit(buf, sizeof(pre) + len);
}

/* Is the output directory usable?  The default one lives in /tmp, where
 * anyone could have made it first: insist that it is ours and private. */
static int check_dir(const char *dir, int is_default)
{
	struct stat st;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return errno;
	if ((is_default ? lstat(dir, &st) : stat(dir, &st)) != 0)
		return errno;
	if (!S_ISDIR(st.st_mode))
		return ENOTDIR;
	if (is_default && (st.st_uid != geteuid() || (st.st_mode & 022)))
		return EPERM;
	return 0;
}

int sw_writer_open(const char *dir, const char *comm, int pid)
{
	char def[64];
	int fd = -1, err, n;
	struct stat st;

	snprintf(def, sizeof(def), "/tmp/stallwatch-%u", (unsigned)getuid());
	err = check_dir(dir, strcmp(dir, def) == 0);
	if (err) {
		sw_warn_parts("stallwatch: cannot use output directory ", dir,
			      ": ", strerrordesc_np(err), "; not recording",
			      NULL);
		return -1;
	}
	for (n = 0; n < 100 && fd < 0; n++) {
		if (n == 0)
			snprintf(trace_path, sizeof(trace_path), "%s/%s.%d%s",
				 dir, comm, pid, SW_TRACE_SUFFIX);
		else
			snprintf(trace_path, sizeof(trace_path),
				 "%s/%s.%d.%d%s", dir, comm, pid, n,
				 SW_TRACE_SUFFIX);
		fd = (int)syscall(
		    SYS_openat, AT_FDCWD, trace_path,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		err = errno;
		sw_warn_parts("stallwatch: cannot create ", trace_path, ": ",
			      strerrordesc_np(err), "; not recording", NULL);
		trace_path[0] = 0;
		return -1;
	}
	fd = sw_ownfd_move_high(fd);
	if (syscall(SYS_fstat, fd, &st) != 0) {
		sys_close(fd);
		return -1;
	}
	trace_dev = st.st_dev;
	trace_ino = st.st_ino;
	trace_pid = pid;
	atomic_store(&written, 0);
	atomic_store(&dropped, 0);
	atomic_store(&stopped, 0);
	atomic_store(&trace_fd, fd);
	sw_ownfd_add(fd, trace_fd_moved, NULL);
	return 0;
}

/*
 * ownfd.c: the program dup2'ed onto the trace fd's number (newfd: where
 * it moved, -1: nowhere), or a forked child dropped it.  A writer that
 * loaded the old number may still be about to write through it: let it
 * finish before the number changes hands.
 */
static void trace_fd_moved(void *arg, int oldfd, int newfd)
{
	int spins;

	(void)arg;
	(void)oldfd;
	if (newfd < 0 && (pid_t)syscall(SYS_getpid) == trace_pid)
		stop("no fd left to move the trace to; closing", EMFILE);
	atomic_store(&trace_fd, newfd);
	for (spins = 0; atomic_load(&inflight) > 0 && spins < 1000000; spins++)
		sched_yield();
}

void sw_writer_atfork_child(void)
{
	/* The parent keeps writing to the shared file; the child's copy of
	 * the descriptor is closed by sw_ownfd_atfork_child(). */
	atomic_store(&trace_fd, -1);
	atomic_store(&inflight, 0);
	trace_path[0] = 0;
}

