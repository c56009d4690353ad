/*
 * model.h - the analyzer's picture of a run, shared by every output.
 *
 * Module map:
 *   main.c       the `stallwatch` command: subcommand dispatch, --help
 *   cmd_run.c    stallwatch run: options and the summary
 *   run_child.c  launching a program under the shim (run and gate --)
 *   run_dir.c    one directory per run; a parent stands for its newest
 *   cmd_report.c stallwatch report: options, then one of the writers
 *   cmd_gate.c   stallwatch gate: budgets, allowlist, verdicts, annotations
 *   gate_junit.c the gate's JUnit file
 *   cmd_top.c, follow.c  stallwatch top, following traces as they grow
 *   cmd_metrics.c  stallwatch metrics: the Prometheus exposition
 *   cmd_preload.c  stallwatch preload: lines that preload the shim
 *   outfile.c    output files written atomically (or in place)
 *   reader.c     trace files -> records (validates everything, skips a
 *                torn tail)
 *   symbolize.c  addresses -> functions, files, lines (libdwfl)
 *   pymerge.c    Python frames placed among native ones
 *   perfmap.c    JIT perf maps -> names for anonymous code
 *   load.c       records -> struct sw_report: the driver (processes, notes)
 *   sites.c      raw stacks -> sites grouped by place, ranking
 *   stalls.c     each stall explained by its turn's events
 *   tests.c      the test each event, stall and site ran in
 *   place.c      in-app frames and the one place of a site (place.h)
 *   hashmap.c    the hash maps the loader uses
 *   source.c     a source line's text, read at report time
 *   out_text.c, out_json.c, out_folded.c, out_html.c, out_chrome.c,
 *   out_speedscope.c, out_pprof.c  writers
 *   intern.c     string interning for the exports
 *   html/page.js, html/page.css  the HTML page's script and style sheet
 *   jsonw.c      JSON string escaping shared by the writers
 *   html_escape.c  the one UTF-8 decoder; HTML/XML/terminal escaping
 *   util.c       xmalloc, string buffers, sw_die
 *
 * Strings in the model are owned by the report and freed by
 * sw_report_free().  Every string came from a trace file: writers must
 * escape them for their format (and strip control characters on a
 * terminal).
 */
#ifndef SW_MODEL_H
#define SW_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum sw_lang { SW_LANG_NATIVE = 0, SW_LANG_PYTHON = 1, SW_LANG_JS = 2 };

struct sw_frame {
	enum sw_lang lang;
	char *function;	   /* NULL when unknown */
	char *file;	   /* source file, NULL when unknown */
	int line;	   /* 0 when unknown */
	char *module;	   /* ELF path, or NULL (Python frames, unknown) */
	uint64_t addr;	   /* runtime address (native/JS), 0 for Python */
	int inlined;	   /* an inlined native frame (same addr as the next) */
	uint64_t rel_addr; /* addr - module's load base (for module+0xoff),
			    * 0 when not in a known module */
	int in_app;	   /* the program's own code (place.h) */
};

/* Where a site happened, for every output (place.h computes it). */
struct sw_place {
	char *text; /* one line: "handler (app.py:12) → requests.get → recv" */
	char *function; /* of the place frame; NULL when unknown */
	char *file;	/* of the place frame; NULL when unknown */
	int line;	/* of the place frame; 0 when unknown */
	char *what;	/* the outermost non-app call the place frame made
			   ("requests.get"), else NULL */
	long frame;	/* index of the place frame in the stack, -1: none */
	int in_app;	/* the place frame is the program's own code */
};

/* One raw stack of a site. */
struct sw_variant {
	struct sw_frame *frames; /* innermost first */
	size_t nframes;
	uint64_t count, total_ns, max_ns;
};

enum sw_site_kind {
	SW_SITE_BLOCKING = 0,	  /* "blocking-call" */
	SW_SITE_CPU = 1,	  /* "cpu-stall" */
	SW_SITE_PRIVATE_LOOP = 2, /* "private-loop" */
	SW_SITE_GIL_WAIT = 3,	  /* "gil-wait" */
};
const char *sw_site_kind_name(enum sw_site_kind kind);

/* Stacks of the same kind, call and place, aggregated. */
struct sw_site {
	enum sw_site_kind kind;
	const char
	    *call;   /* static string from sw_calls.h ("loop turn" for CPU) */
	int fd_kind; /* enum sw_fd_kind of the first occurrence */
	int strict_only; /* every occurrence was below the call threshold */
	uint64_t count;
	uint64_t total_ns; /* for cpu-stall: samples x interval */
	uint64_t max_ns;
	struct sw_frame *frames; /* the heaviest variant's (not owned) */
	size_t nframes;
	struct sw_place place;
	struct sw_variant *variants; /* raw stacks, most time first */
	size_t nvariants;
	const char *test; /* the test its longest occurrence ran in, or NULL
			     (a string of report.tests) */
};

/* One occurrence, for timelines and gates. */
struct sw_event {
	size_t process; /* index into report.processes */
	uint32_t tid;
	uint64_t start_ns; /* monotonic, as in the trace */
	uint64_t duration_ns;
	size_t site; /* index into report.sites */
	long stall;  /* index into report.stalls, -1 when outside any stall */
	uint32_t count;	   /* occurrences it stands for (flood folding) */
	uint64_t total_ns; /* time it stands for: blocked time of all count
			      occurrences, or samples x sample interval plus
			      their share of the turn's CPU before the first
			      sample */
	size_t variant;	   /* index into the site's variants */
	const char *test;  /* the running test, or NULL (report.tests) */
};

struct sw_stall {
	size_t process;
	size_t loop; /* index into that process's loops */
	uint32_t pid, tid;
	uint64_t start_ns, duration_ns;
	uint64_t blocked_ns; /* covered by blocking calls, private loops, GIL
				waits */
	uint64_t cpu_ns;     /* CPU time not covered by those: samples, plus
				the turn's CPU clock before the first sample */
	uint64_t cpu_unsampled_ns; /* part of cpu_ns from the CPU clock (given
				      to the turn's samples, or stackless) */
	uint64_t off_cpu_ns;	   /* the rest, when the CPU clock is known: the
				      thread was off the CPU outside every call seen
				      (runnable, or in a call no wrapper saw); 0
				      when unknown (older traces) */
	const char *test;	   /* the running test, or NULL */
	size_t *sites; /* every site that explains it, most time first */
	size_t nsites;
};

struct sw_loop {
	uint32_t loop_id, tid;
	char *thread_name;
	uint64_t born_ns, last_ns; /* lifetime seen (for utilisation) */
	uint64_t turns, busy_ns, stalls, max_turn_ns;
	uint64_t lag_p50_ns, lag_p99_ns, lag_max_ns;
	double utilisation; /* busy_ns / (last_ns - born_ns), 0..1 */
	uint64_t *hist;	    /* SW_HIST_BUCKETS counts, NULL when no heartbeat */
};

struct sw_process {
	uint32_t pid, ppid;
	char *command; /* argv joined with spaces, for display */
	char *exe;
	char *comm;
	char *trace_path;
	uint64_t start_realtime_ns, start_mono_ns;
	uint64_t threshold_ns, call_threshold_ns, sample_interval_ns;
	int strict;
	char *name;	/* program name for frames of the main executable:
			   argv[0]'s basename (a symlink's name), else exe's */
	int clean_exit; /* SW_REC_END seen */
	int end_how;	/* enum sw_end_how, when clean_exit */
	int exit_status;
	uint64_t dropped_bytes; /* the size budget dropped this much */
	uint64_t dropped_first_ns, dropped_last_ns;
	uint32_t rotations;
	uint64_t records, torn_bytes;
	struct sw_loop *loops;
	size_t nloops;
};

struct sw_report {
	struct sw_process *processes;
	size_t nprocesses;
	struct sw_site *sites; /* ranked: most total_ns first */
	size_t nsites;
	struct sw_stall *stalls; /* by process, then start time */
	size_t nstalls;
	struct sw_event *events; /* by process, then start time */
	size_t nevents;
	char **tests; /* names of the tests seen (sw_event.test points here) */
	size_t ntests;
	char **notes; /* one-line messages for the reader (warnings,
			 degradations) */
	size_t nnotes;
};

struct sw_app_rules;
struct sw_load_opts {
	int no_symbols;			/* skip libdwfl (tests, speed) */
	const struct sw_app_rules *app; /* --app/--not-app, may be NULL */
	int quiet;			/* no progress messages on stderr */
};

/*
 * Read trace files and directories of them, symbolize, aggregate.
 * Returns 0, or -1 after printing one line "stallwatch: ..." on stderr
 * for unreadable input (the caller exits 2).
 */
int sw_report_load(struct sw_report *rep, char *const *paths, size_t npaths,
		   const struct sw_load_opts *opts);
void sw_report_free(struct sw_report *rep);

/* Writers: each returns 0, or -1 on a write error. */
int sw_write_text(const struct sw_report *rep, FILE *out, int color);
struct sw_text_opts {
	int color;
	size_t stacks; /* raw stacks shown per site (--stacks N), 1 default */
};
int sw_write_text_opts(const struct sw_report *rep, FILE *out,
		       const struct sw_text_opts *o);
int sw_write_json(const struct sw_report *rep, FILE *out);
int sw_write_folded(const struct sw_report *rep, FILE *out);
int sw_write_html(const struct sw_report *rep, FILE *out);
int sw_write_chrome(const struct sw_report *rep, FILE *out);
/* Chrome export with a size cap in bytes (0: none): past it the shortest
 * events are dropped and a note in the file says how many. */
int sw_write_chrome_capped(const struct sw_report *rep, FILE *out,
			   uint64_t max_bytes);
int sw_write_speedscope(const struct sw_report *rep, FILE *out);
/* gzipped pprof profile.proto (binary). */
int sw_write_pprof(const struct sw_report *rep, FILE *out);

/* The site's place frame (site->place.frame); for a model built without
 * places, the innermost Python frame, else the innermost native frame
 * with a file, else the innermost; NULL for a site without frames. */
const struct sw_frame *sw_site_location(const struct sw_site *site);

#endif
