/*
 * cmd_run.c - `stallwatch run -- CMD`: launch a program under the shim,
 * then a short summary of that run (the launching itself is run_child.c).
 */
#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../include/sw_trace.h"
#include "commands.h"
#include "model.h"
#include "place.h"
#include "run_child.h"
#include "util.h"

static const char usage_head[] =
    "usage: stallwatch run [options] [--] CMD [ARGS...]\n"
    "\n"
    "Run CMD with the stallwatch shim preloaded.  Each run writes into a\n"
    "directory of its own, OUTDIR/PROGRAM-YYYYmmdd-HHMMSS-PID/, one trace\n"
    "file per process that runs an event loop; the summary names it.\n"
    "`stallwatch report OUTDIR` reports the newest run.  Durations take\n"
    "units: 50ms, 0.05s, 500us (a bare number is milliseconds).\n"
    "\n"
    "options:\n";
static const char usage_tail[] =
    "  -q, --quiet              no summary at the end\n"
    "  -h, --help               this help\n"
    "\n"
    "SIGINT, SIGTERM and SIGHUP sent to stallwatch are passed to CMD, even\n"
    "when stallwatch was started with them ignored (CMD inherits what\n"
    "stallwatch inherited, as without it).\n"
    "Environment: STALLWATCH_SHIM overrides where the shim is found; the\n"
    "shim's other settings (STALLWATCH_*) are described in stallwatch-settings(7).\n"
    "Exit status: CMD's; when CMD is killed by a signal, stallwatch dies\n"
    "of the same signal after its summary; 127 when CMD is not found, 126\n"
    "when it cannot be run; 2 on a usage error.\n";

/* A path as one shell word, quoted when it needs it, so the details
 * command can be pasted. */
static void put_shell_word(FILE *out, const char *s)
{
	const char *p;

	if (*s &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		      "0123456789/._+-,:=@%") == strlen(s)) {
		sw_puts_safe(out, s, "");
		return;
	}
	fputc('\'', out);
	for (p = s; *p; p++) {
		if (*p == '\'') {
			fputs("'\\''", out);
		} else {
			char one[2] = {*p, 0};

			sw_puts_safe(out, one, "");
		}
	}
	fputc('\'', out);
}

static void summary(const char *dir, const struct sw_app_rules *app)
{
	struct sw_load_opts lo = {.quiet = 1, .app = app};
	struct sw_report rep;
	char *paths[1] = {(char *)dir};
	size_t i, ntraces = 0;
	DIR *d = opendir(dir);
	struct dirent *de;

	while (d && (de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name), sl = strlen(SW_TRACE_SUFFIX);

		ntraces +=
		    n > sl && !strcmp(de->d_name + n - sl, SW_TRACE_SUFFIX);
	}
	if (d)
		closedir(d);
	if (!ntraces) {
		fputs("stallwatch: no trace files were written to ", stderr);
		sw_puts_safe(stderr, dir, "");
		fputs(" (no process of the run ran an event loop)\n", stderr);
		return;
	}
	fprintf(stderr, "stallwatch: %zu trace file%s in ", ntraces,
		ntraces == 1 ? "" : "s");
	sw_puts_safe(stderr, dir, "");
	fputc('\n', stderr);
	if (sw_report_load(&rep, paths, 1, &lo) == 0) {
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

				/* the place every output names (place.h) */
				fprintf(stderr, ": %s ",
					sw_site_kind_name(s->kind));
				sw_puts_safe(stderr, s->place.text, "?");
			}
			if (worst->test) {
				fputs(" in test ", stderr);
				sw_puts_safe(stderr, worst->test, "");
			}
		}
		fputc('\n', stderr);
		fputs("stallwatch: details: stallwatch report ", stderr);
		put_shell_word(stderr, dir);
		fputc('\n', stderr);
		sw_report_free(&rep);
	}
}

int sw_cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
	    SW_LAUNCH_OPTIONS,
	    SW_APP_LONGOPTS,
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct sw_launch l = {.output = "stallwatch-out"};
	struct sw_app_rules app = {0};
	int c, rc = 2, quiet = 0, taken;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+o:qh", opts, NULL)) != -1) {
		taken = sw_launch_option(&l, c, optarg, "run");
		if (taken < 0)
			goto out;
		if (taken || sw_app_option(&app, c, optarg))
			continue;
		switch (c) {
		case 'q':
			quiet = 1;
			break;
		case 'h':
			fputs(usage_head, stdout);
			fputs(sw_launch_help, stdout);
			fputs(SW_APP_USAGE, stdout);
			fputs(usage_tail, stdout);
			rc = 0;
			goto out;
		default:
			if (optopt > 0 && optopt < 0x100)
				sw_err("run: unknown or incomplete option "
				       "'-%c' (see stallwatch run --help)",
				       optopt);
			else
				sw_err("run: unknown or incomplete option "
				       "'%s' (see stallwatch run --help)",
				       argv[optind - 1]);
			goto out;
		}
	}
	if (optind >= argc) {
		sw_err("run: no command given (usage: stallwatch run [options] "
		       "-- CMD [ARGS])");
		goto out;
	}
	if (sw_launch_run(&l, argv + optind, "run") != 0)
		goto out;
	if (!quiet && !l.exec_errno)
		summary(l.run_dir, &app);
	rc = sw_launch_finish(&l);
out:
	sw_launch_free(&l);
	sw_app_rules_free(&app);
	return rc;
}
