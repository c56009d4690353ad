/*
 * pyframes.c - CPython frames for event records, and GIL-wait detection.
 *
 * The walk runs on the thread it describes, from blocking-call wrappers
 * (the GIL is released there) and from the sampling signal handler (the
 * interpreter may be half way through anything).  So it:
 *   - finds the thread state with PyGILState_GetThisThreadState(), which
 *     only reads thread-specific storage (pthread_getspecific);
 *   - reads every byte of interpreter memory with process_vm_readv() on our
 *     own pid: a stale pointer gives EFAULT, never a crash;
 *   - calls no Python API, allocates nothing, takes no lock;
 *   - bounds the depth, detects cycles, skips frames still being set up.
 *
 * Code objects are named once: a lock-free cache maps a code object (its
 * address plus identity fields, since freed code objects get reused) to a
 * code id; a code object not in the cache gets a new id and its names are
 * decoded and written as SW_REC_PYCODE before the event that uses them.
 *
 * Layouts per version are in pylayout.h; 3.13 publishes its own offsets
 * in _Py_DebugOffsets at the start of _PyRuntime, which we prefer.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "pyframes.h"
#include "pylayout.h"
#include "call.h"
#include "writer.h"

#define CODE_CACHE_SIZE	  4096 /* power of two */
#define CODE_CACHE_PROBES 4
#define NAME_MAX_BYTES	  512 /* UTF-8 bytes kept of a qualified name */
#define FILE_MAX_BYTES	  1024
#define WALK_MAX	  256	     /* frames visited, skipped ones included */
#define LINETABLE_MAX	  (1u << 20) /* longer line tables are not walked */
#define FRAME_BUF	  128	     /* bytes of a frame we may read */
#define CODE_BUF	  256	     /* bytes of a code object we may read */

typedef void *(*get_tstate_fn)(void);

/* Everything sw_py_prepare() learns; read by the walker once `ready` says
 * so (release/acquire), never changed afterwards except `pid` at fork. */
static struct {
	struct sw_pylayout L;
	get_tstate_fn get_tstate;
	uint64_t runtime;   /* &_PyRuntime */
	uint64_t code_type; /* &PyCode_Type */
	uint64_t unicode_type;
	uint64_t bytes_type;
	size_t frame_read; /* bytes of a frame the walker reads */
	size_t code_read;  /* bytes of a code object the walker reads */
	_Atomic int pid;
} py;

static _Atomic int py_ready;	  /* 1: the walker may run */
static _Atomic int py_given_up;	  /* 1: unsupported, the note was written */
static _Atomic uint64_t gil_cond; /* cached address of the GIL's cond */
static pthread_mutex_t prepare_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- fault-tolerant reads ------------------------------------------------ */

static int rd(uint64_t addr, void *buf, size_t len)
{
	struct iovec local = {buf, len}, remote = {(void *)addr, len};

	if (addr < 4096)
		return -1;
	return process_vm_readv(
		   atomic_load_explicit(&py.pid, memory_order_relaxed), &local,
		   1, &remote, 1, 0) == (ssize_t)len
		   ? 0
		   : -1;
}

/*
 * Two independent reads in one system call (a code object and the next
 * frame): 2 when both were read, 1 when only the first, 0 when neither.
 * process_vm_readv never splits one iovec element, and stops at the
 * first element that faults.
 */
static int rd2(uint64_t a1, void *b1, size_t l1, uint64_t a2, void *b2,
	       size_t l2)
{
	struct iovec local[2] = {{b1, l1}, {b2, l2}};
	struct iovec remote[2] = {{(void *)a1, l1}, {(void *)a2, l2}};
	ssize_t n;

	if (a1 < 4096)
		return 0;
	if (a2 < 4096)
		return rd(a1, b1, l1) ? 0 : 1;
	n = process_vm_readv(
	    atomic_load_explicit(&py.pid, memory_order_relaxed), local, 2,
	    remote, 2, 0);
	if (n == (ssize_t)(l1 + l2))
		return 2;
	return n == (ssize_t)l1 ? 1 : 0;
}

static int rd_ptr(uint64_t addr, uint64_t *out)
{
	return rd(addr, out, sizeof(*out));
}

static uint64_t get_u64(const unsigned char *buf, int off)
{
	uint64_t v;

	memcpy(&v, buf + off, sizeof(v));
	return v;
}

static uint32_t get_u32(const unsigned char *buf, int off)
{
	uint32_t v;

	memcpy(&v, buf + off, sizeof(v));
	return v;
}

/* ---- the code-object cache -------------------------------------------------
 */

/*
 * A seqlock per slot: a writer makes seq odd, fills the slot, makes it
 * even again; a reader that sees seq change (or odd) treats it as a miss.
 * A miss only costs a new id and a duplicate PYCODE record, so writers
 * that lose a race simply don't cache.  `gen` changes in a forked child,
 * whose new trace file has none of the parent's PYCODE records.
 */
struct code_slot {
	_Atomic uint32_t seq;
	_Atomic uint32_t gen;
	_Atomic uint64_t code, name, file, qualname, linetable;
	_Atomic int32_t first_line;
	_Atomic uint32_t id;
	_Atomic uint64_t
	    last_line; /* (addrq + 1) << 32 | line: the last answer */
};

static struct code_slot code_cache[CODE_CACHE_SIZE];
static _Atomic uint32_t cache_gen = 1;
static _Atomic uint32_t next_code_id;

struct code_ident {
	uint64_t code, name, file, qualname, linetable;
	int32_t first_line;
	int32_t first_traceable; /* 3.11+: not part of the identity */
	uint32_t slot_seq;	 /* the cache slot's seq when found */
};

static size_t slot_hash(uint64_t code)
{
	code ^= code >> 17;
	code *= 0x9e3779b97f4a7c15ull;
	return (size_t)(code >> 40) & (CODE_CACHE_SIZE - 1);
}

#define RLX memory_order_relaxed

/* Returns the slot holding this code object, or NULL. */
static struct code_slot *cache_find(const struct code_ident *ci, uint32_t *id,
				    uint32_t *seq_out)
{
	uint32_t gen = atomic_load_explicit(&cache_gen, RLX);
	size_t h = slot_hash(ci->code), i;

	for (i = 0; i < CODE_CACHE_PROBES; i++) {
		struct code_slot *s =
		    &code_cache[(h + i) & (CODE_CACHE_SIZE - 1)];
		uint32_t seq =
		    atomic_load_explicit(&s->seq, memory_order_acquire);
		int same;

		if (seq & 1)
			continue;
		same =
		    atomic_load_explicit(&s->gen, RLX) == gen &&
		    atomic_load_explicit(&s->code, RLX) == ci->code &&
		    atomic_load_explicit(&s->name, RLX) == ci->name &&
		    atomic_load_explicit(&s->file, RLX) == ci->file &&
		    atomic_load_explicit(&s->qualname, RLX) == ci->qualname &&
		    atomic_load_explicit(&s->linetable, RLX) == ci->linetable &&
		    atomic_load_explicit(&s->first_line, RLX) == ci->first_line;
		*id = atomic_load_explicit(&s->id, RLX);
		atomic_thread_fence(memory_order_acquire);
		if (same && atomic_load_explicit(&s->seq, RLX) == seq) {
			*seq_out = seq;
			return s;
		}
	}
	return NULL;
}

static void cache_store(const struct code_ident *ci, uint32_t id)
{
	uint32_t gen = atomic_load_explicit(&cache_gen, RLX);
	size_t h = slot_hash(ci->code), i, pick = h;
	struct code_slot *s;
	uint32_t seq;

	/* Prefer an empty or stale slot; else evict one of the probes. */
	for (i = 0; i < CODE_CACHE_PROBES; i++) {
		s = &code_cache[(h + i) & (CODE_CACHE_SIZE - 1)];
		if (atomic_load_explicit(&s->gen, RLX) != gen ||
		    !atomic_load_explicit(&s->code, RLX)) {
			pick = h + i;
			break;
		}
		if (i == CODE_CACHE_PROBES - 1)
			pick = h + (ci->code >> 4) % CODE_CACHE_PROBES;
	}
	s = &code_cache[pick & (CODE_CACHE_SIZE - 1)];
	seq = atomic_load_explicit(&s->seq, RLX);
	if ((seq & 1) ||
	    !atomic_compare_exchange_strong(&s->seq, &seq, seq + 1))
		return;
	atomic_store_explicit(&s->gen, gen, RLX);
	atomic_store_explicit(&s->code, ci->code, RLX);
	atomic_store_explicit(&s->name, ci->name, RLX);
	atomic_store_explicit(&s->file, ci->file, RLX);
	atomic_store_explicit(&s->qualname, ci->qualname, RLX);
	atomic_store_explicit(&s->linetable, ci->linetable, RLX);
	atomic_store_explicit(&s->first_line, ci->first_line, RLX);
	atomic_store_explicit(&s->id, id, RLX);
	atomic_store_explicit(&s->last_line, 0, RLX);
	atomic_store_explicit(&s->seq, seq + 2, memory_order_release);
}

void sw_py_new_file(void)
{
	atomic_fetch_add(&cache_gen, 1);
}

void sw_py_atfork_child(void)
{
	atomic_fetch_add(&cache_gen, 1);
	atomic_store(&py.pid, (int)getpid());
}

/* ---- strings ------------------------------------------------------------- */

static size_t put_utf8(char *out, size_t cap, size_t len, uint32_t cp)
{
	unsigned char b[4];
	size_t n;

	if (cp >= 0xd800 && cp < 0xe000)
		cp = '?'; /* lone surrogates are not UTF-8 */
	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (unsigned char)(0xc0 | (cp >> 6));
		b[1] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (unsigned char)(0xe0 | (cp >> 12));
		b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 3;
	} else if (cp < 0x110000) {
		b[0] = (unsigned char)(0xf0 | (cp >> 18));
		b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 4;
	} else {
		b[0] = '?';
		n = 1;
	}
	if (len + n > cap)
		return 0;
	memcpy(out + len, b, n);
	return n;
}

/*
 * Decode a str object into at most cap bytes of UTF-8 (whole characters).
 * Returns the length, 0 when it is not a readable str.
 */
static size_t read_str(uint64_t obj, char *out, size_t cap)
{
	unsigned char hdr[96], chunk[256];
	const struct sw_pylayout *L = &py.L;
	uint64_t data, nchars, done = 0;
	uint32_t state, kind;
	size_t len = 0, hdr_len = (size_t)L->uni_compact_size + 8;

	if (!obj || hdr_len > sizeof(hdr) || rd(obj, hdr, hdr_len))
		return 0;
	if (py.unicode_type && get_u64(hdr, L->ob_type) != py.unicode_type)
		return 0;
	state = get_u32(hdr, L->uni_state);
	kind = (state >> 2) & 7;
	if (kind != 1 && kind != 2 && kind != 4)
		return 0;
	if (L->minor < 12 && !((state >> 7) & 1))
		return 0; /* not "ready": only a wstr, which we don't read */
	if ((state >> 5) & 1) /* compact: the characters follow the header */
		data = obj + (size_t)(((state >> 6) & 1) ? L->uni_ascii_size
							 : L->uni_compact_size);
	else
		data = get_u64(hdr, L->uni_compact_size);
	nchars = get_u64(hdr, L->uni_length);
	if (nchars > cap)
		nchars = cap; /* every character takes at least one byte */
	while (done < nchars) {
		size_t want = (size_t)(nchars - done) * kind, i, n;

		if (want > sizeof(chunk))
			want = sizeof(chunk);
		if (rd(data + done * kind, chunk, want))
			return len;
		for (i = 0; i + kind <= want; i += kind) {
			uint32_t cp;

			if (kind == 1) {
				cp = chunk[i];
			} else if (kind == 2) {
				uint16_t u;

				memcpy(&u, chunk + i, 2);
				cp = u;
			} else {
				memcpy(&cp, chunk + i, 4);
			}
			n = put_utf8(out, cap, len, cp);
			if (!n)
				return len;
			len += n;
		}
		done += want / kind;
	}
	return len;
}

/* ---- line tables -----------------------------------------------------------
 */

/* A line table, read in chunks from the bytes object's data. */
struct lt_stream {
	uint64_t addr; /* next byte to fetch */
	uint64_t left; /* bytes not yet fetched */
	unsigned char buf[256];
	size_t pos, len;
};

/* Next byte, or -1 at the end (or on a read error). */
static int lt_next(struct lt_stream *s)
{
	if (s->pos == s->len) {
		size_t n =
		    s->left < sizeof(s->buf) ? (size_t)s->left : sizeof(s->buf);

		if (!n || rd(s->addr, s->buf, n))
			return -1;
		s->addr += n;
		s->left -= n;
		s->pos = 0;
		s->len = n;
	}
	return s->buf[s->pos++];
}

static int lt_peek(struct lt_stream *s)
{
	int b = lt_next(s);

	if (b >= 0)
		s->pos--;
	return b;
}

/* 3.9 co_lnotab: (address delta, signed line delta) byte pairs. */
static int line_lnotab(struct lt_stream *s, int first_line, int64_t addrq)
{
	int64_t addr = 0;
	int line = first_line, a, l;

	while ((a = lt_next(s)) >= 0 && (l = lt_next(s)) >= 0) {
		addr += a;
		if (addr > addrq)
			break;
		line += (signed char)l;
	}
	return line;
}

/* 3.10 co_linetable: (length in bytes, signed line delta or -128) pairs. */
static int line_pairs310(struct lt_stream *s, int first_line, int64_t addrq)
{
	int64_t end = 0;
	int computed = first_line, line = -1, a, l;

	while ((a = lt_next(s)) >= 0 && (l = lt_next(s)) >= 0) {
		int64_t start = end;

		end += a;
		if ((signed char)l == -128) {
			line = -1;
		} else {
			computed += (signed char)l;
			line = computed;
		}
		if (start < end && start <= addrq && addrq < end)
			return line;
	}
	return -1;
}

static int lt_varint(struct lt_stream *s, unsigned *out)
{
	unsigned val, shift = 0;
	int b = lt_next(s);

	if (b < 0)
		return -1;
	val = (unsigned)b & 63;
	while (b & 64) {
		b = lt_next(s);
		if (b < 0)
			return -1;
		shift += 6;
		if (shift > 30)
			return -1;
		val |= ((unsigned)b & 63) << shift;
	}
	*out = val;
	return 0;
}

/* 3.11+ location table (Objects/locations.md in CPython). */
static int line_locations(struct lt_stream *s, int first_line, int64_t addrq)
{
	int64_t end = 0;
	int computed = first_line, b;

	while ((b = lt_next(s)) >= 0) {
		int code = (b >> 3) & 15, line, delta = 0;
		int64_t start = end;
		unsigned v;

		if (!(b & 0x80))
			return -1; /* lost sync: not the start of an entry */
		if (code == 13 || code == 14) {
			if (lt_varint(s, &v))
				return -1;
			delta = (v & 1) ? -(int)(v >> 1) : (int)(v >> 1);
		} else if (code >= 10 && code <= 12) {
			delta = code - 10;
		}
		computed += delta;
		line = code == 15 ? -1 : computed;
		end += ((b & 7) + 1) * 2;
		if (start <= addrq && addrq < end)
			return line;
		/* skip the rest of this entry (columns) */
		while ((b = lt_peek(s)) >= 0 && !(b & 0x80))
			lt_next(s);
	}
	return -1;
}

/* The line that byte offset addrq of a code object is on, -1 if unknown. */
static int code_line(uint64_t linetable, int first_line, int64_t addrq)
{
	const struct sw_pylayout *L = &py.L;
	unsigned char hdr[40];
	struct lt_stream s;
	uint64_t size;

	if (addrq < 0)
		return first_line; /* not started yet */
	if (!linetable || rd(linetable, hdr, (size_t)L->bytes_ob_sval) ||
	    (py.bytes_type && get_u64(hdr, L->ob_type) != py.bytes_type))
		return -1;
	size = get_u64(hdr, L->bytes_ob_size);
	if (size > LINETABLE_MAX)
		return -1;
	s.addr = linetable + (uint64_t)L->bytes_ob_sval;
	s.left = size;
	s.pos = s.len = 0;
	switch (L->lt_format) {
	case SW_PYLT_LNOTAB:
		return line_lnotab(&s, first_line, addrq);
	case SW_PYLT_PAIRS310:
		return line_pairs310(&s, first_line, addrq);
	default:
		return line_locations(&s, first_line, addrq);
	}
}

/* ---- code objects ----------------------------------------------------------
 */

/* Write the names of a new code id (async-signal-safe: one sw_emit). */
static void emit_pycode(uint32_t id, const struct code_ident *ci)
{
	struct {
		struct sw_rec_pycode p;
		char tail[NAME_MAX_BYTES + FILE_MAX_BYTES];
	} rec;
	size_t name_len, file_len;

	name_len = read_str(ci->qualname ? ci->qualname : ci->name, rec.tail,
			    NAME_MAX_BYTES);
	if (!name_len && ci->qualname)
		name_len = read_str(ci->name, rec.tail, NAME_MAX_BYTES);
	file_len = read_str(ci->file, rec.tail + name_len, FILE_MAX_BYTES);
	memset(&rec.p, 0, sizeof(rec.p));
	rec.p.h.type = SW_REC_PYCODE;
	rec.p.h.size = (uint32_t)(sizeof(rec.p) + name_len + file_len);
	rec.p.code_id = id;
	rec.p.first_line = ci->first_line;
	rec.p.name_len = (uint16_t)name_len;
	rec.p.file_len = (uint16_t)file_len;
	sw_emit(&rec, rec.p.h.size);
}

/*
 * Identify a code object (buf: its first py.code_read bytes): its id (new
 * ones are written to the trace) and, through *slot, the cache slot for
 * line memoisation (may be NULL).
 * Returns 0, or -1 when it is not a readable code object.
 */
static int code_lookup(uint64_t code, const unsigned char *buf,
		       struct code_ident *ci, uint32_t *id,
		       struct code_slot **slot)
{
	const struct sw_pylayout *L = &py.L;

	if (py.code_type && get_u64(buf, L->ob_type) != py.code_type)
		return -1;
	ci->code = code;
	ci->name = get_u64(buf, L->co_name);
	ci->file = get_u64(buf, L->co_filename);
	ci->qualname = L->co_qualname >= 0 ? get_u64(buf, L->co_qualname) : 0;
	ci->linetable = get_u64(buf, L->co_linetable);
	ci->first_line = (int32_t)get_u32(buf, L->co_firstlineno);
	ci->first_traceable = L->co_firsttraceable >= 0
				  ? (int32_t)get_u32(buf, L->co_firsttraceable)
				  : 0;
	ci->slot_seq = 0;
	*slot = cache_find(ci, id, &ci->slot_seq);
	if (*slot)
		return 0;
	*id = atomic_fetch_add(&next_code_id, 1) + 1;
	emit_pycode(*id, ci);
	cache_store(ci, *id);
	return 0;
}

/*
 * The line of a frame, memoised per cache slot: the last (offset, line)
 * answer, tagged with bits of the code object's address.  The slot's seq
 * is checked around the memo, since another thread may have given the
 * slot to another code object since we found it.
 */
#define MEMO_ADDR_BITS 20
#define MEMO_TAG_BITS  12

static uint64_t memo_key(uint64_t code, int64_t addrq)
{
	uint64_t tag = (code >> 4) & ((1u << MEMO_TAG_BITS) - 1);

	return ((uint64_t)(addrq + 1) << (32 + MEMO_TAG_BITS)) | (tag << 32);
}

static int frame_line(struct code_slot *slot, const struct code_ident *ci,
		      int64_t addrq)
{
	int memo_ok = slot && addrq >= 0 && addrq + 1 < (1ll << MEMO_ADDR_BITS);
	uint64_t key = memo_ok ? memo_key(ci->code, addrq) : 0, memo;
	int line;

	if (memo_ok) {
		memo = atomic_load_explicit(&slot->last_line,
					    memory_order_acquire);
		if ((memo & 0xffffffff00000000ull) == key &&
		    atomic_load_explicit(&slot->seq, memory_order_acquire) ==
			ci->slot_seq)
			return (int)(int32_t)(uint32_t)memo;
	}
	line = code_line(ci->linetable, ci->first_line, addrq);
	if (memo_ok && atomic_load_explicit(&slot->seq, memory_order_acquire) ==
			   ci->slot_seq)
		atomic_store_explicit(&slot->last_line, key | (uint32_t)line,
				      memory_order_release);
	return line;
}

/* ---- the walk --------------------------------------------------------------
 */

static int seen_before(const uint64_t *seen, int n, uint64_t addr)
{
	int i;

	for (i = 0; i < n; i++)
		if (seen[i] == addr)
			return 1;
	return 0;
}

static int walk(uint64_t tstate, struct sw_pyframe *out, int max, int *unknown)
{
	const struct sw_pylayout *L = &py.L;
	uint64_t frame, seen[WALK_MAX];
	unsigned char fb[FRAME_BUF], next_fb[FRAME_BUF], cb[CODE_BUF];
	int n = 0, nseen = 0, prefetched = 0;

	if (L->model == SW_PYM_FRAMEOBJ || L->ts_cframe < 0) {
		if (rd_ptr(tstate + (uint64_t)L->ts_frame, &frame))
			goto unreadable;
	} else {
		uint64_t cframe;

		if (rd_ptr(tstate + (uint64_t)L->ts_cframe, &cframe))
			goto unreadable;
		if (!cframe)
			return 0;
		if (rd_ptr(cframe + (uint64_t)L->cframe_current_frame, &frame))
			goto unreadable;
	}

	while (frame && n < max && nseen < WALK_MAX) {
		struct code_ident ci;
		struct code_slot *slot;
		uint64_t code, back;
		int64_t addrq;
		uint32_t id, flags = 0;
		int owner = -1, got;

		if (seen_before(seen, nseen, frame))
			break; /* a cycle: a torn update seen from a signal */
		seen[nseen++] = frame;
		if (prefetched)
			memcpy(fb, next_fb, py.frame_read);
		else if (rd(frame, fb, py.frame_read)) {
			if (!n)
				goto unreadable;
			break;
		}
		prefetched = 0;
		code = get_u64(fb, L->fr_code);
		back = get_u64(fb, L->fr_back);
		if (L->fr_owner >= 0)
			owner = fb[L->fr_owner];
		if (owner >= 0 && owner == L->owned_by_cstack) {
			/* 3.12+: the C stack's entry shim; the frame inside it
			 * was the outermost one of its eval loop. */
			if (n)
				out[n - 1].pyf_flags |= SW_PYF_ENTRY;
			frame = back;
			continue;
		}
		/* The code object and the next frame in one system call. */
		got = rd2(code, cb, py.code_read, back, next_fb, py.frame_read);
		prefetched = got == 2;
		if (!got || code_lookup(code, cb, &ci, &id, &slot)) {
			frame = back;
			continue;
		}
		if (L->model == SW_PYM_FRAMEOBJ) {
			int32_t lasti = (int32_t)get_u32(fb, L->fr_lasti);

			addrq = L->minor == 9 ? lasti : (int64_t)lasti * 2;
			flags = SW_PYF_ENTRY; /* one eval call per frame */
		} else {
			uint64_t first = code + (uint64_t)L->co_code;
			uint64_t instr = get_u64(fb, L->fr_lasti);

			/* _PyFrame_IsIncomplete(): pushed, not started yet */
			if (owner != L->owned_by_generator &&
			    ci.first_traceable >= 0 &&
			    ci.first_traceable < (1 << 20) &&
			    instr < first + (uint64_t)ci.first_traceable * 2) {
				frame = back;
				continue;
			}
			addrq = (int64_t)(instr - first);
			if (L->fr_is_entry >= 0 && fb[L->fr_is_entry])
				flags = SW_PYF_ENTRY;
		}
		out[n].code_id = id;
		out[n].line = frame_line(slot, &ci, addrq);
		out[n].pyf_flags = flags;
		out[n].pad = 0;
		n++;
		frame = back;
	}
	/* The outermost frame was run by the outermost eval loop call. */
	if (n && !frame)
		out[n - 1].pyf_flags |= SW_PYF_ENTRY;
	return n;
unreadable:
	*unknown = 1;
	return 0;
}

int sw_py_capture(struct sw_pyframe *out, int max, int *unknown)
{
	int saved_errno, n;
	void *tstate;

	*unknown = 0;
	if (sw_likely(!atomic_load_explicit(&py_ready, memory_order_acquire)))
		return 0;
	saved_errno = errno;
	tstate = py.get_tstate();
	n = 0;
	if (tstate && max > 0)
		n = walk((uint64_t)tstate, out, max, unknown);
	errno = saved_errno;
	return n;
}

/* ---- the GIL ---------------------------------------------------------------
 */

static uint64_t resolve_gil_cond(void)
{
	const struct sw_pylayout *L = &py.L;
	uint64_t interp, gil;

	if (L->gil_cond_in_runtime >= 0)
		return py.runtime + (uint64_t)L->gil_cond_in_runtime;
	if (L->rt_interp_main < 0 || L->interp_gil_ptr < 0 || L->gil_cond < 0)
		return 0;
	if (rd_ptr(py.runtime + (uint64_t)L->rt_interp_main, &interp) ||
	    !interp)
		return 0;
	if (rd_ptr(interp + (uint64_t)L->interp_gil_ptr, &gil) || !gil)
		return 0; /* not created yet: try again next time */
	return gil + (uint64_t)L->gil_cond;
}

int sw_py_is_gil_cond(const void *cond)
{
	uint64_t want;

	if (!cond || !atomic_load_explicit(&py_ready, memory_order_acquire))
		return 0;
	want = atomic_load_explicit(&gil_cond, RLX);
	if (!want) {
		int saved_errno = errno;

		want = resolve_gil_cond();
		errno = saved_errno;
		if (!want)
			return 0;
		atomic_store_explicit(&gil_cond, want, RLX);
	}
	return (uint64_t)(uintptr_t)cond == want;
}

/* ---- finding the interpreter -----------------------------------------------
 */

/* 3.13: take what _Py_DebugOffsets offers over our table. */
static int apply_debug_offsets(struct sw_pylayout *L, uint64_t runtime)
{
	const struct sw_py313_dbg *D = &sw_py313_dbg;
	unsigned char dbg[600];
	uint64_t v;

	if (rd(runtime, dbg, sizeof(dbg)) || memcmp(dbg, "xdebugpy", 8))
		return -1;
	v = get_u64(dbg, D->version);
	if ((v >> 24) != 3 || ((v >> 16) & 0xff) != 13)
		return -1;
	if (get_u64(dbg, D->free_threaded))
		return -1; /* different object headers: not supported */
#define TAKE(field, pos)                  \
	do {                              \
		v = get_u64(dbg, D->pos); \
		if (v > 4096)             \
			return -1;        \
		L->field = (int)v;        \
	} while (0)
	TAKE(ts_frame, ts_current_frame);
	TAKE(fr_back, fr_previous);
	TAKE(fr_code, fr_executable);
	TAKE(fr_lasti, fr_instr_ptr);
	TAKE(fr_owner, fr_owner);
	TAKE(co_filename, co_filename);
	TAKE(co_name, co_name);
	TAKE(co_qualname, co_qualname);
	TAKE(co_linetable, co_linetable);
	TAKE(co_firstlineno, co_firstlineno);
	TAKE(co_code, co_code_adaptive);
	TAKE(ob_type, ob_type);
	TAKE(bytes_ob_size, bytes_ob_size);
	TAKE(bytes_ob_sval, bytes_ob_sval);
	TAKE(uni_state, uni_state);
	TAKE(uni_length, uni_length);
	TAKE(uni_ascii_size, uni_ascii_size);
	TAKE(interp_gil_ptr, interp_ceval_gil);
#undef TAKE
	return 0;
}

static int max_off(int a, int b)
{
	return a > b ? a : b;
}

/* Called with prepare_lock held.  Returns 1 ready, 0 no Python (yet),
 * -1 a Python we can't walk (note written). */
static int probe(void)
{
	struct sw_pylayout L;
	const struct sw_pylayout *table;
	get_tstate_fn get_tstate;
	unsigned long hex = 0;
	const unsigned long *version;
	const char *(*get_version)(void);
	char note[200];
	int major = 0, minor = 0;
	uint64_t probe_word;

	*(void **)&get_tstate =
	    dlsym(RTLD_DEFAULT, "PyGILState_GetThisThreadState");
	if (!get_tstate)
		return 0;
	version = dlsym(RTLD_DEFAULT, "Py_Version");
	*(void **)&get_version = dlsym(RTLD_DEFAULT, "Py_GetVersion");
	if (version) {
		hex = *version;
		major = (int)(hex >> 24);
		minor = (int)((hex >> 16) & 0xff);
	} else if (get_version) {
		const char *s = get_version();

		if (!s || sscanf(s, "%d.%d", &major, &minor) != 2)
			major = minor = 0;
	}
	py.runtime = (uint64_t)(uintptr_t)dlsym(RTLD_DEFAULT, "_PyRuntime");
	table = sw_pylayout_find(major, minor);
	if (!table || !py.runtime) {
		snprintf(
		    note, sizeof(note),
		    "python %d.%d: frames not supported, native stacks only",
		    major, minor);
		sw_note(SW_NOTE_WARN, note);
		return -1;
	}
	L = *table;
	atomic_store(&py.pid, (int)getpid());
	if (rd(py.runtime, &probe_word, sizeof(probe_word))) {
		snprintf(note, sizeof(note),
			 "python %d.%d: cannot read interpreter memory "
			 "(process_vm_readv: %s), native stacks only",
			 major, minor, strerror(errno));
		sw_note(SW_NOTE_WARN, note);
		return -1;
	}
	if (minor >= 13 && apply_debug_offsets(&L, py.runtime)) {
		snprintf(
		    note, sizeof(note),
		    "python %d.%d: unexpected _Py_DebugOffsets (free-threaded "
		    "build?), native stacks only",
		    major, minor);
		sw_note(SW_NOTE_WARN, note);
		return -1;
	}
	py.L = L;
	py.get_tstate = get_tstate;
	py.code_type = (uint64_t)(uintptr_t)dlsym(RTLD_DEFAULT, "PyCode_Type");
	py.unicode_type =
	    (uint64_t)(uintptr_t)dlsym(RTLD_DEFAULT, "PyUnicode_Type");
	py.bytes_type =
	    (uint64_t)(uintptr_t)dlsym(RTLD_DEFAULT, "PyBytes_Type");
	py.frame_read = (size_t)max_off(max_off(L.fr_back, L.fr_code),
					max_off(L.fr_lasti, L.fr_owner)) +
			8;
	py.frame_read = (size_t)max_off((int)py.frame_read, L.fr_is_entry + 1);
	py.code_read =
	    (size_t)max_off(max_off(max_off(L.co_name, L.co_filename),
				    max_off(L.co_qualname, L.co_linetable)),
			    max_off(max_off(L.co_firstlineno, L.ob_type),
				    L.co_firsttraceable)) +
	    8;
	if (py.frame_read > FRAME_BUF || py.code_read > CODE_BUF) {
		sw_note(SW_NOTE_WARN,
			"python: layout out of range, native stacks only");
		return -1;
	}
	return 1;
}

void sw_py_prepare(void)
{
	int r;

	if (atomic_load_explicit(&py_ready, memory_order_acquire) ||
	    atomic_load_explicit(&py_given_up, RLX))
		return;
	pthread_mutex_lock(&prepare_lock);
	if (!atomic_load(&py_ready) && !atomic_load(&py_given_up)) {
		int saved_errno = errno;

		r = probe();
		if (r > 0)
			atomic_store_explicit(&py_ready, 1,
					      memory_order_release);
		else if (r < 0)
			atomic_store(&py_given_up, 1);
		errno = saved_errno;
	}
	pthread_mutex_unlock(&prepare_lock);
}
