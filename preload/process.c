/*
 * process.c - the process record (process.h): what a report says about
 * the process, written first in each of its trace files.
 */
#include "process.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "base.h"
#include "clock.h"
#include "lifecycle.h"
#include "settings.h"
#include "writer.h"

static char comm[64];
static uint64_t start_realtime_ns, start_mono_ns;

const char *sw_process_comm(void)
{
	return comm;
}

/* The program name for the file name: [A-Za-z0-9._-] only, never empty,
 * never "." or "..", so no setting or argv[0] can leave the directory. */
void sw_process_make_comm(void)
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
void sw_process_refresh_cmdline(void)
{
	if (!args || !sw_active || memcmp(args_seen, args, args_len) == 0)
		return;
	memcpy(args_seen, args, args_len);
	sw_writer_patch_head(sizeof(struct sw_preamble) +
				 sizeof(struct sw_rec_process),
			     args_seen, args_len);
}

void sw_process_note_args(int argc, char **argv)
{
	if (argc <= 0 || !argv || !argv[0] || !argv[argc - 1])
		return;
	args = argv[0];
	args_len = (size_t)(argv[argc - 1] + strlen(argv[argc - 1]) + 1 - args);
	if (args_len > SW_MAX_STR)
		args_len = SW_MAX_STR;
}

int sw_process_write_record(void)
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
		 * (sw_process_refresh_cmdline). */
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

void sw_process_note_start(void)
{
	struct timespec rt;

	start_mono_ns = sw_now_ns();
	clock_gettime(CLOCK_REALTIME, &rt);
	start_realtime_ns =
	    (uint64_t)rt.tv_sec * 1000000000ull + (uint64_t)rt.tv_nsec;
}
