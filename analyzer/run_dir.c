/*
 * run_dir.c - the per-run output directories of `stallwatch run`.
 *
 * A run's directory is named <program>-<YYYYmmdd-HHMMSS>-<pid>, so runs
 * sort by program and time in a listing and two runs never share one
 * (the pid of a live `run` is unique).  "Newest" orders by the time in
 * the name, then by the directory's birth time where the file system
 * keeps one (two runs in the same second), then its modification time.
 */
#include "run_dir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../include/sw_trace.h"
#include "util.h"

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

		if (stat(path, &st) != 0)
			return -1;
		if (!S_ISDIR(st.st_mode)) {
			errno = ENOTDIR;
			return -1;
		}
	}
	return rc;
}

/* The program's base name with anything but [A-Za-z0-9._+] replaced, so
 * the directory name needs no quoting in the command the summary prints. */
static char *program_label(const char *program)
{
	const char *base = strrchr(program, '/');
	char *s;
	size_t i, n;

	base = base ? base + 1 : program;
	while (*base == '.' || *base == '-')
		base++;
	n = strlen(base);
	if (n > 48)
		n = 48;
	if (!n)
		return xstrdup("program");
	s = xstrndup(base, n);
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '+'))
			s[i] = '_';
	}
	return s;
}

char *sw_run_dir_create(const char *parent, const char *program, pid_t pid)
{
	char stamp[32], *real = NULL, *label = NULL, *dir = NULL;
	time_t now = time(NULL);
	struct tm tm;
	int err = 0;

	if (mkdir_p(parent) != 0)
		return NULL;
	real = realpath(parent, NULL);
	if (!real)
		return NULL;
	if (!localtime_r(&now, &tm) ||
	    !strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm))
		snprintf(stamp, sizeof(stamp), "%lld", (long long)now);
	label = program_label(program);
	dir = xasprintf("%s%s%s-%s-%d", real, strcmp(real, "/") ? "/" : "",
			label, stamp, (int)pid);
	if (mkdir(dir, 0777) != 0) {
		/* a leftover of a dead run with the same pid and second:
		 * never write into it */
		err = errno;
		free(dir);
		dir = NULL;
	}
	free(real);
	free(label);
	if (!dir)
		errno = err;
	return dir;
}

/* ---- finding the newest run --------------------------------------------- */

struct run_ent {
	char *name;
	char stamp[16]; /* YYYYmmddHHMMSS */
	long long btime_ns, mtime_ns;
};

static int has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n > m && !strcmp(s + n - m, suffix);
}

/* <program>-YYYYmmdd-HHMMSS-<pid>: the time into stamp. */
static int parse_run_name(const char *name, char stamp[16])
{
	const char *p = strrchr(name, '-'), *t;
	size_t i;

	if (!p || p == name || !p[1] ||
	    strspn(p + 1, "0123456789") != strlen(p + 1))
		return 0;
	/* back over -HHMMSS and -YYYYmmdd */
	if (p - name < 17)
		return 0;
	t = p - 15;
	if (t[-1] != '-' || t[8] != '-')
		return 0;
	for (i = 0; i < 15; i++)
		if (i != 8 && (t[i] < '0' || t[i] > '9'))
			return 0;
	memcpy(stamp, t, 8);
	memcpy(stamp + 8, t + 9, 6);
	stamp[14] = 0;
	return 1;
}

static int newer(const struct run_ent *a, const struct run_ent *b)
{
	int c = strcmp(a->stamp, b->stamp);

	if (c)
		return c > 0;
	if (a->btime_ns != b->btime_ns)
		return a->btime_ns > b->btime_ns;
	return a->mtime_ns > b->mtime_ns;
}

/*
 * Scan dir: 1 when it holds runs and no trace of its own (then *best is
 * the newest run's name and *nruns their count), else 0.
 */
static int find_newest(const char *dir, char **best, size_t *nruns)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	struct run_ent top = {0};
	size_t n = 0;
	int traces = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)) != NULL) {
		struct run_ent e = {0};
		struct statx sx;

		if (has_suffix(de->d_name, SW_TRACE_SUFFIX)) {
			traces = 1;
			break;
		}
		if (de->d_name[0] == '.' ||
		    !parse_run_name(de->d_name, e.stamp))
			continue;
		if (statx(dirfd(d), de->d_name, AT_SYMLINK_NOFOLLOW,
			  STATX_BTIME | STATX_MTIME | STATX_TYPE, &sx) != 0 ||
		    !S_ISDIR(sx.stx_mode))
			continue;
		if (sx.stx_mask & STATX_BTIME)
			e.btime_ns = sx.stx_btime.tv_sec * 1000000000ll +
				     sx.stx_btime.tv_nsec;
		e.mtime_ns =
		    sx.stx_mtime.tv_sec * 1000000000ll + sx.stx_mtime.tv_nsec;
		n++;
		if (!top.name || newer(&e, &top)) {
			free(top.name);
			top = e;
			top.name = xstrdup(de->d_name);
		}
	}
	closedir(d);
	if (traces || !n) {
		free(top.name);
		return 0;
	}
	*best = top.name;
	*nruns = n;
	return 1;
}

void sw_run_dir_resolve(char *const *paths, size_t npaths, char ***out,
			int quiet)
{
	char **v = xcalloc(npaths ? npaths : 1, sizeof(*v));
	size_t i;

	for (i = 0; i < npaths; i++) {
		struct stat st;
		char *best = NULL;
		size_t nruns = 0;
		size_t len = strlen(paths[i]);

		if (stat(paths[i], &st) != 0 || !S_ISDIR(st.st_mode) ||
		    !find_newest(paths[i], &best, &nruns)) {
			v[i] = xstrdup(paths[i]);
			continue;
		}
		while (len > 1 && paths[i][len - 1] == '/')
			len--;
		v[i] = xasprintf("%.*s/%s", (int)len, paths[i], best);
		if (!quiet && nruns > 1) {
			fprintf(stderr,
				"stallwatch: the newest of %zu runs in ",
				nruns);
			sw_puts_safe(stderr, paths[i], "");
			fputs(": ", stderr);
			sw_puts_safe(stderr, v[i], "");
			fputs(" (name another run's directory to see it; ls ",
			      stderr);
			sw_puts_safe(stderr, paths[i], "");
			fputs(" lists them)\n", stderr);
		}
		free(best);
	}
	*out = v;
}

void sw_run_dir_free(char **paths, size_t npaths)
{
	size_t i;

	for (i = 0; i < npaths; i++)
		free(paths[i]);
	free(paths);
}
