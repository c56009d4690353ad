/*
 * cmd_gate.c - `stallwatch gate`: the CI verdict on a run's traces.
 *
 * Loads the traces like `report` (or first runs `-- CMD` under the shim,
 * with run_child.c, and loads that run), checks them against the budgets
 * given on the command line, and prints one compiler-style line per
 * violation ("file:line: error: what happened ...") naming the site's
 * place, so that editors and CI logs link to the code, then a one-line
 * summary.  Exit 0 within budget, 1 over budget or no event loop seen, 2
 * for a usage error, unreadable input or a bad duration; after `-- CMD`,
 * a failing CMD's own status (doc/design.md, "run").  The JUnit file is
 * gate_junit.c's.
 *
 * Violations are grouped: the same rule broken by the same site on the
 * same loop thread of the same process, in the same test, is one line
 * with a count and the worst duration, so a call made 10,000 times is one
 * line, not 10,000.
 *
 * What each budget looks at:
 *   --max-stall D     every recorded stall longer than D (located at the
 *                     site that explains most of it), and a loop whose
 *                     longest turn exceeded D without a stall record (the
 *                     turn was under the shim's recording threshold);
 *   --max-blocking D  every blocking call, private loop or GIL wait longer
 *                     than D (model events, and sites' max for occurrences
 *                     folded under the flood limit);
 *   --no-blocking     every blocking-call, private-loop and gil-wait site:
 *                     all three hold up the loop; CPU stalls do not count
 *                     (use --max-stall for them);
 *   --max-lag-p99 D   every loop whose p99 turn length exceeds D.
 * --allow FILE exempts the sites a line names (place, or any frame of the
 * stack), and the stalls such a site explains.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "commands.h"
#include "gate.h"
#include "html_escape.h"
#include "model.h"
#include "place.h"
#include "run_child.h"
#include "run_dir.h"
#include "source.h"
#include "sw_duration.h"
#include "sw_trace.h"
#include "util.h"

const char *const sw_gate_rule_names[R__COUNT] = {
    "max-stall", "max-stall", "max-blocking", "no-blocking", "max-lag-p99",
};

static void usage(FILE *out)
{
	fputs(
	    "usage: stallwatch gate [budgets] [options] PATH...\n"
	    "       stallwatch gate [budgets] [options] [run options] -- CMD "
	    "[ARGS...]\n"
	    "\n"
	    "Check the traces in PATH (trace files, a run's directory, or the\n"
	    "output directory of `stallwatch run`, whose newest run is taken)\n"
	    "against budgets; one line per violation, then a summary.  With\n"
	    "-- CMD, run CMD under the shim first (as `stallwatch run` does)\n"
	    "and judge that run.\n"
	    "\n"
	    "budgets (at least one):\n"
	    "  --max-stall D     no loop turn may last longer than D\n"
	    "  --max-blocking D  no single blocking call on a loop may last "
	    "longer than D\n"
	    "  --no-blocking     no blocking call on a loop at all (strict "
	    "audit; run\n"
	    "                    with --strict to see fast ones too); private "
	    "loops\n"
	    "                    and GIL waits count, CPU stalls do not\n"
	    "  --max-lag-p99 D   no loop's p99 turn length may exceed D\n"
	    "options:\n"
	    "  --allow FILE      exempt what a line names: one glob per line "
	    "(fnmatch),\n"
	    "                    `#` comments; it matches a site's place, the "
	    "function,\n"
	    "                    file:line (full, relative or base name), or "
	    "module of\n"
	    "                    any frame of its stack, or the blocking call; "
	    "a stall\n"
	    "                    is exempt when the site that explains it is\n"
	    "  --allow-no-loop   pass when no process ran an event loop (by "
	    "default\n"
	    "                    that fails: nothing was checked)\n"
	    "  --junit FILE      also write JUnit XML (atomically): one "
	    "testcase per\n"
	    "                    test that ran on a loop when the run names "
	    "tests\n"
	    "                    (pytest, node --test, Jest...), else one per "
	    "program\n"
	    "                    and event loop\n"
	    "  -q, --quiet       no progress messages while loading\n"
	    "  -h, --help        this help\n",
	    out);
	fputs(SW_APP_USAGE, out);
	fputs("run options (with -- CMD):\n", out);
	fputs(sw_launch_help, out);
	fputs(
	    "\n"
	    "Durations take units: 250ms, 0.5s, 800us (a bare number is ms).\n"
	    "With GITHUB_ACTIONS=true, ::error annotations are printed too: "
	    "at\n"
	    "the place of each violation and at the test it happened in.\n"
	    "Exit status: 0 within budget, 1 over budget or no event loop "
	    "seen,\n"
	    "2 usage error or unreadable input.  With -- CMD, a failing CMD\n"
	    "wins: its own exit status (or its signal: gate dies of it), "
	    "after\n"
	    "the verdict is printed, because a broken test suite must not "
	    "read\n"
	    "as a stall and its runner's status says more; when CMD succeeds,\n"
	    "the verdict decides.  127/126 when CMD cannot be run.\n",
	    out);
}

static int bad_usage(const char *fmt, const char *arg)
{
	fputs("stallwatch gate: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs(" (see stallwatch gate --help)\n", stderr);
	return 2;
}

/* ---- allowlist ---------------------------------------------------------- */

static int load_allow(struct sw_gate *g, const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, *s, *e, **grown;
	size_t cap = 0;

	if (!f) {
		fprintf(stderr,
			"stallwatch gate: cannot read allowlist %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	while (getline(&line, &cap, f) > 0) {
		for (s = line; *s == ' ' || *s == '\t'; s++)
			;
		e = s + strlen(s);
		while (e > s && (e[-1] == '\n' || e[-1] == '\r' ||
				 e[-1] == ' ' || e[-1] == '\t'))
			*--e = 0;
		if (!*s || *s == '#')
			continue;
		grown = realloc(g->allow, (g->nallow + 1) * sizeof(*grown));
		if (!grown || !(grown[g->nallow] = strdup(s))) {
			g->allow = grown ? grown : g->allow;
			fclose(f);
			free(line);
			fputs("stallwatch gate: out of memory\n", stderr);
			return -1;
		}
		g->allow = grown;
		g->nallow++;
	}
	free(line);
	fclose(f);
	return 0;
}

static int glob_any(const struct sw_gate *g, const char *s)
{
	size_t i;

	if (!s || !*s)
		return 0;
	for (i = 0; i < g->nallow; i++)
		if (fnmatch(g->allow[i], s, 0) == 0)
			return 1;
	return 0;
}

/* A file:line in the three spellings a user may copy: as recorded (often
 * absolute), relative to the working directory, and the base name. */
static int file_line_allowed(const struct sw_gate *g, const char *file,
			     int line)
{
	size_t cl = strlen(g->cwd);
	char buf[4200];

	if (!file || !*file)
		return 0;
	if (glob_any(g, file))
		return 1;
	snprintf(buf, sizeof(buf), "%s:%d", file, line);
	if (glob_any(g, buf))
		return 1;
	if (cl > 1 && !strncmp(file, g->cwd, cl) && file[cl] == '/') {
		snprintf(buf, sizeof(buf), "%s:%d", file + cl + 1, line);
		if (glob_any(g, buf) || glob_any(g, file + cl + 1))
			return 1;
	}
	snprintf(buf, sizeof(buf), "%s:%d", sw_basename(file), line);
	return glob_any(g, buf);
}

static int site_allowed(const struct sw_gate *g, const struct sw_site *site)
{
	const struct sw_frame *loc;
	char buf[600];
	size_t i;

	if (!g->nallow)
		return 0;
	if (site->kind != SW_SITE_CPU && glob_any(g, site->call))
		return 1;
	if (glob_any(g, site->place.text) ||
	    glob_any(g, site->place.function) || glob_any(g, site->place.what))
		return 1;
	loc = sw_site_location(site);
	if (loc && loc->function) {
		/* the place as the verdict prints it: "block()" */
		snprintf(buf, sizeof(buf), "%s()", loc->function);
		if (glob_any(g, buf))
			return 1;
	}
	for (i = 0; i < site->nframes; i++) {
		const struct sw_frame *f = &site->frames[i];

		if (glob_any(g, f->function) || glob_any(g, f->module) ||
		    (f->module && glob_any(g, sw_basename(f->module))) ||
		    file_line_allowed(g, f->file, f->line))
			return 1;
	}
	return 0;
}

/* A stall is exempt when the site the verdict would name for it (the one
 * that explains most of its time) is: the allowlist exempts what it
 * names, not only stalls every fragment of which it names. */
static int stall_allowed(const struct sw_gate *g, const struct sw_stall *st)
{
	return st->nsites && st->sites[0] < g->rep->nsites &&
	       site_allowed(g, &g->rep->sites[st->sites[0]]);
}

/* ---- collecting violations --------------------------------------------- */

static long loop_of(const struct sw_report *rep, size_t process, uint32_t tid,
		    uint64_t when)
{
	const struct sw_process *p = &rep->processes[process];
	long first = -1;
	size_t i;

	for (i = 0; i < p->nloops; i++) {
		if (p->loops[i].tid != tid)
			continue;
		if (first < 0)
			first = (long)i;
		if (when >= p->loops[i].born_ns &&
		    (!p->loops[i].last_ns || when <= p->loops[i].last_ns))
			return (long)i;
	}
	return first;
}

/* The test that was running when a stall or an event happened, when the
 * run names its tests. */
static const char *stall_test(const struct sw_stall *st)
{
	return st->test;
}

static const char *event_test(const struct sw_event *ev)
{
	return ev->test;
}

static int same_test(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static int add(struct sw_gate *g, enum sw_gate_rule rule, long site,
	       long process, long loop, uint32_t tid, const char *test,
	       uint64_t count, uint64_t ns)
{
	struct sw_violation *v;
	size_t i;

	for (i = 0; i < g->nv; i++) {
		v = &g->v[i];
		if (v->rule == rule && v->site == site &&
		    v->process == process && v->loop == loop && v->tid == tid &&
		    same_test(v->test, test)) {
			v->count += count;
			v->total_ns += ns;
			if (ns > v->worst_ns)
				v->worst_ns = ns;
			return 0;
		}
	}
	if (g->nv == g->capv) {
		size_t cap = g->capv ? 2 * g->capv : 16;
		struct sw_violation *grown =
		    realloc(g->v, cap * sizeof(*grown));

		if (!grown)
			return -1;
		g->v = grown;
		g->capv = cap;
	}
	g->v[g->nv++] = (struct sw_violation){rule, site,  process, loop, tid,
					      test, count, ns,	    ns};
	return 0;
}

static int blocks_loop(const struct sw_site *site)
{
	return site->kind != SW_SITE_CPU;
}

static int check_stalls(struct sw_gate *g)
{
	const struct sw_report *rep = g->rep;
	size_t i, j, k;

	for (i = 0; i < rep->nstalls; i++) {
		const struct sw_stall *st = &rep->stalls[i];
		long site = st->nsites && st->sites[0] < rep->nsites
				? (long)st->sites[0]
				: -1;

		if (st->duration_ns <= g->max_stall ||
		    st->process >= rep->nprocesses)
			continue;
		if (stall_allowed(g, st)) {
			g->allowed++;
			continue;
		}
		if (add(g, R_STALL, site, (long)st->process, (long)st->loop,
			st->tid, stall_test(st), 1, st->duration_ns))
			return -1;
	}
	/* a turn longer than the budget that left no stall record: the
	 * budget is below the shim's threshold, so say so rather than pass */
	for (i = 0; i < rep->nprocesses; i++) {
		const struct sw_process *p = &rep->processes[i];

		for (j = 0; j < p->nloops; j++) {
			const struct sw_loop *l = &p->loops[j];
			uint64_t longest = 0;

			if (l->max_turn_ns <= g->max_stall)
				continue;
			for (k = 0; k < rep->nstalls; k++)
				if (rep->stalls[k].process == i &&
				    rep->stalls[k].loop == j &&
				    rep->stalls[k].duration_ns > longest)
					longest = rep->stalls[k].duration_ns;
			/* recorded (the stall and the turn are the same
			 * measurement, give or take the clock reads) */
			if (longest &&
			    longest + longest / 50 + 1000000 >= l->max_turn_ns)
				continue;
			if (add(g, R_TURN, -1, (long)i, (long)j, l->tid, NULL,
				1, l->max_turn_ns))
				return -1;
		}
	}
	return 0;
}

static int check_events(struct sw_gate *g, enum sw_gate_rule rule,
			uint64_t budget)
{
	const struct sw_report *rep = g->rep;
	unsigned char *seen = calloc(rep->nsites + 1, 1);
	size_t i, j;
	int rc = -1;

	if (!seen)
		return -1;
	for (i = 0; i < rep->nevents; i++) {
		const struct sw_event *ev = &rep->events[i];
		const struct sw_site *site;

		if (ev->site >= rep->nsites || ev->process >= rep->nprocesses)
			continue;
		site = &rep->sites[ev->site];
		if (!blocks_loop(site))
			continue;
		seen[ev->site] = 1;
		if (rule == R_BLOCKING && ev->duration_ns <= budget)
			continue;
		if (site_allowed(g, site)) {
			g->allowed += ev->count ? ev->count : 1;
			continue;
		}
		if (add(g, rule, (long)ev->site, (long)ev->process,
			loop_of(rep, ev->process, ev->tid, ev->start_ns),
			ev->tid, event_test(ev), ev->count ? ev->count : 1,
			ev->duration_ns))
			goto out;
	}
	/* sites whose worst occurrence has no event of its own (folded under
	 * the flood limit, or no events kept): judge the site as a whole */
	for (j = 0; j < rep->nsites; j++) {
		const struct sw_site *site = &rep->sites[j];
		int found = 0;

		if (!blocks_loop(site) ||
		    (rule == R_BLOCKING && site->max_ns <= budget))
			continue;
		for (i = 0; i < g->nv && !found; i++)
			found = g->v[i].rule == rule && g->v[i].site == (long)j;
		if (found || (rule == R_NO_BLOCKING && seen[j]) ||
		    site_allowed(g, site))
			continue;
		if (add(g, rule, (long)j, -1, -1, 0, site->test, site->count,
			site->max_ns))
			goto out;
	}
	rc = 0;
out:
	free(seen);
	return rc;
}

static int check_lag(struct sw_gate *g)
{
	const struct sw_report *rep = g->rep;
	size_t i, j;

	for (i = 0; i < rep->nprocesses; i++)
		for (j = 0; j < rep->processes[i].nloops; j++) {
			const struct sw_loop *l = &rep->processes[i].loops[j];

			long site = -1;
			uint64_t longest = 0;
			size_t k;

			if (!l->turns || l->lag_p99_ns <= g->max_lag)
				continue;
			/* point at what made the loop's longest stall, the
			 * best lead to its tail latency */
			for (k = 0; k < rep->nstalls; k++) {
				const struct sw_stall *st = &rep->stalls[k];

				if (st->process == i && st->loop == j &&
				    st->duration_ns > longest && st->nsites &&
				    st->sites[0] < rep->nsites) {
					longest = st->duration_ns;
					site = (long)st->sites[0];
				}
			}
			if (add(g, R_LAG, site, (long)i, (long)j, l->tid, NULL,
				1, l->lag_p99_ns))
				return -1;
		}
	return 0;
}

/* ---- wording ------------------------------------------------------------ */

static void put_dur(FILE *out, uint64_t ns)
{
	if (ns >= 10000000000ull)
		fprintf(out, "%.2f s", (double)ns / 1e9);
	else if (ns >= 1000000)
		fprintf(out, "%.1f ms", (double)ns / 1e6);
	else if (ns >= 1000)
		fprintf(out, "%.1f us", (double)ns / 1e3);
	else
		fprintf(out, "%" PRIu64 " ns", ns);
}

static const char *fd_kind_name(int kind)
{
	switch (kind) {
	case SW_FD_FILE:
		return "a regular file";
	case SW_FD_BLOCKDEV:
		return "a block device";
	case SW_FD_SOCKET:
		return "a blocking socket";
	case SW_FD_PIPE:
		return "a blocking pipe";
	case SW_FD_TTY:
		return "a terminal";
	default:
		return NULL;
	}
}

/* "blocking call read on a regular file", "CPU-bound code", ... */
static void put_what(FILE *out, const struct sw_site *site)
{
	const char *call = site->call ? site->call : "?";
	const char *fd = fd_kind_name(site->fd_kind);

	switch (site->kind) {
	case SW_SITE_CPU:
		fputs("CPU-bound code", out);
		return;
	case SW_SITE_PRIVATE_LOOP:
		fprintf(out, "a private event loop (%s)", call);
		return;
	case SW_SITE_GIL_WAIT:
		fprintf(out, "waiting for the Python GIL (%s)", call);
		return;
	default:
		fprintf(out, "blocking call %s", call);
		if (fd)
			fprintf(out, " on %s", fd);
	}
}

/* The site's place, as every output names it (place.h); a model built
 * without places (by hand) names the location frame's function. */
static void put_in_function(FILE *out, const struct sw_site *site)
{
	const struct sw_frame *loc = sw_site_location(site);

	if (site->place.text && *site->place.text) {
		fputs(" in ", out);
		fputs(site->place.text, out);
	} else if (loc && loc->function && *loc->function)
		fprintf(out, " in %s%s", loc->function,
			loc->lang == SW_LANG_PYTHON ? "()" : "");
}

/* A process's command line, cut to a length that keeps a verdict line
 * readable (a pytest run can have hundreds of arguments). */
static void put_command(FILE *out, const struct sw_process *p)
{
	const char *cmd = p->command && *p->command ? p->command : p->comm;

	if (!cmd)
		cmd = "?";
	if (strlen(cmd) > 120)
		fprintf(out, "%.117s...", cmd);
	else
		fputs(cmd, out);
}

/* The what-happened part of a violation line, raw (hostile) bytes. */
static void put_message(FILE *out, const struct sw_gate *g,
			const struct sw_violation *v)
{
	const struct sw_report *rep = g->rep;
	const struct sw_site *site = v->site >= 0 ? &rep->sites[v->site] : NULL;
	const struct sw_process *p =
	    v->process >= 0 ? &rep->processes[v->process] : NULL;
	const struct sw_loop *l = p && v->loop >= 0 ? &p->loops[v->loop] : NULL;

	switch (v->rule) {
	case R_STALL:
		fputs("event loop stalled ", out);
		put_dur(out, v->worst_ns);
		fputs(" (budget ", out);
		put_dur(out, g->max_stall);
		fputs(")", out);
		if (site) {
			fputs(": ", out);
			put_what(out, site);
			put_in_function(out, site);
		} else {
			fputs(": no stack explains it", out);
		}
		break;
	case R_TURN:
		fputs("event loop turn took ", out);
		put_dur(out, v->worst_ns);
		fputs(" (budget ", out);
		put_dur(out, g->max_stall);
		fputc(')', out);
		if (p && p->threshold_ns > v->worst_ns) {
			fputs(", under the recording threshold ", out);
			put_dur(out, p->threshold_ns);
			fputs(" so no stack was taken (run with a lower "
			      "--threshold)",
			      out);
		} else {
			fputs(", but the trace has no stall record of it", out);
		}
		break;
	case R_BLOCKING:
		put_what(out, site);
		put_in_function(out, site);
		fputs(" took ", out);
		put_dur(out, v->worst_ns);
		fputs(" on the event loop (budget ", out);
		put_dur(out, g->max_blocking);
		fputs(")", out);
		break;
	case R_NO_BLOCKING:
		put_what(out, site);
		put_in_function(out, site);
		fputs(" on the event loop", out);
		if (site->strict_only)
			fputs(" (fast here, but it can block)", out);
		break;
	case R_LAG:
		fputs("event loop lag p99 ", out);
		put_dur(out, v->worst_ns);
		fputs(" over budget ", out);
		put_dur(out, g->max_lag);
		if (l) {
			fprintf(out, " (%" PRIu64 " turns, max ", l->turns);
			put_dur(out, l->lag_max_ns);
			if (site) {
				fputs("; longest stall: ", out);
				put_what(out, site);
				put_in_function(out, site);
			}
			fputc(')', out);
		}
		break;
	case R__COUNT:
		break;
	}
	if (v->rule != R_LAG && v->rule != R_TURN && v->count > 1) {
		fprintf(out, " [%" PRIu64 " times, worst ", v->count);
		put_dur(out, v->worst_ns);
		fputc(']', out);
	}
	if (v->test) {
		fputs(" in test ", out);
		fputs(v->test, out);
	}
	if (p) {
		fprintf(out, " (pid %" PRIu32 " ", p->pid);
		put_command(out, p);
		if (v->tid)
			fprintf(out, ", thread %" PRIu32, v->tid);
		fputc(')', out);
	}
}

const char *sw_gate_location(const struct sw_gate *g,
			     const struct sw_violation *v, int *line)
{
	const struct sw_site *site =
	    v->site >= 0 ? &g->rep->sites[v->site] : NULL;
	const struct sw_frame *loc = site ? sw_site_location(site) : NULL;
	const char *file = NULL;
	size_t cl = strlen(g->cwd);

	*line = 0;
	if (loc && loc->file && *loc->file) {
		file = loc->file;
		*line = loc->line > 0 ? loc->line : 0;
	} else if (loc && loc->module && *loc->module) {
		file = loc->module;
	} else if (v->process >= 0) {
		const struct sw_process *p = &g->rep->processes[v->process];

		file = p->exe && *p->exe ? p->exe : p->trace_path;
	}
	if (!file)
		return "stallwatch";
	/* relative to the working directory, as compilers print them, so CI
	 * annotations and editors find the file in the checkout */
	if (cl > 1 && !strncmp(file, g->cwd, cl) && file[cl] == '/' &&
	    file[cl + 1])
		file += cl + 1;
	return file;
}

char *sw_gate_verdict(const struct sw_gate *g, const struct sw_violation *v,
		      char **msg_only)
{
	char *raw = NULL, *line = NULL, *msg = NULL;
	size_t rawlen = 0, linelen = 0, msglen = 0;
	FILE *m;
	int ln;
	const char *file = sw_gate_location(g, v, &ln);

	m = open_memstream(&raw, &rawlen);
	if (!m)
		return NULL;
	put_message(m, g, v);
	fclose(m);
	m = open_memstream(&msg, &msglen);
	if (!m) {
		free(raw);
		return NULL;
	}
	sw_term_text(m, raw, 0);
	fclose(m);
	free(raw);
	m = open_memstream(&line, &linelen);
	if (!m) {
		free(msg);
		return NULL;
	}
	sw_term_text(m, file, 0);
	if (ln)
		fprintf(m, ":%d", ln);
	fprintf(m, ": error: %s", msg);
	fclose(m);
	if (msg_only)
		*msg_only = msg;
	else
		free(msg);
	return line;
}

/* GitHub workflow command: %, CR, LF escaped; in properties also : and , */
static void put_gh(FILE *out, const char *s, int property)
{
	for (; *s; s++) {
		if (*s == '%')
			fputs("%25", out);
		else if (*s == '\r')
			fputs("%0D", out);
		else if (*s == '\n')
			fputs("%0A", out);
		else if (property && *s == ':')
			fputs("%3A", out);
		else if (property && *s == ',')
			fputs("%2C", out);
		else
			fputc(*s, out);
	}
}

static void annotate(const char *file, int line, const char *title,
		     const char *msg)
{
	char *safe = NULL;
	size_t len = 0;
	FILE *m;

	fputs("::error ", stdout);
	if (file) {
		m = open_memstream(&safe, &len);
		if (!m)
			return;
		sw_term_text(m, file, 0);
		fclose(m);
		fputs("file=", stdout);
		put_gh(stdout, safe, 1);
		if (line)
			fprintf(stdout, ",line=%d", line);
		fputc(',', stdout);
		free(safe);
	}
	fputs("title=", stdout);
	put_gh(stdout, title, 1);
	fputs("::", stdout);
	put_gh(stdout, msg, 0);
	fputc('\n', stdout);
}

/* One annotation at the place (the user's line), and one at the test the
 * violation happened in, so the pull request shows both the code to fix
 * and the test that caught it. */
static void github_annotation(const struct sw_gate *g,
			      const struct sw_violation *v, const char *msg)
{
	char title[160];
	int ln;
	const char *where = sw_gate_location(g, v, &ln);

	snprintf(title, sizeof(title), "stallwatch gate %s",
		 sw_gate_rule_names[v->rule]);
	annotate(ln || strcmp(where, "stallwatch") ? where : NULL, ln, title,
		 msg);
	if (v->test) {
		const char *tf;
		char *named = sw_gate_test_title(g, v->test);
		char *safe_test = sw_strdup_safe(named ? named : v->test);

		free(named);
		/* after the title: both use the location's buffer */
		tf = sw_gate_test_location(g, v->test, &ln);
		snprintf(title, sizeof(title),
			 "stallwatch gate %s in test %.100s",
			 sw_gate_rule_names[v->rule], safe_test);
		annotate(tf, ln, title, msg);
		free(safe_test);
	}
}

/* ---- tests ---------------------------------------------------------------
 */

/* The line of a test's definition in file: `def NAME(` (pytest) or the
 * name quoted as the first argument of test()/it() (JavaScript runners).
 * Reads only a regular file, and only its first 4 MiB. */
static int find_test_line(const char *file, const char *name)
{
	char *line = NULL, *want[4];
	size_t cap = 0, nread = 0;
	int fd, n = 0, found = 0;
	struct stat st;
	FILE *f;
	ssize_t len;

	if (!name || !*name || strlen(name) > 512)
		return 0;
	fd = open(file, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    !(f = fdopen(fd, "r"))) {
		close(fd);
		return 0;
	}
	want[0] = xasprintf("def %s(", name);
	want[1] = xasprintf("'%s'", name);
	want[2] = xasprintf("\"%s\"", name);
	want[3] = xasprintf("`%s`", name);
	while (!found && nread < (4u << 20) &&
	       (len = getline(&line, &cap, f)) > 0) {
		nread += (size_t)len;
		n++;
		found = strstr(line, want[0]) || strstr(line, want[1]) ||
			strstr(line, want[2]) || strstr(line, want[3]);
	}
	fclose(f);
	free(line);
	for (len = 0; len < 4; len++)
		free(want[len]);
	return found ? n : 0;
}

/* The path of a file a test id names by its base name or a relative
 * path: the first frame of the report whose file ends so. */
static const char *frame_file(const struct sw_report *rep, const char *name)
{
	size_t i, k, n = strlen(name);

	for (i = 0; i < rep->nsites; i++)
		for (k = 0; k < rep->sites[i].nframes; k++) {
			const char *f = rep->sites[i].frames[k].file;
			size_t m = f ? strlen(f) : 0;

			if (m >= n && !strcmp(f + m - n, name) &&
			    (m == n || f[m - n - 1] == '/'))
				return f;
		}
	return NULL;
}

const char *sw_gate_test_location(const struct sw_gate *g, const char *test,
				  int *line)
{
	static char file[4096];
	const char *sep, *name = NULL, *full;
	char fn[600];
	size_t cl = strlen(g->cwd), n;

	*line = 0;
	if (!test)
		return NULL;
	sep = strstr(test, "::");
	if (sep && sep != test && (size_t)(sep - test) < sizeof(file)) {
		/* pytest and Jest style: FILE::[CLASS::]NAME[PARAMS] */
		memcpy(file, test, (size_t)(sep - test));
		file[sep - test] = 0;
		name = strrchr(test, ':') + 1;
	} else {
		/* an anonymous test function: FILE:LINE */
		const char *colon = strrchr(test, ':');

		if (!colon || colon == test || !colon[1] ||
		    strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
		    (size_t)(colon - test) >= sizeof(file))
			return NULL;
		memcpy(file, test, (size_t)(colon - test));
		file[colon - test] = 0;
		*line = atoi(colon + 1);
	}
	/* ids hold the path as the runner saw it, or only the base name:
	 * the stacks have the full path */
	full = frame_file(g->rep, file);
	if (full && strlen(full) < sizeof(file))
		memmove(file, full, strlen(full) + 1);
	if (name) {
		n = strcspn(name, "[");
		if (n >= sizeof(fn))
			n = sizeof(fn) - 1;
		memcpy(fn, name, n);
		fn[n] = 0;
		*line = find_test_line(file, fn);
	}
	if (cl > 1 && !strncmp(file, g->cwd, cl) && file[cl] == '/')
		return file + cl + 1;
	return file;
}

/* "it(" or "test(" as a call, not inside a longer name ("attest(") */
static const char *runner_call(const char *src)
{
	static const char *const calls[] = {"test(", "it("};
	const char *p;
	size_t i;

	for (i = 0; i < 2; i++)
		for (p = strstr(src, calls[i]); p; p = strstr(p + 1, calls[i]))
			if (p == src || p[-1] == '.' || p[-1] == ' ' ||
			    p[-1] == '\t' || p[-1] == '(')
				return p + strlen(calls[i]);
	return NULL;
}

/* The title quoted right after a test( or it( call in a source line. */
static char *title_in(const char *src)
{
	const char *p = runner_call(src), *q;

	while (p && (*p == ' ' || *p == '\t'))
		p++;
	if (p && (*p == '\'' || *p == '"' || *p == '`') &&
	    (q = strchr(p + 1, *p)) != NULL && q > p + 1)
		return xstrndup(p + 1, (size_t)(q - p - 1));
	return NULL;
}

char *sw_gate_test_title(const struct sw_gate *g, const char *test)
{
	const char *file;
	char *src, *abs, *title = NULL;
	int line, k;

	if (!test || strstr(test, "::"))
		return NULL;
	file = sw_gate_test_location(g, test, &line);
	if (!file || !line)
		return NULL;
	/* the source reader takes absolute paths only */
	abs = file[0] == '/' ? xstrdup(file) : xasprintf("%s/%s", g->cwd, file);
	/* the line is the test function's (Node's perf map), or a line in
	 * its body (Jest): the nearest test( or it( at or above it */
	for (k = line; k > 0 && k > line - 40 && !title; k--) {
		src = sw_source_line(abs, k);
		if (src)
			title = title_in(src);
		free(src);
	}
	free(abs);
	return title;
}

/* ---- the command -------------------------------------------------------- */

static int parse_budget(const char *opt, const char *arg, uint64_t *out)
{
	if (sw_parse_duration(arg, out) != 0) {
		fprintf(stderr,
			"stallwatch gate: bad duration for %s: '%s' (use e.g. "
			"100ms, 0.5s, 800us)\n",
			opt, arg);
		return -1;
	}
	return 0;
}

static void summary(const struct sw_gate *g)
{
	const struct sw_report *rep = g->rep;
	uint64_t turns = 0;
	size_t i, j, loops = 0, procs = 0;
	size_t per_rule[R__COUNT] = {0};

	for (i = 0; i < rep->nprocesses; i++) {
		loops += rep->processes[i].nloops;
		for (j = 0; j < rep->processes[i].nloops; j++)
			turns += rep->processes[i].loops[j].turns;
	}
	for (i = 0; i < g->nv; i++)
		per_rule[g->v[i].rule == R_TURN ? R_STALL : g->v[i].rule]++;
	for (i = 0; i < rep->nprocesses; i++)
		for (j = 0; j < g->nv; j++)
			if (g->v[j].process == (long)i) {
				procs++;
				break;
			}
	printf("stallwatch gate: %s: ", g->nv ? "FAILED" : "ok");
	if (g->nv) {
		int first = 1;

		printf("%zu violation%s (", g->nv, g->nv == 1 ? "" : "s");
		for (i = 0; i < R__COUNT; i++)
			if (per_rule[i] && i != R_TURN) {
				printf("%s%s %zu", first ? "" : ", ",
				       sw_gate_rule_names[i], per_rule[i]);
				first = 0;
			}
		printf(") in %zu of %zu process%s", procs, rep->nprocesses,
		       rep->nprocesses == 1 ? "" : "es");
	} else {
		printf("%zu process%s, %zu event loop%s, %" PRIu64
		       " turns within budget",
		       rep->nprocesses, rep->nprocesses == 1 ? "" : "es", loops,
		       loops == 1 ? "" : "s", turns);
	}
	if (g->allowed)
		printf("; %" PRIu64 " occurrence%s allowed by --allow",
		       g->allowed, g->allowed == 1 ? "" : "s");
	putchar('\n');
}

static int gate_main(int argc, char **argv, const struct sw_report *given);

int sw_cmd_gate(int argc, char **argv)
{
	return gate_main(argc, argv, NULL);
}

/*
 * The gate on a report already in memory (PATH arguments are then
 * optional and ignored): lets the unit tests judge hand-built reports.
 * Not in a header on purpose: the command is the interface.
 */
int sw_gate_judge(const struct sw_report *rep, int argc, char **argv);
int sw_gate_judge(const struct sw_report *rep, int argc, char **argv)
{
	return gate_main(argc, argv, rep);
}

/* The gate after `-- CMD`: how it ends (see --help: a failing command
 * wins over the verdict). */
static int command_status(const struct sw_launch *l, int verdict)
{
	if (l->exec_errno)
		return sw_launch_finish(l);
	if (WIFEXITED(l->status) && WEXITSTATUS(l->status) == 0)
		return verdict;
	if (WIFEXITED(l->status))
		fprintf(stderr,
			"stallwatch gate: the command failed (exit status "
			"%d): that status wins over the verdict\n",
			WEXITSTATUS(l->status));
	return sw_launch_finish(l); /* dies of the command's signal */
}

static int judge(struct sw_gate *g, const struct sw_report *rep,
		 const char *what)
{
	const char *gha = getenv("GITHUB_ACTIONS");
	size_t i, loops = 0;

	g->rep = rep;
	if (!getcwd(g->cwd, sizeof(g->cwd)))
		g->cwd[0] = 0;
	for (i = 0; i < rep->nprocesses; i++)
		loops += rep->processes[i].nloops;
	if (!loops) {
		/* nothing was checked: a wrong directory, a shim that was
		 * not loaded, or a program that never waited in epoll must
		 * not read as a clean run */
		if (g->allow_no_loop) {
			printf("stallwatch gate: ok: no event loop seen in %s "
			       "(%zu process%s; accepted by --allow-no-loop)\n",
			       what, rep->nprocesses,
			       rep->nprocesses == 1 ? "" : "es");
			return 0;
		}
		printf("stallwatch gate: FAILED: no event loop seen in %s "
		       "(%zu traced process%s): nothing was checked; is the "
		       "program event-driven and was it run under stallwatch? "
		       "(--allow-no-loop accepts this)\n",
		       what, rep->nprocesses, rep->nprocesses == 1 ? "" : "es");
		g->no_loop = 1;
		if (g->junit && sw_gate_write_junit(g))
			return 2;
		return 1;
	}
	if ((g->have_stall && check_stalls(g)) ||
	    (g->have_blocking &&
	     check_events(g, R_BLOCKING, g->max_blocking)) ||
	    (g->no_blocking && check_events(g, R_NO_BLOCKING, 0)) ||
	    (g->have_lag && check_lag(g))) {
		fputs("stallwatch gate: out of memory\n", stderr);
		return 2;
	}
	for (i = 0; i < g->nv; i++) {
		char *msg = NULL, *line = sw_gate_verdict(g, &g->v[i], &msg);

		if (line)
			puts(line);
		if (line && gha && !strcmp(gha, "true"))
			github_annotation(g, &g->v[i], msg);
		free(line);
		free(msg);
	}
	summary(g);
	fflush(stdout);
	if (g->junit && sw_gate_write_junit(g))
		return 2;
	return g->nv ? 1 : 0;
}

static int gate_main(int argc, char **argv, const struct sw_report *given)
{
	static const struct option opts[] = {
	    {"max-stall", required_argument, NULL, 's'},
	    {"max-blocking", required_argument, NULL, 'b'},
	    {"no-blocking", no_argument, NULL, 'n'},
	    {"max-lag-p99", required_argument, NULL, 'l'},
	    {"allow", required_argument, NULL, 'a'},
	    {"allow-no-loop", no_argument, NULL, 'N'},
	    {"junit", required_argument, NULL, 'j'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    SW_APP_LONGOPTS,
	    SW_LAUNCH_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	struct sw_gate g = {0};
	struct sw_report rep = {0};
	struct sw_load_opts lo = {0};
	struct sw_launch l = {.output = "stallwatch-out"};
	struct sw_app_rules app = {0};
	char **cmd = NULL, **paths = NULL, *what = NULL;
	int c, rc = 2, loaded = 0, nopts = argc, launch_opts = 0, taken;
	size_t i, npaths = 0;

	/* `gate [options] -- CMD`: the options end at the first "--" */
	for (i = 1; i < (size_t)argc; i++)
		if (!strcmp(argv[i], "--")) {
			nopts = (int)i;
			cmd = argv + i + 1;
			break;
		}
	optind = 0; /* glibc: rescan from scratch (main may have used getopt) */
	opterr = 0;
	while ((c = getopt_long(nopts, argv, ":qho:", opts, NULL)) != -1) {
		taken = sw_launch_option(&l, c, optarg, "gate");
		if (taken < 0)
			goto out;
		if (taken) {
			launch_opts = 1;
			continue;
		}
		if (sw_app_option(&app, c, optarg))
			continue;
		switch (c) {
		case 's':
			if (parse_budget("--max-stall", optarg, &g.max_stall))
				goto out;
			g.have_stall = 1;
			break;
		case 'b':
			if (parse_budget("--max-blocking", optarg,
					 &g.max_blocking))
				goto out;
			g.have_blocking = 1;
			break;
		case 'n':
			g.no_blocking = 1;
			break;
		case 'l':
			if (parse_budget("--max-lag-p99", optarg, &g.max_lag))
				goto out;
			g.have_lag = 1;
			break;
		case 'a':
			if (load_allow(&g, optarg))
				goto out;
			break;
		case 'N':
			g.allow_no_loop = 1;
			break;
		case 'j':
			g.junit = optarg;
			break;
		case 'q':
			g.quiet = 1;
			break;
		case 'h':
			usage(stdout);
			rc = 0;
			goto out;
		case ':':
			rc = bad_usage("option '%s' needs a value",
				       argv[optind - 1]);
			goto out;
		default:
			rc = bad_usage("unknown option '%s'", argv[optind - 1]);
			goto out;
		}
	}
	if (cmd && !*cmd) {
		rc = bad_usage("%sno command after --", "");
		goto out;
	}
	if (cmd && optind < nopts) {
		rc = bad_usage("a command (after --) and trace paths (%s) "
			       "exclude each other",
			       argv[optind]);
		goto out;
	}
	if (!cmd && launch_opts) {
		rc = bad_usage("%srun options (-o, --threshold, --js...) need "
			       "a command: gate [budgets] -- CMD",
			       "");
		goto out;
	}
	if (!cmd && optind >= nopts && !given) {
		rc = bad_usage("%sno trace file or directory given", "");
		goto out;
	}
	if (!g.have_stall && !g.have_blocking && !g.no_blocking &&
	    !g.have_lag) {
		rc = bad_usage(
		    "%sno budget given: use --max-stall, --max-blocking, "
		    "--no-blocking or --max-lag-p99",
		    "");
		goto out;
	}
	lo.quiet = g.quiet;
	lo.app = &app;
	if (cmd) {
		if (sw_launch_run(&l, cmd, "gate") != 0)
			goto out;
		if (l.exec_errno) {
			rc = sw_launch_finish(&l);
			goto out;
		}
		npaths = 1;
		paths = xcalloc(1, sizeof(*paths));
		paths[0] = xstrdup(l.run_dir);
	} else if (!given) {
		npaths = (size_t)(nopts - optind);
		sw_run_dir_resolve(argv + optind, npaths, &paths, g.quiet);
	}
	if (given) {
		rep = *given;
	} else {
		if (sw_report_load(&rep, paths, npaths, &lo) != 0) {
			rc = cmd ? command_status(&l, 2) : 2;
			goto out; /* the loader printed why */
		}
		loaded = 1;
	}
	what = xstrdup(!npaths	     ? "the report"
		       : npaths == 1 ? paths[0]
				     : "the traces given");
	rc = judge(&g, &rep, what);
	if (cmd)
		rc = command_status(&l, rc);
out:
	if (loaded)
		sw_report_free(&rep);
	if (paths)
		sw_run_dir_free(paths, npaths);
	free(what);
	sw_launch_free(&l);
	sw_app_rules_free(&app);
	for (i = 0; i < g.nallow; i++)
		free(g.allow[i]);
	free(g.allow);
	free(g.v);
	return rc;
}
