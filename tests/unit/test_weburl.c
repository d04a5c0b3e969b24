/*
 * daemon/http/weburl.c: the strict http(s) URL parser under the portal's
 * origin checks and return URLs, and its development-mode test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "http/weburl.h"

static void
test_parses_and_normalises(void **state)
{
	struct weburl	 u;
	char		 o[WEBURL_ORIGIN_MAX];

	(void)state;
	assert_int_equal(weburl_parse("HTTPS://App.Example.COM:443/x?y#z",
	    &u), 0);
	assert_true(u.https);
	assert_string_equal(u.host, "app.example.com");
	assert_int_equal(u.port, 443);
	assert_string_equal(u.rest, "/x?y#z");
	assert_int_equal(weburl_origin(&u, o, sizeof(o)), 0);
	assert_string_equal(o, "https://app.example.com");
	assert_int_equal(weburl_parse("http://[::1]:8080", &u), 0);
	assert_string_equal(u.host, "[::1]");
	assert_int_equal(u.port, 8080);
	assert_string_equal(u.rest, "");
	assert_int_equal(weburl_origin(&u, o, sizeof(o)), 0);
	assert_string_equal(o, "http://[::1]:8080");
	assert_int_equal(weburl_parse("https://a.b?q", &u), 0);
	assert_string_equal(u.rest, "?q");
	assert_int_equal(weburl_origin(&u, o, 5), -1);
}

static void
test_refuses_what_browsers_forgive(void **state)
{
	static const char *const bad[] = {
		NULL, "", "null", "https:", "https://", "https:///x",
		"https:evil.com", "https:/evil.com", "ftp://a.b/",
		"//a.b/", "https://u@a.b/", "https://u:p@a.b/",
		"https://a.b\\@evil.com/", "https://a.b/\\x",
		"https://a%2eb/", "https://a.b:/", "https://a.b:0/",
		"https://a.b:65536/", "https://a.b:8o/", "https://a.b:123456/",
		"https://a..b/", "https://.a.b/", "https://a.b./",
		"https://-a.b/", "https://a_b.c/", "https://a b/",
		"https://a.b/\t", "https://a.b/\x7f", "https://a.b/\xc3\xa9",
		"https://[::1/", "https://[::1]x/", "https://[]/",
		"https://[g::1]/", "https://a.b:1:2/",
	};
	struct weburl	 u;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (weburl_parse(bad[i], &u) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
	}
}

static void
test_same_origin_needs_scheme_host_and_port(void **state)
{
	struct weburl	 a, b;

	(void)state;
	assert_int_equal(weburl_parse("https://a.b", &a), 0);
	assert_int_equal(weburl_parse("https://A.B:443/x", &b), 0);
	assert_true(weburl_same_origin(&a, &b));
	assert_int_equal(weburl_parse("http://a.b", &b), 0);
	assert_false(weburl_same_origin(&a, &b));
	assert_int_equal(weburl_parse("https://a.b:8443", &b), 0);
	assert_false(weburl_same_origin(&a, &b));
	assert_int_equal(weburl_parse("https://x.a.b", &b), 0);
	assert_false(weburl_same_origin(&a, &b));
}

static void
test_dev_is_plain_http_to_loopback(void **state)
{
	(void)state;
	assert_true(weburl_dev("http://localhost:8080"));
	assert_true(weburl_dev("http://LOCALHOST/warden"));
	assert_true(weburl_dev("http://127.0.0.1:8080"));
	assert_true(weburl_dev("http://127.255.3.4"));
	assert_true(weburl_dev("http://[::1]:8080"));
	assert_false(weburl_dev("https://localhost"));
	assert_false(weburl_dev("http://10.0.0.1"));
	assert_false(weburl_dev("http://128.0.0.1"));
	assert_false(weburl_dev("http://127.0.0.1.evil.com"));
	assert_false(weburl_dev("http://localhost.evil.com"));
	assert_false(weburl_dev("http://127.0.0"));
	assert_false(weburl_dev("http://127.0.0.256"));
	assert_false(weburl_dev("http://0127.0.0.1"));
	assert_false(weburl_dev("http://[::2]"));
	assert_false(weburl_dev("http://example.com"));
	assert_false(weburl_dev(NULL));
	assert_false(weburl_dev("localhost"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parses_and_normalises),
		cmocka_unit_test(test_refuses_what_browsers_forgive),
		cmocka_unit_test(test_same_origin_needs_scheme_host_and_port),
		cmocka_unit_test(test_dev_is_plain_http_to_loopback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
