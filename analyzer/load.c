/*
 * load.c - trace files -> struct sw_report (model.h): the driver.
 *
 * Reads every trace (a directory's files, rotated parts too), builds the
 * processes with their loops and notes, shares one symbolizer between
 * forked workers, then hands the records to sites.c (stacks and sites),
 * stalls.c (explained stalls) and tests.c (the running test).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../include/sw_hist.h"
#include "build.h"
#include "html_escape.h"
#include "util.h"

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

void sw_build_note(struct sw_builder *b, char *msg)
{
	size_t v = 0;

	if (sw_strmap_get_or_put(&b->notes_seen, msg, &v)) {
		free(msg);
		return;
	}
	SW_GROW(b->rep->notes, b->rep->nnotes, b->cap_notes);
	b->rep->notes[b->rep->nnotes++] = xstrdup(msg);
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

/* The name the program was launched by: argv[0]'s basename when it is a
 * plain name (redis-server, a symlink to redis-check-rdb), else the
 * executable's. */
static char *program_name(const struct sw_trace *t)
{
	const char *cmd = t->cmdline ? t->cmdline : "", *b;
	size_t n;

	while (*cmd == '-')
		cmd++; /* a login shell's "-bash" */
	n = strcspn(cmd, " ");
	b = memrchr(cmd, '/', n);
	b = b ? b + 1 : cmd;
	n -= (size_t)(b - cmd);
	if (n && !memchr(b, ':', n))
		return xstrndup(b, n);
	return xstrdup(t->exe && *t->exe ? sw_basename(t->exe)
					 : (t->comm ? t->comm : ""));
}

static void build_process(struct sw_builder *b, struct sw_process *p,
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
	p->end_how = t->has_end ? (int)t->end.how : 0;
	p->exit_status = t->has_end ? t->end.status : 0;
	if (t->has_dropped) {
		p->dropped_bytes = t->dropped.bytes;
		p->dropped_first_ns = t->dropped.first_dropped_ns;
		p->dropped_last_ns = t->dropped.last_dropped_ns;
		p->rotations = t->dropped.rotations;
	}
	p->name = program_name(t);
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

/* Seconds since the process started, for notes. */
static double rel_s(const struct sw_trace *t, uint64_t ns)
{
	return ns > t->proc.start_mono_ns
		   ? (double)(ns - t->proc.start_mono_ns) / 1e9
		   : 0.0;
}

static void process_notes(struct sw_builder *b, const struct sw_process *p,
			  const struct sw_trace *t, struct sw_symbolizer *sym,
			  int unplaced, int execd)
{
	char *const *sn;
	size_t i, n;

	for (i = 0; i < t->nproblems; i++)
		sw_build_note(b, xstrdup(t->problems[i]));
	for (i = 0; i < t->nnotes; i++)
		sw_build_note(b, xasprintf("pid %u (%s): %s%s", p->pid, p->comm,
					   t->notes[i].level == SW_NOTE_WARN
					       ? "warning: "
					       : "",
					   t->notes[i].text));
	if (t->has_end && t->end.records_dropped)
		sw_build_note(
		    b, xasprintf("pid %u (%s): the shim could not write %llu "
				 "records; the report is incomplete",
				 p->pid, p->comm,
				 (unsigned long long)t->end.records_dropped));
	if (t->has_dropped && t->dropped.rotations)
		sw_build_note(
		    b, xasprintf("pid %u (%s): the size budget "
				 "(STALLWATCH_MAX_SIZE) dropped %llu bytes of "
				 "its oldest records, from +%.3f s to +%.3f s "
				 "(%u rotation%s)",
				 p->pid, p->comm,
				 (unsigned long long)t->dropped.bytes,
				 rel_s(t, t->dropped.first_dropped_ns),
				 rel_s(t, t->dropped.last_dropped_ns),
				 t->dropped.rotations,
				 t->dropped.rotations == 1 ? "" : "s"));
	/* A process image replaced by exec writes no end record: the next
	 * trace of its pid continues it. */
	if (!t->has_end && !execd)
		sw_build_note(
		    b, xasprintf("pid %u (%s): no end record: the process "
				 "was killed, crashed or is still running "
				 "(what it wrote is reported)",
				 p->pid, p->comm));
	n = sw_sym_notes(sym, &sn);
	for (i = 0; i < n; i++)
		sw_build_note(b, xstrdup(sn[i]));
	for (i = 0; i < t->nevents; i++)
		if (t->events[i].rec.ev_flags & SW_EVF_PY_UNKNOWN)
			break;
	if (i < t->nevents)
		sw_build_note(
		    b, xasprintf("pid %u (%s): this Python's frames could not "
				 "be read (unknown version or layout); "
				 "stacks are native only",
				 p->pid, p->comm));
	for (i = 0; i < t->nevents; i++)
		if (t->events[i].rec.ev_flags & SW_EVF_TRUNCATED)
			break;
	if (i < t->nevents)
		sw_build_note(
		    b, xasprintf("pid %u (%s): some stacks were deeper than "
				 "recorded and are cut at the outer end",
				 p->pid, p->comm));
	if (unplaced)
		sw_build_note(
		    b, xasprintf("pid %u (%s): Python frames could not be "
				 "placed among native frames (no symbols "
				 "for the interpreter); they are shown "
				 "next to the call",
				 p->pid, p->comm));
}

/* ---- events in time order ---------------------------------------------- */

static int ev_cmp(const void *x, const void *y)
{
	const struct sw_ev_link *a = x, *b = y;

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
static int ev_sorted(const struct sw_ev_link *es, size_t n)
{
	size_t i;

	for (i = 1; i < n; i++)
		if (ev_cmp(&es[i - 1], &es[i]) > 0)
			return 0;
	return 1;
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

/* Files of one process instance (same pid, same start): a rotation under
 * the size budget keeps the older part as X.swtrace.N.  Each part stands
 * alone; they share the names of Python code. */
static void pair_rotated(struct sw_builder *b, struct sw_trace *t, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++) {
			if (i == j || t[i].proc.pid != t[j].proc.pid ||
			    t[i].proc.start_realtime_ns !=
				t[j].proc.start_realtime_ns ||
			    t[i].proc.start_mono_ns != t[j].proc.start_mono_ns)
				continue;
			sw_trace_adopt_pycodes(&t[i], &t[j]);
			if (i < j)
				sw_build_note(
				    b, xasprintf("pid %u (%s): its trace is in "
						 "several files (%s, %s): the "
						 "size budget rotated it",
						 t[i].proc.pid,
						 t[i].comm ? t[i].comm : "?",
						 sw_basename(t[i].path),
						 sw_basename(t[j].path)));
		}
}

static void free_process(struct sw_process *p)
{
	size_t j;

	free(p->command);
	free(p->exe);
	free(p->comm);
	free(p->name);
	free(p->trace_path);
	for (j = 0; j < p->nloops; j++) {
		free(p->loops[j].thread_name);
		free(p->loops[j].hist);
	}
	free(p->loops);
	memset(p, 0, sizeof(*p));
}

/* The older part of a rotated trace: named X.swtrace.N. */
static int older_part(const struct sw_trace *t)
{
	size_t n = strlen(t->path), m = strlen(SW_TRACE_SUFFIX);

	return !(n >= m && !strcmp(t->path + n - m, SW_TRACE_SUFFIX));
}

static int same_instance(const struct sw_trace *a, const struct sw_trace *b)
{
	return a->proc.pid == b->proc.pid &&
	       a->proc.start_realtime_ns == b->proc.start_realtime_ns &&
	       a->proc.start_mono_ns == b->proc.start_mono_ns;
}

/* Index of a loop of p by id, appending a copy of l when p lacks it (a
 * loop that ended before the rotation). */
static size_t loop_in(struct sw_process *p, const struct sw_loop *l)
{
	struct sw_loop *c;
	size_t k;

	for (k = 0; k < p->nloops; k++)
		if (p->loops[k].loop_id == l->loop_id)
			return k;
	p->loops = xreallocarray(p->loops, p->nloops + 1, sizeof(*p->loops));
	c = &p->loops[p->nloops];
	*c = *l;
	c->thread_name = xstrdup(l->thread_name ? l->thread_name : "");
	if (l->hist) {
		c->hist = xmalloc(SW_HIST_BUCKETS * sizeof(uint64_t));
		memcpy(c->hist, l->hist, SW_HIST_BUCKETS * sizeof(uint64_t));
	}
	return p->nloops++;
}

static int stall_order_cmp(const void *x, const void *y, void *arg)
{
	const struct sw_stall *st = arg;
	const struct sw_stall *a = &st[*(const size_t *)x];
	const struct sw_stall *b = &st[*(const size_t *)y];

	if (a->process != b->process)
		return a->process < b->process ? -1 : 1;
	if (a->start_ns != b->start_ns)
		return cmp_u64(a->start_ns, b->start_ns);
	return *(const size_t *)x < *(const size_t *)y ? -1 : 1;
}

/*
 * The parts of a rotated trace become one process: the older part's
 * events and stalls move to the newer part's process (its loops matched
 * by id), and the older process entry goes.  Events and stalls are
 * sorted again by process and time.
 */
static void fold_rotated(struct sw_report *rep, const struct sw_trace *t,
			 size_t n, struct sw_ev_link *es)
{
	size_t *into = xcalloc(n ? n : 1, sizeof(size_t));
	size_t *newidx = xcalloc(n ? n : 1, sizeof(size_t));
	size_t i, j, m = 0, folded = 0;

	for (i = 0; i < n; i++) {
		into[i] = i;
		if (!older_part(&t[i]))
			continue;
		for (j = 0; j < n; j++)
			if (j != i && !older_part(&t[j]) &&
			    same_instance(&t[i], &t[j])) {
				into[i] = j;
				folded++;
				break;
			}
	}
	if (!folded)
		goto out;
	for (i = 0; i < rep->nstalls; i++) {
		struct sw_stall *st = &rep->stalls[i];
		struct sw_process *src = &rep->processes[st->process];

		if (into[st->process] == st->process || st->loop >= src->nloops)
			continue;
		st->loop = loop_in(&rep->processes[into[st->process]],
				   &src->loops[st->loop]);
		st->process = into[st->process];
	}
	for (i = 0; i < n; i++) {
		struct sw_process *dst = &rep->processes[into[i]];

		if (into[i] == i)
			continue;
		/* loops seen only before the rotation */
		for (j = 0; j < rep->processes[i].nloops; j++)
			loop_in(dst, &rep->processes[i].loops[j]);
		dst->records += rep->processes[i].records;
		dst->torn_bytes += rep->processes[i].torn_bytes;
	}
	for (i = 0; i < n; i++)
		if (into[i] == i)
			newidx[i] = m++;
	for (i = 0; i < n; i++)
		if (into[i] != i)
			newidx[i] = newidx[into[i]];
	for (i = 0, m = 0; i < n; i++) {
		if (into[i] != i) {
			free_process(&rep->processes[i]);
			continue;
		}
		rep->processes[m++] = rep->processes[i];
	}
	rep->nprocesses = m;
	for (i = 0; i < rep->nevents; i++)
		es[i].ev.process = newidx[es[i].ev.process];
	for (i = 0; i < rep->nstalls; i++)
		rep->stalls[i].process = newidx[rep->stalls[i].process];
	/* Stalls by process and time again; events follow their stall. */
	{
		size_t *order = xcalloc(rep->nstalls + 1, sizeof(size_t));
		size_t *pos = xcalloc(rep->nstalls + 1, sizeof(size_t));
		struct sw_stall *sorted =
		    xcalloc(rep->nstalls + 1, sizeof(*sorted));

		for (i = 0; i < rep->nstalls; i++)
			order[i] = i;
		qsort_r(order, rep->nstalls, sizeof(*order), stall_order_cmp,
			rep->stalls);
		for (i = 0; i < rep->nstalls; i++) {
			sorted[i] = rep->stalls[order[i]];
			pos[order[i]] = i;
		}
		free(rep->stalls);
		rep->stalls = sorted;
		for (i = 0; i < rep->nevents; i++)
			if (es[i].ev.stall >= 0)
				es[i].ev.stall = (long)pos[es[i].ev.stall];
		free(order);
		free(pos);
	}
	qsort(es, rep->nevents, sizeof(*es), ev_cmp);
out:
	free(into);
	free(newidx);
}

int sw_report_load(struct sw_report *rep, char *const *paths, size_t npaths,
		   const struct sw_load_opts *opts)
{
	static const struct sw_load_opts defaults;
	struct sw_builder b = {0};
	struct sw_trace *traces = NULL;
	struct sw_intmap seen = {0};
	struct sw_strmap shared_by_sig = {0};
	struct sw_symbolizer **shared = NULL;
	size_t nshared = 0, cap_shared = 0;
	struct sw_ev_link *es = NULL;
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
			struct sw_intkey k = {st.st_dev, st.st_ino, 0, 0};

			if (sw_intmap_get(&seen, &k) >= 0)
				continue;
			sw_intmap_put(&seen, &k, i);
			/* In a directory, an empty trace is a process that
			 * ended between creating its file and its first
			 * write: worth a note, not a failed report. */
			if (st.st_size == 0 && S_ISREG(st.st_mode) &&
			    !named_explicitly(paths, npaths, files[i])) {
				sw_build_note(
				    &b,
				    xasprintf("%s: empty trace (the process "
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
				sw_build_note(
				    &b, xasprintf(
					    "%s: no trace files (*%s) in this "
					    "directory",
					    paths[i], SW_TRACE_SUFFIX));
		}
	}
	qsort(traces, ntraces, sizeof(*traces), trace_cmp);
	pair_rotated(&b, traces, ntraces);
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
			if (sw_strmap_get_or_put(&shared_by_sig, sig, &v)) {
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
		sw_sites_add_events(&b, i, &traces[i], sym, &unplaced);
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
	sw_strmap_free(&shared_by_sig);
	sw_sites_group(&b);
	/* Events, sorted by process and time, with what links them. */
	es = b.links;
	b.links = NULL;
	if (es && !ev_sorted(es, rep->nevents))
		qsort(es, rep->nevents, sizeof(*es), ev_cmp);
	rc = 0;
	sw_stalls_build(&b, traces, ntraces, es);
	sw_tests_assign(&b, traces, ntraces, es);
	fold_rotated(rep, traces, ntraces, es);
	for (i = 0; i < rep->nevents; i++)
		rep->events[i] = es[i].ev;
	sw_sites_rank(rep);
out:
	free(es);
	for (i = 0; i < ntraces; i++)
		sw_trace_free(&traces[i]);
	free(traces);
	for (i = 0; i < nfiles; i++)
		free(files[i]);
	free(files);
	sw_intmap_free(&seen);
	sw_intmap_free(&b.stack_by_caller);
	sw_strmap_free(&b.stack_by_key);
	for (i = 0; i < b.nstacks; i++)
		sw_frames_free(b.stacks[i].frames, b.stacks[i].nframes);
	free(b.stacks);
	sw_strmap_free(&b.test_names);
	sw_wordmap_free(&b.stack_by_raw);
	sw_strmap_free(&b.notes_seen);
	free(b.links);
	if (rc != 0)
		sw_report_free(rep);
	return rc;
}

void sw_report_free(struct sw_report *rep)
{
	size_t i, j;

	for (i = 0; i < rep->nprocesses; i++)
		free_process(&rep->processes[i]);
	free(rep->processes);
	for (i = 0; i < rep->nsites; i++) {
		for (j = 0; j < rep->sites[i].nvariants; j++)
			sw_frames_free(rep->sites[i].variants[j].frames,
				       rep->sites[i].variants[j].nframes);
		free(rep->sites[i].variants);
		sw_place_free(&rep->sites[i].place);
	}
	free(rep->sites);
	for (i = 0; i < rep->nstalls; i++)
		free(rep->stalls[i].sites);
	free(rep->stalls);
	free(rep->events);
	for (i = 0; i < rep->ntests; i++)
		free(rep->tests[i]);
	free(rep->tests);
	for (i = 0; i < rep->nnotes; i++)
		free(rep->notes[i]);
	free(rep->notes);
	memset(rep, 0, sizeof(*rep));
}
