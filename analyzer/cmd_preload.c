/*
 * cmd_preload.c - `stallwatch preload`: the environment lines that load the
 * installed shim into a program started by hand, a shell, a systemd unit or
 * a container.
 *
 * The shim is looked for next to the running stallwatch binary: in the
 * same directory (the build tree) or in ../lib/stallwatch (make install's
 * $(PREFIX)/lib/stallwatch beside $(PREFIX)/bin), so the printed path is
 * always the shim that belongs to this stallwatch.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "../include/sw_settings.h"
#include "util.h"

static const char usage[] =
    "usage: stallwatch preload [--shell | --systemd] [-o DIR]\n"
    "\n"
    "Print the environment lines that load the stallwatch shim\n"
    "(libstallwatch.so, found next to this stallwatch binary) into a\n"
    "program, and a trace directory for it.\n"
    "\n"
    "options:\n"
    "      --shell        `export` lines for sh/bash (eval them)\n"
    "      --systemd      a drop-in for a unit: save it as\n"
    "                     /etc/systemd/system/UNIT.service.d/stallwatch.conf\n"
    "  -o, --output DIR   trace directory to suggest (default\n"
    "                     /var/tmp/stallwatch; --systemd: "
    "/var/lib/stallwatch,\n"
    "                     created by StateDirectory=, outside PrivateTmp)\n"
    "  -h, --help         this help\n"
    "\n"
    "Without --shell or --systemd it prints NAME=VALUE lines (for env(1),\n"
    "docker run --env-file, a Kubernetes env list).\n"
    "Exit status: 0, 1 when the shim cannot be found, 2 on a usage error.\n";

/* The shim beside the binary; NULL when there is none. */
static char *find_shim(char *tried, size_t len)
{
	char exe[PATH_MAX], *dir, *cand;
	const char *rel[] = {"libstallwatch.so",
			     "../lib/stallwatch/libstallwatch.so"};
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	size_t i;

	tried[0] = 0;
	if (n <= 0)
		return NULL;
	exe[n] = 0;
	dir = strrchr(exe, '/');
	if (!dir)
		return NULL;
	*dir = 0;
	for (i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		char *real;

		cand = xasprintf("%s/%s", exe, rel[i]);
		snprintf(tried + strlen(tried), len - strlen(tried), "%s%s",
			 i ? ", " : "", cand);
		real = realpath(cand, NULL);
		free(cand);
		if (real && access(real, R_OK) == 0)
			return real;
		free(real);
	}
	return NULL;
}

/* A value for sh: single quotes unless it is plainly safe. */
static void put_sh(const char *s)
{
	const char *p;

	if (strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		      "0123456789/._-+:,@%") == strlen(s)) {
		fputs(s, stdout);
		return;
	}
	putchar('\'');
	for (p = s; *p; p++)
		if (*p == '\'')
			fputs("'\\''", stdout);
		else
			putchar(*p);
	putchar('\'');
}

/* Environment=NAME=VALUE, quoted for systemd when it has blanks. */
static void put_systemd_env(const char *name, const char *value)
{
	const char *p;

	if (!strpbrk(value, " \t\"'\\")) {
		printf("Environment=%s=%s\n", name, value);
		return;
	}
	printf("Environment=\"%s=", name);
	for (p = value; *p; p++) {
		if (*p == '"' || *p == '\\')
			putchar('\\');
		putchar(*p);
	}
	puts("\"");
}

int sw_cmd_preload(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"shell", no_argument, NULL, 'S'},
	    {"systemd", no_argument, NULL, 'D'},
	    {"output", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *output = NULL;
	char tried[2 * PATH_MAX + 64], *shim;
	int c, mode = 0;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'S':
		case 'D':
			if (mode && mode != c) {
				sw_err("preload: --shell and --systemd exclude "
				       "each other");
				return 2;
			}
			mode = c;
			break;
		case 'o':
			output = optarg;
			if (output[0] != '/') {
				sw_err("preload: --output needs an absolute "
				       "path (the program's working directory "
				       "is not known)");
				return 2;
			}
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			sw_err("preload: unknown or incomplete option '%s' "
			       "(see stallwatch preload --help)",
			       argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		sw_err("preload: unexpected argument '%s' (see stallwatch "
		       "preload --help)",
		       argv[optind]);
		return 2;
	}
	shim = find_shim(tried, sizeof(tried));
	if (!shim) {
		sw_err("preload: libstallwatch.so not found next to this "
		       "stallwatch (looked for %s)",
		       tried);
		return 1;
	}
	if (!output)
		output =
		    mode == 'D' ? "/var/lib/stallwatch" : "/var/tmp/stallwatch";
	if (mode == 'S') {
		fputs("export LD_PRELOAD=", stdout);
		put_sh(shim);
		puts("\"${LD_PRELOAD:+:$LD_PRELOAD}\"");
		fputs("export " SW_ENV_OUTPUT "=", stdout);
		put_sh(output);
		putchar('\n');
	} else if (mode == 'D') {
		puts("# /etc/systemd/system/UNIT.service.d/stallwatch.conf, "
		     "then:\n"
		     "#   systemctl daemon-reload && systemctl restart UNIT\n"
		     "# Traces go to a state directory: PrivateTmp=yes would "
		     "hide\n"
		     "# /tmp/stallwatch-UID, and StateDirectory= creates the "
		     "directory\n"
		     "# for the unit's user (DynamicUser= included).  Read "
		     "them with\n"
		     "#   stallwatch top DIR    stallwatch report DIR");
		puts("[Service]");
		put_systemd_env("LD_PRELOAD", shim);
		put_systemd_env(SW_ENV_OUTPUT, output);
		if (!strncmp(output, "/var/lib/", 9) && output[9] &&
		    !strchr(output + 9, '/'))
			printf("StateDirectory=%s\nStateDirectoryMode=0700\n",
			       output + 9);
		else
			printf("ReadWritePaths=%s\n", output);
	} else {
		printf("LD_PRELOAD=%s\n", shim);
		printf(SW_ENV_OUTPUT "=%s\n", output);
	}
	free(shim);
	return fflush(stdout) == 0 ? 0 : 2;
}
