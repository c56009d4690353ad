/*
 * jsonw.c - JSON string escaping shared by the writers (see jsonw.h).
 */
#include "jsonw.h"

#include <math.h>
#include <string.h>

int sw_utf8_len(const unsigned char *s, size_t avail)
{
	unsigned char c = s[0];
	uint32_t cp;
	int n, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0; /* continuation byte, overlong lead or > U+10FFFF */
	if ((size_t)n > avail)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Reject overlong forms, surrogates and code points past Unicode. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

void sw_json_strn(FILE *out, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	putc('"', out);
	while (i < len) {
		unsigned char c = s[i];
		int n;

		switch (c) {
		case '"':
			fputs("\\\"", out);
			i++;
			continue;
		case '\\':
			fputs("\\\\", out);
			i++;
			continue;
		case '\n':
			fputs("\\n", out);
			i++;
			continue;
		case '\r':
			fputs("\\r", out);
			i++;
			continue;
		case '\t':
			fputs("\\t", out);
			i++;
			continue;
		case '\b':
			fputs("\\b", out);
			i++;
			continue;
		case '\f':
			fputs("\\f", out);
			i++;
			continue;
		default:
			break;
		}
		if (c < 0x20 || c == 0x7f) {
			fprintf(out, "\\u%04x", c);
			i++;
			continue;
		}
		n = sw_utf8_len(s + i, len - i);
		if (n == 0) {
			fputs("\\ufffd", out);
			i++;
			continue;
		}
		/* U+2028/2029 are valid JSON but break JavaScript parsers
		 * that embed it; escape them too. */
		if (n == 3 && c == 0xe2 && s[i + 1] == 0x80 &&
		    (s[i + 2] == 0xa8 || s[i + 2] == 0xa9)) {
			fprintf(out, "\\u%04x",
				s[i + 2] == 0xa8 ? 0x2028 : 0x2029);
			i += 3;
			continue;
		}
		fwrite(s + i, 1, (size_t)n, out);
		i += (size_t)n;
	}
	putc('"', out);
}

void sw_json_str(FILE *out, const char *s)
{
	if (!s) {
		fputs("null", out);
		return;
	}
	sw_json_strn(out, s, strlen(s));
}

void sw_json_u64(FILE *out, uint64_t v)
{
	fprintf(out, "%llu", (unsigned long long)v);
}

void sw_json_u64_or_null(FILE *out, uint64_t v, int known)
{
	if (known)
		sw_json_u64(out, v);
	else
		fputs("null", out);
}

void sw_json_double(FILE *out, double v, int digits)
{
	if (!isfinite(v)) {
		fputs("null", out);
		return;
	}
	fprintf(out, "%.*f", digits, v);
}
