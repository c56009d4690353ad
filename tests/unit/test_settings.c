/*
 * test_settings.c - STALLWATCH_* parsing (preload/settings.c): defaults,
 * every setting, durations with units, and garbage that must give one
 * warning and keep the default.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../include/sw_duration.h"
#include "../../preload/settings.h"

static char warnings[16][512];
static int nwarnings;

static void capture(const char *msg)
{
	if (nwarnings < 16)
		snprintf(warnings[nwarnings], sizeof(warnings[0]), "%s", msg);
	nwarnings++;
}

/* Load settings from a NULL-terminated list of "K=V" strings. */
static struct sw_settings load(char **env)
{
	struct sw_settings cfg;

	nwarnings = 0;
	memset(warnings, 0, sizeof(warnings));
	memset(&cfg, 0xa5, sizeof(cfg)); /* nothing may leak through */
	sw_settings_load(&cfg, env, capture);
	return cfg;
}

static void assert_defaults(const struct sw_settings *cfg)
{
	char dir[64];

	snprintf(dir, sizeof(dir), "/tmp/stallwatch-%u", (unsigned)getuid());
	ck_assert_int_eq(cfg->enabled, 1);
	ck_assert_int_eq(cfg->strict, 0);
	ck_assert_int_eq(cfg->follow, 1);
	ck_assert_int_eq(cfg->sampling, 1);
	ck_assert_int_eq(cfg->poll_loops, 0);
	ck_assert_uint_eq(cfg->threshold_ns, 50000000ull);
	ck_assert_uint_eq(cfg->call_threshold_ns, 10000000ull);
	ck_assert_uint_eq(cfg->sample_interval_ns, 10000000ull);
	ck_assert_uint_eq(cfg->heartbeat_ns, 10000000000ull);
	ck_assert_uint_eq(cfg->stacks_per_site, 4);
	ck_assert_uint_eq(cfg->max_size, 64ull << 20);
	ck_assert_str_eq(cfg->output_dir, dir);
}

START_TEST(test_defaults)
{
	char *empty[] = {NULL};
	char *unrelated[] = {"PATH=/bin", "STALLWATCH=1", "STALLWATCH_X=2",
			     "XSTALLWATCH_THRESHOLD=9s", NULL};
	struct sw_settings cfg;

	cfg = load(empty);
	assert_defaults(&cfg);
	ck_assert_int_eq(nwarnings, 0);
	cfg = load(unrelated);
	assert_defaults(&cfg);
	ck_assert_int_eq(nwarnings, 0);
	/* A NULL environment is an empty one. */
	cfg = load(NULL);
	assert_defaults(&cfg);
}
END_TEST

START_TEST(test_every_setting)
{
	char *env[] = {"STALLWATCH_OUTPUT=/var/tmp/sw-out/",
		       "STALLWATCH_THRESHOLD=0.1s",
		       "STALLWATCH_CALL_THRESHOLD=500us",
		       "STALLWATCH_STRICT=1",
		       "STALLWATCH_FOLLOW=0",
		       "STALLWATCH_SAMPLE=off",
		       "STALLWATCH_SAMPLE_INTERVAL=2ms",
		       "STALLWATCH_HEARTBEAT=1m",
		       "STALLWATCH_STACKS_PER_SITE=12",
		       "STALLWATCH_POLL_LOOPS=yes",
		       NULL};
	struct sw_settings cfg = load(env);

	ck_assert_int_eq(nwarnings, 0);
	ck_assert_int_eq(cfg.enabled, 1);
	ck_assert_str_eq(cfg.output_dir, "/var/tmp/sw-out"); /* no trailing / */
	ck_assert_uint_eq(cfg.threshold_ns, 100000000ull);
	ck_assert_uint_eq(cfg.call_threshold_ns, 500000ull);
	ck_assert_int_eq(cfg.strict, 1);
	ck_assert_int_eq(cfg.follow, 0);
	ck_assert_int_eq(cfg.sampling, 0);
	ck_assert_uint_eq(cfg.sample_interval_ns, 2000000ull);
	ck_assert_uint_eq(cfg.heartbeat_ns, 60000000000ull);
	ck_assert_uint_eq(cfg.stacks_per_site, 12);
	ck_assert_int_eq(cfg.poll_loops, 1);
}
END_TEST

START_TEST(test_booleans)
{
	static const char *const yes[] = {"1", "true", "TRUE", "yes", "On"};
	static const char *const no[] = {"0", "false", "No", "OFF"};
	char var[64], *env[] = {var, NULL};
	struct sw_settings cfg;
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		snprintf(var, sizeof(var), "STALLWATCH_STRICT=%s", yes[i]);
		cfg = load(env);
		ck_assert_msg(cfg.strict == 1, "%s", var);
		ck_assert_int_eq(nwarnings, 0);
	}
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		snprintf(var, sizeof(var), "STALLWATCH_FOLLOW=%s", no[i]);
		cfg = load(env);
		ck_assert_msg(cfg.follow == 0, "%s", var);
		ck_assert_int_eq(nwarnings, 0);
	}
}
END_TEST

START_TEST(test_disable)
{
	char *off[] = {"STALLWATCH_DISABLE=1", NULL};
	char *on[] = {"STALLWATCH_DISABLE=0", NULL};
	struct sw_settings cfg;

	cfg = load(off);
	ck_assert_int_eq(cfg.enabled, 0);
	ck_assert_int_eq(nwarnings, 0);
	cfg = load(on);
	ck_assert_int_eq(cfg.enabled, 1);
}
END_TEST

/* Each garbage value: exactly one warning naming the variable and the
 * value, and the default kept. */
START_TEST(test_garbage_keeps_defaults)
{
	static const char *const bad[] = {
	    "STALLWATCH_THRESHOLD=banana",
	    "STALLWATCH_THRESHOLD=",
	    "STALLWATCH_THRESHOLD=-5ms",
	    "STALLWATCH_THRESHOLD=10 parsecs",
	    "STALLWATCH_THRESHOLD=0",
	    "STALLWATCH_THRESHOLD=99999999999999999999s",
	    "STALLWATCH_CALL_THRESHOLD=1e3",
	    "STALLWATCH_CALL_THRESHOLD=5ms5",
	    "STALLWATCH_SAMPLE_INTERVAL=1ns",
	    "STALLWATCH_SAMPLE_INTERVAL=fast",
	    "STALLWATCH_HEARTBEAT=0.1us",
	    "STALLWATCH_STRICT=maybe",
	    "STALLWATCH_STRICT=2",
	    "STALLWATCH_FOLLOW=",
	    "STALLWATCH_SAMPLE=nope",
	    "STALLWATCH_POLL_LOOPS=11",
	    "STALLWATCH_DISABLE=please",
	    "STALLWATCH_STACKS_PER_SITE=0",
	    "STALLWATCH_STACKS_PER_SITE=-1",
	    "STALLWATCH_STACKS_PER_SITE=4x",
	    "STALLWATCH_STACKS_PER_SITE=99999999999999999999999",
	    "STALLWATCH_OUTPUT=",
	};
	char var[128], *env[] = {var, NULL};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char name[64];
		const char *eq = strchr(bad[i], '=');
		struct sw_settings cfg;

		snprintf(var, sizeof(var), "%s", bad[i]);
		snprintf(name, sizeof(name), "%.*s=", (int)(eq - bad[i]),
			 bad[i]);
		cfg = load(env);
		assert_defaults(&cfg);
		ck_assert_msg(nwarnings == 1, "%s: %d warnings", var,
			      nwarnings);
		ck_assert_msg(
		    strncmp(warnings[0], "stallwatch: ignoring ", 21) == 0,
		    "%s: '%s'", var, warnings[0]);
		ck_assert_msg(strstr(warnings[0], name) != NULL, "%s: '%s'",
			      var, warnings[0]);
		ck_assert_msg(strstr(warnings[0], ": expected ") != NULL,
			      "%s: '%s'", var, warnings[0]);
	}
}
END_TEST

START_TEST(test_several_bad_values)
{
	char *env[] = {"STALLWATCH_THRESHOLD=banana", "STALLWATCH_STRICT=maybe",
		       "STALLWATCH_CALL_THRESHOLD=20ms", NULL};
	struct sw_settings cfg = load(env);

	/* One warning per bad value; the good one still applies. */
	ck_assert_int_eq(nwarnings, 2);
	ck_assert_uint_eq(cfg.threshold_ns, 50000000ull);
	ck_assert_int_eq(cfg.strict, 0);
	ck_assert_uint_eq(cfg.call_threshold_ns, 20000000ull);
	ck_assert_ptr_nonnull(
	    strstr(warnings[0], "STALLWATCH_THRESHOLD=banana"));
}
END_TEST

START_TEST(test_hostile_values)
{
	static char longdir[2100];
	char *ctrl[] = {"STALLWATCH_THRESHOLD=\x1b[2Jevil\x07", NULL};
	char *toolong[] = {longdir, NULL};
	struct sw_settings cfg;

	/* Control bytes in a bad value never reach the terminal. */
	cfg = load(ctrl);
	ck_assert_int_eq(nwarnings, 1);
	ck_assert_ptr_null(strchr(warnings[0], '\x1b'));
	ck_assert_ptr_null(strchr(warnings[0], '\x07'));
	assert_defaults(&cfg);

	/* An output path that does not fit is refused, not truncated. */
	memset(longdir, 'a', sizeof(longdir) - 1);
	memcpy(longdir, "STALLWATCH_OUTPUT=/", 19);
	cfg = load(toolong);
	ck_assert_int_eq(nwarnings, 1);
	assert_defaults(&cfg);
	ck_assert_uint_lt(strlen(warnings[0]), 300);
}
END_TEST

START_TEST(test_durations)
{
	static const struct {
		const char *text;
		uint64_t ns;
	} good[] = {
	    {"50ms", 50000000ull},  {"0.05s", 50000000ull},
	    {"500us", 500000ull},   {"250", 250000000ull},
	    {"1.5ms", 1500000ull},  {"2m", 120000000000ull},
	    {"100ns", 100ull},	    {" 7ms ", 7000000ull},
	    {"0.000001s", 1000ull},
	};
	static const char *const garbage[] = {
	    "",	     "ms", "banana", "-1ms",   "5 ms x", "1h",
	    "5msms", ".",  "1e3ms",  "86401s", NULL,
	};
	char var[64], *env[] = {var, NULL};
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		uint64_t v = 0;

		ck_assert_msg(sw_parse_duration(good[i].text, &v) == 0, "%s",
			      good[i].text);
		ck_assert_uint_eq(v, good[i].ns);
	}
	for (i = 0; garbage[i]; i++) {
		uint64_t v = 42;

		ck_assert_msg(sw_parse_duration(garbage[i], &v) == -1, "'%s'",
			      garbage[i]);
		ck_assert_uint_eq(v, 42);
	}
	/* The same strings through the settings loader. */
	snprintf(var, sizeof(var), "STALLWATCH_THRESHOLD=1.5ms");
	ck_assert_uint_eq(load(env).threshold_ns, 1500000ull);
	snprintf(var, sizeof(var), "STALLWATCH_THRESHOLD=1h");
	ck_assert_uint_eq(load(env).threshold_ns, 50000000ull);
	ck_assert_int_eq(nwarnings, 1);
}
END_TEST

/* STALLWATCH_MAX_SIZE: bytes or K/M/G, 0 for no limit, at least 256K. */
START_TEST(test_max_size)
{
	static const struct {
		const char *v;
		uint64_t want; /* 1: rejected, the default stays */
	} cases[] = {
	    {"64M", 64ull << 20},
	    {"512K", 512ull << 10},
	    {"1G", 1ull << 30},
	    {"2GiB", 2ull << 30},
	    {"300kb", 300ull << 10},
	    {"1048576", 1048576},
	    {"0", 0},
	    {"100K", 1},
	    {"12", 1},
	    {"M", 1},
	    {"5X", 1},
	    {"-1M", 1},
	    {"", 1},
	    {"99999999999999999G", 1},
	    {"1000000000000G", 1},
	};
	char buf[64], *env[] = {buf, NULL};
	struct sw_settings cfg;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(buf, sizeof(buf), "STALLWATCH_MAX_SIZE=%s",
			 cases[i].v);
		cfg = load(env);
		if (cases[i].want == 1) {
			ck_assert_msg(cfg.max_size == 64ull << 20, "%s", buf);
			ck_assert_int_eq(nwarnings, 1);
			ck_assert_ptr_nonnull(
			    strstr(warnings[0], "STALLWATCH_MAX_SIZE"));
		} else {
			ck_assert_msg(cfg.max_size == cases[i].want, "%s", buf);
			ck_assert_int_eq(nwarnings, 0);
		}
	}
}
END_TEST

Suite *sw_suite_settings(void)
{
	Suite *s = suite_create("settings");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_every_setting);
	tcase_add_test(tc, test_booleans);
	tcase_add_test(tc, test_disable);
	tcase_add_test(tc, test_garbage_keeps_defaults);
	tcase_add_test(tc, test_several_bad_values);
	tcase_add_test(tc, test_hostile_values);
	tcase_add_test(tc, test_durations);
	tcase_add_test(tc, test_max_size);
	suite_add_tcase(s, tc);
	return s;
}
