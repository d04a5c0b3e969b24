/*
 * The route table: one row per {method, path pattern, handler, auth
 * requirement}, and the one place that turns a method and a path into a
 * row, a 404 or a 405 (STYLE.md, "one table per dispatch").
 *
 * Patterns are absolute paths whose segments are literals or parameters:
 *	"/api/v1/users/me"
 *	"/api/v1/users/{id:uuid}"	a lower-case hyphenated UUID only
 *	"/api/v1/things/{name}"		1..ROUTE_PARAM_MAX bytes of RFC 3986
 *					unreserved characters [A-Za-z0-9._~-]
 * Segments are compared raw (never percent-decoded): "/api/v1/%75sers" is
 * not "/api/v1/users".  A path with an empty segment ("//", a trailing
 * '/') matches no pattern but the root "/".
 *
 * Path ids that are not UUIDs answer 404 (API.md) because a {x:uuid}
 * segment does not match them: the handler never sees a malformed id.
 * The caller must still show what the route asks for first (a 401 before
 * the 404): route_match() says so in m->auth.
 *
 * When several patterns match one path, the most specific wins, segment
 * by segment from the left: a literal beats {x:uuid}, which beats {x}.
 * The routes that share the winning pattern are the path's resource: the
 * method picks one of them, else the answer is 405 with their methods in
 * Allow.  HEAD is served by a GET route when there is no HEAD route (the
 * server drops the body); Allow then lists HEAD too.
 */
#ifndef WARDEN_ROUTE_H
#define WARDEN_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/http.h>	/* enum evhttp_cmd_type: EVHTTP_REQ_GET, ... */

struct http_req;

/* Who may call a route.  The server does not enforce this itself: the
 * dispatch hook (http_server_set_dispatch()) reads route->auth. */
enum route_auth {
	ROUTE_AUTH_NONE = 0,	/* anyone */
	ROUTE_AUTH_BEARER,	/* a valid access token */
	ROUTE_AUTH_ADMIN,	/* a valid access token with the admin role */
};

/* A handler starts the work for one request and returns; it (or a
 * callback it arranged) replies exactly once, later or at once (http.h). */
typedef void route_handler_fn(struct http_req *r);

struct route {
	enum evhttp_cmd_type	 method;	/* one EVHTTP_REQ_* */
	const char		*pattern;	/* static storage */
	route_handler_fn	*handler;
	enum route_auth		 auth;
};

#define ROUTE_MAX_PARAMS	4	/* parameters in one pattern */
#define ROUTE_PARAM_MAX		64	/* bytes of one parameter value */
#define ROUTE_NAME_MAX		31	/* bytes of one parameter name */
#define ROUTE_PATH_MAX		2048	/* longer paths match nothing */

struct route_param {
	char	name[ROUTE_NAME_MAX + 1];
	char	value[ROUTE_PARAM_MAX + 1];
};

/* The parameters of a matched path, copied out of it (no pointers into
 * the request), in pattern order. */
struct route_params {
	size_t			n;
	struct route_param	v[ROUTE_MAX_PARAMS];
};

enum route_result {
	ROUTE_FOUND = 0,		/* m->route and m->params are set */
	ROUTE_NOT_FOUND,		/* 404 */
	ROUTE_METHOD_NOT_ALLOWED,	/* 405; m->allow holds the methods */
};

struct route_match {
	const struct route	*route;		/* ROUTE_FOUND: the row */
	const char		*pattern;	/* FOUND and 405: the pattern of
						 * the path's resource */
	enum route_auth		 auth;		/* NOT_FOUND: the strongest auth
						 * of the routes the path would
						 * match if its parameters took
						 * any segment */
	struct route_params	 params;	/* ROUTE_FOUND: its parameters */
	unsigned int		 allow;		/* FOUND and 405: EVHTTP_REQ_* bits
						 * of the path's resource */
};

/*
 * Checks a table once at start-up: every pattern absolute, with non-empty
 * segments, well-formed {name} or {name:uuid} parameters (at most
 * ROUTE_MAX_PARAMS, names unique within the pattern), a single method and a
 * handler per row, no two rows with the same method and pattern, and no
 * two different patterns that match the same paths ("/a/{x}" and "/a/{y}").
 * Returns 0, or -1 with the offending pattern and reason in err.
 */
int	route_table_check(const struct route *table, size_t n, char *err,
	    size_t errlen);

/*
 * Matches method and path (the URI's path: no query, no fragment, not
 * decoded) against the n rows of table, which route_table_check() accepted.
 * Fills *m and returns what to answer.  Never allocates.
 */
enum route_result route_match(const struct route *table, size_t n,
	    enum evhttp_cmd_type method, const char *path,
	    struct route_match *m);

/* The value of parameter name in p, or NULL when the pattern has none. */
const char *route_param(const struct route_params *p, const char *name);

/*
 * Writes the methods of the bit set allow as an Allow header value in a
 * fixed order ("GET, HEAD, PATCH, DELETE") into buf.  Returns 0, or -1
 * when buf is too small (buf then holds "").
 */
int	route_allow_header(unsigned int allow, char *buf, size_t len);

/* "GET", "POST", ... for one EVHTTP_REQ_* value; "?" for anything else. */
const char *route_method_name(enum evhttp_cmd_type method);

#endif
