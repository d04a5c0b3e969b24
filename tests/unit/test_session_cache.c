/*
 * Forward-auth's memory of browser sessions (api/session_cache.h): a hit
 * only within session_check of its confirmation, eviction of the least
 * recently used at capacity, and nothing found again after a forget (by
 * key, by user, or all), with the clock passed in.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "api/session_cache.h"

#define SEC	1000000ULL		/* microseconds */
#define T0	(1000 * SEC)		/* "now" of the tests */
#define CHECK	(5 * SEC)		/* session_check */

static const char *const A = "0b6f3c1e-0000-4000-8000-00000000000a";
static const char *const B = "0b6f3c1e-0000-4000-8000-00000000000b";

/* An entry of key n (its first bytes, the rest fixed) for user id. */
static struct session_cache_entry
entry(uint32_t n, const char *id, uint64_t confirmed)
{
	struct session_cache_entry e;

	memset(&e, 0, sizeof(e));
	memset(e.key, 0x5a, sizeof(e.key));
	memcpy(e.key, &n, sizeof(n));
	snprintf(e.user_id, sizeof(e.user_id), "%s", id);
	snprintf(e.username, sizeof(e.username), "user%u", n);
	snprintf(e.roles, sizeof(e.roles), "user,admin");
	e.token_version = n;
	e.confirmed = confirmed;
	e.confirmed_at = 1700000000;
	return e;
}

static const struct session_cache_entry *
get(struct session_cache *c, uint32_t n, uint64_t now)
{
	struct session_cache_entry k = entry(n, "", 0);

	return session_cache_lookup(c, k.key, now, CHECK);
}

static void
a_stored_entry_hits_with_its_user(void **st)
{
	struct session_cache *c = session_cache_new(8);
	struct session_cache_entry e = entry(7, A, T0);
	const struct session_cache_entry *h;

	assert_non_null(c);
	assert_null(get(c, 7, T0));
	session_cache_store(c, &e);
	assert_int_equal(session_cache_count(c), 1);
	h = get(c, 7, T0 + 1);
	assert_non_null(h);
	assert_memory_equal(h->key, e.key, sizeof(e.key));
	assert_string_equal(h->user_id, A);
	assert_string_equal(h->username, "user7");
	assert_string_equal(h->roles, "user,admin");
	assert_int_equal(h->token_version, 7);
	assert_int_equal(h->confirmed_at, 1700000000);
	/* Another key misses, even one sharing a bucket. */
	assert_null(get(c, 8, T0 + 1));
	assert_null(get(c, 7 + 8, T0 + 1));
	/* Storing the same key again replaces, never duplicates. */
	e = entry(7, B, T0 + 2);
	session_cache_store(c, &e);
	assert_int_equal(session_cache_count(c), 1);
	assert_string_equal(get(c, 7, T0 + 2)->user_id, B);
	session_cache_free(c);
}

static void
an_entry_is_stale_after_session_check(void **st)
{
	struct session_cache *c = session_cache_new(8);
	struct session_cache_entry e = entry(1, A, T0);
	struct session_cache_entry k = entry(1, "", 0);

	session_cache_store(c, &e);
	assert_non_null(get(c, 1, T0 + CHECK - 1));
	assert_null(get(c, 1, T0 + CHECK));
	assert_null(get(c, 1, T0 + 10 * CHECK));
	/* A clock behind the confirmation does not hit either. */
	assert_null(get(c, 1, T0 - 1));
	/* session_check 0: always ask the database. */
	assert_null(session_cache_lookup(c, k.key, T0, 0));
	/* A new confirmation makes it fresh again. */
	e.confirmed = T0 + 10 * CHECK;
	session_cache_store(c, &e);
	assert_non_null(get(c, 1, T0 + 10 * CHECK + 1));
	session_cache_free(c);
}

static void
a_full_cache_evicts_the_least_recently_used(void **st)
{
	struct session_cache *c = session_cache_new(4);
	struct session_cache_entry e;

	for (uint32_t n = 1; n <= 4; n++) {
		e = entry(n, A, T0);
		session_cache_store(c, &e);
	}
	assert_int_equal(session_cache_count(c), 4);
	/* 1 used again: 2 is now the least recently used. */
	assert_non_null(get(c, 1, T0));
	e = entry(5, A, T0);
	session_cache_store(c, &e);
	assert_int_equal(session_cache_count(c), 4);
	assert_null(get(c, 2, T0));
	assert_non_null(get(c, 1, T0));
	assert_non_null(get(c, 3, T0));
	assert_non_null(get(c, 4, T0));
	assert_non_null(get(c, 5, T0));
	/* Many more than fit: the count stays, the newest are kept. */
	for (uint32_t n = 100; n < 1100; n++) {
		e = entry(n, n % 2 ? A : B, T0);
		session_cache_store(c, &e);
		assert_int_equal(session_cache_count(c), 4);
	}
	for (uint32_t n = 1096; n < 1100; n++)
		assert_non_null(get(c, n, T0));
	assert_null(get(c, 1095, T0));
	assert_null(get(c, 1, T0));
	session_cache_free(c);
}

static void
forget_by_key_by_user_and_all(void **st)
{
	struct session_cache *c = session_cache_new(16);
	struct session_cache_entry e;

	for (uint32_t n = 1; n <= 10; n++) {
		e = entry(n, n % 2 ? A : B, T0);
		session_cache_store(c, &e);
	}
	e = entry(3, "", 0);
	session_cache_forget(c, e.key);
	session_cache_forget(c, e.key);		/* twice is fine */
	assert_null(get(c, 3, T0));
	assert_int_equal(session_cache_count(c), 9);
	/* A's sessions (odd keys, 3 already gone) go; B's stay. */
	assert_int_equal(session_cache_forget_user(c, A), 4);
	assert_int_equal(session_cache_forget_user(c, A), 0);
	assert_int_equal(session_cache_count(c), 5);
	for (uint32_t n = 1; n <= 10; n++) {
		if (n % 2)
			assert_null(get(c, n, T0));
		else
			assert_string_equal(get(c, n, T0)->user_id, B);
	}
	session_cache_clear(c);
	assert_int_equal(session_cache_count(c), 0);
	for (uint32_t n = 1; n <= 10; n++)
		assert_null(get(c, n, T0));
	session_cache_free(c);
}

/* After any forget, the entry never comes back: not after the nodes are
 * reused by other keys, nor through eviction order. */
static void
no_entry_outlives_a_forget(void **st)
{
	struct session_cache *c = session_cache_new(4);
	struct session_cache_entry e;

	for (int round = 0; round < 50; round++) {
		for (uint32_t n = 1; n <= 4; n++) {
			e = entry(n, n == 2 ? A : B, T0);
			session_cache_store(c, &e);
		}
		assert_int_equal(session_cache_forget_user(c, A), 1);
		assert_null(get(c, 2, T0));
		/* Reusing the freed node for a new key. */
		e = entry(1000 + (uint32_t)round, B, T0);
		session_cache_store(c, &e);
		assert_null(get(c, 2, T0));
		assert_non_null(get(c, 1000 + (uint32_t)round, T0));
		e = entry(4, "", 0);
		session_cache_forget(c, e.key);
		assert_null(get(c, 4, T0));
		for (uint32_t n = 5; n < 20; n++) {
			e = entry(n, B, T0);
			session_cache_store(c, &e);
			assert_null(get(c, 2, T0));
			assert_null(get(c, 4, T0));
		}
		assert_int_equal(session_cache_count(c), 4);
		session_cache_clear(c);
		assert_int_equal(session_cache_forget_user(c, B), 0);
	}
	session_cache_free(c);
}

static void
bad_sizes_are_refused(void **st)
{
	struct session_cache *c;

	assert_null(session_cache_new(0));
	assert_non_null(c = session_cache_new(1));
	session_cache_free(c);
	session_cache_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_stored_entry_hits_with_its_user),
		cmocka_unit_test(an_entry_is_stale_after_session_check),
		cmocka_unit_test(a_full_cache_evicts_the_least_recently_used),
		cmocka_unit_test(forget_by_key_by_user_and_all),
		cmocka_unit_test(no_entry_outlives_a_forget),
		cmocka_unit_test(bad_sizes_are_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
