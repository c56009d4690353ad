/*
 * runner.c - runs every Check suite in one runner, so `make check` ends
 * with one summary line.  Suites register by defining
 * `Suite *sw_suite_NAME(void)` in any file under tests/ (see Makefile).
 * CK_RUN_SUITE=NAME runs one suite; CK_VERBOSITY=verbose lists each test.
 */
#include <check.h>
#include <stdlib.h>

#define SW_SUITE(name) Suite *sw_suite_##name(void);
#include "suites.h"
#undef SW_SUITE

int main(void)
{
	SRunner *runner = srunner_create(NULL);
	int failed;

#define SW_SUITE(name) srunner_add_suite(runner, sw_suite_##name());
#include "suites.h"
#undef SW_SUITE
	srunner_run_all(runner, CK_ENV);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
