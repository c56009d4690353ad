/*
 * jsonw.h - JSON string escaping (and small JSON helpers) for the writers.
 *
 * Every string in a report came from a trace file and is hostile: it may
 * hold quotes, control characters or bytes that are not UTF-8.  The
 * escapers here always produce valid output whatever the input.
 */
#ifndef SW_JSONW_H
#define SW_JSONW_H

#include <stdint.h>
#include <stdio.h>

/* A quoted JSON string: ", \ and control characters escaped (\uXXXX, or
 * the short forms \n \t ...), invalid UTF-8 bytes replaced by U+FFFD (so
 * the output is always valid JSON).  NULL writes `null`. */
void sw_json_str(FILE *out, const char *s);
/* The same for s[0..len) (may hold NUL bytes, escaped as \u0000). */
void sw_json_strn(FILE *out, const char *s, size_t len);

/* An unsigned integer, or `null` when `known` is 0. */
void sw_json_u64(FILE *out, uint64_t v);
void sw_json_u64_or_null(FILE *out, uint64_t v, int known);
/* A finite double with `digits` decimals; NaN/inf as null. */
void sw_json_double(FILE *out, double v, int digits);

#endif
