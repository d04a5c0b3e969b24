/*
 * The handlers' error replies: the problem catalogue (http/problem.h)
 * rendered and sent with the headers each kind needs.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "http/http.h"
#include "problem_reply.h"
#include "util.h"

void
problem_reply(struct http_req *r, enum problem_type t, const char *detail)
{
	http_reply_doc(r, problem_status(t), PROBLEM_CTYPE,
	    problem_json(t, detail));
}

void
problem_bearer(struct http_req *r, enum bearer_error e, const char *detail)
{
	static const struct {
		const char		*challenge;
		enum problem_type	 type;
	} as[] = {
		[BEARER_NO_TOKEN] = { "Bearer", PROBLEM_UNAUTHORIZED },
		[BEARER_INVALID_REQUEST] = { "Bearer error=\"invalid_request\"",
		    PROBLEM_MALFORMED },
		[BEARER_INVALID_TOKEN] = { "Bearer error=\"invalid_token\"",
		    PROBLEM_UNAUTHORIZED },
		[BEARER_INSUFFICIENT_SCOPE] = {
		    "Bearer error=\"insufficient_scope\"", PROBLEM_FORBIDDEN },
	};

	http_set_header(r, "WWW-Authenticate", as[e].challenge);
	problem_reply(r, as[e].type, detail);
}

void
problem_method_not_allowed(struct http_req *r, const char *allow)
{
	http_set_header(r, "Allow", allow);
	problem_reply(r, PROBLEM_METHOD_NOT_ALLOWED,
	    "the method is not allowed on this resource");
}

static void
set_retry_after(struct http_req *r, unsigned int seconds)
{
	char	 v[16];

	if (seconds == 0)
		seconds = 1;
	if (str_printf(v, sizeof(v), "%u", seconds) == 0)
		http_set_header(r, "Retry-After", v);
}

void
problem_retry(struct http_req *r, enum problem_type t,
    unsigned int retry_after, const char *detail)
{
	if (t != PROBLEM_RATE_LIMITED && t != PROBLEM_UNAVAILABLE)
		t = PROBLEM_UNAVAILABLE;
	set_retry_after(r, retry_after);
	problem_reply(r, t, detail);
}

void
problem_reply_validation(struct http_req *r, struct problem_fields *pf)
{
	http_reply_doc(r, problem_status(PROBLEM_VALIDATION), PROBLEM_CTYPE,
	    problem_validation_json(pf));
}

/* The OAuth error body of e with status. */
static void
send_oauth(struct http_req *r, enum oauth_error e, int status,
    const char *description, unsigned int retry_after)
{
	http_no_store(r, true);
	if (e == OAUTH_INVALID_CLIENT)
		http_set_header(r, "WWW-Authenticate", "Basic realm=\"warden\"");
	if (e == OAUTH_TOO_MANY_REQUESTS)
		set_retry_after(r, retry_after);
	http_reply_json(r, status, oauth_error_json(e, description));
}

void
problem_oauth(struct http_req *r, enum oauth_error e,
    const char *description, unsigned int retry_after)
{
	send_oauth(r, e, oauth_error_status(e), description, retry_after);
}

void
problem_oauth_media_type(struct http_req *r, const char *description)
{
	send_oauth(r, OAUTH_INVALID_REQUEST, 415, description, 0);
}
