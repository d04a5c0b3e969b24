/*
 * daemon/http/return_url.c: the rd parameter of /ui/login, against every
 * open-redirect trick of the brief and the good cases.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "http/return_url.h"

#define PUB	"https://auth.example.com"
#define DOM	"example.com"

static void
refused(const char *rd)
{
	char	 out[RETURN_URL_MAX + 64];

	memset(out, 'x', sizeof(out));
	if (return_url_ok(rd, PUB, DOM, out, sizeof(out)))
		fail_msg("accepted \"%s\" as \"%s\"", rd, out);
	assert_int_equal(out[0], '\0');
}

static void
accepted(const char *rd, const char *want)
{
	char	 out[RETURN_URL_MAX + 64];

	if (!return_url_ok(rd, PUB, DOM, out, sizeof(out)))
		fail_msg("refused \"%s\"", rd);
	assert_string_equal(out, want);
}

static void test_protocol_relative(void **s) { (void)s;
	refused("//evil.com"); refused("///evil.com"); refused("//evil.com/x"); }
static void test_scheme_without_slashes(void **s) { (void)s;
	refused("https:evil.com"); refused("https:/evil.com");
	refused("https:///evil.com"); }
static void test_backslashes(void **s) { (void)s;
	refused("/\\evil.com"); refused("\\\\evil.com");
	refused("https://app.example.com\\@evil.com");
	refused("https://app.example.com/\\x"); }
static void test_foreign_hosts(void **s) { (void)s;
	refused("https://evil.com"); refused("https://evil.com/");
	refused("https://app.example.com.evil.com/");
	refused("https://evilexample.com/");
	refused("https://example.com.evil.com/");
	refused("https://com/"); }
static void test_user_info(void **s) { (void)s;
	refused("https://example.com@evil.com");
	refused("https://user:pw@app.example.com/");
	refused("https://@app.example.com/"); }
static void test_percent_encoding(void **s) { (void)s;
	refused("%2F%2Fevil.com");
	refused("https://evil.com%2F.example.com/");
	refused("https://app.example.com%00.evil.com/");
	refused("https://app%2eexample.com/"); }
static void test_other_schemes(void **s) { (void)s;
	refused("javascript:alert(1)"); refused("JavaScript://%0aalert(1)");
	refused("data:text/html,<script>alert(1)</script>");
	refused("ftp://app.example.com/");
	/* http only in development. */
	refused("http://app.example.com/"); }
static void test_controls_and_spaces(void **s) { (void)s;
	refused("https://app.example.com/\tx"); refused("https://app.\nexample.com/");
	refused("/ui/\r\nLocation: https://evil.com");
	refused("https://app.example.com/ x"); refused(" /ui/account");
	refused("/ui/\x7f"); refused("/ui/\xc3\xa9"); }
static void test_lookalikes(void **s) { (void)s;
	/* exаmple.com with a Cyrillic a, as punycode and raw. */
	refused("https://xn--exmple-4nf.com/");
	refused("https://app.xn--exmple-4nf.com/");
	refused("https://app.ex\xd0\xb0mple.com/"); }
static void test_ports_and_shapes(void **s) { (void)s;
	refused("https://app.example.com:8o/"); refused("https://app.example.com:/");
	refused("https://app.example.com:99999/"); refused("https://app.example.com:-1/");
	refused(""); refused(NULL); refused("ui/account"); refused("?x");
	refused("#x"); refused("https://"); refused("https://[::1]/"); }
static void test_too_long(void **s) {
	char	 rd[RETURN_URL_MAX + 2], out[RETURN_URL_MAX + 64];

	(void)s;
	memset(rd, 'a', sizeof(rd));
	memcpy(rd, "/x", 2);
	rd[RETURN_URL_MAX + 1] = '\0';		/* 2049 bytes */
	assert_false(return_url_ok(rd, PUB, DOM, out, sizeof(out)));
	rd[RETURN_URL_MAX] = '\0';		/* 2048: fits, not in out */
	assert_false(return_url_ok(rd, PUB, DOM, out, RETURN_URL_MAX));
	assert_int_equal(out[0], '\0');
	assert_true(return_url_ok(rd, PUB, DOM, out, sizeof(out)));
}

static void
test_good_ones_normalised(void **s)
{
	(void)s;
	accepted("https://app.example.com/x?y=1#z",
	    "https://app.example.com/x?y=1#z");
	accepted("https://EXAMPLE.com:8443/", "https://example.com:8443/");
	accepted("HTTPS://App.Example.Com:443", "https://app.example.com/");
	accepted("https://a.b.example.com?q=a@b", "https://a.b.example.com/?q=a@b");
	accepted("https://auth.example.com/ui/x", "https://auth.example.com/ui/x");
	accepted("/ui/account", "https://auth.example.com/ui/account");
	accepted("/", "https://auth.example.com/");
	/* A decision: percent-encoded slashes in a path stay a path on our
	 * host, and the result names our host first. */
	accepted("/%2F%2Fevil.com", "https://auth.example.com/%2F%2Fevil.com");
}

static void
test_session_domain_and_public_url(void **s)
{
	char	 out[256];

	(void)s;
	/* No session_domain: public_url's host only. */
	assert_true(return_url_ok("https://auth.example.com/x", PUB, "", out,
	    sizeof(out)));
	assert_false(return_url_ok("https://app.example.com/x", PUB, "", out,
	    sizeof(out)));
	assert_false(return_url_ok("https://app.example.com/x", PUB, NULL, out,
	    sizeof(out)));
	assert_true(return_url_ok("https://app.example.com/x", PUB,
	    ".example.com", out, sizeof(out)));
	assert_true(return_url_ok("https://app.Example.com/x", PUB,
	    "EXAMPLE.com", out, sizeof(out)));
	/* A path under a public_url with a path of its own. */
	assert_true(return_url_ok("/ui/account", PUB "/warden", DOM, out,
	    sizeof(out)));
	assert_string_equal(out, "https://auth.example.com/warden/ui/account");
	/* Development: http allowed, to public_url's host. */
	assert_true(return_url_ok("http://localhost:8080/x",
	    "http://localhost:8080", "", out, sizeof(out)));
	assert_string_equal(out, "http://localhost:8080/x");
	assert_true(return_url_ok("http://[::1]:8080/x", "http://[::1]:8080",
	    "", out, sizeof(out)));
	assert_false(return_url_ok("http://evil.com/", "http://localhost:8080",
	    "", out, sizeof(out)));
	/* A broken public_url refuses everything. */
	assert_false(return_url_ok("/ui/account", "auth.example.com", DOM, out,
	    sizeof(out)));
	assert_false(return_url_ok("/ui/account", NULL, DOM, out, sizeof(out)));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_protocol_relative),
		cmocka_unit_test(test_scheme_without_slashes),
		cmocka_unit_test(test_backslashes),
		cmocka_unit_test(test_foreign_hosts),
		cmocka_unit_test(test_user_info),
		cmocka_unit_test(test_percent_encoding),
		cmocka_unit_test(test_other_schemes),
		cmocka_unit_test(test_controls_and_spaces),
		cmocka_unit_test(test_lookalikes),
		cmocka_unit_test(test_ports_and_shapes),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_good_ones_normalised),
		cmocka_unit_test(test_session_domain_and_public_url),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
