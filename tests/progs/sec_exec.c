/*
 * sec_exec.c - exec a program with a chosen argv[0], optionally after
 * planting files where the shim in the new image will create its trace
 * (tests/integration/test_security.c).  The pid survives exec, so the name
 * the shim will use, <comm>.<pid>.swtrace, is known here in advance.
 *
 * usage: sec_exec [-p OUTDIR COMM TARGET...] [-e K=V]... ARGV0 PROG [ARGS...]
 *   -p  plant, for i = 0, 1, ...: a symlink OUTDIR/COMM.<pid>[.i].swtrace
 *       pointing at the i-th TARGET (list ends at the next option);
 *   -e  put K=V into the environment of PROG only (e.g. LD_PRELOAD).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int i = 1;

	while (i < argc && argv[i][0] == '-' && argv[i][1] && !argv[i][2]) {
		if (argv[i][1] == 'p' && i + 3 < argc) {
			const char *dir = argv[i + 1], *comm = argv[i + 2];
			int n = 0;

			for (i += 3; i < argc && argv[i][0] != '-'; i++, n++) {
				char path[8192];

				if (n == 0)
					snprintf(path, sizeof(path),
						 "%s/%s.%d.swtrace", dir, comm,
						 (int)getpid());
				else
					snprintf(path, sizeof(path),
						 "%s/%s.%d.%d.swtrace", dir,
						 comm, (int)getpid(), n);
				if (symlink(argv[i], path) != 0) {
					perror(path);
					return 2;
				}
			}
		} else if (argv[i][1] == 'e' && i + 1 < argc) {
			if (putenv(argv[i + 1]) != 0)
				return 2;
			i += 2;
		} else {
			break;
		}
	}
	if (i + 1 >= argc) {
		fprintf(stderr,
			"usage: sec_exec [-p DIR COMM TARGET...] [-e K=V] "
			"ARGV0 PROG [ARGS...]\n");
		return 2;
	}
	{
		const char *prog = argv[i + 1];

		argv[i + 1] = argv[i]; /* PROG's argv: ARGV0 ARGS... */
		execv(prog, argv + i + 1);
		perror(prog);
	}
	return 127;
}
