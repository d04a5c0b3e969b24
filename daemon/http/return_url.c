/*
 * Return URLs (return_url.h).  The URL written out is rebuilt from the
 * parsed scheme, host and port, never copied from rd's authority, so a
 * browser cannot read a different host out of it than the check did.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "return_url.h"
#include "weburl.h"

static bool
host_allowed(const char *host, const struct weburl *pub, const char *dom)
{
	size_t	 hlen = strlen(host), dlen;

	if (strcmp(host, pub->host) == 0)
		return true;
	if (dom != NULL && *dom == '.')		/* tolerate ".example.com" */
		dom++;
	if (dom == NULL || *dom == '\0' || host[0] == '[')
		return false;
	dlen = strlen(dom);
	if (hlen == dlen)
		return strcasecmp(host, dom) == 0;
	return hlen > dlen && host[hlen - dlen - 1] == '.' &&
	    strcasecmp(host + hlen - dlen, dom) == 0;
}

bool
return_url_ok(const char *rd, const char *public_url,
    const char *session_domain, char *out, size_t outlen)
{
	struct weburl	 pub, u;
	char		 origin[WEBURL_ORIGIN_MAX];
	const char	*path;
	size_t		 len, i;
	int		 n;

	if (out == NULL || outlen == 0)
		return false;
	*out = '\0';
	if (rd == NULL || (len = strnlen(rd, RETURN_URL_MAX + 1)) == 0 ||
	    len > RETURN_URL_MAX || weburl_parse(public_url, &pub) == -1)
		return false;
	for (i = 0; i < len; i++)
		if ((unsigned char)rd[i] <= 0x20 ||
		    (unsigned char)rd[i] >= 0x7f || rd[i] == '\\')
			return false;
	if (rd[0] == '/') {
		if (rd[1] == '/')
			return false;
		if (weburl_origin(&pub, origin, sizeof(origin)) == -1)
			return false;
		n = snprintf(out, outlen, "%s%s%s", origin, pub.rest, rd);
	} else {
		if (weburl_parse(rd, &u) == -1 ||
		    (!u.https && !(weburl_dev(public_url))) ||
		    !host_allowed(u.host, &pub, session_domain) ||
		    weburl_origin(&u, origin, sizeof(origin)) == -1)
			return false;
		path = u.rest;
		n = snprintf(out, outlen, "%s%s%s", origin,
		    *path == '/' ? "" : "/", path);
	}
	if (n < 0 || (size_t)n >= outlen) {
		*out = '\0';
		return false;
	}
	return true;
}
