/*
 * The portal's session cookie on the wire (OIDC.md, "Browser sessions";
 * store/sessions.h keeps the session): __Host-warden_session, "Secure;
 * HttpOnly; Path=/; SameSite=Lax", holding a secret_token.h token (43
 * base64url characters).  When public_url is plain http:// to a loopback
 * host (weburl_dev(), development) it is warden_session without Secure,
 * as a browser drops a __Host- or Secure cookie set over http.
 *
 * With session_domain set (and public_url not a development one) it is
 * __Secure-warden_session with "Domain=<session_domain>" instead, the
 * same attributes otherwise: the browser then sends it to every host
 * below that domain, so that forward-auth on app.example.com sees the
 * session a login at auth.example.com began (a __Host- cookie never
 * leaves the host that set it).  The proxy strips it before the
 * application (etc/nginx/warden.conf).  Pure string work, no allocation.
 */
#ifndef WARDEN_HTTP_SESSION_COOKIE_H
#define WARDEN_HTTP_SESSION_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "secret_token.h"

#define SESSION_COOKIE		"__Host-warden_session"
#define SESSION_COOKIE_DOMAIN	"__Secure-warden_session"
#define SESSION_COOKIE_DEV	"warden_session"
/* The attributes after the value, with a Domain of 253 characters. */
#define SESSION_COOKIE_ATTR_MAX	320
/* The longest Set-Cookie value session_cookie_set() writes, and more. */
#define SESSION_SET_COOKIE_MAX	(96 + SESSION_COOKIE_ATTR_MAX)

/*
 * The cookie's name for public_url and domain (session_domain; NULL or ""
 * for none): a static string, never NULL (the __Host- name when
 * public_url is NULL or unparsable and domain is none).
 */
const char *session_cookie_name(const char *public_url, const char *domain);

/*
 * True when s has a token's shape: exactly SECRET_TOKEN_LEN characters of
 * strict base64url (b64url.h) decoding to SECRET_TOKEN_BYTES.
 */
bool	session_cookie_token_ok(const char *s);

/*
 * Copies the session cookie's value from cookie_header (a Cookie request
 * header, may be NULL) into the caller's token.  Returns 0, or -1 when
 * there is no cookie of public_url's name or its value (the first of that
 * name) is not a token's shape; token is then wiped.
 */
int	session_cookie_get(const char *cookie_header, const char *public_url,
	    const char *domain, char token[SECRET_TOKEN_LEN + 1]);

/*
 * Writes the value of the Set-Cookie header that hands out token for
 * max_age seconds into the caller's out.  Returns 0, or -1 when token is
 * not a token's shape, max_age is negative or out is too small
 * (SESSION_SET_COOKIE_MAX is not).
 */
int	session_cookie_set(char *out, size_t outlen, const char *public_url,
	    const char *domain, const char *token, int64_t max_age);

/*
 * Writes the value of the Set-Cookie header that makes the browser drop
 * the cookie (empty, Max-Age=0, same name and attributes) into out.
 * Returns 0, or -1 when out is too small.
 */
int	session_cookie_clear(char *out, size_t outlen, const char *public_url,
	    const char *domain);

#endif
