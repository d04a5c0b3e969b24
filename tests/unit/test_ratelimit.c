#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "api/ratelimit.h"

static void
address_is_blocked_after_limit_failures(void **state)
{
	struct ratelimit *rl = rl_new(3, 60, 0);
	int64_t retry = 0;

	for (int i = 0; i < 3; i++) {
		assert_false(rl_blocked(rl, "192.0.2.1", 1000, NULL));
		rl_fail(rl, "192.0.2.1", 1000);
	}
	assert_true(rl_blocked(rl, "192.0.2.1", 1010, &retry));
	assert_int_equal(retry, 50);
	assert_false(rl_blocked(rl, "192.0.2.2", 1010, NULL));
	rl_free(rl);
}

static void
block_ends_with_the_window(void **state)
{
	struct ratelimit *rl = rl_new(1, 60, 0);

	rl_fail(rl, "2001:db8::1", 1000);
	assert_true(rl_blocked(rl, "2001:db8::1", 1059, NULL));
	assert_false(rl_blocked(rl, "2001:db8::1", 1060, NULL));
	assert_int_equal(rl_count(rl), 0);
	rl_free(rl);
}

static void
retry_after_is_at_least_one_second(void **state)
{
	struct ratelimit *rl = rl_new(1, 1, 0);
	int64_t retry = 0;

	rl_fail(rl, "a", 1000);
	assert_true(rl_blocked(rl, "a", 1000, &retry));
	assert_int_equal(retry, 1);
	rl_free(rl);
}

static void
full_table_sweeps_expired_then_drops_oldest(void **state)
{
	struct ratelimit *rl = rl_new(1, 10, 2);

	rl_fail(rl, "old", 1000);
	rl_fail(rl, "mid", 1005);
	rl_fail(rl, "new", 1008);	/* nothing expired: "old" goes */
	assert_int_equal(rl_count(rl), 2);
	assert_false(rl_blocked(rl, "old", 1008, NULL));
	assert_true(rl_blocked(rl, "mid", 1008, NULL));
	rl_fail(rl, "newer", 1020);	/* both expired: swept */
	assert_int_equal(rl_count(rl), 1);
	assert_true(rl_blocked(rl, "newer", 1020, NULL));
	rl_free(rl);
}

static void
overlong_address_is_never_tracked(void **state)
{
	struct ratelimit *rl = rl_new(1, 60, 0);
	char addr[RL_ADDR_MAX + 2];

	memset(addr, 'a', sizeof(addr) - 1);
	addr[sizeof(addr) - 1] = '\0';
	rl_fail(rl, addr, 1000);
	assert_int_equal(rl_count(rl), 0);
	assert_false(rl_blocked(rl, addr, 1000, NULL));
	rl_free(rl);
}

static void
clock_going_backwards_resets_the_window(void **state)
{
	struct ratelimit *rl = rl_new(1, 60, 0);

	rl_fail(rl, "a", 1000);
	assert_false(rl_blocked(rl, "a", 900, NULL));
	rl_free(rl);
}

static void
forgiven_attempts_do_not_count(void **state)
{
	struct ratelimit *rl = rl_new(2, 60, 0);

	/* Two attempts in flight at once: the third is refused... */
	rl_fail(rl, "a", 1000);
	rl_fail(rl, "a", 1000);
	assert_true(rl_blocked(rl, "a", 1000, NULL));
	/* ...until one of them turns out to have succeeded. */
	rl_forgive(rl, "a");
	assert_false(rl_blocked(rl, "a", 1000, NULL));
	rl_forgive(rl, "a");
	rl_forgive(rl, "a");		/* never below zero */
	rl_fail(rl, "a", 1000);
	assert_false(rl_blocked(rl, "a", 1000, NULL));
	rl_forgive(rl, "unknown");	/* nothing to forgive: no effect */
	assert_int_equal(rl_count(rl), 1);
	rl_free(rl);
}

static void
ipv6_addresses_count_by_their_64(void **state)
{
	struct ratelimit *rl = rl_new(2, 60, 0);

	/* Stepping through one /64 does not escape the limit... */
	rl_fail(rl, "2001:db8:1:2::1", 1000);
	rl_fail(rl, "2001:db8:1:2:ffff::9", 1000);
	assert_true(rl_blocked(rl, "2001:db8:1:2:abcd::77", 1000, NULL));
	assert_int_equal(rl_count(rl), 1);
	/* ...another /64 is another client, IPv4 and mapped IPv4 stay whole. */
	assert_false(rl_blocked(rl, "2001:db8:1:3::1", 1000, NULL));
	rl_fail(rl, "192.0.2.1", 1000);
	rl_fail(rl, "192.0.2.1", 1000);
	assert_true(rl_blocked(rl, "192.0.2.1", 1000, NULL));
	assert_false(rl_blocked(rl, "192.0.2.2", 1000, NULL));
	assert_false(rl_blocked(rl, "::ffff:192.0.2.3", 1000, NULL));
	rl_forgive(rl, "2001:db8:1:2::5");
	assert_false(rl_blocked(rl, "2001:db8:1:2::1", 1000, NULL));
	rl_free(rl);
}

static void
a_block_learnt_holds_until_the_shared_window_ends(void **state)
{
	struct ratelimit *rl = rl_new(6, 60, 0);
	int64_t retry = 0;

	/* The shared count said: blocked for 20 more seconds. */
	rl_block(rl, "2001:db8:1:2::9", 1000, 20);
	assert_true(rl_blocked(rl, "2001:db8:1:2::1", 1000, &retry));
	assert_int_equal(retry, 20);
	assert_true(rl_blocked(rl, "2001:db8:1:2::1", 1019, NULL));
	assert_false(rl_blocked(rl, "2001:db8:1:2::1", 1020, NULL));
	/* Never longer than a window, and a success here lifts it. */
	rl_block(rl, "192.0.2.7", 2000, 600);
	assert_true(rl_blocked(rl, "192.0.2.7", 2059, &retry));
	assert_int_equal(retry, 1);
	rl_forgive(rl, "192.0.2.7");
	assert_false(rl_blocked(rl, "192.0.2.7", 2001, NULL));
	assert_int_equal(rl_limit(rl), 6);
	assert_int_equal(rl_window(rl), 60);
	rl_free(rl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(address_is_blocked_after_limit_failures),
		cmocka_unit_test(block_ends_with_the_window),
		cmocka_unit_test(retry_after_is_at_least_one_second),
		cmocka_unit_test(full_table_sweeps_expired_then_drops_oldest),
		cmocka_unit_test(overlong_address_is_never_tracked),
		cmocka_unit_test(clock_going_backwards_resets_the_window),
		cmocka_unit_test(forgiven_attempts_do_not_count),
		cmocka_unit_test(ipv6_addresses_count_by_their_64),
		cmocka_unit_test(a_block_learnt_holds_until_the_shared_window_ends),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
