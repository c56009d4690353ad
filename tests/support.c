/*
 * support.c - helpers for the integration tests (support.h): run
 * programs under the shim, read the analyzer's JSON, find sites in it.
 */
#include "support.h"

#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <glob.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *env_or(const char *name, const char *fallback)
{
	const char *v = getenv(name);
	return v && *v ? v : fallback;
}

static const char *rotate(const char *a, const char *b)
{
	static char bufs[8][4096];
	static unsigned next;
	char *buf = bufs[next++ % 8];

	snprintf(buf, sizeof(bufs[0]), "%s/%s", a, b);
	return buf;
}

const char *sw_t_src(const char *rel)
{
	return rotate(env_or("SW_ROOT", "."), rel);
}

const char *sw_t_build(const char *rel)
{
	return rotate(env_or("SW_BUILD", "build"), rel);
}

const char *sw_t_tmpdir(const char *tag)
{
	static char buf[4096];

	snprintf(buf, sizeof(buf), "%s/tmp/%s.%d", env_or("SW_BUILD", "build"),
		 tag, (int)getpid());
	if (sw_t_sh(NULL, "rm -rf '%s' && mkdir -p '%s'", buf, buf) != 0)
		ck_abort_msg("cannot create %s", buf);
	return buf;
}

int sw_t_sh(char **out, const char *fmt, ...)
{
	char cmd[16384], path[4096];
	va_list ap;
	int status, fd = -1;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (out) {
		char full[sizeof(cmd) + 5000];

		snprintf(path, sizeof(path), "%s/tmp/out.XXXXXX",
			 env_or("SW_BUILD", "build"));
		status = system("mkdir -p \"$SW_BUILD/tmp\" 2>/dev/null");
		(void)status;
		fd = mkstemp(path);
		if (fd < 0)
			return -1;
		close(fd);
		snprintf(full, sizeof(full), "( %s ) >'%s' 2>&1", cmd, path);
		status = system(full);
		*out = NULL;
		f = fopen(path, "r");
		if (f) {
			size_t cap = 1 << 16, len = 0, n;
			char *buf = malloc(cap);

			while (buf && (n = fread(buf + len, 1, cap - len - 1,
						 f)) > 0) {
				len += n;
				if (cap - len < 2) {
					cap *= 2;
					buf = realloc(buf, cap);
				}
			}
			if (buf)
				buf[len] = 0;
			*out = buf;
			fclose(f);
		}
		unlink(path);
	} else {
		status = system(cmd);
	}
	if (status == -1)
		return -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -1;
}

json_t *sw_t_report(const char *dir, const char *extra_args)
{
	char *out = NULL;
	json_error_t err;
	json_t *root;
	int rc;

	rc = sw_t_sh(&out, "'%s' report --format json %s '%s' 2>/dev/null",
		     sw_t_build("stallwatch"), extra_args ? extra_args : "",
		     dir);
	if (rc != 0 || !out) {
		fprintf(stderr, "report on %s failed (rc %d): %.2000s\n", dir,
			rc, out ? out : "");
		free(out);
		return NULL;
	}
	root = json_loads(out, 0, &err);
	if (!root)
		fprintf(stderr, "report JSON does not parse: %s (line %d)\n",
			err.text, err.line);
	free(out);
	return root;
}

static int str_eq(json_t *v, const char *want)
{
	return !want ||
	       (json_is_string(v) && strcmp(json_string_value(v), want) == 0);
}

json_t *sw_t_site_frame(json_t *site, const char *function,
			const char *file_suffix, int line)
{
	json_t *frames = json_object_get(site, "frames"), *fr;
	size_t i;

	json_array_foreach (frames, i, fr) {
		json_t *file = json_object_get(fr, "file");

		if (!str_eq(json_object_get(fr, "function"), function))
			continue;
		if (file_suffix) {
			const char *f = json_string_value(file);
			size_t fl, sl = strlen(file_suffix);

			if (!f || (fl = strlen(f)) < sl ||
			    strcmp(f + fl - sl, file_suffix) != 0)
				continue;
		}
		if (line >= 0 &&
		    json_integer_value(json_object_get(fr, "line")) != line)
			continue;
		return fr;
	}
	return NULL;
}

json_t *sw_t_find_site(json_t *report, const char *kind, const char *call,
		       const char *function)
{
	json_t *sites = json_object_get(report, "sites"), *site;
	size_t i;

	json_array_foreach (sites, i, site) {
		if (!str_eq(json_object_get(site, "kind"), kind) ||
		    !str_eq(json_object_get(site, "call"), call))
			continue;
		if (function && !sw_t_site_frame(site, function, NULL, -1))
			continue;
		return site;
	}
	return NULL;
}

/* Traces in dir and, one level down, in the run directories that
 * `stallwatch run -o dir` makes. */
static int count_traces(const char *dir, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		if (l > 8 && strcmp(e->d_name + l - 8, ".swtrace") == 0)
			n++;
		else if (depth && e->d_type == DT_DIR && e->d_name[0] != '.') {
			char sub[4096];
			int k;

			snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name);
			k = count_traces(sub, depth - 1);
			n += k > 0 ? k : 0;
		}
	}
	closedir(d);
	return n;
}

int sw_t_count_traces(const char *dir)
{
	return count_traces(dir, 1);
}

int sw_t_have(const char *path_or_cmd)
{
	if (strchr(path_or_cmd, '/'))
		return access(path_or_cmd, X_OK) == 0;
	return sw_t_sh(NULL, "command -v '%s' >/dev/null 2>&1", path_or_cmd) ==
	       0;
}

void sw_t_skip(const char *why)
{
	const char *file = getenv("SW_SKIP_FILE");
	const char *test = tcase_name();
	char line[1024];
	int fd, n;

	fprintf(stderr, "SKIP: %s: %s\n", test ? test : "?", why);
	if (!file || !*file)
		return;
	/* One line, one O_APPEND write: forked tests never interleave. */
	n = snprintf(line, sizeof(line), "%s\t%s", test ? test : "?", why);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	for (int i = 0; i < n; i++)
		if (line[i] == '\n')
			line[i] = ' ';
	line[n++] = '\n';
	fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	if (write(fd, line, (size_t)n) != n)
		fprintf(stderr, "SKIP: could not record in %s\n", file);
	close(fd);
}

void sw_t_skipf(const char *fmt, ...)
{
	char why[900];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	sw_t_skip(why);
}

void sw_t_dump(const char *label, json_t *value)
{
	char *s = value ? json_dumps(value, JSON_INDENT(1)) : NULL;

	fprintf(stderr, "--- %s ---\n%.20000s\n", label, s ? s : "(null)");
	free(s);
}

char *sw_t_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 1 << 16, n = 0, got;
	char *buf;

	if (!f)
		return NULL;
	buf = malloc(cap + 1);
	while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
		}
	}
	fclose(f);
	if (!buf)
		return NULL;
	buf[n] = 0;
	if (len)
		*len = n;
	return buf;
}

int sw_t_count_lines(const char *s, const char *needle)
{
	int n = 0;

	while (s && *s) {
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);
		char *line = strndup(s, len);

		if (strstr(line, needle))
			n++;
		free(line);
		s = nl ? nl + 1 : s + len;
	}
	return n;
}

int sw_t_count_lines2(const char *s, const char *a, const char *b)
{
	int n = 0, anchored = a[0] == '^';

	if (anchored)
		a++;
	while (s && *s) {
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);
		char *line = strndup(s, len),
		     *at = line ? strstr(line, a) : NULL;

		if (at && (!anchored || at == line) && strstr(line, b))
			n++;
		free(line);
		s = nl ? nl + 1 : s + len;
	}
	return n;
}

int sw_t_gate(const char *dir, char **out)
{
	return sw_t_sh(out,
		       "GITHUB_ACTIONS=true '%s' gate --max-stall 100ms '%s'",
		       sw_t_build("stallwatch"), dir);
}

int sw_t_marker_line(const char *rel, const char *name)
{
	char buf[1024], want[128];
	FILE *f = fopen(sw_t_src(rel), "r");
	int line = 0;

	ck_assert_msg(f != NULL, "%s not found", rel);
	snprintf(want, sizeof(want), "LINE:%s\n", name);
	while (fgets(buf, sizeof(buf), f)) {
		size_t n = strlen(buf), w = strlen(want);

		line++;
		if (n >= w && !strcmp(buf + n - w, want) &&
		    (n == w || buf[n - w - 1] == ' ')) {
			fclose(f);
			return line;
		}
	}
	fclose(f);
	ck_abort_msg("no marker LINE:%s in %s", name, rel);
	return -1;
}

const char *sw_t_preload(const char *dir)
{
	static char bufs[4][8192];
	static unsigned next;
	char *buf = bufs[next++ % 4];

	snprintf(buf, sizeof(bufs[0]),
		 "env LD_PRELOAD='%s/libstallwatch.so' STALLWATCH_OUTPUT='%s'",
		 env_or("SW_BUILD", "build"), dir);
	return buf;
}

const char *sw_t_pyenv(const char *version)
{
	static char bufs[4][4096];
	static unsigned next;
	char *buf = bufs[next++ % 4], pat[4200];
	const char *home = getenv("HOME");
	glob_t g;

	/* pyenv's own default root: $PYENV_ROOT, else ~/.pyenv. */
	if (getenv("PYENV_ROOT") && *getenv("PYENV_ROOT"))
		snprintf(pat, sizeof(pat), "%s/versions/%s.*/bin/python3",
			 getenv("PYENV_ROOT"), version);
	else
		snprintf(pat, sizeof(pat),
			 "%s/.pyenv/versions/%s.*/bin/python3",
			 home && *home ? home : "/root", version);
	if (glob(pat, 0, NULL, &g) != 0 || !g.gl_pathc)
		return NULL;
	snprintf(buf, sizeof(bufs[0]), "%s", g.gl_pathv[g.gl_pathc - 1]);
	globfree(&g);
	return buf;
}

int sw_t_same_plain_and_shim(const char *what, const char *tail,
			     const char *env)
{
	const char *dir = sw_t_tmpdir("plain-and-shim");
	char *plain = NULL, *shim = NULL;
	int rc_plain, rc_shim;

	rc_plain = sw_t_sh(&plain, "%s", tail);
	rc_shim = sw_t_sh(&shim, "%s %s %s", sw_t_preload(dir), env, tail);
	ck_assert_msg(rc_plain == rc_shim && plain && shim &&
			  strcmp(plain, shim) == 0,
		      "%s: plain exit %d, output:\n%s\nunder the shim exit %d, "
		      "output:\n%s",
		      what, rc_plain, plain ? plain : "(none)", rc_shim,
		      shim ? shim : "(none)");
	free(plain);
	free(shim);
	return rc_plain;
}
