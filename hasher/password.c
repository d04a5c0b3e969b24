/*
 * Argon2id password hashes sealed with the pepper, and their verification;
 * the hashes of other systems go to legacy_hash.c.  No state outside the arguments:
 * the hasher's workers call these concurrently.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "b64url.h"
#include "legacy_hash.h"
#include "password.h"
#include "pwformat.h"
#include "util.h"

#define SEAL_PREFIX	"$warden$v=1$k="
#define ARGON2ID_PREFIX	"$argon2id$"
#define NONCE_LEN	crypto_aead_xchacha20poly1305_ietf_NPUBBYTES	/* 24 */
#define TAG_LEN		crypto_aead_xchacha20poly1305_ietf_ABYTES	/* 16 */
#define STR_LEN		crypto_pwhash_STRBYTES				/* 128 */
/* nonce || ciphertext of an Argon2id string (without its NUL) and tag */
#define BLOB_MAX	(NONCE_LEN + STR_LEN - 1 + TAG_LEN)
#define BLOB_B64_MAX	B64URL_ENCODED_LEN(BLOB_MAX)

/* A typical Argon2id string of libsodium's: "$argon2id$v=19$m=19456,t=2,
 * p=1$" and 22 + 1 + 43 characters of salt and hash.  The dummy
 * verification decrypts a blob of this size. */
#define TYPICAL_STR_LEN	97

_Static_assert(BLOB_B64_MAX + sizeof(SEAL_PREFIX) + PROTO_KID_MAX + 1 <=
    PROTO_STORED_MAX, "a sealed hash fits PROTO_STORED_MAX");

static bool
policy_ok(const struct pw_policy *pol)
{
	return pol != NULL &&
	    pol->memory >= crypto_pwhash_MEMLIMIT_MIN &&
	    pol->memory <= crypto_pwhash_MEMLIMIT_MAX &&
	    pol->memory / 1024 <= UINT32_MAX &&
	    pol->iterations >= crypto_pwhash_OPSLIMIT_MIN &&
	    pol->iterations <= crypto_pwhash_OPSLIMIT_MAX;
}

/* Argon2 and libcrypt want a pointer even for an empty password. */
static const char *
pw_ptr(const uint8_t *password)
{
	return password != NULL ? (const char *)password : "";
}

/* Seals the Argon2id string str for user_id with key k into out. */
static int
seal(const struct pepper_key *k, const char *user_id, const char *str,
    char *out, size_t outlen)
{
	uint8_t			 blob[BLOB_MAX];
	char			 b64[BLOB_B64_MAX + 1];
	unsigned long long	 clen;
	size_t			 slen = strlen(str);
	int			 rc = -1;

	if (slen >= STR_LEN)
		return -1;
	randombytes_buf(blob, NONCE_LEN);
	if (crypto_aead_xchacha20poly1305_ietf_encrypt(blob + NONCE_LEN, &clen,
	    (const uint8_t *)str, slen, (const uint8_t *)user_id,
	    strlen(user_id), NULL, blob, k->key) != 0)
		goto out;
	if (b64url_encode(b64, sizeof(b64), blob, NONCE_LEN + (size_t)clen) == -1)
		goto out;
	if (str_printf(out, outlen, "%s%s$%s", SEAL_PREFIX, k->kid, b64) == -1 ||
	    strlen(out) > PROTO_STORED_MAX)
		goto out;
	rc = 0;
out:
	sodium_memzero(blob, sizeof(blob));
	sodium_memzero(b64, sizeof(b64));
	return rc;
}

int
pw_hash(const struct keyset *ks, const struct pw_policy *pol,
    const char *user_id, const uint8_t *password, size_t password_len,
    char *out, size_t outlen)
{
	const struct pepper_key	*k;
	char			 str[STR_LEN];
	int			 rc = -1;

	if (out == NULL || outlen == 0)
		return -1;
	if (user_id == NULL || (password == NULL && password_len != 0) ||
	    !policy_ok(pol) || (k = keys_pepper_current(ks)) == NULL)
		goto out;
	if (crypto_pwhash_str_alg(str, pw_ptr(password), password_len,
	    pol->iterations, pol->memory, crypto_pwhash_ALG_ARGON2ID13) != 0)
		goto out;
	rc = seal(k, user_id, str, out, outlen);
out:
	sodium_memzero(str, sizeof(str));
	if (rc == -1)
		sodium_memzero(out, outlen);
	return rc;
}

/*
 * Checks password against an Argon2id string (NUL-terminated within
 * STR_LEN bytes).  Sets *match; *weak when it matched with parameters
 * other than the policy's.
 */
static void
argon2id_check(const char str[STR_LEN], const struct pw_policy *pol,
    const uint8_t *password, size_t password_len, bool *match, bool *weak)
{
	*match = crypto_pwhash_str_verify(str, pw_ptr(password),
	    password_len) == 0;
	*weak = *match && crypto_pwhash_str_needs_rehash(str, pol->iterations,
	    pol->memory) != 0;
}

/*
 * Opens a sealed hash.  Returns -1 when it is malformed, names a pepper key
 * we do not hold, or does not unseal for user_id; else 0 with *match, and
 * *rehash when the match used an old pepper key or other parameters.
 */
static int
verify_sealed(const struct keyset *ks, const struct pw_policy *pol,
    const char *user_id, const uint8_t *password, size_t password_len,
    const char *stored, bool *match, bool *rehash)
{
	const struct pepper_key	*k, *cur;
	const char		*kid = stored + strlen(SEAL_PREFIX), *end;
	char			 kidbuf[PROTO_KID_MAX + 1], str[STR_LEN];
	uint8_t			 blob[BLOB_MAX];
	unsigned long long	 mlen;
	ssize_t			 n;
	size_t			 kidlen, b64len;
	bool			 weak;
	int			 rc = -1;

	if ((end = strchr(kid, '$')) == NULL)
		return -1;
	kidlen = (size_t)(end - kid);
	if (kidlen == 0 || kidlen > PROTO_KID_MAX)
		return -1;
	memcpy(kidbuf, kid, kidlen);
	kidbuf[kidlen] = '\0';
	if ((k = keys_pepper_find(ks, kidbuf)) == NULL)
		return -1;
	b64len = strlen(end + 1);
	if (b64len > BLOB_B64_MAX)
		return -1;
	n = b64url_decode(blob, sizeof(blob), end + 1, b64len);
	if (n < (ssize_t)(NONCE_LEN + TAG_LEN + 1))
		goto out;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt((uint8_t *)str, &mlen,
	    NULL, blob + NONCE_LEN, (unsigned long long)n - NONCE_LEN,
	    (const uint8_t *)user_id, strlen(user_id), blob, k->key) != 0)
		goto out;
	/* Authentic, so ours; still, a string libsodium can read or nothing. */
	if (mlen >= STR_LEN || memchr(str, '\0', (size_t)mlen) != NULL)
		goto out;
	str[mlen] = '\0';
	if (strncmp(str, ARGON2ID_PREFIX, strlen(ARGON2ID_PREFIX)) != 0)
		goto out;
	argon2id_check(str, pol, password, password_len, match, &weak);
	cur = keys_pepper_current(ks);
	*rehash = *match && (weak || cur == NULL || cur != k);
	rc = 0;
out:
	sodium_memzero(str, sizeof(str));
	sodium_memzero(blob, sizeof(blob));
	return rc;
}

int
pw_dummy_str(const struct pw_policy *pol, char *str, size_t len)
{
	if (str_printf(str, len, "%sv=19$m=%zu,t=%u,p=1$%s$%s",
	    ARGON2ID_PREFIX, pol->memory / 1024, pol->iterations,
	    "AAAAAAAAAAAAAAAAAAAAAA",
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA") != 0) {
		sodium_memzero(str, len);
		return -1;
	}
	return 0;
}

/*
 * The cost of a real verification for an unknown user: Argon2id with the
 * policy's parameters over a fixed salt and hash that nothing matches,
 * after an unseal attempt like a sealed hash's.  Built from the policy on
 * each call, so no shared state needs a lock.
 */
static void
verify_dummy(const struct keyset *ks, const struct pw_policy *pol,
    const uint8_t *password, size_t password_len)
{
	const struct pepper_key	*k;
	uint8_t			 blob[NONCE_LEN + TYPICAL_STR_LEN + TAG_LEN];
	uint8_t			 plain[TYPICAL_STR_LEN];
	char			 str[STR_LEN];
	unsigned long long	 mlen;

	memset(blob, 0, sizeof(blob));
	if ((k = keys_pepper_current(ks)) != NULL &&
	    crypto_aead_xchacha20poly1305_ietf_decrypt(plain, &mlen, NULL,
	    blob + NONCE_LEN, sizeof(blob) - NONCE_LEN, (const uint8_t *)"", 0,
	    blob, k->key) == 0)
		sodium_memzero(plain, sizeof(plain));	/* 2^-128: never */
	memset(str, 0, sizeof(str));
	if (pw_dummy_str(pol, str, sizeof(str)) == 0 &&
	    crypto_pwhash_str_verify(str, pw_ptr(password), password_len) == 0)
		memset(str, 0, sizeof(str));	/* a match here: never */
}

int
pw_verify(const struct keyset *ks, const struct pw_policy *pol,
    const char *user_id, const uint8_t *password, size_t password_len,
    const char *stored, bool *match, char *rehash, size_t rehashlen)
{
	enum pw_format	 format;
	bool		 ok = false, upgrade = false;
	int		 rc;

	if (rehash != NULL && rehashlen > 0)
		rehash[0] = '\0';
	if (match == NULL)
		return -1;
	*match = false;
	if (ks == NULL || !policy_ok(pol) || user_id == NULL ||
	    (password == NULL && password_len != 0))
		return -1;
	/* No user, or one without a password (an account made by an
	 * upstream sign-in stores "!"): the same work, never a match. */
	if (stored == NULL || stored[0] == '\0' || strcmp(stored, "!") == 0) {
		verify_dummy(ks, pol, password, password_len);
		return 0;
	}
	format = pwformat_of(stored);
	if (format == PWF_WARDEN)
		rc = verify_sealed(ks, pol, user_id, password, password_len,
		    stored, &ok, &upgrade);
	else if (format != PWF_UNKNOWN) {
		/* Another system's hash: replaced by ours at its match. */
		rc = legacy_hash_verify(format, stored, password,
		    password_len, &ok);
		upgrade = ok;
	} else
		rc = -1;
	if (rc == -1)
		return -1;
	*match = ok;
	/* A failed rehash keeps the match: the next login tries again. */
	if (ok && upgrade && rehash != NULL)
		(void)pw_hash(ks, pol, user_id, password, password_len, rehash,
		    rehashlen);
	return 0;
}
