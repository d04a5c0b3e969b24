/*
 * Refresh tokens: 256 random bits, base64url (43 characters), handed to
 * the client once; the database keeps only their SHA-256.
 */
#ifndef WARDEN_REFRESH_H
#define WARDEN_REFRESH_H

#include <stdbool.h>
#include <stddef.h>

#define REFRESH_BYTES		32
#define REFRESH_TOKEN_LEN	43	/* base64url of 32 bytes, no padding */
/* SHA-256 as a bytea literal in hex format: "\x" and 64 hex digits. */
#define REFRESH_HASH_LITERAL	(2 + 64 + 1)

/*
 * Makes a new token into token (REFRESH_TOKEN_LEN + 1 bytes) and the bytea
 * literal of its hash into hash.  Returns 0, or -1 on failure.
 */
int	refresh_new(char token[REFRESH_TOKEN_LEN + 1],
	    char hash[REFRESH_HASH_LITERAL]);

/*
 * Writes the bytea literal of the hash of the len bytes of token.  Returns
 * 0, or -1 when token cannot be one of ours (wrong length or alphabet):
 * the caller answers invalid_grant without asking the database.
 */
int	refresh_hash(const char *token, size_t len,
	    char hash[REFRESH_HASH_LITERAL]);

#endif
