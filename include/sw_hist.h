/*
 * sw_hist.h - the log-linear histogram of loop turn lengths.
 *
 * Eight buckets per power of two give 12.5% resolution from 1 ns to 2^48 ns
 * (3 days) in fixed memory, so the shim can count every turn with one add
 * and the analyzer can merge heartbeats by adding bucket counts.
 */
#ifndef SW_HIST_H
#define SW_HIST_H

#include <stdint.h>

#define SW_HIST_SUB	8
#define SW_HIST_BUCKETS 368

static inline unsigned sw_hist_index(uint64_t v)
{
	unsigned k, idx;

	if (v < SW_HIST_SUB)
		return (unsigned)v;
	k = 63u - (unsigned)__builtin_clzll(v);
	idx = (k - 2) * SW_HIST_SUB + (unsigned)((v >> (k - 3)) & 7);
	return idx < SW_HIST_BUCKETS ? idx : SW_HIST_BUCKETS - 1;
}

/* Smallest value that lands in bucket idx. */
static inline uint64_t sw_hist_lower(unsigned idx)
{
	unsigned k;

	if (idx < SW_HIST_SUB)
		return idx;
	k = idx / SW_HIST_SUB + 2;
	return (uint64_t)(SW_HIST_SUB + idx % SW_HIST_SUB) << (k - 3);
}

/* Largest value that lands in bucket idx. */
static inline uint64_t sw_hist_upper(unsigned idx)
{
	if (idx < SW_HIST_SUB)
		return idx;
	return sw_hist_lower(idx) + (1ull << (idx / SW_HIST_SUB - 1)) - 1;
}

#endif
