#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "device.h"

static bool
ows(char c)
{
	return c == ' ' || c == '\t';
}

/* RFC 6265 4.1.1 cookie-octet: no CTL, whitespace, DQUOTE, comma,
 * semicolon or backslash. */
static bool
cookie_octet(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '"' && c != ',' && c != ';' &&
	    c != '\\';
}

int
device_cookie_get(const char *header, const char *name, char *out,
    size_t outlen)
{
	const char *p = header, *end, *eq, *v, *vend;
	size_t	 nlen = strlen(name), vlen;

	if (header == NULL || outlen == 0)
		return -1;
	while (*p != '\0') {
		while (ows(*p) || *p == ';')
			p++;
		if ((end = strchr(p, ';')) == NULL)
			end = p + strlen(p);
		eq = memchr(p, '=', (size_t)(end - p));
		if (eq != NULL && (size_t)(eq - p) == nlen &&
		    memcmp(p, name, nlen) == 0) {
			v = eq + 1;
			vend = end;
			while (vend > v && ows(vend[-1]))
				vend--;
			if (vend - v >= 2 && *v == '"' && vend[-1] == '"') {
				v++;
				vend--;
			}
			vlen = (size_t)(vend - v);
			if (vlen == 0 || vlen >= outlen)
				return -1;
			memcpy(out, v, vlen);
			out[vlen] = '\0';
			return 0;
		}
		p = end;
	}
	return -1;
}

int
device_set_cookie(char *out, size_t outlen, const char *token,
    int64_t max_age, bool secure)
{
	int	 n;

	if (*token == '\0')
		return -1;
	for (const char *c = token; *c != '\0'; c++)
		if (!cookie_octet((unsigned char)*c))
			return -1;
	n = snprintf(out, outlen, "%s=%s; Max-Age=%lld; Path=%s; HttpOnly; "
	    "SameSite=Strict%s", DEVICE_COOKIE, token, (long long)max_age,
	    DEVICE_COOKIE_PATH, secure ? "; Secure" : "");
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

bool
device_cookie_secure(const char *url)
{
	return url != NULL && strncasecmp(url, "https://", 8) == 0;
}
