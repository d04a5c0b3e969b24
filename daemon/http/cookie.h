/*
 * The Cookie request header (RFC 6265 5.4), read: one reader for every
 * cookie warden sets (api/device.h's device cookie, the portal's session
 * and pre-login cookies).  Pure string work, no allocation.
 */
#ifndef WARDEN_HTTP_COOKIE_H
#define WARDEN_HTTP_COOKIE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Finds cookie name in header, the value of a Cookie request header
 * ("a=1; b=2"; the separators' spaces optional, a value in double quotes
 * unquoted; header may be NULL) and copies its value, NUL-terminated,
 * into the caller's out.  The first cookie of that name counts (a browser
 * sends the one of the longest path first); names match exactly, case
 * included.  Returns 0, or -1 when there is none, it is empty or it does
 * not fit outlen (out then holds nothing useful).
 */
int	cookie_get(const char *header, const char *name, char *out,
	    size_t outlen);

/*
 * True when s is a non-empty run of RFC 6265 4.1.1 cookie-octets (no
 * control character, space, DQUOTE, comma, semicolon or backslash): a
 * value a Set-Cookie header may carry unquoted.
 */
bool	cookie_value_ok(const char *s);

#endif
