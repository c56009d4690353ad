/*
 * pymerge.c - place Python frames among native ones (see pymerge.h).
 *
 * The shim records the Python frames of the thread innermost first, each
 * flagged SW_PYF_ENTRY when it is the outermost frame one call of the
 * interpreter loop runs (3.9/3.10: every frame; 3.11+: the frame entered
 * from C).  Walking the native stack innermost first, every eval-loop
 * frame is replaced by the Python frames it ran: the next ones up to and
 * including the next entry frame.  That keeps the native frames between
 * two Python calls (a C extension calling back into Python, time.sleep's
 * C implementation, sqlite's frames under cursor.execute) where they ran.
 */
#include <stdlib.h>
#include <string.h>

#include "pymerge.h"

/*
 * Only the function that runs bytecode counts.  On 3.9+ the older names
 * (_PyEval_EvalFrame, PyEval_EvalFrameEx) are thin wrappers, often inlined
 * and shown as inlined frames, around _PyEval_EvalFrameDefault: counting
 * them too would hand one Python frame to each of two native frames.
 * GCC may split the function (".cold", ".part.N"); those parts count.
 */
int sw_is_eval_function(const char *name)
{
	static const char eval[] = "_PyEval_EvalFrameDefault";
	size_t n = sizeof(eval) - 1;

	if (!name || strncmp(name, eval, n) != 0)
		return 0;
	return name[n] == '\0' || name[n] == '.';
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* The shim itself and the C library: the call being recorded. */
static int is_call_frame(const struct sw_frame *f)
{
	const char *base;

	if (f->lang != SW_LANG_NATIVE || !f->module)
		return 0;
	base = strrchr(f->module, '/');
	base = base ? base + 1 : f->module;
	return !strncmp(base, "libstallwatch", 13) ||
	       !strncmp(base, "libc.so", 7) || !strncmp(base, "libc-", 5) ||
	       !strncmp(base, "libpthread", 10) ||
	       !strncmp(base, "ld-linux", 8) ||
	       !strncmp(base, "linux-vdso", 10);
}

static const struct sw_pycode *find_code(const struct sw_pycodes *codes,
					 uint32_t id)
{
	size_t lo = 0, hi = codes ? codes->n : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (codes->v[mid].code_id == id)
			return &codes->v[mid];
		if (codes->v[mid].code_id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int push_native(struct sw_frame *out, size_t *n,
		       const struct sw_frame *f)
{
	struct sw_frame *o = &out[(*n)++];

	*o = *f;
	o->function = dup_or_null(f->function);
	o->file = dup_or_null(f->file);
	o->module = dup_or_null(f->module);
	return (f->function && !o->function) || (f->file && !o->file) ||
		       (f->module && !o->module)
		   ? -1
		   : 0;
}

static int push_python(struct sw_frame *out, size_t *n,
		       const struct sw_pyframe *p,
		       const struct sw_pycodes *codes)
{
	const struct sw_pycode *c = find_code(codes, p->code_id);
	struct sw_frame *o = &out[(*n)++];

	memset(o, 0, sizeof(*o));
	o->lang = SW_LANG_PYTHON;
	o->line = p->line > 0 ? p->line : 0;
	if (!c)
		return 0; /* no names recorded (torn file): an unknown frame */
	o->function = dup_or_null(c->name);
	o->file = dup_or_null(c->file);
	return (c->name && !o->function) || (c->file && !o->file) ? -1 : 0;
}

/* Python frames [from, to) at the end of out. */
static int push_run(struct sw_frame *out, size_t *n,
		    const struct sw_pyframe *py, size_t from, size_t to,
		    const struct sw_pycodes *codes)
{
	for (; from < to; from++)
		if (push_python(out, n, &py[from], codes))
			return -1;
	return 0;
}

static size_t entry_end(const struct sw_pyframe *py, size_t from, size_t npy)
{
	while (from < npy && !(py[from].pyf_flags & SW_PYF_ENTRY))
		from++;
	return from < npy ? from + 1 : npy;
}

static void free_frames(struct sw_frame *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].function);
		free(v[i].file);
		free(v[i].module);
	}
	free(v);
}

int sw_pymerge(const struct sw_frame *native, size_t nnative,
	       const struct sw_pyframe *py, size_t npy,
	       const struct sw_pycodes *codes, struct sw_frame **out,
	       size_t *nout, int *unplaced)
{
	struct sw_frame *v;
	size_t i, n = 0, next_py = 0, neval = 0, split = 0;

	*unplaced = 0;
	*out = NULL;
	*nout = 0;
	v = calloc(nnative + npy + 1, sizeof(*v));
	if (!v)
		return -1;
	if (npy)
		for (i = 0; i < nnative; i++)
			if (native[i].lang == SW_LANG_NATIVE &&
			    sw_is_eval_function(native[i].function))
				neval++;

	if (npy && !neval) {
		/* No interpreter symbols: the best we can say is "the call
		 * was made from here", right outside the call's own frames. */
		while (split < nnative && is_call_frame(&native[split]))
			split++;
		for (i = 0; i < split; i++)
			if (push_native(v, &n, &native[i]))
				goto oom;
		if (push_run(v, &n, py, 0, npy, codes))
			goto oom;
		for (; i < nnative; i++)
			if (push_native(v, &n, &native[i]))
				goto oom;
		*unplaced = 1;
		goto done;
	}

	for (i = 0; i < nnative; i++) {
		const struct sw_frame *f = &native[i];

		if (next_py < npy && f->lang == SW_LANG_NATIVE &&
		    sw_is_eval_function(f->function)) {
			size_t end = entry_end(py, next_py, npy);

			if (push_run(v, &n, py, next_py, end, codes))
				goto oom;
			next_py = end;
			continue;
		}
		if (push_native(v, &n, f))
			goto oom;
	}
	/* Outer frames beyond a truncated native stack. */
	if (push_run(v, &n, py, next_py, npy, codes))
		goto oom;
done:
	*out = v;
	*nout = n;
	return 0;
oom:
	free_frames(v, n);
	return -1;
}
