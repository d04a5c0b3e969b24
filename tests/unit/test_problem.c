/* Unit tests of daemon/http/problem.c: the exact JSON of every problem type,
 * the validation list, the token endpoint errors, and their headers.
 * http_reply_raw(), http_set_header() and http_no_store() are replaced
 * (tests/unit/wrap.mk) to record what would be sent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "http/http.h"
#include "api/problem_reply.h"

/* ---- the recorder ---- */

static struct {
	int	 replies;
	int	 status;
	char	 ctype[64];
	char	 body[8192];
	char	 headers[1024];		/* "Name: value\n"... */
	int	 no_store;		/* 1: no-store, 2: and Pragma */
} sent;

void	__wrap_http_reply_raw(struct http_req *, int, const char *,
	    const void *, size_t);
int	__wrap_http_set_header(struct http_req *, const char *, const char *);
void	__wrap_http_no_store(struct http_req *, bool);

void
__wrap_http_reply_raw(struct http_req *r, int status, const char *ctype,
    const void *data, size_t len)
{
	sent.replies++;
	sent.status = status;
	snprintf(sent.ctype, sizeof(sent.ctype), "%s", ctype ? ctype : "");
	assert_true(len < sizeof(sent.body));
	memcpy(sent.body, data, len);
	sent.body[len] = '\0';
}

int
__wrap_http_set_header(struct http_req *r, const char *name,
    const char *value)
{
	size_t	 l = strlen(sent.headers);

	snprintf(sent.headers + l, sizeof(sent.headers) - l, "%s: %s\n", name,
	    value);
	return 0;
}

void
__wrap_http_no_store(struct http_req *r, bool pragma)
{
	sent.no_store = pragma ? 2 : 1;
}

static struct http_req req;

static int
reset(void **state)
{
	memset(&sent, 0, sizeof(sent));
	memset(&req, 0, sizeof(req));
	return 0;
}

static void
expect_sent(int status, const char *ctype, const char *body,
    const char *headers)
{
	assert_int_equal(sent.replies, 1);
	assert_int_equal(sent.status, status);
	assert_string_equal(sent.ctype, ctype);
	assert_string_equal(sent.body, body);
	assert_string_equal(sent.headers, headers);
}

#define PJ	"application/problem+json"

/* ---- tests ---- */

static void
test_every_type(void **state)
{
	static const struct {
		enum problem_type t;
		int		 status;
		const char	*json;
	} want[] = {
		{ PROBLEM_MALFORMED, 400, "{\"type\":\"urn:warden:problem:"
		    "malformed-request\",\"title\":\"Malformed request\","
		    "\"status\":400,\"detail\":\"d\"}" },
		{ PROBLEM_UNAUTHORIZED, 401, "{\"type\":\"urn:warden:problem:"
		    "unauthorized\",\"title\":\"Authentication required\","
		    "\"status\":401,\"detail\":\"d\"}" },
		{ PROBLEM_FORBIDDEN, 403, "{\"type\":\"urn:warden:problem:"
		    "forbidden\",\"title\":\"Forbidden\",\"status\":403,"
		    "\"detail\":\"d\"}" },
		{ PROBLEM_NOT_FOUND, 404, "{\"type\":\"urn:warden:problem:"
		    "not-found\",\"title\":\"Not found\",\"status\":404,"
		    "\"detail\":\"d\"}" },
		{ PROBLEM_METHOD_NOT_ALLOWED, 405, "{\"type\":\"urn:warden:"
		    "problem:method-not-allowed\",\"title\":\"Method not "
		    "allowed\",\"status\":405,\"detail\":\"d\"}" },
		{ PROBLEM_CONFLICT, 409, "{\"type\":\"urn:warden:problem:"
		    "conflict\",\"title\":\"Conflict\",\"status\":409,"
		    "\"detail\":\"d\"}" },
		{ PROBLEM_PAYLOAD_TOO_LARGE, 413, "{\"type\":\"urn:warden:"
		    "problem:payload-too-large\",\"title\":\"Payload too "
		    "large\",\"status\":413,\"detail\":\"d\"}" },
		{ PROBLEM_UNSUPPORTED_MEDIA_TYPE, 415, "{\"type\":\"urn:warden:"
		    "problem:unsupported-media-type\",\"title\":\"Unsupported "
		    "media type\",\"status\":415,\"detail\":\"d\"}" },
		{ PROBLEM_VALIDATION, 422, "{\"type\":\"urn:warden:problem:"
		    "validation\",\"title\":\"Request validation failed\","
		    "\"status\":422,\"detail\":\"d\"}" },
		{ PROBLEM_INVALID_TOKEN, 400, "{\"type\":\"urn:warden:problem:"
		    "invalid-token\",\"title\":\"Invalid or expired token\","
		    "\"status\":400,\"detail\":\"d\"}" },
		{ PROBLEM_RATE_LIMITED, 429, "{\"type\":\"urn:warden:problem:"
		    "rate-limited\",\"title\":\"Too many requests\","
		    "\"status\":429,\"detail\":\"d\"}" },
		{ PROBLEM_INTERNAL, 500, "{\"type\":\"urn:warden:problem:"
		    "internal\",\"title\":\"Internal error\",\"status\":500,"
		    "\"detail\":\"d\"}" },
		{ PROBLEM_UNAVAILABLE, 503, "{\"type\":\"urn:warden:problem:"
		    "unavailable\",\"title\":\"Service unavailable\","
		    "\"status\":503,\"detail\":\"d\"}" },
	};
	size_t	 i;

	assert_int_equal(sizeof(want) / sizeof(want[0]), PROBLEM_NTYPES);
	for (i = 0; i < PROBLEM_NTYPES; i++) {
		reset(NULL);
		assert_int_equal(problem_status(want[i].t), want[i].status);
		problem_reply(&req, want[i].t, "d");
		expect_sent(want[i].status, PJ, want[i].json, "");
	}
}

static void
test_no_detail_and_escaping(void **state)
{
	problem_reply(&req, PROBLEM_NOT_FOUND, NULL);
	expect_sent(404, PJ, "{\"type\":\"urn:warden:problem:not-found\","
	    "\"title\":\"Not found\",\"status\":404}", "");
	reset(NULL);
	problem_reply(&req, PROBLEM_CONFLICT, "a \"quoted\"\n\\ \xc3\xa9");
	expect_sent(409, PJ, "{\"type\":\"urn:warden:problem:conflict\","
	    "\"title\":\"Conflict\",\"status\":409,"
	    "\"detail\":\"a \\\"quoted\\\"\\n\\\\ \xc3\xa9\"}", "");
	/* an unknown type is an internal error, never an out-of-bounds read */
	reset(NULL);
	problem_reply(&req, (enum problem_type)99, NULL);
	assert_int_equal(sent.status, 500);
	assert_string_equal(problem_name((enum problem_type)-1), "internal");
}

/* RFC 6750 3 and 3.1: the challenge and status of each bearer error. */
static void
test_bearer_errors(void **state)
{
	problem_bearer(&req, BEARER_NO_TOKEN, "an access token is required");
	expect_sent(401, PJ, "{\"type\":\"urn:warden:problem:unauthorized\","
	    "\"title\":\"Authentication required\",\"status\":401,"
	    "\"detail\":\"an access token is required\"}",
	    "WWW-Authenticate: Bearer\n");
	reset(NULL);
	problem_bearer(&req, BEARER_INVALID_TOKEN, "x");
	assert_int_equal(sent.status, 401);
	assert_string_equal(sent.headers,
	    "WWW-Authenticate: Bearer error=\"invalid_token\"\n");
	reset(NULL);
	problem_bearer(&req, BEARER_INVALID_REQUEST, "x");
	assert_int_equal(sent.status, 400);
	assert_string_equal(sent.headers,
	    "WWW-Authenticate: Bearer error=\"invalid_request\"\n");
	reset(NULL);
	problem_bearer(&req, BEARER_INSUFFICIENT_SCOPE, "x");
	assert_int_equal(sent.status, 403);
	assert_string_equal(sent.headers,
	    "WWW-Authenticate: Bearer error=\"insufficient_scope\"\n");
}

static void
test_method_not_allowed(void **state)
{
	problem_method_not_allowed(&req, "GET, HEAD");
	assert_int_equal(sent.status, 405);
	assert_string_equal(sent.headers, "Allow: GET, HEAD\n");
	assert_non_null(strstr(sent.body, "method-not-allowed"));
}

static void
test_retry(void **state)
{
	problem_retry(&req, PROBLEM_RATE_LIMITED, 30, "slow down");
	expect_sent(429, PJ, "{\"type\":\"urn:warden:problem:rate-limited\","
	    "\"title\":\"Too many requests\",\"status\":429,"
	    "\"detail\":\"slow down\"}", "Retry-After: 30\n");
	reset(NULL);
	problem_retry(&req, PROBLEM_UNAVAILABLE, 0, "the hasher is busy");
	assert_int_equal(sent.status, 503);
	assert_string_equal(sent.headers, "Retry-After: 1\n");
	/* only 429 and 503 carry Retry-After */
	reset(NULL);
	problem_retry(&req, PROBLEM_NOT_FOUND, 5, "x");
	assert_int_equal(sent.status, 503);
}

static void
test_validation(void **state)
{
	struct problem_fields pf;

	problem_fields_init(&pf);
	problem_field_add(&pf, "email", "must be a valid e-mail address");
	problem_field_add(&pf, "password", "must be at least 8 characters");
	assert_int_equal(problem_fields_count(&pf), 2);
	problem_reply_validation(&req, &pf);
	/* the example of API.md, byte for byte but the spacing */
	expect_sent(422, PJ, "{\"type\":\"urn:warden:problem:validation\","
	    "\"title\":\"Request validation failed\",\"status\":422,"
	    "\"detail\":\"2 fields are invalid\",\"errors\":["
	    "{\"field\":\"email\",\"message\":\"must be a valid e-mail "
	    "address\"},{\"field\":\"password\",\"message\":\"must be at "
	    "least 8 characters\"}]}", "");
	assert_null(pf.errors);		/* consumed */

	reset(NULL);
	problem_fields_init(&pf);
	problem_field_add(&pf, "limit", "must be 1..200");
	problem_reply_validation(&req, &pf);
	expect_sent(422, PJ, "{\"type\":\"urn:warden:problem:validation\","
	    "\"title\":\"Request validation failed\",\"status\":422,"
	    "\"detail\":\"1 field is invalid\",\"errors\":["
	    "{\"field\":\"limit\",\"message\":\"must be 1..200\"}]}", "");
}

static void
test_validation_cap(void **state)
{
	struct problem_fields pf;
	cJSON	*o;
	char	 name[16];
	int	 i;

	problem_fields_init(&pf);
	for (i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		problem_field_add(&pf, name, "unknown member");
	}
	problem_reply_validation(&req, &pf);
	o = cJSON_Parse(sent.body);
	assert_non_null(o);
	assert_string_equal(cJSON_GetObjectItem(o, "detail")->valuestring,
	    "50 fields are invalid");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o, "errors")),
	    PROBLEM_FIELDS_MAX);
	cJSON_Delete(o);

	/* freeing without replying is fine too */
	problem_fields_init(&pf);
	problem_field_add(&pf, "a", "b");
	problem_fields_free(&pf);
	assert_int_equal(problem_fields_count(&pf), 0);
}

static void
test_oauth(void **state)
{
	static const struct {
		enum oauth_error e;
		int		 status;
		const char	*code;
	} want[] = {
		{ OAUTH_INVALID_REQUEST, 400, "invalid_request" },
		{ OAUTH_INVALID_CLIENT, 401, "invalid_client" },
		{ OAUTH_INVALID_GRANT, 400, "invalid_grant" },
		{ OAUTH_UNAUTHORIZED_CLIENT, 400, "unauthorized_client" },
		{ OAUTH_UNSUPPORTED_GRANT_TYPE, 400, "unsupported_grant_type" },
		{ OAUTH_INVALID_SCOPE, 400, "invalid_scope" },
		{ OAUTH_TOO_MANY_REQUESTS, 429, "too_many_requests" },
		{ OAUTH_UNSUPPORTED_TOKEN_TYPE, 400, "unsupported_token_type" },
	};
	char	 body[256];
	size_t	 i;

	assert_int_equal(sizeof(want) / sizeof(want[0]), OAUTH_NERRORS);
	for (i = 0; i < OAUTH_NERRORS; i++) {
		reset(NULL);
		assert_string_equal(oauth_error_code(want[i].e), want[i].code);
		assert_int_equal(oauth_error_status(want[i].e), want[i].status);
		problem_oauth(&req, want[i].e, "the grant is invalid", 7);
		snprintf(body, sizeof(body), "{\"error\":\"%s\","
		    "\"error_description\":\"the grant is invalid\"}",
		    want[i].code);
		assert_int_equal(sent.status, want[i].status);
		assert_string_equal(sent.ctype, "application/json");
		assert_string_equal(sent.body, body);
		assert_int_equal(sent.no_store, 2);
		if (want[i].e == OAUTH_INVALID_CLIENT)
			assert_string_equal(sent.headers,
			    "WWW-Authenticate: Basic realm=\"warden\"\n");
		else if (want[i].e == OAUTH_TOO_MANY_REQUESTS)
			assert_string_equal(sent.headers, "Retry-After: 7\n");
		else
			assert_string_equal(sent.headers, "");
	}
	reset(NULL);
	problem_oauth(&req, OAUTH_INVALID_GRANT, NULL, 0);
	expect_sent(400, "application/json", "{\"error\":\"invalid_grant\"}",
	    "");
}

static void
test_problem_json(void **state)
{
	cJSON	*o = problem_json(PROBLEM_FORBIDDEN, "not an admin");
	char	*s;

	assert_non_null(o);
	s = cJSON_PrintUnformatted(o);
	assert_string_equal(s, "{\"type\":\"urn:warden:problem:forbidden\","
	    "\"title\":\"Forbidden\",\"status\":403,"
	    "\"detail\":\"not an admin\"}");
	cJSON_free(s);
	cJSON_Delete(o);
	assert_string_equal(problem_title(PROBLEM_VALIDATION),
	    "Request validation failed");
	assert_string_equal(problem_name(PROBLEM_UNSUPPORTED_MEDIA_TYPE),
	    "unsupported-media-type");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_every_type, reset),
		cmocka_unit_test_setup(test_no_detail_and_escaping, reset),
		cmocka_unit_test_setup(test_bearer_errors, reset),
		cmocka_unit_test_setup(test_method_not_allowed, reset),
		cmocka_unit_test_setup(test_retry, reset),
		cmocka_unit_test_setup(test_validation, reset),
		cmocka_unit_test_setup(test_validation_cap, reset),
		cmocka_unit_test_setup(test_oauth, reset),
		cmocka_unit_test_setup(test_problem_json, reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
