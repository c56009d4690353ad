/* perfmap.c - placeholder until JIT maps land (issue 4). */
#include "shim.h"

void sw_perfmap_save(const char *trace_path)
{
	(void)trace_path;
}
