/*
 * RFC 9457 problem details and RFC 6749 5.2 token errors: the catalogue
 * and the bodies, never the replies (api/problem_reply.c sends them).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "problem.h"
#include "util.h"

#define PROBLEM_URN	"urn:warden:problem:"

static const struct {
	int		 status;
	const char	*name;
	const char	*title;
} problems[PROBLEM_NTYPES] = {
	[PROBLEM_MALFORMED] = { 400, "malformed-request", "Malformed request" },
	[PROBLEM_INVALID_TOKEN] = { 400, "invalid-token",
	    "Invalid or expired token" },
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
	[OAUTH_UNSUPPORTED_TOKEN_TYPE] = { 400, "unsupported_token_type" },
};

const char problem_oom_body[] =
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

cJSON *
problem_validation_json(struct problem_fields *pf)
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
	return o;
}

cJSON *
oauth_error_json(enum oauth_error e, const char *description)
{
	cJSON	*o;

	if ((o = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(o, "error", oauth_error_code(e)) == NULL ||
	    (description != NULL && cJSON_AddStringToObject(o,
	    "error_description", description) == NULL)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}
