/*
 * The http(s) URLs the portal compares: public_url, an Origin or Referer
 * header, a return URL.  A strict parser of absolute URLs, stricter than
 * the WHATWG URL standard a browser follows, so that what it accepts every
 * browser reads the same way: a scheme of http or https, "//", a host of
 * DNS labels ([a-z0-9-], lowercased) or a bracketed IPv6 literal, an
 * optional decimal port, then "", or a path, query or fragment.  Anywhere
 * in the URL it refuses user-info ('@' before the path), '%' in the host,
 * a backslash, a space, a control character and any byte above 0x7e.
 * Pure string work, no allocation.
 */
#ifndef WARDEN_HTTP_WEBURL_H
#define WARDEN_HTTP_WEBURL_H

#include <stdbool.h>
#include <stddef.h>

#define WEBURL_HOST_MAX		253	/* a DNS name's longest text */
/* "https://", a host, ":65535" and the NUL. */
#define WEBURL_ORIGIN_MAX	(8 + WEBURL_HOST_MAX + 6 + 1)

struct weburl {
	bool		 https;
	char		 host[WEBURL_HOST_MAX + 1];	/* lowercased;
							 * IPv6 in [] */
	unsigned int	 port;		/* the default one when none given */
	const char	*rest;		/* into the parsed string: "", or from
					 * its first '/', '?' or '#' */
};

/*
 * Parses the NUL-terminated s into the caller's *u (u->rest points into
 * s, which must outlive it).  Returns 0, or -1 when s is NULL or not such
 * a URL (*u then holds nothing useful).
 */
int	weburl_parse(const char *s, struct weburl *u);

/*
 * Writes u's origin, "scheme://host" with ":port" unless it is the
 * scheme's default, into the caller's out.  Returns 0, or -1 when it
 * does not fit outlen (WEBURL_ORIGIN_MAX always does).
 */
int	weburl_origin(const struct weburl *u, char *out, size_t outlen);

/* True when a and b have the same scheme, host and port. */
bool	weburl_same_origin(const struct weburl *a, const struct weburl *b);

/*
 * True when public_url is plain http:// to a loopback host (127.0.0.0/8,
 * [::1], localhost): development, where cookies go without Secure and
 * without the __Host- prefix.  False for NULL or an unparsable URL.
 */
bool	weburl_dev(const char *public_url);

#endif
