/*
 * cmd_run.c - `stallwatch run -- CMD`: launch a program under the shim.
 *
 * The shim is found beside this binary (build layout: DIR/stallwatch and
 * DIR/libstallwatch.so; install layout: BINDIR/../lib/stallwatch/), or
 * from STALLWATCH_SHIM.  Settings travel to the shim as STALLWATCH_*
 * environment variables.  This process stays as the child's parent only
 * to forward signals, return its status and print a summary.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../include/sw_duration.h"
#include "../include/sw_trace.h"
#include "commands.h"
#include "model.h"
#include "util.h"

static const char usage[] =
    "usage: stallwatch run [options] [--] CMD [ARGS...]\n"
    "\n"
    "Run CMD with the stallwatch shim preloaded; its trace files go to the\n"
    "output directory, one per process.  Durations take units: 50ms,\n"
    "0.05s, 500us (a bare number is milliseconds).\n"
    "\n"
    "options:\n"
    "  -o, --output DIR         trace directory (default ./stallwatch-out)\n"
    "      --threshold D        a loop turn longer than D is a stall "
    "(50ms)\n"
    "      --call-threshold D   record blocking calls longer than D (10ms)\n"
    "      --strict             record every call that could block, even fast\n"
    "      --sample-interval D  sample a stalled loop thread every D (10ms)\n"
    "      --no-follow          do not trace programs CMD executes\n"
    "      --js                 name JavaScript frames: node writes a perf "
    "map\n"
    "                           (adds --perf-basic-prof to NODE_OPTIONS)\n"
    "  -q, --quiet              no summary at the end\n"
    "  -h, --help               this help\n"
    "\n"
    "Environment: STALLWATCH_SHIM overrides where the shim is found; the\n"
    "shim's other settings (STALLWATCH_*) are described in the README.\n"
    "Exit status: CMD's, or 128+N when CMD is killed by signal N; 127 when\n"
    "CMD is not found; 2 on a usage error.\n";

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

static char *find_shim(void)
{
	const char *env = getenv("STALLWATCH_SHIM");
	char *dir, *p;

	if (env && *env) {
		if (access(env, R_OK) != 0) {
			sw_err("run: STALLWATCH_SHIM=%s: %s", env,
			       strerror(errno));
			return NULL;
		}
		return realpath(env, NULL);
	}
	dir = self_dir();
	if (!dir) {
		sw_err("run: cannot find my own location (/proc/self/exe)");
		return NULL;
	}
	p = xasprintf("%s/libstallwatch.so", dir);
	if (access(p, R_OK) != 0) {
		free(p);
		p = xasprintf("%s/../lib/stallwatch/libstallwatch.so", dir);
		if (access(p, R_OK) != 0) {
			sw_err(
			    "run: cannot find libstallwatch.so beside %s or in "
			    "%s/../lib/stallwatch (set STALLWATCH_SHIM)",
			    dir, dir);
			free(p);
			free(dir);
			return NULL;
		}
	}
	free(dir);
	{
		char *real = realpath(p, NULL);

		free(p);
		return real;
	}
}

static int mkdir_p(const char *path)
{
	char *p = xstrdup(path), *s;
	int rc = 0;

	for (s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(p, 0777) != 0 && errno != EEXIST)
			rc = -1;
		*s = '/';
	}
	if (mkdir(p, 0777) != 0 && errno != EEXIST)
		rc = -1;
	free(p);
	if (rc == 0) {
		struct stat st;

		if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
			errno = ENOTDIR;
			rc = -1;
		}
	}
	return rc;
}

/* Names of the trace files in dir, for telling this run's from older
 * ones. */
struct name_list {
	char **v;
	size_t n, cap;
};

static void list_traces(const char *dir, struct name_list *l)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t sl = strlen(SW_TRACE_SUFFIX);

	if (!d)
		return;
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);

		if (n <= sl || strcmp(de->d_name + n - sl, SW_TRACE_SUFFIX))
			continue;
		SW_GROW(l->v, l->n, l->cap);
		l->v[l->n++] = xstrdup(de->d_name);
	}
	closedir(d);
}

static int in_list(const struct name_list *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->v[i], name))
			return 1;
	return 0;
}

static void free_list(struct name_list *l)
{
	while (l->n > 0)
		free(l->v[--l->n]);
	free(l->v);
}

/* Where a site happened, for one line: its innermost Python frame, else
 * its innermost named JS frame, else its innermost named native frame
 * (the caller of the blocking call, the sampled function). */
static const struct sw_frame *where_of(const struct sw_site *s)
{
	size_t k;

	for (k = 0; k < s->nframes; k++)
		if (s->frames[k].lang == SW_LANG_PYTHON)
			return &s->frames[k];
	for (k = 0; k < s->nframes; k++)
		if (s->frames[k].lang == SW_LANG_JS && s->frames[k].function)
			return &s->frames[k];
	for (k = 0; k < s->nframes; k++)
		if (s->frames[k].function)
			return &s->frames[k];
	return sw_site_location(s);
}

static void summary(const char *dir, const struct name_list *before)
{
	struct name_list after = {0}, fresh = {0};
	struct sw_load_opts lo = {.quiet = 1};
	struct sw_report rep;
	char **paths;
	size_t i;

	list_traces(dir, &after);
	for (i = 0; i < after.n; i++)
		if (!in_list(before, after.v[i])) {
			SW_GROW(fresh.v, fresh.n, fresh.cap);
			fresh.v[fresh.n++] = xstrdup(after.v[i]);
		}
	free_list(&after);
	if (!fresh.n) {
		fprintf(stderr,
			"stallwatch: no trace files were written to %s\n", dir);
		return;
	}
	paths = xcalloc(fresh.n, sizeof(*paths));
	fprintf(stderr, "stallwatch: %zu trace file%s in %s:", fresh.n,
		fresh.n == 1 ? "" : "s", dir);
	for (i = 0; i < fresh.n; i++) {
		paths[i] = xasprintf("%s/%s", dir, fresh.v[i]);
		if (i < 4) {
			fputc(' ', stderr);
			sw_puts_safe(stderr, fresh.v[i], "");
		}
	}
	if (fresh.n > 4)
		fprintf(stderr, " ...");
	fputc('\n', stderr);
	if (sw_report_load(&rep, paths, fresh.n, &lo) == 0) {
		const struct sw_stall *worst = NULL;
		uint64_t blocked = 0;
		char a[32];

		for (i = 0; i < rep.nstalls; i++)
			if (!worst ||
			    rep.stalls[i].duration_ns > worst->duration_ns)
				worst = &rep.stalls[i];
		for (i = 0; i < rep.nsites; i++)
			if (rep.sites[i].kind != SW_SITE_CPU)
				blocked += rep.sites[i].count;
		fprintf(stderr,
			"stallwatch: %zu stall%s, %llu blocking call%s "
			"recorded",
			rep.nstalls, rep.nstalls == 1 ? "" : "s",
			(unsigned long long)blocked, blocked == 1 ? "" : "s");
		if (worst) {
			const struct sw_process *p =
			    &rep.processes[worst->process];

			fprintf(
			    stderr, "; worst %s in pid %u (",
			    sw_fmt_duration(a, sizeof(a), worst->duration_ns),
			    worst->pid);
			sw_puts_safe(stderr, p->comm, "?");
			fputc(')', stderr);
			if (worst->nsites) {
				const struct sw_site *s =
				    &rep.sites[worst->sites[0]];
				const struct sw_frame *loc = where_of(s);

				fprintf(stderr, ": %s %s",
					sw_site_kind_name(s->kind), s->call);
				if (loc && !loc->function && loc->module) {
					const char *base =
					    strrchr(loc->module, '/');

					fputs(" in [", stderr);
					sw_puts_safe(
					    stderr,
					    base ? base + 1 : loc->module, "");
					fprintf(
					    stderr, "+0x%llx]",
					    (unsigned long long)loc->rel_addr);
				} else if (loc) {
					fputs(" in ", stderr);
					sw_puts_safe(stderr, loc->function,
						     "??");
					if (loc->file) {
						fputs(" (", stderr);
						sw_puts_safe(stderr, loc->file,
							     "");
						if (loc->line > 0)
							fprintf(stderr, ":%d",
								loc->line);
						fputc(')', stderr);
					}
				}
			}
		}
		fputc('\n', stderr);
		fputs("stallwatch: details: stallwatch report ", stderr);
		sw_puts_safe(stderr, dir, "");
		fputc('\n', stderr);
		sw_report_free(&rep);
	}
	for (i = 0; i < fresh.n; i++)
		free(paths[i]);
	free(paths);
	free_list(&fresh);
}

static int duration_opt(const char *name, const char *v, char **out)
{
	uint64_t ns;

	if (sw_parse_duration(v, &ns) != 0) {
		sw_err(
		    "run: bad duration for --%s: '%s' (examples: 50ms, 0.05s, "
		    "500us)",
		    name, v);
		return -1;
	}
	free(*out);
	*out = xasprintf("%lluns", (unsigned long long)ns);
	return 0;
}

struct run_opts {
	const char *output;
	char *threshold, *call_threshold, *sample_interval;
	int strict, no_follow, quiet, js;
};

static void child_setup(const struct run_opts *o, const char *shim,
			const char *dir)
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
	setenv("STALLWATCH_OUTPUT", dir, 1);
	if (o->threshold)
		setenv("STALLWATCH_THRESHOLD", o->threshold, 1);
	if (o->call_threshold)
		setenv("STALLWATCH_CALL_THRESHOLD", o->call_threshold, 1);
	if (o->sample_interval)
		setenv("STALLWATCH_SAMPLE_INTERVAL", o->sample_interval, 1);
	if (o->strict)
		setenv("STALLWATCH_STRICT", "1", 1);
	if (o->no_follow)
		setenv("STALLWATCH_FOLLOW", "0", 1);
	if (o->js) {
		/* Node reads V8's perf-map flag from NODE_OPTIONS too, so
		 * every node the command starts writes /tmp/perf-PID.map,
		 * which the shim copies beside its trace.  Interpreted
		 * functions get frames of their own in the native stack only
		 * with --interpreted-frames-native-stack; without it they all
		 * show as V8's interpreter trampoline. */
		const char *flags =
		    "--perf-basic-prof --interpreted-frames-native-stack";
		const char *no = getenv("NODE_OPTIONS");
		char *v =
		    no && *no ? xasprintf("%s %s", no, flags) : xstrdup(flags);

		setenv("NODE_OPTIONS", v, 1);
		free(v);
	}
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("STALLWATCH_ROOT_PID", pid, 1);
}

int sw_cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"output", required_argument, NULL, 'o'},
	    {"threshold", required_argument, NULL, 'T'},
	    {"call-threshold", required_argument, NULL, 'C'},
	    {"sample-interval", required_argument, NULL, 'I'},
	    {"strict", no_argument, NULL, 'S'},
	    {"no-follow", no_argument, NULL, 'F'},
	    {"js", no_argument, NULL, 'J'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	static const int fwd[] = {SIGINT, SIGTERM, SIGHUP};
	struct sigaction old_sa[3];
	int installed[3] = {0, 0, 0};
	struct run_opts o = {.output = "stallwatch-out"};
	struct name_list before = {0};
	char *shim = NULL, *dir = NULL;
	int c, rc = 2, pipefd[2], status, err_no = 0;
	pid_t pid;
	size_t i;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+o:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			o.output = optarg;
			break;
		case 'T':
			if (duration_opt("threshold", optarg, &o.threshold))
				goto out;
			break;
		case 'C':
			if (duration_opt("call-threshold", optarg,
					 &o.call_threshold))
				goto out;
			break;
		case 'I':
			if (duration_opt("sample-interval", optarg,
					 &o.sample_interval))
				goto out;
			break;
		case 'S':
			o.strict = 1;
			break;
		case 'F':
			o.no_follow = 1;
			break;
		case 'J':
			o.js = 1;
			break;
		case 'q':
			o.quiet = 1;
			break;
		case 'h':
			fputs(usage, stdout);
			rc = 0;
			goto out;
		default:
			if (optopt)
				sw_err("run: unknown or incomplete option "
				       "'-%c' (see "
				       "stallwatch run --help)",
				       optopt);
			else
				sw_err("run: unknown option '%s' (see "
				       "stallwatch run "
				       "--help)",
				       argv[optind - 1]);
			goto out;
		}
	}
	if (optind >= argc) {
		sw_err(
		    "run: no command given (usage: stallwatch run [options] -- "
		    "CMD [ARGS])");
		goto out;
	}
	shim = find_shim();
	if (!shim)
		goto out;
	if (mkdir_p(o.output) != 0) {
		sw_err("run: cannot create output directory %s: %s", o.output,
		       strerror(errno));
		goto out;
	}
	dir = realpath(o.output, NULL);
	if (!dir) {
		sw_err("run: %s: %s", o.output, strerror(errno));
		goto out;
	}
	list_traces(dir, &before);
	if (pipe2(pipefd, O_CLOEXEC) != 0) {
		sw_err("run: pipe: %s", strerror(errno));
		goto out;
	}
	/* Install forwarding before fork so no signal can slip between; a
	 * signal we inherited as ignored stays ignored for the child. */
	for (i = 0; i < 3; i++) {
		struct sigaction sa;

		if (sigaction(fwd[i], NULL, &old_sa[i]) != 0 ||
		    old_sa[i].sa_handler == SIG_IGN)
			continue;
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = forward;
		sa.sa_flags = SA_SIGINFO | SA_RESTART;
		sigemptyset(&sa.sa_mask);
		installed[i] = sigaction(fwd[i], &sa, NULL) == 0;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		sw_err("run: fork: %s", strerror(errno));
		close(pipefd[0]);
		close(pipefd[1]);
		goto restore;
	}
	if (pid == 0) {
		int e;

		for (i = 0; i < 3; i++)
			if (installed[i])
				sigaction(fwd[i], &old_sa[i], NULL);
		close(pipefd[0]);
		child_setup(&o, shim, dir);
		execvp(argv[optind], argv + optind);
		e = errno;
		if (write(pipefd[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(e == ENOENT ? 127 : 126);
	}
	child_pid = pid;
	close(pipefd[1]);
	/* The pipe closes on a successful exec; otherwise it carries errno. */
	for (;;) {
		ssize_t n = read(pipefd[0], &err_no, sizeof(err_no));

		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof(err_no))
			err_no = 0;
		break;
	}
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			sw_err("run: waitpid: %s", strerror(errno));
			status = 0;
			rc = 2;
			goto restore;
		}
	}
	child_pid = 0;
	if (err_no) {
		sw_err("run: %s: %s", argv[optind],
		       err_no == ENOENT ? "command not found"
					: strerror(err_no));
		rc = err_no == ENOENT ? 127 : 126;
		goto restore;
	}
	if (WIFEXITED(status))
		rc = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		rc = 128 + WTERMSIG(status);
	else
		rc = 2;
	if (!o.quiet)
		summary(dir, &before);
restore:
	for (i = 0; i < 3; i++)
		if (installed[i])
			sigaction(fwd[i], &old_sa[i], NULL);
out:
	free_list(&before);
	free(shim);
	free(dir);
	free(o.threshold);
	free(o.call_threshold);
	free(o.sample_interval);
	return rc;
}
