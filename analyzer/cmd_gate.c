/*
 * cmd_gate.c - `stallwatch gate`: the CI verdict on a run's traces.
 *
 * Loads the traces like `report`, checks them against the budgets given
 * on the command line, and prints one compiler-style line per violation
 * ("file:line: error: what happened ...") so that editors and CI logs link
 * to the code, then a one-line summary.  Exit 0 within budget, 1 over
 * budget, 2 for a usage error, unreadable input or a bad duration.
 *
 * Violations are grouped: the same rule broken by the same site on the
 * same loop thread of the same process is one line with a count and the
 * worst duration, so a call made 10,000 times is one line, not 10,000.
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
 * --allow FILE exempts sites (and stalls all of whose sites are exempt).
 */
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "html_escape.h"
#include "model.h"
#include "sw_duration.h"
#include "sw_trace.h"

enum rule { R_STALL, R_TURN, R_BLOCKING, R_NO_BLOCKING, R_LAG, R__COUNT };
static const char *const rule_names[R__COUNT] = {
    "max-stall", "max-stall", "max-blocking", "no-blocking", "max-lag-p99",
};

struct violation {
	enum rule rule;
	long site;    /* index into rep->sites, -1 for none */
	long process; /* -1 when unknown */
	long loop;    /* index into that process's loops, -1 when unknown */
	uint32_t tid;
	uint64_t count, total_ns, worst_ns;
};

struct gate {
	uint64_t max_stall, max_blocking, max_lag;
	int have_stall, have_blocking, no_blocking, have_lag;
	char **allow; /* globs */
	size_t nallow;
	const char *junit;
	int quiet;
	const struct sw_report *rep;
	struct violation *v;
	size_t nv, capv;
	uint64_t allowed; /* occurrences exempted by --allow */
	char cwd[4096];
};

static void usage(FILE *out)
{
	fputs(
	    "usage: stallwatch gate [options] PATH...\n"
	    "\n"
	    "Check the traces in PATH (trace files or directories of them)\n"
	    "against budgets; one line per violation, then a summary.\n"
	    "\n"
	    "budgets (at least one):\n"
	    "  --max-stall D     no loop turn may last longer than D\n"
	    "  --max-blocking D  no single blocking call on a loop may last "
	    "longer than D\n"
	    "  --no-blocking     no blocking call on a loop at all (strict "
	    "audit; run\n"
	    "                    with `stallwatch run --strict` to see fast "
	    "ones too);\n"
	    "                    private loops and GIL waits count, CPU stalls "
	    "do not\n"
	    "  --max-lag-p99 D   no loop's p99 turn length may exceed D\n"
	    "options:\n"
	    "  --allow FILE      exempt sites: one glob per line (fnmatch), "
	    "`#` comment\n"
	    "                    lines; a site is exempt when a glob matches a "
	    "frame's\n"
	    "                    function, its file:line, its module (path or "
	    "file\n"
	    "                    name), or the site's call\n"
	    "  --junit FILE      also write JUnit XML: a testcase per process "
	    "and loop\n"
	    "  -q, --quiet       no progress messages while loading\n"
	    "  -h, --help        this help\n"
	    "\n"
	    "Durations take units: 250ms, 0.5s, 800us (a bare number is ms).\n"
	    "With GITHUB_ACTIONS=true, ::error annotations are printed too.\n"
	    "Exit status: 0 within budget, 1 over budget, 2 usage error or\n"
	    "unreadable input.\n",
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

static int load_allow(struct gate *g, const char *path)
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

static int glob_any(const struct gate *g, const char *s)
{
	size_t i;

	if (!s || !*s)
		return 0;
	for (i = 0; i < g->nallow; i++)
		if (fnmatch(g->allow[i], s, 0) == 0)
			return 1;
	return 0;
}

static int site_allowed(const struct gate *g, const struct sw_site *site)
{
	char buf[4200];
	size_t i;

	if (!g->nallow)
		return 0;
	if (site->kind != SW_SITE_CPU && glob_any(g, site->call))
		return 1;
	for (i = 0; i < site->nframes; i++) {
		const struct sw_frame *f = &site->frames[i];

		if (glob_any(g, f->function) || glob_any(g, f->module) ||
		    (f->module && glob_any(g, sw_basename(f->module))))
			return 1;
		if (f->file) {
			snprintf(buf, sizeof(buf), "%s:%d", f->file, f->line);
			if (glob_any(g, buf))
				return 1;
		}
	}
	return 0;
}

static int stall_allowed(const struct gate *g, const struct sw_stall *st)
{
	size_t i;

	if (!st->nsites)
		return 0;
	for (i = 0; i < st->nsites; i++)
		if (st->sites[i] >= g->rep->nsites ||
		    !site_allowed(g, &g->rep->sites[st->sites[i]]))
			return 0;
	return 1;
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

static int add(struct gate *g, enum rule rule, long site, long process,
	       long loop, uint32_t tid, uint64_t count, uint64_t ns)
{
	struct violation *v;
	size_t i;

	for (i = 0; i < g->nv; i++) {
		v = &g->v[i];
		if (v->rule == rule && v->site == site &&
		    v->process == process && v->loop == loop && v->tid == tid) {
			v->count += count;
			v->total_ns += ns;
			if (ns > v->worst_ns)
				v->worst_ns = ns;
			return 0;
		}
	}
	if (g->nv == g->capv) {
		size_t cap = g->capv ? 2 * g->capv : 16;
		struct violation *grown = realloc(g->v, cap * sizeof(*grown));

		if (!grown)
			return -1;
		g->v = grown;
		g->capv = cap;
	}
	g->v[g->nv++] =
	    (struct violation){rule, site, process, loop, tid, count, ns, ns};
	return 0;
}

static int blocks_loop(const struct sw_site *site)
{
	return site->kind != SW_SITE_CPU;
}

static int check_stalls(struct gate *g)
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
			st->tid, 1, st->duration_ns))
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
			if (add(g, R_TURN, -1, (long)i, (long)j, l->tid, 1,
				l->max_turn_ns))
				return -1;
		}
	}
	return 0;
}

static int check_events(struct gate *g, enum rule rule, uint64_t budget)
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
			ev->tid, ev->count ? ev->count : 1, ev->duration_ns))
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
		if (add(g, rule, (long)j, -1, -1, 0, site->count, site->max_ns))
			goto out;
	}
	rc = 0;
out:
	free(seen);
	return rc;
}

static int check_lag(struct gate *g)
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
			if (add(g, R_LAG, site, (long)i, (long)j, l->tid, 1,
				l->lag_p99_ns))
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

static void put_in_function(FILE *out, const struct sw_site *site)
{
	const struct sw_frame *loc = sw_site_location(site);

	if (loc && loc->function && *loc->function)
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
static void put_message(FILE *out, const struct gate *g,
			const struct violation *v)
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
	if (p) {
		fprintf(out, " (pid %" PRIu32 " ", p->pid);
		put_command(out, p);
		if (v->tid)
			fprintf(out, ", thread %" PRIu32, v->tid);
		fputc(')', out);
	}
}

/* Where a violation points: file and line (line 0: none). */
static const char *location(const struct gate *g, const struct violation *v,
			    int *line)
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

/* The full verdict line of a violation, terminal-safe, in a new string. */
static char *verdict_line(const struct gate *g, const struct violation *v,
			  char **msg_only)
{
	char *raw = NULL, *line = NULL, *msg = NULL;
	size_t rawlen = 0, linelen = 0, msglen = 0;
	FILE *m;
	int ln;
	const char *file = location(g, v, &ln);

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

static void github_annotation(const struct gate *g, const struct violation *v,
			      const char *msg)
{
	char *file = NULL;
	size_t len = 0;
	int ln;
	const char *where = location(g, v, &ln);
	FILE *m = open_memstream(&file, &len);

	if (!m)
		return;
	sw_term_text(m, where, 0);
	fclose(m);
	fputs("::error ", stdout);
	if (ln || strcmp(where, "stallwatch")) {
		fputs("file=", stdout);
		put_gh(stdout, file, 1);
		if (ln)
			fprintf(stdout, ",line=%d", ln);
		fputc(',', stdout);
	}
	fprintf(stdout, "title=stallwatch gate %s::", rule_names[v->rule]);
	put_gh(stdout, msg, 0);
	fputc('\n', stdout);
	free(file);
}

/* ---- JUnit -------------------------------------------------------------- */

static void junit_case(FILE *out, const struct gate *g, long process, long loop,
		       int *failures_out)
{
	const struct sw_report *rep = g->rep;
	const struct sw_process *p =
	    process >= 0 ? &rep->processes[process] : NULL;
	size_t i;
	int n = 0;

	fputs("    <testcase classname=\"", out);
	if (p) {
		char buf[64];

		snprintf(buf, sizeof(buf), "pid %" PRIu32 " ", p->pid);
		fputs(buf, out);
		sw_xml_text(out,
			    p->command && *p->command ? p->command : p->comm);
	} else {
		fputs("stallwatch", out);
	}
	fputs("\" name=\"", out);
	if (p && loop >= 0) {
		const struct sw_loop *l = &p->loops[loop];

		fprintf(out, "event loop %" PRIu32 " on thread %" PRIu32 " (",
			l->loop_id, l->tid);
		sw_xml_text(out, l->thread_name && *l->thread_name
				     ? l->thread_name
				     : "?");
		fprintf(out, "), %" PRIu64 " turns", l->turns);
	} else if (p) {
		fputs(p->nloops ? "outside its event loops"
				: "no event loop seen",
		      out);
	} else {
		fputs("sites not tied to a process", out);
	}
	fputs("\">\n", out);
	for (i = 0; i < g->nv; i++) {
		const struct violation *v = &g->v[i];
		char *line, *msg = NULL;

		if (v->process != process || (process >= 0 && v->loop != loop))
			continue;
		line = verdict_line(g, v, &msg);
		if (!line)
			continue;
		fprintf(out, "      <failure type=\"%s\" message=\"",
			rule_names[v->rule]);
		sw_xml_text(out, msg);
		fputs("\">", out);
		sw_xml_text(out, line);
		fputs("</failure>\n", out);
		free(line);
		free(msg);
		n++;
	}
	fputs("    </testcase>\n", out);
	*failures_out += n ? 1 : 0;
}

static int write_junit(const struct gate *g)
{
	const struct sw_report *rep = g->rep;
	FILE *out = fopen(g->junit, "w");
	char *body = NULL;
	size_t len = 0, i, j, k;
	int tests = 0, failed = 0;
	FILE *m;

	if (!out) {
		fprintf(stderr, "stallwatch gate: cannot write %s: %s\n",
			g->junit, strerror(errno));
		return -1;
	}
	m = open_memstream(&body, &len);
	if (!m) {
		fclose(out);
		return -1;
	}
	for (i = 0; i < rep->nprocesses; i++) {
		int stray = rep->processes[i].nloops == 0;

		for (j = 0; j < rep->processes[i].nloops; j++, tests++)
			junit_case(m, g, (long)i, (long)j, &failed);
		for (k = 0; k < g->nv; k++)
			stray |= g->v[k].process == (long)i && g->v[k].loop < 0;
		if (stray) {
			junit_case(m, g, (long)i, -1, &failed);
			tests++;
		}
	}
	for (k = 0; k < g->nv; k++)
		if (g->v[k].process < 0) {
			junit_case(m, g, -1, -1, &failed);
			tests++;
			break;
		}
	fclose(m);
	fprintf(out,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<testsuites name=\"stallwatch gate\" tests=\"%d\" "
		"failures=\"%d\">\n"
		"  <testsuite name=\"stallwatch gate\" tests=\"%d\" "
		"failures=\"%d\" "
		"errors=\"0\" skipped=\"0\">\n",
		tests, failed, tests, failed);
	fwrite(body, 1, len, out);
	fputs("  </testsuite>\n</testsuites>\n", out);
	free(body);
	if (fclose(out) != 0) {
		fprintf(stderr, "stallwatch gate: cannot write %s\n", g->junit);
		return -1;
	}
	return 0;
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

static void summary(const struct gate *g)
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
				       rule_names[i], per_rule[i]);
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

static int gate_main(int argc, char **argv, const struct sw_report *given)
{
	static const struct option opts[] = {
	    {"max-stall", required_argument, NULL, 's'},
	    {"max-blocking", required_argument, NULL, 'b'},
	    {"no-blocking", no_argument, NULL, 'n'},
	    {"max-lag-p99", required_argument, NULL, 'l'},
	    {"allow", required_argument, NULL, 'a'},
	    {"junit", required_argument, NULL, 'j'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct gate g = {0};
	struct sw_report rep = {0};
	struct sw_load_opts lo = {0};
	const char *gha = getenv("GITHUB_ACTIONS");
	int c, rc = 2, loaded = 0;
	size_t i;

	optind = 0; /* glibc: rescan from scratch (main may have used getopt) */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":qh", opts, NULL)) != -1) {
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
	if (optind >= argc && !given) {
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
	if (given) {
		rep = *given;
	} else {
		if (sw_report_load(&rep, argv + optind, (size_t)(argc - optind),
				   &lo) != 0)
			goto out; /* the loader printed why */
		loaded = 1;
	}
	if (!rep.nprocesses) {
		/* a gate that passes on nothing would hide a run that never
		 * traced (shim not loaded, wrong directory) */
		fprintf(stderr, "stallwatch gate: no trace in %s%s\n",
			optind < argc ? argv[optind] : "the report",
			argc - optind > 1 ? " ..." : "");
		goto out;
	}
	g.rep = &rep;
	if (!getcwd(g.cwd, sizeof(g.cwd)))
		g.cwd[0] = 0;
	if ((g.have_stall && check_stalls(&g)) ||
	    (g.have_blocking && check_events(&g, R_BLOCKING, g.max_blocking)) ||
	    (g.no_blocking && check_events(&g, R_NO_BLOCKING, 0)) ||
	    (g.have_lag && check_lag(&g))) {
		fputs("stallwatch gate: out of memory\n", stderr);
		goto out;
	}
	for (i = 0; i < g.nv; i++) {
		char *msg = NULL, *line = verdict_line(&g, &g.v[i], &msg);

		if (line)
			puts(line);
		if (line && gha && !strcmp(gha, "true"))
			github_annotation(&g, &g.v[i], msg);
		free(line);
		free(msg);
	}
	summary(&g);
	fflush(stdout);
	if (g.junit && write_junit(&g))
		goto out;
	rc = g.nv ? 1 : 0;
out:
	if (loaded)
		sw_report_free(&rep);
	for (i = 0; i < g.nallow; i++)
		free(g.allow[i]);
	free(g.allow);
	free(g.v);
	return rc;
}
