/*
 * out_html.c - `stallwatch report --format html -o FILE`: one page that
 * works offline, with a summary per loop, a flame graph of the stalled
 * time (zoom, search, tooltips), a timeline of stalls per loop thread and
 * the table of top sites.
 *
 * The page is static markup with no trace string in it, the report as
 * JSON in a <script type="application/json"> block, and a script
 * (analyzer/html/page.js) that builds the DOM from it with textContent.  The
 * JSON is written ASCII-only with `<`, `>`, `&`, `'` and U+2028/2029 as \uXXXX
 * (sw_json_ascii), so no trace string can close the block or open a
 * comment, and the page's Content-Security-Policy lets it load nothing.
 *
 * Times in the page are milliseconds from the earliest process's start
 * (small numbers: JavaScript doubles keep them exact), one axis for all
 * processes; durations are nanoseconds.
 */
#include <inttypes.h>
#include <stdlib.h>

#include "html_escape.h"
#include "html_page.h"
#include "model.h"
#include "source.h"

/* Events outside any stall that the page carries (ticks on the timeline);
 * events inside stalls are always kept: the stall details list them. */
#define HTML_MAX_LOOSE_EVENTS 20000
/* Sites the page carries (the top ones: sites are ranked by total time);
 * a page stays loadable however many distinct stacks a run had. */
#define HTML_MAX_SITES 5000
/* Sites whose source line is read (the table shows the first 100): a
 * trace cannot make the report read one file thousands of times. */
#define HTML_MAX_SOURCES 100
/* Stacks listed per site (the JSON format has all of them). */
#define HTML_MAX_VARIANTS 20

static const char *lang_name(enum sw_lang lang)
{
	return lang == SW_LANG_PYTHON ? "python"
	       : lang == SW_LANG_JS   ? "js"
				      : "native";
}

static void key(FILE *out, int *first, const char *name)
{
	fprintf(out, "%s\"%s\":", *first ? "" : ",", name);
	*first = 0;
}

static void kv_str(FILE *out, int *first, const char *name, const char *v)
{
	key(out, first, name);
	sw_json_ascii(out, v);
}

static void kv_u64(FILE *out, int *first, const char *name, uint64_t v)
{
	key(out, first, name);
	fprintf(out, "%" PRIu64, v);
}

static void kv_ms(FILE *out, int *first, const char *name, uint64_t ns,
		  uint64_t origin)
{
	key(out, first, name);
	fprintf(out, "%.3f", ns > origin ? (double)(ns - origin) / 1e6 : 0.0);
}

/* The instant each process's page times count from. */
static uint64_t process_origin(const struct sw_report *rep, size_t pi)
{
	const struct sw_process *p = &rep->processes[pi];
	uint64_t o = p->start_mono_ns ? p->start_mono_ns : UINT64_MAX;
	size_t i;

	for (i = 0; i < p->nloops; i++)
		if (p->loops[i].born_ns && p->loops[i].born_ns < o)
			o = p->loops[i].born_ns;
	for (i = 0; i < rep->nstalls; i++)
		if (rep->stalls[i].process == pi && rep->stalls[i].start_ns < o)
			o = rep->stalls[i].start_ns;
	for (i = 0; i < rep->nevents; i++)
		if (rep->events[i].process == pi && rep->events[i].start_ns < o)
			o = rep->events[i].start_ns;
	return o == UINT64_MAX ? 0 : o;
}

static void put_frame(FILE *out, const struct sw_frame *f)
{
	char label[4200];
	int first = 1;

	fputc('{', out);
	kv_str(out, &first, "lang", lang_name(f->lang));
	kv_str(out, &first, "function", f->function);
	kv_str(out, &first, "file", f->file);
	kv_u64(out, &first, "line", f->line > 0 ? (uint64_t)f->line : 0);
	kv_str(out, &first, "module", f->module);
	kv_str(out, &first, "label", sw_frame_label(f, label, sizeof(label)));
	kv_u64(out, &first, "app", f->in_app ? 1 : 0);
	fputc('}', out);
}

static void put_frames(FILE *out, const struct sw_frame *f, size_t n)
{
	size_t i;

	fputc('[', out);
	for (i = 0; i < n; i++) {
		if (i)
			fputc(',', out);
		put_frame(out, &f[i]);
	}
	fputc(']', out);
}

/* One site: its place (with the source line's text, read now), the
 * frames of its heaviest stacks (the page shows in-app frames first). */
static void put_site(FILE *out, const struct sw_site *s, int with_source)
{
	const struct sw_place *pl = &s->place;
	char buf[4200],
	    *src = with_source ? sw_source_line(pl->file, pl->line) : NULL;
	int first = 1;
	size_t i;

	fputc('{', out);
	kv_str(out, &first, "kind", sw_site_kind_name(s->kind));
	kv_str(out, &first, "call", s->call);
	kv_u64(out, &first, "count", s->count);
	kv_u64(out, &first, "total_ns", s->total_ns);
	kv_u64(out, &first, "max_ns", s->max_ns);
	kv_u64(out, &first, "strict_only", s->strict_only ? 1 : 0);
	kv_str(out, &first, "place", pl->text);
	kv_u64(out, &first, "app", pl->in_app ? 1 : 0);
	if (pl->file && pl->line > 0)
		snprintf(buf, sizeof(buf), "%s:%d", pl->file, pl->line);
	else if (pl->file)
		snprintf(buf, sizeof(buf), "%s", pl->file);
	else
		buf[0] = 0;
	kv_str(out, &first, "loc", buf[0] ? buf : NULL);
	kv_str(out, &first, "src", src);
	kv_str(out, &first, "func", pl->function);
	kv_str(out, &first, "test", s->test);
	key(out, &first, "frames");
	put_frames(out, s->frames, s->nframes);
	key(out, &first, "variants");
	fputc('[', out);
	for (i = 0; i < s->nvariants && i < HTML_MAX_VARIANTS; i++) {
		int vf = 1;

		fputs(i ? ",{" : "{", out);
		kv_u64(out, &vf, "count", s->variants[i].count);
		kv_u64(out, &vf, "total_ns", s->variants[i].total_ns);
		/* each stack of the top places, for the flame graph (the
		 * first is the site's own frames) */
		if (with_source && i > 0) {
			key(out, &vf, "frames");
			put_frames(out, s->variants[i].frames,
				   s->variants[i].nframes);
		}
		fputc('}', out);
	}
	fputs("]}", out);
	free(src);
}

static void put_process(FILE *out, const struct sw_process *p, uint64_t origin)
{
	int first = 1;
	size_t i;

	fputc('{', out);
	kv_u64(out, &first, "pid", p->pid);
	kv_u64(out, &first, "ppid", p->ppid);
	kv_str(out, &first, "command", p->command);
	kv_str(out, &first, "comm", p->comm);
	kv_str(out, &first, "exe", p->exe);
	kv_str(out, &first, "trace", p->trace_path);
	kv_u64(out, &first, "threshold_ns", p->threshold_ns);
	kv_u64(out, &first, "strict", p->strict ? 1 : 0);
	key(out, &first, "loops");
	fputc('[', out);
	for (i = 0; i < p->nloops; i++) {
		const struct sw_loop *l = &p->loops[i];
		int lf = 1;

		fputs(i ? ",{" : "{", out);
		kv_u64(out, &lf, "loop_id", l->loop_id);
		kv_u64(out, &lf, "tid", l->tid);
		kv_str(out, &lf, "thread_name", l->thread_name);
		kv_u64(out, &lf, "turns", l->turns);
		kv_u64(out, &lf, "busy_ns", l->busy_ns);
		kv_u64(out, &lf, "stalls", l->stalls);
		kv_u64(out, &lf, "max_turn_ns", l->max_turn_ns);
		kv_u64(out, &lf, "lag_p50_ns", l->lag_p50_ns);
		kv_u64(out, &lf, "lag_p99_ns", l->lag_p99_ns);
		kv_u64(out, &lf, "lag_max_ns", l->lag_max_ns);
		key(out, &lf, "utilisation");
		fprintf(out, "%.4f",
			l->utilisation >= 0 && l->utilisation <= 1
			    ? l->utilisation
			    : 0.0);
		kv_ms(out, &lf, "born_ms", l->born_ns, origin);
		kv_ms(out, &lf, "last_ms", l->last_ns ? l->last_ns : l->born_ns,
		      origin);
		fputc('}', out);
	}
	fputs("]}", out);
}

static void put_data(FILE *out, const struct sw_report *rep,
		     const uint64_t *origin)
{
	size_t nsites =
	    rep->nsites < HTML_MAX_SITES ? rep->nsites : HTML_MAX_SITES;
	size_t i, j, loose = 0, notes = 0;
	int first;

	fputs("{\"version\":1,\"processes\":[", out);
	for (i = 0; i < rep->nprocesses; i++) {
		if (i)
			fputc(',', out);
		put_process(out, &rep->processes[i], origin[i]);
	}
	fputs("],\n\"sites\":[", out);
	for (i = 0; i < nsites; i++) {
		if (i)
			fputs(",\n", out);
		put_site(out, &rep->sites[i], i < HTML_MAX_SOURCES);
	}
	fputs("],\n\"stalls\":[", out);
	for (i = 0; i < rep->nstalls; i++) {
		const struct sw_stall *st = &rep->stalls[i];
		uint64_t o =
		    st->process < rep->nprocesses ? origin[st->process] : 0;
		size_t n = 0;

		/* every stall is written, even a damaged one: events refer
		 * to stalls by index */
		first = 1;
		fputs(i ? ",\n{" : "{", out);
		kv_u64(out, &first, "p", st->process);
		kv_u64(out, &first, "loop", st->loop);
		kv_u64(out, &first, "tid", st->tid);
		kv_ms(out, &first, "start_ms", st->start_ns, o);
		kv_u64(out, &first, "dur_ns", st->duration_ns);
		kv_u64(out, &first, "blocked_ns", st->blocked_ns);
		kv_u64(out, &first, "cpu_ns", st->cpu_ns);
		kv_u64(out, &first, "off_cpu_ns", st->off_cpu_ns);
		kv_str(out, &first, "test", st->test);
		key(out, &first, "sites");
		fputc('[', out);
		for (j = 0; j < st->nsites; j++)
			if (st->sites[j] < nsites)
				fprintf(out, "%s%zu", n++ ? "," : "",
					st->sites[j]);
		fputs("]}", out);
	}
	fputs("],\n\"events\":[", out);
	first = 1;
	for (i = 0; i < rep->nevents; i++) {
		const struct sw_event *ev = &rep->events[i];
		int ef = 1;

		if (ev->process >= rep->nprocesses || ev->site >= nsites)
			continue;
		if (ev->stall < 0 && ++loose > HTML_MAX_LOOSE_EVENTS)
			continue;
		fputs(first ? "{" : ",\n{", out);
		first = 0;
		kv_u64(out, &ef, "p", ev->process);
		kv_u64(out, &ef, "tid", ev->tid);
		kv_ms(out, &ef, "start_ms", ev->start_ns, origin[ev->process]);
		kv_u64(out, &ef, "dur_ns", ev->duration_ns);
		kv_u64(out, &ef, "site", ev->site);
		key(out, &ef, "stall");
		fprintf(out, "%ld",
			ev->stall >= 0 && (size_t)ev->stall < rep->nstalls
			    ? ev->stall
			    : -1L);
		kv_u64(out, &ef, "count", ev->count);
		fputc('}', out);
	}
	fputs("],\n\"notes\":[", out);
	for (i = 0; i < rep->nnotes; i++) {
		if (notes++)
			fputc(',', out);
		sw_json_ascii(out, rep->notes[i]);
	}
	if (loose > HTML_MAX_LOOSE_EVENTS) {
		char note[160];

		snprintf(note, sizeof(note),
			 "the timeline shows %d of %zu blocking calls outside "
			 "stalls",
			 HTML_MAX_LOOSE_EVENTS, loose);
		if (notes++)
			fputc(',', out);
		sw_json_ascii(out, note);
	}
	if (nsites < rep->nsites) {
		char note[160];

		snprintf(note, sizeof(note),
			 "this page shows the top %zu of %zu sites; the json "
			 "format has all",
			 nsites, rep->nsites);
		if (notes++)
			fputc(',', out);
		sw_json_ascii(out, note);
	}
	fputs("]}", out);
}

static const char page_head[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    /* nothing may be fetched: no script, style, font or image from
     * anywhere, whatever a trace string managed to become */
    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
    "'none'; "
    "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<meta name=\"generator\" content=\"stallwatch\">\n"
    "<title>stallwatch report</title>\n"
    "<script>window.swErrors = 0; window.addEventListener('error', function () "
    "{ window.swErrors++; });</script>\n"
    "<style>\n";

/* Stalls and the places that caused them first; the flame graph, the
 * loops and the notes after. */
static const char page_body[] =
    "</style>\n</head>\n<body>\n"
    "<h1>stallwatch report</h1>\n<div class=\"sub\" id=\"sub\"></div>\n"
    "<div id=\"verdict\"></div>\n"
    "<h2>Stalls over time</h2>\n"
    "<div class=\"legend sub\"><span><i class=\"k-blocking-call\"></i>blocking "
    "call</span>"
    "<span><i class=\"k-cpu-stall\"></i>CPU</span>"
    "<span><i class=\"k-private-loop\"></i>private loop</span>"
    "<span><i class=\"k-gil-wait\"></i>GIL wait</span>"
    "<span><i class=\"k-none\"></i>unexplained</span>"
    "<span>ticks: blocking calls outside stalls</span></div>\n"
    "<div id=\"timeline\"></div>\n"
    "<div id=\"detail\"><span class=\"sub\">Click a stall or a place to see "
    "its stacks.</span></div>\n"
    "<h2>Places</h2>\n"
    "<table><thead><tr><th class=\"num\">#</th><th>Kind</th><th>Place</th>"
    "<th class=\"num\">Count</th><th class=\"num\">Total</th><th "
    "class=\"num\">Max</th><th>Source</th><th>Test</th></tr></thead><tbody "
    "id=\"sites\"></tbody></table>\n"
    "<h2>Where the blocked and stalled time went</h2>\n"
    "<div class=\"tools\"><input id=\"search\" type=\"search\" "
    "placeholder=\"search frames\" "
    "aria-label=\"search frames\"><span id=\"search-info\"></span>"
    "<button id=\"reset\" type=\"button\">reset zoom</button>"
    "<label><input id=\"apponly\" type=\"checkbox\" checked> the program's "
    "frames only</label>"
    "<span id=\"flame-info\" class=\"sub\"></span></div>\n"
    "<div id=\"flame\"></div>\n"
    "<h2>Event loops</h2>\n"
    "<table><thead><tr><th>Process</th><th>Loop thread</th><th "
    "class=\"num\">Turns</th>"
    "<th class=\"num\">Utilisation</th><th class=\"num\">Lag p50</th>"
    "<th class=\"num\">Lag p99</th><th class=\"num\">Lag max</th>"
    "<th class=\"num\">Stalls</th><th class=\"num\">Threshold</th></tr></thead>"
    "<tbody id=\"procs\"></tbody></table>\n"
    "<div id=\"noloop\" class=\"sub\"></div>\n"
    "<div id=\"notes-box\"><h2>Notes</h2><ul id=\"notes\" "
    "class=\"notes\"></ul></div>\n"
    "<div id=\"tip\"></div>\n"
    "<script type=\"application/json\" id=\"sw-data\">";

int sw_write_html(const struct sw_report *rep, FILE *out)
{
	uint64_t *origin =
	    calloc(rep->nprocesses ? rep->nprocesses : 1, sizeof(*origin));
	uint64_t t0 = 0;
	size_t i;

	if (!origin)
		return -1;
	/* One time axis for the whole page: every process's times count
	 * from the earliest instant any of them saw (CLOCK_MONOTONIC is
	 * one clock for the machine). */
	for (i = 0; i < rep->nprocesses; i++) {
		origin[i] = process_origin(rep, i);
		if (origin[i] && (!t0 || origin[i] < t0))
			t0 = origin[i];
	}
	for (i = 0; i < rep->nprocesses; i++)
		origin[i] = t0;
	fputs(page_head, out);
	fwrite(sw_html_css, 1, sw_html_css_len, out);
	fputs(page_body, out);
	put_data(out, rep, origin);
	fputs("</script>\n<script>\n", out);
	fwrite(sw_html_js, 1, sw_html_js_len, out);
	fputs("</script>\n</body>\n</html>\n", out);
	free(origin);
	return ferror(out) ? -1 : 0;
}
