/*
 * The verified-token cache: what jwt_verify() said of an access token
 * seen before, so that forward-auth and the bearer routes check an
 * Ed25519 signature and parse the claims once per token, not once per
 * request.
 *
 * Keyed by a BLAKE2b-256 of the token under a key of this process, drawn
 * at start (never the token itself: the table holds no credential, and
 * nobody outside can aim tokens at one set).  The key also covers whether
 * the token was verified as a first-party or as a client's token, so that
 * neither passes for the other.  An entry holds the verified claims and
 * dies when the token does: at its exp plus the leeway jwt_verify()
 * grants.  Only a token that verified is stored; a refused one is checked
 * again each time.
 *
 * What the cache does not decide: revocation.  Every request still asks
 * api/revocations.h (forward-auth) or the user's row (bearer routes)
 * after the cache, so a logout, a disable or a changed role applies to a
 * cached token at once.  A key the hasher no longer publishes stops its
 * cached tokens too: the caller checks the kid against the current key
 * set on every hit.
 *
 * A memo (memo.h): a fixed table allocated once, a store into a full set
 * replacing the entry that dies first.  One event loop thread: nothing
 * here is thread-safe.  Pure table, no loop: unit-tested.
 */
#ifndef WARDEN_TOKEN_CACHE_H
#define WARDEN_TOKEN_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jwt_verify.h"
#include "memo.h"

#define TOKEN_CACHE_ENTRIES	8192	/* wardend's: about 16 MiB when full */
#define TOKEN_CACHE_WAYS	MEMO_WAYS
#define TOKEN_CACHE_KEY_LEN	MEMO_KEY_LEN

struct token_cache;

/* A cache of entries slots (rounded up to a power of two of at least
 * TOKEN_CACHE_WAYS); NULL when entries is 0 or memory runs out.
 * libsodium must be initialised (the key is drawn here). */
struct token_cache *token_cache_new(size_t entries);

/* Frees c (NULL is fine), wiping what it held. */
void	token_cache_free(struct token_cache *c);

/* The key of the len bytes of token, verified as a client's token or
 * not. */
void	token_cache_key(const struct token_cache *c, const char *token,
	    size_t len, bool client, uint8_t key[TOKEN_CACHE_KEY_LEN]);

/*
 * Copies the claims of key into *out when it is held and still alive at
 * now (Unix seconds); false otherwise (a miss, counted).
 */
bool	token_cache_lookup(struct token_cache *c,
	    const uint8_t key[TOKEN_CACHE_KEY_LEN], int64_t now,
	    struct jwt_claims *out);

/*
 * Stores the claims of a token that verified, alive until (not including)
 * until (Unix seconds): its exp plus the leeway.
 */
void	token_cache_store(struct token_cache *c,
	    const uint8_t key[TOKEN_CACHE_KEY_LEN], int64_t until,
	    const struct jwt_claims *claims);

/* Forgets the entry of key (none is fine). */
void	token_cache_forget(struct token_cache *c,
	    const uint8_t key[TOKEN_CACHE_KEY_LEN]);

/* Forgets everything. */
void	token_cache_clear(struct token_cache *c);

struct token_cache_stats {
	uint64_t	hits;
	uint64_t	misses;
	size_t		entries;	/* held, alive or not yet replaced */
	size_t		capacity;
};

void	token_cache_stats(const struct token_cache *c,
	    struct token_cache_stats *st);

#endif
