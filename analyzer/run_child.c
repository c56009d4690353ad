/*
 * run_child.c - launch a command under the shim for `run` and `gate --`.
 *
 * The shim is found beside this binary (build layout: DIR/stallwatch and
 * DIR/libstallwatch.so; install layout: BINDIR/../lib/stallwatch/), or
 * from STALLWATCH_SHIM.  Settings travel to the shim as STALLWATCH_*
 * environment variables.  This process stays as the command's parent to
 * forward signals and to end the way the command ended, so that scripts
 * and shells see the program, not stallwatch (doc/design.md, "run").
 */
#include "run_child.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../include/sw_duration.h"
#include "../include/sw_settings.h"
#include "../include/sw_trace.h"
#include "run_dir.h"
#include "util.h"

const char sw_launch_help[] =
    "  -o, --output DIR         parent of the run directories (default\n"
    "                           ./stallwatch-out); each run writes into\n"
    "                           DIR/PROGRAM-YYYYmmdd-HHMMSS-PID/\n"
    "      --threshold D        a loop turn longer than D is a stall "
    "(50ms)\n"
    "      --call-threshold D   record blocking calls longer than D (10ms)\n"
    "      --strict             record every call that could block, even "
    "fast\n"
    "      --sample-interval D  sample a stalled loop thread every D (10ms)\n"
    "      --max-size SIZE      cap each process's trace at SIZE (K, M, G;\n"
    "                           default 64M): sets STALLWATCH_MAX_SIZE\n"
    "      --no-follow          do not trace programs CMD executes\n"
    "      --js                 name JavaScript frames: node writes a perf "
    "map\n"
    "                           (NODE_OPTIONS gets V8's perf map flags;\n"
    "                           nothing is written to the program's\n"
    "                           working directory)\n";

/* The three signals a user or a supervisor sends to stop or reload. */
static const int fwd_sigs[] = {SIGINT, SIGTERM, SIGHUP};
#define NFWD (sizeof(fwd_sigs) / sizeof(fwd_sigs[0]))

static volatile sig_atomic_t child_pid;

/* Forward a signal sent to us by another process.  A signal from the
 * terminal (si_code SI_KERNEL) already reached the child, which is in our
 * foreground process group: sending it again would deliver it twice. */
static void forward(int sig, siginfo_t *info, void *uctx)
{
	int saved = errno;

	(void)uctx;
	if (child_pid > 0 && (!info || info->si_code != SI_KERNEL))
		kill((pid_t)child_pid, sig);
	errno = saved;
}

static int duration_opt(const char *cmd, const char *name, const char *v,
			char **out)
{
	uint64_t ns;

	if (sw_parse_duration(v, &ns) != 0) {
		sw_err("%s: bad duration for --%s: '%s' (examples: 50ms, "
		       "0.05s, 500us)",
		       cmd, name, v);
		return -1;
	}
	free(*out);
	*out = xasprintf("%lluns", (unsigned long long)ns);
	return 0;
}

/* A size as STALLWATCH_MAX_SIZE takes it: digits, then K, M or G (an
 * optional B or iB after it). */
static int size_ok(const char *v)
{
	size_t n = strspn(v, "0123456789");

	if (!n || n > 15)
		return 0;
	v += n;
	if (!*v)
		return 1;
	if (!strchr("KMGkmg", *v))
		return 0;
	v++;
	return !*v || !strcmp(v, "B") || !strcmp(v, "iB");
}

int sw_launch_option(struct sw_launch *l, int c, const char *arg,
		     const char *cmd)
{
	switch (c) {
	case 'o':
		l->output = arg;
		return 1;
	case 0x100:
		return duration_opt(cmd, "threshold", arg, &l->threshold) ? -1
									  : 1;
	case 0x101:
		return duration_opt(cmd, "call-threshold", arg,
				    &l->call_threshold)
			   ? -1
			   : 1;
	case 0x102:
		return duration_opt(cmd, "sample-interval", arg,
				    &l->sample_interval)
			   ? -1
			   : 1;
	case 0x103:
		l->strict = 1;
		return 1;
	case 0x104:
		l->no_follow = 1;
		return 1;
	case 0x105:
		l->js = 1;
		return 1;
	case 0x106:
		if (!size_ok(arg)) {
			sw_err("%s: bad size for --max-size: '%s' (examples: "
			       "64M, 512K, 2G)",
			       cmd, arg);
			return -1;
		}
		l->max_size = arg;
		return 1;
	default:
		return 0;
	}
}

static char *self_dir(void)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	char *slash;

	if (n <= 0)
		return NULL;
	buf[n] = 0;
	slash = strrchr(buf, '/');
	if (!slash)
		return NULL;
	*slash = 0;
	return xstrdup(buf[0] ? buf : "/");
}

static char *find_shim(const char *cmd)
{
	const char *env = getenv(SW_ENV_SHIM);
	char *dir, *p, *real;

	if (env && *env) {
		if (access(env, R_OK) != 0) {
			sw_err("%s: " SW_ENV_SHIM "=%s: %s", cmd, env,
			       strerror(errno));
			return NULL;
		}
		return realpath(env, NULL);
	}
	dir = self_dir();
	if (!dir) {
		sw_err("%s: cannot find my own location (/proc/self/exe)", cmd);
		return NULL;
	}
	p = xasprintf("%s/libstallwatch.so", dir);
	if (access(p, R_OK) != 0) {
		free(p);
		p = xasprintf("%s/../lib/stallwatch/libstallwatch.so", dir);
		if (access(p, R_OK) != 0) {
			sw_err("%s: cannot find libstallwatch.so beside %s or "
			       "in %s/../lib/stallwatch (set STALLWATCH_SHIM)",
			       cmd, dir, dir);
			free(p);
			free(dir);
			return NULL;
		}
	}
	free(dir);
	real = realpath(p, NULL);
	free(p);
	return real;
}

/* In the child, between fork and exec: the environment the shim reads. */
static void child_env(const struct sw_launch *l, const char *shim)
{
	const char *old = getenv("LD_PRELOAD");
	char pid[32];

	if (old && *old && !strstr(old, shim)) {
		char *v = xasprintf("%s:%s", shim, old);

		setenv("LD_PRELOAD", v, 1);
		free(v);
	} else if (!old || !*old) {
		setenv("LD_PRELOAD", shim, 1);
	}
	setenv(SW_ENV_OUTPUT, l->run_dir, 1);
	if (l->threshold)
		setenv(SW_ENV_THRESHOLD, l->threshold, 1);
	if (l->call_threshold)
		setenv(SW_ENV_CALL_THRESHOLD, l->call_threshold, 1);
	if (l->sample_interval)
		setenv(SW_ENV_SAMPLE_INTERVAL, l->sample_interval, 1);
	if (l->max_size)
		setenv(SW_ENV_MAX_SIZE, l->max_size, 1);
	if (l->strict)
		setenv(SW_ENV_STRICT, "1", 1);
	if (l->no_follow)
		setenv(SW_ENV_FOLLOW, "0", 1);
	if (l->js) {
		/* Node reads these V8 flags from NODE_OPTIONS too, so every
		 * node the command starts writes /tmp/perf-PID.map, which
		 * the shim copies beside its trace.  The -only-functions
		 * form names what a stack needs (JS functions; builtins are
		 * ELF symbols of node) and, unlike --perf-basic-prof, opens
		 * no isolate-*-v8.log in the working directory; --logfile,
		 * which would move that log, is refused in NODE_OPTIONS.
		 * Interpreted functions get frames of their own only with
		 * --interpreted-frames-native-stack; without it they all
		 * show as V8's interpreter trampoline. */
		const char *flags = "--perf-basic-prof-only-functions "
				    "--interpreted-frames-native-stack";
		const char *no = getenv("NODE_OPTIONS");
		char *v =
		    no && *no ? xasprintf("%s %s", no, flags) : xstrdup(flags);

		setenv("NODE_OPTIONS", v, 1);
		free(v);
	}
	/* the command's own pid: exec keeps it */
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv(SW_ENV_ROOT_PID, pid, 1);
}

/* Is the file at fd a byte-for-byte prefix of the file at other? */
static int same_prefix(int fd, int other)
{
	char a[8192], b[8192];
	ssize_t n, m;

	for (;;) {
		n = read(fd, a, sizeof(a));
		if (n <= 0)
			return n == 0;
		m = read(other, b, (size_t)n);
		if (m != n || memcmp(a, b, (size_t)n))
			return 0;
	}
}

/*
 * With --js, node writes /tmp/perf-PID.map because we asked it to; the
 * shim copied each one beside its trace when the process ended.  Remove
 * the originals the copies hold in full, so that --js leaves nothing
 * outside the output directory and a later process that gets the same
 * pid finds no stale map.  Only our own regular files, never followed
 * through a link.
 */
static void tidy_perf_maps(const char *run_dir)
{
	static const char suffix[] = ".perfmap";
	DIR *d = opendir(run_dir);
	struct dirent *de;

	while (d && (de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name), sl = sizeof(suffix) - 1;
		char name[256], *dot, tmp[64];

		if (n <= sl || n >= sizeof(name) ||
		    strcmp(de->d_name + n - sl, suffix))
			continue;
		memcpy(name, de->d_name, n - sl);
		name[n - sl] = 0;
		/* <comm>.<pid>[.<k>]: try each numeric part as the pid */
		while ((dot = strrchr(name, '.')) != NULL) {
			struct stat st;
			int copy, orig, done;

			*dot = 0;
			if (!dot[1] ||
			    strspn(dot + 1, "0123456789") != strlen(dot + 1) ||
			    strlen(dot + 1) >
				7) /* pid_max is at most 4194304 */
				continue;
			snprintf(tmp, sizeof(tmp), SW_PERF_MAP_FMT,
				 atoi(dot + 1));
			orig = open(tmp, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
					     O_NONBLOCK);
			if (orig < 0)
				continue;
			copy = openat(dirfd(d), de->d_name,
				      O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			done = copy >= 0 && fstat(orig, &st) == 0 &&
			       S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
			       same_prefix(copy, orig) && unlink(tmp) == 0;
			if (copy >= 0)
				close(copy);
			close(orig);
			if (done)
				break;
		}
	}
	if (d)
		closedir(d);
}

int sw_launch_run(struct sw_launch *l, char **argv, const char *cmd)
{
	struct sigaction old_sa[NFWD];
	int installed[NFWD] = {0};
	sigset_t block, old_mask;
	char *shim;
	int pipefd[2], rc = -1, e;
	pid_t pid;
	size_t i;

	l->exec_errno = 0;
	l->status = 0;
	shim = find_shim(cmd);
	if (!shim)
		return -1;
	l->run_dir = sw_run_dir_create(l->output, argv[0], getpid());
	if (!l->run_dir) {
		sw_err("%s: cannot create a run directory in %s: %s", cmd,
		       l->output, strerror(errno));
		goto out;
	}
	if (pipe2(pipefd, O_CLOEXEC) != 0) {
		sw_err("%s: pipe: %s", cmd, strerror(errno));
		goto out;
	}
	/*
	 * Forward the stop signals even when we were started with them
	 * ignored (a script's background job has SIGINT ignored): the program
	 * may install its own handler, and would get the signal without us.
	 * The child gets back the disposition we inherited, as it would have
	 * without us.  The signals stay blocked until the child's pid is
	 * known, so none is lost in between.
	 */
	sigemptyset(&block);
	for (i = 0; i < NFWD; i++)
		sigaddset(&block, fwd_sigs[i]);
	sigprocmask(SIG_BLOCK, &block, &old_mask);
	for (i = 0; i < NFWD; i++) {
		struct sigaction sa;

		if (sigaction(fwd_sigs[i], NULL, &old_sa[i]) != 0)
			continue;
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = forward;
		sa.sa_flags = SA_SIGINFO | SA_RESTART;
		sigemptyset(&sa.sa_mask);
		installed[i] = sigaction(fwd_sigs[i], &sa, NULL) == 0;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		sw_err("%s: fork: %s", cmd, strerror(errno));
		close(pipefd[0]);
		close(pipefd[1]);
		goto restore;
	}
	if (pid == 0) {
		for (i = 0; i < NFWD; i++)
			if (installed[i])
				sigaction(fwd_sigs[i], &old_sa[i], NULL);
		sigprocmask(SIG_SETMASK, &old_mask, NULL);
		close(pipefd[0]);
		child_env(l, shim);
		execvp(argv[0], argv);
		e = errno;
		if (write(pipefd[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(e == ENOENT ? 127 : 126);
	}
	child_pid = pid;
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
	close(pipefd[1]);
	/* The pipe closes on a successful exec; otherwise it carries errno. */
	for (;;) {
		ssize_t n = read(pipefd[0], &e, sizeof(e));

		if (n < 0 && errno == EINTR)
			continue;
		l->exec_errno = n == (ssize_t)sizeof(e) ? e : 0;
		break;
	}
	close(pipefd[0]);
	while (waitpid(pid, &l->status, 0) < 0) {
		if (errno != EINTR) {
			sw_err("%s: waitpid: %s", cmd, strerror(errno));
			child_pid = 0;
			goto restore;
		}
	}
	child_pid = 0;
	if (l->js)
		tidy_perf_maps(l->run_dir);
	if (l->exec_errno) {
		sw_err("%s: %s: %s", cmd, argv[0],
		       l->exec_errno == ENOENT ? "command not found"
					       : strerror(l->exec_errno));
		/* nothing ran: leave no empty run behind */
		rmdir(l->run_dir);
	}
	rc = 0;
restore:
	for (i = 0; i < NFWD; i++)
		if (installed[i])
			sigaction(fwd_sigs[i], &old_sa[i], NULL);
	/* a failed fork comes here with the signals still blocked */
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
out:
	free(shim);
	return rc;
}

int sw_launch_finish(const struct sw_launch *l)
{
	if (l->exec_errno)
		return l->exec_errno == ENOENT ? 127 : 126;
	if (WIFEXITED(l->status))
		return WEXITSTATUS(l->status);
	if (WIFSIGNALED(l->status)) {
		int sig = WTERMSIG(l->status);
		struct rlimit no_core = {0, 0};
		struct sigaction sa;
		sigset_t set;

		/* Die as the command died, so a shell prints "Terminated"
		 * or "Segmentation fault" and a parent sees WIFSIGNALED.
		 * The command dumped its own core if it was allowed to;
		 * ours would only replace it. */
		fflush(NULL);
		setrlimit(RLIMIT_CORE, &no_core);
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_DFL;
		sigemptyset(&sa.sa_mask);
		sigaction(sig, &sa, NULL);
		sigemptyset(&set);
		sigaddset(&set, sig);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		raise(sig);
		/* a signal whose default is not to terminate (SIGCHLD...):
		 * the shell's convention */
		return 128 + sig;
	}
	return 2;
}

void sw_launch_free(struct sw_launch *l)
{
	free(l->threshold);
	free(l->call_threshold);
	free(l->sample_interval);
	free(l->run_dir);
	l->threshold = l->call_threshold = l->sample_interval = NULL;
	l->run_dir = NULL;
}
