/*
 * The opaque secrets warden hands out once and stores only as a digest:
 * refresh tokens, device tokens, the mfa grant's token and the one-time
 * links of mail.  256 random bits, base64url without padding (43
 * characters); the database keeps the SHA-256 of those 43 characters,
 * passed to PostgreSQL as a bytea literal ("\x" and 64 hex digits).
 */
#ifndef WARDEN_SECRET_TOKEN_H
#define WARDEN_SECRET_TOKEN_H

#include <stddef.h>

#define SECRET_TOKEN_BYTES		32
#define SECRET_TOKEN_LEN		43	/* base64url, no padding */
#define SECRET_TOKEN_HASH_LITERAL	(2 + 64 + 1)	/* "\x...", NUL */

/* A new token and the literal of its hash.  0, or -1 (token wiped). */
int	secret_token_new(char token[SECRET_TOKEN_LEN + 1],
	    char hash[SECRET_TOKEN_HASH_LITERAL]);

/*
 * The literal of the hash of the len bytes of token.  0, or -1 when token
 * cannot be one of ours (wrong length or alphabet): the caller refuses it
 * without asking the database.
 */
int	secret_token_hash(const char *token, size_t len,
	    char hash[SECRET_TOKEN_HASH_LITERAL]);

#endif
