/*
 * out_text.c - the report for people: loops, long stalls, top sites.
 *
 * Every string from a trace goes through sw_puts_safe: a crafted function
 * or file name must not be able to send escape sequences to a terminal.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../include/sw_trace.h"
#include "model.h"
#include "source.h"
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
static void put_stack(FILE *out, const struct sw_frame *fr, size_t n,
		      const char *indent)
{
	size_t i = 0, lines = 0;

	while (i < n && lines < MAX_FRAMES_SHOWN) {
		const struct sw_frame *f = &fr[i];
		size_t run = 0;

		while (i + run < n && !fr[i + run].function &&
		       fr[i + run].lang == SW_LANG_NATIVE)
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
			if (f->in_app)
				fputs("  [app]", out);
			i++;
		}
		putc('\n', out);
		lines++;
	}
	if (i < n)
		fprintf(out, "%s... %zu more frames\n", indent, n - i);
	if (!n)
		fprintf(out, "%s(no stack)\n", indent);
}

static uint64_t rel_ns(const struct sw_process *p, uint64_t t)
{
	return t > p->start_mono_ns ? t - p->start_mono_ns : 0;
}

/* "1.5 MB", "12 KB", "800 B". */
static char *fmt_bytes(char *buf, size_t len, uint64_t n)
{
	if (n >= 1024ull * 1024 * 1024)
		snprintf(buf, len, "%.1f GB", (double)n / (1 << 30));
	else if (n >= 1024 * 1024)
		snprintf(buf, len, "%.1f MB", (double)n / (1 << 20));
	else if (n >= 1024)
		snprintf(buf, len, "%.1f KB", (double)n / 1024);
	else
		snprintf(buf, len, "%llu B", (unsigned long long)n);
	return buf;
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
			!p->clean_exit ? ", no clean exit"
			: p->end_how == SW_END_UNDERSCORE
			    ? ", exited by _exit (no destructors ran)"
			    : "");
		if (p->rotations)
			fprintf(out,
				"  the size budget dropped %s of older data "
				"(+%s to +%s) in %u rotation%s\n",
				fmt_bytes(c, sizeof(c), p->dropped_bytes),
				sw_fmt_duration(a, sizeof(a),
						rel_ns(p, p->dropped_first_ns)),
				sw_fmt_duration(b, sizeof(b),
						rel_ns(p, p->dropped_last_ns)),
				p->rotations, p->rotations == 1 ? "" : "s");
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

static int cmp_stall(const void *x, const void *y)
{
	const struct sw_stall *a = *(const struct sw_stall *const *)x;
	const struct sw_stall *b = *(const struct sw_stall *const *)y;

	/* Grouped by test (stalls outside any test last), longest first. */
	if (a->test != b->test) {
		if (!a->test || !b->test)
			return a->test ? -1 : 1;
		return strcmp(a->test, b->test);
	}
	if (a->duration_ns != b->duration_ns)
		return a->duration_ns > b->duration_ns ? -1 : 1;
	return a->start_ns < b->start_ns ? -1 : a->start_ns > b->start_ns;
}

/* The source line's text under a headline, when the file is readable. */
static void put_source(FILE *out, const struct sw_place *pl, const char *indent)
{
	char *text = sw_source_line(pl->file, pl->line);

	if (!text)
		return;
	fputs(indent, out);
	fputs("> ", out);
	sw_puts_safe(out, text, "");
	putc('\n', out);
	free(text);
}

static void put_stalls(FILE *out, const struct sw_report *rep, int color)
{
	const struct sw_stall **v;
	const char *test = NULL;
	char a[32], b[32], c[32], d[32], e[32];
	size_t i, n = rep->nstalls;
	int tests = 0;

	if (!n)
		return;
	v = calloc(n, sizeof(*v));
	if (!v)
		return;
	for (i = 0; i < n; i++) {
		v[i] = &rep->stalls[i];
		tests |= v[i]->test != NULL;
	}
	qsort(v, n, sizeof(*v), cmp_stall);
	fprintf(out, "\n%sLongest stalls%s (%zu in all%s)\n", bold(color),
		plain(color), n, tests ? ", by test" : "");
	for (i = 0; i < n && i < MAX_STALLS_SHOWN; i++) {
		const struct sw_stall *st = v[i];
		const struct sw_process *p = &rep->processes[st->process];
		uint64_t known = st->blocked_ns + st->cpu_ns + st->off_cpu_ns;
		uint64_t other =
		    known < st->duration_ns ? st->duration_ns - known : 0;
		double dur = st->duration_ns ? (double)st->duration_ns : 1;

		if (tests && (i == 0 || st->test != test)) {
			fputs("  test ", out);
			sw_puts_safe(out, st->test, "(none)");
			putc('\n', out);
			test = st->test;
		}
		fprintf(
		    out,
		    "  %s  pid %u tid %u at +%s: blocked %s (%.0f%%), cpu %s "
		    "(%.0f%%), ",
		    sw_fmt_duration(a, sizeof(a), st->duration_ns), st->pid,
		    st->tid,
		    sw_fmt_duration(d, sizeof(d),
				    st->start_ns > p->start_mono_ns
					? st->start_ns - p->start_mono_ns
					: 0),
		    sw_fmt_duration(b, sizeof(b), st->blocked_ns),
		    100.0 * (double)st->blocked_ns / dur,
		    sw_fmt_duration(c, sizeof(c), st->cpu_ns),
		    100.0 * (double)st->cpu_ns / dur);
		/* Off CPU: the turn's CPU clock says the thread was not
		 * running, outside every call seen. */
		if (st->off_cpu_ns)
			fprintf(out, "off CPU %s (%.0f%%), ",
				sw_fmt_duration(e, sizeof(e), st->off_cpu_ns),
				100.0 * (double)st->off_cpu_ns / dur);
		fprintf(out, "unexplained %.0f%%\n",
			100.0 * (double)other / dur);
		if (st->nsites) {
			const struct sw_site *s = &rep->sites[st->sites[0]];

			fprintf(out, "      mostly site #%zu, %s: ",
				st->sites[0] + 1, sw_site_kind_name(s->kind));
			sw_puts_safe(out, s->place.text, "?");
			putc('\n', out);
			put_source(out, &s->place, "        ");
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

/* Sites that go to "also seen": short blocking calls that stalled no
 * turn, outside the program's own code. */
static char *brief_sites(const struct sw_report *rep)
{
	char *brief = calloc(rep->nsites ? rep->nsites : 1, 1);
	size_t i;

	if (!brief)
		return NULL;
	for (i = 0; i < rep->nsites; i++)
		brief[i] = rep->sites[i].kind == SW_SITE_BLOCKING &&
			   !rep->sites[i].place.in_app;
	for (i = 0; i < rep->nevents; i++)
		if (rep->events[i].stall >= 0 &&
		    rep->events[i].site < rep->nsites)
			brief[rep->events[i].site] = 0;
	return brief;
}

/* 1: V8's unnamed interpreter trampolines; 2: named JavaScript frames
 * (the perf map was there: then no hint). */
static int trampolines(const struct sw_site *s)
{
	size_t i;
	int r = 0;

	for (i = 0; i < s->nframes; i++) {
		if (s->frames[i].lang == SW_LANG_JS)
			return 2;
		if (s->frames[i].function &&
		    strstr(s->frames[i].function, "InterpreterEntryTrampoline"))
			r = 1;
	}
	return r;
}

static void put_site(FILE *out, const struct sw_site *s, size_t i,
		     const struct sw_text_opts *o)
{
	char a[32], b[32];
	const char *words = kind_words(s->kind);
	size_t k;

	fprintf(out, "\n%s#%zu %s ", bold(o->color), i + 1,
		sw_site_kind_name(s->kind));
	sw_puts_safe(out, s->place.text, "?");
	fprintf(out, "%s: %" PRIu64 " time%s, total %s, max %s%s\n",
		plain(o->color), s->count, s->count == 1 ? "" : "s",
		sw_fmt_duration(a, sizeof(a), s->total_ns),
		sw_fmt_duration(b, sizeof(b), s->max_ns),
		s->strict_only ? " (strict: could block)" : "");
	put_source(out, &s->place, "   ");
	if (s->place.file && s->place.line > 0) {
		fputs("   at ", out);
		sw_puts_safe(out, s->place.file, "?");
		fprintf(out, ":%d\n", s->place.line);
	}
	if (s->test) {
		fputs("   in test ", out);
		sw_puts_safe(out, s->test, "?");
		putc('\n', out);
	}
	if (words)
		fprintf(out, "   %s\n", words);
	for (k = 0; k < s->nvariants && k < o->stacks; k++) {
		const struct sw_variant *v = &s->variants[k];

		if (s->nvariants > 1)
			fprintf(out,
				"   stack %zu of %zu: %" PRIu64
				" time%s, total %s\n",
				k + 1, s->nvariants, v->count,
				v->count == 1 ? "" : "s",
				sw_fmt_duration(a, sizeof(a), v->total_ns));
		put_stack(out, v->frames, v->nframes, "    ");
	}
	if (s->nvariants > o->stacks)
		fprintf(out, "   ... %zu more stack%s (--stacks N)\n",
			s->nvariants - o->stacks,
			s->nvariants - o->stacks == 1 ? "" : "s");
}

static void put_sites(FILE *out, const struct sw_report *rep,
		      const struct sw_text_opts *o)
{
	char a[32];
	char *brief = brief_sites(rep);
	size_t i, shown = 0, nbrief = 0;
	int hint = 0;

	for (i = 0; i < rep->nsites; i++)
		nbrief += brief && brief[i];
	fprintf(out, "\n%sSites by total time%s (%zu)\n", bold(o->color),
		plain(o->color), rep->nsites - nbrief);
	if (rep->nsites == nbrief)
		fputs("  none: no blocking call or CPU stall in the program's "
		      "code\n",
		      out);
	for (i = 0; i < rep->nsites; i++) {
		if (brief && brief[i])
			continue;
		if (shown++ >= MAX_SITES_SHOWN)
			continue;
		put_site(out, &rep->sites[i], i, o);
		hint |= trampolines(&rep->sites[i]);
	}
	if (hint & 2) /* JavaScript frames were named: --js was on */
		hint = 0;
	if (shown > MAX_SITES_SHOWN)
		fprintf(out, "\n... %zu more sites (see --format json)\n",
			shown - MAX_SITES_SHOWN);
	if (hint)
		fputs("\nhint: JavaScript frames are unnamed "
		      "(Builtins_InterpreterEntryTrampoline): run node "
		      "under `stallwatch run --js` to name them\n",
		      out);
	if (nbrief) {
		fprintf(out,
			"\n%sAlso seen%s (short calls outside the program's "
			"code that stalled nothing)\n",
			bold(o->color), plain(o->color));
		for (i = 0, shown = 0; i < rep->nsites; i++) {
			const struct sw_site *s = &rep->sites[i];

			if (!brief[i] || shown++ >= MAX_SITES_SHOWN)
				continue;
			fprintf(out, "  #%zu ", i + 1);
			sw_puts_safe(out, s->place.text, "?");
			fprintf(out, ": %" PRIu64 " time%s, max %s\n", s->count,
				s->count == 1 ? "" : "s",
				sw_fmt_duration(a, sizeof(a), s->max_ns));
		}
	}
	free(brief);
}

int sw_write_text(const struct sw_report *rep, FILE *out, int color)
{
	struct sw_text_opts o = {.color = color, .stacks = 1};

	return sw_write_text_opts(rep, out, &o);
}

int sw_write_text_opts(const struct sw_report *rep, FILE *out,
		       const struct sw_text_opts *o)
{
	int color = o->color;
	size_t i;

	fprintf(
	    out,
	    "%sstallwatch report%s: %zu process%s, %zu stall%s, %zu site%s\n\n",
	    bold(color), plain(color), rep->nprocesses,
	    rep->nprocesses == 1 ? "" : "es", rep->nstalls,
	    rep->nstalls == 1 ? "" : "s", rep->nsites,
	    rep->nsites == 1 ? "" : "s");
	if (!rep->nstalls)
		fprintf(out,
			"%sno stall%s: no event loop turn went over its "
			"threshold\n\n",
			bold(color), plain(color));
	put_loops(out, rep, color);
	put_stalls(out, rep, color);
	put_sites(out, rep, o);
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
