/*
 * out_json.c - the report as JSON, format version 1 (stallwatch-json(5)).
 *
 * Field names are a contract with users' scripts: add, never rename.
 * Unknown values are null; every string goes through sw_json_str, so the
 * output is valid JSON whatever the traces hold.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"
#include "model.h"
#include "../include/sw_trace.h"
#include "util.h"

static const char *lang_name(enum sw_lang lang)
{
	switch (lang) {
	case SW_LANG_PYTHON:
		return "python";
	case SW_LANG_JS:
		return "js";
	default:
		return "native";
	}
}

static const char *fd_kind_name(int k)
{
	static const char *const names[] = {"none",	"unknown", "file",
					    "blockdev", "socket",  "pipe",
					    "tty",	"event"};

	return k >= 0 && k < (int)(sizeof(names) / sizeof(names[0])) ? names[k]
								     : NULL;
}

static void key(FILE *out, const char *k, int *first)
{
	if (!*first)
		putc(',', out);
	*first = 0;
	sw_json_str(out, k);
	putc(':', out);
}

static void kv_u64(FILE *out, const char *k, uint64_t v, int *first)
{
	key(out, k, first);
	sw_json_u64(out, v);
}

static void kv_str(FILE *out, const char *k, const char *v, int *first)
{
	key(out, k, first);
	sw_json_str(out, v);
}

static void write_loop(FILE *out, const struct sw_loop *l)
{
	int f = 1, known = l->hist != NULL;

	putc('{', out);
	kv_u64(out, "loop_id", l->loop_id, &f);
	kv_u64(out, "tid", l->tid, &f);
	kv_str(out, "thread_name", l->thread_name, &f);
	key(out, "turns", &f);
	sw_json_u64_or_null(out, l->turns, known);
	key(out, "busy_ns", &f);
	sw_json_u64_or_null(out, l->busy_ns, known);
	key(out, "utilisation", &f);
	if (known && l->last_ns > l->born_ns)
		sw_json_double(out, l->utilisation, 4);
	else
		fputs("null", out);
	kv_u64(out, "stalls", l->stalls, &f);
	kv_u64(out, "born_ns", l->born_ns, &f);
	kv_u64(out, "last_ns", l->last_ns, &f);
	key(out, "lag_ns", &f);
	fputs("{\"p50\":", out);
	sw_json_u64_or_null(out, l->lag_p50_ns, known && l->turns);
	fputs(",\"p99\":", out);
	sw_json_u64_or_null(out, l->lag_p99_ns, known && l->turns);
	fputs(",\"max\":", out);
	sw_json_u64_or_null(out, l->lag_max_ns, known && l->turns);
	putc('}', out);
	putc('}', out);
}

static void write_process(FILE *out, const struct sw_process *p)
{
	int f = 1;
	size_t i;

	putc('{', out);
	kv_u64(out, "pid", p->pid, &f);
	kv_u64(out, "ppid", p->ppid, &f);
	kv_str(out, "command", p->command, &f);
	kv_str(out, "exe", p->exe, &f);
	kv_str(out, "comm", p->comm, &f);
	kv_str(out, "trace", p->trace_path, &f);
	kv_u64(out, "start_realtime_ns", p->start_realtime_ns, &f);
	kv_u64(out, "start_mono_ns", p->start_mono_ns, &f);
	kv_u64(out, "threshold_ns", p->threshold_ns, &f);
	kv_u64(out, "call_threshold_ns", p->call_threshold_ns, &f);
	kv_u64(out, "sample_interval_ns", p->sample_interval_ns, &f);
	key(out, "strict", &f);
	fputs(p->strict ? "true" : "false", out);
	kv_str(out, "name", p->name, &f);
	key(out, "clean_exit", &f);
	fputs(p->clean_exit ? "true" : "false", out);
	/* "exit": exit() or return from main; "_exit": no destructors ran;
	 * null: no end record (killed, crashed, still running). */
	key(out, "ended_by", &f);
	fputs(!p->clean_exit			? "null"
	      : p->end_how == SW_END_UNDERSCORE ? "\"_exit\""
						: "\"exit\"",
	      out);
	key(out, "dropped", &f);
	if (p->rotations) {
		int g = 1;

		putc('{', out);
		kv_u64(out, "bytes", p->dropped_bytes, &g);
		kv_u64(out, "rotations", p->rotations, &g);
		kv_u64(out, "first_ns", p->dropped_first_ns, &g);
		kv_u64(out, "last_ns", p->dropped_last_ns, &g);
		putc('}', out);
	} else {
		fputs("null", out);
	}
	kv_u64(out, "records", p->records, &f);
	kv_u64(out, "torn_bytes", p->torn_bytes, &f);
	key(out, "loops", &f);
	putc('[', out);
	for (i = 0; i < p->nloops; i++) {
		if (i)
			putc(',', out);
		write_loop(out, &p->loops[i]);
	}
	fputs("]}", out);
}

static void write_frame(FILE *out, const struct sw_frame *fr)
{
	int f = 1;

	putc('{', out);
	kv_str(out, "lang", lang_name(fr->lang), &f);
	kv_str(out, "function", fr->function, &f);
	kv_str(out, "file", fr->file, &f);
	key(out, "line", &f);
	if (fr->line > 0)
		fprintf(out, "%d", fr->line);
	else
		fputs("null", out);
	kv_str(out, "module", fr->module, &f);
	key(out, "addr", &f);
	if (fr->lang != SW_LANG_PYTHON && fr->addr)
		fprintf(out, "\"0x%" PRIx64 "\"", fr->addr);
	else
		fputs("null", out);
	key(out, "offset", &f);
	if (fr->lang != SW_LANG_PYTHON && fr->module)
		fprintf(out, "\"0x%" PRIx64 "\"", fr->rel_addr);
	else
		fputs("null", out);
	key(out, "inlined", &f);
	fputs(fr->inlined ? "true" : "false", out);
	key(out, "in_app", &f);
	fputs(fr->in_app ? "true" : "false", out);
	putc('}', out);
}

static void write_frames(FILE *out, const struct sw_frame *fr, size_t n)
{
	size_t i;

	putc('[', out);
	for (i = 0; i < n; i++) {
		if (i)
			putc(',', out);
		write_frame(out, &fr[i]);
	}
	putc(']', out);
}

/* The one place (place.h): what every output names. */
static void write_place(FILE *out, const struct sw_place *pl)
{
	int f = 1;

	putc('{', out);
	kv_str(out, "text", pl->text, &f);
	kv_str(out, "function", pl->function, &f);
	kv_str(out, "file", pl->file, &f);
	key(out, "line", &f);
	if (pl->line > 0)
		fprintf(out, "%d", pl->line);
	else
		fputs("null", out);
	kv_str(out, "what", pl->what, &f);
	key(out, "frame", &f);
	if (pl->frame >= 0)
		fprintf(out, "%ld", pl->frame);
	else
		fputs("null", out);
	key(out, "in_app", &f);
	fputs(pl->in_app ? "true" : "false", out);
	putc('}', out);
}

static void write_site(FILE *out, const struct sw_site *s, size_t index)
{
	int f = 1;
	size_t i;

	putc('{', out);
	kv_u64(out, "index", index, &f);
	kv_str(out, "kind", sw_site_kind_name(s->kind), &f);
	kv_str(out, "call", s->call, &f);
	kv_str(out, "fd_kind", fd_kind_name(s->fd_kind), &f);
	key(out, "strict_only", &f);
	fputs(s->strict_only ? "true" : "false", out);
	kv_u64(out, "count", s->count, &f);
	kv_u64(out, "total_ns", s->total_ns, &f);
	kv_u64(out, "max_ns", s->max_ns, &f);
	key(out, "place", &f);
	write_place(out, &s->place);
	kv_str(out, "test", s->test, &f);
	key(out, "frames", &f);
	write_frames(out, s->frames, s->nframes);
	key(out, "variants", &f);
	putc('[', out);
	for (i = 0; i < s->nvariants; i++) {
		const struct sw_variant *v = &s->variants[i];
		int g = 1;

		fputs(i ? ",{" : "{", out);
		kv_u64(out, "count", v->count, &g);
		kv_u64(out, "total_ns", v->total_ns, &g);
		kv_u64(out, "max_ns", v->max_ns, &g);
		key(out, "frames", &g);
		write_frames(out, v->frames, v->nframes);
		putc('}', out);
	}
	fputs("]}", out);
}

static void write_stall(FILE *out, const struct sw_report *rep,
			const struct sw_stall *st)
{
	const struct sw_process *p = &rep->processes[st->process];
	int f = 1;
	size_t i;

	putc('{', out);
	kv_u64(out, "pid", st->pid, &f);
	kv_u64(out, "tid", st->tid, &f);
	kv_u64(out, "process", st->process, &f);
	kv_u64(out, "loop", st->loop, &f);
	kv_u64(out, "loop_id",
	       st->loop < p->nloops ? p->loops[st->loop].loop_id : 0, &f);
	kv_u64(out, "start_ns", st->start_ns, &f);
	kv_u64(out, "duration_ns", st->duration_ns, &f);
	kv_u64(out, "blocked_ns", st->blocked_ns, &f);
	kv_u64(out, "cpu_ns", st->cpu_ns, &f);
	kv_u64(out, "cpu_unsampled_ns", st->cpu_unsampled_ns, &f);
	kv_u64(out, "off_cpu_ns", st->off_cpu_ns, &f);
	kv_str(out, "test", st->test, &f);
	key(out, "sites", &f);
	putc('[', out);
	for (i = 0; i < st->nsites; i++)
		fprintf(out, "%s%zu", i ? "," : "", st->sites[i]);
	fputs("]}", out);
}

/*
 * Events are most of a big report (one line per record): they are
 * formatted by hand into a buffer and written in large blocks, as
 * printf-style formatting costs more than everything else put together.
 * The text is the same as "%" PRIu64 and "%ld" would give.
 */
struct evbuf {
	FILE *out;
	size_t len;
	char b[1 << 16];
};

static char *put_u64(char *p, uint64_t v)
{
	char tmp[20];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

static char *put_lit(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

#define PUT_LIT(p, s) put_lit((p), (s), sizeof(s) - 1)

static void evbuf_flush(struct evbuf *eb)
{
	if (eb->len)
		fwrite(eb->b, 1, eb->len, eb->out);
	eb->len = 0;
}

/* One event with its separator; at most ~250 bytes. */
static void write_event(struct evbuf *eb, const struct sw_report *rep,
			const struct sw_event *e, int first)
{
	char *p;

	if (sizeof(eb->b) - eb->len < 512)
		evbuf_flush(eb);
	p = eb->b + eb->len;
	p = first ? PUT_LIT(p, "\n") : PUT_LIT(p, ",\n");
	p = PUT_LIT(p, "{\"pid\":");
	p = put_u64(p, rep->processes[e->process].pid);
	p = PUT_LIT(p, ",\"process\":");
	p = put_u64(p, e->process);
	p = PUT_LIT(p, ",\"tid\":");
	p = put_u64(p, e->tid);
	p = PUT_LIT(p, ",\"start_ns\":");
	p = put_u64(p, e->start_ns);
	p = PUT_LIT(p, ",\"duration_ns\":");
	p = put_u64(p, e->duration_ns);
	p = PUT_LIT(p, ",\"site\":");
	p = put_u64(p, e->site);
	p = PUT_LIT(p, ",\"stall\":");
	if (e->stall >= 0)
		p = put_u64(p, (uint64_t)e->stall);
	else
		p = PUT_LIT(p, "null");
	p = PUT_LIT(p, ",\"count\":");
	p = put_u64(p, e->count);
	p = PUT_LIT(p, ",\"total_ns\":");
	p = put_u64(p, e->total_ns);
	p = PUT_LIT(p, ",\"variant\":");
	p = put_u64(p, e->variant);
	if (e->test) {
		/* rare: formatted the slow way */
		eb->len = (size_t)(p - eb->b);
		evbuf_flush(eb);
		fputs(",\"test\":", eb->out);
		sw_json_str(eb->out, e->test);
		p = eb->b;
	} else {
		p = PUT_LIT(p, ",\"test\":null");
	}
	*p++ = '}';
	eb->len = (size_t)(p - eb->b);
}

int sw_write_json(const struct sw_report *rep, FILE *out)
{
	size_t i;

	fputs("{\"version\":1,\"processes\":[", out);
	for (i = 0; i < rep->nprocesses; i++) {
		fputs(i ? ",\n" : "\n", out);
		write_process(out, &rep->processes[i]);
	}
	fputs("],\"sites\":[", out);
	for (i = 0; i < rep->nsites; i++) {
		fputs(i ? ",\n" : "\n", out);
		write_site(out, &rep->sites[i], i);
	}
	fputs("],\"stalls\":[", out);
	for (i = 0; i < rep->nstalls; i++) {
		fputs(i ? ",\n" : "\n", out);
		write_stall(out, rep, &rep->stalls[i]);
	}
	fputs("],\"events\":[", out);
	if (rep->nevents) {
		struct evbuf *eb = xmalloc(sizeof(*eb));

		eb->out = out;
		eb->len = 0;
		for (i = 0; i < rep->nevents; i++)
			write_event(eb, rep, &rep->events[i], i == 0);
		evbuf_flush(eb);
		free(eb);
	}
	fputs("],\"notes\":[", out);
	for (i = 0; i < rep->nnotes; i++) {
		fputs(i ? ",\n" : "\n", out);
		sw_json_str(out, rep->notes[i]);
	}
	fputs("]}\n", out);
	return ferror(out) ? -1 : 0;
}
