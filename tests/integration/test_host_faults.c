/*
 * test_host_faults.c - the host never suffers: real programs under the shim
 * (LD_PRELOAD straight, so every line on stderr that says "stallwatch:"
 * comes from the shim) against the same programs without it.
 *
 *   same output   C, Python and Node programs print byte-identical stdout
 *                 and exit with the same status with and without the shim;
 *   disk full     the output directory is a small tmpfs that the program
 *                 fills in the middle of its run;
 *   RLIMIT_FSIZE  a file size limit smaller than the trace: SIGXFSZ must
 *                 not kill the host for the shim's writes;
 *   dir removed   the output directory is deleted mid-run;
 *   fd games      the program closes every fd or dup2s over the trace fd,
 *                 through libc, libc's syscall() and inline syscalls;
 *   perf map      a JIT perf map copied at exit under a file size limit;
 *   fd 2 is data  a daemon's data file on fd 2 gets no shim warning;
 *   EINTR         no call of the host fails with EINTR because of the shim.
 *
 * For each write failure: the host's stdout, data and exit status are those
 * of a run without the shim, and the shim says "stallwatch:" exactly once.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../support.h"

#define PROG(name) sw_t_build("tests/progs/" name)

struct run {
	int rc;
	char *out; /* stdout */
	char *err; /* stderr */
};

/*
 * Run `cmd` in `dir` (a shell command line), stdout and stderr apart.
 * With `outdir`, under the shim writing there, with extra environment
 * `env` ("K=V K=V", may be ""); `pre` runs first in the same shell (for
 * ulimit).
 */
static struct run run_cmd(const char *dir, const char *outdir, const char *env,
			  const char *pre, const char *cmd)
{
	static int seq;
	char o[4200], e[4200], shim[4200];
	struct run r;

	snprintf(o, sizeof(o), "%s/run%d.out", dir, seq);
	snprintf(e, sizeof(e), "%s/run%d.err", dir, seq++);
	if (outdir)
		snprintf(shim, sizeof(shim),
			 "env LD_PRELOAD='%s' STALLWATCH_OUTPUT='%s' %s",
			 sw_t_build("libstallwatch.so"), outdir,
			 env ? env : "");
	else
		snprintf(shim, sizeof(shim), "env %s", env ? env : "");
	r.rc = sw_t_sh(NULL, "cd '%s' && %s%s %s %s >'%s' 2>'%s'", dir,
		       pre ? pre : "", pre ? ";" : "", shim, cmd, o, e);
	/* A missing capture reads as empty output. */
	r.out = sw_t_slurp(o, NULL);
	r.err = sw_t_slurp(e, NULL);
	if (!r.out)
		r.out = strdup("");
	if (!r.err)
		r.err = strdup("");
	return r;
}

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

/* The host under the shim behaved exactly as without it. */
static void assert_same(const char *what, const struct run *plain,
			const struct run *shim)
{
	ck_assert_msg(plain->rc == shim->rc,
		      "%s: exit status %d without the shim, %d with it; "
		      "stderr: %s",
		      what, plain->rc, shim->rc, shim->err);
	ck_assert_msg(
	    strcmp(plain->out, shim->out) == 0,
	    "%s: stdout differs with the shim:\n--- without:\n%.2000s\n"
	    "--- with:\n%.2000s\n--- stderr with:\n%.2000s",
	    what, plain->out, shim->out, shim->err);
}

static void assert_one_warning(const char *what, const struct run *r)
{
	int n = sw_t_count_lines(r->err, "stallwatch");

	ck_assert_msg(
	    n == 1, "%s: want exactly one \"stallwatch:\" warning, got %d:\n%s",
	    what, n, r->err);
}

static void assert_no_warning(const char *what, const struct run *r)
{
	int n = sw_t_count_lines(r->err, "stallwatch");

	ck_assert_msg(n == 0, "%s: want no stallwatch warning, got %d:\n%s",
		      what, n, r->err);
}

/* The trace files in dir still read (torn tails are skipped). */
static void assert_report_reads(const char *what, const char *dir)
{
	json_t *rep = sw_t_report(dir, NULL);

	ck_assert_msg(rep != NULL, "%s: the report does not read %s", what,
		      dir);
	json_decref(rep);
}

/* ---- same output ----------------------------------------------------------
 */

static void same_output(const char *what, const char *cmd, int want_rc)
{
	const char *tmp = sw_t_tmpdir("faults-same");
	char dir[4200], outdir[4300];
	struct run plain, shim;

	snprintf(dir, sizeof(dir), "%s", tmp);
	snprintf(outdir, sizeof(outdir), "%s/traces", dir);
	plain = run_cmd(dir, NULL, NULL, NULL, cmd);
	shim = run_cmd(dir, outdir, "STALLWATCH_THRESHOLD=20ms", NULL, cmd);
	if (want_rc >= 0)
		ck_assert_msg(plain.rc == want_rc,
			      "%s: rc %d without the shim: %s", what, plain.rc,
			      plain.err);
	assert_same(what, &plain, &shim);
	assert_no_warning(what, &shim);
	/* The shim was really there. */
	ck_assert_msg(sw_t_count_traces(outdir) > 0, "%s: no trace in %s", what,
		      outdir);
	run_free(&plain);
	run_free(&shim);
}

START_TEST(test_same_output_c)
{
	char cmd[4200];

	snprintf(cmd, sizeof(cmd), "'%s' host.dat 40 3000", PROG("fault_host"));
	same_output("fault_host", cmd, 0);
	snprintf(cmd, sizeof(cmd), "'%s' 3 60", PROG("epoll_sleep"));
	same_output("epoll_sleep", cmd, 0);
	snprintf(cmd, sizeof(cmd), "'%s' data.bin libc", PROG("closefds"));
	same_output("closefds", cmd, 0);
}
END_TEST

static const char *pyenv_python(void)
{
	static char path[4096];
	char *out = NULL;

	if (sw_t_sh(&out, "ls -d \"$(pyenv root "
			  "2>/dev/null)\"/versions/3.12*/bin/python3 "
			  "2>/dev/null | head -1") != 0 ||
	    !out || !*out) {
		free(out);
		return NULL;
	}
	out[strcspn(out, "\n")] = 0;
	snprintf(path, sizeof(path), "%s", out);
	free(out);
	return path[0] ? path : NULL;
}

START_TEST(test_same_output_python)
{
	const char *py[2] = {"/usr/bin/python3", pyenv_python()};
	char cmd[8400];
	int i, ran = 0;

	for (i = 0; i < 2; i++) {
		if (!py[i] || !sw_t_have(py[i]))
			continue;
		snprintf(cmd, sizeof(cmd), "'%s' '%s' .", py[i],
			 sw_t_src("tests/progs/fault_same.py"));
		same_output(py[i], cmd, 3);
		ran++;
	}
	if (!ran)
		sw_t_skip("no python3 found");
}
END_TEST

START_TEST(test_same_output_node)
{
	char cmd[8400];

	if (!sw_t_have("node")) {
		sw_t_skip("node not installed");
		return;
	}
	snprintf(cmd, sizeof(cmd), "node '%s' .",
		 sw_t_src("tests/progs/fault_same.js"));
	same_output("node", cmd, 4);
}
END_TEST

/* ---- write failures -------------------------------------------------------
 */

/*
 * fault_host with `action`, with and without the shim.  Every turn makes
 * a record (call threshold 1us), so the shim writes all along.
 */
static void host_fault(const char *what, const char *dir, const char *outdir,
		       const char *pre, const char *action, int turns,
		       struct run *plain, struct run *shim)
{
	char cmd[9000];

	snprintf(cmd, sizeof(cmd), "'%s' host.dat %d 2000 %s",
		 PROG("fault_host"), turns, action ? action : "");
	*plain = run_cmd(dir, NULL, NULL, pre, cmd);
	/* The action without the shim must be harmless: rmdir/fill of a
	 * directory the plain run does not use. */
	*shim = run_cmd(
	    dir, outdir,
	    "STALLWATCH_THRESHOLD=1ms STALLWATCH_CALL_THRESHOLD=1us", pre, cmd);
	ck_assert_msg(plain->rc == 0, "%s: host fails without the shim: %d %s",
		      what, plain->rc, plain->err);
	assert_same(what, plain, shim);
	ck_assert_ptr_nonnull(strstr(shim->out, "data intact"));
}

START_TEST(test_disk_full)
{
	const char *tmp = sw_t_tmpdir("faults-full");
	char dir[4200], mnt[4300], cmd[9000];
	struct run plain, shim;
	json_t *rep;

	snprintf(dir, sizeof(dir), "%s", tmp);
	snprintf(mnt, sizeof(mnt), "%s/small", dir);
	mkdir(mnt, 0700);
	if (mount("tmpfs", mnt, "tmpfs", 0, "size=256k,mode=0700") != 0) {
		sw_t_skip(
		    "cannot mount a small tmpfs (not root?): disk-full case "
		    "not run");
		return;
	}
	/* Half way through, the program fills the small disk the shim
	 * writes to (the plain run fills it too, unused), then frees it. */
	snprintf(cmd, sizeof(cmd), "'%s' host.dat 60 2000 fill=%s/fill",
		 PROG("fault_host"), mnt);
	plain = run_cmd(dir, NULL, NULL, NULL, cmd);
	shim = run_cmd(dir, mnt,
		       "STALLWATCH_THRESHOLD=1ms STALLWATCH_CALL_THRESHOLD=1us",
		       NULL, cmd);
	rep = sw_t_report(mnt, NULL);
	/* Unmount before any assertion can end the test. */
	umount2(mnt, MNT_DETACH);
	ck_assert_msg(plain.rc == 0, "host fails without the shim: %s",
		      plain.err);
	assert_same("disk full", &plain, &shim);
	ck_assert_ptr_nonnull(strstr(shim.out, "data intact"));
	assert_one_warning("disk full", &shim);
	ck_assert_ptr_nonnull(strstr(shim.err, "recording stopped"));
	ck_assert_msg(rep != NULL, "disk full: the report does not read the "
				   "trace cut short");
	json_decref(rep);
	run_free(&plain);
	run_free(&shim);
}
END_TEST

START_TEST(test_rlimit_fsize)
{
	const char *tmp = sw_t_tmpdir("faults-fsize");
	char dir[4200], outdir[4300], trace[4400];
	struct run plain, shim;
	char *out = NULL;

	snprintf(dir, sizeof(dir), "%s", tmp);
	snprintf(outdir, sizeof(outdir), "%s/traces", dir);
	/* 24 KiB: the host's own file (300 lines, 11 KiB) fits, the trace
	 * (a record per turn) does not. */
	host_fault("RLIMIT_FSIZE", dir, outdir, "ulimit -f 24", NULL, 300,
		   &plain, &shim);
	assert_one_warning("RLIMIT_FSIZE", &shim);
	ck_assert_ptr_nonnull(strstr(shim.err, "recording stopped"));
	/* The trace stopped short of the limit, and still reads. */
	ck_assert_int_eq(sw_t_sh(&out, "ls '%s'/*.swtrace", outdir), 0);
	out[strcspn(out, "\n")] = 0;
	snprintf(trace, sizeof(trace), "%s", out);
	free(out);
	ck_assert_int_eq(
	    sw_t_sh(NULL, "test $(stat -c %%s '%s') -le 24576", trace), 0);
	assert_report_reads("RLIMIT_FSIZE", outdir);
	run_free(&plain);
	run_free(&shim);
}
END_TEST

START_TEST(test_outdir_removed)
{
	const char *tmp = sw_t_tmpdir("faults-rmdir");
	char dir[4200], outdir[4300], scratch[4300], action[4400];
	struct run plain, shim;
	char cmd[9000];

	snprintf(dir, sizeof(dir), "%s", tmp);
	snprintf(outdir, sizeof(outdir), "%s/traces", dir);
	snprintf(scratch, sizeof(scratch), "%s/scratch", dir);
	/* Without the shim the program removes a scratch directory of the
	 * same shape; with it, the shim's own output directory. */
	mkdir(scratch, 0700);
	snprintf(cmd, sizeof(cmd), "'%s' host.dat 60 2000 rmdir=%s",
		 PROG("fault_host"), scratch);
	plain = run_cmd(dir, NULL, NULL, NULL, cmd);
	snprintf(action, sizeof(action), "'%s' host.dat 60 2000 rmdir=%s",
		 PROG("fault_host"), outdir);
	shim = run_cmd(dir, outdir,
		       "STALLWATCH_THRESHOLD=1ms STALLWATCH_CALL_THRESHOLD=1us",
		       NULL, action);
	ck_assert_msg(plain.rc == 0, "host fails without the shim: %s",
		      plain.err);
	assert_same("output dir removed", &plain, &shim);
	ck_assert_ptr_nonnull(strstr(shim.out, "data intact"));
	/* Nothing was recreated behind the program's back. */
	ck_assert_msg(access(outdir, F_OK) != 0,
		      "the removed output directory came back");
	assert_one_warning("output dir removed", &shim);
	run_free(&plain);
	run_free(&shim);
}
END_TEST

/* A daemon that closed fds 0-2 and opened its data files on them: a
 * warning the shim prints "on stderr" must not land in fd 2's data. */
START_TEST(test_stderr_is_data)
{
	const char *tmp = sw_t_tmpdir("faults-stderr");
	char dir[4200], outdir[4300], cmd[9000];
	struct run plain, shim;
	char *out = NULL;

	snprintf(dir, sizeof(dir), "%s", tmp);
	snprintf(outdir, sizeof(outdir), "%s/traces", dir);
	snprintf(cmd, sizeof(cmd), "'%s' '%s' '%s'", PROG("fault_stderr"), dir,
		 outdir);
	plain = run_cmd(dir, NULL, NULL, NULL, cmd);
	shim = run_cmd(dir, outdir,
		       "STALLWATCH_THRESHOLD=1ms STALLWATCH_CALL_THRESHOLD=1us",
		       NULL, cmd);
	ck_assert_msg(plain.rc == 0, "fails without the shim: %d", plain.rc);
	sw_t_sh(&out, "head -c 300 '%s/data2'", dir);
	ck_assert_msg(shim.rc == 0,
		      "the program's data on fd 2 was corrupted under the shim "
		      "(exit %d); data2 starts: %s",
		      shim.rc, out);
	free(out);
	run_free(&plain);
	run_free(&shim);
}
END_TEST

/* A perf map larger than the file size limit the program set before
 * exiting: the shim's copy at exit must not draw SIGXFSZ. */
START_TEST(test_perfmap_copy_fsize)
{
	const char *tmp = sw_t_tmpdir("faults-pmfsize");
	char dir[4200], outdir[4300], cmd[4400];
	struct run plain, shim;
	int pid;

	snprintf(dir, sizeof(dir), "%s", tmp);
	snprintf(outdir, sizeof(outdir), "%s/traces", dir);
	snprintf(cmd, sizeof(cmd), "'%s'", PROG("fault_perfmap"));
	plain = run_cmd(dir, NULL, NULL, NULL, cmd);
	if (sscanf(plain.err, "pid %d", &pid) == 1)
		sw_t_sh(NULL, "rm -f /tmp/perf-%d.map", pid);
	shim = run_cmd(dir, outdir, NULL, NULL, cmd);
	if (sscanf(shim.err, "pid %d", &pid) == 1)
		sw_t_sh(NULL, "rm -f /tmp/perf-%d.map", pid);
	ck_assert_int_eq(plain.rc, 0);
	assert_same("perf map copy over RLIMIT_FSIZE", &plain, &shim);
	ck_assert_msg(sw_t_count_lines(shim.err, "stallwatch") <= 1,
		      "more than one warning: %s", shim.err);
	run_free(&plain);
	run_free(&shim);
}
END_TEST

/* closefds (the foundation's program): libc closes are refused without a
 * word; raw syscalls that close or replace the trace fd stop recording
 * with one warning.  Either way the data and output are the host's. */
static void fd_games(const char *mode, int warnings)
{
	const char *tmp = sw_t_tmpdir("faults-fds");
	char dir[4200], outdir[4300], cmd[9000], what[64];
	struct run plain, shim;

	snprintf(dir, sizeof(dir), "%s", tmp);
	snprintf(outdir, sizeof(outdir), "%s/traces", dir);
	snprintf(what, sizeof(what), "closefds %s", mode);
	snprintf(cmd, sizeof(cmd), "'%s' data.bin %s", PROG("closefds"), mode);
	plain = run_cmd(dir, NULL, NULL, NULL, cmd);
	shim = run_cmd(dir, outdir, "STALLWATCH_CALL_THRESHOLD=1us", NULL, cmd);
	ck_assert_msg(plain.rc == 0, "%s: fails without the shim: %s", what,
		      plain.err);
	assert_same(what, &plain, &shim);
	if (warnings)
		assert_one_warning(what, &shim);
	else
		assert_no_warning(what, &shim);
	ck_assert_int_eq(
	    sw_t_sh(NULL, "test $(stat -c %%s '%s/data.bin') -eq 262144", dir),
	    0);
	assert_report_reads(what, outdir);
	run_free(&plain);
	run_free(&shim);
}

START_TEST(test_fd_closed_libc)
{
	fd_games("libc", 0);
}
END_TEST

START_TEST(test_fd_closed_syscall)
{
	fd_games("syscall", 0);
}
END_TEST

START_TEST(test_fd_closed_raw)
{
	fd_games("raw", 1);
}
END_TEST

/* ---- EINTR ----------------------------------------------------------------
 */

static unsigned long eintr_count(const char *out, const char *call)
{
	char key[64];
	const char *at;

	snprintf(key, sizeof(key), "\n%s: ", call);
	at = strstr(out, key);
	if (!at && !strncmp(out, key + 1, strlen(key + 1)))
		at = out - 1;
	ck_assert_msg(at != NULL, "no count for %s in: %s", call, out);
	return strtoul(at + strlen(key), NULL, 10);
}

/*
 * Calls the shim wraps must never see EINTR: the sampler never signals a
 * thread inside a wrapper.  Blocking syscalls it cannot see (raw
 * syscalls, sigtimedwait) are only protected by the sampler's check that
 * the thread is running when it is signalled; a thread can enter such a
 * call between that check and the signal, so a rare EINTR there is a
 * known race, but a steady stream of them (one per sample) is a bug.
 */
START_TEST(test_eintr)
{
	static const char *const wrapped[] = {
	    "nanosleep", "usleep", "clock_nanosleep", "poll", "epoll_wait"};
	static const char *const unwrapped[] = {
	    "raw nanosleep", "raw epoll_pwait", "sigtimedwait"};
	const char *tmp = sw_t_tmpdir("faults-eintr");
	char dir[4200], outdir[4300], cmd[4400];
	struct run plain, shim;
	unsigned long n, raw = 0;
	size_t i;

	snprintf(dir, sizeof(dir), "%s", tmp);
	snprintf(outdir, sizeof(outdir), "%s/traces", dir);
	snprintf(cmd, sizeof(cmd), "'%s' 3 40", PROG("fault_eintr"));
	plain = run_cmd(dir, NULL, NULL, NULL, cmd);
	/* Sampling every millisecond: hundreds of chances to interrupt. */
	shim =
	    run_cmd(dir, outdir,
		    "STALLWATCH_THRESHOLD=10ms STALLWATCH_SAMPLE_INTERVAL=1ms",
		    NULL, cmd);
	ck_assert_ptr_nonnull(strstr(plain.out, "0 EINTR in all"));
	ck_assert_int_eq(plain.rc, shim.rc);
	assert_no_warning("EINTR", &shim);
	for (i = 0; i < sizeof(wrapped) / sizeof(wrapped[0]); i++) {
		n = eintr_count(shim.out, wrapped[i]);
		ck_assert_msg(n == 0,
			      "%s (wrapped) saw %lu EINTR under the shim",
			      wrapped[i], n);
	}
	for (i = 0; i < sizeof(unwrapped) / sizeof(unwrapped[0]); i++)
		raw += eintr_count(shim.out, unwrapped[i]);
	if (raw)
		fprintf(stderr,
			"faults: %lu EINTR in unwrapped calls (sampler "
			"race): %s",
			raw, shim.out);
	ck_assert_msg(raw <= 3,
		      "unwrapped blocking calls saw %lu EINTR under the shim "
		      "(the sampler signals threads asleep in the kernel):\n%s",
		      raw, shim.out);
	/* A sampled run still samples: the CPU spins were recorded. */
	{
		json_t *rep = sw_t_report(outdir, NULL);

		ck_assert_ptr_nonnull(rep);
		ck_assert_msg(
		    sw_t_find_site(rep, "cpu-stall", NULL, "spin_ms") != NULL,
		    "no cpu-stall site in spin_ms: sampling did not run");
		json_decref(rep);
	}
	run_free(&plain);
	run_free(&shim);
}
END_TEST

Suite *sw_suite_host_faults(void)
{
	Suite *s = suite_create("host_faults");
	TCase *same = tcase_create("same_output");
	TCase *write = tcase_create("write_failures");
	TCase *intr = tcase_create("eintr");

	tcase_set_timeout(same, 60);
	tcase_add_test(same, test_same_output_c);
	tcase_add_test(same, test_same_output_python);
	tcase_add_test(same, test_same_output_node);
	suite_add_tcase(s, same);

	tcase_set_timeout(write, 60);
	tcase_add_test(write, test_disk_full);
	tcase_add_test(write, test_rlimit_fsize);
	tcase_add_test(write, test_outdir_removed);
	tcase_add_test(write, test_perfmap_copy_fsize);
	tcase_add_test(write, test_stderr_is_data);
	tcase_add_test(write, test_fd_closed_libc);
	tcase_add_test(write, test_fd_closed_syscall);
	tcase_add_test(write, test_fd_closed_raw);
	suite_add_tcase(s, write);

	tcase_set_timeout(intr, 30);
	tcase_add_test(intr, test_eintr);
	suite_add_tcase(s, intr);
	return s;
}
