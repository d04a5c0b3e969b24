/*
 * The portal's CSRF tokens and origin check (csrf.h).  Keyed BLAKE2b
 * rather than SHA-256 of label || secret: the secret is used as a key of
 * a construction made to be a PRF, instead of relying on a plain hash
 * behaving like one, and the label keeps the token apart from the
 * SHA-256 of the token the database stores (secret_token.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "b64url.h"
#include "csrf.h"
#include "http/cookie.h"
#include "http/session_cookie.h"
#include "http/weburl.h"

#define LABEL_SESSION	"warden-csrf-session"
#define LABEL_PRE	"warden-csrf-pre"

static int
derive(const char *label, const char *secret, char out[CSRF_TOKEN_LEN + 1])
{
	uint8_t	 mac[32];
	int	 rc = -1;

	if (session_cookie_token_ok(secret) &&
	    crypto_generichash(mac, sizeof(mac), (const uint8_t *)label,
	    strlen(label) + 1, (const uint8_t *)secret, SECRET_TOKEN_LEN) == 0 &&
	    b64url_encode(out, CSRF_TOKEN_LEN + 1, mac, sizeof(mac)) ==
	    CSRF_TOKEN_LEN)
		rc = 0;
	sodium_memzero(mac, sizeof(mac));
	if (rc == -1)
		sodium_memzero(out, CSRF_TOKEN_LEN + 1);
	return rc;
}

static bool
check(const char *label, const char *secret, const char *presented)
{
	char	 want[CSRF_TOKEN_LEN + 1];
	bool	 ok;

	if (presented == NULL ||
	    strnlen(presented, CSRF_TOKEN_LEN + 1) != CSRF_TOKEN_LEN ||
	    derive(label, secret, want) == -1)
		return false;
	ok = sodium_memcmp(want, presented, CSRF_TOKEN_LEN) == 0;
	sodium_memzero(want, sizeof(want));
	return ok;
}

int
csrf_token(const char *secret, char out[CSRF_TOKEN_LEN + 1])
{
	return derive(LABEL_SESSION, secret, out);
}

bool
csrf_check(const char *secret, const char *presented)
{
	return check(LABEL_SESSION, secret, presented);
}

int
csrf_pre_token(const char *secret, char out[CSRF_TOKEN_LEN + 1])
{
	return derive(LABEL_PRE, secret, out);
}

bool
csrf_pre_check(const char *secret, const char *presented)
{
	return check(LABEL_PRE, secret, presented);
}

const char *
csrf_pre_cookie_name(const char *public_url)
{
	return weburl_dev(public_url) ? CSRF_PRE_COOKIE_DEV : CSRF_PRE_COOKIE;
}

int
csrf_pre_new(char secret[SECRET_TOKEN_LEN + 1])
{
	uint8_t	 raw[SECRET_TOKEN_BYTES];
	ssize_t	 n;

	randombytes_buf(raw, sizeof(raw));
	n = b64url_encode(secret, SECRET_TOKEN_LEN + 1, raw, sizeof(raw));
	sodium_memzero(raw, sizeof(raw));
	if (n != SECRET_TOKEN_LEN) {
		sodium_memzero(secret, SECRET_TOKEN_LEN + 1);
		return -1;
	}
	return 0;
}

int
csrf_pre_cookie_get(const char *cookie_header, const char *public_url,
    char secret[SECRET_TOKEN_LEN + 1])
{
	char	 v[SECRET_TOKEN_LEN + 2];	/* a longer value does not fit */

	if (cookie_get(cookie_header, csrf_pre_cookie_name(public_url), v,
	    sizeof(v)) == -1 || !session_cookie_token_ok(v)) {
		sodium_memzero(v, sizeof(v));
		sodium_memzero(secret, SECRET_TOKEN_LEN + 1);
		return -1;
	}
	memcpy(secret, v, SECRET_TOKEN_LEN + 1);
	sodium_memzero(v, sizeof(v));
	return 0;
}

int
csrf_pre_cookie_set(char *out, size_t outlen, const char *public_url,
    const char *secret)
{
	bool	 dev = weburl_dev(public_url);
	int	 n;

	if (!session_cookie_token_ok(secret))
		return -1;
	n = snprintf(out, outlen, "%s=%s; Max-Age=%d; Path=/; HttpOnly; "
	    "SameSite=Strict%s", dev ? CSRF_PRE_COOKIE_DEV : CSRF_PRE_COOKIE,
	    secret, CSRF_PRE_MAX_AGE, dev ? "" : "; Secure");
	if (n < 0 || (size_t)n >= outlen) {
		if (outlen > 0)
			sodium_memzero(out, outlen);
		return -1;
	}
	return 0;
}

bool
csrf_origin_ok(const char *origin_header, const char *referer_header,
    const char *public_url)
{
	struct weburl	 pub, got;

	if (weburl_parse(public_url, &pub) == -1)
		return false;
	/* An Origin header, even an empty or "null" one, decides alone. */
	if (origin_header != NULL)
		return weburl_parse(origin_header, &got) == 0 &&
		    *got.rest == '\0' && weburl_same_origin(&pub, &got);
	return weburl_parse(referer_header, &got) == 0 && *got.rest == '/' &&
	    weburl_same_origin(&pub, &got);
}
