/*
 * gate_junit.c - `stallwatch gate --junit FILE`: the verdict as JUnit XML
 * for CI dashboards (Jenkins, GitLab, GitHub test reporters).
 *
 * Shape: one <testsuite> root (Maven Surefire's schema takes no
 * <testsuites>), `time` on every testcase.  When the run names its tests
 * (pytest, node --test, Jest...), one testcase per test that ran on an
 * event loop, named by its test id; otherwise one per program and event
 * loop, named by the command line and the loop, never by pids or counts,
 * so that CI keeps a history across runs.  Processes without a loop are
 * left out: nothing was checked in them.  A failing testcase has exactly
 * one <failure> (Jenkins shows only the first), whose message lists every
 * violation and whose text has one verdict line, with its place, each.
 * The file is written atomically (outfile.h), so a CI step never reads
 * half of it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gate.h"
#include "outfile.h"
#include "html_escape.h"
#include "util.h"

struct jcase {
	char *classname, *name;
	uint64_t time_ns;
	long process, loop; /* loop cases: which; -1 otherwise */
	const char *test;   /* test cases: the id */
	int orphans;	    /* the case of violations tied to no loop */
};

struct jcases {
	struct jcase *v;
	size_t n, cap;
};

static struct jcase *add_case(struct jcases *c)
{
	SW_GROW(c->v, c->n, c->cap);
	memset(&c->v[c->n], 0, sizeof(c->v[c->n]));
	c->v[c->n].process = c->v[c->n].loop = -1;
	return &c->v[c->n++];
}

static int case_has(const struct jcase *jc, const struct sw_violation *v)
{
	if (jc->test)
		return v->test && !strcmp(v->test, jc->test);
	if (jc->orphans)
		return !v->test && (v->process < 0 || v->loop < 0);
	return !v->test && v->process == jc->process && v->loop == jc->loop;
}

static int case_failed(const struct sw_gate *g, const struct jcase *jc)
{
	size_t i;

	for (i = 0; i < g->nv; i++)
		if (case_has(jc, &g->v[i]))
			return 1;
	return 0;
}

/* A command line as a class name: terminal-safe, at most 120 bytes. */
static char *command_label(const struct sw_process *p)
{
	const char *cmd = p->command && *p->command ? p->command : p->comm;
	char *safe = sw_strdup_safe(cmd ? cmd : "?");

	if (strlen(safe) > 120)
		strcpy(safe + 117, "...");
	return safe;
}

static void loop_cases(const struct sw_gate *g, struct jcases *c)
{
	const struct sw_report *rep = g->rep;
	size_t i, j, k;

	for (i = 0; i < rep->nprocesses; i++) {
		const struct sw_process *p = &rep->processes[i];
		char *label;
		size_t same = 0;

		if (!p->nloops)
			continue;
		label = command_label(p);
		/* workers of one program share its command line: number them
		 * in the order they started, which is stable run to run */
		for (k = 0; k < i; k++)
			if (rep->processes[k].nloops) {
				char *other = command_label(&rep->processes[k]);

				same += !strcmp(other, label);
				free(other);
			}
		if (same) {
			char *n = xasprintf("%s [%zu]", label, same + 1);

			free(label);
			label = n;
		}
		for (j = 0; j < p->nloops; j++) {
			const struct sw_loop *l = &p->loops[j];
			struct jcase *jc = add_case(c);
			char *thread = sw_strdup_safe(
			    l->thread_name && *l->thread_name ? l->thread_name
							      : "?");

			jc->classname = xstrdup(label);
			jc->name =
			    xasprintf("event loop %" PRIu32 " (thread %s)",
				      l->loop_id, thread);
			free(thread);
			jc->process = (long)i;
			jc->loop = (long)j;
			jc->time_ns = l->last_ns > l->born_ns
					  ? l->last_ns - l->born_ns
					  : 0;
		}
		free(label);
	}
}

static struct jcase *test_case(const struct sw_gate *g, struct jcases *c,
			       const char *test)
{
	struct jcase *jc;
	const char *file;
	char *title;
	size_t k;
	int line;

	for (k = 0; k < c->n; k++)
		if (c->v[k].test && !strcmp(c->v[k].test, test))
			return &c->v[k];
	jc = add_case(c);
	jc->test = test;
	/* "checkout computes total" rather than "cart.test.js:14", as the
	 * runner's own report names it: stable when lines move */
	title = sw_gate_test_title(g, test);
	jc->name = sw_strdup_safe(title ? title : test);
	free(title);
	/* the class is the test's file, as pytest's own JUnit has it */
	file = sw_gate_test_location(g, test, &line);
	jc->classname = sw_strdup_safe(file ? file : "tests");
	return jc;
}

/* Every test the run saw on a loop (in order), and any other test a
 * violation names; a test's time is what its violations took. */
static void test_cases(const struct sw_gate *g, struct jcases *c)
{
	size_t i;

	for (i = 0; i < g->rep->ntests; i++)
		test_case(g, c, g->rep->tests[i]);
	for (i = 0; i < g->nv; i++)
		if (g->v[i].test)
			test_case(g, c, g->v[i].test)->time_ns +=
			    g->v[i].total_ns;
}

static void put_time(FILE *out, uint64_t ns)
{
	/* seconds with 3 decimals: Surefire's pattern allows no more */
	fprintf(out, "%" PRIu64 ".%03" PRIu64, ns / 1000000000u,
		(ns / 1000000u) % 1000u);
}

static void put_case(FILE *out, const struct sw_gate *g, const struct jcase *jc,
		     int *failed)
{
	size_t i, n = 0;
	int same_rule = -1;
	FILE *m;
	char *msg_all = NULL, *body = NULL;
	size_t msg_len = 0, body_len = 0;

	fputs("  <testcase classname=\"", out);
	sw_xml_text(out, jc->classname);
	fputs("\" name=\"", out);
	sw_xml_text(out, jc->name);
	fputs("\" time=\"", out);
	put_time(out, jc->time_ns);
	fputc('"', out);
	for (i = 0; i < g->nv; i++)
		if (case_has(jc, &g->v[i])) {
			n++;
			if (same_rule == -1 || same_rule == (int)g->v[i].rule ||
			    (g->v[i].rule == R_TURN && same_rule == R_STALL))
				same_rule = g->v[i].rule == R_TURN
						? R_STALL
						: (int)g->v[i].rule;
			else
				same_rule = -2;
		}
	if (!n) {
		fputs("/>\n", out);
		return;
	}
	(*failed)++;
	m = open_memstream(&msg_all, &msg_len);
	if (!m) {
		fputs("/>\n", out);
		return;
	}
	fprintf(m, "%zu violation%s: ", n, n == 1 ? "" : "s");
	{
		FILE *b = open_memstream(&body, &body_len);
		size_t k = 0;

		/* where the test is, first: CI pages link file:line */
		if (b && jc->test) {
			int tl;
			const char *tf =
			    sw_gate_test_location(g, jc->test, &tl);

			if (tf && tl)
				fprintf(b, "%s:%d: test %s\n", tf, tl,
					jc->name);
			else if (tf)
				fprintf(b, "%s: test %s\n", tf, jc->name);
		}

		for (i = 0; i < g->nv; i++) {
			char *msg = NULL, *line;
			int ln;
			const char *file;

			if (!case_has(jc, &g->v[i]))
				continue;
			line = sw_gate_verdict(g, &g->v[i], &msg);
			if (!line)
				continue;
			file = sw_gate_location(g, &g->v[i], &ln);
			fprintf(m, "%s", k++ ? "; " : "");
			/* each with its place, as file:line */
			if (ln)
				fprintf(m, "%s:%d: ", file, ln);
			fputs(msg, m);
			if (b)
				fprintf(b, "%s\n", line);
			free(line);
			free(msg);
		}
		if (b)
			fclose(b);
	}
	fclose(m);
	fprintf(out, ">\n    <failure type=\"%s\" message=\"",
		same_rule >= 0 ? sw_gate_rule_names[same_rule] : "stallwatch");
	sw_xml_text(out, msg_all);
	fputs("\">", out);
	sw_xml_text(out, body);
	fputs("</failure>\n  </testcase>\n", out);
	free(msg_all);
	free(body);
}

static void free_cases(struct jcases *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		free(c->v[i].classname);
		free(c->v[i].name);
	}
	free(c->v);
}

static int write_to(FILE *out, const struct sw_gate *g)
{
	struct jcases c = {0};
	uint64_t total = 0;
	size_t i, nc = 0, tests;
	int failed = 0, orphans = 0;
	char *body = NULL;
	size_t len = 0;
	FILE *m;

	test_cases(g, &c);
	tests = c.n;
	loop_cases(g, &c);
	for (i = 0; i < g->nv; i++)
		orphans |=
		    !g->v[i].test && (g->v[i].process < 0 || g->v[i].loop < 0);
	if (orphans) {
		struct jcase *jc = add_case(&c);

		jc->orphans = 1;
		jc->classname = xstrdup("stallwatch gate");
		jc->name = xstrdup("blocking calls not tied to one event loop");
	}
	m = open_memstream(&body, &len);
	if (!m)
		goto fail;
	if (g->no_loop) {
		/* nothing was checked: CI must see a failure, not 0 tests */
		fputs("  <testcase classname=\"stallwatch gate\" name=\"event "
		      "loops seen\" time=\"0.000\">\n    <failure "
		      "type=\"no-loop\" message=\"no event loop seen: nothing "
		      "was checked (--allow-no-loop accepts this)\"/>\n  "
		      "</testcase>\n",
		      m);
		nc++;
		failed++;
	}
	for (i = 0; i < c.n; i++) {
		/* when the run names tests, a loop is judged through them;
		 * its own case stays only for what happened outside tests */
		if (tests && c.v[i].loop >= 0 && !case_failed(g, &c.v[i]))
			continue;
		nc++;
		put_case(m, g, &c.v[i], &failed);
		total += c.v[i].time_ns;
	}
	fclose(m);
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
	fprintf(out,
		"<testsuite name=\"stallwatch gate\" tests=\"%zu\" "
		"failures=\"%d\" errors=\"0\" skipped=\"0\" time=\"",
		nc, failed);
	put_time(out, total);
	fputs("\">\n", out);
	fwrite(body, 1, len, out);
	fputs("</testsuite>\n", out);
	free(body);
	free_cases(&c);
	return 0;
fail:
	free_cases(&c);
	return -1;
}

static int write_job(FILE *out, void *ctx)
{
	return write_to(out, ctx);
}

int sw_gate_write_junit(const struct sw_gate *g)
{
	return sw_outfile_write(g->junit, "gate: JUnit", write_job, (void *)g);
}
