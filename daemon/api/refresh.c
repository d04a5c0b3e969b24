#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "b64url.h"
#include "refresh.h"

static void
hash_literal(const char *token, size_t len, char hash[REFRESH_HASH_LITERAL])
{
	uint8_t	 digest[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(digest, (const unsigned char *)token, len);
	hash[0] = '\\';
	hash[1] = 'x';
	sodium_bin2hex(hash + 2, REFRESH_HASH_LITERAL - 2, digest,
	    sizeof(digest));
}

int
refresh_new(char token[REFRESH_TOKEN_LEN + 1], char hash[REFRESH_HASH_LITERAL])
{
	uint8_t	 raw[REFRESH_BYTES];

	randombytes_buf(raw, sizeof(raw));
	if (b64url_encode(token, REFRESH_TOKEN_LEN + 1, raw, sizeof(raw)) !=
	    REFRESH_TOKEN_LEN) {
		sodium_memzero(raw, sizeof(raw));
		return -1;
	}
	sodium_memzero(raw, sizeof(raw));
	hash_literal(token, REFRESH_TOKEN_LEN, hash);
	return 0;
}

int
refresh_hash(const char *token, size_t len, char hash[REFRESH_HASH_LITERAL])
{
	uint8_t	 raw[REFRESH_BYTES + 2];

	if (len != REFRESH_TOKEN_LEN ||
	    b64url_decode(raw, sizeof(raw), token, len) != REFRESH_BYTES) {
		sodium_memzero(raw, sizeof(raw));
		return -1;
	}
	sodium_memzero(raw, sizeof(raw));
	hash_literal(token, len, hash);
	return 0;
}
