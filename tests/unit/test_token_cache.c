/*
 * The verified-token cache (api/token_cache.h): a stored token's claims
 * come back until the moment it dies and not after; the same token
 * verified as a client's is another entry; two caches key the same token
 * differently; a full set gives up the entry that dies first; forget and
 * clear leave nothing to find; the counts follow.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "api/token_cache.h"

#define NOW	1700000000

static struct jwt_claims
claims_of(const char *sub)
{
	struct jwt_claims c;

	memset(&c, 0, sizeof(c));
	snprintf(c.sub, sizeof(c.sub), "%s", sub);
	snprintf(c.username, sizeof(c.username), "alice");
	c.nroles = 1;
	snprintf(c.roles[0], sizeof(c.roles[0]), "admin");
	c.ver = 7;
	c.exp = NOW + 300;
	return c;
}

static void
test_a_stored_token_is_found_until_it_dies(void **state)
{
	struct token_cache *c = token_cache_new(64);
	struct jwt_claims in = claims_of("u1"), out;
	uint8_t	 k[TOKEN_CACHE_KEY_LEN];

	(void)state;
	assert_non_null(c);
	token_cache_key(c, "aaa.bbb.ccc", 11, false, k);
	assert_false(token_cache_lookup(c, k, NOW, &out));
	token_cache_store(c, k, NOW + 360, &in);
	memset(&out, 0, sizeof(out));
	assert_true(token_cache_lookup(c, k, NOW + 359, &out));
	assert_string_equal(out.sub, "u1");
	assert_string_equal(out.roles[0], "admin");
	assert_int_equal(out.ver, 7);
	assert_false(token_cache_lookup(c, k, NOW + 360, &out));
	/* Dead is gone: a look-up at an earlier time finds nothing either. */
	assert_false(token_cache_lookup(c, k, NOW, &out));
	token_cache_free(c);
}

static void
test_a_clients_token_is_another_entry(void **state)
{
	struct token_cache *c = token_cache_new(64);
	struct jwt_claims in = claims_of("u1"), out;
	uint8_t	 kf[TOKEN_CACHE_KEY_LEN], kc[TOKEN_CACHE_KEY_LEN];

	(void)state;
	token_cache_key(c, "aaa.bbb.ccc", 11, false, kf);
	token_cache_key(c, "aaa.bbb.ccc", 11, true, kc);
	assert_memory_not_equal(kf, kc, TOKEN_CACHE_KEY_LEN);
	token_cache_store(c, kf, NOW + 60, &in);
	assert_false(token_cache_lookup(c, kc, NOW, &out));
	assert_true(token_cache_lookup(c, kf, NOW, &out));
	token_cache_free(c);
}

static void
test_each_cache_keys_with_its_own_secret(void **state)
{
	struct token_cache *a = token_cache_new(8), *b = token_cache_new(8);
	uint8_t	 ka[TOKEN_CACHE_KEY_LEN], kb[TOKEN_CACHE_KEY_LEN];
	uint8_t	 plain[TOKEN_CACHE_KEY_LEN];

	(void)state;
	token_cache_key(a, "t", 1, false, ka);
	token_cache_key(b, "t", 1, false, kb);
	assert_memory_not_equal(ka, kb, TOKEN_CACHE_KEY_LEN);
	/* Nor is it the token's unkeyed hash. */
	crypto_generichash(plain, sizeof(plain), (const uint8_t *)"ft", 2,
	    NULL, 0);
	assert_memory_not_equal(ka, plain, TOKEN_CACHE_KEY_LEN);
	token_cache_free(a);
	token_cache_free(b);
}

static void
test_a_full_set_gives_up_the_entry_that_dies_first(void **state)
{
	/* One set of TOKEN_CACHE_WAYS ways: every key lands in it. */
	struct token_cache *c = token_cache_new(TOKEN_CACHE_WAYS);
	struct jwt_claims in = claims_of("u"), out;
	uint8_t	 k[TOKEN_CACHE_WAYS + 1][TOKEN_CACHE_KEY_LEN];
	struct token_cache_stats st;
	char	 tok[16];
	int	 i;

	(void)state;
	assert_non_null(c);
	for (i = 0; i <= TOKEN_CACHE_WAYS; i++) {
		snprintf(tok, sizeof(tok), "t%d", i);
		token_cache_key(c, tok, strlen(tok), false, k[i]);
	}
	/* Entry 2 dies first. */
	for (i = 0; i < TOKEN_CACHE_WAYS; i++)
		token_cache_store(c, k[i], i == 2 ? NOW + 10 : NOW + 100 + i,
		    &in);
	token_cache_stats(c, &st);
	assert_int_equal(st.entries, TOKEN_CACHE_WAYS);
	assert_int_equal(st.capacity, TOKEN_CACHE_WAYS);
	token_cache_store(c, k[TOKEN_CACHE_WAYS], NOW + 50, &in);
	token_cache_stats(c, &st);
	assert_int_equal(st.entries, TOKEN_CACHE_WAYS);
	assert_false(token_cache_lookup(c, k[2], NOW, &out));
	for (i = 0; i <= TOKEN_CACHE_WAYS; i++)
		if (i != 2)
			assert_true(token_cache_lookup(c, k[i], NOW, &out));
	/* Storing a key again replaces its entry, not another. */
	token_cache_store(c, k[0], NOW + 500, &in);
	token_cache_stats(c, &st);
	assert_int_equal(st.entries, TOKEN_CACHE_WAYS);
	assert_true(token_cache_lookup(c, k[1], NOW, &out));
	token_cache_free(c);
}

static void
test_forget_and_clear_leave_nothing(void **state)
{
	struct token_cache *c = token_cache_new(64);
	struct jwt_claims in = claims_of("u"), out;
	uint8_t	 k1[TOKEN_CACHE_KEY_LEN], k2[TOKEN_CACHE_KEY_LEN];
	struct token_cache_stats st;

	(void)state;
	token_cache_key(c, "one", 3, false, k1);
	token_cache_key(c, "two", 3, false, k2);
	token_cache_store(c, k1, NOW + 60, &in);
	token_cache_store(c, k2, NOW + 60, &in);
	token_cache_forget(c, k1);
	token_cache_forget(c, k1);	/* twice is fine */
	assert_false(token_cache_lookup(c, k1, NOW, &out));
	assert_true(token_cache_lookup(c, k2, NOW, &out));
	token_cache_clear(c);
	assert_false(token_cache_lookup(c, k2, NOW, &out));
	token_cache_stats(c, &st);
	assert_int_equal(st.entries, 0);
	assert_int_equal(st.hits, 1);
	assert_int_equal(st.misses, 2);
	/* A store that cannot live is not kept. */
	token_cache_store(c, k1, 0, &in);
	assert_false(token_cache_lookup(c, k1, NOW, &out));
	token_cache_free(c);
	token_cache_free(NULL);
	token_cache_stats(NULL, &st);
	assert_int_equal(st.capacity, 0);
	assert_null(token_cache_new(0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_stored_token_is_found_until_it_dies),
		cmocka_unit_test(test_a_clients_token_is_another_entry),
		cmocka_unit_test(test_each_cache_keys_with_its_own_secret),
		cmocka_unit_test(
		    test_a_full_set_gives_up_the_entry_that_dies_first),
		cmocka_unit_test(test_forget_and_clear_leave_nothing),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
