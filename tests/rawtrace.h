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
/* The same for one trace file. */
int sw_t_raw_load_file(const char *path, struct sw_t_raw *raw);
/* Paths of up to max *.swtrace files in dir (one level deep too) into
 * paths[i] (4096 bytes each); returns how many were found. */
int sw_t_raw_list(const char *dir, char (*paths)[4096], int max);
/* The first record of `type` at or after index *from (updated past it),
 * copied into out (zero-filled to cap, like the analyzer's reader); NULL
 * when none.  Returns the record as written. */
const struct sw_rec_hdr *sw_t_raw_next(const struct sw_t_raw *raw, size_t *from,
				       unsigned type, void *out, size_t cap);
void sw_t_raw_free(struct sw_t_raw *raw);

#endif
