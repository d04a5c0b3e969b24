/*
 * CSRF protection of the portal's forms, with no server state (OIDC.md,
 * "Browser sessions").  A form's token is derived from a secret only the
 * browser's HttpOnly cookie holds: the session cookie once logged in, the
 * pre-login cookie __Host-warden_pre (warden_pre in development, see
 * session_cookie.h) before.  The token is base64url of keyed BLAKE2b-256
 * (crypto_generichash) with the cookie's 43 characters as key and a label
 * per cookie kind as message, so a page that cannot read the cookie
 * cannot make the token, and the token of one kind or one session is
 * worthless for another.  Every POST also passes csrf_origin_ok().
 * Pure functions, no allocation; the secrets are the caller's.
 */
#ifndef WARDEN_UI_CSRF_H
#define WARDEN_UI_CSRF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "secret_token.h"

#define CSRF_TOKEN_LEN		43	/* base64url of 32 bytes */
#define CSRF_PRE_COOKIE		"__Host-warden_pre"
#define CSRF_PRE_COOKIE_DEV	"warden_pre"
#define CSRF_PRE_MAX_AGE	3600	/* seconds */
/* The longest Set-Cookie value csrf_pre_cookie_set() writes, and more. */
#define CSRF_PRE_SET_COOKIE_MAX	128

/*
 * The form token of the session whose cookie token is secret, into the
 * caller's out.  Returns 0, or -1 (out wiped) when secret is not a
 * token's shape (session_cookie_token_ok()).
 */
int	csrf_token(const char *secret, char out[CSRF_TOKEN_LEN + 1]);

/*
 * True when presented is the form token of secret, compared in constant
 * time (sodium_memcmp).  False for a NULL, empty or wrong-length
 * presented and for a secret that is not a token's shape.
 */
bool	csrf_check(const char *secret, const char *presented);

/* The same two for the pre-login cookie's secret (another label). */
int	csrf_pre_token(const char *secret, char out[CSRF_TOKEN_LEN + 1]);
bool	csrf_pre_check(const char *secret, const char *presented);

/* The pre-login cookie's name for public_url: a static string. */
const char *csrf_pre_cookie_name(const char *public_url);

/*
 * A new pre-login secret (256 random bits, base64url) into the caller's
 * secret.  Returns 0, or -1 (secret wiped) when encoding fails.
 */
int	csrf_pre_new(char secret[SECRET_TOKEN_LEN + 1]);

/*
 * Copies the pre-login cookie's value from cookie_header (may be NULL)
 * into the caller's secret.  Returns 0, or -1 (secret wiped) when there is
 * none of public_url's name or it is not a token's shape.
 */
int	csrf_pre_cookie_get(const char *cookie_header, const char *public_url,
	    char secret[SECRET_TOKEN_LEN + 1]);

/*
 * Writes the Set-Cookie value that hands out secret for an hour
 * (SameSite=Strict, HttpOnly, Path=/, Secure but in development) into
 * out.  Returns 0, or -1 when secret is not a token's shape or out is too
 * small (CSRF_PRE_SET_COOKIE_MAX is not).
 */
int	csrf_pre_cookie_set(char *out, size_t outlen, const char *public_url,
	    const char *secret);

/*
 * Whether a POST comes from public_url's own pages.  origin_header and
 * referer_header are the request's headers (NULL when absent).  With an
 * Origin, true when it is public_url's origin (scheme, host and port,
 * default ports and host case normalised); "null" or anything else is
 * refused.  With no Origin at all, true when the Referer is a URL of
 * public_url's origin with a path ("/" after the origin).  Neither: false.
 */
bool	csrf_origin_ok(const char *origin_header, const char *referer_header,
	    const char *public_url);

#endif
