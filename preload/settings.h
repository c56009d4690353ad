/*
 * settings.h - the STALLWATCH_* environment as the shim reads it once, in
 * the constructor (settings.c).  The names are in include/sw_settings.h,
 * shared with the analyzer; their meaning is stallwatch-settings(7).
 */
#ifndef SW_SETTINGS_STRUCT_H
#define SW_SETTINGS_STRUCT_H

#include <stdint.h>

struct sw_settings {
	int enabled;	/* 0: inert (AT_SECURE, STALLWATCH_DISABLE, no dir) */
	int strict;	/* STALLWATCH_STRICT=1 */
	int follow;	/* STALLWATCH_FOLLOW (default 1) */
	int sampling;	/* STALLWATCH_SAMPLE=0 turns the sampler off */
	int poll_loops; /* STALLWATCH_POLL_LOOPS=1: poll/ppoll waits are loop
			   boundaries */
	uint64_t threshold_ns; /* STALLWATCH_THRESHOLD, turn stall threshold */
	uint64_t call_threshold_ns;  /* STALLWATCH_CALL_THRESHOLD */
	uint64_t sample_interval_ns; /* STALLWATCH_SAMPLE_INTERVAL */
	uint64_t heartbeat_ns;	     /* STALLWATCH_HEARTBEAT */
	uint64_t max_size; /* STALLWATCH_MAX_SIZE: bytes per process, 0: none */
	uint32_t stacks_per_site; /* STALLWATCH_STACKS_PER_SITE: stacks per site
				     per second */
	char output_dir[1024];	  /* STALLWATCH_OUTPUT */
};

/* Written by the constructor, read-only afterwards (the one exception:
 * enabled drops to 0 when recording cannot start). */
extern struct sw_settings sw_cfg;

/*
 * Read settings from an environment (NULL-terminated "K=V" array, so unit
 * tests can pass their own).  Bad values print one warning each on stderr
 * through `warn` (may be NULL) and keep the default.  Never fails.
 */
void sw_settings_load(struct sw_settings *cfg, char *const *envp,
		      void (*warn)(const char *msg));

#endif
