/*
 * common/clock.c: deadlines that carry into the next second, time left
 * rounded up and clamped, and elapsed time that follows a real sleep.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "clock.h"

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1)
		;
}

static void
test_deadline_ahead(void **state)
{
	struct timespec d, now;
	int left;

	clock_deadline(&d, 1500);
	clock_now(&now);
	assert_true(d.tv_nsec >= 0 && d.tv_nsec < 1000000000L);
	assert_true(d.tv_sec > now.tv_sec ||
	    (d.tv_sec == now.tv_sec && d.tv_nsec > now.tv_nsec));
	left = clock_ms_left(&d);
	assert_true(left > 1400 && left <= 1500);

	/* 999 ms pushes any nanosecond count past the second. */
	clock_deadline(&d, 999);
	assert_true(d.tv_nsec >= 0 && d.tv_nsec < 1000000000L);
	left = clock_ms_left(&d);
	assert_true(left > 900 && left <= 999);
}

static void
test_deadline_passes(void **state)
{
	struct timespec d;

	clock_deadline(&d, 0);
	assert_int_equal(clock_ms_left(&d), 0);
	clock_deadline(&d, -5);		/* as 0 */
	assert_int_equal(clock_ms_left(&d), 0);
	clock_deadline(&d, 20);
	sleep_ms(40);
	assert_int_equal(clock_ms_left(&d), 0);
}

static void
test_ms_left_rounds_up_and_clamps(void **state)
{
	struct timespec d;

	/* A fraction of a millisecond left is one, not zero. */
	clock_now(&d);
	d.tv_nsec += 300000;	/* 0.3 ms */
	if (d.tv_nsec >= 1000000000L) {
		d.tv_sec++;
		d.tv_nsec -= 1000000000L;
	}
	assert_true(clock_ms_left(&d) <= 1);

	clock_now(&d);
	d.tv_sec += (time_t)INT_MAX;	/* decades ahead */
	assert_int_equal(clock_ms_left(&d), INT_MAX);
	clock_deadline(&d, INT_MAX);
	assert_true(clock_ms_left(&d) > INT_MAX - 1000);
}

static void
test_ms_since(void **state)
{
	struct timespec t0;
	double ms;
	uint64_t u0, u1;

	clock_now(&t0);
	u0 = clock_now_usec();
	sleep_ms(30);
	ms = clock_ms_since(&t0);
	u1 = clock_now_usec();
	assert_true(ms >= 30.0);
	assert_true(ms < 30000.0);
	assert_true(u1 >= u0 + 30000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deadline_ahead),
		cmocka_unit_test(test_deadline_passes),
		cmocka_unit_test(test_ms_left_rounds_up_and_clamps),
		cmocka_unit_test(test_ms_since),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
