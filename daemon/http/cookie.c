/*
 * The Cookie request header's reader (cookie.h), moved here from
 * api/device.c so that the portal's cookies share it.
 */
#include <string.h>

#include "cookie.h"

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

bool
cookie_value_ok(const char *s)
{
	if (s == NULL || *s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!cookie_octet((unsigned char)*s))
			return false;
	return true;
}

int
cookie_get(const char *header, const char *name, char *out, size_t outlen)
{
	const char *p = header, *end, *eq, *v, *vend;
	size_t	 nlen, vlen;

	if (header == NULL || name == NULL || out == NULL || outlen == 0)
		return -1;
	nlen = strlen(name);
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
