/*
 * CORS's headers on the answers of the resources that allow it, and the
 * answer to OPTIONS (http_int.h); server.c calls these while routing.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <event2/http.h>

#include "cors.h"
#include "evwipe.h"
#include "http_int.h"

bool
cors_route_has(const struct http_server *srv, const char *pattern)
{
	size_t	 i;

	if (pattern == NULL || srv->cors.n == 0)
		return false;
	for (i = 0; i < srv->ncors_routes; i++)
		if (strcmp(srv->cors_routes[i], pattern) == 0)
			return true;
	return false;
}

void
cors_decorate(const struct http_server *srv, struct http_req *r)
{
	const char	*origin = http_req_header(r, "Origin");

	http_set_header(r, "Vary", "Origin");
	if (!http_cors_allows(&srv->cors, origin))
		return;
	http_set_header(r, "Access-Control-Allow-Origin", origin);
	http_set_header(r, "Access-Control-Expose-Headers",
	    CORS_EXPOSE_HEADERS);
}

void
cors_options(const struct http_server *srv, struct http_req *r,
    const char *allow, bool cors)
{
	const char	*origin = http_req_header(r, "Origin");

	http_set_header(r, "Allow", allow);
	if (cors) {
		http_set_header(r, "Vary", "Origin, Access-Control-Request-"
		    "Method, Access-Control-Request-Headers");
		if (http_cors_allows(&srv->cors, origin) &&
		    http_req_header(r, "Access-Control-Request-Method") !=
		    NULL) {
			http_set_header(r, "Access-Control-Allow-Origin",
			    origin);
			http_set_header(r, "Access-Control-Allow-Methods",
			    allow);
			http_set_header(r, "Access-Control-Allow-Headers",
			    CORS_ALLOW_HEADERS);
			http_set_header(r, "Access-Control-Max-Age",
			    CORS_MAX_AGE);
		}
	}
	evwipe_drain(evhttp_request_get_input_buffer(r->evreq), SIZE_MAX);
	http_reply_empty(r, 204);
}
