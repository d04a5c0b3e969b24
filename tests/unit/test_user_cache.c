/*
 * The user cache's table (api/user_cache.h): nothing is answered or kept
 * while changes are not heard; a row is answered until USER_CACHE_TTL and
 * not after; a forget or a change heard of while a row was being read
 * keeps that row out; hearing again starts empty.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "api/user_cache.h"

#define NOW	1700000000

static const char *const A = "0b6f3c1e-0000-4000-8000-00000000000a";
static const char *const B = "0b6f3c1e-0000-4000-8000-00000000000b";

static struct user
row(const char *id, const char *name)
{
	struct user u;

	memset(&u, 0, sizeof(u));
	snprintf(u.id, sizeof(u.id), "%s", id);
	snprintf(u.username, sizeof(u.username), "%s", name);
	u.is_active = true;
	u.token_version = 3;
	return u;
}

static void
test_nothing_is_kept_while_changes_are_not_heard(void **state)
{
	struct user_cache *c = user_cache_new(64);
	struct user a = row(A, "alice"), out;

	(void)state;
	assert_non_null(c);
	user_cache_put(c, &a, user_cache_mark(c), NOW);
	assert_false(user_cache_get(c, A, NOW, &out));
	user_cache_hearing(c, true);
	user_cache_put(c, &a, user_cache_mark(c), NOW);
	assert_true(user_cache_get(c, A, NOW, &out));
	assert_string_equal(out.username, "alice");
	/* Deaf again: forgotten, and nothing answered or kept. */
	user_cache_hearing(c, false);
	assert_false(user_cache_get(c, A, NOW, &out));
	user_cache_put(c, &a, user_cache_mark(c), NOW);
	user_cache_hearing(c, true);
	assert_false(user_cache_get(c, A, NOW, &out));
	user_cache_free(c);
}

static void
test_a_row_lives_until_the_ttl(void **state)
{
	struct user_cache *c = user_cache_new(64);
	struct user a = row(A, "alice"), out;

	(void)state;
	user_cache_hearing(c, true);
	user_cache_put(c, &a, user_cache_mark(c), NOW);
	assert_true(user_cache_get(c, A, NOW + USER_CACHE_TTL - 1, &out));
	assert_false(user_cache_get(c, A, NOW + USER_CACHE_TTL, &out));
	assert_false(user_cache_get(c, B, NOW, &out));
	user_cache_free(c);
}

static void
test_a_change_heard_during_a_read_keeps_its_row_out(void **state)
{
	struct user_cache *c = user_cache_new(64);
	struct user a = row(A, "alice"), b = row(B, "bob"), out;
	uint64_t mark;

	(void)state;
	user_cache_hearing(c, true);
	mark = user_cache_mark(c);
	/* A change of any user while A's row was on its way. */
	user_cache_forget(c, B);
	user_cache_put(c, &a, mark, NOW);
	assert_false(user_cache_get(c, A, NOW, &out));
	/* A read that started after it is kept. */
	user_cache_put(c, &a, user_cache_mark(c), NOW);
	user_cache_put(c, &b, user_cache_mark(c), NOW);
	assert_true(user_cache_get(c, A, NOW, &out));
	/* A forget takes that user alone. */
	user_cache_forget(c, A);
	assert_false(user_cache_get(c, A, NOW, &out));
	assert_true(user_cache_get(c, B, NOW, &out));
	assert_string_equal(out.username, "bob");
	user_cache_free(c);
}

static void
test_the_counts(void **state)
{
	struct user_cache *c = user_cache_new(64);
	struct user a = row(A, "alice"), out;
	struct user_cache_stats st;

	(void)state;
	user_cache_hearing(c, true);
	user_cache_put(c, &a, user_cache_mark(c), NOW);
	assert_true(user_cache_get(c, A, NOW, &out));
	assert_false(user_cache_get(c, B, NOW, &out));
	user_cache_stats(c, &st);
	assert_int_equal(st.hits, 1);
	assert_int_equal(st.misses, 1);
	assert_int_equal(st.entries, 1);
	assert_false(st.listening);
	user_cache_stats(NULL, &st);
	assert_int_equal(st.entries, 0);
	user_cache_free(c);
	user_cache_free(NULL);
	assert_null(user_cache_new(0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_nothing_is_kept_while_changes_are_not_heard),
		cmocka_unit_test(test_a_row_lives_until_the_ttl),
		cmocka_unit_test(
		    test_a_change_heard_during_a_read_keeps_its_row_out),
		cmocka_unit_test(test_the_counts),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
