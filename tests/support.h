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
/* Print a skip message: Check has no "skipped", so tests say so and pass. */
void sw_t_skip(const char *why);
/* A whole file, NUL-terminated (length in *len when non-NULL); NULL when
 * it cannot be opened.  Caller frees. */
char *sw_t_slurp(const char *path, size_t *len);
/* Lines of s that contain needle. */
int sw_t_count_lines(const char *s, const char *needle);
/* JSON dump of a value to stderr, for failure diagnosis. */
void sw_t_dump(const char *label, json_t *value);

#endif
