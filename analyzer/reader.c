/*
 * reader.c - decode and validate trace files (see reader.h).
 *
 * Records are copied out of the file buffer with memcpy: a hostile file
 * can put any record at any offset, so nothing is read through a cast
 * pointer.  Every variable tail is measured in 64-bit arithmetic against
 * the record's size, and the record's size against the bytes left.
 */
#include "reader.h"

#include <dirent.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../include/sw_hist.h"
#include "util.h"

static void problem(struct sw_trace *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void problem(struct sw_trace *t, const char *fmt, ...)
{
	struct sw_buf b = {0};
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sw_buf_printf(&b, "%s: %s", t->path ? t->path : "trace", msg);
	SW_GROW(t->problems, t->nproblems, t->cap_problems);
	t->problems[t->nproblems++] = sw_buf_take(&b);
}

/* Strings in records are not NUL-terminated and may hold NULs; keep them
 * as C strings up to the first NUL. */
static char *str_copy(const uint8_t *p, size_t len)
{
	const uint8_t *nul = memchr(p, 0, len);

	return xstrndup((const char *)p, nul ? (size_t)(nul - p) : len);
}

/* The command line is argv joined with NUL bytes: join with spaces. */
static char *cmdline_copy(const uint8_t *p, size_t len)
{
	char *s = xstrndup((const char *)p, len);
	size_t i;

	while (len > 0 && s[len - 1] == 0)
		s[--len] = 0;
	for (i = 0; i < len; i++)
		if (s[i] == 0)
			s[i] = ' ';
	return s;
}

enum rec_verdict { REC_OK, REC_SKIP, REC_CORRUPT };

static enum rec_verdict parse_process(struct sw_trace *t, const uint8_t *r,
				      size_t size, const char **why)
{
	struct sw_rec_process p;
	uint64_t need;

	if (size < sizeof(p)) {
		*why = "process record too short";
		return REC_CORRUPT;
	}
	memcpy(&p, r, sizeof(p));
	if (p.cmdline_len > SW_MAX_STR || p.exe_len > SW_MAX_STR ||
	    p.comm_len > SW_MAX_STR) {
		*why = "process record string too long";
		return REC_CORRUPT;
	}
	need = (uint64_t)sizeof(p) + p.cmdline_len + p.exe_len + p.comm_len;
	if (need > size) {
		*why = "process record strings overrun the record";
		return REC_CORRUPT;
	}
	t->proc = p;
	r += sizeof(p);
	t->cmdline = cmdline_copy(r, p.cmdline_len);
	r += p.cmdline_len;
	t->exe = str_copy(r, p.exe_len);
	r += p.exe_len;
	t->comm = str_copy(r, p.comm_len);
	return REC_OK;
}

static enum rec_verdict parse_module(struct sw_trace *t, const uint8_t *r,
				     size_t size, const char **why)
{
	struct sw_rec_module m;
	struct sw_tmodule *tm;
	uint64_t need;

	if (size < sizeof(m)) {
		*why = "module record too short";
		return REC_CORRUPT;
	}
	memcpy(&m, r, sizeof(m));
	if (m.nsegments > SW_MAX_SEGMENTS || m.build_id_len > SW_BUILD_ID_MAX ||
	    m.path_len > SW_MAX_STR) {
		*why = "module record counts out of range";
		return REC_CORRUPT;
	}
	need = (uint64_t)sizeof(m) +
	       (uint64_t)m.nsegments * sizeof(struct sw_segment) +
	       m.build_id_len + m.path_len;
	if (need > size) {
		*why = "module record tail overruns the record";
		return REC_CORRUPT;
	}
	SW_GROW(t->modules, t->nmodules, t->cap_modules);
	tm = &t->modules[t->nmodules++];
	memset(tm, 0, sizeof(*tm));
	tm->bias = m.bias;
	tm->base = m.base;
	tm->flags = m.mod_flags;
	tm->nsegments = m.nsegments;
	tm->first_event = t->nevents;
	r += sizeof(m);
	tm->segments =
	    xcalloc(m.nsegments ? m.nsegments : 1, sizeof(struct sw_segment));
	memcpy(tm->segments, r,
	       (size_t)m.nsegments * sizeof(struct sw_segment));
	r += (size_t)m.nsegments * sizeof(struct sw_segment);
	memcpy(tm->build_id, r, m.build_id_len);
	tm->build_id_len = m.build_id_len;
	r += m.build_id_len;
	tm->path = str_copy(r, m.path_len);
	return REC_OK;
}

struct sw_tloop *sw_trace_loop(struct sw_trace *t, uint32_t loop_id)
{
	size_t i;

	/* The latest loop with this id: ids are never reused, but a hostile
	 * file may repeat them. */
	for (i = t->nloops; i-- > 0;)
		if (t->loops[i].rec.loop_id == loop_id)
			return &t->loops[i];
	return NULL;
}

static enum rec_verdict parse_loop(struct sw_trace *t, const uint8_t *r,
				   size_t size, const char **why)
{
	struct sw_rec_loop l;
	struct sw_tloop *tl;

	if (size < sizeof(l)) {
		*why = "loop record too short";
		return REC_CORRUPT;
	}
	memcpy(&l, r, sizeof(l));
	SW_GROW(t->loops, t->nloops, t->cap_loops);
	tl = &t->loops[t->nloops++];
	memset(tl, 0, sizeof(*tl));
	tl->rec = l;
	memcpy(tl->thread_name, l.thread_name, sizeof(l.thread_name));
	tl->thread_name[16] = 0;
	return REC_OK;
}

static enum rec_verdict parse_loop_end(struct sw_trace *t, const uint8_t *r,
				       size_t size, const char **why)
{
	struct sw_rec_loop_end e;
	struct sw_tloop *tl;

	if (size < sizeof(e)) {
		*why = "loop end record too short";
		return REC_CORRUPT;
	}
	memcpy(&e, r, sizeof(e));
	tl = sw_trace_loop(t, e.loop_id);
	if (tl) {
		tl->ended = 1;
		tl->end_ns = e.time_ns;
	}
	return REC_OK;
}

/* Make room for `more` elements of `size` bytes after the `n` in pool;
 * returns the pool (never NULL, so empty stacks still get a valid
 * pointer). */
static void *pool_reserve(void *pool, size_t *cap, size_t n, size_t more,
			  size_t size)
{
	size_t c = *cap;

	if (pool && n + more <= c)
		return pool;
	if (c < 64)
		c = 64;
	while (c < n + more)
		c *= 2;
	*cap = c;
	return xreallocarray(pool, c, size);
}

/* Point every event at its stack in the pools, filled in event order. */
static void link_stacks(struct sw_trace *t)
{
	size_t i, ni = 0, np = 0;

	for (i = 0; i < t->nevents; i++) {
		struct sw_tevent *te = &t->events[i];

		te->ips = t->ipsv + ni;
		te->py = t->pyv + np;
		ni += te->rec.nips;
		np += te->rec.npy;
	}
}

static enum rec_verdict parse_event(struct sw_trace *t, const uint8_t *r,
				    size_t size, const char **why)
{
	struct sw_rec_event e;
	struct sw_tevent *te;
	uint64_t need;

	if (size < sizeof(e)) {
		*why = "event record too short";
		return REC_CORRUPT;
	}
	memcpy(&e, r, sizeof(e));
	if (e.nips > SW_MAX_IPS || e.npy > SW_MAX_PYFRAMES) {
		*why = "event record stack depth out of range";
		return REC_CORRUPT;
	}
	need = (uint64_t)sizeof(e) + (uint64_t)e.nips * 8 +
	       (uint64_t)e.npy * sizeof(struct sw_pyframe);
	if (need > size) {
		*why = "event record stack overruns the record";
		return REC_CORRUPT;
	}
	if (e.kind < SW_EV_CALL || e.kind > SW_EV_GIL_WAIT)
		return REC_SKIP; /* a kind from a newer shim */
	if (e.count == 0)
		e.count = 1;
	if (e.total_ns < e.duration_ns)
		e.total_ns = e.duration_ns;
	if (e.max_ns < e.duration_ns)
		e.max_ns = e.duration_ns;
	SW_GROW(t->events, t->nevents, t->cap_events);
	te = &t->events[t->nevents++];
	te->rec = e;
	/* The pointers are set by link_stacks() once the pools stop
	 * moving.  The counts were checked against the record above, so the
	 * pools never outgrow the file. */
	te->ips = NULL;
	te->py = NULL;
	r += sizeof(e);
	t->ipsv = pool_reserve(t->ipsv, &t->cap_ipsv, t->nipsv, e.nips, 8);
	memcpy(t->ipsv + t->nipsv, r, (size_t)e.nips * 8);
	t->nipsv += e.nips;
	r += (size_t)e.nips * 8;
	t->pyv = pool_reserve(t->pyv, &t->cap_pyv, t->npyv, e.npy,
			      sizeof(struct sw_pyframe));
	memcpy(t->pyv + t->npyv, r, (size_t)e.npy * sizeof(struct sw_pyframe));
	t->npyv += e.npy;
	return REC_OK;
}

static enum rec_verdict parse_stall(struct sw_trace *t, const uint8_t *r,
				    size_t size, const char **why)
{
	size_t n = size < sizeof(struct sw_rec_stall)
		       ? size
		       : sizeof(struct sw_rec_stall);

	/* Records only grow: an older stall record lacks cpu_ns and
	 * sampled_ns, which read as 0 (unknown). */
	if (size < offsetof(struct sw_rec_stall, cpu_ns)) {
		*why = "stall record too short";
		return REC_CORRUPT;
	}
	SW_GROW(t->stalls, t->nstalls, t->cap_stalls);
	memset(&t->stalls[t->nstalls], 0, sizeof(struct sw_rec_stall));
	memcpy(&t->stalls[t->nstalls++], r, n);
	return REC_OK;
}

static enum rec_verdict parse_heartbeat(struct sw_trace *t, const uint8_t *r,
					size_t size, const char **why)
{
	struct sw_rec_heartbeat hb;
	struct sw_tloop *tl;

	if (size < sizeof(hb)) {
		*why = "heartbeat record too short";
		return REC_CORRUPT;
	}
	memcpy(&hb, r, sizeof(hb));
	if (hb.nbuckets != SW_HIST_BUCKETS) {
		*why = "heartbeat record has the wrong number of buckets";
		return REC_CORRUPT;
	}
	if ((uint64_t)sizeof(hb) + (uint64_t)hb.nbuckets * 8 > size) {
		*why = "heartbeat buckets overrun the record";
		return REC_CORRUPT;
	}
	tl = sw_trace_loop(t, hb.loop_id);
	if (!tl)
		return REC_SKIP; /* a heartbeat for a loop never announced */
	/* Heartbeats are cumulative: the latest one holds everything. */
	if (tl->has_heartbeat && hb.time_ns < tl->hb.time_ns)
		return REC_OK;
	tl->has_heartbeat = 1;
	tl->hb = hb;
	if (!tl->buckets)
		tl->buckets = xmalloc(SW_HIST_BUCKETS * 8);
	memcpy(tl->buckets, r + sizeof(hb), SW_HIST_BUCKETS * 8);
	return REC_OK;
}

static enum rec_verdict parse_pycode(struct sw_trace *t, const uint8_t *r,
				     size_t size, const char **why)
{
	struct sw_rec_pycode c;
	struct sw_pycode *pc;
	struct sw_pycodes *v = &t->pycodes;

	if (size < sizeof(c)) {
		*why = "pycode record too short";
		return REC_CORRUPT;
	}
	memcpy(&c, r, sizeof(c));
	if ((uint64_t)sizeof(c) + c.name_len + c.file_len > size) {
		*why = "pycode strings overrun the record";
		return REC_CORRUPT;
	}
	SW_GROW(v->v, v->n, v->cap);
	pc = &v->v[v->n++];
	pc->code_id = c.code_id;
	pc->first_line = c.first_line;
	pc->name = str_copy(r + sizeof(c), c.name_len);
	pc->file = str_copy(r + sizeof(c) + c.name_len, c.file_len);
	return REC_OK;
}

static enum rec_verdict parse_note(struct sw_trace *t, const uint8_t *r,
				   size_t size, const char **why)
{
	struct sw_rec_note n;
	struct sw_tnote *tn;

	if (size < sizeof(n)) {
		*why = "note record too short";
		return REC_CORRUPT;
	}
	memcpy(&n, r, sizeof(n));
	if (n.text_len > SW_MAX_STR ||
	    (uint64_t)sizeof(n) + n.text_len > size) {
		*why = "note text overruns the record";
		return REC_CORRUPT;
	}
	SW_GROW(t->notes, t->nnotes, t->cap_notes);
	tn = &t->notes[t->nnotes++];
	tn->level = n.level;
	tn->time_ns = n.time_ns;
	tn->text = str_copy(r + sizeof(n), n.text_len);
	return REC_OK;
}

static enum rec_verdict parse_end(struct sw_trace *t, const uint8_t *r,
				  size_t size, const char **why)
{
	/* An older end record lacks how and status: zero (exit()). */
	if (size < offsetof(struct sw_rec_end, how)) {
		*why = "end record too short";
		return REC_CORRUPT;
	}
	memset(&t->end, 0, sizeof(t->end));
	memcpy(&t->end, r, size < sizeof(t->end) ? size : sizeof(t->end));
	t->has_end = 1;
	return REC_OK;
}

static enum rec_verdict parse_test(struct sw_trace *t, const uint8_t *r,
				   size_t size, const char **why)
{
	struct sw_rec_test x;
	struct sw_ttest *tt;

	if (size < sizeof(x)) {
		*why = "test record too short";
		return REC_CORRUPT;
	}
	memcpy(&x, r, sizeof(x));
	if (x.name_len > SW_MAX_STR ||
	    (uint64_t)sizeof(x) + x.name_len > size) {
		*why = "test name overruns the record";
		return REC_CORRUPT;
	}
	SW_GROW(t->tests, t->ntests, t->cap_tests);
	tt = &t->tests[t->ntests++];
	tt->time_ns = x.time_ns;
	tt->source = x.source;
	tt->name = str_copy(r + sizeof(x), x.name_len);
	return REC_OK;
}

static enum rec_verdict parse_dropped(struct sw_trace *t, const uint8_t *r,
				      size_t size, const char **why)
{
	struct sw_rec_dropped d;

	if (size < sizeof(d)) {
		*why = "dropped record too short";
		return REC_CORRUPT;
	}
	memcpy(&d, r, sizeof(d));
	/* Cumulative: the one with the most rotations holds everything. */
	if (!t->has_dropped || d.rotations >= t->dropped.rotations)
		t->dropped = d;
	t->has_dropped = 1;
	return REC_OK;
}

/* Python code names, sorted by id for bsearch.  For a repeated id (a
 * hostile file) the record written later wins. */
struct tagged_code {
	struct sw_pycode c;
	size_t pos;
};

static int tagged_cmp(const void *a, const void *b)
{
	const struct tagged_code *x = a, *y = b;

	if (x->c.code_id != y->c.code_id)
		return x->c.code_id < y->c.code_id ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static void finish_pycodes(struct sw_pycodes *v)
{
	struct tagged_code *tg;
	size_t i, o = 0;

	if (v->n < 2)
		return;
	tg = xcalloc(v->n, sizeof(*tg));
	for (i = 0; i < v->n; i++) {
		tg[i].c = v->v[i];
		tg[i].pos = i;
	}
	qsort(tg, v->n, sizeof(*tg), tagged_cmp);
	for (i = 0; i < v->n; i++) {
		if (i + 1 < v->n && tg[i + 1].c.code_id == tg[i].c.code_id) {
			free(tg[i].c.name);
			free(tg[i].c.file);
			continue;
		}
		v->v[o++] = tg[i].c;
	}
	v->n = o;
	free(tg);
}

static int code_id_cmp(const void *a, const void *b)
{
	const struct sw_pycode *x = a, *y = b;

	return x->code_id < y->code_id ? -1 : x->code_id > y->code_id;
}

void sw_trace_adopt_pycodes(struct sw_trace *dst, const struct sw_trace *src)
{
	struct sw_pycodes *v = &dst->pycodes;
	size_t i, n = v->n;

	for (i = 0; i < src->pycodes.n; i++) {
		const struct sw_pycode *c = &src->pycodes.v[i];

		if (n && bsearch(c, v->v, n, sizeof(*c), code_id_cmp))
			continue;
		SW_GROW(v->v, v->n, v->cap);
		v->v[v->n].code_id = c->code_id;
		v->v[v->n].first_line = c->first_line;
		v->v[v->n].name = c->name ? xstrdup(c->name) : NULL;
		v->v[v->n].file = c->file ? xstrdup(c->file) : NULL;
		v->n++;
	}
	if (v->n > n)
		qsort(v->v, v->n, sizeof(*v->v), code_id_cmp);
}

int sw_trace_parse(struct sw_trace *t, const void *buf, size_t len,
		   const char *path, char *err, size_t errlen)
{
	const uint8_t *p = buf;
	struct sw_preamble pre;
	struct sw_rec_hdr h;
	size_t off;
	const char *why = NULL;

	memset(t, 0, sizeof(*t));
	t->path = xstrdup(path ? path : "trace");
	if (len == 0) {
		snprintf(err, errlen, "empty file, not a stallwatch trace");
		return -1;
	}
	if (len < sizeof(pre) ||
	    memcmp(p, SW_TRACE_MAGIC, sizeof(pre.magic)) != 0) {
		snprintf(err, errlen, "not a stallwatch trace (bad magic)");
		return -1;
	}
	memcpy(&pre, p, sizeof(pre));
	if (pre.byte_order != SW_TRACE_BYTE_ORDER) {
		snprintf(err, errlen, "trace written with another byte order");
		return -1;
	}
	if (pre.version != SW_TRACE_VERSION) {
		snprintf(
		    err, errlen,
		    "unsupported trace version %u (this stallwatch reads %u)",
		    pre.version, SW_TRACE_VERSION);
		return -1;
	}
	off = sizeof(pre);
	while (off < len) {
		size_t left = len - off;
		enum rec_verdict v = REC_OK;

		if (left < sizeof(h)) {
			t->torn_bytes = left;
			break;
		}
		memcpy(&h, p + off, sizeof(h));
		if (h.size < sizeof(h) || h.size > SW_REC_MAX_SIZE) {
			why = "record size out of range";
			goto corrupt;
		}
		if (h.size > left) {
			/* The last write(2) was cut short (SIGKILL, full
			 * disk): skip it and report what came before. */
			t->torn_bytes = left;
			break;
		}
		if (t->records == 0 && h.type != SW_REC_PROCESS) {
			snprintf(err, errlen,
				 "trace does not start with a process record");
			return -1;
		}
		switch (h.type) {
		case SW_REC_PROCESS:
			if (t->records != 0) {
				why = "second process record";
				v = REC_CORRUPT;
				break;
			}
			v = parse_process(t, p + off, h.size, &why);
			if (v != REC_OK) {
				snprintf(err, errlen, "%s", why);
				return -1;
			}
			break;
		case SW_REC_MODULE:
			v = parse_module(t, p + off, h.size, &why);
			break;
		case SW_REC_LOOP:
			v = parse_loop(t, p + off, h.size, &why);
			break;
		case SW_REC_LOOP_END:
			v = parse_loop_end(t, p + off, h.size, &why);
			break;
		case SW_REC_EVENT:
			v = parse_event(t, p + off, h.size, &why);
			break;
		case SW_REC_STALL:
			v = parse_stall(t, p + off, h.size, &why);
			break;
		case SW_REC_HEARTBEAT:
			v = parse_heartbeat(t, p + off, h.size, &why);
			break;
		case SW_REC_PYCODE:
			v = parse_pycode(t, p + off, h.size, &why);
			break;
		case SW_REC_NOTE:
			v = parse_note(t, p + off, h.size, &why);
			break;
		case SW_REC_END:
			v = parse_end(t, p + off, h.size, &why);
			break;
		case SW_REC_TEST:
			v = parse_test(t, p + off, h.size, &why);
			break;
		case SW_REC_DROPPED:
			v = parse_dropped(t, p + off, h.size, &why);
			break;
		default:
			v = REC_SKIP; /* a record type from a newer shim */
			break;
		}
		if (v == REC_CORRUPT)
			goto corrupt;
		if (v == REC_SKIP)
			t->skipped++;
		else
			t->records++;
		off += h.size;
	}
	if (t->records == 0) {
		snprintf(err, errlen, "trace has no process record");
		return -1;
	}
	if (t->torn_bytes)
		problem(t,
			"skipped a torn last record (%llu bytes): the process "
			"was killed or the disk filled while writing",
			(unsigned long long)t->torn_bytes);
	goto done;
corrupt:
	if (t->records == 0) {
		snprintf(err, errlen, "corrupt trace: %s",
			 why ? why : "bad record");
		return -1;
	}
	t->corrupt = 1;
	t->corrupt_at = off;
	problem(t,
		"corrupt record at offset %zu (%s): read stopped there, "
		"%llu bytes ignored",
		off, why ? why : "bad record", (unsigned long long)(len - off));
done:
	link_stacks(t);
	if (t->skipped)
		problem(t,
			"skipped %llu records of unknown type or kind (written "
			"by a newer stallwatch?)",
			(unsigned long long)t->skipped);
	finish_pycodes(&t->pycodes);
	return 0;
}

int sw_trace_read(struct sw_trace *t, const char *path, char *err,
		  size_t errlen)
{
	struct stat st;
	size_t cap, len = 0;
	uint8_t *buf;
	int fd, rc;

	memset(t, 0, sizeof(*t));
	/* O_NONBLOCK: opening a FIFO for reading would wait for a writer
	 * forever; it is refused just below instead. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "not a regular file");
		close(fd);
		return -1;
	}
	/* Check the magic before reading a possibly huge (sparse) file. */
	{
		char magic[8];
		ssize_t got;

		got = st.st_size >= (off_t)sizeof(magic)
			  ? pread(fd, magic, sizeof(magic), 0)
			  : -1;
		if (st.st_size >= (off_t)sizeof(magic) &&
		    (got != (ssize_t)sizeof(magic) ||
		     memcmp(magic, SW_TRACE_MAGIC, sizeof(magic)) != 0)) {
			snprintf(err, errlen,
				 "not a stallwatch trace (bad magic)");
			close(fd);
			return -1;
		}
	}
	/* st_size is only a hint: the buffer grows with what read() returns. */
	cap = st.st_size > 0 && (uint64_t)st.st_size < (1ull << 30)
		  ? (size_t)st.st_size + 1
		  : 1 << 16;
	buf = xmalloc(cap);
	for (;;) {
		ssize_t n;

		if (len == cap) {
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "%s", strerror(errno));
			free(buf);
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	rc = sw_trace_parse(t, buf, len, path, err, errlen);
	free(buf);
	return rc;
}

void sw_trace_free(struct sw_trace *t)
{
	size_t i;

	free(t->path);
	free(t->cmdline);
	free(t->exe);
	free(t->comm);
	for (i = 0; i < t->nmodules; i++) {
		free(t->modules[i].segments);
		free(t->modules[i].path);
	}
	free(t->modules);
	for (i = 0; i < t->nloops; i++)
		free(t->loops[i].buckets);
	free(t->loops);
	free(t->events);
	free(t->ipsv);
	free(t->pyv);
	free(t->stalls);
	for (i = 0; i < t->pycodes.n; i++) {
		free(t->pycodes.v[i].name);
		free(t->pycodes.v[i].file);
	}
	free(t->pycodes.v);
	for (i = 0; i < t->nnotes; i++)
		free(t->notes[i].text);
	free(t->notes);
	for (i = 0; i < t->ntests; i++)
		free(t->tests[i].name);
	free(t->tests);
	for (i = 0; i < t->nproblems; i++)
		free(t->problems[i]);
	free(t->problems);
	memset(t, 0, sizeof(*t));
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n > m && strcmp(s + n - m, suffix) == 0;
}

/* X.swtrace.N: an older part of a process's trace kept by a rotation
 * (STALLWATCH_MAX_SIZE); it stands alone and is read like the others. */
static int rotated_name(const char *name)
{
	const char *p = strstr(name, SW_TRACE_SUFFIX ".");

	if (!p)
		return 0;
	p += strlen(SW_TRACE_SUFFIX ".");
	return *p && strspn(p, "0123456789") == strlen(p);
}

int sw_trace_expand(char *const *paths, size_t npaths, char ***files,
		    size_t *nfiles, char *err, size_t errlen)
{
	char **v = NULL;
	size_t n = 0, cap = 0, i;

	for (i = 0; i < npaths; i++) {
		struct stat st;
		DIR *d;
		struct dirent *de;
		size_t first = n;

		if (stat(paths[i], &st) != 0) {
			snprintf(err, errlen, "%s: %s", paths[i],
				 strerror(errno));
			goto fail;
		}
		if (!S_ISDIR(st.st_mode)) {
			SW_GROW(v, n, cap);
			v[n++] = xstrdup(paths[i]);
			continue;
		}
		d = opendir(paths[i]);
		if (!d) {
			snprintf(err, errlen, "%s: %s", paths[i],
				 strerror(errno));
			goto fail;
		}
		while ((de = readdir(d)) != NULL) {
			const char *sep;

			if (!has_suffix(de->d_name, SW_TRACE_SUFFIX) &&
			    !rotated_name(de->d_name))
				continue;
			sep = has_suffix(paths[i], "/") ? "" : "/";
			SW_GROW(v, n, cap);
			v[n++] = xasprintf("%s%s%s", paths[i], sep, de->d_name);
		}
		closedir(d);
		qsort(v + first, n - first, sizeof(*v), str_cmp);
	}
	*files = v;
	*nfiles = n;
	return 0;
fail:
	while (n > 0)
		free(v[--n]);
	free(v);
	return -1;
}
