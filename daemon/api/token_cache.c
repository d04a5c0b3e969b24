/*
 * The verified-token cache: sets of TOKEN_CACHE_WAYS entries; a key's set
 * is picked by four bytes of the key (a keyed hash: spread evenly).  An
 * entry whose until is 0 is empty.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "token_cache.h"

struct entry {
	uint8_t		 key[TOKEN_CACHE_KEY_LEN];
	int64_t		 until;		/* 0: empty */
	struct jwt_claims claims;
};

struct token_cache {
	struct entry	*entries;
	size_t		 nsets;		/* a power of two */
	size_t		 count;
	uint64_t	 hits;
	uint64_t	 misses;
	uint8_t		 secret[crypto_generichash_KEYBYTES];
};

struct token_cache *
token_cache_new(size_t entries)
{
	struct token_cache *c;
	size_t n = TOKEN_CACHE_WAYS;

	if (entries == 0 || entries > (SIZE_MAX / 2) / sizeof(struct entry))
		return NULL;
	while (n < entries)
		n <<= 1;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if ((c->entries = calloc(n, sizeof(*c->entries))) == NULL) {
		free(c);
		return NULL;
	}
	c->nsets = n / TOKEN_CACHE_WAYS;
	randombytes_buf(c->secret, sizeof(c->secret));
	return c;
}

void
token_cache_free(struct token_cache *c)
{
	if (c == NULL)
		return;
	token_cache_clear(c);
	sodium_memzero(c->secret, sizeof(c->secret));
	free(c->entries);
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

static struct entry *
set_of(struct token_cache *c, const uint8_t *key)
{
	uint32_t h;

	memcpy(&h, key, sizeof(h));
	return &c->entries[(h & (c->nsets - 1)) * TOKEN_CACHE_WAYS];
}

static struct entry *
find(struct token_cache *c, const uint8_t *key)
{
	struct entry *set = set_of(c, key);
	size_t	 i;

	for (i = 0; i < TOKEN_CACHE_WAYS; i++)
		if (set[i].until != 0 && sodium_memcmp(set[i].key, key,
		    TOKEN_CACHE_KEY_LEN) == 0)
			return &set[i];
	return NULL;
}

static void
wipe(struct token_cache *c, struct entry *e)
{
	if (e->until != 0)
		c->count--;
	sodium_memzero(e, sizeof(*e));
}

bool
token_cache_lookup(struct token_cache *c,
    const uint8_t key[TOKEN_CACHE_KEY_LEN], int64_t now,
    struct jwt_claims *out)
{
	struct entry *e;

	if ((e = find(c, key)) == NULL) {
		c->misses++;
		return false;
	}
	if (now >= e->until) {
		wipe(c, e);
		c->misses++;
		return false;
	}
	*out = e->claims;
	c->hits++;
	return true;
}

void
token_cache_store(struct token_cache *c,
    const uint8_t key[TOKEN_CACHE_KEY_LEN], int64_t until,
    const struct jwt_claims *claims)
{
	struct entry *set, *e;
	size_t	 i;

	if (until <= 0)
		return;
	if ((e = find(c, key)) == NULL) {
		/* An empty way, else the one that dies first. */
		set = set_of(c, key);
		e = &set[0];
		for (i = 0; i < TOKEN_CACHE_WAYS && e->until != 0; i++)
			if (set[i].until < e->until || set[i].until == 0)
				e = &set[i];
	}
	wipe(c, e);
	memcpy(e->key, key, TOKEN_CACHE_KEY_LEN);
	e->until = until;
	e->claims = *claims;
	c->count++;
}

void
token_cache_forget(struct token_cache *c,
    const uint8_t key[TOKEN_CACHE_KEY_LEN])
{
	struct entry *e;

	if ((e = find(c, key)) != NULL)
		wipe(c, e);
}

void
token_cache_clear(struct token_cache *c)
{
	size_t	 i, n = c->nsets * TOKEN_CACHE_WAYS;

	/* Only entries in use are written: the others were never touched,
	 * and writing them would make the kernel back them. */
	for (i = 0; i < n && c->count > 0; i++)
		if (c->entries[i].until != 0)
			wipe(c, &c->entries[i]);
}

void
token_cache_stats(const struct token_cache *c, struct token_cache_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (c == NULL)
		return;
	st->hits = c->hits;
	st->misses = c->misses;
	st->entries = c->count;
	st->capacity = c->nsets * TOKEN_CACHE_WAYS;
}
