/* pyframes.c - placeholder until the CPython walker lands (issue 4). */
#include "shim.h"

void sw_py_prepare(void)
{
}

int sw_py_capture(struct sw_pyframe *out, int max, int *unknown)
{
	(void)out;
	(void)max;
	*unknown = 0;
	return 0;
}

int sw_py_is_gil_cond(const void *cond)
{
	(void)cond;
	return 0;
}
