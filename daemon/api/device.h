/*
 * The device token of a password login, on the wire (store/devices.h
 * keeps it): OWASP's device cookie.  A successful password login hands
 * the client a device token, a 256-bit random string like a refresh token
 * (token.h), both as the cookie DEVICE_COOKIE (for browsers: HttpOnly,
 * SameSite=Strict, Secure when public_url is https, and only sent where
 * that login came from: the token endpoint, or the portal's login forms
 * under /ui/login) and as the member "device_token" of the token
 * answer (RFC 6749 5.1 allows more members; for API clients, which send it
 * back as the parameter device_token).  A login that presents it again,
 * as the parameter or else as the cookie, is judged by that device's own
 * failures.  Pure string work, unit-tested.
 */
#ifndef WARDEN_DEVICE_H
#define WARDEN_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DEVICE_COOKIE		"warden_device"
#define DEVICE_COOKIE_PATH	"/api/v1/auth/token"
#define DEVICE_COOKIE_PATH_PORTAL "/ui/login"	/* and /ui/login/totp */
/* The longest Set-Cookie value device_set_cookie() writes, and more. */
#define DEVICE_SET_COOKIE_MAX	192

/*
 * http/cookie.h's cookie_get() under the name the token endpoint calls:
 * the value of cookie name in the Cookie header into out.  Returns 0, or
 * -1 when there is none, it is empty or too long.
 */
int	device_cookie_get(const char *header, const char *name, char *out,
	    size_t outlen);

/*
 * Writes the value of the Set-Cookie header that hands out token for
 * max_age seconds under path (a static DEVICE_COOKIE_PATH*), Secure when
 * secure, into out.  Returns 0, or -1 when it does not fit or token holds
 * a character a cookie value cannot.
 */
int	device_set_cookie(char *out, size_t outlen, const char *token,
	    const char *path, int64_t max_age, bool secure);

/* True when url (public_url) is an https URL: the cookie is then Secure. */
bool	device_cookie_secure(const char *url);

#endif
