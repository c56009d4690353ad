/*
 * warn.c - the shim's warnings on stderr (warn.h), written only while
 * fd 2 is still the file it was when the shim started.
 */
#include "warn.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/*
 * fd 2 as it was when the shim started.  A daemon may close it and open
 * one of its data files there: a warning must never land in the program's
 * data, so it goes out only while fd 2 is still the same file.
 */
static int stderr_ok;
static dev_t stderr_dev;
static ino_t stderr_ino;

void sw_warn_init(void)
{
	struct stat st;

	stderr_ok = syscall(SYS_fstat, 2, &st) == 0;
	stderr_dev = st.st_dev;
	stderr_ino = st.st_ino;
}

static int stderr_unchanged(void)
{
	struct stat st;

	return stderr_ok && syscall(SYS_fstat, 2, &st) == 0 &&
	       st.st_dev == stderr_dev && st.st_ino == stderr_ino;
}

void sw_warn_parts(const char *first, ...)
{
	char buf[1024];
	size_t len = 0;
	const char *s;
	va_list ap;
	int saved = errno;

	if (!stderr_unchanged())
		return;

	va_start(ap, first);
	for (s = first; s; s = va_arg(ap, const char *)) {
		size_t n = strlen(s);

		if (n > sizeof(buf) - 2 - len)
			n = sizeof(buf) - 2 - len;
		memcpy(buf + len, s, n);
		len += n;
	}
	va_end(ap);
	buf[len++] = '\n';
	if (syscall(SYS_write, 2, buf, len) < 0)
		(void)0; /* nowhere else to say it */
	errno = saved;
}

void sw_warn_line(const char *msg)
{
	sw_warn_parts(msg, NULL);
}
