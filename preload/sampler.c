/* sampler.c - placeholder until the sampler lands (issue 3). */
#include "shim.h"

void sw_sampler_install(void)
{
}
