/*
 * watchdog.h - the watchdog thread (watchdog.c), only in programs that
 * already have threads of their own: heartbeats of idle loops, and loop
 * threads found asleep in a system call no wrapper saw.
 */
#ifndef SW_WATCHDOG_H
#define SW_WATCHDOG_H

/* Start it if the process has other threads and it is not running;
 * cheap when running, or when the process is single-threaded. */
void sw_watchdog_ensure(void);
/* At the end, first: the watchdog stops writing (waits up to ~100ms for
 * a scan in flight) and reports the sleeps it was still watching. */
void sw_watchdog_stop(void);
/* In a forked child: forget the parent's watchdog. */
void sw_watchdog_atfork_child(void);

#endif
