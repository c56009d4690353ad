/*
 * testname.c - which test is running: SW_REC_TEST records.
 *
 * pytest keeps "path::test (phase)" in the PYTEST_CURRENT_TEST environment
 * variable while a test runs (doc/design.md, "Stalls belong to tests").
 * Before a loop thread writes an event or a stall, sw_test_note() reads it
 * and, when the test (the phase cut off) differs from the last one written,
 * writes SW_REC_TEST first.  The analyzer then gives each stall and event
 * the test in force at its time.
 *
 * The variable is read only on that path, which is rare (a stall, a slow
 * call) and already unwinds a stack: one getenv, a scan of the environment,
 * never per call or per turn.  Never from a signal handler: the sampler's
 * records are placed by time, so the next record's note covers them.  A
 * program that changes its environment while another of its threads reads
 * it races in glibc whether or not we read it too; pytest sets the
 * variable on the thread that then runs the test's loop.
 */
#include "core.h"
#include "extras.h"

#include <stdlib.h>
#include <string.h>

static atomic_flag busy = ATOMIC_FLAG_INIT;
static char last[SW_MAX_STR]; /* the test last written; "" none */
static size_t last_len;
static uint64_t last_ns;

/* The test id without pytest's " (setup)", " (call)", " (teardown)". */
static size_t id_len(const char *v)
{
	size_t n = strnlen(v, SW_MAX_STR + 64);
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
	const char *v;
	uint64_t turn;
	size_t n;

	/* Another loop thread is writing the same news. */
	if (atomic_flag_test_and_set_explicit(&busy, memory_order_acquire))
		return;
	v = getenv("PYTEST_CURRENT_TEST");
	n = v ? id_len(v) : 0;
	if (n == last_len && (n == 0 || memcmp(v, last, n) == 0))
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
	memcpy(last, v ? v : "", n);
	last_len = n;
	last_ns = at_ns;
	emit_test(last, n, at_ns);
out:
	atomic_flag_clear_explicit(&busy, memory_order_release);
}
