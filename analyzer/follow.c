/*
 * follow.c - follow growing trace files (see follow.h).
 *
 * A poll reads the bytes a file gained and walks their records by their
 * headers: a record whose header says it is longer than what is there yet
 * is a write still in progress (or one a crash cut), so reading stops
 * before it and the next poll starts there.  The complete records are
 * decoded by the ordinary reader (reader.c validates every field), given
 * the records that name things first: the preamble and process record and
 * every module, loop and Python code record read so far are kept and put in
 * front of each new chunk, so events in the chunk resolve their loops and
 * Python frames, and the symbolizer sees every loaded module.
 *
 * A file is first read only as far as its process record: a process that
 * is no longer running is not shown, so its (possibly large) trace is
 * never read further.
 */
#include "follow.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../include/sw_calls.h"
#include "html_escape.h"
#include "intern.h"
#include "model.h"
#include "place.h"
#include "pymerge.h"
#include "reader.h"
#include "symbolize.h"
#include "util.h"

#define CHUNK_MAX (16u << 20) /* bytes read from one file per poll */

struct ffile {
	char *path;
	dev_t dev;
	ino_t ino;
	uint64_t off;	   /* bytes consumed */
	struct sw_buf hdr; /* preamble, process, modules, loops, py codes */
	int done;	   /* ended, broken or not running: not read again */
	int present;	   /* seen by the latest directory scan */
	struct sw_fproc *proc;
};

struct files {
	struct ffile *v;
	size_t n, cap;
};

struct pstate {
	struct sw_symbolizer *sym;
	size_t sym_nmodules;
	struct sw_intern keys; /* raw stack -> index into place_of_key */
	uint32_t *place_of_key;
	size_t nkeys, capkeys;
	struct sw_intern names; /* place text -> index into places */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void sw_follow_init(struct sw_follow *f, char *const *roots, size_t n)
{
	size_t i;

	memset(f, 0, sizeof(*f));
	f->roots = xcalloc(n + 1, sizeof(*f->roots));
	for (i = 0; i < n; i++)
		f->roots[i] = xstrdup(roots[i]);
	f->nroots = n;
	f->horizon_ns = 300ull * 1000000000ull;
	f->priv = xcalloc(1, sizeof(struct files));
}

/* When the process with this pid started, on CLOCK_MONOTONIC (the
 * traces' clock), from /proc/PID/stat's starttime (CLOCK_BOOTTIME ticks,
 * which also count suspended time); 0 when unknown. */
static uint64_t pid_start_ns(uint32_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ticks = 0;
	long hz = sysconf(_SC_CLK_TCK);
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0 || hz <= 0)
		return 0;
	buf[n] = 0;
	/* the command may hold spaces and parentheses: fields count from
	 * the last ')' (field 2's end); starttime is field 22 */
	p = strrchr(buf, ')');
	for (field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%llu", &ticks) != 1)
		return 0;
	{
		struct timespec b, m;
		uint64_t boot_ns =
		    (uint64_t)ticks * (1000000000ull / (uint64_t)hz);
		int64_t off;

		clock_gettime(CLOCK_BOOTTIME, &b);
		clock_gettime(CLOCK_MONOTONIC, &m);
		off = ((int64_t)b.tv_sec - (int64_t)m.tv_sec) * 1000000000ll +
		      ((int64_t)b.tv_nsec - (int64_t)m.tv_nsec);
		if (off < 0)
			off = 0;
		return boot_ns > (uint64_t)off ? boot_ns - (uint64_t)off : 0;
	}
}

int sw_follow_running(const struct sw_fproc *p)
{
	uint64_t started;

	if (p->ended || p->broken)
		return 0;
	if (kill((pid_t)p->pid, 0) != 0 && errno != EPERM)
		return 0;
	/* A process started after the shim in the traced one did holds a
	 * reused pid: the traced process is gone.  (The shim starts at or
	 * after the process: exec keeps the pid and its start time.)  Two
	 * seconds of slack for the clocks' rounding. */
	started = pid_start_ns(p->pid);
	if (started && p->start_mono_ns &&
	    started > p->start_mono_ns + 2000000000ull)
		return 0;
	return 1;
}

/* ---- directory scan ------------------------------------------------------ */

static int has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

static void add_file(struct files *fs, const char *path)
{
	size_t i;

	for (i = 0; i < fs->n; i++)
		if (!strcmp(fs->v[i].path, path)) {
			fs->v[i].present = 1;
			return;
		}
	SW_GROW(fs->v, fs->n, fs->cap);
	memset(&fs->v[fs->n], 0, sizeof(fs->v[fs->n]));
	fs->v[fs->n].path = xstrdup(path);
	fs->v[fs->n].present = 1;
	fs->n++;
}

static void scan_dir(struct files *fs, const char *dir, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		char *p;
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		p = xasprintf("%s/%s", dir, e->d_name);
		if (has_suffix(e->d_name, SW_TRACE_SUFFIX))
			add_file(fs, p);
		else if (depth > 0 && lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
			scan_dir(fs, p, depth - 1);
		free(p);
	}
	closedir(d);
}

static void scan(struct sw_follow *f)
{
	struct files *fs = f->priv;
	size_t i, j;

	for (i = 0; i < fs->n; i++)
		fs->v[i].present = 0;
	for (i = 0; i < f->nroots; i++) {
		struct stat st;

		if (stat(f->roots[i], &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode))
			scan_dir(fs, f->roots[i], 1);
		else
			add_file(fs, f->roots[i]);
	}
	/* files that are gone (a size budget rotated them away) */
	for (i = j = 0; i < fs->n; i++) {
		if (fs->v[i].present) {
			fs->v[j++] = fs->v[i];
			continue;
		}
		free(fs->v[i].path);
		sw_buf_free(&fs->v[i].hdr);
	}
	fs->n = j;
}

/* ---- per-process state --------------------------------------------------- */

static struct sw_fproc *proc_for(struct sw_follow *f, const struct sw_trace *t)
{
	struct sw_fproc *p;
	size_t i;

	for (i = 0; i < f->nprocs; i++)
		if (f->procs[i]->pid == t->proc.pid &&
		    f->procs[i]->start_mono_ns == t->proc.start_mono_ns)
			return f->procs[i];
	p = xcalloc(1, sizeof(*p));
	p->pid = t->proc.pid;
	p->start_mono_ns = t->proc.start_mono_ns;
	p->comm = sw_strdup_safe(t->comm ? t->comm : "?");
	p->command = sw_strdup_safe(t->cmdline ? t->cmdline : "");
	p->sample_interval_ns = t->proc.sample_interval_ns;
	p->threshold_ns = t->proc.threshold_ns;
	p->priv = xcalloc(1, sizeof(struct pstate));
	SW_GROW(f->procs, f->nprocs, f->capprocs);
	f->procs[f->nprocs++] = p;
	return p;
}

static struct sw_floop *loop_for(struct sw_fproc *p, uint32_t loop_id,
				 uint32_t tid)
{
	struct sw_floop *l;
	size_t i;

	for (i = 0; i < p->nloops; i++)
		if (p->loops[i].loop_id == loop_id)
			return &p->loops[i];
	SW_GROW(p->loops, p->nloops, p->caploops);
	l = &p->loops[p->nloops++];
	memset(l, 0, sizeof(*l));
	l->loop_id = loop_id;
	l->tid = tid;
	l->hb = xcalloc(SW_FOLLOW_HB, sizeof(*l->hb));
	return l;
}

static struct sw_floop *loop_of_tid(struct sw_fproc *p, uint32_t tid)
{
	size_t i;

	for (i = p->nloops; i-- > 0;)
		if (p->loops[i].tid == tid)
			return &p->loops[i];
	return NULL;
}

static void add_item(struct sw_floop *l, uint64_t t, uint64_t w, uint32_t place,
		     int what)
{
	SW_GROW(l->items, l->nitems, l->capitems);
	l->items[l->nitems++] = (struct sw_fitem){
	    .time_ns = t, .weight = w, .place = place, .what = (uint8_t)what};
}

/* The place of a stack, as every output names it (place.h): the frames
 * are classified as the program's own or not first. */
static char *place_text(struct sw_frame *fr, size_t n, const char *call,
			const struct sw_trace *t)
{
	char argv0[256];
	struct sw_app_ctx ctx = {.main_module = t->exe};
	struct sw_place place;
	char *text;
	size_t i;

	snprintf(argv0, sizeof(argv0), "%s", t->cmdline ? t->cmdline : "");
	argv0[strcspn(argv0, " ")] = 0;
	for (i = 0; i < t->nmodules; i++)
		if (t->modules[i].flags & SW_MOD_MAIN)
			ctx.main_module = t->modules[i].path;
	ctx.runtime = sw_is_runtime(t->exe, argv0);
	for (i = 0; i < n; i++)
		fr[i].in_app = sw_frame_in_app(&fr[i], &ctx);
	sw_place_compute(fr, n, call, &place);
	text = sw_strdup_safe(place.text && *place.text ? place.text
							: "[no stack]");
	sw_place_free(&place);
	return text;
}

static uint32_t place_of(struct sw_fproc *p, const struct sw_trace *t,
			 const struct sw_tevent *te)
{
	struct pstate *ps = p->priv;
	struct sw_buf key = {0};
	struct sw_frame *native = NULL, *merged = NULL;
	size_t n = 0, cap = 0, nmerged = 0, i, j, k;
	int added, unplaced = 0;
	char *text;

	sw_buf_printf(&key, "%u/%u", te->rec.kind, te->rec.call);
	for (i = 0; i < te->rec.nips; i++)
		sw_buf_printf(&key, ",%" PRIx64, te->ips[i]);
	for (i = 0; i < te->rec.npy; i++)
		sw_buf_printf(&key, ";%u:%d", te->py[i].code_id,
			      te->py[i].line);
	k = sw_intern(&ps->keys, sw_buf_str(&key), &added);
	sw_buf_free(&key);
	if (!added)
		return ps->place_of_key[k];

	if (!ps->sym || ps->sym_nmodules != t->nmodules) {
		char pm[64];

		if (ps->sym)
			sw_sym_close(ps->sym);
		snprintf(pm, sizeof(pm), SW_PERF_MAP_FMT, (int)p->pid);
		ps->sym = sw_sym_open(t, 0, access(pm, R_OK) == 0 ? pm : NULL);
		ps->sym_nmodules = t->nmodules;
	}
	for (i = 0; i < te->rec.nips; i++) {
		const struct sw_frame *fr;
		int is_pc = i == 0 && (te->rec.ev_flags & SW_EVF_SIGNAL_FRAME);
		size_t m = sw_sym_addr(ps->sym, te->ips[i], is_pc, &fr);

		for (j = 0; j < m; j++) {
			SW_GROW(native, n, cap);
			native[n++] = fr[j];
		}
	}
	if (sw_pymerge(native, n, te->py, te->rec.npy, &t->pycodes, &merged,
		       &nmerged, &unplaced) != 0)
		text = xstrdup("[out of memory]");
	else
		text = place_text(merged, nmerged,
				  te->rec.kind == SW_EV_SAMPLE
				      ? NULL
				      : sw_call_name(te->rec.call),
				  t);
	for (i = 0; i < nmerged; i++) {
		free(merged[i].function);
		free(merged[i].file);
		free(merged[i].module);
	}
	free(merged);
	free(native);

	j = sw_intern(&ps->names, text, &added);
	if (added) {
		SW_GROW(p->places, p->nplaces, p->capplaces);
		p->places[p->nplaces++] = text;
	} else {
		free(text);
	}
	SW_GROW(ps->place_of_key, ps->nkeys, ps->capkeys);
	ps->place_of_key[ps->nkeys++] = (uint32_t)j;
	return (uint32_t)j;
}

/* ---- reading ------------------------------------------------------------- */

static void take_heartbeat(struct sw_fproc *p, const uint8_t *r, size_t size)
{
	struct sw_rec_heartbeat hb;
	struct sw_floop *l;
	struct sw_fhb *s;

	if (size < sizeof(hb))
		return;
	memcpy(&hb, r, sizeof(hb));
	if (hb.nbuckets != SW_HIST_BUCKETS ||
	    sizeof(hb) + (uint64_t)hb.nbuckets * 8 > size)
		return;
	l = loop_for(p, hb.loop_id, hb.tid);
	if (l->nhb && l->hb[(l->hb_first + l->nhb - 1) % SW_FOLLOW_HB].time_ns >
			  hb.time_ns)
		return; /* out of order: a watchdog beat raced the loop's */
	if (l->nhb == SW_FOLLOW_HB) {
		s = &l->hb[l->hb_first];
		l->hb_first = (l->hb_first + 1) % SW_FOLLOW_HB;
	} else {
		s = &l->hb[(l->hb_first + l->nhb++) % SW_FOLLOW_HB];
	}
	s->time_ns = hb.time_ns;
	s->turns = hb.turns;
	s->busy_ns = hb.busy_ns;
	s->stalls = hb.stalls;
	s->max_turn_ns = hb.max_turn_ns;
	memcpy(s->buckets, r + sizeof(hb), sizeof(s->buckets));
	if (hb.born_ns)
		l->born_ns = hb.born_ns;
	if (hb.final)
		l->ended = 1;
}

/* Records of the chunk that name things, kept for the next chunks. */
static int names_things(uint16_t type)
{
	return type == SW_REC_MODULE || type == SW_REC_LOOP ||
	       type == SW_REC_LOOP_END || type == SW_REC_PYCODE;
}

static void prune(struct sw_follow *f, struct sw_fproc *p, uint64_t now)
{
	size_t i, j, k;

	for (i = 0; i < p->nloops; i++) {
		struct sw_floop *l = &p->loops[i];

		for (j = k = 0; j < l->nitems; j++)
			if (l->items[j].time_ns + f->horizon_ns >= now)
				l->items[k++] = l->items[j];
		l->nitems = k;
	}
}

/* Read what the file gained; returns bytes consumed. */
static uint64_t poll_file(struct sw_follow *f, struct ffile *ff)
{
	struct sw_trace t;
	struct stat st;
	uint8_t *chunk = NULL, *buf = NULL;
	uint64_t want, got = 0, consumed = 0, pos;
	char err[256];
	int fd, corrupt = 0;

	fd = open(ff->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		goto out;
	if (ff->ino && (st.st_ino != ff->ino || st.st_dev != ff->dev)) {
		/* replaced under the same name: start over */
		ff->off = 0;
		sw_buf_free(&ff->hdr);
		ff->proc = NULL;
	}
	ff->ino = st.st_ino;
	ff->dev = st.st_dev;
	if ((uint64_t)st.st_size <= ff->off)
		goto out;
	want = (uint64_t)st.st_size - ff->off;
	if (!ff->proc && want > 65536)
		want = 65536; /* only as far as the process record, first */
	if (want > CHUNK_MAX)
		want = CHUNK_MAX;
	chunk = xmalloc(want);
	while (got < want) {
		ssize_t r =
		    pread(fd, chunk + got, want - got, (off_t)(ff->off + got));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (uint64_t)r;
	}
	pos = 0;
	if (ff->off == 0) {
		/* the preamble and the process record open the header */
		struct sw_rec_hdr h;

		if (got < sizeof(struct sw_preamble) + sizeof(h))
			goto out;
		memcpy(&h, chunk + sizeof(struct sw_preamble), sizeof(h));
		if (h.type != SW_REC_PROCESS || h.size < sizeof(h) ||
		    h.size > SW_REC_MAX_SIZE) {
			ff->done = 1; /* not a trace */
			goto out;
		}
		if (sizeof(struct sw_preamble) + h.size > got)
			goto out; /* the process record is not complete yet */
		pos = sizeof(struct sw_preamble) + h.size;
		sw_buf_add(&ff->hdr, (const char *)chunk, pos);
	}
	/* complete records only: a torn tail waits for the next poll */
	while (pos + sizeof(struct sw_rec_hdr) <= got) {
		struct sw_rec_hdr h;

		memcpy(&h, chunk + pos, sizeof(h));
		if (h.size < sizeof(h) || h.size > SW_REC_MAX_SIZE) {
			corrupt = 1;
			ff->done = 1;
			break;
		}
		if (pos + h.size > got)
			break;
		pos += h.size;
	}
	consumed = pos;
	{
		size_t hl = ff->hdr.len, start = ff->off == 0 ? hl : 0;
		size_t body = (size_t)consumed - start;

		buf = xmalloc(hl + body + 1);
		memcpy(buf, ff->hdr.s, hl);
		memcpy(buf + hl, chunk + start, body);
		if (sw_trace_parse(&t, buf, hl + body, ff->path, err,
				   sizeof(err)) != 0) {
			sw_trace_free(&t);
			ff->done = 1;
			goto out;
		}
	}
	if (!ff->proc)
		ff->proc = proc_for(f, &t);
	if (corrupt)
		ff->proc->broken = 1;
	if (ff->off == 0) {
		if (!sw_follow_running(ff->proc)) {
			/* exited before we looked: never read further */
			ff->done = 1;
			sw_trace_free(&t);
			goto out;
		}
	}
	{
		struct sw_fproc *p = ff->proc;
		size_t i, q = ff->off == 0 ? sizeof(struct sw_preamble) : 0;

		/* walk the chunk's records: keep naming records, take
		 * heartbeats (all of them, not only the latest) */
		if (ff->off == 0) {
			struct sw_rec_hdr h;

			memcpy(&h, chunk + q, sizeof(h));
			q += h.size;
		}
		while (q < consumed) {
			struct sw_rec_hdr h;

			memcpy(&h, chunk + q, sizeof(h));
			if (names_things(h.type))
				sw_buf_add(&ff->hdr, (const char *)chunk + q,
					   h.size);
			if (h.type == SW_REC_HEARTBEAT)
				take_heartbeat(p, chunk + q, h.size);
			q += h.size;
		}
		for (i = 0; i < t.nloops; i++) {
			struct sw_floop *l = loop_for(p, t.loops[i].rec.loop_id,
						      t.loops[i].rec.tid);

			memcpy(l->thread_name, t.loops[i].thread_name,
			       sizeof(l->thread_name));
			l->thread_name[sizeof(l->thread_name) - 1] = 0;
			/* shown on a terminal: no control bytes, ASCII only */
			for (char *c = l->thread_name; *c; c++)
				if ((unsigned char)*c < 0x20 ||
				    (unsigned char)*c >= 0x7f)
					*c = '?';
			if (!l->born_ns)
				l->born_ns = t.loops[i].rec.time_ns;
			if (t.loops[i].ended)
				l->ended = 1;
		}
		for (i = 0; i < t.nstalls; i++) {
			const struct sw_rec_stall *s = &t.stalls[i];

			add_item(loop_for(p, s->loop_id, s->tid), s->start_ns,
				 s->duration_ns, 0, SW_FI_STALL);
		}
		for (i = 0; i < t.nevents; i++) {
			const struct sw_tevent *te = &t.events[i];
			struct sw_floop *l =
			    te->rec.loop_id
				? loop_for(p, te->rec.loop_id, te->rec.tid)
				: loop_of_tid(p, te->rec.tid);
			int cpu = te->rec.kind == SW_EV_SAMPLE;
			uint64_t w = cpu ? (p->sample_interval_ns
						? p->sample_interval_ns
						: te->rec.duration_ns) *
					       te->rec.count
					 : te->rec.total_ns;

			if (!l)
				continue;
			add_item(l, te->rec.start_ns, w, place_of(p, &t, te),
				 cpu ? SW_FI_CPU : SW_FI_BLOCKED);
		}
		if (t.has_end) {
			p->ended = 1;
			ff->done = 1;
		}
	}
	sw_trace_free(&t);
	ff->off += consumed;
out:
	free(chunk);
	free(buf);
	close(fd);
	return consumed;
}

uint64_t sw_follow_poll(struct sw_follow *f)
{
	struct files *fs = f->priv;
	uint64_t total = 0, now = now_ns(), n;
	size_t i;

	scan(f);
	for (i = 0; i < fs->n; i++) {
		struct ffile *ff = &fs->v[i];

		if (ff->done)
			continue;
		if (ff->proc && !sw_follow_running(ff->proc)) {
			ff->done = 1;
			continue;
		}
		/* the process record first, then the backlog in chunks */
		for (int k = 0; k < 64; k++) {
			n = poll_file(f, ff);
			total += n;
			if (n == 0 || ff->done)
				break;
		}
	}
	for (i = 0; i < f->nprocs; i++)
		prune(f, f->procs[i], now);
	return total;
}

void sw_follow_free(struct sw_follow *f)
{
	struct files *fs = f->priv;
	size_t i, j;

	for (i = 0; i < fs->n; i++) {
		free(fs->v[i].path);
		sw_buf_free(&fs->v[i].hdr);
	}
	free(fs->v);
	free(fs);
	for (i = 0; i < f->nprocs; i++) {
		struct sw_fproc *p = f->procs[i];
		struct pstate *ps = p->priv;

		if (ps->sym)
			sw_sym_close(ps->sym);
		sw_intern_free(&ps->keys);
		sw_intern_free(&ps->names);
		free(ps->place_of_key);
		free(ps);
		for (j = 0; j < p->nloops; j++) {
			free(p->loops[j].hb);
			free(p->loops[j].items);
		}
		free(p->loops);
		for (j = 0; j < p->nplaces; j++)
			free(p->places[j]);
		free(p->places);
		free(p->comm);
		free(p->command);
		free(p);
	}
	free(f->procs);
	for (i = 0; i < f->nroots; i++)
		free(f->roots[i]);
	free(f->roots);
	memset(f, 0, sizeof(*f));
}
