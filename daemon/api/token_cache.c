/*
 * The verified-token cache: a memo (memo.h) of claims, keyed by a keyed
 * BLAKE2b of the token.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "memo.h"
#include "token_cache.h"

struct token_cache {
	struct memo	*memo;
	uint8_t		 secret[crypto_generichash_KEYBYTES];
};

struct token_cache *
token_cache_new(size_t entries)
{
	struct token_cache *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if ((c->memo = memo_new(entries, sizeof(struct jwt_claims))) == NULL) {
		free(c);
		return NULL;
	}
	randombytes_buf(c->secret, sizeof(c->secret));
	return c;
}

void
token_cache_free(struct token_cache *c)
{
	if (c == NULL)
		return;
	memo_free(c->memo);
	sodium_memzero(c->secret, sizeof(c->secret));
	free(c);
}

void
token_cache_key(const struct token_cache *c, const char *token, size_t len,
    bool client, uint8_t key[TOKEN_CACHE_KEY_LEN])
{
	crypto_generichash_state st;
	const uint8_t kind = client ? 'c' : 'f';

	crypto_generichash_init(&st, c->secret, sizeof(c->secret),
	    TOKEN_CACHE_KEY_LEN);
	crypto_generichash_update(&st, &kind, 1);
	crypto_generichash_update(&st, (const uint8_t *)token, len);
	crypto_generichash_final(&st, key, TOKEN_CACHE_KEY_LEN);
}

bool
token_cache_lookup(struct token_cache *c,
    const uint8_t key[TOKEN_CACHE_KEY_LEN], int64_t now,
    struct jwt_claims *out)
{
	const struct jwt_claims *held;

	if ((held = memo_get(c->memo, key, now)) == NULL)
		return false;
	*out = *held;
	return true;
}

void
token_cache_store(struct token_cache *c,
    const uint8_t key[TOKEN_CACHE_KEY_LEN], int64_t until,
    const struct jwt_claims *claims)
{
	struct jwt_claims *slot;

	if ((slot = memo_put(c->memo, key, until)) != NULL)
		*slot = *claims;
}

void
token_cache_forget(struct token_cache *c,
    const uint8_t key[TOKEN_CACHE_KEY_LEN])
{
	memo_forget(c->memo, key);
}

void
token_cache_clear(struct token_cache *c)
{
	memo_clear(c->memo);
}

void
token_cache_stats(const struct token_cache *c, struct token_cache_stats *st)
{
	struct memo_stats ms;

	memo_stats(c != NULL ? c->memo : NULL, &ms);
	st->hits = ms.hits;
	st->misses = ms.misses;
	st->entries = ms.entries;
	st->capacity = ms.capacity;
}
