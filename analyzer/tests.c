/*
 * tests.c - which test each event, stall and site ran in.
 *
 * A process that says so (SW_REC_TEST records: pytest's current test, by
 * time) is believed.  Otherwise the stack tells: the test function of
 * Node's test runner, Jest or Mocha is the in-app frame called from the
 * runner's own code; else the outermost in-app frame in a test file
 * (test_*.py, *_test.py, *.test.js, *.spec.js, files under tests/).
 * See doc/design.md, "Stalls belong to tests".
 */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "build.h"
#include "html_escape.h"
#include "util.h"

/* The report's copy of a test name, one per distinct name. */
static const char *intern(struct sw_builder *b, const char *name)
{
	struct sw_report *rep = b->rep;
	char *key = xstrdup(name);
	size_t idx = rep->ntests;

	if (sw_strmap_get_or_put(&b->test_names, key, &idx)) {
		free(key);
		return rep->tests[idx];
	}
	SW_GROW(rep->tests, rep->ntests, b->cap_tests);
	rep->tests[rep->ntests++] = xstrdup(name);
	return rep->tests[idx];
}

static int test_runner_file(const char *file)
{
	return file && (strstr(file, "node:internal/test_runner/") ||
			strstr(file, "internal/test_runner/") ||
			strstr(file, "/node_modules/jest-circus/") ||
			strstr(file, "/node_modules/jest-jasmine2/") ||
			strstr(file, "/node_modules/mocha/"));
}

/* A file named like a test file (any function in it counts), or a file
 * under tests/ (only its test* functions count). */
static int test_file(const char *file, const char *function)
{
	static const char *const globs[] = {
	    "test_*.py",  "*_test.py",	"*.test.js", "*.spec.js",
	    "*.test.mjs", "*.spec.mjs", "*.test.ts", "*.spec.ts"};
	const char *base;
	size_t i;

	if (!file)
		return 0;
	base = sw_basename(file);
	for (i = 0; i < sizeof(globs) / sizeof(globs[0]); i++)
		if (fnmatch(globs[i], base, 0) == 0)
			return 1;
	return (strstr(file, "/tests/") || strstr(file, "/test/") ||
		!strncmp(file, "tests/", 6)) &&
	       function && !strncmp(function, "test", 4);
}

/* "test_app.py::test_slow", "app.test.js:12" for an anonymous one. */
static char *frame_test_name(const struct sw_frame *f)
{
	const char *base = sw_basename(f->file);

	if (f->function && *f->function && strcmp(f->function, "(anonymous)") &&
	    strcmp(f->function, "<module>"))
		return xasprintf("%s::%s", base, f->function);
	return xasprintf("%s:%d", base, f->line);
}

static char *test_of_stack(const struct sw_frame *fr, size_t n)
{
	size_t i;

	/* The callback a test runner called: an in-app frame whose caller
	 * is the runner's code. */
	for (i = 0; i + 1 < n; i++)
		if (fr[i].lang == SW_LANG_JS && fr[i].in_app && fr[i].file &&
		    test_runner_file(fr[i + 1].file))
			return frame_test_name(&fr[i]);
	for (i = n; i-- > 0;)
		if (fr[i].in_app && fr[i].lang != SW_LANG_NATIVE &&
		    test_file(fr[i].file, fr[i].function))
			return frame_test_name(&fr[i]);
	return NULL;
}

void sw_tests_assign(struct sw_builder *b, struct sw_trace *traces,
		     size_t ntraces, struct sw_ev_link *es)
{
	struct sw_report *rep = b->rep;
	const char **by_variant_cache = NULL;
	uint64_t *best = NULL;
	size_t i = 0, pi, k;

	/* Events, by the records of their process. */
	for (pi = 0; pi < ntraces; pi++) {
		const struct sw_trace *t = &traces[pi];
		const char *cur = NULL;

		k = 0;
		for (; i < rep->nevents && es[i].ev.process == pi; i++) {
			while (k < t->ntests &&
			       t->tests[k].time_ns <= es[i].ev.start_ns) {
				cur = t->tests[k].name[0]
					  ? intern(b, t->tests[k].name)
					  : NULL;
				k++;
			}
			es[i].ev.test = cur;
		}
	}
	/* Processes that said nothing: the stack tells, once per variant. */
	{
		size_t nv = 0,
		       *first = xcalloc(rep->nsites + 1, sizeof(size_t));

		for (i = 0; i < rep->nsites; i++) {
			first[i] = nv;
			nv += rep->sites[i].nvariants;
		}
		first[rep->nsites] = nv;
		by_variant_cache = xcalloc(nv ? nv : 1, sizeof(char *));
		for (i = 0; i < rep->nsites; i++)
			for (k = 0; k < rep->sites[i].nvariants; k++) {
				const struct sw_variant *v =
				    &rep->sites[i].variants[k];
				char *name =
				    test_of_stack(v->frames, v->nframes);

				if (name) {
					by_variant_cache[first[i] + k] =
					    intern(b, name);
					free(name);
				}
			}
		for (i = 0; i < rep->nevents; i++)
			if (!es[i].ev.test && !traces[es[i].ev.process].ntests)
				es[i].ev.test =
				    by_variant_cache[first[es[i].ev.site] +
						     es[i].ev.variant];
		free(first);
	}
	/* Stalls: the test at their start (test records are in time
	 * order), else their heaviest event's. */
	for (k = 0; k < rep->nstalls; k++) {
		struct sw_stall *st = &rep->stalls[k];
		const struct sw_trace *t = &traces[st->process];
		size_t j, last = t->ntests;

		for (j = 0;
		     j < t->ntests && t->tests[j].time_ns <= st->start_ns; j++)
			last = j;
		if (last < t->ntests && t->tests[last].name[0])
			st->test = intern(b, t->tests[last].name);
	}
	best = xcalloc(rep->nstalls + rep->nsites + 1, sizeof(*best));
	for (i = 0; i < rep->nevents; i++) {
		const struct sw_event *e = &es[i].ev;

		if (!e->test)
			continue;
		if (e->stall >= 0 && !traces[e->process].ntests &&
		    e->total_ns >= best[e->stall]) {
			best[e->stall] = e->total_ns;
			rep->stalls[e->stall].test = e->test;
		}
		if (e->total_ns >= best[rep->nstalls + e->site]) {
			best[rep->nstalls + e->site] = e->total_ns;
			rep->sites[e->site].test = e->test;
		}
	}
	free(best);
	free(by_variant_cache);
}
