/*
 * daemon/api/device.c: the device token's cookie (OWASP device cookies),
 * read from a Cookie header and written as a Set-Cookie value.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "api/device.h"

#define TOK	"AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcde"	/* 43 */

static void
test_the_cookie_is_found_among_others(void **state)
{
	char	 v[44];

	(void)state;
	assert_int_equal(device_cookie_get("warden_device=" TOK, DEVICE_COOKIE,
	    v, sizeof(v)), 0);
	assert_string_equal(v, TOK);
	assert_int_equal(device_cookie_get("a=1; warden_device=" TOK "; b=2",
	    DEVICE_COOKIE, v, sizeof(v)), 0);
	assert_string_equal(v, TOK);
	/* Separators without their space, stray ones, tabs, quotes. */
	assert_int_equal(device_cookie_get(";a=1;;\twarden_device=\"" TOK
	    "\" ;", DEVICE_COOKIE, v, sizeof(v)), 0);
	assert_string_equal(v, TOK);
	/* The first of two counts (the one of the longest path). */
	assert_int_equal(device_cookie_get("warden_device=x; warden_device="
	    TOK, DEVICE_COOKIE, v, sizeof(v)), 0);
	assert_string_equal(v, "x");
}

static void
test_names_match_whole_and_exactly(void **state)
{
	char	 v[44];

	(void)state;
	assert_int_equal(device_cookie_get("xwarden_device=" TOK,
	    DEVICE_COOKIE, v, sizeof(v)), -1);
	assert_int_equal(device_cookie_get("warden_device_old=" TOK,
	    DEVICE_COOKIE, v, sizeof(v)), -1);
	assert_int_equal(device_cookie_get("Warden_Device=" TOK,
	    DEVICE_COOKIE, v, sizeof(v)), -1);
	/* A value containing the name is not the name. */
	assert_int_equal(device_cookie_get("a=warden_device=" TOK,
	    DEVICE_COOKIE, v, sizeof(v)), -1);
}

static void
test_absent_empty_or_too_long_is_none(void **state)
{
	char	 v[44];

	(void)state;
	assert_int_equal(device_cookie_get(NULL, DEVICE_COOKIE, v, sizeof(v)),
	    -1);
	assert_int_equal(device_cookie_get("", DEVICE_COOKIE, v, sizeof(v)),
	    -1);
	assert_int_equal(device_cookie_get("warden_device", DEVICE_COOKIE, v,
	    sizeof(v)), -1);
	assert_int_equal(device_cookie_get("warden_device=; a=1",
	    DEVICE_COOKIE, v, sizeof(v)), -1);
	assert_int_equal(device_cookie_get("warden_device=\"\"",
	    DEVICE_COOKIE, v, sizeof(v)), -1);
	assert_int_equal(device_cookie_get("warden_device=" TOK "x",
	    DEVICE_COOKIE, v, sizeof(v)), -1);
}

static void
test_set_cookie_is_scoped_to_the_token_endpoint(void **state)
{
	char	 v[DEVICE_SET_COOKIE_MAX];

	(void)state;
	assert_int_equal(device_set_cookie(v, sizeof(v), TOK,
	    DEVICE_COOKIE_PATH, 31536000, false), 0);
	assert_string_equal(v, "warden_device=" TOK "; Max-Age=31536000; "
	    "Path=/api/v1/auth/token; HttpOnly; SameSite=Strict");
	assert_int_equal(device_set_cookie(v, sizeof(v), TOK,
	    DEVICE_COOKIE_PATH, 60, true), 0);
	assert_string_equal(v, "warden_device=" TOK "; Max-Age=60; "
	    "Path=/api/v1/auth/token; HttpOnly; SameSite=Strict; Secure");
}

/* A login on the portal's form gets the cookie back on that form. */
static void
test_set_cookie_of_the_portal_is_scoped_to_its_login_forms(void **state)
{
	char	 v[DEVICE_SET_COOKIE_MAX];

	(void)state;
	assert_int_equal(device_set_cookie(v, sizeof(v), TOK,
	    DEVICE_COOKIE_PATH_PORTAL, 60, true), 0);
	assert_string_equal(v, "warden_device=" TOK "; Max-Age=60; "
	    "Path=/ui/login; HttpOnly; SameSite=Strict; Secure");
}

static void
test_set_cookie_refuses_what_cannot_be_a_value(void **state)
{
	static const char *const bad[] = { "", "a;b", "a b", "a\r\nb" };
	char	 v[DEVICE_SET_COOKIE_MAX], small[40];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(device_set_cookie(v, sizeof(v), bad[i],
		    DEVICE_COOKIE_PATH, 60, true), -1);
	assert_int_equal(device_set_cookie(small, sizeof(small), TOK,
	    DEVICE_COOKIE_PATH, 60, true), -1);
}

static void
test_secure_follows_the_public_url(void **state)
{
	(void)state;
	assert_true(device_cookie_secure("https://id.example.com"));
	assert_true(device_cookie_secure("HTTPS://id.example.com/"));
	assert_false(device_cookie_secure("http://127.0.0.1:8080"));
	assert_false(device_cookie_secure("https:"));
	assert_false(device_cookie_secure(""));
	assert_false(device_cookie_secure(NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_cookie_is_found_among_others),
		cmocka_unit_test(test_names_match_whole_and_exactly),
		cmocka_unit_test(test_absent_empty_or_too_long_is_none),
		cmocka_unit_test(test_set_cookie_is_scoped_to_the_token_endpoint),
		cmocka_unit_test(
		    test_set_cookie_of_the_portal_is_scoped_to_its_login_forms),
		cmocka_unit_test(test_set_cookie_refuses_what_cannot_be_a_value),
		cmocka_unit_test(test_secure_follows_the_public_url),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
