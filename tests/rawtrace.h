/*
 * rawtrace.h - the records of trace files as the shim wrote them, for
 * tests that check fields no report shows yet.
 */
#ifndef SW_TEST_RAWTRACE_H
#define SW_TEST_RAWTRACE_H

#include <stddef.h>
#include <stdint.h>

#include "../include/sw_trace.h"

struct sw_t_raw {
	size_t n;			/* records, in file order */
	const struct sw_rec_hdr **recs; /* each at least h.size bytes */
	char *data;			/* the files' bytes */
};

/*
 * Every record of the one *.swtrace file in dir (or in its only
 * subdirectory): 0, or -1 when there is not exactly one trace or it does
 * not read (a torn last record is left out).
 */
int sw_t_raw_load(const char *dir, struct sw_t_raw *raw);
void sw_t_raw_free(struct sw_t_raw *raw);

#endif
