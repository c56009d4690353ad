/*
 * place.c - in-app classification of frames and the one place function
 * (place.h; the rules are in doc/design.md, "Places").
 */
#include "place.h"

#include <ctype.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "html_escape.h"
#include "util.h"

/* How many named native frames a native program's headline shows. */
#define NATIVE_CHAIN 3

void sw_app_rules_add(struct sw_app_rules *r, const char *glob, int in_app)
{
	if (r->n >= r->cap) {
		r->cap = r->cap ? r->cap * 2 : 8;
		r->globs = xreallocarray(r->globs, r->cap, sizeof(*r->globs));
		r->in_app =
		    xreallocarray(r->in_app, r->cap, sizeof(*r->in_app));
	}
	r->globs[r->n] = xstrdup(glob);
	r->in_app[r->n] = !!in_app;
	r->n++;
}

int sw_app_option(struct sw_app_rules *r, int c, const char *arg)
{
	if (c != SW_OPT_APP && c != SW_OPT_NOT_APP)
		return 0;
	sw_app_rules_add(r, arg, c == SW_OPT_APP);
	return 1;
}

void sw_app_rules_free(struct sw_app_rules *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		free(r->globs[i]);
	free(r->globs);
	free(r->in_app);
	memset(r, 0, sizeof(*r));
}

/* Basename without a version suffix: python3.11 -> python, node20 ->
 * node, nodejs -> nodejs. */
static int runtime_name(const char *path)
{
	static const char *const names[] = {"python", "pypy", "node", "nodejs",
					    "bun",    "deno", "ruby", "perl"};
	const char *b;
	size_t i, n;

	if (!path || !*path)
		return 0;
	b = sw_basename(path);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		n = strlen(names[i]);
		if (strncmp(b, names[i], n) != 0)
			continue;
		/* python, python3, python3.11, python3.11d, node20 */
		b += n;
		while (isdigit((unsigned char)*b) || *b == '.' || *b == 'd' ||
		       *b == 'm' || *b == 'u')
			b++;
		return *b == '\0';
	}
	return 0;
}

int sw_is_runtime(const char *exe, const char *argv0)
{
	return runtime_name(exe) || runtime_name(argv0);
}

static int has_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

/* A path inside CPython's standard library: .../lib/pythonX.Y/... but not
 * an installed package under it. */
static int python_stdlib(const char *file)
{
	const char *p = strstr(file, "/lib/python");

	if (has_prefix(file, "<frozen ") || has_prefix(file, "<frozen>"))
		return 1;
	/* .../lib/pythonX.Y/ (3.13t included):
	 * a project directory that merely starts with "python3" is not. */
	for (; p; p = strstr(p + 1, "/lib/python")) {
		const char *q = p + strlen("/lib/python");

		if (!isdigit((unsigned char)*q))
			continue;
		while (isdigit((unsigned char)*q))
			q++;
		if (*q == '.') {
			q++;
			while (isdigit((unsigned char)*q))
				q++;
		}
		while (*q == 'd' || *q == 'm' || *q == 'u' || *q == 't')
			q++;
		if (*q == '/')
			return 1;
	}
	return 0;
}

static int python_package(const char *file)
{
	return strstr(file, "/site-packages/") ||
	       strstr(file, "/dist-packages/");
}

static int js_library(const char *file)
{
	return has_prefix(file, "node:") || has_prefix(file, "internal/") ||
	       strstr(file, "/node_modules/") ||
	       has_prefix(file, "node_modules/");
}

/* The system's own libraries: the dynamic loader's directories. */
static int system_library(const char *path)
{
	static const char *const dirs[] = {
	    "/lib/",	   "/lib64/",	  "/lib32/",	  "/usr/lib/",
	    "/usr/lib64/", "/usr/lib32/", "/usr/libexec/"};
	size_t i;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (has_prefix(path, dirs[i]))
			return 1;
	/* The vDSO and our own shim, wherever it was installed. */
	return !strcmp(path, "[vdso]") || strstr(path, "linux-vdso") ||
	       strstr(path, "libstallwatch");
}

/* A library of the runtime itself: libpython*, libnode*, or a file under
 * the prefix the interpreter is installed in (the directory above its
 * bin/: /root/.pyenv/versions/3.12.1/). */
static int runtime_library(const char *path, const char *exe)
{
	const char *base = sw_basename(path), *bin;

	if (has_prefix(base, "libpython") || has_prefix(base, "libnode") ||
	    has_prefix(base, "libpypy"))
		return 1;
	if (!exe || !(bin = strstr(exe, "/bin/")) || bin == exe)
		return 0;
	return !strncmp(path, exe, (size_t)(bin - exe + 1));
}

static int glob_hit(const char *glob, const char *s)
{
	return s && *s && fnmatch(glob, s, 0) == 0;
}

int sw_frame_in_app(const struct sw_frame *f, const struct sw_app_ctx *ctx)
{
	const struct sw_app_rules *r = ctx ? ctx->rules : NULL;
	size_t i;

	if (r)
		for (i = r->n; i-- > 0;)
			if (glob_hit(r->globs[i], f->file) ||
			    glob_hit(r->globs[i], f->module) ||
			    glob_hit(r->globs[i], f->function))
				return r->in_app[i];
	switch (f->lang) {
	case SW_LANG_PYTHON:
		return f->file && !python_stdlib(f->file) &&
		       !python_package(f->file);
	case SW_LANG_JS:
		return f->file && !js_library(f->file);
	default:
		break;
	}
	if (!f->module || !*f->module)
		return 0;
	if (ctx && ctx->main_module && !strcmp(f->module, ctx->main_module))
		return !ctx->runtime;
	if (system_library(f->module))
		return 0;
	/* Under an interpreter, its own libraries (libpython, a pyenv
	 * prefix, installed packages' extensions) are not the program's;
	 * the program's own extension or addon is. */
	if (ctx && ctx->runtime &&
	    (runtime_library(f->module, ctx->main_module) ||
	     python_stdlib(f->module) || python_package(f->module) ||
	     js_library(f->module)))
		return 0;
	return 1;
}

/* ---- names ----------------------------------------------------------------
 */

/* The package a library frame's file belongs to, as its importer names
 * it: "requests" for .../site-packages/requests/api.py, "json" for
 * .../lib/python3.11/json/decoder.py, "fs" for node:fs, "express" for
 * .../node_modules/express/lib/x.js.  Caller frees; NULL when none. */
static char *package_of(const struct sw_frame *f)
{
	const char *file = f->file, *p = NULL, *end;

	if (!file)
		return NULL;
	if (f->lang == SW_LANG_PYTHON) {
		if (has_prefix(file, "<frozen ")) {
			p = file + strlen("<frozen ");
			end = strchr(p, '>');
			return end ? xstrndup(p, (size_t)(end - p)) : NULL;
		}
		if ((p = strstr(file, "/site-packages/")))
			p += strlen("/site-packages/");
		else if ((p = strstr(file, "/dist-packages/")))
			p += strlen("/dist-packages/");
		else if ((p = strstr(file, "/lib/python")) &&
			 (p = strchr(p + 1, '/')) && (p = strchr(p + 1, '/')))
			p++;
		else
			return NULL;
		end = p + strcspn(p, "/");
		if (end - p > 3 && !strncmp(end - 3, ".py", 3))
			end -= 3;
		return end > p ? xstrndup(p, (size_t)(end - p)) : NULL;
	}
	if (f->lang == SW_LANG_JS) {
		if (has_prefix(file, "node:internal/"))
			p = file + strlen("node:internal/");
		else if (has_prefix(file, "node:"))
			p = file + strlen("node:");
		else if (has_prefix(file, "internal/"))
			p = file + strlen("internal/");
		else if ((p = strstr(file, "node_modules/")))
			p += strlen("node_modules/");
		else
			return NULL;
		end = p + strcspn(p, "/");
		if (*p == '@' && *end == '/') /* @scope/name */
			end = end + 1 + strcspn(end + 1, "/");
		if (end - p > 3 && !strncmp(end - 3, ".js", 3))
			end -= 3;
		return end > p ? xstrndup(p, (size_t)(end - p)) : NULL;
	}
	return NULL;
}

char *sw_frame_call_name(const struct sw_frame *f)
{
	char *pkg, *s;

	if (!f->function)
		return NULL;
	pkg = package_of(f);
	if (!pkg || !*pkg || !strcmp(pkg, "__init__") ||
	    has_prefix(f->function, pkg)) {
		free(pkg);
		return xstrdup(f->function);
	}
	s = xasprintf("%s.%s", pkg, f->function);
	free(pkg);
	return s;
}

static int interpreted(const struct sw_frame *f)
{
	return f->lang == SW_LANG_PYTHON || f->lang == SW_LANG_JS;
}

static int named(const struct sw_frame *f)
{
	return f->function && *f->function;
}

/* "function (file.py:12)" for an interpreted frame, the file shortened to
 * its last component (the JSON place keeps the whole path). */
static void put_interpreted(struct sw_buf *b, const struct sw_frame *f)
{
	sw_buf_puts(b, named(f) ? f->function : "?");
	if (f->file) {
		sw_buf_printf(b, " (%s", sw_basename(f->file));
		if (f->line > 0)
			sw_buf_printf(b, ":%d", f->line);
		sw_buf_puts(b, ")");
	}
}

static void set_frame(struct sw_place *out, const struct sw_frame *frames,
		      long i)
{
	const struct sw_frame *f = &frames[i];

	out->frame = i;
	out->function = f->function ? xstrdup(f->function) : NULL;
	out->file = f->file ? xstrdup(f->file) : NULL;
	out->line = f->line > 0 ? f->line : 0;
	out->in_app = f->in_app;
}

/* The interpreted place frame at a: what it called (the outermost frame
 * of its own language inside it), then the blocking call. */
static void interpreted_place(const struct sw_frame *frames, long a,
			      const char *call, struct sw_place *out)
{
	struct sw_buf b = {0};
	long j;

	set_frame(out, frames, a);
	put_interpreted(&b, &frames[a]);
	/* The outermost frame of its language inside it is the library
	 * call it made (frames inside a are never in app: a is the
	 * innermost in-app frame). */
	for (j = a - 1; j >= 0; j--)
		if (frames[j].lang == frames[a].lang && named(&frames[j]))
			break;
	if (j >= 0 && !frames[j].in_app) {
		out->what = sw_frame_call_name(&frames[j]);
		sw_buf_printf(&b, " \xe2\x86\x92 %s", out->what);
	}
	if (call)
		sw_buf_printf(&b, " \xe2\x86\x92 %s", call);
	out->text = sw_buf_take(&b);
}

/* A C++ name without its parameter list: "ns::Runner::Spawn" for
 * "ns::Runner::Spawn(v8::Local<v8::Value>) const". */
static void put_native_name(struct sw_buf *b, const char *name)
{
	size_t n = strlen(name), end = n;
	int depth = 0;

	if (n > 6 && !strcmp(name + n - 6, " const"))
		end = n - 6;
	if (end > 1 && name[end - 1] == ')') {
		size_t i = end;

		while (i-- > 0) {
			if (name[i] == ')')
				depth++;
			else if (name[i] == '(' && --depth == 0)
				break;
		}
		if (i > 0 && i < end && depth == 0)
			end = i;
		else
			end = n;
	} else {
		end = n;
	}
	sw_buf_add(b, name, end);
}

/* Up to NATIVE_CHAIN named frames from a on (in app only when app),
 * innermost first, after the blocking call. */
static void native_place(const struct sw_frame *frames, size_t n, long a,
			 int app, const char *call, struct sw_place *out)
{
	struct sw_buf b = {0};
	size_t i, shown = 0;

	set_frame(out, frames, a);
	if (call)
		sw_buf_puts(&b, call);
	for (i = (size_t)a; i < n && shown < NATIVE_CHAIN; i++) {
		const struct sw_frame *f = &frames[i];

		if ((app && !f->in_app) || interpreted(f) ||
		    (!named(f) && (!app || !f->module || named(&frames[a]))))
			continue;
		if (b.len)
			sw_buf_puts(&b, " \xe2\x86\x90 ");
		if (named(f))
			put_native_name(&b, f->function);
		else /* the program's own code without symbols */
			sw_buf_printf(&b, "[%s+0x%llx]", sw_basename(f->module),
				      (unsigned long long)f->rel_addr);
		shown++;
	}
	out->text = sw_buf_take(&b);
}

void sw_place_compute(const struct sw_frame *frames, size_t n, const char *call,
		      struct sw_place *out)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	out->frame = -1;
	/* The innermost in-app frame. */
	for (i = 0; i < n; i++)
		if (frames[i].in_app && (named(&frames[i]) || frames[i].file))
			break;
	/* The program's code without symbols: its unnamed frames, by
	 * module and offset. */
	if (i == n)
		for (i = 0; i < n; i++)
			if (frames[i].in_app && frames[i].module)
				break;
	if (i < n) {
		if (interpreted(&frames[i]))
			interpreted_place(frames, (long)i, call, out);
		else
			native_place(frames, n, (long)i, 1, call, out);
		return;
	}
	/* Nothing in app: the innermost named interpreted frame, else the
	 * innermost named frames. */
	for (i = 0; i < n; i++)
		if (interpreted(&frames[i]) && named(&frames[i]))
			break;
	if (i < n) {
		interpreted_place(frames, (long)i, call, out);
		return;
	}
	for (i = 0; i < n; i++)
		if (named(&frames[i]))
			break;
	if (i < n) {
		native_place(frames, n, (long)i, 0, call, out);
		return;
	}
	out->text = xstrdup(call ? call : n ? "(unnamed code)" : "(no stack)");
}

char *sw_place_key(const struct sw_place *p, int cpu)
{
	if (!cpu || p->frame < 0 || !p->function)
		return xstrdup(p->text ? p->text : "");
	/* A burn in one function is one site, whatever line was sampled. */
	return xasprintf("%s\x1f%s\x1f%s", p->function, p->file ? p->file : "",
			 p->what ? p->what : "");
}

void sw_place_free(struct sw_place *p)
{
	free(p->text);
	free(p->function);
	free(p->file);
	free(p->what);
	memset(p, 0, sizeof(*p));
	p->frame = -1;
}

/* ---- JIT names ------------------------------------------------------------
 */

/* V8's code kinds in perf maps that name a JS function: "JS:" (Node 20),
 * older "LazyCompile:", "Function:", "Script:", "Eval:", ... */
static int js_kind(const char *name, size_t len)
{
	static const char *const kinds[] = {"JS",	"LazyCompile",
					    "Function", "Script",
					    "Eval",	"InterpretedFunction"};
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strlen(kinds[i]) == len && !strncmp(name, kinds[i], len))
			return 1;
	return 0;
}

void sw_js_split(const char *name, struct sw_frame *f)
{
	const char *colon = strchr(name, ':'), *p, *sp, *loc, *c1, *c2;
	char *file;

	f->function = NULL;
	f->file = NULL;
	f->line = 0;
	if (!colon || !js_kind(name, (size_t)(colon - name))) {
		f->function = xstrdup(name);
		return;
	}
	p = colon + 1;
	/* Tier markers: ~ interpreted, ^ baseline, + maglev, * optimized. */
	while (*p == '~' || *p == '^' || *p == '*' || *p == '+')
		p++;
	/* "name location": the location is the last word; an anonymous
	 * function has an empty name. */
	sp = strrchr(p, ' ');
	loc = sp ? sp + 1 : NULL;
	if (!sp) {
		f->function = xstrdup(*p ? p : "(anonymous)");
		return;
	}
	f->function =
	    sp > p ? xstrndup(p, (size_t)(sp - p)) : xstrdup("(anonymous)");
	/* location: file[:line[:column]] (file may hold colons: node:fs) */
	c2 = strrchr(loc, ':');
	c1 = NULL;
	if (c2 && c2[1] && strspn(c2 + 1, "0123456789") == strlen(c2 + 1)) {
		const char *q;

		for (q = c2 - 1; q > loc && *q != ':'; q--)
			;
		if (q > loc &&
		    strspn(q + 1, "0123456789") == (size_t)(c2 - q - 1) &&
		    c2 - q > 1)
			c1 = q; /* file:line:col */
		else
			c1 = c2; /* file:line */
	}
	file = c1 ? xstrndup(loc, (size_t)(c1 - loc)) : xstrdup(loc);
	if (has_prefix(file, "file://")) {
		char *t = xstrdup(file + strlen("file://"));

		free(file);
		file = t;
	}
	f->file = file;
	if (c1)
		f->line = atoi(c1 + 1);
}
