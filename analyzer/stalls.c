/*
 * stalls.c - each stall explained by the events of its turn.
 *
 * Time in blocking calls (and private loops, GIL waits) is "blocked";
 * samples outside those calls are "cpu", so no time is counted twice.
 * Samples start only once a turn is over the threshold, so the CPU time
 * before the first one would read as unexplained: the turn's CPU clock
 * (sw_rec_stall.cpu_ns) gives it, and it is shared among the turn's
 * samples in proportion to their weight (doc/design.md, "Whole stalls").
 * What the clock says was not on the CPU, outside every call seen, is
 * "off CPU"; only without the clock (older traces) is it unexplained.
 */
#include <stdlib.h>
#include <string.h>

#include "build.h"
#include "util.h"

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
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

static int site_cmp(const void *x, const void *y)
{
	const struct site_time *a = x, *b = y;

	return a->site < b->site ? -1 : a->site > b->site;
}

static int is_blocking_kind(unsigned kind)
{
	return kind == SW_EV_CALL || kind == SW_EV_PRIVATE_LOOP ||
	       kind == SW_EV_GIL_WAIT;
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

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

/* Give `extra` ns of CPU to the CPU samples es[cpu[0..n)] in proportion
 * to their weight (the last one takes the rounding). */
static void share_cpu(struct sw_report *rep, struct sw_ev_link *es,
		      const size_t *cpu, size_t n, uint64_t sampled,
		      uint64_t extra)
{
	uint64_t given = 0;
	size_t i;

	for (i = 0; i < n && sampled; i++) {
		struct sw_ev_link *e = &es[cpu[i]];
		uint64_t share =
		    i + 1 == n
			? extra - given
			: (uint64_t)((double)extra * ((double)e->ev.total_ns /
						      (double)sampled));
		struct sw_site *s = &rep->sites[e->ev.site];
		struct sw_variant *v = &s->variants[e->ev.variant];

		if (share > extra - given)
			share = extra - given;
		given += share;
		e->ev.total_ns = add_sat(e->ev.total_ns, share);
		s->total_ns = add_sat(s->total_ns, share);
		v->total_ns = add_sat(v->total_ns, share);
		if (e->ev.total_ns / (e->ev.count ? e->ev.count : 1) >
		    s->max_ns)
			s->max_ns =
			    e->ev.total_ns / (e->ev.count ? e->ev.count : 1);
		if (s->max_ns > v->max_ns && v == &s->variants[0])
			v->max_ns = s->max_ns;
	}
}

/*
 * Blocked and CPU time of one stall from its events es[0..n), and the
 * sites that explain it, most time first.  The blocking events' intervals
 * are merged first, so overlapping calls (a GIL wait inside a call) are
 * not counted twice, and a sample inside one of them is not CPU time.
 */
static void explain_stall(struct sw_report *rep, struct sw_stall *st,
			  uint64_t clock_cpu, struct sw_ev_link *es, size_t n)
{
	uint64_t lo = st->start_ns, hi = st->start_ns + st->duration_ns;
	struct span *spans = xcalloc(n ? n : 1, sizeof(*spans));
	struct site_time *times = xcalloc(n ? n : 1, sizeof(*times));
	size_t *cpu_ev = xcalloc(n ? n : 1, sizeof(size_t));
	size_t ns = 0, nm = 0, nt = 0, nc = 0, i, j;
	uint64_t blocked = 0, extra = 0, cpu = 0, room;

	if (hi < lo)
		hi = UINT64_MAX;
	for (i = 0; i < n; i++) {
		const struct sw_ev_link *e = &es[i];
		uint64_t s = e->ev.start_ns, t;

		if (!is_blocking_kind(e->kind))
			continue;
		t = add_sat(s, e->ev.duration_ns);
		/* Occurrences folded into this record have no times of
		 * their own: count their time, but they cannot be placed. */
		if (e->ev.total_ns > e->ev.duration_ns)
			extra += e->ev.total_ns - e->ev.duration_ns;
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
	blocked = add_sat(blocked, extra);
	if (blocked > st->duration_ns)
		blocked = st->duration_ns;
	for (i = 0; i < n; i++) {
		/* A sample taken inside a blocking call is blocked time,
		 * already counted: not CPU. */
		if (es[i].kind == SW_EV_SAMPLE &&
		    !covered_by(spans, nm, es[i].ev.start_ns)) {
			cpu = add_sat(cpu, es[i].ev.total_ns);
			cpu_ev[nc++] = i;
		}
	}
	room = st->duration_ns - blocked;
	if (cpu > room)
		cpu = room;
	/* The turn's CPU clock says how much of it ran on the CPU: what
	 * the samples did not see happened before the first one. */
	if (clock_cpu > cpu) {
		uint64_t more = (clock_cpu < room ? clock_cpu : room) - cpu;

		if (more && nc)
			share_cpu(rep, es, cpu_ev, nc, cpu, more);
		st->cpu_unsampled_ns = more;
		cpu += more;
	}
	st->blocked_ns = blocked;
	st->cpu_ns = cpu;
	/* With the CPU clock known, the rest of the turn is known to be off
	 * the CPU: the thread waited for a core (a busy machine), or slept
	 * in a call no wrapper saw. */
	if (clock_cpu && st->duration_ns > blocked + cpu)
		st->off_cpu_ns = st->duration_ns - blocked - cpu;
	for (i = 0; i < n; i++)
		if (es[i].kind != SW_EV_SAMPLE ||
		    !covered_by(spans, nm, es[i].ev.start_ns))
			times[nt++] = (struct site_time){es[i].ev.site,
							 es[i].ev.total_ns};
	/* Sum per site, then rank. */
	qsort(times, nt, sizeof(*times), site_cmp);
	for (i = 0, j = 0; i < nt; i++) {
		if (j && times[j - 1].site == times[i].site) {
			times[j - 1].ns = add_sat(times[j - 1].ns, times[i].ns);
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
	free(cpu_ev);
}

struct stall_sort {
	struct sw_stall st;
	uint32_t loop_id, turn_seq;
	uint64_t clock_cpu;
};

static int stall_sort_cmp(const void *x, const void *y)
{
	const struct sw_stall *a = &((const struct stall_sort *)x)->st;
	const struct sw_stall *b = &((const struct stall_sort *)y)->st;

	if (a->process != b->process)
		return a->process < b->process ? -1 : 1;
	return cmp_u64(a->start_ns, b->start_ns);
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

void sw_stalls_build(struct sw_builder *b, struct sw_trace *traces,
		     size_t ntraces, struct sw_ev_link *es)
{
	struct sw_report *rep = b->rep;
	struct sw_intmap by_turn = {0};
	struct stall_sort *ss = NULL;
	uint64_t *clock = NULL;
	size_t n = 0, cap = 0, pi, i, *cnt, *fill;
	struct sw_ev_link *grp;

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
			x->clock_cpu = r->cpu_ns;
		}
	}
	if (ss)
		qsort(ss, n, sizeof(*ss), stall_sort_cmp);
	rep->stalls = xcalloc(n ? n : 1, sizeof(*rep->stalls));
	rep->nstalls = n;
	clock = xcalloc(n ? n : 1, sizeof(*clock));
	for (i = 0; i < n; i++) {
		struct sw_intkey k = {ss[i].st.process, ss[i].loop_id,
				      ss[i].turn_seq, 0};

		rep->stalls[i] = ss[i].st;
		clock[i] = ss[i].clock_cpu;
		if (sw_intmap_get(&by_turn, &k) < 0)
			sw_intmap_put(&by_turn, &k, i);
	}
	free(ss);
	for (i = 0; i < rep->nevents; i++) {
		struct sw_intkey k = {es[i].ev.process, es[i].loop_id,
				      es[i].turn_seq, 0};

		es[i].ev.stall =
		    es[i].loop_id ? sw_intmap_get(&by_turn, &k) : -1;
	}
	/* Each stall's events: group by stall with a counting sort (grp
	 * holds the events' positions in es, so weights given to samples
	 * land in es). */
	cnt = xcalloc(rep->nstalls + 1, sizeof(size_t));
	fill = xcalloc(rep->nstalls + 1, sizeof(size_t));
	for (i = 0; i < rep->nevents; i++)
		if (es[i].ev.stall >= 0)
			cnt[es[i].ev.stall + 1]++;
	for (i = 0; i < rep->nstalls; i++)
		cnt[i + 1] += cnt[i];
	grp = xcalloc(cnt[rep->nstalls] ? cnt[rep->nstalls] : 1, sizeof(*grp));
	for (i = 0; i < rep->nevents; i++) {
		long s = es[i].ev.stall;

		if (s >= 0) {
			grp[cnt[s] + fill[s]] = es[i];
			grp[cnt[s] + fill[s]].pos = i;
			fill[s]++;
		}
	}
	for (i = 0; i < rep->nstalls; i++) {
		size_t k;

		explain_stall(rep, &rep->stalls[i], clock[i], grp + cnt[i],
			      cnt[i + 1] - cnt[i]);
		for (k = cnt[i]; k < cnt[i + 1]; k++)
			es[grp[k].pos].ev.total_ns = grp[k].ev.total_ns;
	}
	free(grp);
	free(fill);
	free(cnt);
	free(clock);
	sw_intmap_free(&by_turn);
}
