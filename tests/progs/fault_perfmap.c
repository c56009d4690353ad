/*
 * fault_perfmap.c - a JIT-like program that writes its own perf map
 * (/tmp/perf-PID.map, as node --perf-basic-prof does), then lowers its
 * file size limit below the map's size and exits normally
 * (tests/integration/test_faults.c).  At exit the shim copies the map
 * beside the trace: that copy must not exceed RLIMIT_FSIZE, or SIGXFSZ
 * kills the program in its last moment and changes its exit status.
 *
 * Prints "fault_perfmap: done" on stdout, "pid N" on stderr (the test
 * removes the map afterwards), exits 0.
 */
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

int main(void)
{
	struct rlimit rl = {16384, 16384};
	char path[64];
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)getpid());
	f = fopen(path, "w");
	if (!f)
		return 2;
	for (i = 0; i < 4000; i++) /* about 100 KB */
		fprintf(f, "%x 10 LazyCompile:~handler%d /srv/app.js:%d\n",
			0x10000 + i * 16, i, i);
	if (fclose(f) != 0)
		return 2;
	if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
		return 2;
	fprintf(stderr, "pid %d\n", (int)getpid());
	printf("fault_perfmap: done\n");
	return 0;
}
