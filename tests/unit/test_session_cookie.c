/*
 * daemon/http/session_cookie.c: the session cookie's name, reading and
 * writing, in production (__Host-, Secure) and development (loopback
 * http) mode.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "http/session_cookie.h"

#define TOK	"AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcdE"	/* 43 */
#define PROD	"https://auth.example.com"
#define DEV	"http://localhost:8080"

static void
test_name_follows_public_url(void **state)
{
	(void)state;
	assert_string_equal(session_cookie_name(PROD, NULL),
	    "__Host-warden_session");
	assert_string_equal(session_cookie_name(DEV, NULL), "warden_session");
	assert_string_equal(session_cookie_name("http://127.0.0.1", NULL),
	    "warden_session");
	assert_string_equal(session_cookie_name("http://[::1]:1", NULL),
	    "warden_session");
	/* Plain http elsewhere, or nonsense, stays __Host- (fails closed). */
	assert_string_equal(session_cookie_name("http://10.1.2.3:8080", NULL),
	    "__Host-warden_session");
	assert_string_equal(session_cookie_name(NULL, NULL),
	    "__Host-warden_session");
	assert_string_equal(session_cookie_name("x", NULL),
	    "__Host-warden_session");
}

static void
test_get_returns_only_a_token_of_its_name(void **state)
{
	char	 t[SECRET_TOKEN_LEN + 1];

	(void)state;
	assert_int_equal(session_cookie_get("a=1; __Host-warden_session=" TOK,
	    PROD, NULL, t), 0);
	assert_string_equal(t, TOK);
	assert_int_equal(session_cookie_get("warden_session=" TOK, DEV, NULL,
	    t), 0);
	assert_string_equal(t, TOK);
	/* The other mode's name is not ours. */
	assert_int_equal(session_cookie_get("warden_session=" TOK, PROD, NULL,
	    t),
	    -1);
	assert_int_equal(t[0], '\0');
	assert_int_equal(session_cookie_get("__Host-warden_session=" TOK, DEV,
	    NULL, t), -1);
	/* Not a token's shape: short, long, alphabet, trailing bits. */
	assert_int_equal(session_cookie_get("__Host-warden_session=" TOK "A",
	    PROD, NULL, t), -1);
	assert_int_equal(session_cookie_get("__Host-warden_session=abc", PROD,
	    NULL, t), -1);
	assert_int_equal(session_cookie_get("__Host-warden_session="
	    "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789+/abcdE", PROD, NULL, t), -1);
	assert_int_equal(session_cookie_get("__Host-warden_session="
	    "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcdF", PROD, NULL, t), -1);
	assert_int_equal(session_cookie_get("__Host-warden_session=", PROD,
	    NULL, t),
	    -1);
	assert_int_equal(session_cookie_get(NULL, PROD, NULL, t), -1);
	assert_int_equal(session_cookie_get("", PROD, NULL, t), -1);
	/* The first of the name counts, even when the second is good. */
	assert_int_equal(session_cookie_get("__Host-warden_session=x; "
	    "__Host-warden_session=" TOK, PROD, NULL, t), -1);
}

static void
test_set_and_clear_carry_the_attributes(void **state)
{
	char	 v[SESSION_SET_COOKIE_MAX];

	(void)state;
	assert_int_equal(session_cookie_set(v, sizeof(v), PROD, NULL, TOK,
	    604800),
	    0);
	assert_string_equal(v, "__Host-warden_session=" TOK "; Max-Age=604800;"
	    " Path=/; HttpOnly; SameSite=Lax; Secure");
	assert_int_equal(session_cookie_set(v, sizeof(v), DEV, NULL, TOK, 60),
	    0);
	assert_string_equal(v, "warden_session=" TOK "; Max-Age=60; Path=/; "
	    "HttpOnly; SameSite=Lax");
	assert_int_equal(session_cookie_clear(v, sizeof(v), PROD, NULL), 0);
	assert_string_equal(v, "__Host-warden_session=; Max-Age=0; Path=/; "
	    "HttpOnly; SameSite=Lax; Secure");
	assert_int_equal(session_cookie_clear(v, sizeof(v), DEV, NULL), 0);
	assert_string_equal(v, "warden_session=; Max-Age=0; Path=/; HttpOnly; "
	    "SameSite=Lax");
	/* The longest fits the advertised size. */
	assert_int_equal(session_cookie_set(v, sizeof(v), PROD, NULL, TOK,
	    INT64_MAX), 0);
}

static void
test_a_session_domain_makes_a_domain_cookie(void **state)
{
	char	 v[SESSION_SET_COOKIE_MAX], t[SECRET_TOKEN_LEN + 1];

	(void)state;
	assert_string_equal(session_cookie_name(PROD, "example.com"),
	    "__Secure-warden_session");
	assert_string_equal(session_cookie_name(PROD, ""),
	    "__Host-warden_session");
	/* Development stays on its host. */
	assert_string_equal(session_cookie_name(DEV, "example.com"),
	    "warden_session");
	assert_int_equal(session_cookie_set(v, sizeof(v), PROD, "example.com",
	    TOK, 60), 0);
	assert_string_equal(v, "__Secure-warden_session=" TOK "; Max-Age=60; "
	    "Path=/; HttpOnly; SameSite=Lax; Secure; Domain=example.com");
	assert_int_equal(session_cookie_clear(v, sizeof(v), PROD,
	    "example.com"), 0);
	assert_string_equal(v, "__Secure-warden_session=; Max-Age=0; Path=/; "
	    "HttpOnly; SameSite=Lax; Secure; Domain=example.com");
	assert_int_equal(session_cookie_set(v, sizeof(v), DEV, "example.com",
	    TOK, 60), 0);
	assert_string_equal(v, "warden_session=" TOK "; Max-Age=60; Path=/; "
	    "HttpOnly; SameSite=Lax");
	/* Only the name of the mode is read. */
	assert_int_equal(session_cookie_get("__Secure-warden_session=" TOK,
	    PROD, "example.com", t), 0);
	assert_string_equal(t, TOK);
	assert_int_equal(session_cookie_get("__Host-warden_session=" TOK,
	    PROD, "example.com", t), -1);
	assert_int_equal(session_cookie_get("__Secure-warden_session=" TOK,
	    PROD, NULL, t), -1);
}

static void
test_set_refuses_what_is_not_a_token(void **state)
{
	char	 v[SESSION_SET_COOKIE_MAX];

	(void)state;
	assert_int_equal(session_cookie_set(v, sizeof(v), PROD, NULL,
	    "x; Domain=a",
	    60), -1);
	assert_int_equal(session_cookie_set(v, sizeof(v), PROD, NULL,
	    TOK "\r\nX: y",
	    60), -1);
	assert_int_equal(session_cookie_set(v, sizeof(v), PROD, NULL, NULL, 60),
	    -1);
	assert_int_equal(session_cookie_set(v, sizeof(v), PROD, NULL, TOK, -1),
	    -1);
	assert_int_equal(session_cookie_set(v, 40, PROD, NULL, TOK, 60), -1);
	assert_int_equal(session_cookie_clear(v, 10, PROD, NULL), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_follows_public_url),
		cmocka_unit_test(test_get_returns_only_a_token_of_its_name),
		cmocka_unit_test(test_set_and_clear_carry_the_attributes),
		cmocka_unit_test(test_a_session_domain_makes_a_domain_cookie),
		cmocka_unit_test(test_set_refuses_what_is_not_a_token),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
