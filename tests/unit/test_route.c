/* Unit tests of daemon/http/route.c: the table check, matching, parameters,
 * specificity, 404 and 405 with Allow. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http/route.h"

static void h_a(struct http_req *r) { (void)r; }
static void h_b(struct http_req *r) { (void)r; }

#define UUID	"0b6f1c2e-8a3d-4f5e-9a1b-2c3d4e5f6a7b"
#define N(t)	(sizeof(t) / sizeof((t)[0]))

/* The shape of the real table (API.md). */
static const struct route api[] = {
	{ EVHTTP_REQ_GET, "/healthz", h_a, ROUTE_AUTH_NONE },
	{ EVHTTP_REQ_GET, "/", h_a, ROUTE_AUTH_NONE },
	{ EVHTTP_REQ_POST, "/api/v1/users", h_a, ROUTE_AUTH_NONE },
	{ EVHTTP_REQ_GET, "/api/v1/users", h_b, ROUTE_AUTH_ADMIN },
	{ EVHTTP_REQ_GET, "/api/v1/users/me", h_a, ROUTE_AUTH_BEARER },
	{ EVHTTP_REQ_PATCH, "/api/v1/users/me", h_a, ROUTE_AUTH_BEARER },
	{ EVHTTP_REQ_DELETE, "/api/v1/users/me", h_a, ROUTE_AUTH_BEARER },
	{ EVHTTP_REQ_POST, "/api/v1/users/me/password", h_a,
	    ROUTE_AUTH_BEARER },
	{ EVHTTP_REQ_GET, "/api/v1/users/{id:uuid}", h_b, ROUTE_AUTH_ADMIN },
	{ EVHTTP_REQ_PATCH, "/api/v1/users/{id:uuid}", h_b, ROUTE_AUTH_ADMIN },
	{ EVHTTP_REQ_DELETE, "/api/v1/users/{id:uuid}", h_b,
	    ROUTE_AUTH_ADMIN },
	{ EVHTTP_REQ_GET, "/things/{name}/parts/{part:uuid}", h_a,
	    ROUTE_AUTH_NONE },
	{ EVHTTP_REQ_DELETE, "/api/v1/users/me/keys/{key:uuid}", h_a,
	    ROUTE_AUTH_BEARER },
	{ EVHTTP_REQ_DELETE, "/api/v1/users/{id:uuid}/keys/{key:uuid}", h_b,
	    ROUTE_AUTH_ADMIN },
};

static enum route_result
match(enum evhttp_cmd_type m, const char *path, struct route_match *rm)
{
	return route_match(api, N(api), m, path, rm);
}

/* A path that would be an admin route's but for a malformed id is not
 * found, and says that an admin must ask (a 401 before the 404). */
static void
test_not_found_keeps_auth(void **state)
{
	struct route_match m;

	(void)state;
	assert_int_equal(match(EVHTTP_REQ_GET, "/api/v1/users/not-a-uuid", &m),
	    ROUTE_NOT_FOUND);
	assert_int_equal(m.auth, ROUTE_AUTH_ADMIN);
	assert_int_equal(match(EVHTTP_REQ_GET, "/api/v1/users/ME", &m),
	    ROUTE_NOT_FOUND);
	assert_int_equal(m.auth, ROUTE_AUTH_ADMIN);
	/* Not even a {x}: escapes, '+', a long segment. */
	assert_int_equal(match(EVHTTP_REQ_GET, "/api/v1/users/a%20b", &m),
	    ROUTE_NOT_FOUND);
	assert_int_equal(m.auth, ROUTE_AUTH_ADMIN);
	assert_int_equal(match(EVHTTP_REQ_GET, "/api/v1/users/"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", &m), ROUTE_NOT_FOUND);
	assert_int_equal(m.auth, ROUTE_AUTH_ADMIN);
	assert_int_equal(match(EVHTTP_REQ_GET, "/things/a/parts/b", &m),
	    ROUTE_NOT_FOUND);
	assert_int_equal(m.auth, ROUTE_AUTH_NONE);
	assert_int_equal(match(EVHTTP_REQ_GET, "/nowhere", &m),
	    ROUTE_NOT_FOUND);
	assert_int_equal(m.auth, ROUTE_AUTH_NONE);
	/* The caller's own resource asks for the caller's bearer, though an
	 * admin route of the same shape matches it loosely too. */
	assert_int_equal(match(EVHTTP_REQ_DELETE, "/api/v1/users/me/keys/x",
	    &m), ROUTE_NOT_FOUND);
	assert_int_equal(m.auth, ROUTE_AUTH_BEARER);
	assert_int_equal(match(EVHTTP_REQ_DELETE, "/api/v1/users/x/keys/y",
	    &m), ROUTE_NOT_FOUND);
	assert_int_equal(m.auth, ROUTE_AUTH_ADMIN);
	/* A found route names its resource's pattern. */
	assert_int_equal(match(EVHTTP_REQ_PUT, "/api/v1/users/me", &m),
	    ROUTE_METHOD_NOT_ALLOWED);
	assert_string_equal(m.pattern, "/api/v1/users/me");
}

static void
test_table_check(void **state)
{
	char	 err[256];

	assert_int_equal(route_table_check(api, N(api), err, sizeof(err)), 0);
	assert_int_equal(route_table_check(api, 0, err, sizeof(err)), 0);
}

static void
expect_bad(const struct route *t, size_t n, const char *needle)
{
	char	 err[256] = "";

	assert_int_equal(route_table_check(t, n, err, sizeof(err)), -1);
	if (strstr(err, needle) == NULL)
		fail_msg("\"%s\" lacks \"%s\"", err, needle);
}

static void
test_table_check_bad(void **state)
{
	static const struct route rel[] = {
	    { EVHTTP_REQ_GET, "users", h_a, 0 } };
	static const struct route empty_seg[] = {
	    { EVHTTP_REQ_GET, "/a//b", h_a, 0 } };
	static const struct route trailing[] = {
	    { EVHTTP_REQ_GET, "/a/", h_a, 0 } };
	static const struct route open_brace[] = {
	    { EVHTTP_REQ_GET, "/a/{id", h_a, 0 } };
	static const struct route bad_type[] = {
	    { EVHTTP_REQ_GET, "/a/{id:int}", h_a, 0 } };
	static const struct route bad_name[] = {
	    { EVHTTP_REQ_GET, "/a/{I-D}", h_a, 0 } };
	static const struct route mixed[] = {
	    { EVHTTP_REQ_GET, "/a/x{id}", h_a, 0 } };
	static const struct route twice_param[] = {
	    { EVHTTP_REQ_GET, "/a/{x}/{x}", h_a, 0 } };
	static const struct route too_many[] = {
	    { EVHTTP_REQ_GET, "/{a}/{b}/{c}/{d}/{e}", h_a, 0 } };
	static const struct route no_handler[] = {
	    { EVHTTP_REQ_GET, "/a", NULL, 0 } };
	static const struct route two_methods[] = {
	    { EVHTTP_REQ_GET | EVHTTP_REQ_POST, "/a", h_a, 0 } };
	static const struct route bad_auth[] = {
	    { EVHTTP_REQ_GET, "/a", h_a, (enum route_auth)7 } };
	static const struct route dup[] = {
	    { EVHTTP_REQ_GET, "/a/{x}", h_a, 0 },
	    { EVHTTP_REQ_GET, "/a/{x}", h_b, 0 } };
	static const struct route ambiguous[] = {
	    { EVHTTP_REQ_GET, "/a/{x}", h_a, 0 },
	    { EVHTTP_REQ_POST, "/a/{y}", h_b, 0 } };
	static const struct route ambiguous_uuid[] = {
	    { EVHTTP_REQ_GET, "/a/{x:uuid}/b", h_a, 0 },
	    { EVHTTP_REQ_GET, "/a/{y:uuid}/b", h_b, 0 } };
	static const struct route query[] = {
	    { EVHTTP_REQ_GET, "/a?b", h_a, 0 } };
	static const struct route pct[] = {
	    { EVHTTP_REQ_GET, "/a%20b", h_a, 0 } };
	static const struct route null_pat[] = {
	    { EVHTTP_REQ_GET, NULL, h_a, 0 } };

	expect_bad(rel, 1, "absolute");
	expect_bad(empty_seg, 1, "segment");
	expect_bad(trailing, 1, "segment");
	expect_bad(open_brace, 1, "segment");
	expect_bad(bad_type, 1, "segment");
	expect_bad(bad_name, 1, "segment");
	expect_bad(mixed, 1, "segment");
	expect_bad(twice_param, 1, "twice");
	expect_bad(too_many, 1, "parameters");
	expect_bad(no_handler, 1, "handler");
	expect_bad(two_methods, 1, "method");
	expect_bad(bad_auth, 1, "auth");
	expect_bad(dup, 2, "twice");
	expect_bad(ambiguous, 2, "same paths");
	expect_bad(ambiguous_uuid, 2, "same paths");
	expect_bad(query, 1, "segment");
	expect_bad(pct, 1, "segment");
	expect_bad(null_pat, 1, "absolute");
}

static void
test_match_literal(void **state)
{
	struct route_match m;

	assert_int_equal(match(EVHTTP_REQ_GET, "/healthz", &m), ROUTE_FOUND);
	assert_ptr_equal(m.route, &api[0]);
	assert_int_equal(m.params.n, 0);

	assert_int_equal(match(EVHTTP_REQ_GET, "/", &m), ROUTE_FOUND);
	assert_ptr_equal(m.route, &api[1]);

	/* one path, two methods, two rows */
	assert_int_equal(match(EVHTTP_REQ_POST, "/api/v1/users", &m),
	    ROUTE_FOUND);
	assert_ptr_equal(m.route, &api[2]);
	assert_int_equal(match(EVHTTP_REQ_GET, "/api/v1/users", &m),
	    ROUTE_FOUND);
	assert_ptr_equal(m.route, &api[3]);
	assert_int_equal(m.route->auth, ROUTE_AUTH_ADMIN);
}

static void
test_match_params(void **state)
{
	struct route_match m;

	assert_int_equal(match(EVHTTP_REQ_GET, "/api/v1/users/" UUID, &m),
	    ROUTE_FOUND);
	assert_ptr_equal(m.route, &api[8]);
	assert_int_equal(m.params.n, 1);
	assert_string_equal(m.params.v[0].name, "id");
	assert_string_equal(route_param(&m.params, "id"), UUID);
	assert_null(route_param(&m.params, "nope"));

	assert_int_equal(match(EVHTTP_REQ_DELETE, "/api/v1/users/" UUID, &m),
	    ROUTE_FOUND);
	assert_ptr_equal(m.route, &api[10]);

	assert_int_equal(match(EVHTTP_REQ_GET,
	    "/things/a.b_c~d-e/parts/" UUID, &m), ROUTE_FOUND);
	assert_int_equal(m.params.n, 2);
	assert_string_equal(route_param(&m.params, "name"), "a.b_c~d-e");
	assert_string_equal(route_param(&m.params, "part"), UUID);
}

static void
test_me_is_not_an_id(void **state)
{
	struct route_match m;

	/* "me" is a literal; it never reaches the {id:uuid} rows. */
	assert_int_equal(match(EVHTTP_REQ_GET, "/api/v1/users/me", &m),
	    ROUTE_FOUND);
	assert_ptr_equal(m.route, &api[4]);
	assert_int_equal(m.params.n, 0);
	assert_int_equal(match(EVHTTP_REQ_POST,
	    "/api/v1/users/me/password", &m), ROUTE_FOUND);
	assert_ptr_equal(m.route, &api[7]);
}

static void
test_not_found(void **state)
{
	static const char *const paths[] = {
		"/nope",
		"/healthz/",			/* trailing slash */
		"//healthz",
		"/api/v1//users",
		"/api/v1/users/",
		"/API/v1/users",		/* case matters */
		"/api/v1/%75sers",		/* never decoded */
		"/api/v1/users/123",		/* not a UUID */
		"/api/v1/users/0B6F1C2E-8A3D-4F5E-9A1B-2C3D4E5F6A7B",
		"/api/v1/users/" UUID "x",
		"/api/v1/users/{id:uuid}",
		"/api/v1/users/" UUID "/password",
		"/things/a%20b/parts/" UUID,	/* {name}: unreserved only */
		"/things/a b/parts/" UUID,
		"/things//parts/" UUID,
		"",
		"healthz",
		"*",
	};
	struct route_match m;
	size_t	 i;

	for (i = 0; i < N(paths); i++) {
		if (match(EVHTTP_REQ_GET, paths[i], &m) != ROUTE_NOT_FOUND)
			fail_msg("%s matched", paths[i]);
		assert_null(m.route);
	}
	assert_int_equal(match(EVHTTP_REQ_GET, NULL, &m), ROUTE_NOT_FOUND);
}

static void
test_param_length(void **state)
{
	struct route_match m;
	char	 path[256], name[ROUTE_PARAM_MAX + 2];

	memset(name, 'n', ROUTE_PARAM_MAX);
	name[ROUTE_PARAM_MAX] = '\0';
	snprintf(path, sizeof(path), "/things/%s/parts/" UUID, name);
	assert_int_equal(match(EVHTTP_REQ_GET, path, &m), ROUTE_FOUND);
	assert_string_equal(route_param(&m.params, "name"), name);

	name[ROUTE_PARAM_MAX] = 'n';
	name[ROUTE_PARAM_MAX + 1] = '\0';
	snprintf(path, sizeof(path), "/things/%s/parts/" UUID, name);
	assert_int_equal(match(EVHTTP_REQ_GET, path, &m), ROUTE_NOT_FOUND);
}

static void
test_long_path(void **state)
{
	struct route_match m;
	static char path[ROUTE_PATH_MAX + 16];
	size_t	 i;

	for (i = 0; i + 2 < sizeof(path); i += 2)
		memcpy(path + i, "/a", 2);
	path[i] = '\0';
	assert_int_equal(match(EVHTTP_REQ_GET, path, &m), ROUTE_NOT_FOUND);
}

static void
test_method_not_allowed(void **state)
{
	struct route_match m;
	char	 allow[64];

	assert_int_equal(match(EVHTTP_REQ_POST, "/api/v1/users/me", &m),
	    ROUTE_METHOD_NOT_ALLOWED);
	assert_null(m.route);
	assert_int_equal(route_allow_header(m.allow, allow, sizeof(allow)), 0);
	assert_string_equal(allow, "GET, HEAD, PATCH, DELETE");

	assert_int_equal(match(EVHTTP_REQ_PUT, "/api/v1/users/" UUID, &m),
	    ROUTE_METHOD_NOT_ALLOWED);
	route_allow_header(m.allow, allow, sizeof(allow));
	assert_string_equal(allow, "GET, HEAD, PATCH, DELETE");

	assert_int_equal(match(EVHTTP_REQ_GET, "/api/v1/users/me/password",
	    &m), ROUTE_METHOD_NOT_ALLOWED);
	route_allow_header(m.allow, allow, sizeof(allow));
	assert_string_equal(allow, "POST");

	assert_int_equal(match(EVHTTP_REQ_DELETE, "/healthz", &m),
	    ROUTE_METHOD_NOT_ALLOWED);
	route_allow_header(m.allow, allow, sizeof(allow));
	assert_string_equal(allow, "GET, HEAD");

	assert_int_equal(match(EVHTTP_REQ_OPTIONS, "/api/v1/users", &m),
	    ROUTE_METHOD_NOT_ALLOWED);
	route_allow_header(m.allow, allow, sizeof(allow));
	assert_string_equal(allow, "GET, HEAD, POST");

	/* a wrong method on an unknown path is still 404 */
	assert_int_equal(match(EVHTTP_REQ_PATCH, "/nope", &m),
	    ROUTE_NOT_FOUND);
	assert_int_equal(m.allow, 0);
}

static void
test_head(void **state)
{
	static const struct route post_only[] = {
		{ EVHTTP_REQ_POST, "/p", h_a, 0 },
	};
	static const struct route own_head[] = {
		{ EVHTTP_REQ_GET, "/h", h_a, 0 },
		{ EVHTTP_REQ_HEAD, "/h", h_b, 0 },
	};
	struct route_match m;

	assert_int_equal(match(EVHTTP_REQ_HEAD, "/healthz", &m), ROUTE_FOUND);
	assert_ptr_equal(m.route, &api[0]);
	assert_int_equal(route_match(post_only, 1, EVHTTP_REQ_HEAD, "/p", &m),
	    ROUTE_METHOD_NOT_ALLOWED);
	assert_int_equal(m.allow, EVHTTP_REQ_POST);
	assert_int_equal(route_match(own_head, 2, EVHTTP_REQ_HEAD, "/h", &m),
	    ROUTE_FOUND);
	assert_ptr_equal(m.route, &own_head[1]);
}

static void
test_specificity(void **state)
{
	static const struct route t[] = {
		{ EVHTTP_REQ_GET, "/a/{x}", h_a, 0 },
		{ EVHTTP_REQ_POST, "/a/{x}", h_a, 0 },
		{ EVHTTP_REQ_GET, "/a/" UUID, h_b, 0 },
		{ EVHTTP_REQ_GET, "/a/{u:uuid}", h_b, 0 },
		{ EVHTTP_REQ_GET, "/b/{x}/c", h_a, 0 },
		{ EVHTTP_REQ_GET, "/b/c/{y}", h_b, 0 },
	};
	struct route_match m;
	char	 err[128];

	assert_int_equal(route_table_check(t, N(t), err, sizeof(err)), 0);
	/* a literal beats {x:uuid} beats {x}, whatever the table order */
	assert_int_equal(route_match(t, N(t), EVHTTP_REQ_GET, "/a/" UUID, &m),
	    ROUTE_FOUND);
	assert_ptr_equal(m.route, &t[2]);
	assert_int_equal(route_match(t, N(t), EVHTTP_REQ_GET,
	    "/a/1b6f1c2e-8a3d-4f5e-9a1b-2c3d4e5f6a7b", &m), ROUTE_FOUND);
	assert_ptr_equal(m.route, &t[3]);
	assert_string_equal(route_param(&m.params, "u"),
	    "1b6f1c2e-8a3d-4f5e-9a1b-2c3d4e5f6a7b");
	assert_int_equal(route_match(t, N(t), EVHTTP_REQ_GET, "/a/zz", &m),
	    ROUTE_FOUND);
	assert_ptr_equal(m.route, &t[0]);
	/* the most specific pattern is the resource: POST on the literal
	 * path is 405 even though /a/{x} would take it */
	assert_int_equal(route_match(t, N(t), EVHTTP_REQ_POST, "/a/" UUID,
	    &m), ROUTE_METHOD_NOT_ALLOWED);
	assert_int_equal(route_match(t, N(t), EVHTTP_REQ_POST, "/a/zz", &m),
	    ROUTE_FOUND);
	assert_ptr_equal(m.route, &t[1]);
	/* left-most difference decides */
	assert_int_equal(route_match(t, N(t), EVHTTP_REQ_GET, "/b/c/c", &m),
	    ROUTE_FOUND);
	assert_ptr_equal(m.route, &t[5]);
	assert_string_equal(route_param(&m.params, "y"), "c");
}

static void
test_allow_header(void **state)
{
	char	 buf[64];

	assert_int_equal(route_allow_header(0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	assert_int_equal(route_allow_header(EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_GET | EVHTTP_REQ_PUT | EVHTTP_REQ_OPTIONS, buf,
	    sizeof(buf)), 0);
	assert_string_equal(buf, "GET, PUT, DELETE, OPTIONS");
	/* "GET, HEAD" needs 10 bytes */
	assert_int_equal(route_allow_header(EVHTTP_REQ_GET | EVHTTP_REQ_HEAD,
	    buf, 10), 0);
	assert_string_equal(buf, "GET, HEAD");
	assert_int_equal(route_allow_header(EVHTTP_REQ_GET | EVHTTP_REQ_HEAD,
	    buf, 9), -1);
	assert_string_equal(buf, "");
	assert_int_equal(route_allow_header(EVHTTP_REQ_GET, buf, 0), -1);
}

static void
test_method_names(void **state)
{
	assert_string_equal(route_method_name(EVHTTP_REQ_GET), "GET");
	assert_string_equal(route_method_name(EVHTTP_REQ_PATCH), "PATCH");
	assert_string_equal(route_method_name(EVHTTP_REQ_CONNECT), "CONNECT");
	assert_string_equal(route_method_name(EVHTTP_REQ_GET |
	    EVHTTP_REQ_POST), "?");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_check),
		cmocka_unit_test(test_table_check_bad),
		cmocka_unit_test(test_match_literal),
		cmocka_unit_test(test_match_params),
		cmocka_unit_test(test_me_is_not_an_id),
		cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_param_length),
		cmocka_unit_test(test_long_path),
		cmocka_unit_test(test_method_not_allowed),
		cmocka_unit_test(test_head),
		cmocka_unit_test(test_specificity),
		cmocka_unit_test(test_allow_header),
		cmocka_unit_test(test_method_names),
		cmocka_unit_test(test_not_found_keeps_auth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
