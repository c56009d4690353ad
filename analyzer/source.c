/*
 * source.c - the text of a source line (see source.h).
 */
#include "source.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define MAX_FILE    (16u << 20) /* bytes */
#define MAX_LINE_NO 1000000
#define MAX_TEXT    240 /* bytes kept of the line */

static int source_file(const char *file)
{
	static const char *const ext[] = {".py", ".js", ".mjs", ".cjs", ".ts"};
	size_t n = strlen(file), i;

	for (i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		size_t m = strlen(ext[i]);

		if (n > m && !strcmp(file + n - m, ext[i]))
			return 1;
	}
	return 0;
}

char *sw_source_line(const char *file, int line)
{
	struct stat st;
	char *buf = NULL, *text = NULL, *s, *e;
	size_t cap = 0;
	ssize_t len;
	FILE *f = NULL;
	int fd, n = 0;

	if (!file || line <= 0 || line > MAX_LINE_NO || file[0] != '/' ||
	    !source_file(file))
		return NULL;
	/* O_NONBLOCK: a FIFO named like a source file must not hang us;
	 * only a regular file is read. */
	fd = open(file, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > MAX_FILE)
		goto out;
	f = fdopen(fd, "r");
	if (!f)
		goto out;
	fd = -1;
	while ((len = getline(&buf, &cap, f)) >= 0)
		if (++n == line)
			break;
	if (n != line || len < 0)
		goto out;
	s = buf;
	e = buf + len;
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' ||
			 e[-1] == '\t'))
		e--;
	if (e - s > MAX_TEXT)
		e = s + MAX_TEXT;
	if (e > s)
		text = xstrndup(s, (size_t)(e - s));
out:
	free(buf);
	if (f)
		fclose(f);
	if (fd >= 0)
		close(fd);
	return text;
}
