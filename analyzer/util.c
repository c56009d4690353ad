/*
 * util.c - allocation, string buffers, messages, terminal-safe output.
 */
#include "util.h"

#include <stdlib.h>
#include <string.h>

#include "jsonw.h"

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

static void safe_into(const char *str,
		      void (*emit)(void *, const char *, size_t), void *ctx)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t len = strlen(str), i = 0;

	while (i < len) {
		int n = sw_utf8_len(s + i, len - i);

		if (n == 0 || s[i] < 0x20 || s[i] == 0x7f) {
			emit(ctx, "?", 1);
			i++;
			continue;
		}
		/* C1 controls (U+0080..U+009F) include CSI: strip them too. */
		if (n == 2 && s[i] == 0xc2 && s[i + 1] < 0xa0) {
			emit(ctx, "?", 1);
			i += 2;
			continue;
		}
		emit(ctx, (const char *)s + i, (size_t)n);
		i += (size_t)n;
	}
}

static void emit_file(void *ctx, const char *s, size_t n)
{
	fwrite(s, 1, n, (FILE *)ctx);
}

static void emit_buf(void *ctx, const char *s, size_t n)
{
	sw_buf_add(ctx, s, n);
}

void sw_puts_safe(FILE *out, const char *s, const char *fallback)
{
	if (!s) {
		fputs(fallback ? fallback : "", out);
		return;
	}
	safe_into(s, emit_file, out);
}

char *sw_strdup_safe(const char *s)
{
	struct sw_buf b = {0};

	if (s)
		safe_into(s, emit_buf, &b);
	return sw_buf_take(&b);
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
