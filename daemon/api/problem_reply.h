/*
 * The handlers' error replies, built from the problem catalogue
 * (http/problem.h).  Each is the handler's one reply (http/http.h, rule 1).
 * Details and messages are the caller's fixed text: never put a password,
 * a token, a stored hash or an internal error string into them, and never
 * say whether an account exists.
 */
#ifndef WARDEN_API_PROBLEM_REPLY_H
#define WARDEN_API_PROBLEM_REPLY_H

#include <stdbool.h>

#include "http/problem.h"

struct http_req;

/*
 * Replies the problem of type t with detail.  Use the functions below for
 * bearer routes' 401 and 403, 405, 422, 429 and 503 so their headers and members are right; this
 * one adds none.
 */
void	problem_reply(struct http_req *r, enum problem_type t,
	    const char *detail);

/* What a bearer route says of the credential (RFC 6750 3.1), in its
 * WWW-Authenticate: Bearer header and status. */
enum bearer_error {
	BEARER_NO_TOKEN = 0,		/* 401, no error code (RFC 6750 3:
					 * none presented, or another scheme) */
	BEARER_INVALID_REQUEST,		/* 400 error="invalid_request" */
	BEARER_INVALID_TOKEN,		/* 401 error="invalid_token" */
	BEARER_INSUFFICIENT_SCOPE,	/* 403 error="insufficient_scope" */
};

/* The problem for e (401, 400 or 403) with its WWW-Authenticate. */
void	problem_bearer(struct http_req *r, enum bearer_error e,
	    const char *detail);

/* 405 with Allow: allow (a route_allow_header() string). */
void	problem_method_not_allowed(struct http_req *r, const char *allow);

/* 429 or 503 (t is PROBLEM_RATE_LIMITED or PROBLEM_UNAVAILABLE) with
 * Retry-After: retry_after seconds (at least 1). */
void	problem_retry(struct http_req *r, enum problem_type t,
	    unsigned int retry_after, const char *detail);

/* Replies 422 validation with detail "N fields are invalid" ("1 field is
 * invalid") and the errors; frees pf's contents. */
void	problem_reply_validation(struct http_req *r,
	    struct problem_fields *pf);

/*
 * Replies {"error": code, "error_description": description} with status
 * per e, Cache-Control: no-store, Pragma: no-cache; retry_after (>= 1)
 * is sent as Retry-After for OAUTH_TOO_MANY_REQUESTS and ignored else.
 */
void	problem_oauth(struct http_req *r, enum oauth_error e,
	    const char *description, unsigned int retry_after);

/* 415 at an OAuth endpoint: invalid_request's body and headers, with
 * the status that says what is wrong (RFC 9110 15.5.16). */
void	problem_oauth_media_type(struct http_req *r, const char *description);

#endif
