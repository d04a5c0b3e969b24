/*
 * secret_token.h: libsodium's randomness and SHA-256, our base64url.
 */
#include <stdint.h>

#include <sodium.h>

#include "b64url.h"
#include "secret_token.h"

static void
hash_literal(const char *token, size_t len,
    char hash[SECRET_TOKEN_HASH_LITERAL])
{
	uint8_t	 digest[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(digest, (const unsigned char *)token, len);
	hash[0] = '\\';
	hash[1] = 'x';
	sodium_bin2hex(hash + 2, SECRET_TOKEN_HASH_LITERAL - 2, digest,
	    sizeof(digest));
}

int
secret_token_new(char token[SECRET_TOKEN_LEN + 1],
    char hash[SECRET_TOKEN_HASH_LITERAL])
{
	uint8_t	 raw[SECRET_TOKEN_BYTES];

	randombytes_buf(raw, sizeof(raw));
	if (b64url_encode(token, SECRET_TOKEN_LEN + 1, raw, sizeof(raw)) !=
	    SECRET_TOKEN_LEN) {
		sodium_memzero(raw, sizeof(raw));
		sodium_memzero(token, SECRET_TOKEN_LEN + 1);
		return -1;
	}
	sodium_memzero(raw, sizeof(raw));
	hash_literal(token, SECRET_TOKEN_LEN, hash);
	return 0;
}

int
secret_token_hash(const char *token, size_t len,
    char hash[SECRET_TOKEN_HASH_LITERAL])
{
	uint8_t	 raw[SECRET_TOKEN_BYTES + 2];

	if (len != SECRET_TOKEN_LEN ||
	    b64url_decode(raw, sizeof(raw), token, len) !=
	    SECRET_TOKEN_BYTES) {
		sodium_memzero(raw, sizeof(raw));
		return -1;
	}
	sodium_memzero(raw, sizeof(raw));
	hash_literal(token, len, hash);
	return 0;
}
