/*
 * report_fixture.c - a writer's output as a string, and a trace built by
 * hand loaded without symbols (report_fixture.h).
 */
#include "report_fixture.h"

#include <check.h>
#include <stdlib.h>

char *sw_t_capture(int (*writer)(const struct sw_report *, FILE *),
		   const struct sw_report *rep, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&buf, &n);

	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(writer(rep, m), 0);
	fclose(m);
	if (len)
		*len = n;
	return buf;
}

int sw_t_load_bare(const char *path, struct sw_report *rep)
{
	char *paths[1] = {(char *)path};
	struct sw_load_opts o = {.no_symbols = 1, .quiet = 1};

	return sw_report_load(rep, paths, 1, &o);
}
