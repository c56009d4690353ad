/*
 * sw_trace.h - the stallwatch trace format, version 1.
 *
 * Written by the shim, read by the analyzer; both compile against this
 * header.  A trace file is a preamble followed by records.  Every record
 * starts with struct sw_rec_hdr and is written with one write(2), so a
 * SIGKILL can at worst tear the last record, which the reader skips.
 *
 * All integers are little-endian (the host order on the platforms the
 * shim supports), all times are CLOCK_MONOTONIC nanoseconds unless named
 * *_realtime_ns, and all structures are packed to 8-byte alignment with
 * explicit padding so that both sides agree byte for byte.
 *
 * Records only grow: a later revision may append fields to a fixed part,
 * and a reader zero-fills the fields a shorter (older) record lacks.
 *
 * Variable-length tails follow the fixed part of a record in the order the
 * comments give.  Strings in tails are NOT NUL-terminated; their lengths are
 * in the fixed part.  The reader must treat every field as hostile.
 */
#ifndef SW_TRACE_H
#define SW_TRACE_H

#include <stdint.h>

#define SW_TRACE_MAGIC	 "SWTRACE\0" /* 8 bytes */
#define SW_TRACE_VERSION 1u
#define SW_TRACE_SUFFIX	 ".swtrace"
/* struct sw_preamble's byte_order as the shim writes it: read back as
 * anything else, the file was written on a host of the other order. */
#define SW_TRACE_BYTE_ORDER 0x01020304u

/* No record is larger than this; the reader rejects anything bigger. */
#define SW_REC_MAX_SIZE (1u << 20)
/* Deepest native stack a record carries. */
#define SW_MAX_IPS 256
/* Deepest Python stack a record carries. */
#define SW_MAX_PYFRAMES 128
/* Longest string (path, name, command line) a record carries. */
#define SW_MAX_STR 4096

/* The first 16 bytes of every trace file, written together with the
 * SW_REC_PROCESS record in one write(2). */
struct sw_preamble {
	char magic[8];	     /* SW_TRACE_MAGIC */
	uint32_t version;    /* SW_TRACE_VERSION */
	uint32_t byte_order; /* SW_TRACE_BYTE_ORDER */
};

enum sw_rec_type {
	SW_REC_PROCESS =
	    1, /* struct sw_rec_process: once, right after the preamble */
	SW_REC_MODULE = 2, /* struct sw_rec_module: a loaded ELF object */
	SW_REC_LOOP = 3, /* struct sw_rec_loop: a loop thread's loop is born */
	SW_REC_LOOP_END =
	    4, /* struct sw_rec_loop_end: its epoll fd was closed */
	SW_REC_EVENT =
	    5, /* struct sw_rec_event: a blocking call, a sample, ... */
	SW_REC_STALL = 6, /* struct sw_rec_stall: a turn over the threshold */
	SW_REC_HEARTBEAT =
	    7, /* struct sw_rec_heartbeat: a loop's summary so far */
	SW_REC_PYCODE =
	    8, /* struct sw_rec_pycode: names for a Python code id */
	SW_REC_NOTE =
	    9, /* struct sw_rec_note: a one-line message for the report */
	SW_REC_END =
	    10, /* struct sw_rec_end: clean exit; absent after a crash */
	SW_REC_TEST = 11, /* struct sw_rec_test: the test now running */
	SW_REC_DROPPED =
	    12, /* struct sw_rec_dropped: what the size budget dropped */
};

struct sw_rec_hdr {
	uint32_t
	    size; /* whole record including this header, <= SW_REC_MAX_SIZE */
	uint16_t type;	/* enum sw_rec_type; unknown types are skipped */
	uint16_t flags; /* reserved, 0 */
};

/* Settings in force, so a report can say what "stall" meant. */
#define SW_PROC_STRICT (1u << 0)
#define SW_PROC_SECURE_SKIPPED \
	(1u << 1) /* never written: inert when AT_SECURE */

struct sw_rec_process {
	struct sw_rec_hdr h;
	uint32_t pid;
	uint32_t ppid;
	uint64_t start_realtime_ns; /* CLOCK_REALTIME at shim start */
	uint64_t start_mono_ns;	    /* CLOCK_MONOTONIC at the same instant */
	uint32_t clock_id;     /* clock of every *_ns field: CLOCK_MONOTONIC */
	uint32_t proc_flags;   /* SW_PROC_* */
	uint64_t threshold_ns; /* turn stall threshold */
	uint64_t call_threshold_ns; /* blocking-call threshold (default mode) */
	uint64_t sample_interval_ns;
	uint32_t cmdline_len; /* argv joined with NUL bytes */
	uint32_t exe_len;     /* /proc/self/exe */
	uint32_t comm_len;    /* program name used in the file name */
	uint32_t pad;
	/* tail: cmdline[cmdline_len], exe[exe_len], comm[comm_len] */
};

/* One PT_LOAD segment, as mapped. */
struct sw_segment {
	uint64_t start;	 /* runtime address of the first byte */
	uint64_t end;	 /* one past the last byte */
	uint64_t offset; /* file offset of start */
	uint32_t prot;	 /* PF_R/PF_W/PF_X bits */
	uint32_t pad;
};

#define SW_BUILD_ID_MAX 64
/* Most PT_LOAD segments a module record carries. */
#define SW_MAX_SEGMENTS 64

struct sw_rec_module {
	struct sw_rec_hdr h;
	uint64_t bias; /* load bias (dlpi_addr): runtime = ELF vaddr + bias */
	uint64_t
	    base; /* runtime address of file offset 0 (the offset-0 mapping) */
	uint32_t nsegments; /* <= 64 */
	uint16_t
	    build_id_len; /* <= SW_BUILD_ID_MAX, 0 when the object has none */
	uint16_t path_len;
	uint32_t mod_flags; /* SW_MOD_* */
	uint32_t pad;
	/* tail: struct sw_segment seg[nsegments], build_id[build_id_len],
	 * path[path_len] */
};
#define SW_MOD_MAIN (1u << 0) /* the executable */
#define SW_MOD_VDSO (1u << 1) /* the kernel's vDSO: no file on disk */

struct sw_rec_loop {
	struct sw_rec_hdr h;
	uint64_t time_ns;
	uint32_t loop_id; /* unique within the process, never reused */
	uint32_t tid;
	int32_t epfd;
	uint32_t pad;
	char thread_name[16]; /* NUL-padded, from the kernel's comm */
};

struct sw_rec_loop_end {
	struct sw_rec_hdr h;
	uint64_t time_ns;
	uint32_t loop_id;
	uint32_t tid;
};

enum sw_event_kind {
	SW_EV_CALL = 1,	  /* a blocking call on a loop thread in a turn */
	SW_EV_SAMPLE = 2, /* a sample of a loop thread stuck in a long turn */
	SW_EV_PRIVATE_LOOP = 3, /* a wait on another epoll fd during a turn */
	SW_EV_GIL_WAIT = 4,	/* waits for the Python GIL during a turn */
};

enum sw_fd_kind {
	SW_FD_NONE = 0, /* the call has no fd */
	SW_FD_UNKNOWN = 1,
	SW_FD_FILE = 2, /* regular file */
	SW_FD_BLOCKDEV = 3,
	SW_FD_SOCKET = 4,
	SW_FD_PIPE = 5,
	SW_FD_TTY = 6,	 /* character device */
	SW_FD_EVENT = 7, /* anon inode: eventfd, timerfd, epoll, signalfd */
};

#define SW_EVF_STRICT (1u << 0) /* recorded only because it could block */
#define SW_EVF_SIGNAL_FRAME \
	(1u << 1) /* ips[0] is an interrupted PC, not a return address */
#define SW_EVF_TRUNCATED (1u << 2) /* the stack was deeper than recorded */
#define SW_EVF_NONBLOCK	 (1u << 3) /* the fd had O_NONBLOCK */
#define SW_EVF_COUNT_ONLY                                       \
	(1u << 4) /* occurrences whose stacks were not captured \
		   * (flood limit): ips[0] is the caller only */
#define SW_EVF_PY_UNKNOWN \
	(1u << 5) /* a Python thread, but its frames could not be read */

struct sw_rec_event {
	struct sw_rec_hdr h;
	uint64_t start_ns; /* when the call began (samples: when taken) */
	uint64_t
	    duration_ns;   /* this occurrence (samples: the sample interval) */
	uint64_t total_ns; /* this occurrence plus those folded in (count) */
	uint64_t max_ns;   /* longest of the occurrences folded in */
	uint32_t count;	   /* occurrences this record stands for, >= 1 */
	uint32_t tid;
	uint32_t loop_id;  /* 0 when not on a loop */
	uint32_t turn_seq; /* which turn of that loop (links to SW_REC_STALL) */
	uint16_t kind;	   /* enum sw_event_kind */
	uint16_t call;	   /* enum sw_call */
	uint8_t fd_kind;   /* enum sw_fd_kind */
	uint8_t ev_flags;  /* SW_EVF_* */
	uint16_t nips;	   /* <= SW_MAX_IPS */
	uint16_t npy;	   /* <= SW_MAX_PYFRAMES */
	uint16_t pad16;
	int32_t fd; /* -1 when none */
	/* tail: uint64_t ips[nips] (innermost first), struct sw_pyframe py[npy]
	 * (innermost first) */
};

/* A Python frame: the code object is named by a SW_REC_PYCODE record with the
 * same code_id written earlier in the same file. */
#define SW_PYF_ENTRY                                                \
	(1u << 0) /* the outermost Python frame run by one native   \
		   * interpreter-loop frame (3.11+: the frame whose \
		   * caller is the C stack; <3.11 every frame) */
struct sw_pyframe {
	uint32_t code_id;
	int32_t line; /* -1 when unknown */
	uint32_t pyf_flags;
	uint32_t pad;
};

struct sw_rec_pycode {
	struct sw_rec_hdr h;
	uint32_t code_id; /* unique within the process, never reused */
	int32_t first_line;
	uint16_t name_len; /* qualified name on 3.11+, else name; UTF-8 */
	uint16_t file_len; /* UTF-8 */
	uint32_t pad;
	/* tail: name[name_len], file[file_len] */
};

struct sw_rec_stall {
	struct sw_rec_hdr h;
	uint64_t start_ns; /* the turn began (the loop's wait returned) */
	uint64_t duration_ns;
	uint32_t tid;
	uint32_t loop_id;
	uint32_t turn_seq;
	uint32_t nsamples; /* SW_EV_SAMPLE records taken during it */
	/* Appended in revision 2 (zero in older traces): */
	uint64_t cpu_ns;     /* the loop thread's CPU time over the turn
				(CLOCK_THREAD_CPUTIME_ID), 0 when unknown */
	uint64_t sampled_ns; /* CPU time the samples of this turn stand for */
};

struct sw_rec_heartbeat {
	struct sw_rec_hdr h;
	uint64_t time_ns;
	uint64_t turns;	  /* since the loop was born */
	uint64_t busy_ns; /* time inside turns since the loop was born */
	uint64_t born_ns; /* when the loop was born */
	uint64_t max_turn_ns;
	uint64_t stalls;
	uint32_t loop_id;
	uint32_t tid;
	uint32_t nbuckets; /* SW_HIST_BUCKETS (sw_hist.h) */
	uint32_t final;	   /* 1 for the last heartbeat of the loop */
	/* tail: uint64_t buckets[nbuckets], cumulative counts of turn lengths
	 */
};

enum sw_note_level { SW_NOTE_INFO = 0, SW_NOTE_WARN = 1 };

struct sw_rec_note {
	struct sw_rec_hdr h;
	uint64_t time_ns;
	uint32_t level;
	uint32_t text_len;
	/* tail: text[text_len] */
};

/* How a process ended (sw_rec_end.how). */
enum sw_end_how {
	SW_END_EXIT = 0, /* exit() or a return from main: destructors ran */
	SW_END_UNDERSCORE = 1, /* _exit, _Exit or exit_group: none ran */
};

struct sw_rec_end {
	struct sw_rec_hdr h;
	uint64_t time_ns;
	uint64_t records_dropped; /* records the shim could not write */
	/* Appended in revision 2 (zero in older traces): */
	uint32_t how;	/* enum sw_end_how */
	int32_t status; /* the exit status, when known; else 0 */
};

/*
 * The test that is running from time_ns on, in this process, until the next
 * SW_REC_TEST (an empty name: no test).  Written before the first record
 * that falls into a new test; the analyzer attributes events and stalls to
 * a test by time.  Source: `source`.
 */
enum sw_test_source {
	SW_TEST_PYTEST = 1, /* PYTEST_CURRENT_TEST, the " (phase)" cut off */
	SW_TEST_OTHER = 2,
};

struct sw_rec_test {
	struct sw_rec_hdr h;
	uint64_t time_ns;
	uint32_t source;   /* enum sw_test_source */
	uint32_t name_len; /* UTF-8, <= SW_MAX_STR */
			   /* tail: name[name_len] */
};

/*
 * The size budget (STALLWATCH_MAX_SIZE) dropped older data of this process.
 * Written near the start of every trace file opened by a rotation: the file
 * stands alone (its process, modules and loops are written again), and this
 * record says, cumulatively, what no kept file holds any more.
 */
struct sw_rec_dropped {
	struct sw_rec_hdr h;
	uint64_t time_ns;	   /* when this rotation happened */
	uint64_t bytes;		   /* trace bytes dropped so far */
	uint64_t first_dropped_ns; /* time span of the dropped records */
	uint64_t last_dropped_ns;
	uint32_t rotations; /* rotations so far, this one included */
	uint32_t pad;
};

/* A JIT perf map (node --perf-basic-prof writes SW_PERF_MAP_FMT with the
 * process id) is copied at exit to a file beside the trace: the trace's path
 * with SW_TRACE_SUFFIX replaced by SW_PERFMAP_SUFFIX. */
#define SW_PERF_MAP_FMT	  "/tmp/perf-%d.map"
#define SW_PERFMAP_SUFFIX ".perfmap"

#endif
