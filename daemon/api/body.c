#include <stdbool.h>

#include <cjson/cJSON.h>

#include "body.h"
#include "http/http.h"
#include "http/json_in.h"
#include "problem_reply.h"

bool
body_is_json(struct http_req *r)
{
	/* A PATCH body is a JSON merge patch (RFC 7396), under either
	 * name. */
	return http_req_content_type_is(r, "application/json") ||
	    (r->method == EVHTTP_REQ_PATCH &&
	    http_req_content_type_is(r, "application/merge-patch+json"));
}

bool
body_is_form(struct http_req *r)
{
	return http_req_content_type_is(r,
	    "application/x-www-form-urlencoded");
}

int
body_json(struct http_req *r, unsigned int max_depth, cJSON **out)
{
	char	 why[JSON_IN_WHY_MAX];
	int	 rc;

	*out = NULL;
	if (!body_is_json(r)) {
		problem_reply(r, PROBLEM_UNSUPPORTED_MEDIA_TYPE,
		    r->method == EVHTTP_REQ_PATCH ? "the body must be "
		    "application/json or application/merge-patch+json" :
		    "the body must be application/json");
		return -1;
	}
	rc = json_in_parse(r->body, r->body_len, max_depth, out, why,
	    sizeof(why));
	if (rc == -2) {
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return -1;
	}
	if (rc == -1) {
		problem_reply(r, PROBLEM_MALFORMED, why);
		return -1;
	}
	return 0;
}
