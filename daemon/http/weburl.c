/*
 * The portal's URL parser (weburl.h).  It refuses rather than repairs:
 * every quirk a browser forgives (backslashes as slashes, tabs and
 * newlines dropped, percent-decoding of the host, user-info) is a way to
 * make a host check and a browser disagree about where a URL goes.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "weburl.h"

static bool
url_byte_ok(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '\\';
}

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool
label_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/* DNS labels of [a-z0-9-], none empty, none starting or ending in '-'. */
static bool
name_ok(const char *h)
{
	const char	*l = h;

	for (;;) {
		const char *e = l;

		while (label_char(*e))
			e++;
		if (e == l || e - l > 63 || *l == '-' || e[-1] == '-')
			return false;
		if (*e == '\0')
			return true;
		if (*e != '.')
			return false;
		l = e + 1;
	}
}

static bool
ipv6_ok(const char *h, size_t len)
{
	size_t	 i;

	if (len < 4 || h[0] != '[' || h[len - 1] != ']')
		return false;
	for (i = 1; i < len - 1; i++)
		if (strchr("0123456789abcdef:.", h[i]) == NULL)
			return false;
	return strchr(h, ':') != NULL;
}

int
weburl_parse(const char *s, struct weburl *u)
{
	const char	*a, *end, *colon;
	size_t		 hlen, i;

	if (s == NULL || u == NULL)
		return -1;
	for (i = 0; s[i] != '\0'; i++)
		if (!url_byte_ok((unsigned char)s[i]))
			return -1;
	if (strncasecmp(s, "https://", 8) == 0) {
		u->https = true;
		a = s + 8;
	} else if (strncasecmp(s, "http://", 7) == 0) {
		u->https = false;
		a = s + 7;
	} else
		return -1;
	end = a + strcspn(a, "/?#");
	/* No user-info, no percent-encoding in the authority. */
	if (memchr(a, '@', (size_t)(end - a)) != NULL ||
	    memchr(a, '%', (size_t)(end - a)) != NULL)
		return -1;
	if (*a == '[') {
		const char *rb = memchr(a, ']', (size_t)(end - a));

		if (rb == NULL)
			return -1;
		colon = rb + 1 < end ? rb + 1 : NULL;
		if (colon != NULL && *colon != ':')
			return -1;
	} else
		colon = memchr(a, ':', (size_t)(end - a));
	hlen = (size_t)((colon != NULL ? colon : end) - a);
	if (hlen == 0 || hlen > WEBURL_HOST_MAX)
		return -1;
	for (i = 0; i < hlen; i++)
		u->host[i] = lower(a[i]);
	u->host[hlen] = '\0';
	if (u->host[0] == '[' ? !ipv6_ok(u->host, hlen) : !name_ok(u->host))
		return -1;
	u->port = u->https ? 443 : 80;
	if (colon != NULL) {
		const char	*p = colon + 1;
		unsigned long	 port = 0;

		if (p == end || end - p > 5)
			return -1;
		for (; p < end; p++) {
			if (*p < '0' || *p > '9')
				return -1;
			port = port * 10 + (unsigned long)(*p - '0');
		}
		if (port == 0 || port > 65535)
			return -1;
		u->port = (unsigned int)port;
	}
	u->rest = end;
	return 0;
}

int
weburl_origin(const struct weburl *u, char *out, size_t outlen)
{
	int	 n;

	if (u->port == (u->https ? 443u : 80u))
		n = snprintf(out, outlen, "%s://%s", u->https ? "https" :
		    "http", u->host);
	else
		n = snprintf(out, outlen, "%s://%s:%u", u->https ? "https" :
		    "http", u->host, u->port);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

bool
weburl_same_origin(const struct weburl *a, const struct weburl *b)
{
	return a->https == b->https && a->port == b->port &&
	    strcmp(a->host, b->host) == 0;
}

/* 127.0.0.0/8 written as a dotted quad of decimals without leading 0s. */
static bool
ipv4_loopback(const char *h)
{
	unsigned int	 part, n;

	for (n = 0; n < 4; n++) {
		if (*h < '0' || *h > '9')
			return false;
		if (*h == '0' && h[1] >= '0' && h[1] <= '9')
			return false;
		for (part = 0; *h >= '0' && *h <= '9'; h++)
			if ((part = part * 10 + (unsigned int)(*h - '0')) > 255)
				return false;
		if (n == 0 && part != 127)
			return false;
		if (n < 3 && *h++ != '.')
			return false;
	}
	return *h == '\0';
}

bool
weburl_dev(const char *public_url)
{
	struct weburl	 u;

	if (weburl_parse(public_url, &u) == -1 || u.https)
		return false;
	return strcmp(u.host, "localhost") == 0 ||
	    strcmp(u.host, "[::1]") == 0 || ipv4_loopback(u.host);
}
