/*
 * out_pprof.c - `stallwatch report --format pprof`: a gzipped profile.proto
 * (analyzer/profile.proto, google/pprof) for go tool pprof and for
 * pprof-speaking backends (Pyroscope, Parca, Grafana).
 *
 * Three value types, all nanoseconds, one sample per distinct (site,
 * process, thread):
 *   stalled  time the stack held its loop inside a stall (the default);
 *   cpu      sampled CPU time (samples x sample interval);
 *   blocked  time in blocking calls, private loops and GIL waits.
 * Every frame is a function with its file and line: Python frames with
 * their source file, JavaScript frames with the JIT name, native frames
 * with their DWARF function and line, or `[module+0xoff]` when unknown.
 * An inlined native frame shares a location with the frame that contains
 * it, as pprof expects (one Line per function, innermost first).  Labels:
 * kind, call, place (the site's place, place.h), process ("comm pid") and
 * thread.  Strings from the trace are made terminal-safe UTF-8 first: the
 * format has no escaping of its own.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "html_escape.h"
#include "intern.h"
#include "model.h"
#include "profile.pb-c.h"
#include "util.h"

typedef Perftools__Profiles__Profile Profile;
typedef Perftools__Profiles__Sample Sample;
typedef Perftools__Profiles__Location Location;
typedef Perftools__Profiles__Line Line;
typedef Perftools__Profiles__Function Function;
typedef Perftools__Profiles__Label Label;
typedef Perftools__Profiles__ValueType ValueType;
typedef Perftools__Profiles__Mapping Mapping;

enum { V_STALLED, V_CPU, V_BLOCKED, NVALUES };

struct builder {
	struct sw_intern strings, functions, locations, samples, modules;
	Mapping **map;
	size_t nmap, capmap;
	Function **fn;
	size_t nfn, capfn;
	Location **loc;
	size_t nloc, caploc;
	Sample **smp;
	size_t nsmp, capsmp;
};

static int64_t str_id(struct builder *b, const char *s)
{
	char *safe = sw_strdup_safe(s ? s : "");
	size_t i = sw_intern(&b->strings, safe, NULL);

	free(safe);
	return (int64_t)i;
}

/* One mapping per ELF object, the main executable first (pprof takes
 * mapping 1 for the main binary).  Frames are already symbolized:
 * has_functions etc. tell pprof and backends not to symbolize again. */
static uint64_t mapping_id(struct builder *b, const char *module)
{
	int added;
	size_t i;

	if (!module || !*module)
		return 0;
	i = sw_intern(&b->modules, module, &added);
	if (added) {
		Mapping *m = xmalloc(sizeof(*m));

		perftools__profiles__mapping__init(m);
		m->id = i + 1;
		m->filename = str_id(b, module);
		m->has_functions = m->has_filenames = m->has_line_numbers =
		    m->has_inline_frames = 1;
		SW_GROW(b->map, b->nmap, b->capmap);
		b->map[b->nmap++] = m;
	}
	return i + 1;
}

static uint64_t function_id(struct builder *b, const struct sw_frame *f)
{
	char label[4096], *key;
	int added;
	size_t i;

	sw_frame_label(f, label, sizeof(label));
	/* Python labels carry "(file:line)"; the function is the name. */
	if (f->lang == SW_LANG_PYTHON)
		snprintf(label, sizeof(label), "%s",
			 f->function && *f->function ? f->function
						     : "[python]");
	key = xasprintf("%d\x1f%s\x1f%s", (int)f->lang, label,
			f->file ? f->file : "");
	i = sw_intern(&b->functions, key, &added);
	free(key);
	if (added) {
		Function *fn = xmalloc(sizeof(*fn));

		perftools__profiles__function__init(fn);
		fn->id = i + 1;
		fn->name = str_id(b, label);
		fn->system_name = fn->name;
		fn->filename = str_id(b, f->file     ? f->file
					 : f->module ? f->module
						     : "");
		SW_GROW(b->fn, b->nfn, b->capfn);
		b->fn[b->nfn++] = fn;
	}
	return i + 1;
}

/* The location of frames[0..n): inlined frames, then their container. */
static uint64_t location_id(struct builder *b, const struct sw_frame *fr,
			    size_t n)
{
	struct sw_buf key = {0};
	uint64_t fids[64];
	size_t i, idx;
	int added;

	if (n > 64)
		n = 64;
	for (i = 0; i < n; i++) {
		fids[i] = function_id(b, &fr[i]);
		sw_buf_printf(&key, "%" PRIu64 ":%d;", fids[i], fr[i].line);
	}
	sw_buf_printf(&key, "@%" PRIx64, fr[n - 1].addr);
	idx = sw_intern(&b->locations, sw_buf_str(&key), &added);
	sw_buf_free(&key);
	if (added) {
		Location *loc = xmalloc(sizeof(*loc));

		perftools__profiles__location__init(loc);
		loc->id = idx + 1;
		loc->address =
		    fr[n - 1].lang == SW_LANG_PYTHON ? 0 : fr[n - 1].addr;
		loc->n_line = n;
		loc->line = xcalloc(n, sizeof(*loc->line));
		for (i = 0; i < n; i++) {
			Line *ln = xmalloc(sizeof(*ln));

			perftools__profiles__line__init(ln);
			ln->function_id = fids[i];
			ln->line = fr[i].line > 0 ? fr[i].line : 0;
			loc->line[i] = ln;
		}
		SW_GROW(b->loc, b->nloc, b->caploc);
		b->loc[b->nloc++] = loc;
	}
	return idx + 1;
}

static Label *label(struct builder *b, const char *key, const char *val)
{
	Label *l = xmalloc(sizeof(*l));

	perftools__profiles__label__init(l);
	l->key = str_id(b, key);
	l->str = str_id(b, val);
	return l;
}

static const char *thread_name(const struct sw_process *p, uint32_t tid,
			       char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < p->nloops; i++)
		if (p->loops[i].tid == tid && p->loops[i].thread_name &&
		    *p->loops[i].thread_name) {
			snprintf(buf, len, "%.64s (tid %" PRIu32 ")",
				 p->loops[i].thread_name, tid);
			return buf;
		}
	snprintf(buf, len, "tid %" PRIu32, tid);
	return buf;
}

static Sample *new_sample(struct builder *b, const struct sw_report *rep,
			  const struct sw_event *ev)
{
	const struct sw_site *site = &rep->sites[ev->site];
	const struct sw_process *p = &rep->processes[ev->process];
	const struct sw_frame *fr = site->frames;
	size_t nfr = site->nframes;
	Sample *s = xmalloc(sizeof(*s));
	char buf[128];
	size_t i, j, n = 0;

	/* the event's own stack: a site groups stacks by place */
	if (ev->variant < site->nvariants) {
		fr = site->variants[ev->variant].frames;
		nfr = site->variants[ev->variant].nframes;
	}

	perftools__profiles__sample__init(s);
	s->location_id = xcalloc(nfr ? nfr : 1, sizeof(*s->location_id));
	/* innermost first, as pprof wants; inlined frames join the next */
	for (i = 0; i < nfr; i = j) {
		for (j = i; j + 1 < nfr && fr[j].inlined; j++)
			;
		j++;
		s->location_id[n++] = location_id(b, &fr[i], j - i);
	}
	if (n == 0) {
		struct sw_frame none = {.function = "[no stack]"};

		s->location_id[n++] = location_id(b, &none, 1);
	}
	s->n_location_id = n;
	s->n_value = NVALUES;
	s->value = xcalloc(NVALUES, sizeof(*s->value));
	s->n_label = 5;
	s->label = xcalloc(5, sizeof(*s->label));
	s->label[0] = label(b, "kind", sw_site_kind_name(site->kind));
	s->label[1] = label(b, "call", site->call ? site->call : "?");
	snprintf(buf, sizeof(buf), "%.64s %" PRIu32,
		 p->comm && *p->comm ? p->comm : "?", p->pid);
	s->label[2] = label(b, "process", buf);
	s->label[3] =
	    label(b, "thread", thread_name(p, ev->tid, buf, sizeof(buf)));
	s->label[4] =
	    label(b, "place",
		  site->place.text && *site->place.text ? site->place.text
							: "[no stack]");
	return s;
}

static ValueType *value_type(struct builder *b, const char *type)
{
	ValueType *v = xmalloc(sizeof(*v));

	perftools__profiles__value_type__init(v);
	v->type = str_id(b, type);
	v->unit = str_id(b, "nanoseconds");
	return v;
}

/* gzip the packed profile (the on-disk form pprof requires). */
static int write_gzip(const uint8_t *data, size_t len, FILE *out)
{
	uint8_t buf[1 << 16];
	z_stream z;
	int zr, rc = 0;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	z.next_in = (uint8_t *)data;
	z.avail_in = (uInt)len;
	do {
		z.next_out = buf;
		z.avail_out = sizeof(buf);
		zr = deflate(&z, Z_FINISH);
		if (zr == Z_STREAM_ERROR) {
			rc = -1;
			break;
		}
		if (fwrite(buf, 1, sizeof(buf) - z.avail_out, out) !=
		    sizeof(buf) - z.avail_out) {
			rc = -1;
			break;
		}
	} while (zr != Z_STREAM_END);
	deflateEnd(&z);
	return rc;
}

int sw_write_pprof(const struct sw_report *rep, FILE *out)
{
	Profile prof = PERFTOOLS__PROFILES__PROFILE__INIT;
	struct builder b = {0};
	ValueType *types[NVALUES];
	uint64_t first_rt = 0, last_mono = 0, first_mono = UINT64_MAX;
	uint8_t *packed = NULL;
	size_t i, len;
	int rc;

	str_id(&b, ""); /* string 0 is always the empty string */
	types[V_STALLED] = value_type(&b, "stalled");
	types[V_CPU] = value_type(&b, "cpu");
	types[V_BLOCKED] = value_type(&b, "blocked");
	if (rep->nprocesses)
		mapping_id(&b, rep->processes[0].exe);

	for (i = 0; i < rep->nevents; i++) {
		const struct sw_event *ev = &rep->events[i];
		char key[96];
		Sample *s;
		size_t si;
		int added;
		int64_t w;

		if (ev->site >= rep->nsites || ev->process >= rep->nprocesses)
			continue;
		snprintf(key, sizeof(key), "%zu/%zu/%zu/%" PRIu32, ev->site,
			 ev->variant, ev->process, ev->tid);
		si = sw_intern(&b.samples, key, &added);
		if (added) {
			SW_GROW(b.smp, b.nsmp, b.capsmp);
			b.smp[b.nsmp++] = new_sample(&b, rep, ev);
		}
		s = b.smp[si];
		w = ev->total_ns > INT64_MAX ? INT64_MAX
					     : (int64_t)ev->total_ns;
		if (ev->stall >= 0)
			s->value[V_STALLED] += w;
		if (rep->sites[ev->site].kind == SW_SITE_CPU)
			s->value[V_CPU] += w;
		else
			s->value[V_BLOCKED] += w;
		if (ev->start_ns < first_mono)
			first_mono = ev->start_ns;
		if (ev->start_ns + ev->duration_ns > last_mono)
			last_mono = ev->start_ns + ev->duration_ns;
	}
	for (i = 0; i < rep->nprocesses; i++) {
		const struct sw_process *p = &rep->processes[i];

		if (p->start_realtime_ns &&
		    (!first_rt || p->start_realtime_ns < first_rt))
			first_rt = p->start_realtime_ns;
	}

	prof.n_sample_type = NVALUES;
	prof.sample_type = types;
	prof.n_sample = b.nsmp;
	prof.sample = b.smp;
	prof.n_mapping = b.nmap;
	prof.mapping = b.map;
	prof.n_location = b.nloc;
	prof.location = b.loc;
	prof.n_function = b.nfn;
	prof.function = b.fn;
	prof.time_nanos = (int64_t)first_rt;
	if (last_mono > first_mono)
		prof.duration_nanos = (int64_t)(last_mono - first_mono);
	prof.default_sample_type = str_id(&b, "stalled");
	/* the string table last: building the rest adds to it */
	prof.n_string_table = b.strings.n;
	prof.string_table = b.strings.keys;

	len = perftools__profiles__profile__get_packed_size(&prof);
	packed = xmalloc(len ? len : 1);
	perftools__profiles__profile__pack(&prof, packed);
	rc = write_gzip(packed, len, out);
	free(packed);

	for (i = 0; i < b.nsmp; i++) {
		size_t k;

		for (k = 0; k < b.smp[i]->n_label; k++)
			free(b.smp[i]->label[k]);
		free(b.smp[i]->label);
		free(b.smp[i]->value);
		free(b.smp[i]->location_id);
		free(b.smp[i]);
	}
	for (i = 0; i < b.nloc; i++) {
		size_t k;

		for (k = 0; k < b.loc[i]->n_line; k++)
			free(b.loc[i]->line[k]);
		free(b.loc[i]->line);
		free(b.loc[i]);
	}
	for (i = 0; i < b.nfn; i++)
		free(b.fn[i]);
	for (i = 0; i < b.nmap; i++)
		free(b.map[i]);
	free(b.map);
	sw_intern_free(&b.modules);
	for (i = 0; i < NVALUES; i++)
		free(types[i]);
	free(b.smp);
	free(b.loc);
	free(b.fn);
	sw_intern_free(&b.strings);
	sw_intern_free(&b.functions);
	sw_intern_free(&b.locations);
	sw_intern_free(&b.samples);
	return rc == 0 && !ferror(out) ? 0 : -1;
}
