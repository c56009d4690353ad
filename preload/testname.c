/*
 * testname.c - which test is running: SW_REC_TEST records.
 *
 * pytest keeps "path::test (phase)" in the PYTEST_CURRENT_TEST environment
 * variable while a test runs (doc/design.md, "Stalls belong to tests").
 * When a loop thread starts a turn, and before it writes an event or a
 * stall, sw_test_note() writes SW_REC_TEST when the test (the phase cut
 * off) differs from the last one written, so every test that turned the
 * loop is named, also one that stalled nothing.  At a turn start the check
 * is inline (sw_test_turn) and costs two loads.  The analyzer then gives each
 * stall and event the test in force at its time.
 *
 * The value is not read with getenv on the record path: another thread
 * may be in setenv, which can free the array getenv walks.  Instead the
 * value is taken at start (a process started by a test inherits it) and
 * copied by the setenv/putenv/unsetenv/clearenv wrappers (wrap_env.c)
 * when they change it (CPython's os.environ goes through setenv and unsetenv).
 * The copy is guarded by a sequence count, without locks, so no wrapper can
 * wait on another; a record reads it only when the count moved.  While the
 * variable is never set, a record pays one atomic load.  A program that
 * writes `environ` directly is not seen.
 *
 * Every trace file stands alone: a rotated file (writer.c) and a forked
 * child's file get the test in force written again.
 */
#include "testname.h"
#include "call.h"
#include "writer.h"

#include <stdlib.h>
#include <string.h>

/* The variable's value as the wrappers last saw it.  `sw_test_seq` is odd while
 * a wrapper copies; a reader that sees it move retries at the next record. */
_Atomic uint32_t sw_test_seq;
static char cur[SW_MAX_STR];
static _Atomic uint32_t cur_len;
static _Atomic int cur_set; /* set at all (its id may be "") */

/* What sw_test_note() last wrote, under `busy` (loop threads only). */
static atomic_flag busy = ATOMIC_FLAG_INIT;
/* A new trace file (rotation, forked child) lacks the test in force: the
 * next note writes it again first. */
static _Atomic int rewrite;
_Atomic uint32_t
    sw_test_seen_seq; /* sw_test_seq when `cur` was last compared */
static char last[SW_MAX_STR];
static size_t last_len;
static uint64_t last_ns;

/* The test id without pytest's " (setup)", " (call)", " (teardown)". */
static size_t id_len(const char *v, size_t n)
{
	const char *p;

	if (n && v[n - 1] == ')') {
		for (p = v + n - 1; p > v; p--) {
			if (p[0] == '(' && p[-1] == ' ') {
				n = (size_t)(p - 1 - v);
				break;
			}
		}
	}
	return n > SW_MAX_STR ? SW_MAX_STR : n;
}

/* A wrapper changed the variable to v (NULL: removed it). */
void sw_test_env_set(const char *v)
{
	size_t n = v ? id_len(v, strnlen(v, SW_MAX_STR + 64)) : 0;

	atomic_fetch_add_explicit(&sw_test_seq, 1, memory_order_acq_rel);
	memcpy(cur, v ? v : "", n);
	atomic_store_explicit(&cur_len, (uint32_t)n, memory_order_relaxed);
	atomic_store_explicit(&cur_set, v != NULL, memory_order_relaxed);
	atomic_fetch_add_explicit(&sw_test_seq, 1, memory_order_acq_rel);
}

int sw_test_env_is_set(void)
{
	return atomic_load(&cur_set);
}

void sw_test_init(void)
{
	const char *v;

	v = getenv(SW_TEST_VAR); /* before the program's threads exist */
	if (v)
		sw_test_env_set(v);
}

static void emit_test(const char *name, size_t len, uint64_t at_ns)
{
	char buf[sizeof(struct sw_rec_test) + SW_MAX_STR];
	struct sw_rec_test *rec = (struct sw_rec_test *)buf;

	memset(rec, 0, sizeof(*rec));
	rec->h.type = SW_REC_TEST;
	rec->h.size = (uint32_t)(sizeof(*rec) + len);
	rec->time_ns = at_ns;
	rec->source = SW_TEST_PYTEST;
	rec->name_len = (uint32_t)len;
	memcpy(buf + sizeof(*rec), name, len);
	sw_emit(buf, rec->h.size);
}

void sw_test_note(uint64_t at_ns)
{
	struct sw_loop_slot *slot = sw_tls.slot;
	char name[SW_MAX_STR];
	uint32_t s1, s2;
	uint64_t turn;
	size_t n;

	if (sw_likely(
		atomic_load_explicit(&sw_test_seq, memory_order_acquire) ==
		    atomic_load_explicit(&sw_test_seen_seq,
					 memory_order_relaxed) &&
		!atomic_load_explicit(&rewrite, memory_order_relaxed)))
		return; /* unchanged (never set: both 0) */
	/* Another loop thread is writing the same news. */
	if (atomic_flag_test_and_set_explicit(&busy, memory_order_acquire))
		return;
	if (atomic_exchange(&rewrite, 0) && last_len)
		emit_test(last, last_len, last_ns);
	s1 = atomic_load_explicit(&sw_test_seq, memory_order_acquire);
	if (s1 & 1)
		goto out; /* a wrapper is copying: the next record will do */
	n = atomic_load_explicit(&cur_len, memory_order_relaxed);
	memcpy(name, cur, n);
	s2 = atomic_load_explicit(&sw_test_seq, memory_order_acquire);
	if (s1 != s2)
		goto out;
	atomic_store_explicit(&sw_test_seen_seq, s1, memory_order_relaxed);
	if (n == last_len && memcmp(name, last, n) == 0)
		goto out;
	/* The test began before the turn that holds this record: stamp the
	 * change no later than that turn's start, so the turn's stall and
	 * samples fall in it; never before the previous change. */
	turn = slot ? atomic_load_explicit(&slot->turn_start_ns,
					   memory_order_relaxed)
		    : 0;
	if (turn && turn < at_ns)
		at_ns = turn;
	if (at_ns < last_ns)
		at_ns = last_ns;
	memcpy(last, name, n);
	last_len = n;
	last_ns = at_ns;
	emit_test(last, n, at_ns);
out:
	atomic_flag_clear_explicit(&busy, memory_order_release);
}

/* The writer started a new file (a rotation: possibly in a signal
 * handler, so no waiting): write the test in force into it now, with its
 * own time, or leave it to the next note if a loop thread is busy here. */
void sw_test_new_file(void)
{
	if (atomic_flag_test_and_set_explicit(&busy, memory_order_acquire)) {
		atomic_store(&rewrite, 1);
		return;
	}
	if (last_len)
		emit_test(last, last_len, last_ns);
	atomic_flag_clear_explicit(&busy, memory_order_release);
}

/* A forked child writes a file of its own; a thread of the parent that
 * held `busy` does not exist here. */
void sw_test_atfork_child(void)
{
	atomic_flag_clear(&busy);
	atomic_store(&rewrite, 1);
}
