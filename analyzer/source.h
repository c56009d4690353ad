/*
 * source.h - the text of a source line, read at report time.
 *
 * Only for Python and JavaScript files that exist and are regular files:
 * bounded in file size, line number and line length, so a report on a
 * hostile trace cannot be made to read a device or a huge file.  The text
 * is raw bytes from the file: writers escape it like any trace string.
 */
#ifndef SW_SOURCE_H
#define SW_SOURCE_H

/* The line (1-based) of file, leading and trailing blanks removed; NULL
 * when unknown, unreadable or not a .py/.js/.mjs/.cjs/.ts file.  Caller
 * frees. */
char *sw_source_line(const char *file, int line);

#endif
