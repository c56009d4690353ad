/*
 * settings.c - STALLWATCH_* environment variables -> struct sw_settings.
 *
 * Runs in the constructor of a preloaded library, inside someone else's
 * program: no malloc, no locale (sw_parse_duration, hand-rolled integer
 * and boolean parsing), no side effects beyond *cfg and the warnings.  A
 * bad value gives one warning and keeps the default; nothing here fails.
 * Also linked into the unit tests, so it depends on no other shim module.
 */
#include "settings.h"
#include "sw_settings.h"
#include "sw_duration.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct sw_settings sw_cfg;

#define SW_DEFAULT_THRESHOLD_NS	      (50ull * 1000000ull)
#define SW_DEFAULT_CALL_THRESHOLD_NS  (10ull * 1000000ull)
#define SW_DEFAULT_SAMPLE_INTERVAL_NS (10ull * 1000000ull)
#define SW_DEFAULT_HEARTBEAT_NS	      (10ull * 1000000000ull)
#define SW_DEFAULT_STACKS_PER_SITE    4u
#define SW_DEFAULT_MAX_SIZE	      (64ull << 20)
#define SW_MIN_MAX_SIZE		      (256ull << 10)

/* Look NAME up in envp; NULL when absent. */
static const char *env_get(char *const *envp, const char *name)
{
	size_t len = strlen(name);

	if (!envp)
		return NULL;
	for (; *envp; envp++) {
		if (strncmp(*envp, name, len) == 0 && (*envp)[len] == '=')
			return *envp + len + 1;
	}
	return NULL;
}

/*
 * "stallwatch: ignoring NAME=VALUE: expected WHAT".  The value is cut and
 * stripped of control bytes: it came from the environment and is about to
 * be printed on the user's terminal.
 */
static void bad_value(void (*warn)(const char *), const char *name,
		      const char *value, const char *what)
{
	char shown[64], msg[256];
	size_t i;

	if (!warn)
		return;
	for (i = 0; value[i] && i < sizeof(shown) - 4; i++) {
		unsigned char c = (unsigned char)value[i];
		shown[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	if (value[i]) {
		memcpy(shown + i, "...", 3);
		i += 3;
	}
	shown[i] = 0;
	snprintf(msg, sizeof(msg), "stallwatch: ignoring %s=%s: expected %s",
		 name, shown, what);
	warn(msg);
}

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 'a' - 'A' : c;
}

static int word_eq(const char *s, const char *word)
{
	for (; *s && *word; s++, word++) {
		if (lower((unsigned char)*s) != *word)
			return 0;
	}
	return !*s && !*word;
}

/* 1/0 and the usual words; -1 for anything else. */
static int parse_bool(const char *s)
{
	static const char *const yes[] = {"1", "true", "yes", "on"};
	static const char *const no[] = {"0", "false", "no", "off"};
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (word_eq(s, yes[i]))
			return 1;
		if (word_eq(s, no[i]))
			return 0;
	}
	return -1;
}

/* A decimal integer in [min, max]; -1 for anything else. */
static int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > max)
			return -1;
	}
	if (v < min)
		return -1;
	*out = v;
	return 0;
}

/* A size: bytes, or with K, M or G (powers of 1024, "B" and "iB" allowed
 * after them); -1 for anything else. */
static int parse_size(const char *s, uint64_t *out)
{
	uint64_t v = 0, mult = 1;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > (1ull << 50))
			return -1;
	}
	switch (*p) {
	case 'k':
	case 'K':
		mult = 1ull << 10;
		p++;
		break;
	case 'm':
	case 'M':
		mult = 1ull << 20;
		p++;
		break;
	case 'g':
	case 'G':
		mult = 1ull << 30;
		p++;
		break;
	default:
		break;
	}
	if (mult > 1 && *p == 'i')
		p++;
	if ((*p == 'B' || *p == 'b') && (mult > 1 || p != s))
		p++;
	if (*p || v > (1ull << 50) / mult)
		return -1; /* a petabyte is no budget */
	*out = v * mult;
	return 0;
}

static void load_bool(int *field, char *const *envp, const char *name,
		      void (*warn)(const char *))
{
	const char *v = env_get(envp, name);
	int b;

	if (!v)
		return;
	b = parse_bool(v);
	if (b < 0)
		bad_value(warn, name, v, "0 or 1");
	else
		*field = b;
}

static void load_duration(uint64_t *field, char *const *envp, const char *name,
			  uint64_t min_ns, void (*warn)(const char *))
{
	const char *v = env_get(envp, name);
	uint64_t ns;

	if (!v)
		return;
	if (sw_parse_duration(v, &ns) != 0 || ns < min_ns) {
		char what[128];

		snprintf(what, sizeof(what),
			 "a duration such as 50ms, 0.05s or 500us (at least "
			 "%lluus)",
			 (unsigned long long)(min_ns / 1000));
		bad_value(warn, name, v, what);
		return;
	}
	*field = ns;
}

static void load_output(struct sw_settings *cfg, char *const *envp,
			void (*warn)(const char *))
{
	const char *v = env_get(envp, SW_ENV_OUTPUT);
	size_t len;

	snprintf(cfg->output_dir, sizeof(cfg->output_dir), "/tmp/stallwatch-%u",
		 (unsigned)getuid());
	if (!v)
		return;
	len = strlen(v);
	if (len == 0 || len >= sizeof(cfg->output_dir)) {
		bad_value(warn, SW_ENV_OUTPUT, v,
			  "a directory path of 1 to 1023 bytes");
		return;
	}
	memcpy(cfg->output_dir, v, len + 1);
	/* "dir/" and "dir" are the same directory; keep "/" as it is. */
	while (len > 1 && cfg->output_dir[len - 1] == '/')
		cfg->output_dir[--len] = 0;
}

void sw_settings_load(struct sw_settings *cfg, char *const *envp,
		      void (*warn)(const char *msg))
{
	const char *v;
	uint64_t n;
	int disable = 0;

	memset(cfg, 0, sizeof(*cfg));
	cfg->enabled = 1;
	cfg->follow = 1;
	cfg->sampling = 1;
	cfg->threshold_ns = SW_DEFAULT_THRESHOLD_NS;
	cfg->call_threshold_ns = SW_DEFAULT_CALL_THRESHOLD_NS;
	cfg->sample_interval_ns = SW_DEFAULT_SAMPLE_INTERVAL_NS;
	cfg->heartbeat_ns = SW_DEFAULT_HEARTBEAT_NS;
	cfg->stacks_per_site = SW_DEFAULT_STACKS_PER_SITE;
	cfg->max_size = SW_DEFAULT_MAX_SIZE;

	load_bool(&disable, envp, SW_ENV_DISABLE, warn);
	if (disable)
		cfg->enabled = 0;
	load_output(cfg, envp, warn);
	load_duration(&cfg->threshold_ns, envp, SW_ENV_THRESHOLD, 1000, warn);
	load_duration(&cfg->call_threshold_ns, envp, SW_ENV_CALL_THRESHOLD,
		      1000, warn);
	load_duration(&cfg->sample_interval_ns, envp, SW_ENV_SAMPLE_INTERVAL,
		      100000, warn);
	load_duration(&cfg->heartbeat_ns, envp, SW_ENV_HEARTBEAT, 1000000,
		      warn);
	load_bool(&cfg->strict, envp, SW_ENV_STRICT, warn);
	load_bool(&cfg->follow, envp, SW_ENV_FOLLOW, warn);
	load_bool(&cfg->sampling, envp, SW_ENV_SAMPLE, warn);
	load_bool(&cfg->poll_loops, envp, SW_ENV_POLL_LOOPS, warn);

	/* The per-process disk budget: 0 is "no limit", on purpose only. */
	v = env_get(envp, SW_ENV_MAX_SIZE);
	if (v) {
		if (parse_size(v, &n) != 0 || (n && n < SW_MIN_MAX_SIZE))
			bad_value(warn, SW_ENV_MAX_SIZE, v,
				  "a size such as 64M, 512K or 1G (at least "
				  "256K), or 0 for no limit");
		else
			cfg->max_size = n;
	}

	v = env_get(envp, SW_ENV_STACKS_PER_SITE);
	if (v) {
		if (parse_uint(v, 1, 100000, &n) != 0)
			bad_value(warn, SW_ENV_STACKS_PER_SITE, v,
				  "a whole number from 1 to 100000");
		else
			cfg->stacks_per_site = (uint32_t)n;
	}
}
