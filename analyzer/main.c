/*
 * main.c - the `stallwatch` command: subcommand dispatch, --help, --version.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"

#ifndef SW_VERSION
#define SW_VERSION "0.1.0"
#endif

static const char usage[] =
    "usage: stallwatch <command> [options] [args]\n"
    "\n"
    "Find what freezes an event loop: blocking calls and CPU stalls on\n"
    "loop threads, with their native, Python and JavaScript stacks.\n"
    "\n"
    "commands:\n"
    "  run -- CMD [ARGS]   run a program under the stallwatch shim\n"
    "  report PATH...      report on trace files or directories of them\n"
    "  gate PATH...        CI verdict: fail when stalls exceed budgets\n"
    "  top [PATH...]       live view of the traced processes running now\n"
    "  metrics PATH...     Prometheus/OpenMetrics exposition (--listen)\n"
    "  preload             print the environment lines for the shim\n"
    "  help [COMMAND]      this help, or a command's\n"
    "\n"
    "Run `stallwatch COMMAND --help` for a command's options.\n"
    "  stallwatch --version  print the version\n";

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (!cmd) {
		fputs(usage, stderr);
		return 2;
	}
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		fputs(usage, stdout);
		return 0;
	}
	if (!strcmp(cmd, "help")) {
		if (argc > 2) {
			char *sub[] = {argv[2], "--help", NULL};

			if (!strcmp(argv[2], "run"))
				return sw_cmd_run(2, sub);
			if (!strcmp(argv[2], "report"))
				return sw_cmd_report(2, sub);
			if (!strcmp(argv[2], "gate"))
				return sw_cmd_gate(2, sub);
			if (!strcmp(argv[2], "top"))
				return sw_cmd_top(2, sub);
			if (!strcmp(argv[2], "metrics"))
				return sw_cmd_metrics(2, sub);
			if (!strcmp(argv[2], "preload"))
				return sw_cmd_preload(2, sub);
			fprintf(stderr, "stallwatch: no such command: %s\n",
				argv[2]);
			return 2;
		}
		fputs(usage, stdout);
		return 0;
	}
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
		printf("stallwatch %s (trace format 1, JSON format 1)\n",
		       SW_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "run"))
		return sw_cmd_run(argc - 1, argv + 1);
	if (!strcmp(cmd, "report"))
		return sw_cmd_report(argc - 1, argv + 1);
	if (!strcmp(cmd, "gate"))
		return sw_cmd_gate(argc - 1, argv + 1);
	if (!strcmp(cmd, "top"))
		return sw_cmd_top(argc - 1, argv + 1);
	if (!strcmp(cmd, "metrics"))
		return sw_cmd_metrics(argc - 1, argv + 1);
	if (!strcmp(cmd, "preload"))
		return sw_cmd_preload(argc - 1, argv + 1);
	fprintf(stderr, "stallwatch: unknown command '%s'\n\n%s", cmd, usage);
	return 2;
}
