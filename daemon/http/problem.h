/*
 * Error responses.  Everywhere but the token endpoints: RFC 9457 problem
 * details, application/problem+json,
 *	{"type": "urn:warden:problem:<name>", "title": "<fixed per type>",
 *	 "status": <fixed per type>, "detail": "<the caller's text>"}
 * with "errors": [{"field", "message"}, ...] for validation.  At the
 * token endpoints (POST /auth/token, /auth/revoke): RFC 6749 section 5.2,
 * application/json {"error", "error_description"} with Cache-Control:
 * no-store and Pragma: no-cache.
 *
 * This is the catalogue and the bodies only: nothing here replies (the
 * handlers' replies are api/problem_reply.h; the server, request.c,
 * renders its own 404, 405, 413 and 500 from problem_json()).  Details
 * and messages are the caller's fixed text: never put a password, a
 * token, a stored hash or an internal error string into them, and never
 * say whether an account exists.
 */
#ifndef WARDEN_PROBLEM_H
#define WARDEN_PROBLEM_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#define PROBLEM_CTYPE	"application/problem+json"

/* The body sent when even a problem cannot be built (500 internal). */
extern const char problem_oom_body[];

enum problem_type {
	PROBLEM_MALFORMED = 0,		/* 400 malformed-request */
	PROBLEM_INVALID_TOKEN,		/* 400 invalid-token: a one-time
					 * link's token */
	PROBLEM_UNAUTHORIZED,		/* 401 unauthorized */
	PROBLEM_FORBIDDEN,		/* 403 forbidden */
	PROBLEM_NOT_FOUND,		/* 404 not-found */
	PROBLEM_METHOD_NOT_ALLOWED,	/* 405 method-not-allowed */
	PROBLEM_CONFLICT,		/* 409 conflict */
	PROBLEM_PAYLOAD_TOO_LARGE,	/* 413 payload-too-large */
	PROBLEM_UNSUPPORTED_MEDIA_TYPE,	/* 415 unsupported-media-type */
	PROBLEM_VALIDATION,		/* 422 validation */
	PROBLEM_RATE_LIMITED,		/* 429 rate-limited */
	PROBLEM_INTERNAL,		/* 500 internal */
	PROBLEM_UNAVAILABLE,		/* 503 unavailable */
	PROBLEM_NTYPES
};

/* Static facts of a type: status, "<name>", title. */
int	 problem_status(enum problem_type t);
const char *problem_name(enum problem_type t);
const char *problem_title(enum problem_type t);

/*
 * Builds the problem object of type t with detail (NULL: no "detail").
 * Returns a new object the caller owns, or NULL when out of memory.
 */
cJSON	*problem_json(enum problem_type t, const char *detail);

/*
 * Validation errors, collected then sent as one 422:
 *	struct problem_fields pf;
 *	problem_fields_init(&pf);
 *	problem_field_add(&pf, "email", "must be a valid e-mail address");
 *	if (problem_fields_count(&pf) > 0)
 *		return problem_reply_validation(r, &pf);
 *	problem_fields_free(&pf);
 * Fields after the first PROBLEM_FIELDS_MAX are counted but not listed.
 * Field names are copied (a long one cut at a character boundary);
 * messages are the caller's fixed text.
 */
#define PROBLEM_FIELDS_MAX	32
#define PROBLEM_FIELD_NAME_MAX	64	/* bytes kept of a field name */

struct problem_fields {
	cJSON	*errors;	/* the array, NULL until the first field */
	size_t	 n;		/* fields added, listed or not */
	bool	 oom;
};

void	problem_fields_init(struct problem_fields *pf);
void	problem_field_add(struct problem_fields *pf, const char *field,
	    const char *message);
size_t	problem_fields_count(const struct problem_fields *pf);
void	problem_fields_free(struct problem_fields *pf);

/* The 422 validation object, detail "N fields are invalid" ("1 field is
 * invalid") and the errors; frees pf's contents.  NULL when out of memory. */
cJSON	*problem_validation_json(struct problem_fields *pf);

/* RFC 6749 5.2 token endpoint errors. */
enum oauth_error {
	OAUTH_INVALID_REQUEST = 0,	/* 400 */
	OAUTH_INVALID_CLIENT,		/* 401, WWW-Authenticate: Basic */
	OAUTH_INVALID_GRANT,		/* 400 */
	OAUTH_UNAUTHORIZED_CLIENT,	/* 400 */
	OAUTH_UNSUPPORTED_GRANT_TYPE,	/* 400 */
	OAUTH_INVALID_SCOPE,		/* 400 */
	OAUTH_TOO_MANY_REQUESTS,	/* 429, Retry-After */
	OAUTH_UNSUPPORTED_TOKEN_TYPE,	/* 400, RFC 7009 2.2.1 */
	OAUTH_NERRORS
};

/* The "error" code and the status of e. */
const char *oauth_error_code(enum oauth_error e);
int	 oauth_error_status(enum oauth_error e);

/* {"error": code, "error_description": description (NULL: none)}, or
 * NULL when out of memory. */
cJSON	*oauth_error_json(enum oauth_error e, const char *description);

#endif
