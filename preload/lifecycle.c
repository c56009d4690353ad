/*
 * lifecycle.c - the shim's life cycle, in one place: constructor, first
 * loop wait, destructor (and _exit), fork, and the order of each.
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
 *
 * No other file of the shim has a constructor, a destructor or an atfork
 * handler: the modules export init, atfork_child and stop functions, and
 * the orders in which they are called are the ones below (doc/design.md,
 * "Life cycle").
 */
#include "lifecycle.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "base.h"
#include "clock.h"
#include "loop.h"
#include "modules.h"
#include "ownfd.h"
#include "perfmap.h"
#include "process.h"
#include "pyframes.h"
#include "real.h"
#include "sampler.h"
#include "settings.h"
#include "stack.h"
#include "sw_settings.h"
#include "testname.h"
#include "thread.h"
#include "warn.h"
#include "watchdog.h"
#include "writer.h"

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

static pid_t my_pid; /* getpid() as of the constructor or the last fork */
static char output_dir[2200];

int sw_in_vfork_child(void)
{
	return (pid_t)syscall(SYS_getpid) != my_pid;
}

uint32_t sw_gettid(void)
{
	return (uint32_t)syscall(SYS_gettid);
}

/* Open this process's file and write what a reader needs first.  A
 * forked child replays the parent's module records instead of walking
 * the loader's list (modules.c says why). */
static int start_recording(int forked)
{
	my_pid = getpid();
	sw_process_note_start();
	sw_clock_start();
	if (!made_early &&
	    sw_writer_open(output_dir, sw_process_comm(), (int)getpid()) != 0)
		return -1;
	made_early = 0;
	if (sw_process_write_record() != 0)
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
	/* Descriptors first (the writer's and the watchdog's among them),
	 * then what referred to them; then what the parent's other threads
	 * left half-done. */
	sw_ownfd_atfork_child();
	sw_writer_atfork_child();
	sw_modules_atfork_child();
	sw_loop_atfork_child();
	sw_watchdog_atfork_child();
	sw_sampler_atfork_child();
	sw_py_atfork_child();
	sw_test_atfork_child();
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
	if (sw_writer_open(output_dir, sw_process_comm(), (int)getpid()) == 0)
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
	const char *root = getenv(SW_ENV_ROOT_PID);
	char buf[24];

	if (sw_cfg.follow)
		return 1;
	if (!root || !*root) {
		snprintf(buf, sizeof(buf), "%d", (int)getpid());
		setenv(SW_ENV_ROOT_PID, buf, 1);
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
		sw_warn_parts("stallwatch: cannot resolve " SW_ENV_OUTPUT "=",
			      sw_cfg.output_dir, "; not recording", NULL);
		return -1;
	}
	snprintf(output_dir, sizeof(output_dir), "%s/%s", cwd,
		 sw_cfg.output_dir);
	return 0;
}

/*
 * The constructor: arm or stay inert, and nothing else (no file, no
 * descriptor, no thread).  glibc passes constructors argc, argv and envp.
 * This is the shim's only constructor: the order below is the order of
 * its set-up.
 */
__attribute__((constructor)) static void sw_init(int argc, char **argv,
						 char **envp)
{
	(void)envp;
	sw_tls.guard++;
	sw_ownfd_init();
	sw_process_note_args(argc, argv);
	/* setuid/setgid or other secure-execution: do nothing at all. */
	if (getauxval(AT_SECURE))
		goto out;
	sw_warn_init();
	/* Every real function now, so that no later call (possibly from the
	 * host's signal handler) runs dlsym. */
	sw_real_init();
	sw_test_init();
	sw_settings_load(&sw_cfg, environ, sw_warn_line);
	if (!sw_cfg.enabled || !follow_allows())
		goto inert;
	if (make_output_dir() != 0)
		goto inert;
	/* The file name's program name, before the program can change its
	 * title (the command line itself is taken when recording starts). */
	sw_process_make_comm();
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

/*
 * The end, from the destructor or the _exit family (wrap_exit.c).  The
 * stop order: the watchdog thread, then the sampler (no more writers but
 * this thread), then the final heartbeats, the command line as it ended,
 * and the end record; the perf map is copied last.
 */
void sw_finish(uint32_t how, int32_t status)
{
	struct sw_rec_end end;
	uint64_t now;

	/* Made before a drop of root, and no loop ever came: a trace that
	 * says so (process record, end), rather than an empty file. */
	if (made_early && !sw_active) {
		made_early = 0;
		sw_tls.guard++;
		sw_process_note_start();
		if (sw_process_write_record() == 0)
			sw_active = 1;
		sw_tls.guard--;
	}

	sw_tls.guard++;
	sw_watchdog_stop();
	sw_sampler_stop();
	if (!sw_active)
		goto out;
	now = sw_now_ns();
	sw_loop_heartbeat_all(now, 1);
	sw_process_refresh_cmdline(); /* the title it ended with */
	/* No more records after the end record: wrappers on other threads
	 * still running see sw_active == 0 and pass through. */
	sw_active = 0;
	sw_tls.in_turn = 0;
	memset(&end, 0, sizeof(end));
	end.h.type = SW_REC_END;
	end.h.size = sizeof(end);
	end.time_ns = now;
	end.records_dropped = sw_writer_dropped();
	end.how = how;
	end.status = status;
	sw_emit(&end, sizeof(end));
	sw_perfmap_save(sw_writer_path());
out:
	sw_tls.guard--;
}

/* The shim's only destructor. */
__attribute__((destructor)) static void sw_fini(void)
{
	int saved_errno = errno;

	sw_finish(SW_END_EXIT, 0);
	errno = saved_errno;
}
