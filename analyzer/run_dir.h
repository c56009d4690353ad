/*
 * run_dir.h - one directory per `stallwatch run`, inside the output
 * directory: <outdir>/<program>-<YYYYmmdd-HHMMSS>-<pid>/ (doc/design.md,
 * "Output layout").  Creating it, and finding the newest one when a
 * command is given the parent.
 */
#ifndef SW_RUN_DIR_H
#define SW_RUN_DIR_H

#include <sys/types.h>

/*
 * Create parent (and its missing ancestors), then the run's own
 * directory in it, named after program's base name, the local time and
 * pid.  Returns its absolute path (caller frees), or NULL with errno set.
 */
char *sw_run_dir_create(const char *parent, const char *program, pid_t pid);

/*
 * Paths as given to report or gate, with every directory that holds no
 * trace file of its own but runs of `stallwatch run` replaced by its
 * newest run.  For each replacement one line on stderr names the run
 * chosen and how to see the others (unless quiet).  *out is a new array
 * of new strings, freed with sw_run_dir_free().
 */
void sw_run_dir_resolve(char *const *paths, size_t npaths, char ***out,
			int quiet);
void sw_run_dir_free(char **paths, size_t npaths);

#endif
