/*
 * sw_duration.h - durations as people write them: "50ms", "0.05s", "500us".
 *
 * Shared by the shim (environment settings) and the command (flags), so
 * that STALLWATCH_THRESHOLD=50ms and --threshold 50ms mean the same thing.
 * No strtod: the host's locale must not change what "0.05s" means, and the
 * shim must not call into locale code from inside a wrapped process.
 */
#ifndef SW_DURATION_H
#define SW_DURATION_H

#include <stdint.h>

/*
 * Parse "<number>[.<fraction>]<unit>" with unit ns, us, ms, s or m (minutes).
 * A bare number is milliseconds.  Returns 0 and sets *out_ns, or -1 for
 * anything else (empty, negative, unknown unit, trailing text, overflow
 * beyond one day).
 */
static inline int sw_parse_duration(const char *s, uint64_t *out_ns)
{
	const uint64_t day_ns = 86400ull * 1000000000ull;
	uint64_t whole = 0, frac = 0, frac_div = 1, unit = 1000000ull;
	int digits = 0;

	if (!s)
		return -1;
	while (*s == ' ')
		s++;
	for (; *s >= '0' && *s <= '9'; s++, digits++) {
		whole = whole * 10 + (uint64_t)(*s - '0');
		if (whole > day_ns)
			return -1;
	}
	if (*s == '.') {
		for (s++; *s >= '0' && *s <= '9'; s++, digits++) {
			if (frac_div < 1000000000000ull) { /* keep 12 digits */
				frac = frac * 10 + (uint64_t)(*s - '0');
				frac_div *= 10;
			}
		}
	}
	if (!digits)
		return -1;
	if (s[0] == 'n' && s[1] == 's')
		unit = 1, s += 2;
	else if (s[0] == 'u' && s[1] == 's')
		unit = 1000ull, s += 2;
	else if (s[0] == 'm' && s[1] == 's')
		unit = 1000000ull, s += 2;
	else if (s[0] == 's')
		unit = 1000000000ull, s += 1;
	else if (s[0] == 'm' && s[1] != 's')
		unit = 60000000000ull, s += 1;
	while (*s == ' ')
		s++;
	if (*s)
		return -1;
	if (whole > day_ns / unit)
		return -1;
	whole *= unit;
	/* frac/frac_div of a unit; unit <= 6e10 and frac < 1e12 could overflow
	 * when multiplied directly, so scale the divisor down first. */
	while (frac_div > 1 && unit % 10 == 0) {
		unit /= 10;
		frac_div /= 10;
	}
	whole += frac * unit / frac_div;
	if (whole > day_ns)
		return -1;
	*out_ns = whole;
	return 0;
}

#endif
