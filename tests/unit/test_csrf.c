/*
 * daemon/ui/csrf.c: form tokens bound to a cookie secret and kind, the
 * pre-login cookie, and the Origin / Referer check of every POST.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "ui/csrf.h"

#define S1	"AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcdE"	/* 43 */
#define S2	"AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcdA"
#define PROD	"https://auth.example.com"
#define DEV	"http://127.0.0.1:8080"

static int
setup(void **state)
{
	(void)state;
	return sodium_init() < 0 ? -1 : 0;
}

static void
test_tokens_differ_per_secret_and_label(void **state)
{
	char	 a[CSRF_TOKEN_LEN + 1], b[CSRF_TOKEN_LEN + 1];
	char	 c[CSRF_TOKEN_LEN + 1], d[CSRF_TOKEN_LEN + 1];

	(void)state;
	assert_int_equal(csrf_token(S1, a), 0);
	assert_int_equal(strlen(a), CSRF_TOKEN_LEN);
	assert_int_equal(csrf_token(S1, d), 0);
	assert_string_equal(a, d);		/* stateless: the same again */
	assert_int_equal(csrf_token(S2, b), 0);
	assert_int_equal(csrf_pre_token(S1, c), 0);
	assert_string_not_equal(a, b);
	assert_string_not_equal(a, c);
	/* Not the secret itself either. */
	assert_string_not_equal(a, S1);
	assert_int_equal(csrf_token("short", a), -1);
	assert_int_equal(a[0], '\0');
	assert_int_equal(csrf_token(NULL, a), -1);
}

static void
test_check_takes_only_the_token_of_this_secret_and_kind(void **state)
{
	char	 t1[CSRF_TOKEN_LEN + 1], t2[CSRF_TOKEN_LEN + 1];
	char	 p1[CSRF_TOKEN_LEN + 1], longer[CSRF_TOKEN_LEN + 2];

	(void)state;
	assert_int_equal(csrf_token(S1, t1), 0);
	assert_int_equal(csrf_token(S2, t2), 0);
	assert_int_equal(csrf_pre_token(S1, p1), 0);
	assert_true(csrf_check(S1, t1));
	assert_true(csrf_pre_check(S1, p1));
	/* Another session's token, the other kind's token. */
	assert_false(csrf_check(S1, t2));
	assert_false(csrf_check(S1, p1));
	assert_false(csrf_pre_check(S1, t1));
	/* Missing, empty, short, long, one character off, the secret. */
	assert_false(csrf_check(S1, NULL));
	assert_false(csrf_check(S1, ""));
	t1[CSRF_TOKEN_LEN - 1] = '\0';
	assert_false(csrf_check(S1, t1));
	assert_int_equal(csrf_token(S1, t1), 0);
	memcpy(longer, t1, CSRF_TOKEN_LEN);
	longer[CSRF_TOKEN_LEN] = 'A';
	longer[CSRF_TOKEN_LEN + 1] = '\0';
	assert_false(csrf_check(S1, longer));
	t1[0] = t1[0] == 'A' ? 'B' : 'A';
	assert_false(csrf_check(S1, t1));
	assert_false(csrf_check(S1, S1));
	/* No secret (no cookie) accepts nothing. */
	assert_false(csrf_check(NULL, t2));
	assert_false(csrf_check("", ""));
}

static void
test_pre_cookie(void **state)
{
	char	 s[SECRET_TOKEN_LEN + 1], s2[SECRET_TOKEN_LEN + 1];
	char	 v[CSRF_PRE_SET_COOKIE_MAX];

	(void)state;
	assert_string_equal(csrf_pre_cookie_name(PROD), "__Host-warden_pre");
	assert_string_equal(csrf_pre_cookie_name(DEV), "warden_pre");
	assert_int_equal(csrf_pre_new(s), 0);
	assert_int_equal(csrf_pre_new(s2), 0);
	assert_string_not_equal(s, s2);
	assert_int_equal(strlen(s), SECRET_TOKEN_LEN);
	assert_int_equal(csrf_pre_cookie_set(v, sizeof(v), PROD, S1), 0);
	assert_string_equal(v, "__Host-warden_pre=" S1 "; Max-Age=3600; "
	    "Path=/; HttpOnly; SameSite=Strict; Secure");
	assert_int_equal(csrf_pre_cookie_set(v, sizeof(v), DEV, S1), 0);
	assert_string_equal(v, "warden_pre=" S1 "; Max-Age=3600; Path=/; "
	    "HttpOnly; SameSite=Strict");
	assert_int_equal(csrf_pre_cookie_set(v, sizeof(v), PROD, "a;b"), -1);
	assert_int_equal(csrf_pre_cookie_set(v, 20, PROD, S1), -1);
	assert_int_equal(csrf_pre_cookie_get("x=1; __Host-warden_pre=" S1,
	    PROD, s), 0);
	assert_string_equal(s, S1);
	assert_int_equal(csrf_pre_cookie_get("warden_pre=" S1, PROD, s), -1);
	assert_int_equal(s[0], '\0');
	assert_int_equal(csrf_pre_cookie_get("warden_pre=" S1, DEV, s), 0);
	assert_int_equal(csrf_pre_cookie_get("__Host-warden_pre=" S1 "x",
	    PROD, s), -1);
	assert_int_equal(csrf_pre_cookie_get(NULL, PROD, s), -1);
}

static void
test_origin_must_be_public_urls(void **state)
{
	(void)state;
	assert_true(csrf_origin_ok(PROD, NULL, PROD));
	assert_true(csrf_origin_ok("https://AUTH.example.com", NULL, PROD));
	assert_true(csrf_origin_ok("https://auth.example.com:443", NULL,
	    PROD));
	assert_true(csrf_origin_ok(PROD, NULL, PROD "/warden"));
	assert_true(csrf_origin_ok("https://auth.example.com:8443", NULL,
	    "https://auth.example.com:8443"));
	assert_true(csrf_origin_ok("http://localhost", NULL,
	    "http://localhost:80"));
	/* Foreign, sibling, scheme, port, null, empty, with a path. */
	assert_false(csrf_origin_ok("https://evil.com", NULL, PROD));
	assert_false(csrf_origin_ok("https://app.example.com", NULL, PROD));
	assert_false(csrf_origin_ok("https://auth.example.com.evil.com",
	    NULL, PROD));
	assert_false(csrf_origin_ok("http://auth.example.com", NULL, PROD));
	assert_false(csrf_origin_ok("https://auth.example.com:8443", NULL,
	    PROD));
	assert_false(csrf_origin_ok("https://auth.example.com", NULL,
	    "https://auth.example.com:8443"));
	assert_false(csrf_origin_ok("null", NULL, PROD));
	assert_false(csrf_origin_ok("", NULL, PROD));
	assert_false(csrf_origin_ok(PROD "/", NULL, PROD));
	/* An Origin decides alone: a good Referer does not save a bad one. */
	assert_false(csrf_origin_ok("null", PROD "/ui/login", PROD));
	assert_false(csrf_origin_ok("https://evil.com", PROD "/ui/login",
	    PROD));
	/* Neither header, or a public_url that does not parse. */
	assert_false(csrf_origin_ok(NULL, NULL, PROD));
	assert_false(csrf_origin_ok(PROD, NULL, NULL));
	assert_false(csrf_origin_ok(PROD, NULL, "auth.example.com"));
}

static void
test_referer_when_no_origin(void **state)
{
	(void)state;
	assert_true(csrf_origin_ok(NULL, PROD "/ui/login?rd=x", PROD));
	assert_true(csrf_origin_ok(NULL, PROD "/", PROD));
	assert_true(csrf_origin_ok(NULL, "https://auth.EXAMPLE.com:443/ui/",
	    PROD));
	/* The origin alone, a look-alike host, user-info, another port. */
	assert_false(csrf_origin_ok(NULL, PROD, PROD));
	assert_false(csrf_origin_ok(NULL, PROD "?x", PROD));
	assert_false(csrf_origin_ok(NULL, PROD ".evil.com/", PROD));
	assert_false(csrf_origin_ok(NULL, PROD "@evil.com/", PROD));
	assert_false(csrf_origin_ok(NULL, "https://x@auth.example.com/",
	    PROD));
	assert_false(csrf_origin_ok(NULL, PROD ":444/", PROD));
	assert_false(csrf_origin_ok(NULL, "http://auth.example.com/", PROD));
	assert_false(csrf_origin_ok(NULL, "https://evil.com/" PROD "/",
	    PROD));
	assert_false(csrf_origin_ok(NULL, "", PROD));
	assert_false(csrf_origin_ok(NULL, "/ui/login", PROD));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tokens_differ_per_secret_and_label),
		cmocka_unit_test(
		    test_check_takes_only_the_token_of_this_secret_and_kind),
		cmocka_unit_test(test_pre_cookie),
		cmocka_unit_test(test_origin_must_be_public_urls),
		cmocka_unit_test(test_referer_when_no_origin),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
