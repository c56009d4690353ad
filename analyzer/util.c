/*
 * util.c - allocation, string buffers, messages, terminal-safe output.
 */
#include "util.h"

#include <stdlib.h>
#include <string.h>

#include "html_escape.h"

static void oom(size_t n)
{
	fprintf(stderr, "stallwatch: out of memory (%zu bytes)\n", n);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom(n);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		oom(n * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *xreallocarray(void *p, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		oom(SIZE_MAX);
	return xrealloc(p, n * size);
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom(strlen(fmt));
	return s;
}

void sw_buf_add(struct sw_buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;

		while (cap < b->len + n + 1)
			cap *= 2;
		b->s = xrealloc(b->s, cap);
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = 0;
}

void sw_buf_puts(struct sw_buf *b, const char *s)
{
	sw_buf_add(b, s, strlen(s));
}

void sw_buf_printf(struct sw_buf *b, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		sw_buf_add(b, small, (size_t)n);
		return;
	}
	{
		char *big = xmalloc((size_t)n + 1);

		va_start(ap, fmt);
		vsnprintf(big, (size_t)n + 1, fmt, ap);
		va_end(ap);
		sw_buf_add(b, big, (size_t)n);
		free(big);
	}
}

const char *sw_buf_str(const struct sw_buf *b)
{
	return b->s ? b->s : "";
}

char *sw_buf_take(struct sw_buf *b)
{
	char *s = b->s ? b->s : xstrdup("");

	b->s = NULL;
	b->len = b->cap = 0;
	return s;
}

void sw_buf_free(struct sw_buf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}

void sw_err(const char *fmt, ...)
{
	va_list ap;

	fputs("stallwatch: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void sw_die(int status, const char *fmt, ...)
{
	va_list ap;

	fputs("stallwatch: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

/* Terminal text is escaped by sw_term_text (html_escape.c), the one
 * sanitizer: controls, C1, U+2028/9 and invalid UTF-8 become '?'. */
void sw_puts_safe(FILE *out, const char *s, const char *fallback)
{
	if (!s) {
		fputs(fallback ? fallback : "", out);
		return;
	}
	sw_term_text(out, s, 0);
}

char *sw_strdup_safe(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	if (!m)
		sw_die(2, "out of memory");
	if (s)
		sw_term_text(m, s, 0);
	if (fclose(m) != 0 || !buf)
		sw_die(2, "out of memory");
	return buf;
}

char *sw_fmt_duration(char *buf, size_t len, uint64_t ns)
{
	double v;
	const char *unit;

	if (ns < 1000) {
		snprintf(buf, len, "%llu ns", (unsigned long long)ns);
		return buf;
	}
	if (ns < 1000000)
		v = (double)ns / 1e3, unit = "us";
	else if (ns < 1000000000)
		v = (double)ns / 1e6, unit = "ms";
	else
		v = (double)ns / 1e9, unit = "s";
	/* Three significant digits at most: 1.23 ms, 12.3 ms, 250 ms. */
	if (v < 10)
		snprintf(buf, len, "%.2g %s", v, unit);
	else
		snprintf(buf, len, "%.0f %s", v, unit);
	return buf;
}
