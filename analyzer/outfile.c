/*
 * outfile.c - atomic output files, and writing in place where a rename
 * would do harm (see outfile.h).
 */
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

/* In place: the target is a device, a FIFO or a socket. */
static int write_in_place(const char *path, int (*write_fn)(FILE *, void *),
			  void *ctx)
{
	FILE *out = fopen(path, "we");
	int rc;

	if (!out)
		return -1;
	rc = write_fn(out, ctx);
	if (fflush(out) != 0 || ferror(out))
		rc = -1;
	if (fclose(out) != 0)
		rc = -1;
	return rc;
}

static int write_renamed(const char *path, int (*write_fn)(FILE *, void *),
			 void *ctx)
{
	char *tmp = xasprintf("%s.tmp.XXXXXX", path);
	FILE *out = NULL;
	mode_t um;
	int fd, rc = -1, saved;

	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		goto out_free;
	/* mkstemp creates 0600; an output file is shared like any other */
	um = umask(0);
	umask(um);
	if (fchmod(fd, 0666 & ~um) != 0)
		goto out_unlink;
	out = fdopen(fd, "w");
	if (!out)
		goto out_unlink;
	fd = -1;
	if (write_fn(out, ctx) != 0 || fflush(out) != 0 || ferror(out))
		goto out_unlink;
	rc = fclose(out);
	out = NULL;
	if (rc != 0)
		goto out_unlink;
	rc = rename(tmp, path);
	if (rc == 0)
		goto out_free;
out_unlink:
	saved = errno;
	if (out)
		fclose(out);
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	errno = saved;
	rc = -1;
out_free:
	free(tmp);
	return rc;
}

int sw_outfile_write(const char *path, const char *what,
		     int (*write_fn)(FILE *out, void *ctx), void *ctx)
{
	struct stat st;
	int rc;

	errno = 0;
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		rc = write_in_place(path, write_fn, ctx);
	else
		rc = write_renamed(path, write_fn, ctx);
	if (rc != 0)
		sw_err("%s: cannot write %s: %s", what, path,
		       errno ? strerror(errno) : "write failed");
	return rc;
}
