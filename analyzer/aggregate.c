/*
 * aggregate.c - trace files -> struct sw_report (model.h).
 *
 * Per process: the loops with their latest heartbeat, the events
 * symbolized and merged with their Python frames, the stalls.  Across
 * processes: identical merged stacks of the same kind and call become one
 * site.  Each stall is then explained by the events of its turn: time in
 * blocking calls (and private loops, GIL waits) is "blocked", samples
 * outside those calls are "cpu", so no time is counted twice.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../include/sw_calls.h"
#include "../include/sw_hist.h"
#include "model.h"
#include "pymerge.h"
#include "reader.h"
#include "symbolize.h"
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
	for (i = 0; i < site->nframes; i++)
		if (site->frames[i].lang == SW_LANG_PYTHON)
			return &site->frames[i];
	for (i = 0; i < site->nframes; i++)
		if (site->frames[i].file)
			return &site->frames[i];
	return &site->frames[0];
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

/* ---- a string-keyed and an integer-keyed hash --------------------------- */

struct str_map {
	char **keys;
	size_t *vals;
	size_t nslots, n;
};

static uint64_t fnv(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static void str_map_grow(struct str_map *m)
{
	struct str_map n = {0};
	size_t i;

	n.nslots = m->nslots ? m->nslots * 2 : 256;
	n.keys = xcalloc(n.nslots, sizeof(*n.keys));
	n.vals = xcalloc(n.nslots, sizeof(*n.vals));
	for (i = 0; i < m->nslots; i++) {
		size_t h;

		if (!m->keys[i])
			continue;
		h = fnv(m->keys[i], strlen(m->keys[i])) & (n.nslots - 1);
		while (n.keys[h])
			h = (h + 1) & (n.nslots - 1);
		n.keys[h] = m->keys[i];
		n.vals[h] = m->vals[i];
	}
	n.n = m->n;
	free(m->keys);
	free(m->vals);
	*m = n;
}

/* Find key; when absent insert it with *val (taking the key) and return 0;
 * when present set *val and return 1 (the key stays the caller's). */
static int str_map_get_or_put(struct str_map *m, char *key, size_t *val)
{
	size_t h;

	if ((m->n + 1) * 2 > m->nslots)
		str_map_grow(m);
	h = fnv(key, strlen(key)) & (m->nslots - 1);
	while (m->keys[h]) {
		if (strcmp(m->keys[h], key) == 0) {
			*val = m->vals[h];
			return 1;
		}
		h = (h + 1) & (m->nslots - 1);
	}
	m->keys[h] = key;
	m->vals[h] = *val;
	m->n++;
	return 0;
}

static void str_map_free(struct str_map *m)
{
	size_t i;

	for (i = 0; i < m->nslots; i++)
		free(m->keys[i]);
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

/* Keys of up to four integers. */
struct int_key {
	uint64_t a, b, c, d;
};

struct int_map {
	struct int_key *keys;
	size_t *vals; /* index + 1, 0 empty */
	size_t nslots, n;
};

static size_t int_hash(const struct int_key *k)
{
	uint64_t h = k->a * 0x9e3779b97f4a7c15ull;

	h ^= (k->b + 0x7f4a7c15ull) * 0xbf58476d1ce4e5b9ull;
	h ^= (k->c + 0x94d049bbull) * 0x94d049bb133111ebull;
	h ^= (k->d + 0x2545f491ull) * 0x2545f4914f6cdd1dull;
	return (size_t)(h ^ (h >> 29));
}

static void int_map_put(struct int_map *m, const struct int_key *k, size_t val);

static void int_map_grow(struct int_map *m)
{
	struct int_map n = {0};
	size_t i;

	n.nslots = m->nslots ? m->nslots * 2 : 256;
	n.keys = xcalloc(n.nslots, sizeof(*n.keys));
	n.vals = xcalloc(n.nslots, sizeof(*n.vals));
	for (i = 0; i < m->nslots; i++)
		if (m->vals[i])
			int_map_put(&n, &m->keys[i], m->vals[i] - 1);
	free(m->keys);
	free(m->vals);
	*m = n;
}

static long int_map_get(const struct int_map *m, const struct int_key *k)
{
	size_t h;

	if (!m->nslots)
		return -1;
	h = int_hash(k) & (m->nslots - 1);
	while (m->vals[h]) {
		if (!memcmp(&m->keys[h], k, sizeof(*k)))
			return (long)(m->vals[h] - 1);
		h = (h + 1) & (m->nslots - 1);
	}
	return -1;
}

/* Insert or overwrite. */
static void int_map_put(struct int_map *m, const struct int_key *k, size_t val)
{
	size_t h;

	if ((m->n + 1) * 2 > m->nslots)
		int_map_grow(m);
	h = int_hash(k) & (m->nslots - 1);
	while (m->vals[h]) {
		if (!memcmp(&m->keys[h], k, sizeof(*k))) {
			m->vals[h] = val + 1;
			return;
		}
		h = (h + 1) & (m->nslots - 1);
	}
	m->keys[h] = *k;
	m->vals[h] = val + 1;
	m->n++;
}

static void int_map_free(struct int_map *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

/* ---- raw stacks -------------------------------------------------------- */

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

static uint64_t raw_hash(const uint64_t *k, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= k[i];
		h *= 0xbf58476d1ce4e5b9ull;
		h ^= h >> 31;
	}
	return h ^ (h >> 29);
}

/* Raw stacks -> sites; keys live back to back in one pool of words. */
struct raw_slot {
	uint64_t hash;
	size_t off, len; /* in pool */
	size_t site;	 /* + 1, 0 empty */
};

struct raw_map {
	struct raw_slot *slots;
	size_t nslots, n;
	uint64_t *pool;
	size_t npool, cap_pool;
};

static void raw_map_grow(struct raw_map *m)
{
	size_t nslots = m->nslots ? m->nslots * 2 : 256, i;
	struct raw_slot *ns = xcalloc(nslots, sizeof(*ns));

	for (i = 0; i < m->nslots; i++) {
		size_t h;

		if (!m->slots[i].site)
			continue;
		h = m->slots[i].hash & (nslots - 1);
		while (ns[h].site)
			h = (h + 1) & (nslots - 1);
		ns[h] = m->slots[i];
	}
	free(m->slots);
	m->slots = ns;
	m->nslots = nslots;
}

/* The site of key k[0..n), or -1 and the slot to fill in *slot. */
static long raw_map_get(const struct raw_map *m, const uint64_t *k, size_t n,
			uint64_t hash)
{
	size_t h;

	if (!m->nslots)
		return -1;
	h = hash & (m->nslots - 1);
	while (m->slots[h].site) {
		const struct raw_slot *s = &m->slots[h];

		if (s->hash == hash && s->len == n &&
		    !memcmp(m->pool + s->off, k, n * 8))
			return (long)(s->site - 1);
		h = (h + 1) & (m->nslots - 1);
	}
	return -1;
}

/* Add a key known to be absent. */
static void raw_map_put(struct raw_map *m, const uint64_t *k, size_t n,
			uint64_t hash, size_t site)
{
	size_t h;

	if ((m->n + 1) * 2 > m->nslots)
		raw_map_grow(m);
	if (m->npool + n > m->cap_pool) {
		size_t cap = m->cap_pool ? m->cap_pool : 1024;

		while (cap < m->npool + n)
			cap *= 2;
		m->pool = xreallocarray(m->pool, cap, sizeof(*m->pool));
		m->cap_pool = cap;
	}
	memcpy(m->pool + m->npool, k, n * 8);
	h = hash & (m->nslots - 1);
	while (m->slots[h].site)
		h = (h + 1) & (m->nslots - 1);
	m->slots[h] = (struct raw_slot){
	    .hash = hash, .off = m->npool, .len = n, .site = site + 1};
	m->npool += n;
	m->n++;
}

static void raw_map_free(struct raw_map *m)
{
	free(m->slots);
	free(m->pool);
	memset(m, 0, sizeof(*m));
}

/* ---- building the report ------------------------------------------------ */

struct ev_sort {
	struct sw_event ev;
	size_t pos;
	uint32_t loop_id, turn_seq;
	uint16_t kind;
	uint64_t weight;
};

struct builder {
	struct sw_report *rep;
	const struct sw_load_opts *opts;
	size_t cap_sites, cap_events, cap_notes;
	struct str_map site_by_stack;
	struct int_map site_by_caller; /* (process, kind, call, ips[0]) */
	struct raw_map site_by_raw;    /* a process's raw stack -> site */
	struct str_map notes_seen;
	struct ev_sort *links; /* parallel to rep->events */
	size_t cap_links;
};

static void add_note(struct builder *b, char *msg)
{
	size_t v = 0;

	if (str_map_get_or_put(&b->notes_seen, msg, &v)) {
		free(msg);
		return;
	}
	SW_GROW(b->rep->notes, b->rep->nnotes, b->cap_notes);
	b->rep->notes[b->rep->nnotes++] = xstrdup(msg);
}

static void free_frames(struct sw_frame *f, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(f[i].function);
		free(f[i].file);
		free(f[i].module);
	}
	free(f);
}

static char *stack_key(enum sw_site_kind kind, const char *call,
		       const struct sw_frame *f, size_t n)
{
	struct sw_buf k = {0};
	size_t i;

	sw_buf_printf(&k, "%d\x1f%s", (int)kind, call);
	for (i = 0; i < n; i++) {
		sw_buf_printf(&k, "\x1e%d\x1f%s\x1f%s\x1f%d\x1f%s\x1f%d",
			      f[i].lang, f[i].function ? f[i].function : "",
			      f[i].file ? f[i].file : "", f[i].line,
			      f[i].module ? f[i].module : "", f[i].inlined);
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

/* Find or create the site for a merged stack; takes the frames. */
static size_t site_for(struct builder *b, enum sw_site_kind kind,
		       const char *call, int fd_kind, struct sw_frame *frames,
		       size_t n)
{
	struct sw_report *rep = b->rep;
	char *key = stack_key(kind, call, frames, n);
	size_t idx = rep->nsites;
	struct sw_site *s;

	if (str_map_get_or_put(&b->site_by_stack, key, &idx)) {
		free(key);
		free_frames(frames, n);
		return idx;
	}
	SW_GROW(rep->sites, rep->nsites, b->cap_sites);
	s = &rep->sites[rep->nsites++];
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

static void add_to_site(struct builder *b, size_t site,
			const struct sw_process *p,
			const struct sw_rec_event *e)
{
	struct sw_site *s = &b->rep->sites[site];
	uint64_t w = event_weight(p, e);
	uint64_t mx = e->kind == SW_EV_SAMPLE ? w / e->count : e->max_ns;

	s->count += e->count;
	s->total_ns =
	    s->total_ns + w < s->total_ns ? UINT64_MAX : s->total_ns + w;
	if (mx > s->max_ns)
		s->max_ns = mx;
	if (!(e->ev_flags & SW_EVF_STRICT))
		s->strict_only = 0;
}

static void add_event(struct builder *b, size_t pi,
		      const struct sw_rec_event *e, size_t site)
{
	struct sw_report *rep = b->rep;
	struct sw_event *ev;

	SW_GROW(rep->events, rep->nevents, b->cap_events);
	ev = &rep->events[rep->nevents++];
	ev->process = pi;
	ev->tid = e->tid;
	ev->start_ns = e->start_ns;
	ev->duration_ns = e->duration_ns;
	ev->site = site;
	ev->stall = -1;
	ev->count = e->count;
	ev->total_ns = event_weight(&rep->processes[pi], e);
	if (b->cap_links < b->cap_events) {
		b->cap_links = b->cap_events;
		b->links =
		    xreallocarray(b->links, b->cap_links, sizeof(*b->links));
	}
	b->links[rep->nevents - 1] = (struct ev_sort){
	    .ev = *ev,
	    .pos = rep->nevents - 1,
	    .loop_id = e->loop_id,
	    .turn_seq = e->turn_seq,
	    .kind = e->kind,
	    .weight = event_weight(&rep->processes[pi], e),
	};
}

struct event_link {
	uint32_t loop_id, turn_seq;
	uint16_t kind;
	uint64_t weight; /* blocked time or sampled time of the event */
};

/* Symbolize a record's stack and merge its Python frames. */
static void build_stack(struct builder *b, struct sw_symbolizer *sym,
			const struct sw_trace *t, const struct sw_tevent *te,
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
	(void)b;
	free(native); /* shallow copies of the symbolizer's frames */
}

static uint64_t hist_percentile(const uint64_t *buckets, double q, uint64_t cap)
{
	uint64_t total = 0, rank, cum = 0, v = 0;
	unsigned i;

	for (i = 0; i < SW_HIST_BUCKETS; i++)
		total += buckets[i];
	if (!total)
		return 0;
	rank = (uint64_t)(q * (double)total);
	if ((double)rank < q * (double)total)
		rank++;
	if (rank == 0)
		rank = 1;
	for (i = 0; i < SW_HIST_BUCKETS; i++) {
		cum += buckets[i];
		if (cum >= rank) {
			v = sw_hist_upper(i);
			break;
		}
	}
	if (cap && v > cap)
		v = cap;
	return v;
}

static void build_loops(struct sw_process *p, const struct sw_trace *t)
{
	size_t i;

	p->loops = xcalloc(t->nloops ? t->nloops : 1, sizeof(*p->loops));
	for (i = 0; i < t->nloops; i++) {
		const struct sw_tloop *tl = &t->loops[i];
		struct sw_loop *l = &p->loops[p->nloops++];
		size_t k;

		l->loop_id = tl->rec.loop_id;
		l->tid = tl->rec.tid;
		l->thread_name = xstrdup(tl->thread_name);
		l->born_ns = tl->rec.time_ns;
		l->last_ns = tl->ended ? tl->end_ns : tl->rec.time_ns;
		for (k = 0; k < t->nstalls; k++)
			if (t->stalls[k].loop_id == l->loop_id)
				l->stalls++;
		if (!tl->has_heartbeat)
			continue;
		if (tl->hb.born_ns)
			l->born_ns = tl->hb.born_ns;
		if (tl->hb.time_ns > l->last_ns)
			l->last_ns = tl->hb.time_ns;
		l->turns = tl->hb.turns;
		l->busy_ns = tl->hb.busy_ns;
		l->max_turn_ns = tl->hb.max_turn_ns;
		if (tl->hb.stalls > l->stalls)
			l->stalls = tl->hb.stalls;
		l->hist = xmalloc(SW_HIST_BUCKETS * sizeof(uint64_t));
		memcpy(l->hist, tl->buckets,
		       SW_HIST_BUCKETS * sizeof(uint64_t));
		l->lag_p50_ns = hist_percentile(l->hist, 0.50, l->max_turn_ns);
		l->lag_p99_ns = hist_percentile(l->hist, 0.99, l->max_turn_ns);
		l->lag_max_ns = l->max_turn_ns;
		if (tl->hb.time_ns > l->born_ns) {
			l->utilisation = (double)l->busy_ns /
					 (double)(tl->hb.time_ns - l->born_ns);
			if (l->utilisation > 1)
				l->utilisation = 1;
		}
	}
}

static size_t loop_index(struct sw_process *p, uint32_t loop_id, uint32_t tid)
{
	struct sw_loop *l;
	size_t i;

	for (i = 0; i < p->nloops; i++)
		if (p->loops[i].loop_id == loop_id)
			return i;
	/* A stall for a loop never announced (hostile or torn file): give
	 * it a loop so every stall has one. */
	p->loops = xreallocarray(p->loops, p->nloops + 1, sizeof(*p->loops));
	l = &p->loops[p->nloops];
	memset(l, 0, sizeof(*l));
	l->loop_id = loop_id;
	l->tid = tid;
	l->thread_name = xstrdup("");
	return p->nloops++;
}

static void build_process(struct builder *b, struct sw_process *p,
			  const struct sw_trace *t)
{
	p->pid = t->proc.pid;
	p->ppid = t->proc.ppid;
	p->command = xstrdup(t->cmdline ? t->cmdline : "");
	p->exe = xstrdup(t->exe ? t->exe : "");
	p->comm = xstrdup(t->comm ? t->comm : "");
	p->trace_path = xstrdup(t->path);
	p->start_realtime_ns = t->proc.start_realtime_ns;
	p->start_mono_ns = t->proc.start_mono_ns;
	p->threshold_ns = t->proc.threshold_ns;
	p->call_threshold_ns = t->proc.call_threshold_ns;
	p->sample_interval_ns = t->proc.sample_interval_ns;
	p->strict = !!(t->proc.proc_flags & SW_PROC_STRICT);
	p->clean_exit = t->has_end;
	p->records = t->records;
	p->torn_bytes = t->torn_bytes;
	build_loops(p, t);
	(void)b;
}

static char *perfmap_path_of(const char *trace_path)
{
	size_t n = strlen(trace_path), m = strlen(SW_TRACE_SUFFIX);

	if (n > m && strcmp(trace_path + n - m, SW_TRACE_SUFFIX) == 0)
		return xasprintf("%.*s%s", (int)(n - m), trace_path,
				 SW_PERFMAP_SUFFIX);
	return xasprintf("%s%s", trace_path, SW_PERFMAP_SUFFIX);
}

static void process_notes(struct builder *b, const struct sw_process *p,
			  const struct sw_trace *t, struct sw_symbolizer *sym,
			  int unplaced, int execd)
{
	char *const *sn;
	size_t i, n;

	for (i = 0; i < t->nproblems; i++)
		add_note(b, xstrdup(t->problems[i]));
	for (i = 0; i < t->nnotes; i++)
		add_note(b, xasprintf("pid %u (%s): %s%s", p->pid, p->comm,
				      t->notes[i].level == SW_NOTE_WARN
					  ? "warning: "
					  : "",
				      t->notes[i].text));
	if (t->has_end && t->end.records_dropped)
		add_note(b,
			 xasprintf("pid %u (%s): the shim could not write %llu "
				   "records; the report is incomplete",
				   p->pid, p->comm,
				   (unsigned long long)t->end.records_dropped));
	/* A process image replaced by exec writes no end record: the next
	 * trace of its pid continues it. */
	if (!t->has_end && !execd)
		add_note(b, xasprintf("pid %u (%s): no end record: the process "
				      "was killed, crashed or is still running "
				      "(what it wrote is reported)",
				      p->pid, p->comm));
	n = sw_sym_notes(sym, &sn);
	for (i = 0; i < n; i++)
		add_note(b, xstrdup(sn[i]));
	for (i = 0; i < t->nevents; i++)
		if (t->events[i].rec.ev_flags & SW_EVF_PY_UNKNOWN)
			break;
	if (i < t->nevents)
		add_note(
		    b, xasprintf("pid %u (%s): this Python's frames could not "
				 "be read (unknown version or layout); "
				 "stacks are native only",
				 p->pid, p->comm));
	for (i = 0; i < t->nevents; i++)
		if (t->events[i].rec.ev_flags & SW_EVF_TRUNCATED)
			break;
	if (i < t->nevents)
		add_note(b,
			 xasprintf("pid %u (%s): some stacks were deeper than "
				   "recorded and are cut at the outer end",
				   p->pid, p->comm));
	if (unplaced)
		add_note(b, xasprintf("pid %u (%s): Python frames could not be "
				      "placed among native frames (no symbols "
				      "for the interpreter); they are shown "
				      "next to the call",
				      p->pid, p->comm));
}

/* All events of one trace: full stacks first, so that count-only records
 * (flood remainders) can join the site of the same caller. */
static void build_events(struct builder *b, size_t pi, const struct sw_trace *t,
			 struct sw_symbolizer *sym, int *unplaced)
{
	const struct sw_process *p = &b->rep->processes[pi];
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
			struct int_key ck = {pi, kind, e->call,
					     e->nips ? te->ips[0] : 0};
			struct sw_frame *frames;
			size_t nframes, site;
			long found;
			int up = 0;

			size_t nraw = 0;
			uint64_t rawhash = 0;

			if (count_only != pass)
				continue;
			found = count_only
				    ? int_map_get(&b->site_by_caller, &ck)
				    : -1;
			if (found < 0 && !count_only) {
				/* Most records repeat a stack already seen in
				 * this process: find its site without
				 * symbolizing. */
				nraw = raw_key(pi, te, raw);
				rawhash = raw_hash(raw, nraw);
				found = raw_map_get(&b->site_by_raw, raw, nraw,
						    rawhash);
			}
			if (found >= 0) {
				site = (size_t)found;
			} else {
				build_stack(b, sym, t, te, &frames, &nframes,
					    &up);
				if (up)
					*unplaced = 1;
				site = site_for(b, kind, call, e->fd_kind,
						frames, nframes);
				if (!count_only && e->nips &&
				    int_map_get(&b->site_by_caller, &ck) < 0)
					int_map_put(&b->site_by_caller, &ck,
						    site);
				if (nraw)
					raw_map_put(&b->site_by_raw, raw, nraw,
						    rawhash, site);
			}
			add_to_site(b, site, p, e);
			add_event(b, pi, e, site);
		}
	}
}

/* ---- stalls ------------------------------------------------------------- */

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

static int stall_cmp(const void *x, const void *y)
{
	const struct sw_stall *a = x, *b = y;

	if (a->process != b->process)
		return a->process < b->process ? -1 : 1;
	return cmp_u64(a->start_ns, b->start_ns);
}

static int ev_cmp(const void *x, const void *y)
{
	const struct ev_sort *a = x, *b = y;

	if (a->ev.process != b->ev.process)
		return a->ev.process < b->ev.process ? -1 : 1;
	if (a->ev.start_ns != b->ev.start_ns)
		return cmp_u64(a->ev.start_ns, b->ev.start_ns);
	return a->pos < b->pos ? -1 : a->pos > b->pos;
}

/* A trace is written in time order, so the events usually are already:
 * checking costs one pass, sorting a million of them much more.  ev_cmp
 * is a total order (pos breaks ties), so skipping the sort changes
 * nothing. */
static int ev_sorted(const struct ev_sort *es, size_t n)
{
	size_t i;

	for (i = 1; i < n; i++)
		if (ev_cmp(&es[i - 1], &es[i]) > 0)
			return 0;
	return 1;
}

struct span {
	uint64_t lo, hi;
};

static int span_cmp(const void *x, const void *y)
{
	const struct span *a = x, *b = y;

	return a->lo != b->lo ? cmp_u64(a->lo, b->lo) : cmp_u64(a->hi, b->hi);
}

struct site_time {
	size_t site;
	uint64_t ns;
};

static int site_time_cmp(const void *x, const void *y)
{
	const struct site_time *a = x, *b = y;

	if (a->ns != b->ns)
		return a->ns > b->ns ? -1 : 1;
	return a->site < b->site ? -1 : a->site > b->site;
}

static int is_blocking_kind(unsigned kind)
{
	return kind == SW_EV_CALL || kind == SW_EV_PRIVATE_LOOP ||
	       kind == SW_EV_GIL_WAIT;
}

/* Blocked and CPU time of one stall from its events es[0..n). */
static int site_cmp(const void *x, const void *y)
{
	const struct site_time *a = x, *b = y;

	return a->site < b->site ? -1 : a->site > b->site;
}

/* Is t inside one of the merged, sorted spans m[0..n)? */
static int covered_by(const struct span *m, size_t n, uint64_t t)
{
	size_t lo = 0, hi = n;

	while (lo < hi) { /* first span starting after t */
		size_t mid = lo + (hi - lo) / 2;

		if (m[mid].lo <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && t < m[lo - 1].hi;
}

/*
 * Blocked and CPU time of one stall from its events es[0..n), and the
 * sites that explain it, most time first.  The blocking events' intervals
 * are merged first, so overlapping calls (a GIL wait inside a call) are
 * not counted twice, and a sample inside one of them is not CPU time.
 */
static void explain_stall(struct sw_stall *st, struct ev_sort *es, size_t n,
			  const struct sw_report *rep)
{
	uint64_t lo = st->start_ns, hi = st->start_ns + st->duration_ns;
	struct span *spans = xcalloc(n ? n : 1, sizeof(*spans));
	struct site_time *times = xcalloc(n ? n : 1, sizeof(*times));
	size_t ns = 0, nm = 0, nt = 0, i, j;
	uint64_t blocked = 0, extra = 0, cpu = 0;

	if (hi < lo)
		hi = UINT64_MAX;
	for (i = 0; i < n; i++) {
		const struct ev_sort *e = &es[i];
		uint64_t s = e->ev.start_ns, t;

		if (!is_blocking_kind(e->kind))
			continue;
		t = s + e->ev.duration_ns < s ? UINT64_MAX
					      : s + e->ev.duration_ns;
		/* Occurrences folded into this record have no times of
		 * their own: count their time, but they cannot be placed. */
		if (e->weight > e->ev.duration_ns)
			extra += e->weight - e->ev.duration_ns;
		if (t > s)
			spans[ns++] = (struct span){s, t};
	}
	qsort(spans, ns, sizeof(*spans), span_cmp);
	for (i = 0; i < ns; i++) { /* merge in place */
		if (nm && spans[i].lo <= spans[nm - 1].hi) {
			if (spans[i].hi > spans[nm - 1].hi)
				spans[nm - 1].hi = spans[i].hi;
			continue;
		}
		spans[nm++] = spans[i];
	}
	for (i = 0; i < nm; i++) {
		uint64_t s = spans[i].lo < lo ? lo : spans[i].lo;
		uint64_t t = spans[i].hi > hi ? hi : spans[i].hi;

		if (t > s)
			blocked += t - s;
	}
	blocked += extra;
	if (blocked > st->duration_ns)
		blocked = st->duration_ns;
	for (i = 0; i < n; i++) {
		const struct ev_sort *e = &es[i];

		if (e->kind == SW_EV_SAMPLE) {
			/* A sample taken inside a blocking call is blocked
			 * time, already counted: not CPU. */
			if (covered_by(spans, nm, e->ev.start_ns))
				continue;
			cpu += e->weight;
		}
		times[nt++] = (struct site_time){e->ev.site, e->weight};
	}
	if (cpu > st->duration_ns - blocked)
		cpu = st->duration_ns - blocked;
	st->blocked_ns = blocked;
	st->cpu_ns = cpu;
	/* Sum per site, then rank. */
	qsort(times, nt, sizeof(*times), site_cmp);
	for (i = 0, j = 0; i < nt; i++) {
		if (j && times[j - 1].site == times[i].site) {
			times[j - 1].ns += times[i].ns;
			continue;
		}
		times[j++] = times[i];
	}
	nt = j;
	qsort(times, nt, sizeof(*times), site_time_cmp);
	st->sites = xcalloc(nt ? nt : 1, sizeof(size_t));
	for (i = 0; i < nt; i++)
		st->sites[i] = times[i].site;
	st->nsites = nt;
	free(spans);
	free(times);
	(void)rep;
}

/*
 * Stalls from every trace, sorted; events sorted the same way and linked
 * to the stall of their (process, loop, turn).
 */
struct stall_sort {
	struct sw_stall st;
	uint32_t loop_id, turn_seq;
};

static int stall_sort_cmp(const void *x, const void *y)
{
	return stall_cmp(&((const struct stall_sort *)x)->st,
			 &((const struct stall_sort *)y)->st);
}

static void build_stalls(struct builder *b, struct sw_trace *traces,
			 size_t ntraces, struct ev_sort *es)
{
	struct sw_report *rep = b->rep;
	struct int_map by_turn = {0};
	struct stall_sort *ss = NULL;
	size_t n = 0, cap = 0, pi, i, start;

	for (pi = 0; pi < ntraces; pi++) {
		struct sw_trace *t = &traces[pi];

		for (i = 0; i < t->nstalls; i++) {
			const struct sw_rec_stall *r = &t->stalls[i];
			struct stall_sort *x;

			SW_GROW(ss, n, cap);
			x = &ss[n++];
			memset(x, 0, sizeof(*x));
			x->st.process = pi;
			x->st.loop =
			    loop_index(&rep->processes[pi], r->loop_id, r->tid);
			x->st.pid = t->proc.pid;
			x->st.tid = r->tid;
			x->st.start_ns = r->start_ns;
			x->st.duration_ns = r->duration_ns;
			x->loop_id = r->loop_id;
			x->turn_seq = r->turn_seq;
		}
	}
	if (ss)
		qsort(ss, n, sizeof(*ss), stall_sort_cmp);
	rep->stalls = xcalloc(n ? n : 1, sizeof(*rep->stalls));
	rep->nstalls = n;
	for (i = 0; i < n; i++) {
		struct int_key k = {ss[i].st.process, ss[i].loop_id,
				    ss[i].turn_seq, 0};

		rep->stalls[i] = ss[i].st;
		if (int_map_get(&by_turn, &k) < 0)
			int_map_put(&by_turn, &k, i);
	}
	free(ss);
	for (i = 0; i < rep->nevents; i++) {
		struct int_key k = {es[i].ev.process, es[i].loop_id,
				    es[i].turn_seq, 0};
		long s = es[i].loop_id ? int_map_get(&by_turn, &k) : -1;

		es[i].ev.stall = s;
	}
	/* Each stall's events: group by stall with a counting sort. */
	{
		size_t *cnt = xcalloc(rep->nstalls + 1, sizeof(size_t));
		size_t *order =
		    xcalloc(rep->nevents ? rep->nevents : 1, sizeof(size_t));
		struct ev_sort *grp;

		for (i = 0; i < rep->nevents; i++)
			if (es[i].ev.stall >= 0)
				cnt[es[i].ev.stall + 1]++;
		for (i = 0; i < rep->nstalls; i++)
			cnt[i + 1] += cnt[i];
		grp = xcalloc(cnt[rep->nstalls] ? cnt[rep->nstalls] : 1,
			      sizeof(*grp));
		{
			size_t *fill =
			    xcalloc(rep->nstalls + 1, sizeof(size_t));

			for (i = 0; i < rep->nevents; i++) {
				long s = es[i].ev.stall;

				if (s < 0)
					continue;
				grp[cnt[s] + fill[s]++] = es[i];
			}
			free(fill);
		}
		for (i = 0; i < rep->nstalls; i++) {
			start = cnt[i];
			explain_stall(&rep->stalls[i], grp + start,
				      cnt[i + 1] - start, rep);
		}
		free(grp);
		free(order);
		free(cnt);
	}
	int_map_free(&by_turn);
}

/* ---- sites ranking ------------------------------------------------------ */

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

static void rank_sites(struct sw_report *rep)
{
	struct site_rank *r =
	    xcalloc(rep->nsites ? rep->nsites : 1, sizeof(*r));
	size_t *newidx = xcalloc(rep->nsites ? rep->nsites : 1, sizeof(size_t));
	struct sw_site *sorted =
	    xcalloc(rep->nsites ? rep->nsites : 1, sizeof(*sorted));
	size_t i;

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
	free(r);
	free(newidx);
}

/* ---- loading ------------------------------------------------------------ */

static int trace_cmp(const void *x, const void *y)
{
	const struct sw_trace *a = x, *b = y;

	if (a->proc.start_realtime_ns != b->proc.start_realtime_ns)
		return cmp_u64(a->proc.start_realtime_ns,
			       b->proc.start_realtime_ns);
	if (a->proc.pid != b->proc.pid)
		return a->proc.pid < b->proc.pid ? -1 : 1;
	return strcmp(a->path, b->path);
}

/* What a symbolizer depends on: the modules, where they are, which
 * files. */
static char *module_signature(const struct sw_trace *t)
{
	struct sw_buf b = {0};
	size_t i, k;

	for (i = 0; i < t->nmodules; i++) {
		const struct sw_tmodule *m = &t->modules[i];

		sw_buf_printf(&b, "%s\x1f%llx\x1f%llx\x1f%x\x1f", m->path,
			      (unsigned long long)m->bias,
			      (unsigned long long)m->base, m->flags);
		for (k = 0; k < m->build_id_len; k++)
			sw_buf_printf(&b, "%02x", m->build_id[k]);
		for (k = 0; k < m->nsegments; k++)
			sw_buf_printf(&b, ",%llx-%llx",
				      (unsigned long long)m->segments[k].start,
				      (unsigned long long)m->segments[k].end);
		sw_buf_add(&b, "\x1e", 1);
	}
	return sw_buf_take(&b);
}

static int named_explicitly(char *const *paths, size_t npaths, const char *f)
{
	size_t i;

	for (i = 0; i < npaths; i++)
		if (strcmp(paths[i], f) == 0)
			return 1;
	return 0;
}

int sw_report_load(struct sw_report *rep, char *const *paths, size_t npaths,
		   const struct sw_load_opts *opts)
{
	static const struct sw_load_opts defaults;
	struct builder b = {0};
	struct sw_trace *traces = NULL;
	struct int_map seen = {0};
	struct str_map shared_by_sig = {0};
	struct sw_symbolizer **shared = NULL;
	size_t nshared = 0, cap_shared = 0;
	struct ev_sort *es = NULL;
	char **files = NULL, err[512];
	size_t nfiles = 0, ntraces = 0, i, j;
	int rc = -1;

	memset(rep, 0, sizeof(*rep));
	if (!opts)
		opts = &defaults;
	b.rep = rep;
	b.opts = opts;
	if (sw_trace_expand(paths, npaths, &files, &nfiles, err, sizeof(err)) !=
	    0) {
		sw_err("%s", err);
		return -1;
	}
	traces = xcalloc(nfiles ? nfiles : 1, sizeof(*traces));
	for (i = 0; i < nfiles; i++) {
		struct stat st;

		/* The same file named twice (a directory and a file in it)
		 * is read once. */
		if (stat(files[i], &st) == 0) {
			struct int_key k = {st.st_dev, st.st_ino, 0, 0};

			if (int_map_get(&seen, &k) >= 0)
				continue;
			int_map_put(&seen, &k, i);
			/* In a directory, an empty trace is a process that
			 * ended between creating its file and its first
			 * write: worth a note, not a failed report. */
			if (st.st_size == 0 && S_ISREG(st.st_mode) &&
			    !named_explicitly(paths, npaths, files[i])) {
				add_note(&b, xasprintf(
						 "%s: empty trace (the process "
						 "ended before writing)",
						 files[i]));
				continue;
			}
		}
		if (sw_trace_read(&traces[ntraces], files[i], err,
				  sizeof(err)) != 0) {
			sw_err("%s: %s", files[i], err);
			sw_trace_free(&traces[ntraces]);
			goto out;
		}
		ntraces++;
	}
	for (i = 0; i < npaths; i++) {
		struct stat st;

		if (stat(paths[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			for (j = 0; j < nfiles; j++)
				if (!strncmp(files[j], paths[i],
					     strlen(paths[i])))
					break;
			if (j == nfiles)
				add_note(&b,
					 xasprintf(
					     "%s: no trace files (*%s) in this "
					     "directory",
					     paths[i], SW_TRACE_SUFFIX));
		}
	}
	qsort(traces, ntraces, sizeof(*traces), trace_cmp);
	rep->processes =
	    xcalloc(ntraces ? ntraces : 1, sizeof(*rep->processes));
	rep->nprocesses = ntraces;
	for (i = 0; i < ntraces; i++) {
		struct sw_symbolizer *sym = NULL;
		char *pm = perfmap_path_of(traces[i].path), *sig = NULL;
		int unplaced = 0, own = 1;

		build_process(&b, &rep->processes[i], &traces[i]);
		/* Forked workers map the same objects at the same places:
		 * they share one symbolizer and its cache.  A process with
		 * a JIT perf map has its own.  A process with no events
		 * needs no symbols (a run of shell scripts writes many). */
		if (!opts->no_symbols && traces[i].nevents &&
		    access(pm, F_OK) != 0) {
			size_t v = nshared;

			sig = module_signature(&traces[i]);
			if (str_map_get_or_put(&shared_by_sig, sig, &v)) {
				free(sig);
				sym = shared[v];
				own = 0;
			} else {
				sym = sw_sym_open(&traces[i], 0, NULL);
				SW_GROW(shared, nshared, cap_shared);
				shared[nshared++] = sym;
				own = 0;
			}
		}
		if (!sym)
			sym = sw_sym_open(
			    &traces[i], opts->no_symbols || !traces[i].nevents,
			    pm);
		free(pm);
		build_events(&b, i, &traces[i], sym, &unplaced);
		for (j = i + 1; j < ntraces; j++)
			if (traces[j].proc.pid == traces[i].proc.pid)
				break;
		process_notes(&b, &rep->processes[i], &traces[i], sym, unplaced,
			      j < ntraces);
		if (own)
			sw_sym_close(sym);
	}
	for (i = 0; i < nshared; i++)
		sw_sym_close(shared[i]);
	free(shared);
	str_map_free(&shared_by_sig);
	rank_sites(rep);
	/* Events, sorted by process and time, with what links them. */
	es = b.links;
	b.links = NULL;
	for (i = 0; i < rep->nevents; i++)
		es[i].ev.site = rep->events[i].site; /* ranked */
	if (es && !ev_sorted(es, rep->nevents))
		qsort(es, rep->nevents, sizeof(*es), ev_cmp);
	rc = 0;
	build_stalls(&b, traces, ntraces, es);
	for (i = 0; i < rep->nevents; i++)
		rep->events[i] = es[i].ev;
out:
	free(es);
	for (i = 0; i < ntraces; i++)
		sw_trace_free(&traces[i]);
	free(traces);
	for (i = 0; i < nfiles; i++)
		free(files[i]);
	free(files);
	int_map_free(&seen);
	int_map_free(&b.site_by_caller);
	str_map_free(&b.site_by_stack);
	raw_map_free(&b.site_by_raw);
	str_map_free(&b.notes_seen);
	free(b.links);
	if (rc != 0)
		sw_report_free(rep);
	return rc;
}

void sw_report_free(struct sw_report *rep)
{
	size_t i, j;

	for (i = 0; i < rep->nprocesses; i++) {
		struct sw_process *p = &rep->processes[i];

		free(p->command);
		free(p->exe);
		free(p->comm);
		free(p->trace_path);
		for (j = 0; j < p->nloops; j++) {
			free(p->loops[j].thread_name);
			free(p->loops[j].hist);
		}
		free(p->loops);
	}
	free(rep->processes);
	for (i = 0; i < rep->nsites; i++)
		free_frames(rep->sites[i].frames, rep->sites[i].nframes);
	free(rep->sites);
	for (i = 0; i < rep->nstalls; i++)
		free(rep->stalls[i].sites);
	free(rep->stalls);
	free(rep->events);
	for (i = 0; i < rep->nnotes; i++)
		free(rep->notes[i]);
	free(rep->notes);
	memset(rep, 0, sizeof(*rep));
}
