/*
 * CORS (the Fetch standard, "CORS protocol"): which browser origins may
 * read the answers of the routes that allow it.  Origins are listed
 * exactly (cors_origins in warden.conf(5)); there is no wildcard, and no
 * route answers with credentials: nothing here is read from a cookie.
 */
#ifndef WARDEN_HTTP_CORS_H
#define WARDEN_HTTP_CORS_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

#define CORS_ORIGIN_MAX		255	/* bytes of one serialised origin */

/* What a preflight may ask for, and what a script may read of an answer. */
#define CORS_ALLOW_HEADERS	"Authorization, Content-Type, X-Request-Id"
#define CORS_EXPOSE_HEADERS	"WWW-Authenticate, Retry-After, Location, " \
				"X-Request-Id"
#define CORS_MAX_AGE		"600"	/* seconds a preflight is cached */

struct http_cors {
	char	origins[CFG_MAX_LIST][CORS_ORIGIN_MAX + 1];
	size_t	n;
};

/*
 * Fills *c from the n entries of v, each an origin as a browser
 * serialises it: "http://" or "https://", a lower-case host name, IPv4
 * address or [IPv6] address, an optional ":port" of 1..65535, and nothing
 * after (no path, no trailing '/').  Returns 0, or -1 with the entry and
 * the reason in err.
 */
int	http_cors_parse(struct http_cors *c, char *const *v, size_t n,
	    char *err, size_t errlen);

/* Is origin (an Origin header's value) one of c's, byte for byte? */
bool	http_cors_allows(const struct http_cors *c, const char *origin);

#endif
