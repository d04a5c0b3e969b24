/*
 * Argon2id password hashes sealed with the pepper, and the verification of
 * those, of plain Argon2id and of bcrypt.  No state outside the arguments:
 * the hasher's workers call these concurrently.
 */
#include <crypt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "b64url.h"
#include "password.h"
#include "util.h"

#define SEAL_PREFIX	"$warden$v=1$k="
#define ARGON2ID_PREFIX	"$argon2id$"
#define NONCE_LEN	crypto_aead_xchacha20poly1305_ietf_NPUBBYTES	/* 24 */
#define TAG_LEN		crypto_aead_xchacha20poly1305_ietf_ABYTES	/* 16 */
#define STR_LEN		crypto_pwhash_STRBYTES				/* 128 */
/* nonce || ciphertext of an Argon2id string (without its NUL) and tag */
#define BLOB_MAX	(NONCE_LEN + STR_LEN - 1 + TAG_LEN)
#define BLOB_B64_MAX	B64URL_ENCODED_LEN(BLOB_MAX)
#define BCRYPT_LEN	60

/*
 * Bounds on what an imported (not sealed, so not ours) hash may ask for, so
 * that a hostile row cannot make one verification take gigabytes or hours.
 * A policy above them raises them.
 */
#define IMPORT_MEMORY_MAX	((size_t)256 * 1024 * 1024)
#define IMPORT_ITERATIONS_MAX	16U
#define IMPORT_LANES_MAX	16U
#define BCRYPT_COST_MAX		16	/* 2^16 rounds: a few seconds */

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

/* Reads a decimal number of at most 10 digits (no sign, no blanks) at *s
 * and advances past it. */
static bool
parse_u32(const char **s, uint32_t *out)
{
	uint64_t	v = 0;
	int		n = 0;

	while (**s >= '0' && **s <= '9' && n < 10) {
		v = v * 10 + (uint64_t)(**s - '0');
		(*s)++;
		n++;
	}
	if (n == 0 || (**s >= '0' && **s <= '9') || v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

static bool
expect(const char **s, const char *lit)
{
	size_t n = strlen(lit);

	if (strncmp(*s, lit, n) != 0)
		return false;
	*s += n;
	return true;
}

/*
 * Checks the parameters of an Argon2id string we did not make ourselves:
 * exactly "$argon2id$v=19$m=M,t=T,p=P$" (what libsodium verifies) with
 * costs within the import bounds or the policy.
 */
static bool
argon2id_params_ok(const char *str, const struct pw_policy *pol)
{
	uint32_t	 m, t, p;
	size_t		 mem_max = IMPORT_MEMORY_MAX;
	unsigned int	 it_max = IMPORT_ITERATIONS_MAX;

	if (!expect(&str, ARGON2ID_PREFIX "v=19$m=") || !parse_u32(&str, &m) ||
	    !expect(&str, ",t=") || !parse_u32(&str, &t) ||
	    !expect(&str, ",p=") || !parse_u32(&str, &p) || *str != '$')
		return false;
	if (pol->memory > mem_max)
		mem_max = pol->memory;
	if (pol->iterations > it_max)
		it_max = pol->iterations;
	return (size_t)m <= mem_max / 1024 && t >= 1 && t <= it_max &&
	    p >= 1 && p <= IMPORT_LANES_MAX;
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

/* A plain Argon2id string: always upgraded (sealed) on a match. */
static int
verify_argon2id(const struct pw_policy *pol, const uint8_t *password,
    size_t password_len, const char *stored, bool *match, bool *rehash)
{
	char	 str[STR_LEN];
	size_t	 len = strlen(stored);
	bool	 weak;

	if (len >= STR_LEN || !argon2id_params_ok(stored, pol))
		return -1;
	/* A copy of libsodium's full length: it may look at all STR_LEN. */
	memset(str, 0, sizeof(str));
	memcpy(str, stored, len);
	argon2id_check(str, pol, password, password_len, match, &weak);
	*rehash = *match;
	sodium_memzero(str, sizeof(str));
	return 0;
}

static bool
is_bcrypt(const char *s)
{
	return s[0] == '$' && s[1] == '2' &&
	    (s[2] == 'a' || s[2] == 'b' || s[2] == 'y') && s[3] == '$';
}

/* "$2b$NN$" + 53 characters of salt and hash, NN in 04..BCRYPT_COST_MAX. */
static bool
bcrypt_ok(const char *s)
{
	int cost;

	if (strlen(s) != BCRYPT_LEN || !is_bcrypt(s) ||
	    s[4] < '0' || s[4] > '9' || s[5] < '0' || s[5] > '9' || s[6] != '$')
		return false;
	cost = (s[4] - '0') * 10 + (s[5] - '0');
	return cost >= 4 && cost <= BCRYPT_COST_MAX;
}

/* A bcrypt hash via libcrypt; always upgraded on a match.  bcrypt reads a
 * C string, so a password with a NUL byte in it never matches. */
static int
verify_bcrypt(const uint8_t *password, size_t password_len,
    const char *stored, bool *match, bool *rehash)
{
	struct crypt_data	*cd;
	char			 phrase[PROTO_PASSWORD_MAX + 1];
	const char		*out;

	if (!bcrypt_ok(stored))
		return -1;
	if (password_len > PROTO_PASSWORD_MAX ||
	    (password_len > 0 && memchr(password, '\0', password_len) != NULL))
		return 0;
	/* About 32 KiB: too big for a worker's stack. */
	if ((cd = calloc(1, sizeof(*cd))) == NULL)
		return -1;
	if (password_len > 0)
		memcpy(phrase, password, password_len);
	phrase[password_len] = '\0';
	out = crypt_rn(phrase, stored, cd, (int)sizeof(*cd));
	*match = out != NULL && strlen(out) == BCRYPT_LEN &&
	    sodium_memcmp(out, stored, BCRYPT_LEN) == 0;
	*rehash = *match;
	sodium_memzero(phrase, sizeof(phrase));
	sodium_memzero(cd, sizeof(*cd));
	free(cd);
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
	if (str_printf(str, sizeof(str), "%sv=19$m=%zu,t=%u,p=1$%s$%s",
	    ARGON2ID_PREFIX, pol->memory / 1024, pol->iterations,
	    "AAAAAAAAAAAAAAAAAAAAAA",
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA") == 0 &&
	    crypto_pwhash_str_verify(str, pw_ptr(password), password_len) == 0)
		memset(str, 0, sizeof(str));	/* a match here: never */
}

int
pw_verify(const struct keyset *ks, const struct pw_policy *pol,
    const char *user_id, const uint8_t *password, size_t password_len,
    const char *stored, bool *match, char *rehash, size_t rehashlen)
{
	bool	 ok = false, upgrade = false;
	int	 rc;

	if (rehash != NULL && rehashlen > 0)
		rehash[0] = '\0';
	if (match == NULL)
		return -1;
	*match = false;
	if (ks == NULL || !policy_ok(pol) || user_id == NULL ||
	    (password == NULL && password_len != 0))
		return -1;
	if (stored == NULL || stored[0] == '\0') {
		verify_dummy(ks, pol, password, password_len);
		return 0;
	}
	if (strncmp(stored, SEAL_PREFIX, strlen(SEAL_PREFIX)) == 0)
		rc = verify_sealed(ks, pol, user_id, password, password_len,
		    stored, &ok, &upgrade);
	else if (strncmp(stored, ARGON2ID_PREFIX, strlen(ARGON2ID_PREFIX)) == 0)
		rc = verify_argon2id(pol, password, password_len, stored, &ok,
		    &upgrade);
	else if (is_bcrypt(stored))
		rc = verify_bcrypt(password, password_len, stored, &ok,
		    &upgrade);
	else
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
