/*
 * out_text.c - the report for people: loops, long stalls, top sites.
 *
 * Every string from a trace goes through sw_puts_safe: a crafted function
 * or file name must not be able to send escape sequences to a terminal.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "util.h"

#define MAX_STALLS_SHOWN 20
#define MAX_SITES_SHOWN	 30
#define MAX_FRAMES_SHOWN 40

static const char *bold(int color)
{
	return color ? "\033[1m" : "";
}

static const char *plain(int color)
{
	return color ? "\033[0m" : "";
}

static void put_frame(FILE *out, const struct sw_frame *f)
{
	if (f->lang == SW_LANG_PYTHON) {
		sw_puts_safe(out, f->function, "?");
		fputs(" (", out);
		sw_puts_safe(out, f->file, "?");
		if (f->line > 0)
			fprintf(out, ":%d", f->line);
		fputs(")", out);
		return;
	}
	sw_puts_safe(out, f->function, "??");
	if (f->lang == SW_LANG_JS) {
		fputs(" [js]", out);
		return;
	}
	if (f->file) {
		fputs(" at ", out);
		sw_puts_safe(out, f->file, "?");
		if (f->line > 0)
			fprintf(out, ":%d", f->line);
	} else if (f->module) {
		const char *base = strrchr(f->module, '/');

		fputs(" [", out);
		sw_puts_safe(out, base ? base + 1 : f->module, "?");
		fprintf(out, "+0x%" PRIx64 "]", f->rel_addr);
	} else if (f->addr) {
		fprintf(out, " [0x%" PRIx64 "]", f->addr);
	}
	if (f->inlined)
		fputs(" (inlined)", out);
}

/* Frames with no name (a stripped interpreter's internals) carry no
 * information for a person: a run of them is folded into one line. */
static void put_stack(FILE *out, const struct sw_site *s, const char *indent)
{
	size_t i = 0, lines = 0;

	while (i < s->nframes && lines < MAX_FRAMES_SHOWN) {
		const struct sw_frame *f = &s->frames[i];
		size_t run = 0;

		while (i + run < s->nframes && !s->frames[i + run].function &&
		       s->frames[i + run].lang == SW_LANG_NATIVE)
			run++;
		fputs(indent, out);
		if (run > 1) {
			const char *mod =
			    f->module ? strrchr(f->module, '/') : NULL;

			fprintf(out, "... %zu unnamed frames", run);
			if (f->module) {
				fputs(" in ", out);
				sw_puts_safe(out, mod ? mod + 1 : f->module,
					     "?");
			}
			i += run;
		} else {
			put_frame(out, f);
			i++;
		}
		putc('\n', out);
		lines++;
	}
	if (i < s->nframes)
		fprintf(out, "%s... %zu more frames\n", indent, s->nframes - i);
	if (!s->nframes)
		fprintf(out, "%s(no stack)\n", indent);
}

static void put_loops(FILE *out, const struct sw_report *rep, int color)
{
	char a[32], b[32], c[32];
	size_t i, j, quiet = 0, shown = 0;

	for (i = 0; i < rep->nprocesses; i++) {
		const struct sw_process *p = &rep->processes[i];

		/* Processes without a loop (shells, helpers a service runs)
		 * are counted, not listed. */
		if (!p->nloops) {
			quiet++;
			continue;
		}
		fprintf(out, "%sprocess %u%s  ", bold(color), p->pid,
			plain(color));
		sw_puts_safe(out, p->command[0] ? p->command : p->comm, "?");
		fprintf(out, "\n  threshold %s, call threshold %s%s%s\n",
			sw_fmt_duration(a, sizeof(a), p->threshold_ns),
			sw_fmt_duration(b, sizeof(b), p->call_threshold_ns),
			p->strict ? ", strict" : "",
			p->clean_exit ? "" : ", no clean exit");
		for (j = 0; j < p->nloops; j++) {
			const struct sw_loop *l = &p->loops[j];

			fprintf(out, "  loop %u on thread %u", l->loop_id,
				l->tid);
			if (l->thread_name && l->thread_name[0]) {
				fputs(" (", out);
				sw_puts_safe(out, l->thread_name, "");
				fputs(")", out);
			}
			if (!l->hist) {
				fprintf(out,
					": %" PRIu64
					" stall%s, no heartbeat yet\n",
					l->stalls, l->stalls == 1 ? "" : "s");
				continue;
			}
			fprintf(out,
				": %" PRIu64
				" turns, %.1f%% busy, lag p50 %s p99 %s "
				"max %s, %" PRIu64 " stall%s\n",
				l->turns, l->utilisation * 100,
				sw_fmt_duration(a, sizeof(a), l->lag_p50_ns),
				sw_fmt_duration(b, sizeof(b), l->lag_p99_ns),
				sw_fmt_duration(c, sizeof(c), l->lag_max_ns),
				l->stalls, l->stalls == 1 ? "" : "s");
		}
	}
	if (!quiet)
		return;
	fprintf(out, "%s%zu process%s without an event loop:",
		quiet == rep->nprocesses ? "" : "and ", quiet,
		quiet == 1 ? "" : "es");
	for (i = 0; i < rep->nprocesses && shown < 8; i++) {
		if (rep->processes[i].nloops)
			continue;
		fputc(' ', out);
		sw_puts_safe(out, rep->processes[i].comm, "?");
		fprintf(out, "[%u]", rep->processes[i].pid);
		shown++;
	}
	fputs(quiet > shown ? " ...\n" : "\n", out);
}

/* Where a site happened, for one line: its innermost Python frame, else
 * its innermost named JS frame, else its innermost named native frame
 * (the caller of the blocking call, the sampled function). */
static const struct sw_frame *where_of(const struct sw_site *s)
{
	size_t k;

	for (k = 0; k < s->nframes; k++)
		if (s->frames[k].lang == SW_LANG_PYTHON)
			return &s->frames[k];
	for (k = 0; k < s->nframes; k++)
		if (s->frames[k].lang == SW_LANG_JS && s->frames[k].function)
			return &s->frames[k];
	for (k = 0; k < s->nframes; k++)
		if (s->frames[k].function)
			return &s->frames[k];
	return sw_site_location(s);
}

/* Is this Python frame in the interpreter's own library (asyncio, socket,
 * urllib) rather than in the program?  Installed packages are the
 * program's. */
static int is_stdlib_frame(const struct sw_frame *f)
{
	return f->lang == SW_LANG_PYTHON && f->file &&
	       strstr(f->file, "/lib/python") && !strstr(f->file, "-packages/");
}

/* When a site's location is inside the standard library (socket.py for a
 * urlopen), the program's own frame that called into it is what a person
 * wants to see next to it. */
static void put_caller_hint(FILE *out, const struct sw_site *s,
			    const struct sw_frame *loc)
{
	size_t k;

	if (!loc || !is_stdlib_frame(loc))
		return;
	for (k = (size_t)(loc - s->frames) + 1; k < s->nframes; k++) {
		const struct sw_frame *f = &s->frames[k];

		if (f->lang == SW_LANG_PYTHON && !is_stdlib_frame(f)) {
			fputs(", called from ", out);
			put_frame(out, f);
			return;
		}
	}
}

static int cmp_stall_dur(const void *x, const void *y)
{
	const struct sw_stall *a = *(const struct sw_stall *const *)x;
	const struct sw_stall *b = *(const struct sw_stall *const *)y;

	if (a->duration_ns != b->duration_ns)
		return a->duration_ns > b->duration_ns ? -1 : 1;
	return a->start_ns < b->start_ns ? -1 : a->start_ns > b->start_ns;
}

static void put_stalls(FILE *out, const struct sw_report *rep, int color)
{
	const struct sw_stall **v;
	char a[32], b[32], c[32], d[32];
	size_t i, n = rep->nstalls;

	if (!n)
		return;
	v = calloc(n, sizeof(*v));
	if (!v)
		return;
	for (i = 0; i < n; i++)
		v[i] = &rep->stalls[i];
	qsort(v, n, sizeof(*v), cmp_stall_dur);
	fprintf(out, "\n%sLongest stalls%s (%zu in all)\n", bold(color),
		plain(color), n);
	for (i = 0; i < n && i < MAX_STALLS_SHOWN; i++) {
		const struct sw_stall *st = v[i];
		const struct sw_process *p = &rep->processes[st->process];
		uint64_t other = st->duration_ns - st->blocked_ns - st->cpu_ns;
		double dur = st->duration_ns ? (double)st->duration_ns : 1;

		if (st->blocked_ns + st->cpu_ns > st->duration_ns)
			other = 0;
		fprintf(
		    out,
		    "  %s  pid %u tid %u at +%s: blocked %s (%.0f%%), cpu %s "
		    "(%.0f%%), unexplained %.0f%%\n",
		    sw_fmt_duration(a, sizeof(a), st->duration_ns), st->pid,
		    st->tid,
		    sw_fmt_duration(d, sizeof(d),
				    st->start_ns > p->start_mono_ns
					? st->start_ns - p->start_mono_ns
					: 0),
		    sw_fmt_duration(b, sizeof(b), st->blocked_ns),
		    100.0 * (double)st->blocked_ns / dur,
		    sw_fmt_duration(c, sizeof(c), st->cpu_ns),
		    100.0 * (double)st->cpu_ns / dur,
		    100.0 * (double)other / dur);
		if (st->nsites) {
			const struct sw_site *s = &rep->sites[st->sites[0]];
			const struct sw_frame *loc = where_of(s);

			fprintf(out, "      mostly site #%zu, %s %s",
				st->sites[0] + 1, sw_site_kind_name(s->kind),
				s->call);
			if (loc) {
				fputs(" in ", out);
				put_frame(out, loc);
				put_caller_hint(out, s, loc);
			}
			putc('\n', out);
		}
	}
	if (n > MAX_STALLS_SHOWN)
		fprintf(out, "  ... %zu more\n", n - MAX_STALLS_SHOWN);
	free(v);
}

static const char *kind_words(enum sw_site_kind k)
{
	switch (k) {
	case SW_SITE_CPU:
		return "the loop thread was busy on the CPU here (sampled)";
	case SW_SITE_PRIVATE_LOOP:
		return "a nested event loop ran here and blocked the outer "
		       "loop";
	case SW_SITE_GIL_WAIT:
		return "the loop thread waited for the Python GIL, held by "
		       "another thread";
	default:
		return NULL;
	}
}

/* Two sites at the same place: same kind, and their located frames name
 * the same function in the same file.  CPU samples of one hot function
 * land on several stacks (other lines, other interpreter internals); the
 * text report shows the first stack and lists the rest in one line each. */
static int same_place(const struct sw_site *a, const struct sw_site *b)
{
	const struct sw_frame *x = where_of(a), *y = where_of(b);

	if (a->kind != b->kind || !x || !y || !x->function || !y->function)
		return 0;
	if (strcmp(x->function, y->function) != 0)
		return 0;
	if (!x->file || !y->file)
		return !x->file && !y->file;
	return strcmp(x->file, y->file) == 0;
}

static void put_sites(FILE *out, const struct sw_report *rep, int color)
{
	char a[32], b[32];
	size_t i, j;

	fprintf(out, "\n%sSites by total time%s (%zu)\n", bold(color),
		plain(color), rep->nsites);
	if (!rep->nsites)
		fputs("  none: no blocking call or CPU stall was recorded\n",
		      out);
	for (i = 0; i < rep->nsites && i < MAX_SITES_SHOWN; i++) {
		const struct sw_site *s = &rep->sites[i];
		const struct sw_frame *loc = where_of(s);
		const char *words = kind_words(s->kind);

		for (j = 0; j < i; j++)
			if (same_place(&rep->sites[j], s))
				break;
		fprintf(out, "%s%s#%zu %s %s", j < i ? "" : "\n", bold(color),
			i + 1, sw_site_kind_name(s->kind), s->call);
		if (loc) {
			fputs(" in ", out);
			put_frame(out, loc);
			put_caller_hint(out, s, loc);
		}
		fprintf(out, "%s: %" PRIu64 " time%s, total %s, max %s%s",
			plain(color), s->count, s->count == 1 ? "" : "s",
			sw_fmt_duration(a, sizeof(a), s->total_ns),
			sw_fmt_duration(b, sizeof(b), s->max_ns),
			s->strict_only ? " (strict: could block)" : "");
		if (j < i) {
			fprintf(out, "; same place as #%zu, another stack\n",
				j + 1);
			continue;
		}
		putc('\n', out);
		if (words)
			fprintf(out, "   %s\n", words);
		put_stack(out, s, "    ");
	}
	if (rep->nsites > MAX_SITES_SHOWN)
		fprintf(out, "\n... %zu more sites (see --format json)\n",
			rep->nsites - MAX_SITES_SHOWN);
}

int sw_write_text(const struct sw_report *rep, FILE *out, int color)
{
	size_t i;

	fprintf(
	    out,
	    "%sstallwatch report%s: %zu process%s, %zu stall%s, %zu site%s\n\n",
	    bold(color), plain(color), rep->nprocesses,
	    rep->nprocesses == 1 ? "" : "es", rep->nstalls,
	    rep->nstalls == 1 ? "" : "s", rep->nsites,
	    rep->nsites == 1 ? "" : "s");
	put_loops(out, rep, color);
	put_stalls(out, rep, color);
	put_sites(out, rep, color);
	if (rep->nnotes) {
		fprintf(out, "\n%sNotes%s\n", bold(color), plain(color));
		for (i = 0; i < rep->nnotes; i++) {
			fputs("  - ", out);
			sw_puts_safe(out, rep->notes[i], "");
			putc('\n', out);
		}
	}
	return ferror(out) ? -1 : 0;
}
