/*
 * TOTP secrets: made, sealed, opened and checked.  See totp.h.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <liboath/oath.h>
#include <sodium.h>

#include "b64url.h"
#include "totp.h"
#include "util.h"

#define SEAL_PREFIX	"$wtotp$v=1$k="
#define AD_PURPOSE	"totp"		/* AD: "totp\0" || user_id */
#define NONCE_LEN	crypto_aead_xchacha20poly1305_ietf_NPUBBYTES	/* 24 */
#define TAG_LEN		crypto_aead_xchacha20poly1305_ietf_ABYTES	/* 16 */
#define BLOB_LEN	(NONCE_LEN + TOTP_SECRET_LEN + TAG_LEN)
#define BLOB_B64_LEN	B64URL_ENCODED_LEN(BLOB_LEN)
#define AD_MAX		(sizeof(AD_PURPOSE) + PROTO_UUID_LEN)

_Static_assert(sizeof(SEAL_PREFIX) - 1 + PROTO_KID_MAX + 1 + BLOB_B64_LEN <=
    PROTO_SEALED_MAX, "a sealed secret fits PROTO_SEALED_MAX");
_Static_assert((8 * TOTP_SECRET_LEN + 4) / 5 == PROTO_TOTP_SECRET_B32_LEN,
    "the base32 of a secret is PROTO_TOTP_SECRET_B32_LEN");

int
totp_base32(char *out, size_t outlen, const uint8_t *in, size_t n)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	uint32_t buf = 0;
	size_t i, o = 0;
	int bits = 0;

	if (out == NULL || outlen == 0 || n > (SIZE_MAX - 4) / 8 ||
	    (8 * n + 4) / 5 >= outlen)
		return -1;
	for (i = 0; i < n; i++) {
		buf = (buf << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[o++] = alphabet[(buf >> bits) & 31];
		}
	}
	if (bits > 0)
		out[o++] = alphabet[(buf << (5 - bits)) & 31];
	out[o] = '\0';
	buf = 0;
	return 0;
}

/* "totp\0" || user_id into ad; its length, or 0 when user_id is too long. */
static size_t
make_ad(uint8_t ad[AD_MAX], const char *user_id)
{
	size_t n = strnlen(user_id, PROTO_UUID_LEN + 1);

	if (n > PROTO_UUID_LEN)
		return 0;
	memcpy(ad, AD_PURPOSE, sizeof(AD_PURPOSE));
	memcpy(ad + sizeof(AD_PURPOSE), user_id, n);
	return sizeof(AD_PURPOSE) + n;
}

int
totp_seal(const struct pepper_key *k, const char *user_id,
    const uint8_t secret[TOTP_SECRET_LEN], char *sealed)
{
	uint8_t			 blob[BLOB_LEN], ad[AD_MAX];
	char			 b64[BLOB_B64_LEN + 1];
	unsigned long long	 clen;
	size_t			 adlen;
	int			 rc = -1;

	if (sealed == NULL)
		return -1;
	sealed[0] = '\0';
	if (k == NULL || user_id == NULL || secret == NULL ||
	    (adlen = make_ad(ad, user_id)) == 0)
		return -1;
	randombytes_buf(blob, NONCE_LEN);
	if (crypto_aead_xchacha20poly1305_ietf_encrypt(blob + NONCE_LEN, &clen,
	    secret, TOTP_SECRET_LEN, ad, adlen, NULL, blob, k->key) != 0 ||
	    clen != TOTP_SECRET_LEN + TAG_LEN)
		goto out;
	if (b64url_encode(b64, sizeof(b64), blob, sizeof(blob)) == -1)
		goto out;
	if (str_printf(sealed, PROTO_SEALED_MAX + 1, "%s%s$%s", SEAL_PREFIX,
	    k->kid, b64) == -1)
		goto out;
	rc = 0;
out:
	sodium_memzero(blob, sizeof(blob));
	sodium_memzero(b64, sizeof(b64));
	if (rc == -1)
		sodium_memzero(sealed, PROTO_SEALED_MAX + 1);
	return rc;
}

int
totp_new(const struct keyset *ks, const char *user_id, char *secret_b32,
    char *sealed)
{
	const struct pepper_key	*k;
	uint8_t			*secret;
	int			 rc = -1;

	if (secret_b32 == NULL || sealed == NULL)
		return -1;
	secret_b32[0] = '\0';
	sealed[0] = '\0';
	if (user_id == NULL || (k = keys_pepper_current(ks)) == NULL)
		return -1;
	/* Guarded, locked memory: the secret never reaches swap. */
	if ((secret = sodium_malloc(TOTP_SECRET_LEN)) == NULL)
		return -1;
	randombytes_buf(secret, TOTP_SECRET_LEN);
	if (totp_base32(secret_b32, PROTO_TOTP_SECRET_B32_LEN + 1, secret,
	    TOTP_SECRET_LEN) == -1 ||
	    totp_seal(k, user_id, secret, sealed) == -1)
		goto out;
	rc = 0;
out:
	sodium_free(secret);	/* zeroes it */
	if (rc == -1) {
		sodium_memzero(secret_b32, PROTO_TOTP_SECRET_B32_LEN + 1);
		sodium_memzero(sealed, PROTO_SEALED_MAX + 1);
	}
	return rc;
}

/* Opens sealed for user_id into secret.  0 or -1 (secret zeroed). */
static int
totp_open(const struct keyset *ks, const char *user_id, const char *sealed,
    uint8_t secret[TOTP_SECRET_LEN])
{
	const struct pepper_key	*k;
	const char		*kid, *end;
	char			 kidbuf[PROTO_KID_MAX + 1];
	uint8_t			 blob[BLOB_LEN], ad[AD_MAX];
	unsigned long long	 mlen;
	size_t			 kidlen, adlen;
	ssize_t			 n;
	int			 rc = -1;

	if (strncmp(sealed, SEAL_PREFIX, strlen(SEAL_PREFIX)) != 0)
		return -1;
	kid = sealed + strlen(SEAL_PREFIX);
	if ((end = strchr(kid, '$')) == NULL)
		return -1;
	kidlen = (size_t)(end - kid);
	if (kidlen == 0 || kidlen > PROTO_KID_MAX)
		return -1;
	memcpy(kidbuf, kid, kidlen);
	kidbuf[kidlen] = '\0';
	if ((k = keys_pepper_find(ks, kidbuf)) == NULL)
		return -1;
	if (strlen(end + 1) != BLOB_B64_LEN ||
	    (adlen = make_ad(ad, user_id)) == 0)
		return -1;
	n = b64url_decode(blob, sizeof(blob), end + 1, BLOB_B64_LEN);
	if (n != (ssize_t)BLOB_LEN)
		goto out;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(secret, &mlen, NULL,
	    blob + NONCE_LEN, BLOB_LEN - NONCE_LEN, ad, adlen, blob,
	    k->key) != 0 || mlen != TOTP_SECRET_LEN)
		goto out;
	rc = 0;
out:
	sodium_memzero(blob, sizeof(blob));
	if (rc == -1)
		sodium_memzero(secret, TOTP_SECRET_LEN);
	return rc;
}

static bool
code_ok(const char *code)
{
	size_t i;

	for (i = 0; i < TOTP_DIGITS; i++)
		if (code[i] < '0' || code[i] > '9')
			return false;
	return code[TOTP_DIGITS] == '\0';
}

int
totp_check(const struct keyset *ks, const char *user_id, const char *sealed,
    const char *code, uint32_t after_step, time_t now, bool *match,
    uint32_t *step)
{
	uint8_t		*secret;
	char		 otp[TOTP_DIGITS + 1];
	int64_t		 cur, s;
	bool		 found = false, same;
	uint32_t	 got = 0;
	int		 rc = -1;

	if (match == NULL || step == NULL)
		return -1;
	*match = false;
	*step = 0;
	if (ks == NULL || user_id == NULL || sealed == NULL || code == NULL ||
	    now < 0 || !code_ok(code))
		return -1;
	if ((secret = sodium_malloc(TOTP_SECRET_LEN)) == NULL)
		return -1;
	if (totp_open(ks, user_id, sealed, secret) == -1)
		goto out;
	cur = (int64_t)now / TOTP_STEP;
	/* Every step of the window is computed and compared, whatever
	 * matched before, so the time taken says nothing of which did. */
	for (s = cur - TOTP_DRIFT; s <= cur + TOTP_DRIFT; s++) {
		if (s < 0 || s > UINT32_MAX)
			continue;
		if (oath_totp_generate((const char *)secret, TOTP_SECRET_LEN,
		    (time_t)(s * TOTP_STEP), TOTP_STEP,
		    OATH_TOTP_DEFAULT_START_TIME, TOTP_DIGITS, otp) != OATH_OK)
			goto out;
		same = sodium_memcmp(otp, code, TOTP_DIGITS) == 0;
		if (same && !found && (uint32_t)s > after_step) {
			found = true;
			got = (uint32_t)s;
		}
	}
	*match = found;
	*step = got;
	rc = 0;
out:
	sodium_memzero(otp, sizeof(otp));
	sodium_free(secret);
	return rc;
}
