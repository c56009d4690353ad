/*
 * out_folded.c - `stallwatch report --format folded`: collapsed stacks for
 * flamegraph.pl, speedscope and inferno.
 *
 * One line per distinct stack (a site's variants): frames outermost first
 * joined by ';', a space, then the blocked or stalled time in microseconds
 * (flamegraph.pl --countname=us; rounded to the nearest, at least 1 for a
 * site that took any time, so that strict-mode sites of a few nanoseconds
 * stay visible).  The innermost frame is added
 * by us and names what the site is: "[blocking-call: clock_nanosleep]",
 * "[cpu-stall]", "[private-loop: epoll_wait]", "[gil-wait: ...]", so one
 * flame graph shows both where the loop blocked and on what.
 *
 * Frame names are hostile and the format has no quoting, so each one is
 * made safe: ';' becomes ':', controls and invalid UTF-8 become '?',
 * leading/trailing blanks are trimmed and an empty name is "[unknown]".
 * Sites whose lines come out identical are summed; lines are sorted.
 */
#include <stdlib.h>
#include <string.h>

#include "html_escape.h"
#include "model.h"

struct folded_line {
	char *stack;
	uint64_t us;
};

/* Append one sanitized frame name to the line being built. */
static void put_frame(FILE *out, const char *name)
{
	const char *end, *s = name;
	uint32_t cp;
	int n;

	while (*s == ' ')
		s++;
	end = s + strlen(s);
	while (end > s && end[-1] == ' ')
		end--;
	if (end == s) {
		fputs("[unknown]", out);
		return;
	}
	while (s < end) {
		n = sw_utf8_next(s, &cp);
		if (s + n > end)
			n = (int)(end - s);
		if (cp == ';')
			fputc(':', out);
		else if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0) ||
			 cp == 0x2028 || cp == 0x2029 || cp == 0xfffd)
			fputc('?', out);
		else
			fwrite(s, 1, (size_t)n, out);
		s += n;
	}
}

static char *site_stack(const struct sw_site *site,
			const struct sw_frame *frames, size_t nframes)
{
	char label[4096], *buf = NULL;
	size_t len = 0, i;
	FILE *m = open_memstream(&buf, &len);

	if (!m)
		return NULL;
	for (i = nframes; i-- > 0;) {
		put_frame(m, sw_frame_label(&frames[i], label, sizeof(label)));
		fputc(';', m);
	}
	if (site->kind == SW_SITE_CPU)
		snprintf(label, sizeof(label), "[%s]",
			 sw_site_kind_name(site->kind));
	else
		snprintf(label, sizeof(label), "[%s: %s]",
			 sw_site_kind_name(site->kind),
			 site->call ? site->call : "?");
	put_frame(m, label);
	if (fclose(m) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int by_stack(const void *a, const void *b)
{
	return strcmp(((const struct folded_line *)a)->stack,
		      ((const struct folded_line *)b)->stack);
}

int sw_write_folded(const struct sw_report *rep, FILE *out)
{
	struct folded_line *lines;
	size_t n = 0, cap = 0, i, j;
	int rc = -1;

	for (i = 0; i < rep->nsites; i++)
		cap += rep->sites[i].nvariants ? rep->sites[i].nvariants : 1;
	lines = calloc(cap ? cap : 1, sizeof(*lines));
	if (!lines)
		return -1;
	/* One line per raw stack (a site's variants), weighted by the time
	 * it stands for: blocked time, or CPU samples with their share of
	 * the CPU before a turn's first sample, so CPU stalls weigh what
	 * they cost, like blocking calls. */
	for (i = 0; i < rep->nsites; i++) {
		const struct sw_site *site = &rep->sites[i];
		size_t v, nv = site->nvariants ? site->nvariants : 1;

		for (v = 0; v < nv; v++) {
			const struct sw_variant *var =
			    site->nvariants ? &site->variants[v] : NULL;
			uint64_t ns = var ? var->total_ns : site->total_ns;

			if (!ns)
				continue;
			lines[n].stack =
			    var ? site_stack(site, var->frames, var->nframes)
				: site_stack(site, site->frames, site->nframes);
			if (!lines[n].stack)
				goto out;
			lines[n].us = (ns + 500) / 1000;
			if (!lines[n].us)
				lines[n].us = 1;
			n++;
		}
	}
	qsort(lines, n, sizeof(*lines), by_stack);
	for (i = 0; i < n; i = j) {
		uint64_t us = lines[i].us;

		for (j = i + 1;
		     j < n && !strcmp(lines[i].stack, lines[j].stack); j++)
			us += lines[j].us;
		fprintf(out, "%s %llu\n", lines[i].stack,
			(unsigned long long)us);
	}
	rc = ferror(out) ? -1 : 0;
out:
	for (i = 0; i < n; i++)
		free(lines[i].stack);
	free(lines);
	return rc;
}
