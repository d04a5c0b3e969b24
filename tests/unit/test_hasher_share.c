/*
 * daemon/api/hasher_share.c: each client address's share of the hasher
 * queue, counted in slots held while requests are at the hasher.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "api/hasher_share.h"

static void
test_the_share_is_a_quarter_of_the_queue_and_at_least_two(void **state)
{
	assert_int_equal(hshare_limit(256), 64);
	assert_int_equal(hshare_limit(10), 2);
	assert_int_equal(hshare_limit(8), 2);
	assert_int_equal(hshare_limit(1), 2);
	assert_int_equal(hshare_limit(100000), 25000);
}

static void
test_an_address_is_refused_past_its_share(void **state)
{
	struct hshare hs;
	struct hshare_slot s[4];

	memset(&hs, 0, sizeof(hs));
	assert_true(hshare_take(&hs, &s[0], "192.0.2.1", 3));
	assert_true(hshare_take(&hs, &s[1], "192.0.2.1", 3));
	assert_true(hshare_take(&hs, &s[2], "192.0.2.1", 3));
	assert_false(hshare_take(&hs, &s[3], "192.0.2.1", 3));
	assert_false(s[3].held);
	assert_int_equal(hshare_held(&hs, "192.0.2.1"), 3);
	/* A slot given back can be taken again. */
	hshare_give(&hs, &s[1]);
	assert_int_equal(hshare_held(&hs, "192.0.2.1"), 2);
	assert_true(hshare_take(&hs, &s[3], "192.0.2.1", 3));
	assert_false(hshare_take(&hs, &s[1], "192.0.2.1", 3));
	for (int i = 0; i < 4; i++)
		hshare_give(&hs, &s[i]);
	assert_int_equal(hs.count, 0);
}

static void
test_addresses_do_not_share_their_slots(void **state)
{
	struct hshare hs;
	struct hshare_slot a[2], b;

	memset(&hs, 0, sizeof(hs));
	assert_true(hshare_take(&hs, &a[0], "192.0.2.1", 2));
	assert_true(hshare_take(&hs, &a[1], "192.0.2.1", 2));
	assert_true(hshare_take(&hs, &b, "198.51.100.7", 2));
	assert_int_equal(hshare_held(&hs, "198.51.100.7"), 1);
	assert_int_equal(hs.count, 2);
	hshare_give(&hs, &a[0]);
	hshare_give(&hs, &a[1]);
	hshare_give(&hs, &b);
	assert_int_equal(hs.count, 0);
}

static void
test_an_ipv6_64_counts_as_one_address(void **state)
{
	struct hshare hs;
	struct hshare_slot s[3];

	memset(&hs, 0, sizeof(hs));
	assert_true(hshare_take(&hs, &s[0], "2001:db8:1:2::1", 2));
	assert_true(hshare_take(&hs, &s[1], "2001:db8:1:2:ffff::9", 2));
	assert_false(hshare_take(&hs, &s[2], "2001:db8:1:2::77", 2));
	/* The next /64 is another client. */
	assert_true(hshare_take(&hs, &s[2], "2001:db8:1:3::1", 2));
	for (int i = 0; i < 3; i++)
		hshare_give(&hs, &s[i]);
	assert_int_equal(hs.count, 0);
}

static void
test_giving_back_twice_gives_back_once(void **state)
{
	struct hshare hs;
	struct hshare_slot a, b;

	memset(&hs, 0, sizeof(hs));
	assert_true(hshare_take(&hs, &a, "192.0.2.1", 2));
	assert_true(hshare_take(&hs, &b, "192.0.2.1", 2));
	hshare_give(&hs, &a);
	hshare_give(&hs, &a);
	assert_int_equal(hshare_held(&hs, "192.0.2.1"), 1);
	hshare_give(&hs, &b);
	assert_int_equal(hshare_held(&hs, "192.0.2.1"), 0);
	/* A slot never taken gives back nothing. */
	memset(&a, 0, sizeof(a));
	hshare_give(&hs, &a);
	assert_int_equal(hs.count, 0);
}

static void
test_an_idle_address_is_not_tracked(void **state)
{
	struct hshare hs;
	struct hshare_slot s;

	memset(&hs, 0, sizeof(hs));
	assert_int_equal(hshare_held(&hs, "192.0.2.1"), 0);
	assert_true(hshare_take(&hs, &s, "192.0.2.1", 2));
	assert_int_equal(hs.count, 1);
	hshare_give(&hs, &s);
	assert_int_equal(hs.count, 0);
	/* A refusal leaves nothing behind either. */
	assert_false(hshare_take(&hs, &s, "192.0.2.1", 0));
	assert_int_equal(hs.count, 0);
}

static void
test_an_address_too_long_to_key_is_never_held_back(void **state)
{
	struct hshare hs;
	struct hshare_slot s[3];
	char	 addr[RL_ADDR_MAX + 8];

	memset(&hs, 0, sizeof(hs));
	memset(addr, 'a', sizeof(addr) - 1);
	addr[sizeof(addr) - 1] = '\0';
	for (int i = 0; i < 3; i++) {
		assert_true(hshare_take(&hs, &s[i], addr, 2));
		assert_false(s[i].held);
	}
	assert_int_equal(hs.count, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_the_share_is_a_quarter_of_the_queue_and_at_least_two),
		cmocka_unit_test(test_an_address_is_refused_past_its_share),
		cmocka_unit_test(test_addresses_do_not_share_their_slots),
		cmocka_unit_test(test_an_ipv6_64_counts_as_one_address),
		cmocka_unit_test(test_giving_back_twice_gives_back_once),
		cmocka_unit_test(test_an_idle_address_is_not_tracked),
		cmocka_unit_test(
		    test_an_address_too_long_to_key_is_never_held_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
