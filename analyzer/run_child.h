/*
 * run_child.h - launching a command under the shim, shared by `run` and
 * `gate -- CMD`: the launch options, the run's own output directory,
 * signal forwarding, and ending the way the command ended.
 */
#ifndef SW_RUN_CHILD_H
#define SW_RUN_CHILD_H

#include <getopt.h>
#include <sys/types.h>

struct sw_launch {
	const char *output; /* parent output directory */
	char *threshold, *call_threshold, *sample_interval; /* "NNNns" */
	const char *max_size;
	int strict, no_follow, js;
	/* filled by sw_launch_run */
	char *run_dir;	/* this run's own directory (absolute) */
	int status;	/* waitpid status of the command */
	int exec_errno; /* why the command could not start, else 0 */
};

/* getopt_long entries of the launch options; their codes are >= 0x100. */
#define SW_LAUNCH_OPTIONS                                        \
	{"output", required_argument, NULL, 'o'},                \
	    {"threshold", required_argument, NULL, 0x100},       \
	    {"call-threshold", required_argument, NULL, 0x101},  \
	    {"sample-interval", required_argument, NULL, 0x102}, \
	    {"strict", no_argument, NULL, 0x103},                \
	    {"no-follow", no_argument, NULL, 0x104},             \
	    {"js", no_argument, NULL, 0x105},                    \
	{                                                        \
		"max-size", required_argument, NULL, 0x106       \
	}

/* The --help lines of those options. */
extern const char sw_launch_help[];

/*
 * Take option c (with arg) when it is a launch option.  Returns 1 when
 * taken, 0 when c is not one, -1 after a one-line error (cmd names the
 * command in it).
 */
int sw_launch_option(struct sw_launch *l, int c, const char *arg,
		     const char *cmd);

/*
 * Run argv[0] with argv under the shim, into a new directory of its own
 * inside l->output; forwards SIGINT, SIGTERM and SIGHUP meanwhile.
 * Returns 0 once the command ended (or could not start: l->exec_errno),
 * or -1 after a one-line error (nothing was run).
 */
int sw_launch_run(struct sw_launch *l, char **argv, const char *cmd);

/*
 * The exit status that mirrors the command: its own, 127/126 when it
 * could not start.  When it was killed by a signal this process dies of
 * the same signal (without a core dump of its own) and never returns.
 */
int sw_launch_finish(const struct sw_launch *l);

void sw_launch_free(struct sw_launch *l);

#endif
