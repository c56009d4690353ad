/*
 * sw_settings.h - the names of stallwatch's environment settings.
 *
 * The shim reads them (preload/settings.c, and the few read at start);
 * `stallwatch run` and `stallwatch preload` write them.  Both compile
 * against these names, so a rename cannot leave one side behind.  What
 * each one means, its units and its default: stallwatch-settings(7).
 */
#ifndef SW_SETTINGS_H
#define SW_SETTINGS_H

/* Read by the shim (stallwatch-settings(7)). */
#define SW_ENV_OUTPUT	       "STALLWATCH_OUTPUT"
#define SW_ENV_DISABLE	       "STALLWATCH_DISABLE"
#define SW_ENV_THRESHOLD       "STALLWATCH_THRESHOLD"
#define SW_ENV_CALL_THRESHOLD  "STALLWATCH_CALL_THRESHOLD"
#define SW_ENV_SAMPLE	       "STALLWATCH_SAMPLE"
#define SW_ENV_SAMPLE_INTERVAL "STALLWATCH_SAMPLE_INTERVAL"
#define SW_ENV_HEARTBEAT       "STALLWATCH_HEARTBEAT"
#define SW_ENV_STRICT	       "STALLWATCH_STRICT"
#define SW_ENV_FOLLOW	       "STALLWATCH_FOLLOW"
#define SW_ENV_POLL_LOOPS      "STALLWATCH_POLL_LOOPS"
#define SW_ENV_MAX_SIZE	       "STALLWATCH_MAX_SIZE"
#define SW_ENV_STACKS_PER_SITE "STALLWATCH_STACKS_PER_SITE"
#define SW_ENV_SIGNAL	       "STALLWATCH_SIGNAL"
/* Set by the first recorded process when STALLWATCH_FOLLOW=0 (and by
 * `stallwatch run`): its exec'd descendants stay inert. */
#define SW_ENV_ROOT_PID "STALLWATCH_ROOT_PID"

/* Read by `stallwatch run` only: the shim to preload. */
#define SW_ENV_SHIM "STALLWATCH_SHIM"

#endif
