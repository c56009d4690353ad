/*
 * init.c - the shim's life cycle: constructor, first loop, destructor,
 * fork.
 *
 * The constructor only decides whether this process may be recorded
 * (AT_SECURE, STALLWATCH_DISABLE, STALLWATCH_FOLLOW=0, an unusable output
 * directory leave the shim inert: every wrapper then passes straight
 * through) and reads the settings: it opens nothing, starts nothing.
 * Recording starts when a thread first waits on a loop
 * (sw_start_recording, from loop.c): only then the output directory and
 * the trace file are created, the command line and the module list are
 * taken (so a process renamed after fork shows its own name), libunwind
 * is loaded and the sampler installed.  A process that never runs a loop
 * keeps no file, no descriptor, no thread, no timer (doc/design.md,
 * "Nothing without a loop").  The destructor writes final heartbeats and
 * the end record.  A forked child drops the parent's file and descriptors
 * in the atfork handler and starts its own file at its own first loop
 * wait; the vfork/posix_spawn path runs no atfork handlers and no shim
 * code.
 */
#include "core.h"
#include "ownfd.h"
#include "extras.h" /* extras */
#include "real.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* A cache line of its own: where it lands in the static TLS block moved a
 * wrapper's cost by up to 8 ns in make bench's in-process A/B. */
SW_TLS struct sw_thread sw_tls __attribute__((aligned(64)));
volatile int sw_active;
volatile int sw_armed;
/* 1 while one thread runs sw_start_recording. */
static _Atomic int starting;
/* A forked child of a recording process: replay the parent's modules. */
static int have_parent_modules;
/* The file was created before a drop of root (sw_prepare_drop) and no
 * loop has started yet. */
static int made_early;

static char comm[64];
static pid_t my_pid; /* getpid() as of the constructor or the last fork */
static char output_dir[2200];
static uint64_t start_realtime_ns, start_mono_ns;

int sw_in_vfork_child(void)
{
	return (pid_t)syscall(SYS_getpid) != my_pid;
}

uint32_t sw_gettid(void)
{
	return (uint32_t)syscall(SYS_gettid);
}

/*
 * fd 2 as it was when the shim started.  A daemon may close it and open
 * one of its data files there: a warning must never land in the program's
 * data, so it goes out only while fd 2 is still the same file.
 */
static int stderr_ok;
static dev_t stderr_dev;
static ino_t stderr_ino;

static void note_stderr(void)
{
	struct stat st;

	stderr_ok = syscall(SYS_fstat, 2, &st) == 0;
	stderr_dev = st.st_dev;
	stderr_ino = st.st_ino;
}

static int stderr_unchanged(void)
{
	struct stat st;

	return stderr_ok && syscall(SYS_fstat, 2, &st) == 0 &&
	       st.st_dev == stderr_dev && st.st_ino == stderr_ino;
}

void sw_warn_parts(const char *first, ...)
{
	char buf[1024];
	size_t len = 0;
	const char *s;
	va_list ap;
	int saved = errno;

	if (!stderr_unchanged())
		return;

	va_start(ap, first);
	for (s = first; s; s = va_arg(ap, const char *)) {
		size_t n = strlen(s);

		if (n > sizeof(buf) - 2 - len)
			n = sizeof(buf) - 2 - len;
		memcpy(buf + len, s, n);
		len += n;
	}
	va_end(ap);
	buf[len++] = '\n';
	if (syscall(SYS_write, 2, buf, len) < 0)
		(void)0; /* nowhere else to say it */
	errno = saved;
}

void sw_warn_line(const char *msg)
{
	sw_warn_parts(msg, NULL);
}

/* The program name for the file name: [A-Za-z0-9._-] only, never empty,
 * never "." or "..", so no setting or argv[0] can leave the directory. */
static void make_comm(void)
{
	const char *src = program_invocation_short_name;
	size_t i, n = 0;

	for (i = 0; src && src[i] && n < sizeof(comm) - 1; i++) {
		char c = src[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-')
			comm[n++] = c;
		else
			comm[n++] = '_';
	}
	comm[n] = 0;
	if (n == 0 || comm[0] == '.') {
		/* "proc" in front (the name may lose its last 4 bytes) */
		n = n > sizeof(comm) - 5 ? sizeof(comm) - 5 : n;
		memmove(comm + 4, comm, n);
		memcpy(comm, "proc", 4);
		comm[n + 4] = 0;
	}
}

/* Read a small /proc file with raw syscalls (no stdio, no malloc). */
static size_t read_proc(const char *path, char *buf, size_t cap)
{
	int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;
	ssize_t n;

	if (fd < 0)
		return 0;
	while (len < cap &&
	       (n = syscall(SYS_read, fd, buf + len, cap - len)) > 0)
		len += (size_t)n;
	syscall(SYS_close, fd);
	return len;
}

/*
 * The argument area as the kernel laid it out ([args, args + args_len)),
 * from the constructor's argv.  Read from memory when recording starts,
 * it is what /proc/self/cmdline would say then, a title the program set
 * over it included (nginx workers), without opening a descriptor.
 */
static const char *args;
static size_t args_len;
static char args_seen[SW_MAX_STR]; /* as in the process record */

/*
 * A program that sets its title after its first loop wait (nginx: a
 * worker probes its epoll fd during its set-up, then calls itself "worker
 * process"): at each new loop, at the loop thread's heartbeats and at exit
 * the process record's command line is brought up to date, in place, at
 * its fixed offset in the file.
 */
void sw_refresh_cmdline(void)
{
	if (!args || !sw_active || memcmp(args_seen, args, args_len) == 0)
		return;
	memcpy(args_seen, args, args_len);
	sw_writer_patch_head(sizeof(struct sw_preamble) +
				 sizeof(struct sw_rec_process),
			     args_seen, args_len);
}

static void note_args(int argc, char **argv)
{
	if (argc <= 0 || !argv || !argv[0] || !argv[argc - 1])
		return;
	args = argv[0];
	args_len = (size_t)(argv[argc - 1] + strlen(argv[argc - 1]) + 1 - args);
	if (args_len > SW_MAX_STR)
		args_len = SW_MAX_STR;
}

static int write_process_record(void)
{
	static char buf[sizeof(struct sw_rec_process) + 3 * SW_MAX_STR];
	struct sw_rec_process *p = (struct sw_rec_process *)buf;
	char *tail = buf + sizeof(*p);
	size_t cmd_len = 0, exe_len, comm_len = strlen(comm);
	ssize_t n;

	memset(p, 0, sizeof(*p));
	if (args) {
		/* The whole area, NULs at its end included (a reader drops
		 * them): a title set later is patched in place, same size
		 * (sw_refresh_cmdline). */
		memcpy(tail, args, args_len);
		cmd_len = args_len;
		memcpy(args_seen, args, args_len);
	} else {
		cmd_len = read_proc("/proc/self/cmdline", tail, SW_MAX_STR);
		while (cmd_len > 0 && tail[cmd_len - 1] == 0)
			cmd_len--; /* argv joined with NULs */
	}
	n = readlink("/proc/self/exe", tail + cmd_len, SW_MAX_STR);
	exe_len = n > 0 ? (size_t)n : 0;
	memcpy(tail + cmd_len + exe_len, comm, comm_len);

	p->h.type = SW_REC_PROCESS;
	p->h.size = (uint32_t)(sizeof(*p) + cmd_len + exe_len + comm_len);
	p->pid = (uint32_t)getpid();
	p->ppid = (uint32_t)getppid();
	p->start_realtime_ns = start_realtime_ns;
	p->start_mono_ns = start_mono_ns;
	p->clock_id = CLOCK_MONOTONIC;
	p->proc_flags = sw_cfg.strict ? SW_PROC_STRICT : 0;
	p->threshold_ns = sw_cfg.threshold_ns;
	p->call_threshold_ns = sw_cfg.call_threshold_ns;
	p->sample_interval_ns = sw_cfg.sampling ? sw_cfg.sample_interval_ns : 0;
	p->cmdline_len = (uint32_t)cmd_len;
	p->exe_len = (uint32_t)exe_len;
	p->comm_len = (uint32_t)comm_len;
	return sw_writer_start(buf, p->h.size);
}

static void note_start_time(void)
{
	struct timespec rt;

	start_mono_ns = sw_now_ns();
	sw_clock_start();
	clock_gettime(CLOCK_REALTIME, &rt);
	start_realtime_ns =
	    (uint64_t)rt.tv_sec * 1000000000ull + (uint64_t)rt.tv_nsec;
}

/* Open this process's file and write what a reader needs first.  A
 * forked child replays the parent's module records instead of walking
 * the loader's list (modules.c says why). */
static int start_recording(int forked)
{
	my_pid = getpid();
	note_start_time();
	if (!made_early && sw_writer_open(output_dir, comm, (int)getpid()) != 0)
		return -1;
	made_early = 0;
	if (write_process_record() != 0)
		return -1;
	if (forked)
		sw_modules_replay();
	else
		sw_modules_scan_all();
	return 0;
}

/*
 * A forked child records nothing until it waits on a loop: it drops the
 * parent's trace file and descriptors here (ownfd.c), forgets the
 * parent's loops (its own thread's loop, if any, starts afresh at its
 * next wait) and is armed again.  glibc has reset its own locks before
 * fork handlers run.
 */
static void atfork_child(void)
{
	if (!sw_active && !sw_armed)
		return;
	sw_tls.guard++;
	my_pid = getpid();
	sw_perfmap_arm();
	if (sw_active)
		have_parent_modules = 1;
	sw_active = 0;
	made_early = 0;
	atomic_store(&starting, 0);
	sw_tls.in_turn = 0;
	sw_ownfd_atfork_child();
	sw_writer_atfork_child();
	sw_modules_atfork_child();
	sw_loop_atfork_child();
	sw_watchdog_atfork_child();
	sw_tls.guard--;
}

void sw_before_first_thread(void)
{
	int saved = errno;

	sw_tls.guard++;
	sw_stack_init();
	sw_writer_prepare(output_dir);
	sw_tls.guard--;
	errno = saved;
}

void sw_prepare_drop(void)
{
	int saved = errno;

	if (made_early || sw_active || !sw_armed)
		return;
	sw_tls.guard++;
	if (sw_writer_open(output_dir, comm, (int)getpid()) == 0)
		made_early = 1;
	sw_tls.guard--;
	errno = saved;
}

int sw_start_recording(void)
{
	int expect = 0;

	if (sw_active)
		return 0;
	if (!sw_armed)
		return -1;
	if (!atomic_compare_exchange_strong(&starting, &expect, 1)) {
		/* Another thread is starting: its loop and ours are counted
		 * from the same first turn.  (Not a signal handler, and the
		 * starter takes no lock a loop wait holds.) */
		struct timespec ms = {0, 1000000};
		int i;

		for (i = 0; i < 2000 && atomic_load(&starting) && !sw_active;
		     i++)
			SW_REAL(nanosleep)(&ms, NULL);
		return sw_active ? 0 : -1;
	}
	if (sw_active)
		goto done;
	sw_tls.guard++;
	sw_stack_init();
	if (start_recording(have_parent_modules) != 0) {
		sw_armed = 0;
		sw_cfg.enabled = 0;
		sw_tls.guard--;
		atomic_store(&starting, 0);
		return -1;
	}
	if (sw_cfg.sampling)
		sw_sampler_install();
	sw_active = 1;
	sw_tls.guard--;
done:
	atomic_store(&starting, 0);
	return sw_active ? 0 : -1;
}

/*
 * STALLWATCH_FOLLOW=0: only the process `stallwatch run` started (or the
 * first one the shim found itself in) is recorded; exec'd descendants
 * inherit STALLWATCH_ROOT_PID and stay inert.  Forked children without
 * exec never get here: they inherit the parent's state.
 */
static int follow_allows(void)
{
	const char *root = getenv("STALLWATCH_ROOT_PID");
	char buf[24];

	if (sw_cfg.follow)
		return 1;
	if (!root || !*root) {
		snprintf(buf, sizeof(buf), "%d", (int)getpid());
		setenv("STALLWATCH_ROOT_PID", buf, 1);
		return 1;
	}
	return atoi(root) == (int)getpid();
}

static int make_output_dir(void)
{
	char cwd[1024];

	if (sw_cfg.output_dir[0] == '/') {
		snprintf(output_dir, sizeof(output_dir), "%s",
			 sw_cfg.output_dir);
		return 0;
	}
	/* Relative: fix it now, so a later chdir (or a forked child that
	 * changed directory) still writes to the same place. */
	if (!getcwd(cwd, sizeof(cwd))) {
		sw_warn_parts("stallwatch: cannot resolve STALLWATCH_OUTPUT=",
			      sw_cfg.output_dir, "; not recording", NULL);
		return -1;
	}
	snprintf(output_dir, sizeof(output_dir), "%s/%s", cwd,
		 sw_cfg.output_dir);
	return 0;
}

/* glibc passes constructors argc, argv and envp. */
__attribute__((constructor)) static void sw_init(int argc, char **argv,
						 char **envp)
{
	(void)envp;
	sw_tls.guard++;
	note_args(argc, argv);
	/* setuid/setgid or other secure-execution: do nothing at all. */
	if (getauxval(AT_SECURE))
		goto out;
	note_stderr();
	sw_real_init();
	sw_settings_load(&sw_cfg, environ, sw_warn_line);
	if (!sw_cfg.enabled || !follow_allows())
		goto inert;
	if (make_output_dir() != 0)
		goto inert;
	/* The file name's program name, before the program can change its
	 * title (the command line itself is taken when recording starts). */
	make_comm();
	my_pid = getpid();
	sw_perfmap_arm();
	sw_loop_init();
	pthread_atfork(NULL, NULL, atfork_child);
	sw_armed = 1;
	goto out;
inert:
	sw_cfg.enabled = 0;
out:
	sw_tls.guard--;
}

/* extras: the destructor's end, also for _exit & co. (wrap_exit.c). */
void sw_finish(uint32_t how, int32_t status)
{
	struct sw_rec_end end;
	uint64_t now;

	/* Made before a drop of root, and no loop ever came: a trace that
	 * says so (process record, end), rather than an empty file. */
	if (made_early && !sw_active) {
		made_early = 0;
		sw_tls.guard++;
		note_start_time();
		if (write_process_record() == 0)
			sw_active = 1;
		sw_tls.guard--;
	}

	if (!sw_active)
		return;
	sw_tls.guard++;
	/* The watchdog and the sampler stop writing first. */
	sw_watchdog_stop();
	now = sw_now_ns();
	sw_loop_heartbeat_all(now, 1);
	sw_refresh_cmdline(); /* the title it ended with */
	/* No more records after the end record: wrappers on other threads
	 * still running see sw_active == 0 and pass through. */
	sw_active = 0;
	sw_tls.in_turn = 0;
	memset(&end, 0, sizeof(end));
	end.h.type = SW_REC_END;
	end.h.size = sizeof(end);
	end.time_ns = now;
	end.records_dropped = sw_writer_dropped();
	end.how = how;	     /* extras */
	end.status = status; /* extras */
	sw_emit(&end, sizeof(end));
	sw_perfmap_save(sw_writer_path());
	sw_tls.guard--;
}

__attribute__((destructor)) static void sw_fini(void)
{
	sw_finish(SW_END_EXIT, 0); /* extras */
}
