/* perfmap.c - placeholder until JIT names land (issue 4). */
#include "perfmap.h"

struct sw_perfmap *sw_perfmap_load(const char *path)
{
	(void)path;
	return NULL;
}

const char *sw_perfmap_lookup(const struct sw_perfmap *map, uint64_t addr)
{
	(void)map;
	(void)addr;
	return NULL;
}

void sw_perfmap_free(struct sw_perfmap *map)
{
	(void)map;
}
