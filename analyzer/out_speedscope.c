/*
 * out_speedscope.c - `stallwatch report --format speedscope`: speedscope's
 * own file format (https://www.speedscope.app/file-format-schema.json).
 *
 * Frames are shared by every profile ("shared.frames": name, file, line).
 * One "sampled" profile per loop thread, named "<comm> <pid> <thread>":
 * each distinct stack of that thread is one sample, outermost frame first,
 * weighted by its time in nanoseconds (blocked time, or samples x sample
 * interval for CPU), in the order the stacks first happened, so speedscope's
 * Left Heavy and Sandwich views aggregate the stacks and Time Order shows
 * the run's order.  As in the folded output, the innermost frame is ours
 * and names the kind: "[blocking-call: read]", "[cpu-stall]".
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "html_escape.h"
#include "intern.h"
#include "jsonw.h"
#include "model.h"
#include "util.h"

struct prof {
	size_t process;
	uint32_t tid;
	size_t *sites; /* distinct stacks (struct stacks), first seen first */
	uint64_t *weights;
	size_t n, cap;
	uint64_t total;
};

static size_t frame_index(struct sw_intern *frames, const struct sw_frame *f)
{
	char label[4096], *key;
	size_t i;

	sw_frame_label(f, label, sizeof(label));
	if (f->lang == SW_LANG_PYTHON)
		snprintf(label, sizeof(label), "%s",
			 f->function && *f->function ? f->function
						     : "[python]");
	/* name \x1f file \x1f line: split again when the frames are written */
	key = xasprintf("%s\x1f%s\x1f%d", label, f->file ? f->file : "",
			f->line > 0 ? f->line : 0);
	i = sw_intern(frames, key, NULL);
	free(key);
	return i;
}

static size_t kind_index(struct sw_intern *frames, const struct sw_site *s)
{
	char label[300], *key;
	size_t i;

	if (s->kind == SW_SITE_CPU)
		snprintf(label, sizeof(label), "[%s]",
			 sw_site_kind_name(s->kind));
	else
		snprintf(label, sizeof(label), "[%s: %s]",
			 sw_site_kind_name(s->kind), s->call ? s->call : "?");
	key = xasprintf("%s\x1f\x1f"
			"0",
			label);
	i = sw_intern(frames, key, NULL);
	free(key);
	return i;
}

static void put_frame(FILE *out, const char *key)
{
	const char *a = strchr(key, '\x1f'), *b = a ? strchr(a + 1, '\x1f') : 0;
	int line = b ? atoi(b + 1) : 0;

	fputs("{\"name\":", out);
	sw_json_strn(out, key, a ? (size_t)(a - key) : strlen(key));
	if (a && b && b > a + 1) {
		fputs(",\"file\":", out);
		sw_json_strn(out, a + 1, (size_t)(b - a - 1));
		if (line > 0)
			fprintf(out, ",\"line\":%d", line);
	}
	fputc('}', out);
}

static const char *loop_name(const struct sw_process *p, uint32_t tid)
{
	size_t i;

	for (i = 0; i < p->nloops; i++)
		if (p->loops[i].tid == tid && p->loops[i].thread_name &&
		    *p->loops[i].thread_name)
			return p->loops[i].thread_name;
	return "thread";
}

struct stacks {
	struct sw_intern keys; /* "site/variant" -> index */
	size_t **idx;	       /* frame indexes, outermost first */
	size_t *n;
	size_t cap;
};

/* The stack of an event (its site's variant: a site groups stacks by
 * place) as frame indexes, built once. */
static size_t stack_of(struct stacks *st, struct sw_intern *frames,
		       const struct sw_report *rep, const struct sw_event *ev)
{
	const struct sw_site *s = &rep->sites[ev->site];
	const struct sw_frame *fr = s->frames;
	size_t nfr = s->nframes, i, j;
	char key[64];
	int added;

	snprintf(key, sizeof(key), "%zu/%zu", ev->site, ev->variant);
	i = sw_intern(&st->keys, key, &added);
	if (!added)
		return i;
	if (ev->variant < s->nvariants) {
		fr = s->variants[ev->variant].frames;
		nfr = s->variants[ev->variant].nframes;
	}
	if (i >= st->cap) {
		st->cap = st->cap ? 2 * st->cap : 16;
		st->idx = xreallocarray(st->idx, st->cap, sizeof(*st->idx));
		st->n = xreallocarray(st->n, st->cap, sizeof(*st->n));
	}
	st->idx[i] = xcalloc(nfr + 1, sizeof(**st->idx));
	st->n[i] = 0;
	for (j = nfr; j-- > 0;)
		st->idx[i][st->n[i]++] = frame_index(frames, &fr[j]);
	st->idx[i][st->n[i]++] = kind_index(frames, s);
	return i;
}

int sw_write_speedscope(const struct sw_report *rep, FILE *out)
{
	struct sw_intern frames = {0}, keys = {0}, pairs = {0};
	struct stacks st = {0};
	struct prof *pr = NULL;
	size_t *slot = NULL, nslot = 0, capslot = 0; /* pair -> sample */
	size_t npr = 0, cappr = 0, i, j, k;

	/* one profile per (process, thread); events are in time order */
	for (i = 0; i < rep->nevents; i++) {
		const struct sw_event *ev = &rep->events[i];
		char key[64];
		struct prof *p;
		size_t sidx;
		int added;

		if (ev->site >= rep->nsites || ev->process >= rep->nprocesses)
			continue;
		snprintf(key, sizeof(key), "%zu/%" PRIu32, ev->process,
			 ev->tid);
		k = sw_intern(&keys, key, &added);
		if (added) {
			SW_GROW(pr, npr, cappr);
			memset(&pr[npr], 0, sizeof(pr[npr]));
			pr[npr].process = ev->process;
			pr[npr].tid = ev->tid;
			npr++;
		}
		p = &pr[k];
		sidx = stack_of(&st, &frames, rep, ev);
		snprintf(key, sizeof(key), "%zu/%zu", k, sidx);
		j = sw_intern(&pairs, key, &added);
		if (added) {
			SW_GROW(slot, nslot, capslot);
			slot[nslot++] = p->n;
		}
		j = slot[j];
		if (j == p->n) {
			if (p->n == p->cap) {
				p->cap = p->cap ? 2 * p->cap : 16;
				p->sites = xreallocarray(p->sites, p->cap,
							 sizeof(*p->sites));
				p->weights = xreallocarray(p->weights, p->cap,
							   sizeof(*p->weights));
			}
			p->sites[p->n] = sidx;
			p->weights[p->n++] = 0;
		}
		p->weights[j] += ev->total_ns;
		p->total += ev->total_ns;
	}

	fputs("{\"$schema\":\"https://www.speedscope.app/"
	      "file-format-schema.json\",\n\"exporter\":\"stallwatch\","
	      "\"name\":\"stallwatch: where the event loops stalled\","
	      "\"activeProfileIndex\":0,\n\"shared\":{\"frames\":[",
	      out);
	for (i = 0; i < frames.n; i++) {
		fputs(i ? ",\n" : "\n", out);
		put_frame(out, frames.keys[i]);
	}
	fputs("]},\n\"profiles\":[", out);
	for (i = 0; i < npr; i++) {
		const struct sw_process *p = &rep->processes[pr[i].process];
		char name[256];

		snprintf(name, sizeof(name),
			 "%.64s %" PRIu32 " %.64s (tid %" PRIu32 ")",
			 p->comm && *p->comm ? p->comm : "?", p->pid,
			 loop_name(p, pr[i].tid), pr[i].tid);
		fputs(i ? ",\n{" : "\n{", out);
		fputs("\"type\":\"sampled\",\"name\":", out);
		sw_json_str(out, name);
		fprintf(out,
			",\"unit\":\"nanoseconds\",\"startValue\":0,"
			"\"endValue\":%" PRIu64 ",\"samples\":[",
			pr[i].total);
		for (j = 0; j < pr[i].n; j++) {
			size_t s = pr[i].sites[j];

			fputs(j ? ",[" : "[", out);
			for (k = 0; k < st.n[s]; k++)
				fprintf(out, "%s%zu", k ? "," : "",
					st.idx[s][k]);
			fputc(']', out);
		}
		fputs("],\"weights\":[", out);
		for (j = 0; j < pr[i].n; j++)
			fprintf(out, "%s%" PRIu64, j ? "," : "",
				pr[i].weights[j]);
		fputs("]}", out);
	}
	fputs("]}\n", out);

	for (i = 0; i < st.keys.n; i++)
		free(st.idx[i]);
	free(st.idx);
	free(st.n);
	sw_intern_free(&st.keys);
	for (i = 0; i < npr; i++) {
		free(pr[i].sites);
		free(pr[i].weights);
	}
	free(pr);
	sw_intern_free(&frames);
	sw_intern_free(&keys);
	sw_intern_free(&pairs);
	free(slot);
	return ferror(out) ? -1 : 0;
}
