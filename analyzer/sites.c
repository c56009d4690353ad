/*
 * sites.c - records -> raw stacks -> sites.
 *
 * Each record's stack is symbolized (once per distinct raw stack), merged
 * with its Python frames and classified in app or not (place.h).  Equal
 * merged stacks of one kind and call are one raw stack; raw stacks with
 * the same kind, call and place are one site, and become its variants
 * (doc/design.md, "Places").
 */
#include <stdlib.h>
#include <string.h>

#include "../include/sw_calls.h"
#include "build.h"
#include "html_escape.h"
#include "pymerge.h"
#include "util.h"

const char *sw_site_kind_name(enum sw_site_kind kind)
{
	switch (kind) {
	case SW_SITE_BLOCKING:
		return "blocking-call";
	case SW_SITE_CPU:
		return "cpu-stall";
	case SW_SITE_PRIVATE_LOOP:
		return "private-loop";
	case SW_SITE_GIL_WAIT:
		return "gil-wait";
	}
	return "unknown";
}

const struct sw_frame *sw_site_location(const struct sw_site *site)
{
	size_t i;

	if (!site || site->nframes == 0)
		return NULL;
	if (site->place.text && site->place.frame >= 0 &&
	    (size_t)site->place.frame < site->nframes)
		return &site->frames[site->place.frame];
	/* A model built without places (by hand): the innermost Python
	 * frame, else the innermost native frame with a file. */
	for (i = 0; i < site->nframes; i++)
		if (site->frames[i].lang == SW_LANG_PYTHON)
			return &site->frames[i];
	for (i = 0; i < site->nframes; i++)
		if (site->frames[i].file)
			return &site->frames[i];
	return &site->frames[0];
}

void sw_frames_free(struct sw_frame *f, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(f[i].function);
		free(f[i].file);
		free(f[i].module);
	}
	free(f);
}

static enum sw_site_kind kind_of_event(unsigned kind)
{
	switch (kind) {
	case SW_EV_SAMPLE:
		return SW_SITE_CPU;
	case SW_EV_PRIVATE_LOOP:
		return SW_SITE_PRIVATE_LOOP;
	case SW_EV_GIL_WAIT:
		return SW_SITE_GIL_WAIT;
	default:
		return SW_SITE_BLOCKING;
	}
}

/* ---- raw stacks ---------------------------------------------------------- */

/*
 * The identity of a record's stack before symbolization: process, kind,
 * call, signal-frame flag, addresses and Python frames, as 64-bit words.
 * Most records repeat a stack already seen in their process, so this is
 * the per-record hot path: no formatting, no allocation per lookup.
 */
#define RAW_KEY_MAX (6 + SW_MAX_IPS + 2 * SW_MAX_PYFRAMES)

static size_t raw_key(size_t pi, const struct sw_tevent *te, uint64_t *k)
{
	const struct sw_rec_event *e = &te->rec;
	size_t o = 0, i;

	k[o++] = pi;
	k[o++] = e->kind;
	k[o++] = e->call;
	k[o++] = e->ev_flags & SW_EVF_SIGNAL_FRAME;
	k[o++] = e->nips;
	k[o++] = e->npy;
	memcpy(k + o, te->ips, (size_t)e->nips * 8);
	o += e->nips;
	for (i = 0; i < e->npy; i++) {
		k[o++] = (uint64_t)te->py[i].code_id << 32 |
			 (uint32_t)te->py[i].line;
		k[o++] = te->py[i].pyf_flags;
	}
	return o;
}

static char *stack_key(enum sw_site_kind kind, const char *call,
		       const struct sw_frame *f, size_t n)
{
	struct sw_buf k = {0};
	size_t i;

	sw_buf_printf(&k, "%d\x1f%s", (int)kind, call);
	for (i = 0; i < n; i++) {
		sw_buf_printf(&k, "\x1e%d\x1f%s\x1f%s\x1f%d\x1f%s\x1f%d\x1f%d",
			      f[i].lang, f[i].function ? f[i].function : "",
			      f[i].file ? f[i].file : "", f[i].line,
			      f[i].module ? f[i].module : "", f[i].inlined,
			      f[i].in_app);
		/* Unnamed frames differ by address within their module
		 * (ASLR moves modules between processes). */
		if (!f[i].function)
			sw_buf_printf(&k, "\x1f%llx",
				      (unsigned long long)(f[i].module
							       ? f[i].rel_addr
							       : f[i].addr));
	}
	return sw_buf_take(&k);
}

/* Find or create the raw stack for merged frames; takes the frames. */
static size_t stack_for(struct sw_builder *b, enum sw_site_kind kind,
			const char *call, int fd_kind, struct sw_frame *frames,
			size_t n)
{
	char *key = stack_key(kind, call, frames, n);
	size_t idx = b->nstacks;
	struct sw_stack *s;

	if (sw_strmap_get_or_put(&b->stack_by_key, key, &idx)) {
		free(key);
		sw_frames_free(frames, n);
		return idx;
	}
	SW_GROW(b->stacks, b->nstacks, b->cap_stacks);
	s = &b->stacks[b->nstacks++];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->call = call;
	s->fd_kind = fd_kind;
	s->strict_only = 1;
	s->frames = frames;
	s->nframes = n;
	return idx;
}

static uint64_t event_weight(const struct sw_process *p,
			     const struct sw_rec_event *e)
{
	if (e->kind == SW_EV_SAMPLE) {
		uint64_t iv = p->sample_interval_ns ? p->sample_interval_ns
						    : e->duration_ns;

		return iv * e->count;
	}
	return e->total_ns;
}

static void add_to_stack(struct sw_stack *s, uint64_t w,
			 const struct sw_rec_event *e)
{
	uint64_t mx = e->kind == SW_EV_SAMPLE ? w / e->count : e->max_ns;

	s->count += e->count;
	s->total_ns =
	    s->total_ns + w < s->total_ns ? UINT64_MAX : s->total_ns + w;
	if (mx > s->max_ns)
		s->max_ns = mx;
	if (!(e->ev_flags & SW_EVF_STRICT))
		s->strict_only = 0;
}

static void add_event(struct sw_builder *b, size_t pi,
		      const struct sw_rec_event *e, size_t stack, uint64_t w)
{
	struct sw_report *rep = b->rep;
	struct sw_event *ev;

	SW_GROW(rep->events, rep->nevents, b->cap_events);
	ev = &rep->events[rep->nevents++];
	memset(ev, 0, sizeof(*ev));
	ev->process = pi;
	ev->tid = e->tid;
	ev->start_ns = e->start_ns;
	ev->duration_ns = e->duration_ns;
	ev->site = stack;
	ev->stall = -1;
	ev->count = e->count;
	ev->total_ns = w;
	if (b->cap_links < b->cap_events) {
		b->cap_links = b->cap_events;
		b->links =
		    xreallocarray(b->links, b->cap_links, sizeof(*b->links));
	}
	b->links[rep->nevents - 1] = (struct sw_ev_link){
	    .ev = *ev,
	    .pos = rep->nevents - 1,
	    .loop_id = e->loop_id,
	    .turn_seq = e->turn_seq,
	    .kind = e->kind,
	};
}

/* Symbolize a record's stack, merge its Python frames, classify them;
 * frames of the main executable take the name it was launched by. */
static void build_stack(struct sw_symbolizer *sym, const struct sw_trace *t,
			const struct sw_tevent *te,
			const struct sw_app_ctx *ctx, const char *name,
			struct sw_frame **out, size_t *nout, int *unplaced)
{
	struct sw_frame *native = NULL;
	size_t n = 0, cap = 0, i, j;

	for (i = 0; i < te->rec.nips; i++) {
		const struct sw_frame *fr;
		int is_pc = i == 0 && (te->rec.ev_flags & SW_EVF_SIGNAL_FRAME);
		size_t k = sw_sym_addr(sym, te->ips[i], is_pc, &fr);

		for (j = 0; j < k; j++) {
			SW_GROW(native, n, cap);
			native[n] = fr[j];
			/* Show the recorded address, not the looked-up one. */
			native[n].addr = te->ips[i];
			n++;
		}
	}
	if (sw_pymerge(native, n, te->py, te->rec.npy, &t->pycodes, out, nout,
		       unplaced) != 0) {
		fprintf(stderr, "stallwatch: out of memory merging frames\n");
		abort();
	}
	free(native); /* shallow copies of the symbolizer's frames */
	for (i = 0; i < *nout; i++) {
		struct sw_frame *f = &(*out)[i];

		f->in_app = sw_frame_in_app(f, ctx);
		if (name && f->module && ctx->main_module &&
		    !strcmp(f->module, ctx->main_module) &&
		    strcmp(sw_basename(f->module), name) != 0) {
			const char *base = sw_basename(f->module);
			char *m = xasprintf("%.*s%s", (int)(base - f->module),
					    f->module, name);

			free(f->module);
			f->module = m;
		}
	}
}

static const char *main_module(const struct sw_trace *t)
{
	size_t i;

	for (i = 0; i < t->nmodules; i++)
		if (t->modules[i].flags & SW_MOD_MAIN)
			return t->modules[i].path;
	return t->exe;
}

/* All events of one trace: full stacks first, so that count-only records
 * (flood remainders) can join the stack of the same caller. */
void sw_sites_add_events(struct sw_builder *b, size_t pi,
			 const struct sw_trace *t, struct sw_symbolizer *sym,
			 int *unplaced)
{
	const struct sw_process *p = &b->rep->processes[pi];
	struct sw_app_ctx ctx = {
	    .main_module = main_module(t),
	    .runtime = sw_is_runtime(t->exe, p->name),
	    .rules = b->opts->app,
	};
	uint64_t raw[RAW_KEY_MAX];
	int pass;
	size_t i;

	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < t->nevents; i++) {
			const struct sw_tevent *te = &t->events[i];
			const struct sw_rec_event *e = &te->rec;
			enum sw_site_kind kind = kind_of_event(e->kind);
			const char *call = e->kind == SW_EV_SAMPLE
					       ? sw_call_name(SW_CALL_TURN)
					       : sw_call_name(e->call);
			int count_only = !!(e->ev_flags & SW_EVF_COUNT_ONLY);
			struct sw_intkey ck = {pi, kind, e->call,
					       e->nips ? te->ips[0] : 0};
			struct sw_frame *frames;
			size_t nframes, stack, nraw = 0;
			uint64_t rawhash = 0, w = event_weight(p, e);
			long found;
			int up = 0;

			if (count_only != pass)
				continue;
			found = count_only
				    ? sw_intmap_get(&b->stack_by_caller, &ck)
				    : -1;
			if (found < 0 && !count_only) {
				/* Most records repeat a stack already seen in
				 * this process: find it without symbolizing. */
				nraw = raw_key(pi, te, raw);
				rawhash = sw_words_hash(raw, nraw);
				found = sw_wordmap_get(&b->stack_by_raw, raw,
						       nraw, rawhash);
			}
			if (found >= 0) {
				stack = (size_t)found;
			} else {
				build_stack(sym, t, te, &ctx, p->name, &frames,
					    &nframes, &up);
				if (up)
					*unplaced = 1;
				stack = stack_for(b, kind, call, e->fd_kind,
						  frames, nframes);
				if (!count_only && e->nips &&
				    sw_intmap_get(&b->stack_by_caller, &ck) < 0)
					sw_intmap_put(&b->stack_by_caller, &ck,
						      stack);
				if (nraw)
					sw_wordmap_put(&b->stack_by_raw, raw,
						       nraw, rawhash, stack);
			}
			add_to_stack(&b->stacks[stack], w, e);
			add_event(b, pi, e, stack, w);
		}
	}
}

/* ---- grouping by place ----------------------------------------------------
 */

static int stack_weight_cmp(const void *x, const void *y, void *arg)
{
	const struct sw_stack *st = arg;
	const struct sw_stack *a = &st[*(const size_t *)x];
	const struct sw_stack *b = &st[*(const size_t *)y];

	if (a->total_ns != b->total_ns)
		return a->total_ns > b->total_ns ? -1 : 1;
	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	return *(const size_t *)x < *(const size_t *)y ? -1 : 1;
}

void sw_sites_group(struct sw_builder *b)
{
	struct sw_report *rep = b->rep;
	struct sw_strmap by_place = {0};
	size_t *order = xcalloc(b->nstacks ? b->nstacks : 1, sizeof(size_t));
	size_t i, cap = 0;

	/* Heaviest stacks first: each site's first variant, whose place and
	 * frames the site shows, is its heaviest. */
	for (i = 0; i < b->nstacks; i++)
		order[i] = i;
	qsort_r(order, b->nstacks, sizeof(*order), stack_weight_cmp, b->stacks);
	for (i = 0; i < b->nstacks; i++) {
		struct sw_stack *st = &b->stacks[order[i]];
		int cpu = st->kind == SW_SITE_CPU;
		struct sw_place pl;
		struct sw_site *s;
		struct sw_variant *v;
		char *pk, *key;
		size_t idx = rep->nsites;

		sw_place_compute(st->frames, st->nframes, cpu ? NULL : st->call,
				 &pl);
		pk = sw_place_key(&pl, cpu);
		key = xasprintf("%d\x1f%s\x1f%s", (int)st->kind, st->call, pk);
		free(pk);
		if (sw_strmap_get_or_put(&by_place, key, &idx)) {
			free(key);
			sw_place_free(&pl);
		} else {
			SW_GROW(rep->sites, rep->nsites, cap);
			s = &rep->sites[rep->nsites++];
			memset(s, 0, sizeof(*s));
			s->kind = st->kind;
			s->call = st->call;
			s->fd_kind = st->fd_kind;
			s->strict_only = 1;
			s->place = pl;
		}
		s = &rep->sites[idx];
		s->variants = xreallocarray(s->variants, s->nvariants + 1,
					    sizeof(*s->variants));
		v = &s->variants[s->nvariants];
		v->frames = st->frames;
		v->nframes = st->nframes;
		v->count = st->count;
		v->total_ns = st->total_ns;
		v->max_ns = st->max_ns;
		st->frames = NULL; /* the variant owns them now */
		st->nframes = 0;
		st->site = idx;
		st->variant = s->nvariants++;
		s->count += st->count;
		s->total_ns = s->total_ns + st->total_ns < s->total_ns
				  ? UINT64_MAX
				  : s->total_ns + st->total_ns;
		if (st->max_ns > s->max_ns)
			s->max_ns = st->max_ns;
		if (!st->strict_only)
			s->strict_only = 0;
	}
	for (i = 0; i < rep->nsites; i++) {
		rep->sites[i].frames = rep->sites[i].variants[0].frames;
		rep->sites[i].nframes = rep->sites[i].variants[0].nframes;
	}
	for (i = 0; i < rep->nevents; i++) {
		const struct sw_stack *st = &b->stacks[b->links[i].ev.site];

		b->links[i].ev.site = st->site;
		b->links[i].ev.variant = st->variant;
	}
	free(order);
	sw_strmap_free(&by_place);
}

/* ---- ranking --------------------------------------------------------------
 */

struct site_rank {
	size_t old;
	uint64_t total, count;
};

static int rank_cmp(const void *x, const void *y)
{
	const struct site_rank *a = x, *b = y;

	if (a->total != b->total)
		return a->total > b->total ? -1 : 1;
	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	return a->old < b->old ? -1 : a->old > b->old;
}

void sw_sites_rank(struct sw_report *rep)
{
	size_t n = rep->nsites ? rep->nsites : 1, i, j;
	struct site_rank *r = xcalloc(n, sizeof(*r));
	size_t *newidx = xcalloc(n, sizeof(size_t));
	struct sw_site *sorted = xcalloc(n, sizeof(*sorted));

	for (i = 0; i < rep->nsites; i++)
		r[i] = (struct site_rank){i, rep->sites[i].total_ns,
					  rep->sites[i].count};
	qsort(r, rep->nsites, sizeof(*r), rank_cmp);
	for (i = 0; i < rep->nsites; i++) {
		newidx[r[i].old] = i;
		sorted[i] = rep->sites[r[i].old];
	}
	free(rep->sites);
	rep->sites = sorted;
	for (i = 0; i < rep->nevents; i++)
		rep->events[i].site = newidx[rep->events[i].site];
	for (i = 0; i < rep->nstalls; i++)
		for (j = 0; j < rep->stalls[i].nsites; j++)
			rep->stalls[i].sites[j] =
			    newidx[rep->stalls[i].sites[j]];
	/* Variants keep their order (heaviest raw stack first when
	 * grouped): events refer to them by index. */
	free(r);
	free(newidx);
}
