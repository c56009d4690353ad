/*
 * cmd_report.c - `stallwatch report`: options, load, one of the writers.
 *
 * -o writes atomically (a temporary file beside the target, then rename)
 * so that a failed report never leaves half a file where a CI step or a
 * browser expects a whole one.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "model.h"
#include "outfile.h"
#include "place.h"
#include "run_dir.h"
#include "util.h"

static const char usage[] =
    "usage: stallwatch report [options] PATH...\n"
    "\n"
    "Report on stallwatch trace files (*.swtrace) or directories of them.\n"
    "Given the output directory of `stallwatch run` (runs in directories\n"
    "of their own), report its newest run; name a run's directory to see\n"
    "another.\n"
    "\n"
    "options:\n"
    "  -f, --format FMT   text (default), json, folded, html, chrome,\n"
    "                     speedscope or pprof (see below)\n"
    "  -o, --output FILE  write to FILE (atomically) instead of stdout\n"
    "      --no-symbols   do not symbolize native frames (faster)\n"
    "      --color WHEN   text colours: auto (default), always, never\n"
    "      --stacks N     text: the N heaviest raw stacks of each site\n"
    "                     (default 1)\n" SW_APP_USAGE
    "  -q, --quiet        no progress messages\n"
    "      --chrome-max-size SIZE  cap of the chrome output (K, M, G;\n"
    "                     default 64M, 0: none): past it the shortest\n"
    "                     events are dropped and the file says how many\n"
    "  -h, --help         this help\n"
    "\n"
    "formats: folded is one line per stack with its time in microseconds\n"
    "(flamegraph.pl --countname=us); chrome opens in ui.perfetto.dev and\n"
    "speedscope (name it *.json: speedscope reads *.chrome.json as a\n"
    "DevTools timeline); speedscope is speedscope's own format; pprof is\n"
    "a gzipped profile.proto for go tool pprof, Pyroscope or Parca\n"
    "(binary: use -o).\n"
    "\n"
    "Exit status: 0 on success, 2 on a usage error or unreadable input.\n";

enum fmt {
	FMT_TEXT,
	FMT_JSON,
	FMT_FOLDED,
	FMT_HTML,
	FMT_CHROME,
	FMT_SPEEDSCOPE,
	FMT_PPROF
};

static uint64_t chrome_max = 64ull << 20;

/* "64M", "512K", "1G", "1000": bytes; -1 when malformed. */
static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	unsigned shift = 0;

	if (end == s || *s == '-')
		return -1;
	switch (*end) {
	case 'k':
	case 'K':
		shift = 10;
		end++;
		break;
	case 'm':
	case 'M':
		shift = 20;
		end++;
		break;
	case 'g':
	case 'G':
		shift = 30;
		end++;
		break;
	}
	if (*end || v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

static int parse_format(const char *s, enum fmt *f)
{
	static const struct {
		const char *name;
		enum fmt f;
	} v[] = {{"text", FMT_TEXT},	 {"json", FMT_JSON},
		 {"folded", FMT_FOLDED}, {"html", FMT_HTML},
		 {"chrome", FMT_CHROME}, {"speedscope", FMT_SPEEDSCOPE},
		 {"pprof", FMT_PPROF}};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (!strcmp(s, v[i].name)) {
			*f = v[i].f;
			return 0;
		}
	return -1;
}

/* --stacks N for the text writer. */
static size_t text_stacks = 1;

static int write_report(const struct sw_report *rep, enum fmt f, FILE *out,
			int color)
{
	switch (f) {
	case FMT_JSON:
		return sw_write_json(rep, out);
	case FMT_FOLDED:
		return sw_write_folded(rep, out);
	case FMT_HTML:
		return sw_write_html(rep, out);
	case FMT_CHROME:
		return sw_write_chrome_capped(rep, out, chrome_max);
	case FMT_SPEEDSCOPE:
		return sw_write_speedscope(rep, out);
	case FMT_PPROF:
		return sw_write_pprof(rep, out);
	default: {
		struct sw_text_opts to = {.color = color,
					  .stacks = text_stacks};

		return sw_write_text_opts(rep, out, &to);
	}
	}
}

struct report_job {
	const struct sw_report *rep;
	enum fmt f;
};

static int write_job(FILE *out, void *ctx)
{
	const struct report_job *job = ctx;

	return write_report(job->rep, job->f, out, 0);
}

static int to_file(const struct sw_report *rep, enum fmt f, const char *path)
{
	struct report_job job = {rep, f};

	return sw_outfile_write(path, "report", write_job, &job) == 0 ? 0 : 2;
}

int sw_cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"format", required_argument, NULL, 'f'},
	    {"output", required_argument, NULL, 'o'},
	    {"no-symbols", no_argument, NULL, 'S'},
	    {"color", required_argument, NULL, 'C'},
	    {"colour", required_argument, NULL, 'C'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"chrome-max-size", required_argument, NULL, 'M'},
	    {"help", no_argument, NULL, 'h'},
	    {"stacks", required_argument, NULL, 'K'},
	    SW_APP_LONGOPTS,
	    {NULL, 0, NULL, 0},
	};
	struct sw_app_rules app = {0};
	struct sw_load_opts lo = {.app = &app};
	struct sw_report rep;
	const char *output = NULL, *color_when = "auto";
	char **paths;
	enum fmt f = FMT_TEXT;
	int c, rc, color;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+f:o:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (parse_format(optarg, &f) != 0) {
				sw_err(
				    "report: unknown format '%s' (text, json, "
				    "folded, html, chrome, speedscope, pprof)",
				    optarg);
				return 2;
			}
			break;
		case 'o':
			output = optarg;
			break;
		case 'S':
			lo.no_symbols = 1;
			break;
		case 'C':
			color_when = optarg;
			if (strcmp(optarg, "auto") &&
			    strcmp(optarg, "always") &&
			    strcmp(optarg, "never")) {
				sw_err("report: --color takes auto, always or "
				       "never");
				return 2;
			}
			break;
		case 'q':
			lo.quiet = 1;
			break;
		case 'K': {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (!*optarg || *end || v < 0 || v > 1000000) {
				sw_err("report: --stacks takes a number of "
				       "stacks (0 or more)");
				sw_app_rules_free(&app);
				return 2;
			}
			text_stacks = (size_t)v;
			break;
		}
		case SW_OPT_APP:
		case SW_OPT_NOT_APP:
			sw_app_option(&app, c, optarg);
			break;
		case 'M':
			if (parse_size(optarg, &chrome_max) != 0) {
				sw_err("report: --chrome-max-size takes a size "
				       "like 64M, 512K or 0");
				sw_app_rules_free(&app);
				return 2;
			}
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			if (optopt)
				sw_err("report: unknown or incomplete option "
				       "'-%c' "
				       "(see stallwatch report --help)",
				       optopt);
			else
				sw_err("report: unknown option '%s' (see "
				       "stallwatch "
				       "report --help)",
				       argv[optind - 1]);
			return 2;
		}
	}
	if (optind >= argc) {
		sw_err("report: no trace files or directories given (see "
		       "stallwatch report --help)");
		return 2;
	}
	if (f == FMT_PPROF && !output && isatty(STDOUT_FILENO)) {
		sw_err("report: pprof output is binary: use -o FILE or a "
		       "redirection");
		return 2;
	}
	/* an output directory of `stallwatch run`: its newest run */
	sw_run_dir_resolve(argv + optind, (size_t)(argc - optind), &paths,
			   lo.quiet);
	rc = sw_report_load(&rep, paths, (size_t)(argc - optind), &lo);
	sw_run_dir_free(paths, (size_t)(argc - optind));
	if (rc != 0)
		return 2;
	if (output) {
		rc = to_file(&rep, f, output);
	} else {
		color = !strcmp(color_when, "always") ||
			(!strcmp(color_when, "auto") && f == FMT_TEXT &&
			 isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL);
		rc = write_report(&rep, f, stdout, color) == 0 &&
			     fflush(stdout) == 0
			 ? 0
			 : 2;
		if (rc)
			sw_err("report: could not write the report");
	}
	sw_report_free(&rep);
	sw_app_rules_free(&app);
	return rc;
}
