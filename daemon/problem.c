/*
 * RFC 9457 problem details and RFC 6749 5.2 token errors.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "http.h"
#include "problem.h"
#include "util.h"

#define PROBLEM_CTYPE	"application/problem+json"
#define PROBLEM_URN	"urn:warden:problem:"

static const struct {
	int		 status;
	const char	*name;
	const char	*title;
} problems[PROBLEM_NTYPES] = {
	[PROBLEM_MALFORMED] = { 400, "malformed-request", "Malformed request" },
	[PROBLEM_UNAUTHORIZED] = { 401, "unauthorized",
	    "Authentication required" },
	[PROBLEM_FORBIDDEN] = { 403, "forbidden", "Forbidden" },
	[PROBLEM_NOT_FOUND] = { 404, "not-found", "Not found" },
	[PROBLEM_METHOD_NOT_ALLOWED] = { 405, "method-not-allowed",
	    "Method not allowed" },
	[PROBLEM_CONFLICT] = { 409, "conflict", "Conflict" },
	[PROBLEM_PAYLOAD_TOO_LARGE] = { 413, "payload-too-large",
	    "Payload too large" },
	[PROBLEM_UNSUPPORTED_MEDIA_TYPE] = { 415, "unsupported-media-type",
	    "Unsupported media type" },
	[PROBLEM_VALIDATION] = { 422, "validation",
	    "Request validation failed" },
	[PROBLEM_RATE_LIMITED] = { 429, "rate-limited", "Too many requests" },
	[PROBLEM_INTERNAL] = { 500, "internal", "Internal error" },
	[PROBLEM_UNAVAILABLE] = { 503, "unavailable", "Service unavailable" },
};

static const struct {
	int		 status;
	const char	*code;
} oauth_errors[OAUTH_NERRORS] = {
	[OAUTH_INVALID_REQUEST] = { 400, "invalid_request" },
	[OAUTH_INVALID_CLIENT] = { 401, "invalid_client" },
	[OAUTH_INVALID_GRANT] = { 400, "invalid_grant" },
	[OAUTH_UNAUTHORIZED_CLIENT] = { 400, "unauthorized_client" },
	[OAUTH_UNSUPPORTED_GRANT_TYPE] = { 400, "unsupported_grant_type" },
	[OAUTH_INVALID_SCOPE] = { 400, "invalid_scope" },
	[OAUTH_TOO_MANY_REQUESTS] = { 429, "too_many_requests" },
};

/* Sent when even the problem cannot be built. */
static const char oom_body[] =
    "{\"type\":\"" PROBLEM_URN "internal\",\"title\":\"Internal error\","
    "\"status\":500}";

static enum problem_type
type_ok(enum problem_type t)
{
	return (unsigned int)t < PROBLEM_NTYPES ? t : PROBLEM_INTERNAL;
}

int
problem_status(enum problem_type t)
{
	return problems[type_ok(t)].status;
}

const char *
problem_name(enum problem_type t)
{
	return problems[type_ok(t)].name;
}

const char *
problem_title(enum problem_type t)
{
	return problems[type_ok(t)].title;
}

cJSON *
problem_json(enum problem_type t, const char *detail)
{
	cJSON	*o;
	char	 type[64];

	t = type_ok(t);
	if (str_printf(type, sizeof(type), PROBLEM_URN "%s",
	    problems[t].name) == -1)
		return NULL;
	if ((o = cJSON_CreateObject()) == NULL)
		return NULL;
	if (cJSON_AddStringToObject(o, "type", type) == NULL ||
	    cJSON_AddStringToObject(o, "title", problems[t].title) == NULL ||
	    cJSON_AddNumberToObject(o, "status", problems[t].status) == NULL ||
	    (detail != NULL &&
	    cJSON_AddStringToObject(o, "detail", detail) == NULL)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* Serialises and sends o (consumed) as the problem of type t. */
static void
send_problem(struct http_req *r, enum problem_type t, cJSON *o)
{
	char	*s = NULL;

	if (o != NULL)
		s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (s == NULL) {
		http_reply_raw(r, 500, PROBLEM_CTYPE, oom_body,
		    sizeof(oom_body) - 1);
		return;
	}
	http_reply_raw(r, problem_status(t), PROBLEM_CTYPE, s, strlen(s));
	cJSON_free(s);
}

void
problem_reply(struct http_req *r, enum problem_type t, const char *detail)
{
	send_problem(r, type_ok(t), problem_json(t, detail));
}

void
problem_unauthorized(struct http_req *r, bool token_sent, const char *detail)
{
	http_set_header(r, "WWW-Authenticate",
	    token_sent ? "Bearer error=\"invalid_token\"" : "Bearer");
	problem_reply(r, PROBLEM_UNAUTHORIZED, detail);
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

/* ---- validation ---- */

void
problem_fields_init(struct problem_fields *pf)
{
	memset(pf, 0, sizeof(*pf));
}

size_t
problem_fields_count(const struct problem_fields *pf)
{
	return pf->n;
}

void
problem_fields_free(struct problem_fields *pf)
{
	cJSON_Delete(pf->errors);
	memset(pf, 0, sizeof(*pf));
}

void
problem_field_add(struct problem_fields *pf, const char *field,
    const char *message)
{
	cJSON	*e;
	char	 name[PROBLEM_FIELD_NAME_MAX + 1];
	size_t	 len;

	pf->n++;
	if (pf->oom || pf->n > PROBLEM_FIELDS_MAX)
		return;
	/* Cut a long name (a client's unknown member) at a UTF-8 character
	 * boundary: never echo kilobytes, never split a character. */
	len = strlen(field);
	if (len > PROBLEM_FIELD_NAME_MAX) {
		len = PROBLEM_FIELD_NAME_MAX;
		while (len > 0 && ((unsigned char)field[len] & 0xc0) == 0x80)
			len--;
	}
	memcpy(name, field, len);
	name[len] = '\0';

	if (pf->errors == NULL &&
	    (pf->errors = cJSON_CreateArray()) == NULL) {
		pf->oom = true;
		return;
	}
	if ((e = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(e, "field", name) == NULL ||
	    cJSON_AddStringToObject(e, "message", message) == NULL ||
	    !cJSON_AddItemToArray(pf->errors, e)) {
		cJSON_Delete(e);
		pf->oom = true;
	}
}

void
problem_reply_validation(struct http_req *r, struct problem_fields *pf)
{
	cJSON	*o;
	char	 detail[64];

	if (pf->n == 1)
		str_copy(detail, "1 field is invalid", sizeof(detail));
	else
		str_printf(detail, sizeof(detail), "%zu fields are invalid",
		    pf->n);
	o = problem_json(PROBLEM_VALIDATION, detail);
	if (o != NULL && !pf->oom) {
		if (pf->errors == NULL)
			pf->errors = cJSON_CreateArray();
		if (pf->errors == NULL ||
		    !cJSON_AddItemToObject(o, "errors", pf->errors)) {
			cJSON_Delete(o);
			o = NULL;
		} else
			pf->errors = NULL;	/* now o's */
	} else {
		cJSON_Delete(o);
		o = NULL;
	}
	problem_fields_free(pf);
	send_problem(r, PROBLEM_VALIDATION, o);
}

/* ---- RFC 6749 ---- */

static enum oauth_error
oauth_ok(enum oauth_error e)
{
	return (unsigned int)e < OAUTH_NERRORS ? e : OAUTH_INVALID_REQUEST;
}

const char *
oauth_error_code(enum oauth_error e)
{
	return oauth_errors[oauth_ok(e)].code;
}

int
oauth_error_status(enum oauth_error e)
{
	return oauth_errors[oauth_ok(e)].status;
}

void
problem_oauth(struct http_req *r, enum oauth_error e,
    const char *description, unsigned int retry_after)
{
	cJSON	*o;
	char	*s = NULL;

	e = oauth_ok(e);
	http_no_store(r, true);
	if (e == OAUTH_INVALID_CLIENT)
		http_set_header(r, "WWW-Authenticate", "Basic realm=\"warden\"");
	if (e == OAUTH_TOO_MANY_REQUESTS)
		set_retry_after(r, retry_after);

	if ((o = cJSON_CreateObject()) != NULL &&
	    cJSON_AddStringToObject(o, "error", oauth_errors[e].code) != NULL &&
	    (description == NULL || cJSON_AddStringToObject(o,
	    "error_description", description) != NULL))
		s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (s == NULL) {
		http_reply_raw(r, 500, PROBLEM_CTYPE, oom_body,
		    sizeof(oom_body) - 1);
		return;
	}
	http_reply_raw(r, oauth_errors[e].status, "application/json", s,
	    strlen(s));
	cJSON_free(s);
}
