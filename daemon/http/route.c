/*
 * The route table's matcher: patterns of literal and {param} segments,
 * most specific pattern first, 404 and 405 decided in one place.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "fields.h"
#include "route.h"
#include "util.h"

#define ROUTE_MAX_SEGMENTS	32

enum seg_kind {
	SEG_ANY = 0,		/* {name}: ranks lowest */
	SEG_UUID = 1,		/* {name:uuid} */
	SEG_LITERAL = 2,	/* ranks highest */
};

struct seg {
	enum seg_kind	 kind;
	const char	*text;		/* literal text, or the parameter name */
	size_t		 len;
};

static const struct {
	enum evhttp_cmd_type	 method;
	const char		*name;
} methods[] = {
	{ EVHTTP_REQ_GET, "GET" },
	{ EVHTTP_REQ_HEAD, "HEAD" },
	{ EVHTTP_REQ_POST, "POST" },
	{ EVHTTP_REQ_PUT, "PUT" },
	{ EVHTTP_REQ_PATCH, "PATCH" },
	{ EVHTTP_REQ_DELETE, "DELETE" },
	{ EVHTTP_REQ_OPTIONS, "OPTIONS" },
	{ EVHTTP_REQ_TRACE, "TRACE" },
	{ EVHTTP_REQ_CONNECT, "CONNECT" },
};

const char *
route_method_name(enum evhttp_cmd_type method)
{
	size_t	 i;

	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (methods[i].method == method)
			return methods[i].name;
	return "?";
}

static bool
is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~';
}

static bool
is_name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/* Parses the pattern segment p[0..len) into *s; -1 when malformed. */
static int
seg_parse(const char *p, size_t len, struct seg *s)
{
	const char	*colon;
	size_t		 i, nlen;

	if (len > 0 && p[0] == '{') {
		if (len < 3 || p[len - 1] != '}')
			return -1;
		colon = memchr(p + 1, ':', len - 2);
		nlen = colon != NULL ? (size_t)(colon - (p + 1)) : len - 2;
		if (nlen == 0 || nlen > ROUTE_NAME_MAX)
			return -1;
		for (i = 0; i < nlen; i++)
			if (!is_name_char((unsigned char)p[1 + i]))
				return -1;
		s->text = p + 1;
		s->len = nlen;
		if (colon == NULL)
			s->kind = SEG_ANY;
		else if ((size_t)(p + len - 1 - (colon + 1)) == 4 &&
		    memcmp(colon + 1, "uuid", 4) == 0)
			s->kind = SEG_UUID;
		else
			return -1;
		return 0;
	}
	for (i = 0; i < len; i++)
		if (p[i] == '{' || p[i] == '}' || p[i] == '?' || p[i] == '#' ||
		    p[i] == '%' || (unsigned char)p[i] <= ' ' ||
		    (unsigned char)p[i] >= 0x7f)
			return -1;
	s->kind = SEG_LITERAL;
	s->text = p;
	s->len = len;
	return 0;
}

/* Does path segment v[0..len) fit parameter kind k?  Loosely, any
 * parameter takes any segment. */
static bool
param_fits(enum seg_kind k, const char *v, size_t len, bool loose)
{
	char	 tmp[37];
	size_t	 i;

	/* Loosely, any segment would do: a caller learns nothing of a
	 * path before showing what its route asks for. */
	if (loose)
		return len > 0;
	if (k == SEG_UUID) {
		if (len != 36)
			return false;
		memcpy(tmp, v, 36);
		tmp[36] = '\0';
		return field_is_uuid(tmp);
	}
	if (len == 0 || len > ROUTE_PARAM_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (!is_unreserved((unsigned char)v[i]))
			return false;
	return true;
}

/*
 * Matches path against pattern.  On a match fills params (when not NULL)
 * and rank[] (one kind per segment) and returns the number of segments;
 * else returns 0.  Loosely (param_fits()), a parameter takes any
 * segment.
 */
static size_t
pattern_match(const char *pattern, const char *path, bool loose,
    struct route_params *params, unsigned char rank[ROUTE_MAX_SEGMENTS])
{
	struct route_param	*pp;
	struct seg		 s;
	size_t			 n = 0, pl, sl;

	if (params != NULL)
		params->n = 0;
	for (;;) {
		if (*pattern != '/' || *path != '/')
			return 0;
		pattern++;
		path++;
		pl = strcspn(pattern, "/");
		sl = strcspn(path, "/");
		if (n == ROUTE_MAX_SEGMENTS || seg_parse(pattern, pl, &s) == -1)
			return 0;
		if (s.kind == SEG_LITERAL) {
			if (sl != pl || memcmp(pattern, path, sl) != 0)
				return 0;
		} else {
			if (!param_fits(s.kind, path, sl, loose))
				return 0;
			if (params != NULL) {
				if (params->n == ROUTE_MAX_PARAMS)
					return 0;
				pp = &params->v[params->n++];
				memcpy(pp->name, s.text, s.len);
				pp->name[s.len] = '\0';
				memcpy(pp->value, path, sl);
				pp->value[sl] = '\0';
			}
		}
		rank[n++] = (unsigned char)s.kind;
		pattern += pl;
		path += sl;
		if (*pattern == '\0' && *path == '\0')
			return n;
		if (*pattern == '\0' || *path == '\0')
			return 0;
	}
}

/* Are the two well-formed patterns the same shape (they match exactly the
 * same paths)? */
static bool
pattern_same_shape(const char *a, const char *b)
{
	struct seg	 sa, sb;
	size_t		 la, lb;

	for (;;) {
		if (*a != '/' || *b != '/')
			return *a == *b;
		a++;
		b++;
		la = strcspn(a, "/");
		lb = strcspn(b, "/");
		if (seg_parse(a, la, &sa) == -1 || seg_parse(b, lb, &sb) == -1)
			return false;
		if (sa.kind != sb.kind)
			return false;
		if (sa.kind == SEG_LITERAL &&
		    (la != lb || memcmp(a, b, la) != 0))
			return false;
		a += la;
		b += lb;
	}
}

/* Checks one pattern; -1 with a reason in err when it is malformed. */
static int
pattern_check(const char *p, char *err, size_t errlen)
{
	struct seg	 s, names[ROUTE_MAX_PARAMS];
	const char	*seg;
	size_t		 len, nseg = 0, nparam = 0, i;

	if (p == NULL || p[0] != '/') {
		str_copy(err, "not an absolute path", errlen);
		return -1;
	}
	if (strlen(p) > ROUTE_PATH_MAX) {
		str_copy(err, "too long", errlen);
		return -1;
	}
	if (strcmp(p, "/") == 0)
		return 0;
	while (*p == '/') {
		seg = ++p;
		len = strcspn(seg, "/");
		if (len == 0 || seg_parse(seg, len, &s) == -1) {
			str_printf(err, errlen, "bad segment \"%.*s\"",
			    (int)len, seg);
			return -1;
		}
		if (++nseg > ROUTE_MAX_SEGMENTS) {
			str_copy(err, "too many segments", errlen);
			return -1;
		}
		if (s.kind != SEG_LITERAL) {
			if (nparam == ROUTE_MAX_PARAMS) {
				str_copy(err, "too many parameters", errlen);
				return -1;
			}
			for (i = 0; i < nparam; i++) {
				if (names[i].len == s.len &&
				    memcmp(names[i].text, s.text, s.len) == 0) {
					str_copy(err, "a parameter twice",
					    errlen);
					return -1;
				}
			}
			names[nparam++] = s;
		}
		p = seg + len;
	}
	return 0;
}

int
route_table_check(const struct route *t, size_t n, char *err, size_t errlen)
{
	size_t	 i, j;
	char	 why[256];

	for (i = 0; i < n; i++) {
		if (pattern_check(t[i].pattern, why, sizeof(why)) == -1) {
			str_printf(err, errlen, "route %s: %s",
			    t[i].pattern != NULL ? t[i].pattern : "(null)", why);
			return -1;
		}
		if (t[i].handler == NULL) {
			str_printf(err, errlen, "route %s: no handler",
			    t[i].pattern);
			return -1;
		}
		if (strcmp(route_method_name(t[i].method), "?") == 0) {
			str_printf(err, errlen, "route %s: not one method",
			    t[i].pattern);
			return -1;
		}
		if (t[i].auth != ROUTE_AUTH_NONE &&
		    t[i].auth != ROUTE_AUTH_BEARER &&
		    t[i].auth != ROUTE_AUTH_ADMIN) {
			str_printf(err, errlen, "route %s: bad auth",
			    t[i].pattern);
			return -1;
		}
	}
	for (i = 0; i < n; i++) {
		for (j = i + 1; j < n; j++) {
			if (strcmp(t[i].pattern, t[j].pattern) == 0) {
				if (t[i].method != t[j].method)
					continue;
				str_printf(err, errlen, "route %s %s: twice",
				    route_method_name(t[i].method),
				    t[i].pattern);
				return -1;
			}
			if (pattern_same_shape(t[i].pattern, t[j].pattern)) {
				str_printf(err, errlen,
				    "routes %s and %s match the same paths",
				    t[i].pattern, t[j].pattern);
				return -1;
			}
		}
	}
	return 0;
}

/* Compares two rank vectors of n segments: >0 when a is more specific. */
static int
rank_cmp(const unsigned char *a, const unsigned char *b, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (a[i] != b[i])
			return a[i] > b[i] ? 1 : -1;
	return 0;
}

/*
 * What a caller must show before learning that an id is malformed: the
 * auth of the most specific pattern that matches path loosely (a typed
 * parameter taking any segment), the strongest among equals.  So
 * /users/me/identities/x asks for the bearer of the "me" route, not the
 * admin of /users/{id:uuid}/identities/{identity:uuid}: a literal beats
 * a parameter here as in route_match().
 */
static enum route_auth
loose_auth(const struct route *t, size_t n, const char *path)
{
	unsigned char	 rank[ROUTE_MAX_SEGMENTS], best[ROUTE_MAX_SEGMENTS];
	enum route_auth	 auth = ROUTE_AUTH_NONE;
	size_t		 i, nseg;
	bool		 any = false;
	int		 c;

	for (i = 0; i < n; i++) {
		if ((nseg = pattern_match(t[i].pattern, path, true, NULL,
		    rank)) == 0)
			continue;
		c = any ? rank_cmp(rank, best, nseg) : 1;
		if (c > 0 || (c == 0 && t[i].auth > auth)) {
			auth = t[i].auth;
			memcpy(best, rank, nseg);
			any = true;
		}
	}
	return auth;
}

enum route_result
route_match(const struct route *t, size_t n, enum evhttp_cmd_type method,
    const char *path, struct route_match *m)
{
	unsigned char	 rank[ROUTE_MAX_SEGMENTS], best_rank[ROUTE_MAX_SEGMENTS];
	const struct route *best = NULL, *found = NULL, *get = NULL;
	size_t		 i, nseg;

	memset(m, 0, sizeof(*m));
	if (path == NULL || strnlen(path, ROUTE_PATH_MAX + 1) > ROUTE_PATH_MAX)
		return ROUTE_NOT_FOUND;

	for (i = 0; i < n; i++) {
		if (best != NULL && strcmp(t[i].pattern, best->pattern) == 0)
			continue;
		nseg = pattern_match(t[i].pattern, path, false, NULL, rank);
		if (nseg == 0)
			continue;
		/* Every pattern that matches has as many segments as the
		 * path, so the rank vectors compare position by position. */
		if (best == NULL || rank_cmp(rank, best_rank, nseg) > 0) {
			best = &t[i];
			memcpy(best_rank, rank, nseg);
		}
	}
	if (best == NULL) {
		m->auth = loose_auth(t, n, path);
		return ROUTE_NOT_FOUND;
	}
	m->pattern = best->pattern;

	for (i = 0; i < n; i++) {
		if (strcmp(t[i].pattern, best->pattern) != 0)
			continue;
		m->allow |= (unsigned int)t[i].method;
		if (t[i].method == method && found == NULL)
			found = &t[i];
		if (t[i].method == EVHTTP_REQ_GET && get == NULL)
			get = &t[i];
	}
	if (get != NULL)
		m->allow |= EVHTTP_REQ_HEAD;
	if (found == NULL && method == EVHTTP_REQ_HEAD)
		found = get;
	if (found == NULL)
		return ROUTE_METHOD_NOT_ALLOWED;

	m->route = found;
	(void)pattern_match(found->pattern, path, false, &m->params, rank);
	return ROUTE_FOUND;
}

const char *
route_param(const struct route_params *p, const char *name)
{
	size_t	 i;

	for (i = 0; i < p->n; i++)
		if (strcmp(p->v[i].name, name) == 0)
			return p->v[i].value;
	return NULL;
}

int
route_allow_header(unsigned int allow, char *buf, size_t len)
{
	size_t	 i, used = 0, l;
	bool	 first = true;

	if (len == 0)
		return -1;
	buf[0] = '\0';
	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		if ((allow & (unsigned int)methods[i].method) == 0)
			continue;
		l = strlen(methods[i].name) + (first ? 0 : 2);
		if (used + l + 1 > len) {
			buf[0] = '\0';
			return -1;
		}
		if (!first) {
			memcpy(buf + used, ", ", 2);
			used += 2;
		}
		memcpy(buf + used, methods[i].name, strlen(methods[i].name));
		used += strlen(methods[i].name);
		buf[used] = '\0';
		first = false;
	}
	return 0;
}
