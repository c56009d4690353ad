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
#include "writer.h"
#include "call.h"
#include "loop.h"
#include "modules.h"
#include "pyframes.h"
#include "testname.h"
#include "warn.h"

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
/* The size budget (STALLWATCH_MAX_SIZE): see rotate(). */
static _Atomic int rotating;	 /* one rotation at a time */
static SW_TLS int rotating_here; /* this thread writes the new file's head */
static SW_TLS int in_emit;	 /* this thread is inside sw_emit */
static char head[sizeof(struct sw_preamble) + 3 * SW_MAX_STR + 256];
static size_t head_len; /* preamble + process record, for rotations */
static uint64_t file_start_ns, prev_start_ns, prev_end_ns, prev_bytes;
static uint64_t drop_bytes, drop_first_ns, drop_last_ns;
static uint32_t rotations;
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

/*
 * The size budget.  Each process's trace may take STALLWATCH_MAX_SIZE
 * bytes in all: when the current file would pass half of it, it becomes
 * `<file>.1` (replacing the older one, whose data are then dropped) and a
 * fresh file starts that stands alone: preamble and process record,
 * modules, live loops written again (Python code objects are written
 * again as samples meet them), then a SW_REC_DROPPED record that says
 * cumulatively what no kept file holds any more.  So the newest data
 * survive, and the two files never hold more than the budget (plus one
 * record).  Async-signal-safe: system calls and memory only.  A thread
 * that finds another rotating drops its record (counted); a signal
 * handler that interrupted this thread's own sw_emit does not rotate
 * (the next record will).
 */
static int rotate(size_t len)
{
	char old[sizeof(trace_path) + 4];
	struct sw_rec_dropped d;
	int expect = 0, fd, oldfd, spins;
	uint64_t now, half = sw_cfg.max_size / 2;
	struct stat st;

	if (!atomic_compare_exchange_strong(&rotating, &expect, 1))
		return -1;
	if (atomic_load(&written) + len <= half)
		goto done; /* another thread just rotated */
	/* Writers that loaded the fd before we set `rotating` finish. */
	for (spins = 0; atomic_load(&inflight) > 0 && spins < 1000000; spins++)
		sched_yield();
	now = sw_now_ns();
	snprintf(old, sizeof(old), "%s.1", trace_path);
	if (syscall(SYS_renameat, AT_FDCWD, trace_path, AT_FDCWD, old) != 0) {
		stop("cannot rotate", errno);
		goto done;
	}
	if (rotations) {
		/* The older .1 is gone now. */
		drop_bytes += prev_bytes;
		if (!drop_first_ns)
			drop_first_ns = prev_start_ns;
		drop_last_ns = prev_end_ns;
	}
	prev_start_ns = file_start_ns;
	prev_end_ns = now;
	prev_bytes = atomic_load(&written);
	fd = (int)syscall(SYS_openat, AT_FDCWD, trace_path,
			  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			  0600);
	if (fd < 0) {
		stop("cannot create", errno);
		goto done;
	}
	fd = sw_ownfd_move_high(fd);
	if (syscall(SYS_fstat, fd, &st) != 0) {
		syscall(SYS_close, fd);
		stop("cannot create", errno);
		goto done;
	}
	oldfd = atomic_load(&trace_fd);
	trace_dev = st.st_dev;
	trace_ino = st.st_ino;
	atomic_store(&trace_fd, fd);
	sw_ownfd_add(fd, trace_fd_moved, NULL);
	if (oldfd >= 0) {
		sw_ownfd_del(oldfd);
		syscall(SYS_close, oldfd);
	}
	atomic_store(&written, 0);
	file_start_ns = now;
	rotations++;
	/* The new file's head, written by this thread past the budget
	 * check. */
	rotating_here = 1;
	sw_emit(head, head_len);
	sw_modules_replay();
	sw_loop_reemit_all(now);
	sw_py_new_file();
	sw_test_new_file(); /* the test in force */
	memset(&d, 0, sizeof(d));
	d.h.type = SW_REC_DROPPED;
	d.h.size = sizeof(d);
	d.time_ns = now;
	d.bytes = drop_bytes;
	d.first_dropped_ns = drop_first_ns;
	d.last_dropped_ns = drop_last_ns;
	d.rotations = rotations;
	sw_emit(&d, sizeof(d));
	rotating_here = 0;
done:
	atomic_store(&rotating, 0);
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
	if (sw_cfg.max_size && !rotating_here && !in_emit) {
		if (sw_unlikely(atomic_load(&rotating)) ||
		    (atomic_load(&written) + len > sw_cfg.max_size / 2 &&
		     rotate(len) != 0)) {
			atomic_fetch_add(&dropped, 1);
			errno = saved;
			return -1;
		}
	}
	in_emit++;
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
	in_emit--;
	errno = saved;
	return 0;
drop:
	atomic_fetch_sub(&inflight, 1);
	in_emit--;
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

void sw_writer_patch_head(size_t off, const void *data, size_t len)
{
	int fd = atomic_load(&trace_fd), saved = errno;

	if (off + len > head_len || fd < 0 ||
	    atomic_load_explicit(&stopped, memory_order_relaxed))
		return;
	memcpy(head + off, data, len);
	if (syscall(SYS_pwrite64, fd, data, len, (long)off) < 0)
		(void)0; /* the old command line stays: harmless */
	errno = saved;
}

int sw_writer_start(const void *process_rec, size_t len)
{
	char buf[sizeof(struct sw_preamble) + 3 * SW_MAX_STR + 256];
	struct sw_preamble pre;

	if (len + sizeof(pre) > sizeof(buf))
		return -1;
	memcpy(pre.magic, SW_TRACE_MAGIC, sizeof(pre.magic));
	pre.version = SW_TRACE_VERSION;
	pre.byte_order = SW_TRACE_BYTE_ORDER;
	memcpy(buf, &pre, sizeof(pre));
	memcpy(buf + sizeof(pre), process_rec, len);
	if (sizeof(pre) + len <= sizeof(head)) {
		memcpy(head, buf, sizeof(pre) + len);
		head_len = sizeof(pre) + len;
	}
	file_start_ns = sw_now_ns();
	rotations = 0;
	drop_bytes = drop_first_ns = drop_last_ns = prev_bytes = 0;
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

/*
 * An anonymous trace file made in advance (sw_writer_prepare): the last
 * moment a process is single-threaded is its first pthread_create, and a
 * file created later, at the first loop wait, would borrow a low
 * descriptor number for a moment while other threads of the program may
 * be opening theirs (doc/design.md, "Living inside the host").  O_TMPFILE
 * has no name: if no loop ever comes, nothing is left on disk; at the
 * first loop wait it is linked under its name.  -1: none.
 */
static int anon_fd = -1;
static pid_t anon_pid;

static int use_dir(const char *dir)
{
	char def[64];
	int err;

	snprintf(def, sizeof(def), "/tmp/stallwatch-%u", (unsigned)getuid());
	err = check_dir(dir, strcmp(dir, def) == 0);
	if (err)
		sw_warn_parts("stallwatch: cannot use output directory ", dir,
			      ": ", strerrordesc_np(err), "; not recording",
			      NULL);
	return err;
}

void sw_writer_prepare(const char *dir)
{
	int fd;

	if (anon_fd >= 0 && anon_pid == (pid_t)syscall(SYS_getpid))
		return;
	if (use_dir(dir) != 0)
		return;
	fd = (int)syscall(SYS_openat, AT_FDCWD, dir,
			  O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0)
		return; /* no O_TMPFILE here: created at the first wait */
	fd = sw_ownfd_move_high(fd);
	/* Named files are 0600 whatever the umask; so is this one. */
	syscall(SYS_fchmod, fd, 0600);
	anon_fd = fd;
	anon_pid = (pid_t)syscall(SYS_getpid);
	sw_ownfd_add(fd, NULL, NULL);
}

/* Give the anonymous file its name (no descriptor is created). */
static int link_anon(const char *path)
{
	char proc[64];

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", anon_fd);
	if (syscall(SYS_linkat, AT_FDCWD, proc, AT_FDCWD, path,
		    AT_SYMLINK_FOLLOW) == 0)
		return anon_fd;
	return -1;
}

int sw_writer_open(const char *dir, const char *comm, int pid)
{
	int fd = -1, err, n, anon, high = 0;
	struct stat st;

	anon = anon_fd >= 0 && anon_pid == (pid_t)pid;
	if (!anon && anon_fd >= 0) {
		anon_fd = -1; /* a forked child's copy: closed by ownfd.c */
	}
	if (use_dir(dir) != 0)
		return -1;
	for (n = 0; n < 100 && fd < 0; n++) {
		if (n == 0)
			snprintf(trace_path, sizeof(trace_path), "%s/%s.%d%s",
				 dir, comm, pid, SW_TRACE_SUFFIX);
		else
			snprintf(trace_path, sizeof(trace_path),
				 "%s/%s.%d.%d%s", dir, comm, pid, n,
				 SW_TRACE_SUFFIX);
		if (anon) {
			fd = link_anon(trace_path);
			if (fd < 0 && errno != EEXIST) {
				/* no /proc: forget it, create a named one */
				sw_ownfd_del(anon_fd);
				syscall(SYS_close, anon_fd);
				anon_fd = -1;
				anon = 0;
				n = -1;
			}
			continue;
		}
		fd = (int)syscall(
		    SYS_openat, AT_FDCWD, trace_path,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (anon && fd >= 0) {
		/* Already high and owned: registered again below. */
		sw_ownfd_del(fd);
		anon_fd = -1;
		high = 1;
	} else if (anon) {
		sw_ownfd_del(anon_fd);
		syscall(SYS_close, anon_fd);
		anon_fd = -1;
	}
	if (fd < 0) {
		err = errno;
		sw_warn_parts("stallwatch: cannot create ", trace_path, ": ",
			      strerrordesc_np(err), "; not recording", NULL);
		trace_path[0] = 0;
		return -1;
	}
	if (!high)
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
	atomic_store(&rotating, 0);
	in_emit = 0;
	rotating_here = 0;
	trace_path[0] = 0;
}
