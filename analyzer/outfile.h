/*
 * outfile.h - writing an output file (a report, a JUnit file, a metrics
 * text file) so that a reader never sees half of it.
 */
#ifndef SW_OUTFILE_H
#define SW_OUTFILE_H

#include <stdio.h>

/*
 * Write `path` through write_fn(out, ctx), which returns 0 on success.
 * A regular file (or a new one) is written to a temporary name beside it
 * and renamed over it, mode 0666 & ~umask, so a reader sees the old or the
 * new file, never half of one.  Anything else that exists there (/dev/null,
 * /dev/stdout, a FIFO, a terminal) is opened and written in place: renaming
 * over it would replace a device node or a pipe with a regular file.
 * Returns 0, or -1 with one message on stderr naming `what` and the path.
 */
int sw_outfile_write(const char *path, const char *what,
		     int (*write_fn)(FILE *out, void *ctx), void *ctx);

#endif
