/*
 * common/oidc_client.c: the redirect URIs a client may register, scope
 * lists both ways, client ids and names, and the secret check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "oidc_client.h"
#include "secret_token.h"

static void
test_redirect_uris(void **state)
{
	static const char *const good[] = {
		"https://app.example.com/cb", "https://app.example.com",
		"https://app.example.com:8443/a/b?x=1&y=%20",
		"https://[2001:db8::1]/cb", "http://127.0.0.1/cb",
		"http://127.0.0.1:51004/cb", "http://[::1]:8080/",
		"http://localhost/cb", "https://a/cb?next=/x@y",
	};
	static const char *const bad[] = {
		"", "/cb", "cb", "app.example.com/cb", "ftp://a.example/cb",
		"HTTPS://a.example/cb", "com.example.app:/cb",
		"http://app.example.com/cb", "http://127.0.0.2/cb",
		"http://localhost.example.com/cb", "http://LOCALHOST/cb",
		"http://127.0.0.1.evil.example/cb",
		"https://a.example/cb#frag", "https://a.example/cb#",
		"https://user@a.example/cb", "https://user:pw@a.example/cb",
		"https://", "https:///cb", "https://a.example:/cb",
		"https://a.example:0/cb", "https://a.example:65536/cb",
		"https://a.example:80x/cb", "https://a b.example/cb",
		"https://a.example/c b", "https://a.example/c\\b",
		"https://a.example/%zz", "https://a.example/%4",
		"https://-a.example/", "https://a..example/",
		"https://[zz::1]/", "https://[::1/", "https://a.example/\x7f",
		"https://a.example/caf\xc3\xa9",
	};
	char	 big[OIDC_URI_MAX + 2];
	size_t	 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!oidc_redirect_uri_ok(good[i]))
			fail_msg("refused %s", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (oidc_redirect_uri_ok(bad[i]))
			fail_msg("accepted %s", bad[i]);
	assert_false(oidc_redirect_uri_ok(NULL));
	memcpy(big, "https://a.example/", 18);
	memset(big + 18, 'x', sizeof(big) - 19);
	big[OIDC_URI_MAX] = '\0';
	assert_true(oidc_redirect_uri_ok(big));
	big[OIDC_URI_MAX] = 'x';
	big[OIDC_URI_MAX + 1] = '\0';
	assert_false(oidc_redirect_uri_ok(big));
}

static void
test_scopes(void **state)
{
	char	 t[OIDC_SCOPES_TEXT_MAX];
	unsigned b;

	assert_int_equal(oidc_scopes_parse("openid email openid", ' ', &b), 0);
	assert_int_equal(b, OIDC_SCOPE_OPENID | OIDC_SCOPE_EMAIL);
	assert_int_equal(oidc_scopes_parse("", ' ', &b), 0);
	assert_int_equal(b, 0);
	assert_int_equal(oidc_scopes_parse("openid  email", ' ', &b), -1);
	assert_int_equal(oidc_scopes_parse("openid admin", ' ', &b), -1);
	assert_int_equal(oidc_scopes_parse("OpenID", ' ', &b), -1);
	assert_int_equal(oidc_scopes_parse("openid,", ',', &b), -1);
	oidc_scopes_text(OIDC_SCOPES_ALL, ' ', t);
	assert_string_equal(t, "openid profile email roles offline_access");
	oidc_scopes_literal(OIDC_SCOPES_ALL, t);
	assert_string_equal(t, "{openid,profile,email,roles,offline_access}");
	oidc_scopes_literal(0, t);
	assert_string_equal(t, "{}");
}

static void
test_ids_names_algs(void **state)
{
	char	 id[OIDC_CLIENT_ID_MIN + 1], id2[OIDC_CLIENT_ID_MIN + 1];

	oidc_client_id_new(id);
	oidc_client_id_new(id2);
	assert_int_equal(strlen(id), OIDC_CLIENT_ID_MIN);
	assert_true(oidc_client_id_ok(id));
	assert_string_not_equal(id, id2);
	assert_false(oidc_client_id_ok("short"));
	assert_false(oidc_client_id_ok("abcdefghijklmnopqrstu/"));
	assert_false(oidc_client_id_ok(NULL));
	assert_true(oidc_client_name_ok("Grafana (prod) — ops"));
	assert_false(oidc_client_name_ok(""));
	assert_false(oidc_client_name_ok("tab\there"));
	assert_true(oidc_alg_ok("RS256"));
	assert_true(oidc_alg_ok("EdDSA"));
	assert_false(oidc_alg_ok("HS256"));
	assert_false(oidc_alg_ok("none"));
}

static void
test_secret(void **state)
{
	char	 tok[SECRET_TOKEN_LEN + 1], hash[SECRET_TOKEN_HASH_LITERAL];

	assert_int_equal(secret_token_new(tok, hash), 0);
	assert_true(oidc_secret_ok(hash, tok, strlen(tok)));
	assert_false(oidc_secret_ok("", tok, strlen(tok)));
	assert_false(oidc_secret_ok(hash, tok, strlen(tok) - 1));
	tok[0] = tok[0] == 'A' ? 'B' : 'A';
	assert_false(oidc_secret_ok(hash, tok, strlen(tok)));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_redirect_uris),
		cmocka_unit_test(test_scopes),
		cmocka_unit_test(test_ids_names_algs),
		cmocka_unit_test(test_secret),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
