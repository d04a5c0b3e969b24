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
 * 401, 405, 422, 429 and 503 so their headers and members are right; this
 * one adds none.
 */
void	problem_reply(struct http_req *r, enum problem_type t,
	    const char *detail);

/* 401 with WWW-Authenticate: Bearer error="invalid_token" when a token was
 * sent and rejected, plain Bearer when none was sent. */
void	problem_unauthorized(struct http_req *r, bool token_sent,
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

#endif
