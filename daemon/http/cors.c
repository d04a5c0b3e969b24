/*
 * The list of origins that CORS lets in, checked once at (re)load.
 */
#include <stdbool.h>
#include <string.h>

#include "cors.h"
#include "util.h"

static bool
is_host_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	    ch == '-' || ch == '.';
}

/* ":port" at p, up to the end: 1..65535, no leading zero. */
static bool
port_ok(const char *p)
{
	unsigned long	 v = 0;
	size_t		 i;

	if (*p == '\0')
		return true;
	if (*p++ != ':' || *p == '\0' || *p == '0')
		return false;
	for (i = 0; p[i] != '\0'; i++) {
		if (p[i] < '0' || p[i] > '9' || i >= 5)
			return false;
		v = v * 10 + (unsigned long)(p[i] - '0');
	}
	return v <= 65535;
}

/* Why o is not a serialised origin, or NULL when it is one. */
static const char *
origin_fault(const char *o)
{
	const char	*h;
	size_t		 len;

	if (strlen(o) > CORS_ORIGIN_MAX)
		return "longer than " STRINGIFY(CORS_ORIGIN_MAX) " bytes";
	if (strcmp(o, "*") == 0 || strcmp(o, "null") == 0)
		return "origins are listed one by one (no \"*\" or \"null\")";
	if (strncmp(o, "https://", 8) == 0)
		h = o + 8;
	else if (strncmp(o, "http://", 7) == 0)
		h = o + 7;
	else
		return "must start with http:// or https://";
	if (*h == '[') {
		len = strspn(h + 1, "0123456789abcdef:.");
		if (len == 0 || h[1 + len] != ']')
			return "a bad [IPv6] address";
		h += len + 2;
	} else {
		for (len = 0; is_host_char(h[len]); len++)
			;
		if (len == 0 || h[0] == '.' || h[0] == '-' ||
		    h[len - 1] == '.')
			return "a bad host (lower case, no path, no "
			    "trailing '/')";
		h += len;
	}
	if (!port_ok(h))
		return "only a :port of 1..65535 may follow the host (lower "
		    "case, no path, no trailing '/')";
	return NULL;
}

int
http_cors_parse(struct http_cors *c, char *const *v, size_t n, char *err,
    size_t errlen)
{
	const char	*why;
	size_t		 i;

	memset(c, 0, sizeof(*c));
	if (n > CFG_MAX_LIST) {
		str_printf(err, errlen, "cors_origins: more than %d entries",
		    CFG_MAX_LIST);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if ((why = origin_fault(v[i])) != NULL) {
			str_printf(err, errlen, "cors_origins: \"%s\": %s",
			    v[i], why);
			return -1;
		}
		str_copy(c->origins[c->n++], v[i], sizeof(c->origins[0]));
	}
	return 0;
}

bool
http_cors_allows(const struct http_cors *c, const char *origin)
{
	size_t	 i;

	if (origin == NULL)
		return false;
	for (i = 0; i < c->n; i++)
		if (strcmp(c->origins[i], origin) == 0)
			return true;
	return false;
}
