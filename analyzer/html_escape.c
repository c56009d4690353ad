/*
 * html_escape.c - escaping of hostile trace strings for the page, trace
 * viewer, JUnit and terminal writers (see html_escape.h).
 */
#include "html_escape.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "model.h"

int sw_utf8_next(const char *s, uint32_t *cp)
{
	/* A NUL byte is never a continuation byte: decoding stops there. */
	return sw_utf8_decode(s, SIZE_MAX, cp);
}

int sw_utf8_decode(const char *str, size_t avail, uint32_t *cp)
{
	const unsigned char *s = (const unsigned char *)str;
	uint32_t c = s[0], min;
	int len, i;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, c &= 0x1f, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, c &= 0x0f, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, c &= 0x07, min = 0x10000;
	else
		goto bad;
	if ((size_t)len > avail)
		goto bad;
	for (i = 1; i < len; i++) {
		/* a NUL byte fails this test, so we never read past the end */
		if ((s[i] & 0xc0) != 0x80)
			goto bad;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		goto bad;
	*cp = c;
	return len;
bad:
	*cp = 0xfffd;
	return 1;
}

void sw_json_ascii(FILE *out, const char *s)
{
	uint32_t cp;

	if (!s) {
		fputs("null", out);
		return;
	}
	fputc('"', out);
	while (*s) {
		s += sw_utf8_next(s, &cp);
		switch (cp) {
		case '"':
			fputs("\\\"", out);
			break;
		case '\\':
			fputs("\\\\", out);
			break;
		case '\n':
			fputs("\\n", out);
			break;
		case '\t':
			fputs("\\t", out);
			break;
		case '<':
		case '>':
		case '&':
		case '\'':
			fprintf(out, "\\u%04x", (unsigned)cp);
			break;
		default:
			if (cp >= 0x20 && cp < 0x7f) {
				fputc((int)cp, out);
			} else if (cp < 0x10000) {
				fprintf(out, "\\u%04x", (unsigned)cp);
			} else {
				cp -= 0x10000;
				fprintf(out, "\\u%04x\\u%04x",
					(unsigned)(0xd800 + (cp >> 10)),
					(unsigned)(0xdc00 + (cp & 0x3ff)));
			}
		}
	}
	fputc('"', out);
}

static void put_utf8(FILE *out, uint32_t cp)
{
	if (cp < 0x80) {
		fputc((int)cp, out);
	} else if (cp < 0x800) {
		fputc((int)(0xc0 | (cp >> 6)), out);
		fputc((int)(0x80 | (cp & 0x3f)), out);
	} else if (cp < 0x10000) {
		fputc((int)(0xe0 | (cp >> 12)), out);
		fputc((int)(0x80 | ((cp >> 6) & 0x3f)), out);
		fputc((int)(0x80 | (cp & 0x3f)), out);
	} else {
		fputc((int)(0xf0 | (cp >> 18)), out);
		fputc((int)(0x80 | ((cp >> 12) & 0x3f)), out);
		fputc((int)(0x80 | ((cp >> 6) & 0x3f)), out);
		fputc((int)(0x80 | (cp & 0x3f)), out);
	}
}

void sw_xml_text(FILE *out, const char *s)
{
	uint32_t cp;

	if (!s)
		return;
	while (*s) {
		s += sw_utf8_next(s, &cp);
		switch (cp) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		case '\'':
			fputs("&apos;", out);
			break;
		case '\n':
			fputs("&#10;", out);
			break;
		case '\t':
			fputs("&#9;", out);
			break;
		default:
			/* XML 1.0 forbids most C0 controls and U+FFFE/FFFF;
			 * C1 controls are legal but useless in a report */
			if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) ||
			    cp == 0xfffe || cp == 0xffff)
				cp = 0xfffd;
			put_utf8(out, cp);
		}
	}
}

void sw_term_text(FILE *out, const char *s, size_t max_bytes)
{
	const char *start = s;
	uint32_t cp;
	int n;

	if (!s)
		return;
	while (*s) {
		if (max_bytes && (size_t)(s - start) >= max_bytes) {
			fputs("...", out);
			return;
		}
		n = sw_utf8_next(s, &cp);
		if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp == 0x2028 ||
		    cp == 0x2029 || cp == 0xfffd)
			fputc('?', out);
		else
			fwrite(s, 1, (size_t)n, out);
		s += n;
	}
}

const char *sw_basename(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;

	return slash && slash[1] ? slash + 1 : path;
}

char *sw_frame_label(const struct sw_frame *f, char *buf, size_t len)
{
	const char *fn = f->function && *f->function ? f->function : NULL;

	if (f->lang == SW_LANG_PYTHON) {
		if (f->file && f->line > 0)
			snprintf(buf, len, "%s (%s:%d)", fn ? fn : "?", f->file,
				 f->line);
		else if (f->file)
			snprintf(buf, len, "%s (%s)", fn ? fn : "?", f->file);
		else
			snprintf(buf, len, "%s", fn ? fn : "[python]");
	} else if (fn) {
		snprintf(buf, len, "%s", fn);
	} else if (f->module && *f->module && f->rel_addr) {
		snprintf(buf, len, "[%s+0x%llx]", sw_basename(f->module),
			 (unsigned long long)f->rel_addr);
	} else if (f->module && *f->module) {
		snprintf(buf, len, "[%s]", sw_basename(f->module));
	} else {
		snprintf(buf, len, "[unknown]");
	}
	return buf;
}
