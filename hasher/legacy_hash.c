/*
 * legacy_hash.h: each format hands its work to the library that owns the
 * algorithm; this file only takes the stored string apart (its syntax and
 * bounds already checked by pwformat_of) and compares in constant time.
 */
#include <crypt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "legacy_hash.h"
#include "proto.h"
#include "pwformat.h"

#define PBKDF2_BUF	(PWF_PBKDF2_KEY_MAX + 2)	/* room for "too long" */

/* Argon2 wants a pointer even for an empty password. */
static const char *
pw_ptr(const uint8_t *password)
{
	return password != NULL ? (const char *)password : "";
}

int
legacy_hash_init(void)
{
	uint8_t	 out[16];
	int	 ok;

	/* The first use loads OpenSSL's configuration and providers. */
	ok = PKCS5_PBKDF2_HMAC("", 0, (const unsigned char *)"s", 1, 1,
	    EVP_sha256(), sizeof(out), out) == 1 &&
	    PKCS5_PBKDF2_HMAC("", 0, (const unsigned char *)"s", 1, 1,
	    EVP_sha512(), sizeof(out), out) == 1;
	return ok ? 0 : -1;
}

/* A plain Argon2id or Argon2i string, in a copy of libsodium's length. */
static int
verify_argon2(const char *stored, const uint8_t *password,
    size_t password_len, bool *match)
{
	char	 str[crypto_pwhash_STRBYTES];
	size_t	 len = strlen(stored);

	if (len >= sizeof(str))
		return -1;
	memset(str, 0, sizeof(str));
	memcpy(str, stored, len);
	*match = crypto_pwhash_str_verify(str, pw_ptr(password),
	    password_len) == 0;
	sodium_memzero(str, sizeof(str));
	return 0;
}

/* bcrypt, sha512-crypt and yescrypt: crypt_rn rehashes with the stored
 * setting, and the whole output must be the stored string. */
static int
verify_crypt(const char *stored, const uint8_t *password,
    size_t password_len, bool *match)
{
	struct crypt_data	*cd;
	char			 phrase[PROTO_PASSWORD_MAX + 1];
	const char		*out;
	size_t			 len = strlen(stored);

	if (password_len > PROTO_PASSWORD_MAX ||
	    (password_len > 0 && memchr(password, '\0', password_len) != NULL))
		return 0;	/* crypt(3) reads a C string: never a match */
	/* About 32 KiB: too big for a worker's stack. */
	if ((cd = calloc(1, sizeof(*cd))) == NULL)
		return -1;
	if (password_len > 0)
		memcpy(phrase, password, password_len);
	phrase[password_len] = '\0';
	out = crypt_rn(phrase, stored, cd, (int)sizeof(*cd));
	*match = out != NULL && out[0] != '*' && strlen(out) == len &&
	    sodium_memcmp(out, stored, len) == 0;
	sodium_memzero(phrase, sizeof(phrase));
	sodium_memzero(cd, sizeof(*cd));
	free(cd);
	return 0;
}

/* Decodes len characters of base64 at s (passlib's adapted alphabet when
 * adapted: '.' for '+') into out.  The number of bytes, or -1. */
static int
b64_field(const char *s, size_t len, bool adapted, bool padded, uint8_t *out,
    size_t outlen)
{
	char	 buf[128];
	size_t	 i, n;

	if (len >= sizeof(buf))
		return -1;
	for (i = 0; i < len; i++)
		buf[i] = adapted && s[i] == '.' ? '+' : s[i];
	buf[len] = '\0';
	if (sodium_base642bin(out, outlen, buf, len, NULL, &n, NULL, padded ?
	    sodium_base64_VARIANT_ORIGINAL :
	    sodium_base64_VARIANT_ORIGINAL_NO_PADDING) != 0)
		return -1;
	return (int)n;
}

/*
 * PBKDF2: "pbkdf2_sha256$ITER$SALT$KEY" (Django: the salt is text, the key
 * padded base64) or "$pbkdf2-sha256$ITER$SALT$KEY" and -sha512 (passlib:
 * both adapted base64).  The derived key is as long as the stored one.
 */
static int
verify_pbkdf2(enum pw_format f, const char *stored, const uint8_t *password,
    size_t password_len, bool *match)
{
	const EVP_MD	*md = f == PWF_PASSLIB_PBKDF2_SHA512 ? EVP_sha512() :
			    EVP_sha256();
	bool		 django = f == PWF_DJANGO_PBKDF2_SHA256;
	const char	*iter, *salt, *key;
	uint8_t		 salt_raw[PBKDF2_BUF], want[PBKDF2_BUF];
	uint8_t		 got[PBKDF2_BUF];
	const uint8_t	*salt_bytes;
	long		 iterations;
	int		 salt_len, key_len, rc = -1;

	/* pwformat_of checked the shape: three '$' after the prefix. */
	iter = strchr(stored + 1, '$') + 1;
	salt = strchr(iter, '$') + 1;
	key = strchr(salt, '$') + 1;
	/* HMAC pads its key with zeros: "pw" and "pw\0" would be one. */
	if (password_len > 0 && memchr(password, '\0', password_len) != NULL)
		return 0;
	iterations = strtol(iter, NULL, 10);
	if (django) {
		salt_bytes = (const uint8_t *)salt;
		salt_len = (int)(key - 1 - salt);
	} else {
		salt_len = b64_field(salt, (size_t)(key - 1 - salt), true,
		    false, salt_raw, sizeof(salt_raw));
		salt_bytes = salt_raw;
	}
	key_len = b64_field(key, strlen(key), !django, django, want,
	    sizeof(want));
	if (salt_len < 1 || salt_len > PWF_PBKDF2_SALT_MAX ||
	    key_len < PWF_PBKDF2_KEY_MIN || key_len > PWF_PBKDF2_KEY_MAX ||
	    iterations < (long)PWF_PBKDF2_ITER_MIN ||
	    iterations > (long)PWF_PBKDF2_ITER_MAX)
		goto out;
	if (PKCS5_PBKDF2_HMAC(pw_ptr(password), (int)password_len, salt_bytes,
	    salt_len, (int)iterations, md, key_len, got) != 1)
		goto out;
	*match = sodium_memcmp(got, want, (size_t)key_len) == 0;
	rc = 0;
out:
	sodium_memzero(got, sizeof(got));
	sodium_memzero(want, sizeof(want));
	sodium_memzero(salt_raw, sizeof(salt_raw));
	return rc;
}

int
legacy_hash_verify(enum pw_format f, const char *stored,
    const uint8_t *password, size_t password_len, bool *match)
{
	*match = false;
	if (stored == NULL || (password == NULL && password_len != 0) ||
	    password_len > PROTO_PASSWORD_MAX || pwformat_of(stored) != f)
		return -1;
	switch (f) {
	case PWF_ARGON2ID:
	case PWF_ARGON2I:
		return verify_argon2(stored, password, password_len, match);
	case PWF_BCRYPT:
	case PWF_SHA512_CRYPT:
	case PWF_YESCRYPT:
		return verify_crypt(stored, password, password_len, match);
	case PWF_DJANGO_PBKDF2_SHA256:
	case PWF_PASSLIB_PBKDF2_SHA256:
	case PWF_PASSLIB_PBKDF2_SHA512:
		return verify_pbkdf2(f, stored, password, password_len,
		    match);
	default:
		return -1;
	}
}
