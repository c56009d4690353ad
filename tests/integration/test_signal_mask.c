/*
 * test_signal_mask.c - a loop thread that blocks every signal and reads
 * them from a signalfd (as some daemons do) never receives the shim's
 * sampling ticks: its signalfd gives exactly the signals it would give
 * without the shim, at default settings and with 1 ms sampling.
 */
#include <check.h>
#include <stdio.h>

#include "../support.h"

START_TEST(signalfd_of_a_full_mask_sees_no_tick)
{
	static const char *const modes[] = {
	    "",
	    "STALLWATCH_SAMPLE_INTERVAL=1ms STALLWATCH_THRESHOLD=1ms",
	};
	char tail[4200];
	size_t i;

	snprintf(tail, sizeof(tail), "'%s' 6 120",
		 sw_t_build("tests/progs/signalfd_loop"));
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		ck_assert_int_eq(
		    sw_t_same_plain_and_shim("signalfd loop", tail, modes[i]),
		    0);
}
END_TEST

Suite *sw_suite_signal_mask(void)
{
	Suite *s = suite_create("signal_mask");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, signalfd_of_a_full_mask_sees_no_tick);
	suite_add_tcase(s, tc);
	return s;
}
