/*
 * Recovery codes and their keyed hashes.  See recovery.h.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "recovery.h"

#define KDF_CONTEXT	"wrecover"	/* crypto_kdf_CONTEXTBYTES: 8 */
#define KDF_ID		1
#define HASH_BYTES	(PROTO_RECOVERY_HASH_LEN / 2)

_Static_assert(sizeof(KDF_CONTEXT) - 1 == crypto_kdf_CONTEXTBYTES,
    "a KDF context is 8 bytes");
_Static_assert(HASH_BYTES >= crypto_generichash_BYTES_MIN &&
    HASH_BYTES <= crypto_generichash_BYTES_MAX, "a BLAKE2b output size");

static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

static bool
is_b32(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7');
}

int
recovery_normalise(const char *code, char *out)
{
	size_t i, n = 0;
	char c;

	if (out == NULL)
		return -1;
	out[0] = '\0';
	if (code == NULL)
		return -1;
	for (i = 0; code[i] != '\0' && i < PROTO_RECOVERY_INPUT_MAX; i++) {
		c = code[i];
		if (c == ' ' || c == '\t' || c == '-')
			continue;
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if (!is_b32(c) || n == PROTO_RECOVERY_CODE_LEN)
			goto bad;
		out[n++] = c;
	}
	if (code[i] != '\0' || n != PROTO_RECOVERY_CODE_LEN)
		goto bad;
	out[n] = '\0';
	return 0;
bad:
	sodium_memzero(out, PROTO_RECOVERY_CODE_LEN + 1);
	return -1;
}

/* The keyed hash of a normalised code: a subkey of the current pepper
 * key over user_id || code, in hex. */
static int
hash_code(const struct keyset *ks, const char *user_id, const char *code,
    char *hash)
{
	const struct pepper_key		*k;
	crypto_generichash_state	 st;
	uint8_t				 sub[crypto_generichash_KEYBYTES];
	uint8_t				 out[HASH_BYTES];
	size_t				 ulen;
	int				 rc = -1;

	if ((k = keys_pepper_current(ks)) == NULL || user_id == NULL ||
	    (ulen = strnlen(user_id, PROTO_UUID_LEN + 1)) > PROTO_UUID_LEN)
		return -1;
	if (crypto_kdf_derive_from_key(sub, sizeof(sub), KDF_ID, KDF_CONTEXT,
	    k->key) != 0)
		goto out;
	if (crypto_generichash_init(&st, sub, sizeof(sub), sizeof(out)) != 0 ||
	    crypto_generichash_update(&st, (const uint8_t *)user_id,
	    ulen) != 0 ||
	    crypto_generichash_update(&st, (const uint8_t *)code,
	    PROTO_RECOVERY_CODE_LEN) != 0 ||
	    crypto_generichash_final(&st, out, sizeof(out)) != 0)
		goto out;
	sodium_bin2hex(hash, PROTO_RECOVERY_HASH_LEN + 1, out, sizeof(out));
	rc = 0;
out:
	sodium_memzero(&st, sizeof(st));
	sodium_memzero(sub, sizeof(sub));
	sodium_memzero(out, sizeof(out));
	return rc;
}

int
recovery_hash(const struct keyset *ks, const char *user_id, const char *code,
    char *hash)
{
	char	norm[PROTO_RECOVERY_CODE_LEN + 1];
	int	rc = -1;

	if (hash == NULL)
		return -1;
	hash[0] = '\0';
	if (recovery_normalise(code, norm) == 0)
		rc = hash_code(ks, user_id, norm, hash);
	sodium_memzero(norm, sizeof(norm));
	if (rc == -1)
		sodium_memzero(hash, PROTO_RECOVERY_HASH_LEN + 1);
	return rc;
}

int
recovery_new(const struct keyset *ks, const char *user_id,
    struct proto_recovery_new_ans *ans)
{
	size_t i, j;
	bool dup;

	if (ans == NULL)
		return -1;
	sodium_memzero(ans, sizeof(*ans));
	for (i = 0; i < PROTO_RECOVERY_CODES; i++) {
		/* Distinct codes, so distinct hashes (the front checks). */
		do {
			for (j = 0; j < PROTO_RECOVERY_CODE_LEN; j++)
				ans->codes[i][j] = b32[randombytes_uniform(32)];
			ans->codes[i][j] = '\0';
			dup = false;
			for (j = 0; j < i; j++)
				if (strcmp(ans->codes[i], ans->codes[j]) == 0)
					dup = true;
		} while (dup);
		if (hash_code(ks, user_id, ans->codes[i],
		    ans->hashes[i]) == -1) {
			sodium_memzero(ans, sizeof(*ans));
			return -1;
		}
	}
	ans->n = PROTO_RECOVERY_CODES;
	return 0;
}
