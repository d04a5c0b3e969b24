/*
 * The rd parameter of /ui/login: where the browser goes after the login
 * (forward-auth sends the original URL).  Only URLs on public_url's host
 * or under session_domain pass (OIDC.md, "The login portal": no open
 * redirect).  Pure string work, no allocation.
 */
#ifndef WARDEN_HTTP_RETURN_URL_H
#define WARDEN_HTTP_RETURN_URL_H

#include <stdbool.h>
#include <stddef.h>

#define RETURN_URL_MAX		2048	/* bytes of rd */

/*
 * Judges rd against public_url and session_domain (a host name without
 * a leading dot; "" or NULL: public_url's host only).  Accepted: an
 * absolute https:// URL (http:// too when public_url is http to loopback,
 * weburl_dev()) that weburl_parse() takes, whose host is public_url's, or
 * is session_domain or ends with "." session_domain (any port); or a path
 * starting with one '/' (not "//"), which means public_url followed by
 * it.  rd may be at most RETURN_URL_MAX bytes, none a control character,
 * space, backslash or above 0x7e.  Writes the normalised absolute URL
 * (lowercase scheme and host, no default port, "/" for an empty path)
 * into the caller's out and returns true; false when rd is refused or the
 * result does not fit outlen (out then holds "").
 */
bool	return_url_ok(const char *rd, const char *public_url,
	    const char *session_domain, char *out, size_t outlen);

#endif
