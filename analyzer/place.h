/*
 * place.h - whose code a frame is, and the one place that names a site.
 *
 * Every output that names where a stall happened (text headline, JSON,
 * HTML, gate verdicts, JUnit, GitHub annotations, run's summary, metrics
 * labels) takes it from struct sw_place, computed once per site by
 * sw_place_compute() at load time: never recompute it from frames.
 * Rules in doc/design.md, "Places".
 *
 * Usage for a command:
 *   struct sw_app_rules rules = {0};
 *   getopt_long(..., long options holding SW_APP_LONGOPTS, ...):
 *       case SW_OPT_APP: case SW_OPT_NOT_APP:
 *           sw_app_option(&rules, c, optarg); break;
 *   struct sw_load_opts lo = {.app = &rules};  sw_report_load(...);
 *   site->place.text  ("handler (app.py:12) → requests.get → recv")
 *   site->frames[i].in_app
 *   sw_app_rules_free(&rules);
 */
#ifndef SW_PLACE_H
#define SW_PLACE_H

#include <getopt.h>
#include <stddef.h>

#include "model.h"

/* --app GLOB / --not-app GLOB, in the order given.  A glob (fnmatch(3),
 * '*' crosses '/') is matched against a frame's file, its module path and
 * its function; the last matching rule wins over the built-in rules. */
struct sw_app_rules {
	char **globs;
	int *in_app; /* 1 for --app, 0 for --not-app */
	size_t n, cap;
};

#define SW_OPT_APP     0x5a01
#define SW_OPT_NOT_APP 0x5a02
/* Entries for a struct option array (getopt_long). */
#define SW_APP_LONGOPTS                                            \
	{"app", required_argument, NULL, SW_OPT_APP},              \
	{                                                          \
		"not-app", required_argument, NULL, SW_OPT_NOT_APP \
	}
/* Lines for a command's --help. */
#define SW_APP_USAGE                                                         \
	"      --app GLOB     frames whose file, module or function match\n" \
	"                     GLOB are the program's own (repeatable)\n"     \
	"      --not-app GLOB frames matching GLOB are not the program's "   \
	"own\n"                                                              \
	"                     (repeatable; the last matching option wins)\n"

/* Handle getopt's c (SW_OPT_APP / SW_OPT_NOT_APP): 1 when handled, 0 when
 * c is another option. */
int sw_app_option(struct sw_app_rules *r, int c, const char *arg);
void sw_app_rules_add(struct sw_app_rules *r, const char *glob, int in_app);
void sw_app_rules_free(struct sw_app_rules *r);

/* What the classifier needs to know about a frame's process. */
struct sw_app_ctx {
	const char *main_module; /* path of the main executable's module */
	int runtime;		 /* the executable is an interpreter or runtime
				    (python*, node): its native frames are not
				    the program's */
	const struct sw_app_rules *rules; /* may be NULL */
};

/* Is this executable (path, or argv[0]) an interpreter or a runtime? */
int sw_is_runtime(const char *exe, const char *argv0);

/* Is the frame the program's own code?  Python: not the standard library
 * (lib/pythonX.Y, <frozen ...>) and not site-/dist-packages; JS: not
 * node:, internal/ or node_modules; native: the main executable or a
 * library outside the system directories, unless ctx->runtime. */
int sw_frame_in_app(const struct sw_frame *f, const struct sw_app_ctx *ctx);

/*
 * The place of a stack (innermost frame first; each frame's in_app set):
 * - the innermost in-app frame, with the outermost non-app call it made in
 *   its own language and the blocking call: "handler (app.py:12) →
 *   requests.get → recv", "loadCatalog (app.js:3) → fs.readFileSync";
 * - a native program: its innermost three named frames, innermost first,
 *   after the blocking call: "dictNext ← rdbSaveRio ← rdbSave";
 * - nothing in app: the innermost named interpreted frame as above, else
 *   the innermost three named frames.
 * call is the blocking call's name, NULL for a CPU burn.
 */
void sw_place_compute(const struct sw_frame *frames, size_t n, const char *call,
		      struct sw_place *out);
/* Key that groups stacks into one site: the place without the line for a
 * CPU burn (a burn in one function is one site).  Caller frees. */
char *sw_place_key(const struct sw_place *p, int cpu);
void sw_place_free(struct sw_place *p);

/* A short name for a non-app frame as its caller wrote it:
 * "requests.get", "json.loads", "fs.readFileSync", else the function. */
char *sw_frame_call_name(const struct sw_frame *f);

/* Split a JIT perf-map name ("JS:~loadCatalog /app/x.js:3:10",
 * "LazyCompile:*spin file:///x.mjs:3") into function (V8's tier marker
 * ~ ^ * + dropped), file and line; other names are kept whole as the
 * function.  Fills f->function/file/line (allocated). */
void sw_js_split(const char *name, struct sw_frame *f);

#endif
