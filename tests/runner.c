/*
 * runner.c - runs every Check suite in one runner, so `make check` ends
 * with one summary: Check's own line, then "N passed, F failed, K skipped"
 * and the reason of each skip.  Suites register by defining
 * `Suite *sw_suite_NAME(void)` in any file under tests/ (see Makefile).
 * CK_RUN_SUITE=NAME runs one suite; CK_VERBOSITY=verbose lists each test.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SW_SUITE(name) Suite *sw_suite_##name(void);
#include "suites.h"
#undef SW_SUITE

/*
 * Tests record skips in a shared file (support.c: sw_t_skip), one
 * "test<TAB>reason" line each, because Check runs them in forked children
 * and has no skipped state.  Prints the reasons; returns how many distinct
 * tests skipped.
 */
static int report_skips(const char *path)
{
	char names[256][128], line[1200];
	int n = 0, i;
	FILE *f = fopen(path, "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *tab = strchr(line, '\t');

		if (!tab)
			continue;
		*tab = 0;
		line[strcspn(tab + 1, "\n") + (size_t)(tab + 1 - line)] = 0;
		if (n == 0)
			printf("Skipped:\n");
		printf("  %s: %s\n", line, tab + 1);
		for (i = 0; i < n; i++)
			if (strcmp(names[i], line) == 0)
				break;
		if (i == n && n < 256)
			snprintf(names[n++], sizeof(names[0]), "%.127s", line);
	}
	fclose(f);
	return n;
}

int main(void)
{
	SRunner *runner = srunner_create(NULL);
	const char *build = getenv("SW_BUILD");
	char skips[4096], cmd[4200];
	int failed, ran, skipped, passed;

	if (!build || !*build)
		build = "build";
	snprintf(skips, sizeof(skips), "%s/tmp/skips.%d", build, (int)getpid());
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/tmp'", build);
	if (system(cmd) != 0)
		fprintf(stderr, "runner: %s failed: skips not counted\n", cmd);
	unlink(skips);
	setenv("SW_SKIP_FILE", skips, 1);

#define SW_SUITE(name) srunner_add_suite(runner, sw_suite_##name());
#include "suites.h"
#undef SW_SUITE
	srunner_run_all(runner, CK_ENV);
	ran = srunner_ntests_run(runner);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);

	skipped = report_skips(skips);
	unlink(skips);
	/* A test that skipped part of its check and then failed counts in
	 * both; never report fewer than zero passed. */
	passed = ran - failed - skipped;
	if (passed < 0)
		passed = 0;
	printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
