/*
 * html_escape.h - the analyzer's one UTF-8 decoder, and escaping for the
 * report writers that embed trace strings
 * in a page, a trace-viewer file, JUnit XML or a terminal line.
 *
 * Every string in a report came from a trace file and is hostile: it may
 * hold markup, quotes, control characters or bytes that are not UTF-8.
 * These helpers never pass such bytes through: invalid UTF-8 becomes
 * U+FFFD, and each output form escapes what its reader would interpret.
 */
#ifndef SW_HTML_ESCAPE_H
#define SW_HTML_ESCAPE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * Decode one UTF-8 sequence at s (which is not at its NUL).  Returns the
 * number of bytes consumed (>= 1) and the code point in *cp; an invalid,
 * overlong, surrogate or truncated sequence consumes one byte and yields
 * U+FFFD.
 */
int sw_utf8_next(const char *s, uint32_t *cp);
/* The same for s[0..avail) (which may hold NUL bytes): the one UTF-8
 * decoder of the analyzer. */
int sw_utf8_decode(const char *s, size_t avail, uint32_t *cp);

/*
 * A JSON string literal made only of printable ASCII: quotes, backslash
 * and controls escaped, `<`, `>`, `&` and every non-ASCII code point
 * (so U+2028/U+2029 too) written as \uXXXX.  Safe inside an HTML
 * <script> block and valid for any JSON parser.  NULL writes null.
 */
void sw_json_ascii(FILE *out, const char *s);

/* XML 1.0 character data or attribute value: & < > " ' escaped, controls
 * and invalid UTF-8 replaced by U+FFFD.  NULL writes nothing. */
void sw_xml_text(FILE *out, const char *s);

/* A terminal/CI log: controls (C0, DEL, C1, U+2028/9) and invalid UTF-8
 * become '?'.  At most max_bytes of input (0: all); "..." marks a cut. */
void sw_term_text(FILE *out, const char *s, size_t max_bytes);

/*
 * A frame as one line for flame graphs and viewers: Python frames as
 * "function (file:line)", others by function name; an unnamed native
 * frame as "[module basename]", else "[unknown]".  Raw bytes: callers
 * still escape for their format.  Returns buf.
 */
struct sw_frame;
char *sw_frame_label(const struct sw_frame *f, char *buf, size_t len);

/* Last path component of a path (the path itself when it has no '/'). */
const char *sw_basename(const char *path);

#endif
