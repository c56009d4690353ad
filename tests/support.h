/*
 * support.h - helpers for the integration tests: run programs under the
 * shim, read the analyzer's JSON, find sites and frames in it.
 *
 * Paths come from the environment `make check` sets: SW_ROOT (the source
 * tree) and SW_BUILD (the build directory).
 */
#ifndef SW_TEST_SUPPORT_H
#define SW_TEST_SUPPORT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* $SW_ROOT/rel and $SW_BUILD/rel (static buffers rotate over 8 calls). */
const char *sw_t_src(const char *rel);
const char *sw_t_build(const char *rel);

/* A fresh empty directory under $SW_BUILD/tmp; removed by sw_t_cleanup(). */
const char *sw_t_tmpdir(const char *tag);

/*
 * Run a shell command line (printf format), its stdout and stderr captured
 * into `out` (may be NULL; caller frees).  Returns the exit status, or
 * 128+N when killed by signal N, or -1.
 */
int sw_t_sh(char **out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* `stallwatch report --format json DIR [extra]` parsed; NULL on failure
 * (the reason is printed). */
json_t *sw_t_report(const char *dir, const char *extra_args);

/* Site predicates.  NULL or -1 arguments match anything. */
json_t *sw_t_find_site(json_t *report, const char *kind, const char *call,
		       const char *function);
/* Does any frame of the site have this function (and file suffix / line)? */
json_t *sw_t_site_frame(json_t *site, const char *function,
			const char *file_suffix, int line);
/* Number of trace files (*.swtrace) in dir and in its run directories. */
int sw_t_count_traces(const char *dir);
/* Is this interpreter/program present?  (for skips with a message) */
int sw_t_have(const char *path_or_cmd);
/*
 * The running test skipped (part of) its check, for this reason.  Check has
 * no "skipped" state: the reason goes to the file the runner names in
 * SW_SKIP_FILE (tests run in forked children), and the runner counts the
 * test as skipped, not passed, and lists the reasons.  The caller returns.
 */
void sw_t_skip(const char *why);
/* The same with a printf format. */
void sw_t_skipf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * The environment prefix that puts a command under the shim in default
 * mode: "env LD_PRELOAD=<build>/libstallwatch.so STALLWATCH_OUTPUT=<dir>"
 * (rotating static buffers, like sw_t_src).
 */
const char *sw_t_preload(const char *dir);
/*
 * Run the shell command `tail` plain, then under the shim (sw_t_preload
 * with a fresh trace directory, plus `env`, extra settings or ""), and
 * fail the test unless the exit status and the output (stdout and
 * stderr) are the same.  `what` names the case in the failure message.
 * Returns the plain run's exit status, for the caller to check that the
 * program did what it is for (a program broken both ways is no test).
 */
int sw_t_same_plain_and_shim(const char *what, const char *tail,
			     const char *env);
/* The newest pyenv CPython "3.N" (path of its python3), or NULL. */
const char *sw_t_pyenv(const char *version);
/* A whole file, NUL-terminated (length in *len when non-NULL); NULL when
 * it cannot be opened.  Caller frees. */
char *sw_t_slurp(const char *path, size_t *len);
/* Lines of s that contain needle. */
int sw_t_count_lines(const char *s, const char *needle);
/* The line of $SW_ROOT/rel that ends with "# LINE:name" or "// LINE:name"
 * (test programs mark planted lines so they can move); aborts the test
 * when there is none. */
int sw_t_marker_line(const char *rel, const char *name);
/* Lines of s that contain both a and b (a line that begins with a when
 * a starts with '^', the '^' dropped). */
int sw_t_count_lines2(const char *s, const char *a, const char *b);
/* `stallwatch gate --max-stall 100ms DIR` as GitHub Actions runs it
 * (GITHUB_ACTIONS=true, so ::error annotations are printed too): its exit
 * status, stdout and stderr in *out (caller frees). */
int sw_t_gate(const char *dir, char **out);
/* JSON dump of a value to stderr, for failure diagnosis. */
void sw_t_dump(const char *label, json_t *value);

#endif
