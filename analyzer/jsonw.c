/*
 * jsonw.c - JSON string escaping shared by the writers (see jsonw.h).
 */
#include "jsonw.h"

#include "html_escape.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

void sw_json_strn(FILE *out, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	putc('"', out);
	while (i < len) {
		unsigned char c = s[i];
		uint32_t cp;
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
		n = sw_utf8_decode(str + i, len - i, &cp);
		if (cp == 0xfffd && n == 1) {
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
