/*
 * wrap_stdio.c - stdio output: fwrite, fputs, fputc/putc/putchar, puts,
 * the printf family and fflush, with the _unlocked and fortified (_chk)
 * entry points programs import.
 *
 * glibc's stdio reaches the kernel through its own internal write, which
 * no write() wrapper sees: a loop callback that logs with fprintf into a
 * slow pipe (memcached -vv, a C daemon's stderr) froze the loop with no
 * blocking call to show for it (doc/design.md, "Blocking that bypasses
 * the wrappers").  So the whole stdio call is timed, like any blocking
 * call, with the stream's fd.
 *
 * Only slow calls are recorded (SW_CAP_NO): most stdio calls only copy
 * into the buffer and cannot block, so strict mode does not count them.
 * A put or fwrite that fits in the room left in a fully buffered stream's
 * buffer never reaches the kernel and is not timed at all; the check reads
 * the public FILE fields the inline putc macro itself reads, without the
 * stream's lock (a stale read only decides whether to time the call).
 */
#undef _FORTIFY_SOURCE
#include "call.h"
#include "real.h"

#include <stdarg.h>
#include <stdio.h>

/* With optimisation glibc's headers make fwrite_unlocked a macro (and a
 * few puts extern inline functions, which a definition here may follow). */
#undef fwrite_unlocked

/* glibc's FILE flag for a line-buffered stream (libio.h, part of the FILE
 * ABI): its put area is kept empty so every put goes to the overflow. */
#define STDIO_LINE_BUF 0x0200

/* The fortified entry points glibc exports (declared only under
 * _FORTIFY_SOURCE). */
int __fprintf_chk(FILE *f, int flag, const char *fmt, ...);
int __printf_chk(int flag, const char *fmt, ...);

/* The stream's fd without fileno(), which takes the stream's lock. */
static inline int stream_fd(FILE *f)
{
	return f ? f->_fileno : -1;
}

/* Will `n` more bytes fit in the buffer without reaching the kernel? */
static inline int fits(FILE *f, size_t n)
{
	return f && !(f->_flags & STDIO_LINE_BUF) &&
	       f->_IO_write_ptr <= f->_IO_write_end &&
	       (size_t)(f->_IO_write_end - f->_IO_write_ptr) >= n;
}

/* Like SW_TIMED (call.h), with the call's own test for "cannot block". */
#define STDIO_TIMED(type, call, f, fast, real_call)                        \
	do {                                                               \
		struct sw_call_ctx c_;                                     \
		type r_;                                                   \
		if (sw_likely(!sw_tls.in_turn) || (fast) ||                \
		    !sw_call_enter(&c_))                                   \
			return real_call;                                  \
		r_ = real_call;                                            \
		sw_call_leave(&c_, call, stream_fd(f), SW_CAP_NO, caller); \
		return r_;                                                 \
	} while (0)

/* Bytes an fwrite asks for; an overflowing product never fits. */
static inline size_t fwrite_bytes(size_t size, size_t n)
{
	size_t total;

	return __builtin_mul_overflow(size, n, &total) ? (size_t)-1 : total;
}

SW_EXPORT size_t fwrite(const void *p, size_t size, size_t n, FILE *f)
{
	void *caller = SW_CALLER;

	STDIO_TIMED(size_t, SW_CALL_FWRITE, f, fits(f, fwrite_bytes(size, n)),
		    SW_REAL(fwrite)(p, size, n, f));
}

SW_EXPORT size_t fwrite_unlocked(const void *p, size_t size, size_t n, FILE *f)
{
	void *caller = SW_CALLER;

	STDIO_TIMED(size_t, SW_CALL_FWRITE, f, fits(f, fwrite_bytes(size, n)),
		    SW_REAL(fwrite_unlocked)(p, size, n, f));
}

SW_EXPORT int fputs(const char *s, FILE *f)
{
	void *caller = SW_CALLER;

	STDIO_TIMED(int, SW_CALL_FPUTS, f, 0, SW_REAL(fputs)(s, f));
}

SW_EXPORT int fputs_unlocked(const char *s, FILE *f)
{
	void *caller = SW_CALLER;

	STDIO_TIMED(int, SW_CALL_FPUTS, f, 0, SW_REAL(fputs_unlocked)(s, f));
}

SW_EXPORT int fputc(int ch, FILE *f)
{
	void *caller = SW_CALLER;

	STDIO_TIMED(int, SW_CALL_FPUTC, f, fits(f, 1), SW_REAL(fputc)(ch, f));
}

SW_EXPORT int fputc_unlocked(int ch, FILE *f)
{
	void *caller = SW_CALLER;

	STDIO_TIMED(int, SW_CALL_FPUTC, f, fits(f, 1),
		    SW_REAL(fputc_unlocked)(ch, f));
}

SW_EXPORT int putc(int ch, FILE *f)
{
	void *caller = SW_CALLER;

	STDIO_TIMED(int, SW_CALL_FPUTC, f, fits(f, 1), SW_REAL(putc)(ch, f));
}

SW_EXPORT int putc_unlocked(int ch, FILE *f)
{
	void *caller = SW_CALLER;

	STDIO_TIMED(int, SW_CALL_FPUTC, f, fits(f, 1),
		    SW_REAL(putc_unlocked)(ch, f));
}

SW_EXPORT int putchar(int ch)
{
	void *caller = SW_CALLER;

	STDIO_TIMED(int, SW_CALL_FPUTC, stdout, fits(stdout, 1),
		    SW_REAL(putchar)(ch));
}

SW_EXPORT int putchar_unlocked(int ch)
{
	void *caller = SW_CALLER;

	STDIO_TIMED(int, SW_CALL_FPUTC, stdout, fits(stdout, 1),
		    SW_REAL(putchar_unlocked)(ch));
}

SW_EXPORT int puts(const char *s)
{
	void *caller = SW_CALLER;

	STDIO_TIMED(int, SW_CALL_PUTS, stdout, 0, SW_REAL(puts)(s));
}

/* The printf family: the variadic forms become their va_list forms, which
 * glibc's own variadic forms also are; `caller` is the program's call. */
static int timed_vfprintf(FILE *f, const char *fmt, va_list ap, void *caller)
{
	STDIO_TIMED(int, SW_CALL_FPRINTF, f, 0, SW_REAL(vfprintf)(f, fmt, ap));
}

static int timed_vfprintf_chk(FILE *f, int flag, const char *fmt, va_list ap,
			      void *caller)
{
	STDIO_TIMED(int, SW_CALL_FPRINTF, f, 0,
		    SW_REAL(__vfprintf_chk)(f, flag, fmt, ap));
}

static int timed_vprintf(const char *fmt, va_list ap, void *caller)
{
	STDIO_TIMED(int, SW_CALL_PRINTF, stdout, 0, SW_REAL(vprintf)(fmt, ap));
}

static int timed_vprintf_chk(int flag, const char *fmt, va_list ap,
			     void *caller)
{
	STDIO_TIMED(int, SW_CALL_PRINTF, stdout, 0,
		    SW_REAL(__vprintf_chk)(flag, fmt, ap));
}

SW_EXPORT int fprintf(FILE *f, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = timed_vfprintf(f, fmt, ap, SW_CALLER);
	va_end(ap);
	return r;
}

SW_EXPORT int vfprintf(FILE *f, const char *fmt, va_list ap)
{
	return timed_vfprintf(f, fmt, ap, SW_CALLER);
}

SW_EXPORT int __fprintf_chk(FILE *f, int flag, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = timed_vfprintf_chk(f, flag, fmt, ap, SW_CALLER);
	va_end(ap);
	return r;
}

SW_EXPORT int __vfprintf_chk(FILE *f, int flag, const char *fmt, va_list ap)
{
	return timed_vfprintf_chk(f, flag, fmt, ap, SW_CALLER);
}

SW_EXPORT int printf(const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = timed_vprintf(fmt, ap, SW_CALLER);
	va_end(ap);
	return r;
}

SW_EXPORT int vprintf(const char *fmt, va_list ap)
{
	return timed_vprintf(fmt, ap, SW_CALLER);
}

SW_EXPORT int __printf_chk(int flag, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = timed_vprintf_chk(flag, fmt, ap, SW_CALLER);
	va_end(ap);
	return r;
}

SW_EXPORT int __vprintf_chk(int flag, const char *fmt, va_list ap)
{
	return timed_vprintf_chk(flag, fmt, ap, SW_CALLER);
}

/* fflush(NULL) flushes every stream: no single fd. */
SW_EXPORT int fflush(FILE *f)
{
	void *caller = SW_CALLER;

	STDIO_TIMED(int, SW_CALL_FFLUSH, f, 0, SW_REAL(fflush)(f));
}

SW_EXPORT int fflush_unlocked(FILE *f)
{
	void *caller = SW_CALLER;

	STDIO_TIMED(int, SW_CALL_FFLUSH, f, 0, SW_REAL(fflush_unlocked)(f));
}
