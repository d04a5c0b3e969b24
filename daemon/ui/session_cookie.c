/*
 * The session cookie (session_cookie.h).  Only a value of the token's
 * exact shape leaves session_cookie_get(): anything else is refused here,
 * before it costs a hash or a database round trip.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "b64url.h"
#include "http/cookie.h"
#include "session_cookie.h"
#include "weburl.h"

const char *
session_cookie_name(const char *public_url)
{
	return weburl_dev(public_url) ? SESSION_COOKIE_DEV : SESSION_COOKIE;
}

bool
session_cookie_token_ok(const char *s)
{
	uint8_t	 raw[B64URL_DECODED_MAX(SECRET_TOKEN_LEN)];
	ssize_t	 n;

	if (s == NULL || strnlen(s, SECRET_TOKEN_LEN + 1) != SECRET_TOKEN_LEN)
		return false;
	n = b64url_decode(raw, sizeof(raw), s, SECRET_TOKEN_LEN);
	sodium_memzero(raw, sizeof(raw));
	return n == SECRET_TOKEN_BYTES;
}

int
session_cookie_get(const char *cookie_header, const char *public_url,
    char token[SECRET_TOKEN_LEN + 1])
{
	/* One more than a token, so that a longer value does not fit. */
	char	 v[SECRET_TOKEN_LEN + 2];

	if (cookie_get(cookie_header, session_cookie_name(public_url), v,
	    sizeof(v)) == -1 || !session_cookie_token_ok(v)) {
		sodium_memzero(v, sizeof(v));
		sodium_memzero(token, SECRET_TOKEN_LEN + 1);
		return -1;
	}
	memcpy(token, v, SECRET_TOKEN_LEN + 1);
	sodium_memzero(v, sizeof(v));
	return 0;
}

int
session_cookie_set(char *out, size_t outlen, const char *public_url,
    const char *token, int64_t max_age)
{
	bool	 dev = weburl_dev(public_url);
	int	 n;

	if (!session_cookie_token_ok(token) || max_age < 0)
		return -1;
	n = snprintf(out, outlen, "%s=%s; Max-Age=%lld; Path=/; HttpOnly; "
	    "SameSite=Lax%s", dev ? SESSION_COOKIE_DEV : SESSION_COOKIE, token,
	    (long long)max_age, dev ? "" : "; Secure");
	if (n < 0 || (size_t)n >= outlen) {
		if (outlen > 0)
			sodium_memzero(out, outlen);
		return -1;
	}
	return 0;
}

int
session_cookie_clear(char *out, size_t outlen, const char *public_url)
{
	bool	 dev = weburl_dev(public_url);
	int	 n;

	n = snprintf(out, outlen, "%s=; Max-Age=0; Path=/; HttpOnly; "
	    "SameSite=Lax%s", dev ? SESSION_COOKIE_DEV : SESSION_COOKIE,
	    dev ? "" : "; Secure");
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}
