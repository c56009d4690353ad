/*
 * tracebuild.h - build trace files by hand from sw_trace.h structs, for
 * the reader, aggregation and CLI tests (no shim needed).
 */
#ifndef SW_TRACEBUILD_H
#define SW_TRACEBUILD_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../include/sw_hist.h"
#include "../../include/sw_trace.h"

struct tb {
	uint8_t *buf;
	size_t len, cap;
};

static inline void tb_raw(struct tb *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 256;
		b->buf = realloc(b->buf, b->cap);
	}
	memcpy(b->buf + b->len, p, n);
	b->len += n;
}

/* Append a record: fixed part (its header's size/type are filled in) and
 * up to three tails; padded to 8 bytes. */
static inline void tb_rec(struct tb *b, void *fixed, size_t fixed_len,
			  uint16_t type, const void *t1, size_t n1,
			  const void *t2, size_t n2, const void *t3, size_t n3)
{
	struct sw_rec_hdr *h = fixed;
	static const uint8_t zero[8];
	size_t size = fixed_len + n1 + n2 + n3, pad = (8 - size % 8) % 8;

	h->size = (uint32_t)(size + pad);
	h->type = type;
	h->flags = 0;
	tb_raw(b, fixed, fixed_len);
	if (n1)
		tb_raw(b, t1, n1);
	if (n2)
		tb_raw(b, t2, n2);
	if (n3)
		tb_raw(b, t3, n3);
	tb_raw(b, zero, pad);
}

/* Append a record that is only its fixed part (most of them). */
static inline void tb_fixed(struct tb *b, void *fixed, size_t fixed_len,
			    uint16_t type)
{
	tb_rec(b, fixed, fixed_len, type, NULL, 0, NULL, 0, NULL, 0);
}

static inline void tb_begin(struct tb *b, uint32_t pid, const char *cmdline,
			    size_t cmdline_len, const char *comm)
{
	struct sw_preamble pre;
	struct sw_rec_process p;

	memset(b, 0, sizeof(*b));
	memset(&pre, 0, sizeof(pre));
	memcpy(pre.magic, SW_TRACE_MAGIC, 8);
	pre.version = SW_TRACE_VERSION;
	pre.byte_order = 0x01020304u;
	tb_raw(b, &pre, sizeof(pre));
	memset(&p, 0, sizeof(p));
	p.pid = pid;
	p.ppid = 1;
	p.start_realtime_ns = 1700000000000000000ull;
	p.start_mono_ns = 1000000000ull;
	p.clock_id = 1;
	p.threshold_ns = 50000000;
	p.call_threshold_ns = 10000000;
	p.sample_interval_ns = 10000000;
	p.cmdline_len = (uint32_t)cmdline_len;
	p.exe_len = 8;
	p.comm_len = (uint32_t)strlen(comm);
	tb_rec(b, &p, sizeof(p), SW_REC_PROCESS, cmdline, cmdline_len,
	       "/bin/exe", 8, comm, strlen(comm));
}

static inline void tb_module(struct tb *b, const char *path, uint64_t bias,
			     uint64_t base, const struct sw_segment *segs,
			     uint32_t nsegs, const uint8_t *id, uint16_t idlen,
			     uint32_t flags)
{
	struct sw_rec_module m;

	memset(&m, 0, sizeof(m));
	m.bias = bias;
	m.base = base;
	m.nsegments = nsegs;
	m.build_id_len = idlen;
	m.path_len = (uint16_t)strlen(path);
	m.mod_flags = flags;
	tb_rec(b, &m, sizeof(m), SW_REC_MODULE, segs, nsegs * sizeof(*segs), id,
	       idlen, path, strlen(path));
}

static inline void tb_loop(struct tb *b, uint32_t loop_id, uint32_t tid,
			   uint64_t time_ns, const char *name)
{
	struct sw_rec_loop l;

	memset(&l, 0, sizeof(l));
	l.time_ns = time_ns;
	l.loop_id = loop_id;
	l.tid = tid;
	l.epfd = 3;
	strncpy(l.thread_name, name, sizeof(l.thread_name));
	tb_fixed(b, &l, sizeof(l), SW_REC_LOOP);
}

/*
 * How the aggregation tests start a trace: the process, its main
 * executable at a path that is not on disk (so no symbols) mapped at
 * 0x400000 (one r-x segment of 8 KiB, where the tests' stacks point), and
 * loop 1 on the main thread (tid pid) from 1 s on, named like comm.
 */
static inline void tb_begin_main(struct tb *b, uint32_t pid,
				 const char *cmdline, size_t cmdline_len,
				 const char *comm, const char *exe)
{
	static const struct sw_segment seg = {0x400000, 0x402000, 0, 5, 0};

	tb_begin(b, pid, cmdline, cmdline_len, comm);
	tb_module(b, exe, 0, 0x400000, &seg, 1, NULL, 0, SW_MOD_MAIN);
	tb_loop(b, 1, pid, 1000000000ull, comm);
}

struct tb_ev {
	uint16_t kind, call;
	uint32_t tid, loop_id, turn_seq, count;
	uint64_t start_ns, duration_ns, total_ns, max_ns;
	uint8_t flags, fd_kind;
	const uint64_t *ips;
	uint16_t nips;
	const struct sw_pyframe *py;
	uint16_t npy;
};

static inline void tb_event(struct tb *b, const struct tb_ev *x)
{
	struct sw_rec_event e;

	memset(&e, 0, sizeof(e));
	e.start_ns = x->start_ns;
	e.duration_ns = x->duration_ns;
	e.total_ns = x->total_ns ? x->total_ns : x->duration_ns;
	e.max_ns = x->max_ns ? x->max_ns : x->duration_ns;
	e.count = x->count ? x->count : 1;
	e.tid = x->tid;
	e.loop_id = x->loop_id;
	e.turn_seq = x->turn_seq;
	e.kind = x->kind;
	e.call = x->call;
	e.fd_kind = x->fd_kind;
	e.ev_flags = x->flags;
	e.nips = x->nips;
	e.npy = x->npy;
	e.fd = -1;
	tb_rec(b, &e, sizeof(e), SW_REC_EVENT, x->ips, x->nips * 8u, x->py,
	       x->npy * sizeof(struct sw_pyframe), NULL, 0);
}

/* A heartbeat whose histogram holds the given turn lengths. */
static inline void tb_heartbeat(struct tb *b, uint32_t loop_id, uint32_t tid,
				uint64_t born, uint64_t time_ns,
				const uint64_t *turns, size_t nturns,
				uint64_t busy)
{
	struct sw_rec_heartbeat h;
	uint64_t *buckets = calloc(SW_HIST_BUCKETS, 8), mx = 0;
	size_t i;

	for (i = 0; i < nturns; i++) {
		buckets[sw_hist_index(turns[i])]++;
		if (turns[i] > mx)
			mx = turns[i];
	}
	memset(&h, 0, sizeof(h));
	h.time_ns = time_ns;
	h.turns = nturns;
	h.busy_ns = busy;
	h.born_ns = born;
	h.max_turn_ns = mx;
	h.loop_id = loop_id;
	h.tid = tid;
	h.nbuckets = SW_HIST_BUCKETS;
	h.final = 1;
	tb_rec(b, &h, sizeof(h), SW_REC_HEARTBEAT, buckets, SW_HIST_BUCKETS * 8,
	       NULL, 0, NULL, 0);
	free(buckets);
}

static inline void tb_pycode(struct tb *b, uint32_t id, const char *name,
			     const char *file, int first_line)
{
	struct sw_rec_pycode c;

	memset(&c, 0, sizeof(c));
	c.code_id = id;
	c.first_line = first_line;
	c.name_len = (uint16_t)strlen(name);
	c.file_len = (uint16_t)strlen(file);
	tb_rec(b, &c, sizeof(c), SW_REC_PYCODE, name, strlen(name), file,
	       strlen(file), NULL, 0);
}

/* The fields of a stall record that every revision has. */
static inline void tb_stall_fill(struct sw_rec_stall *s, uint32_t tid,
				 uint32_t loop_id, uint32_t turn_seq,
				 uint64_t start, uint64_t dur)
{
	memset(s, 0, sizeof(*s));
	s->start_ns = start;
	s->duration_ns = dur;
	s->tid = tid;
	s->loop_id = loop_id;
	s->turn_seq = turn_seq;
}

/* A stall with the loop thread's CPU time over the turn (revision 2). */
static inline void tb_stall_cpu(struct tb *b, uint32_t tid, uint32_t loop_id,
				uint32_t turn_seq, uint64_t start, uint64_t dur,
				uint64_t cpu_ns, uint64_t sampled_ns)
{
	struct sw_rec_stall s;

	tb_stall_fill(&s, tid, loop_id, turn_seq, start, dur);
	s.cpu_ns = cpu_ns;
	s.sampled_ns = sampled_ns;
	tb_fixed(b, &s, sizeof(s), SW_REC_STALL);
}

/* A stall of today's revision whose CPU time is unknown (0). */
static inline void tb_stall(struct tb *b, uint32_t tid, uint32_t loop_id,
			    uint32_t turn_seq, uint64_t start, uint64_t dur)
{
	tb_stall_cpu(b, tid, loop_id, turn_seq, start, dur, 0, 0);
}

/* A stall record as the first revision wrote it (no CPU fields). */
static inline void tb_stall_v1(struct tb *b, uint32_t tid, uint32_t loop_id,
			       uint32_t turn_seq, uint64_t start, uint64_t dur)
{
	struct sw_rec_stall s;

	tb_stall_fill(&s, tid, loop_id, turn_seq, start, dur);
	tb_fixed(b, &s, offsetof(struct sw_rec_stall, cpu_ns), SW_REC_STALL);
}

static inline void tb_test(struct tb *b, uint64_t time_ns, const char *name)
{
	struct sw_rec_test t;

	memset(&t, 0, sizeof(t));
	t.time_ns = time_ns;
	t.source = SW_TEST_PYTEST;
	t.name_len = (uint32_t)strlen(name);
	tb_rec(b, &t, sizeof(t), SW_REC_TEST, name, strlen(name), NULL, 0, NULL,
	       0);
}

static inline void tb_dropped(struct tb *b, uint64_t time_ns, uint64_t bytes,
			      uint64_t first, uint64_t last, uint32_t rotations)
{
	struct sw_rec_dropped d;

	memset(&d, 0, sizeof(d));
	d.time_ns = time_ns;
	d.bytes = bytes;
	d.first_dropped_ns = first;
	d.last_dropped_ns = last;
	d.rotations = rotations;
	tb_fixed(b, &d, sizeof(d), SW_REC_DROPPED);
}

/* An end record for a process that left by _exit (revision 2). */
static inline void tb_end_how(struct tb *b, uint64_t time_ns, uint32_t how,
			      int32_t status)
{
	struct sw_rec_end e;

	memset(&e, 0, sizeof(e));
	e.time_ns = time_ns;
	e.how = how;
	e.status = status;
	tb_fixed(b, &e, sizeof(e), SW_REC_END);
}

/* An end record for a normal exit (how and status 0, as before revision
 * 2). */
static inline void tb_end(struct tb *b, uint64_t time_ns)
{
	tb_end_how(b, time_ns, 0, 0);
}

static inline int tb_write(const struct tb *b, const char *path)
{
	FILE *f = fopen(path, "wb");
	int ok;

	if (!f)
		return -1;
	ok = fwrite(b->buf, 1, b->len, f) == b->len;
	return fclose(f) == 0 && ok ? 0 : -1;
}

static inline void tb_free(struct tb *b)
{
	free(b->buf);
	memset(b, 0, sizeof(*b));
}

/*
 * Write the trace to the file the printf format names and free it: 0, or
 * -1 when it could not be written.  The name stays in path (size bytes)
 * for the test to load.
 */
static inline int tb_save(struct tb *b, char *path, size_t size,
			  const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static inline int tb_save(struct tb *b, char *path, size_t size,
			  const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(path, size, fmt, ap);
	va_end(ap);
	rc = tb_write(b, path);
	tb_free(b);
	return rc;
}

#endif
