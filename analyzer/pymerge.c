/* pymerge.c - placeholder until Python frames land (issue 4): native only. */
#include <stdlib.h>
#include <string.h>

#include "pymerge.h"

int sw_is_eval_function(const char *name)
{
	return name && strcmp(name, "_PyEval_EvalFrameDefault") == 0;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

int sw_pymerge(const struct sw_frame *native, size_t nnative,
	       const struct sw_pyframe *py, size_t npy,
	       const struct sw_pycodes *codes, struct sw_frame **out,
	       size_t *nout, int *unplaced)
{
	size_t i;

	(void)py;
	(void)codes;
	*unplaced = npy > 0;
	*out = calloc(nnative ? nnative : 1, sizeof(**out));
	if (!*out)
		return -1;
	for (i = 0; i < nnative; i++) {
		(*out)[i] = native[i];
		(*out)[i].function = dup_or_null(native[i].function);
		(*out)[i].file = dup_or_null(native[i].file);
		(*out)[i].module = dup_or_null(native[i].module);
	}
	*nout = nnative;
	return 0;
}
