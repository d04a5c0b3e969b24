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
#include "cookie.h"
#include "session_cookie.h"
#include "weburl.h"

/* True when the cookie is set for a domain: session_domain given and
 * public_url not a development one. */
static bool
cookie_has_domain(const char *public_url, const char *domain)
{
	return domain != NULL && domain[0] != '\0' && !weburl_dev(public_url);
}

const char *
session_cookie_name(const char *public_url, const char *domain)
{
	if (weburl_dev(public_url))
		return SESSION_COOKIE_DEV;
	return cookie_has_domain(public_url, domain) ? SESSION_COOKIE_DOMAIN :
	    SESSION_COOKIE;
}

/* Writes the attributes after the value: "; Path=/; HttpOnly;
 * SameSite=Lax", then "; Secure" and "; Domain=..." as they apply. */
static int
attributes(char *out, size_t outlen, const char *public_url,
    const char *domain)
{
	bool	 dev = weburl_dev(public_url);
	int	 n;

	n = snprintf(out, outlen, "; Path=/; HttpOnly; SameSite=Lax%s%s%s",
	    dev ? "" : "; Secure",
	    cookie_has_domain(public_url, domain) ? "; Domain=" : "",
	    cookie_has_domain(public_url, domain) ? domain : "");
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
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
    const char *domain, char token[SECRET_TOKEN_LEN + 1])
{
	/* One more than a token, so that a longer value does not fit. */
	char	 v[SECRET_TOKEN_LEN + 2];

	if (cookie_get(cookie_header, session_cookie_name(public_url, domain), v,
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
    const char *domain, const char *token, int64_t max_age)
{
	char	 attr[SESSION_COOKIE_ATTR_MAX];
	int	 n;

	if (!session_cookie_token_ok(token) || max_age < 0 ||
	    attributes(attr, sizeof(attr), public_url, domain) == -1)
		return -1;
	n = snprintf(out, outlen, "%s=%s; Max-Age=%lld%s",
	    session_cookie_name(public_url, domain), token,
	    (long long)max_age, attr);
	if (n < 0 || (size_t)n >= outlen) {
		if (outlen > 0)
			sodium_memzero(out, outlen);
		return -1;
	}
	return 0;
}

int
session_cookie_clear(char *out, size_t outlen, const char *public_url,
    const char *domain)
{
	char	 attr[SESSION_COOKIE_ATTR_MAX];
	int	 n;

	if (attributes(attr, sizeof(attr), public_url, domain) == -1)
		return -1;
	n = snprintf(out, outlen, "%s=; Max-Age=0%s",
	    session_cookie_name(public_url, domain), attr);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}
