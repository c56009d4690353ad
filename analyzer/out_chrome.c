/*
 * out_chrome.c - `stallwatch report --format chrome`: Trace Event Format
 * JSON for Perfetto (ui.perfetto.dev), chrome://tracing and speedscope.
 *
 * Layout, chosen so that viewers aggregate identical stacks:
 *   - metadata ("ph":"M"): process_name per process, thread_name per loop
 *     thread ("<comm> (event loop N)");
 *   - each stall: a complete event ("ph":"X", cat "stall") named "stall";
 *   - inside it, each blocking call, private loop, GIL wait or CPU sample
 *     (a sample covers one sample interval) as a column of nested complete
 *     events, one per frame, outermost first, named by the frame only, then
 *     a leaf named after what it is ("[blocking-call: read]",
 *     "[cpu-stall]") that carries "sf": its stack in the top-level
 *     "stackFrames" table (Perfetto and chrome://tracing show it).
 *     No event has "args": speedscope names a slice "name + JSON(args)",
 *     so any per-event argument would keep equal frames apart.
 *   - events are sorted by time (then longer first, so parents precede
 *     their children) and never overlap on one thread.
 * Size cap: past max_bytes the shortest events (with their frame columns)
 * are dropped; "otherData" and a note on stderr say how many.
 * Times are microseconds (3 decimals) from the earliest process start.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "html_escape.h"
#include "intern.h"
#include "jsonw.h"
#include "model.h"
#include "util.h"

/* Frames per column; deeper stacks keep their innermost ones. */
#define STACK_MAX	      64
#define SW_CHROME_DEFAULT_MAX (64ull << 20)

struct item {
	uint64_t ts, dur; /* ns, already relative to the origin */
	long stall;	  /* index of the stall, or -1 for an event */
	size_t ev;	  /* index of the event */
	uint64_t bytes;	  /* its size in the output */
	int keep;
};

struct ctx {
	const struct sw_report *rep;
	struct sw_intern nodes; /* "parent\x1flabel" -> stack frame id */
	size_t *parent;		/* by node id: parent id + 1, 0 for a root */
	size_t nparent, capparent;
	struct sw_intern stacks; /* "site/variant" -> index into leaf */
	size_t *leaf;		 /* innermost node id of each stack */
	size_t nleaf, capleaf;
};

static void put_us(FILE *out, const char *key, uint64_t ns)
{
	fprintf(out, "\"%s\":%" PRIu64 ".%03u", key, ns / 1000,
		(unsigned)(ns % 1000));
}

static void frame_text(const struct sw_frame *f, char *buf, size_t len)
{
	size_t l;

	sw_frame_label(f, buf, len);
	if (f->lang != SW_LANG_PYTHON && f->file) {
		l = strlen(buf);
		if (f->line > 0)
			snprintf(buf + l, len - l, " (%s:%d)", f->file,
				 f->line);
		else
			snprintf(buf + l, len - l, " (%s)", f->file);
	}
}

static void leaf_text(const struct sw_site *s, char *buf, size_t len)
{
	if (s->kind == SW_SITE_CPU)
		snprintf(buf, len, "[%s]", sw_site_kind_name(s->kind));
	else
		snprintf(buf, len, "[%s: %s]", sw_site_kind_name(s->kind),
			 s->call ? s->call : "?");
}

/* The event's own stack (its variant: a site groups stacks by place),
 * cut to its STACK_MAX innermost frames, the ones nearest to what
 * blocked. */
static size_t ev_frames(const struct sw_report *rep, const struct sw_event *ev,
			const struct sw_frame **fr)
{
	const struct sw_site *s = &rep->sites[ev->site];
	size_t n = s->nframes;

	*fr = s->frames;
	if (ev->variant < s->nvariants) {
		*fr = s->variants[ev->variant].frames;
		n = s->variants[ev->variant].nframes;
	}
	return n > STACK_MAX ? STACK_MAX : n;
}

/* The stackFrames node of an event's innermost frame (built once per
 * stack). */
static size_t stack_node(struct ctx *c, const struct sw_event *ev)
{
	const struct sw_site *s = &c->rep->sites[ev->site];
	const struct sw_frame *fr;
	size_t n = ev_frames(c->rep, ev, &fr), i, parent = 0, id = 0, k;
	char label[4200], *key;
	int added;

	snprintf(label, sizeof(label), "%zu/%zu", ev->site, ev->variant);
	k = sw_intern(&c->stacks, label, &added);
	if (!added)
		return c->leaf[k];
	for (i = n; i-- > 0;) {
		frame_text(&fr[i], label, sizeof(label));
		key = xasprintf("%zu\x1f%s", parent, label);
		id = sw_intern(&c->nodes, key, &added);
		free(key);
		if (added) {
			SW_GROW(c->parent, c->nparent, c->capparent);
			c->parent[c->nparent++] = parent;
		}
		parent = id + 1;
	}
	if (!parent) { /* no stack at all: one node naming the kind */
		leaf_text(s, label, sizeof(label));
		key = xasprintf("0\x1f%s", label);
		id = sw_intern(&c->nodes, key, &added);
		free(key);
		if (added) {
			SW_GROW(c->parent, c->nparent, c->capparent);
			c->parent[c->nparent++] = 0;
		}
	}
	SW_GROW(c->leaf, c->nleaf, c->capleaf);
	c->leaf[c->nleaf++] = id;
	return id;
}

static void put_x(FILE *out, const char *cat, const char *name, uint32_t pid,
		  uint32_t tid, uint64_t ts, uint64_t dur)
{
	fputs(",\n{\"ph\":\"X\",\"cat\":\"", out);
	fputs(cat, out);
	fputs("\",\"name\":", out);
	sw_json_str(out, name);
	fprintf(out, ",\"pid\":%" PRIu32 ",\"tid\":%" PRIu32 ",", pid, tid);
	put_us(out, "ts", ts);
	fputc(',', out);
	put_us(out, "dur", dur);
}

static void put_item(FILE *out, struct ctx *c, const struct item *it)
{
	const struct sw_report *rep = c->rep;
	char label[4200];

	if (it->stall >= 0) {
		const struct sw_stall *st = &rep->stalls[it->stall];

		put_x(out, "stall", "stall", st->pid, st->tid, it->ts, it->dur);
		fputc('}', out);
	} else {
		const struct sw_event *ev = &rep->events[it->ev];
		const struct sw_site *s = &rep->sites[ev->site];
		uint32_t pid = rep->processes[ev->process].pid;
		const struct sw_frame *fr;
		size_t i = ev_frames(rep, ev, &fr);

		while (i-- > 0) {
			frame_text(&fr[i], label, sizeof(label));
			put_x(out, "frame", label, pid, ev->tid, it->ts,
			      it->dur);
			fputc('}', out);
		}
		leaf_text(s, label, sizeof(label));
		put_x(out, sw_site_kind_name(s->kind), label, pid, ev->tid,
		      it->ts, it->dur);
		fprintf(out, ",\"sf\":\"%zu\"}", stack_node(c, ev) + 1);
	}
}

static int item_cmp(const void *x, const void *y)
{
	const struct item *a = x, *b = y;

	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	if (a->dur != b->dur)
		return a->dur > b->dur ? -1 : 1;
	if ((a->stall >= 0) != (b->stall >= 0))
		return a->stall >= 0 ? -1 : 1;
	return a->ev < b->ev ? -1 : a->ev > b->ev;
}

static int dur_cmp(const void *x, const void *y)
{
	const struct item *a = *(struct item *const *)x,
			  *b = *(struct item *const *)y;

	return a->dur != b->dur ? (a->dur < b->dur ? -1 : 1)
				: (a < b ? -1 : a > b);
}

static ssize_t count_write(void *cookie, const char *buf, size_t n)
{
	(void)buf;
	*(uint64_t *)cookie += n;
	return (ssize_t)n;
}

/* Every event's span on its thread: clamped into its stall, after the
 * previous event of the thread, a sample covering one interval. */
static size_t build_items(const struct sw_report *rep, uint64_t origin,
			  struct item *items)
{
	size_t n = 0, i;
	struct {
		uint64_t tid_pid, end;
	} *last = xcalloc(rep->nprocesses + 1, 64 * sizeof(*last));
	size_t nlast = 0, caplast = (rep->nprocesses + 1) * 64;

	for (i = 0; i < rep->nstalls; i++) {
		const struct sw_stall *st = &rep->stalls[i];

		if (st->process >= rep->nprocesses || st->start_ns < origin)
			continue;
		items[n++] = (struct item){.ts = st->start_ns - origin,
					   .dur = st->duration_ns,
					   .stall = (long)i};
	}
	for (i = 0; i < rep->nevents; i++) {
		const struct sw_event *ev = &rep->events[i];
		const struct sw_process *p;
		uint64_t start = ev->start_ns, end, key;
		size_t k;

		if (ev->site >= rep->nsites || ev->process >= rep->nprocesses)
			continue;
		p = &rep->processes[ev->process];
		if (rep->sites[ev->site].kind == SW_SITE_CPU)
			end = start + (p->sample_interval_ns
					   ? p->sample_interval_ns
					   : ev->duration_ns);
		else
			end = start + ev->duration_ns;
		if (ev->stall >= 0 && (size_t)ev->stall < rep->nstalls) {
			const struct sw_stall *st = &rep->stalls[ev->stall];

			if (start < st->start_ns)
				start = st->start_ns;
			if (end > st->start_ns + st->duration_ns)
				end = st->start_ns + st->duration_ns;
		}
		key = (uint64_t)ev->process << 32 | ev->tid;
		for (k = 0; k < nlast && last[k].tid_pid != key; k++)
			;
		if (k == nlast) {
			if (nlast == caplast) {
				caplast *= 2;
				last =
				    xreallocarray(last, caplast, sizeof(*last));
			}
			last[nlast].tid_pid = key;
			last[nlast++].end = 0;
		}
		if (start < last[k].end)
			start = last[k].end;
		if (end <= start || start < origin)
			continue;
		last[k].end = end;
		items[n++] = (struct item){.ts = start - origin,
					   .dur = end - start,
					   .stall = -1,
					   .ev = i};
	}
	free(last);
	return n;
}

int sw_write_chrome_capped(const struct sw_report *rep, FILE *out,
			   uint64_t max_bytes)
{
	struct ctx c = {.rep = rep};
	uint64_t origin = UINT64_MAX, total = 0, counted = 0, dropped = 0;
	cookie_io_functions_t fns = {.write = count_write};
	struct item *items;
	size_t n, i, j;
	FILE *counter;
	int first = 1;
	char name[256];

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

	items = xcalloc(rep->nstalls + rep->nevents + 1, sizeof(*items));
	n = build_items(rep, origin, items);

	/* Pass 1: the size of every item, to apply the cap before writing. */
	counter = fopencookie(&counted, "w", fns);
	if (!counter)
		goto fail;
	for (i = 0; i < n; i++) {
		uint64_t before;

		fflush(counter);
		before = counted;
		put_item(counter, &c, &items[i]);
		fflush(counter);
		items[i].bytes = counted - before;
		items[i].keep = 1;
		total += items[i].bytes;
	}
	fclose(counter);
	if (max_bytes && total > max_bytes) {
		struct item **by_dur = xcalloc(n + 1, sizeof(*by_dur));

		for (i = 0; i < n; i++)
			by_dur[i] = &items[i];
		qsort(by_dur, n, sizeof(*by_dur), dur_cmp);
		for (i = 0; i < n && total > max_bytes; i++) {
			by_dur[i]->keep = 0;
			total -= by_dur[i]->bytes;
			dropped++;
		}
		free(by_dur);
		fprintf(stderr,
			"stallwatch: chrome: dropped the %" PRIu64
			" shortest of %zu events to stay under %" PRIu64
			" bytes (--chrome-max-size)\n",
			dropped, n, max_bytes);
	}
	for (i = j = 0; i < n; i++)
		if (items[i].keep)
			items[j++] = items[i];
	n = j;
	qsort(items, n, sizeof(*items), item_cmp);
	/* stackFrames for the kept events only: number them again */
	sw_intern_free(&c.nodes);
	sw_intern_free(&c.stacks);
	c.nparent = c.nleaf = 0;

	fprintf(out,
		"{\"displayTimeUnit\":\"ms\",\"otherData\":{\"generator\":"
		"\"stallwatch\",\"dropped_events\":%" PRIu64 "%s},\n",
		dropped,
		dropped ? ",\"note\":\"the shortest events were dropped to "
			  "respect the size cap (--chrome-max-size)\""
			: "");
	fputs("\"traceEvents\":[", out);
	for (i = 0; i < rep->nprocesses; i++) {
		const struct sw_process *p = &rep->processes[i];

		fprintf(out,
			"%s\n{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":"
			"%" PRIu32 ",\"tid\":0,\"args\":{\"name\":",
			first ? "" : ",", p->pid);
		sw_json_str(out, p->command && *p->command ? p->command
				 : p->comm		   ? p->comm
							   : "?");
		fputs("}}", out);
		first = 0;
		for (j = 0; j < p->nloops; j++) {
			const struct sw_loop *l = &p->loops[j];

			snprintf(name, sizeof(name),
				 "%.64s (event loop %" PRIu32 ")",
				 l->thread_name && *l->thread_name
				     ? l->thread_name
				     : "thread",
				 l->loop_id);
			fprintf(out,
				",\n{\"ph\":\"M\",\"name\":\"thread_name\","
				"\"pid\":%" PRIu32 ",\"tid\":%" PRIu32
				",\"args\":{\"name\":",
				p->pid, l->tid);
			sw_json_str(out, name);
			fputs("}}", out);
		}
	}
	if (first) /* no process: keep the array well-formed */
		fputs("\n{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":0,"
		      "\"tid\":0,\"args\":{\"name\":\"stallwatch\"}}",
		      out);
	for (i = 0; i < n; i++)
		put_item(out, &c, &items[i]);
	fputs("\n],\n\"stackFrames\":{", out);
	for (i = 0; i < c.nodes.n; i++) {
		const char *label = strchr(c.nodes.keys[i], '\x1f');

		fprintf(out,
			"%s\n\"%zu\":{\"category\":\"stallwatch\",\"name\":",
			i ? "," : "", i + 1);
		sw_json_str(out, label ? label + 1 : c.nodes.keys[i]);
		if (c.parent[i])
			fprintf(out, ",\"parent\":\"%zu\"", c.parent[i]);
		fputc('}', out);
	}
	fputs("\n}}\n", out);
	free(items);
	free(c.leaf);
	free(c.parent);
	sw_intern_free(&c.nodes);
	sw_intern_free(&c.stacks);
	return ferror(out) ? -1 : 0;
fail:
	free(items);
	return -1;
}

int sw_write_chrome(const struct sw_report *rep, FILE *out)
{
	return sw_write_chrome_capped(rep, out, SW_CHROME_DEFAULT_MAX);
}
