/*
 * gate.h - what the parts of `stallwatch gate` share: the budgets, the
 * violations found, and the wording of one violation (cmd_gate.c), read
 * by the JUnit writer (gate_junit.c).
 */
#ifndef SW_GATE_H
#define SW_GATE_H

#include <stdint.h>
#include <stdio.h>

#include "model.h"

enum sw_gate_rule {
	R_STALL,
	R_TURN,
	R_BLOCKING,
	R_NO_BLOCKING,
	R_LAG,
	R__COUNT
};
extern const char *const sw_gate_rule_names[R__COUNT];

struct sw_violation {
	enum sw_gate_rule rule;
	long site;    /* index into rep->sites, -1 for none */
	long process; /* -1 when unknown */
	long loop;    /* index into that process's loops, -1 when unknown */
	uint32_t tid;
	const char *test; /* the test running when it happened, or NULL */
	uint64_t count, total_ns, worst_ns;
};

struct sw_gate {
	uint64_t max_stall, max_blocking, max_lag;
	int have_stall, have_blocking, no_blocking, have_lag;
	int allow_no_loop;
	int no_loop;  /* judged: no event loop seen, and that fails */
	char **allow; /* globs */
	size_t nallow;
	const char *junit;
	int quiet;
	const struct sw_report *rep;
	struct sw_violation *v;
	size_t nv, capv;
	uint64_t allowed; /* occurrences exempted by --allow */
	char cwd[4096];
};

/*
 * The verdict line of a violation ("file:line: error: ..."), terminal
 * safe, in a new string; *msg_only (when non-NULL) gets the part after
 * "error: " in another.  NULL when out of memory.
 */
char *sw_gate_verdict(const struct sw_gate *g, const struct sw_violation *v,
		      char **msg_only);

/* Where a violation points: a file relative to the working directory when
 * inside it, and its line (0: none). */
const char *sw_gate_location(const struct sw_gate *g,
			     const struct sw_violation *v, int *line);

/* Where a test is defined (file relative to the working directory, line
 * or 0); NULL when unknown. */
const char *sw_gate_test_location(const struct sw_gate *g, const char *test,
				  int *line);

/* The title a JavaScript runner knows a test by, when its id is FILE:LINE
 * (an anonymous test function): the string quoted in test('...' or it(
 * on that line.  NULL otherwise; caller frees. */
char *sw_gate_test_title(const struct sw_gate *g, const char *test);

/* Write g->junit atomically.  0, or -1 after a one-line error. */
int sw_gate_write_junit(const struct sw_gate *g);

#endif
