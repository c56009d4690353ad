/*
 * util.h - allocation that never returns NULL, growable strings, messages,
 * terminal-safe printing and human durations for the analyzer.
 */
#ifndef SW_UTIL_H
#define SW_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Allocation: abort with a message when memory runs out. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
/* xrealloc for arrays: checks n * size for overflow. */
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Grow an array *v of *cap elements so that it holds at least need. */
#define SW_GROW(v, n, cap)                                             \
	do {                                                           \
		if ((n) >= (cap)) {                                    \
			(cap) = (cap) ? (cap)*2 : 16;                  \
			(v) = xreallocarray((v), (cap), sizeof(*(v))); \
		}                                                      \
	} while (0)

/* A growable NUL-terminated string. */
struct sw_buf {
	char *s;
	size_t len, cap;
};
void sw_buf_add(struct sw_buf *b, const char *s, size_t n);
void sw_buf_puts(struct sw_buf *b, const char *s);
void sw_buf_printf(struct sw_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The string (never NULL), still owned by the buffer. */
const char *sw_buf_str(const struct sw_buf *b);
/* Hand the string to the caller and reset the buffer. */
char *sw_buf_take(struct sw_buf *b);
void sw_buf_free(struct sw_buf *b);

/* "stallwatch: message" on stderr. */
void sw_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same, then exit(status). */
void sw_die(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

/*
 * Write a string from a trace to a terminal or text file: control
 * characters (C0, DEL, C1) become '?', so escape sequences cannot reach
 * the terminal; invalid UTF-8 bytes become '?'.  NULL writes `fallback`.
 */
void sw_puts_safe(FILE *out, const char *s, const char *fallback);
/* The same into a new string (caller frees). */
char *sw_strdup_safe(const char *s);

/* A human duration: "850 ns", "12 us", "1.2 ms", "250 ms", "1.5 s". */
char *sw_fmt_duration(char *buf, size_t len, uint64_t ns);

#endif
