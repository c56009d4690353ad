/* watchdog.c - placeholder until the watchdog lands (issue 3). */
#include "shim.h"

void sw_watchdog_ensure(void)
{
}

void sw_watchdog_atfork_child(void)
{
}
