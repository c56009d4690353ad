/*
 * out_chrome.c - `stallwatch report --format chrome`: Trace Event Format
 * JSON for Perfetto (ui.perfetto.dev) and chrome://tracing.
 *
 * Layout:
 *   - metadata ("ph":"M"): process_name per process ("python3 app.py"),
 *     thread_name per loop thread ("<comm> (event loop N)");
 *   - each stall: a complete event ("ph":"X") on its pid/tid named
 *     "stall: <call of its top site>", args: durations and its sites;
 *   - each blocking call, private loop or GIL wait: a complete event named
 *     after the call, nested inside its stall (clamped to the stall's
 *     bounds so viewers never see overlapping slices), or on its own when it
 *     happened in a turn below the stall threshold;
 *   - each CPU sample: an instant event ("ph":"i") with its stack.
 * Times are microseconds (3 decimals, so nanoseconds survive) from the
 * earliest process start among the traces, which share CLOCK_MONOTONIC.
 * Strings go through sw_json_str: valid JSON whatever bytes the trace held.
 */
#include <inttypes.h>
#include <string.h>

#include "html_escape.h"
#include "jsonw.h"
#include "model.h"

#define STACK_MAX 64 /* frames per event in args; the JSON report has all */

static void put_us(FILE *out, const char *key, uint64_t ns)
{
	fprintf(out, "\"%s\":%" PRIu64 ".%03u", key, ns / 1000,
		(unsigned)(ns % 1000));
}

static void put_ms(FILE *out, const char *key, uint64_t ns)
{
	fprintf(out, "\"%s\":%.3f", key, (double)ns / 1e6);
}

static void put_location(FILE *out, const struct sw_site *site)
{
	const struct sw_frame *loc = sw_site_location(site);
	char buf[4600];

	if (!loc) {
		fputs("null", out);
		return;
	}
	if (loc->file && loc->line > 0)
		snprintf(buf, sizeof(buf), "%s:%d", loc->file, loc->line);
	else if (loc->file)
		snprintf(buf, sizeof(buf), "%s", loc->file);
	else
		sw_frame_label(loc, buf, sizeof(buf));
	sw_json_str(out, buf);
}

static void put_stack(FILE *out, const struct sw_site *site)
{
	char label[4096];
	size_t i;

	fputc('[', out);
	for (i = 0; i < site->nframes && i < STACK_MAX; i++) {
		const struct sw_frame *f = &site->frames[i];

		if (i)
			fputc(',', out);
		sw_frame_label(f, label, sizeof(label));
		if (f->lang != SW_LANG_PYTHON && f->file) {
			size_t l = strlen(label);

			if (f->line > 0)
				snprintf(label + l, sizeof(label) - l,
					 " (%s:%d)", f->file, f->line);
			else
				snprintf(label + l, sizeof(label) - l, " (%s)",
					 f->file);
		}
		sw_json_str(out, label);
	}
	if (site->nframes > STACK_MAX)
		fputs(",\"...\"", out);
	fputc(']', out);
}

static void put_site_args(FILE *out, const struct sw_site *site)
{
	fputs("\"kind\":", out);
	sw_json_str(out, sw_site_kind_name(site->kind));
	fputs(",\"call\":", out);
	sw_json_str(out, site->call);
	fputs(",\"location\":", out);
	put_location(out, site);
	fputs(",\"stack\":", out);
	put_stack(out, site);
}

static void put_meta(FILE *out, int *first, const char *what, uint32_t pid,
		     uint32_t tid, const char *name)
{
	fprintf(out,
		"%s\n{\"ph\":\"M\",\"name\":\"%s\",\"pid\":%" PRIu32
		",\"tid\":%" PRIu32 ",\"args\":{\"name\":",
		*first ? "" : ",", what, pid, tid);
	sw_json_str(out, name);
	fputs("}}", out);
	*first = 0;
}

static void put_stall(FILE *out, const struct sw_report *rep,
		      const struct sw_stall *st, uint64_t origin)
{
	const struct sw_site *top = st->nsites && st->sites[0] < rep->nsites
					? &rep->sites[st->sites[0]]
					: NULL;
	char name[256];
	size_t i, n = 0;

	snprintf(name, sizeof(name), "stall: %s",
		 !top			    ? "unexplained"
		 : top->kind == SW_SITE_CPU ? "cpu"
		 : top->call		    ? top->call
					    : "?");
	fputs(",\n{\"ph\":\"X\",\"cat\":\"stall\",\"name\":", out);
	sw_json_str(out, name);
	fprintf(out, ",\"pid\":%" PRIu32 ",\"tid\":%" PRIu32 ",", st->pid,
		st->tid);
	put_us(out, "ts", st->start_ns - origin);
	fputc(',', out);
	put_us(out, "dur", st->duration_ns);
	fputs(",\"args\":{", out);
	put_ms(out, "duration_ms", st->duration_ns);
	fputc(',', out);
	put_ms(out, "blocked_ms", st->blocked_ns);
	fputc(',', out);
	put_ms(out, "cpu_ms", st->cpu_ns);
	fputs(",\"sites\":[", out);
	for (i = 0; i < st->nsites; i++) {
		if (st->sites[i] >= rep->nsites)
			continue;
		fputs(n++ ? ",{" : "{", out);
		put_site_args(out, &rep->sites[st->sites[i]]);
		fputc('}', out);
	}
	fputs("]}}", out);
}

static void put_event(FILE *out, const struct sw_report *rep,
		      const struct sw_event *ev, uint64_t origin)
{
	const struct sw_site *site = &rep->sites[ev->site];
	uint64_t start = ev->start_ns, end = ev->start_ns + ev->duration_ns;
	uint32_t pid = rep->processes[ev->process].pid;

	if (site->kind == SW_SITE_CPU) {
		fputs(",\n{\"ph\":\"i\",\"s\":\"t\",\"cat\":\"cpu-stall\","
		      "\"name\":\"cpu sample\"",
		      out);
		fprintf(out, ",\"pid\":%" PRIu32 ",\"tid\":%" PRIu32 ",", pid,
			ev->tid);
		put_us(out, "ts", start < origin ? 0 : start - origin);
		fputs(",\"args\":{", out);
		put_site_args(out, site);
		fputs("}}", out);
		return;
	}
	/* keep a call inside its stall: viewers reject partial overlaps */
	if (ev->stall >= 0 && (size_t)ev->stall < rep->nstalls) {
		const struct sw_stall *st = &rep->stalls[ev->stall];

		if (start < st->start_ns)
			start = st->start_ns;
		if (end > st->start_ns + st->duration_ns)
			end = st->start_ns + st->duration_ns;
		if (end < start)
			end = start;
	}
	if (start < origin)
		return;
	fputs(",\n{\"ph\":\"X\",\"cat\":", out);
	sw_json_str(out, sw_site_kind_name(site->kind));
	fputs(",\"name\":", out);
	sw_json_str(out, site->call ? site->call : "?");
	fprintf(out, ",\"pid\":%" PRIu32 ",\"tid\":%" PRIu32 ",", pid, ev->tid);
	put_us(out, "ts", start - origin);
	fputc(',', out);
	put_us(out, "dur", end - start);
	fputs(",\"args\":{", out);
	put_ms(out, "duration_ms", ev->duration_ns);
	fprintf(out, ",\"count\":%" PRIu32 ",", ev->count);
	put_site_args(out, site);
	fputs("}}", out);
}

int sw_write_chrome(const struct sw_report *rep, FILE *out)
{
	uint64_t origin = UINT64_MAX;
	int first = 1;
	size_t i, j;
	char name[256];

	/* the earliest instant anything happened: times are offsets from it */
	for (i = 0; i < rep->nprocesses; i++)
		if (rep->processes[i].start_mono_ns &&
		    rep->processes[i].start_mono_ns < origin)
			origin = rep->processes[i].start_mono_ns;
	for (i = 0; i < rep->nstalls; i++)
		if (rep->stalls[i].start_ns < origin)
			origin = rep->stalls[i].start_ns;
	for (i = 0; i < rep->nevents; i++)
		if (rep->events[i].start_ns < origin)
			origin = rep->events[i].start_ns;
	if (origin == UINT64_MAX)
		origin = 0;

	fputs("{\"displayTimeUnit\":\"ms\",\"otherData\":{\"generator\":"
	      "\"stallwatch\"},\n\"traceEvents\":[",
	      out);
	for (i = 0; i < rep->nprocesses; i++) {
		const struct sw_process *p = &rep->processes[i];

		put_meta(out, &first, "process_name", p->pid, 0,
			 p->command && *p->command ? p->command
			 : p->comm		   ? p->comm
						   : "?");
		for (j = 0; j < p->nloops; j++) {
			const struct sw_loop *l = &p->loops[j];

			snprintf(name, sizeof(name),
				 "%.64s (event loop %" PRIu32 ")",
				 l->thread_name && *l->thread_name
				     ? l->thread_name
				     : "thread",
				 l->loop_id);
			put_meta(out, &first, "thread_name", p->pid, l->tid,
				 name);
		}
	}
	if (first) /* no process: keep the array well-formed */
		fputs("\n{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":0,"
		      "\"tid\":0,\"args\":{\"name\":\"stallwatch\"}}",
		      out);
	for (i = 0; i < rep->nstalls; i++)
		if (rep->stalls[i].process < rep->nprocesses)
			put_stall(out, rep, &rep->stalls[i], origin);
	for (i = 0; i < rep->nevents; i++)
		if (rep->events[i].site < rep->nsites &&
		    rep->events[i].process < rep->nprocesses)
			put_event(out, rep, &rep->events[i], origin);
	fputs("\n]}\n", out);
	return ferror(out) ? -1 : 0;
}
