/*
 * daemon/upstream/providers.c: the providers' files.  Each preset fills
 * what its provider needs; every rule of the format refuses with the
 * line and the keyword; a directory loads sorted, with the secrets read
 * from their files, and a missing one is no providers.
 */
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "testdir.h"
#include "upstream/providers.h"
#include "util.h"

static char	 err[384];

static int
parse(const char *text, struct provider *p)
{
	return provider_parse("corp", text, strlen(text), p, err,
	    sizeof(err));
}

static void
test_google_preset_with_a_secret_file(void **state)
{
	struct provider p;

	(void)state;
	assert_int_equal(parse("preset google\n"
	    "client_id 1234-abc.apps.googleusercontent.com\n"
	    "client_secret_file /run/credentials/wardend.service/google\n",
	    &p), 0);
	assert_int_equal(p.kind, PROVIDER_OIDC);
	assert_string_equal(p.issuer, "https://accounts.google.com");
	assert_string_equal(p.display_name, "Google");
	assert_int_equal(p.auth, PROVIDER_AUTH_SECRET_BASIC);
	assert_string_equal(p.scopes, "openid email profile");
	assert_null(p.client_secret);	/* parse never reads it */
	assert_false(p.link_by_email);
	assert_true(p.signup);
	assert_int_equal(p.timeout, 10);
}

static void
test_github_preset_is_plain_oauth2_with_its_mapping(void **state)
{
	struct provider p;

	(void)state;
	assert_int_equal(parse("preset github\nclient_id Iv1.abc\n"
	    "client_secret_file /etc/warden/secrets/github\n", &p), 0);
	assert_int_equal(p.kind, PROVIDER_OAUTH2);
	assert_string_equal(p.token_endpoint,
	    "https://github.com/login/oauth/access_token");
	assert_string_equal(p.userinfo_endpoint, "https://api.github.com/user");
	assert_string_equal(p.claim_subject, "id");
	assert_string_equal(p.claim_username, "login");
	assert_string_equal(p.claim_email_verified, "-");
	assert_string_equal(p.issuer, "");
}

static void
test_microsoft_needs_its_tenant(void **state)
{
	struct provider p;

	(void)state;
	assert_int_equal(parse("preset microsoft\nclient_id x\n", &p), -1);
	assert_non_null(strstr(err, "tenant"));
	assert_int_equal(parse("preset microsoft\ntenant contoso.example\n"
	    "client_id x\n", &p), 0);
	assert_string_equal(p.issuer,
	    "https://login.microsoftonline.com/contoso.example/v2.0");
	assert_int_equal(p.auth, PROVIDER_AUTH_PRIVATE_KEY_JWT);
}

static void
test_generic_oidc_with_private_key_jwt(void **state)
{
	struct provider p;

	(void)state;
	assert_int_equal(parse("# our Keycloak\n"
	    "display_name \"Example Corp\"\n"
	    "issuer https://sso.example.com/realms/staff\n"
	    "client_id warden\n"
	    "assertion_alg EdDSA\n"
	    "scopes \"openid email\"\n"
	    "link_by_email yes\nsignup no\ntimeout 5\n", &p), 0);
	assert_string_equal(p.display_name, "Example Corp");
	assert_int_equal(p.auth, PROVIDER_AUTH_PRIVATE_KEY_JWT);
	assert_int_equal(p.assertion_alg, PROVIDER_ALG_EDDSA);
	assert_true(p.link_by_email);
	assert_false(p.signup);
	assert_int_equal(p.timeout, 5);
	assert_string_equal(p.name, "corp");
}

static void
test_oauth2_needs_its_endpoints(void **state)
{
	struct provider p;

	(void)state;
	assert_int_equal(parse("kind oauth2\nclient_id c\n"
	    "authorization_endpoint http://127.0.0.1:9/a\n"
	    "token_endpoint http://127.0.0.1:9/t\n", &p), -1);
	assert_non_null(strstr(err, "userinfo_endpoint"));
	assert_int_equal(parse("kind oauth2\nclient_id c\nclient_auth none\n"
	    "authorization_endpoint http://127.0.0.1:9/a\n"
	    "token_endpoint http://localhost:9/t\n"
	    "userinfo_endpoint http://[::1]:9/u\n"
	    "claim_subject uid\n", &p), 0);
	assert_int_equal(p.auth, PROVIDER_AUTH_NONE);
	assert_string_equal(p.claim_subject, "uid");
}

static void
test_every_rule_refuses_with_its_line(void **state)
{
	static const struct {
		const char	*text;
		const char	*says;
	} bad[] = {
		{ "issuer https://a.example\nclient_id c\nfoo bar\n",
		  "line 3: unknown keyword foo" },
		{ "client_id a\nclient_id b\nissuer https://a.example\n",
		  "line 2: client_id given twice" },
		{ "client_id c\n", "issuer is required" },
		{ "issuer https://a.example\n", "client_id is required" },
		{ "issuer https://a.example\nclient_id c\nscopes email\n",
		  "openid is required" },
		{ "issuer http://a.example\nclient_id c\n", "line 1: issuer" },
		{ "issuer https://u:p@a.example\nclient_id c\n", "issuer" },
		{ "issuer https://a.example/#x\nclient_id c\n", "issuer" },
		{ "issuer ftp://a.example\nclient_id c\n", "issuer" },
		{ "issuer https://a.example\nclient_id c\n"
		  "client_auth private_key_jwt\nclient_secret_file /s\n",
		  "client_secret_file goes only" },
		{ "issuer https://a.example\nclient_id c\n"
		  "client_auth client_secret_post\n", "needs" },
		{ "issuer https://a.example\nclient_id c\n"
		  "client_secret_file relative\n", "absolute" },
		{ "issuer https://a.example\nclient_id \"a b\"\n",
		  "client_id" },
		{ "issuer https://a.example\nclient_id c\nsignup maybe\n",
		  "signup" },
		{ "issuer https://a.example\nclient_id c\ntimeout 0\n",
		  "timeout" },
		{ "issuer https://a.example\nclient_id c\ntimeout 301\n",
		  "timeout" },
		{ "issuer https://a.example\nclient_id c\nkind saml\n",
		  "kind" },
		{ "issuer https://a.example\nclient_id c\npreset google\n",
		  "preset must come first" },
		{ "preset facebook\nclient_id c\n", "preset" },
		{ "issuer https://a.example\nclient_id c\nassertion_alg HS256\n",
		  "assertion_alg" },
		{ "issuer https://a.example\nclient_id c\nclient_auth basic\n",
		  "client_auth" },
		{ "issuer https://a.example\nclient_id c\ndisplay_name\n",
		  "no value" },
		{ "issuer https://a.example\nclient_id \"c\n", "quot" },
		{ "kind oauth2\nissuer https://a.example\nclient_id c\n"
		  "authorization_endpoint https://a.example/a\n"
		  "token_endpoint https://a.example/t\n"
		  "userinfo_endpoint https://a.example/u\n", "issuer goes" },
	};
	struct provider p;
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i].text, &p) != -1 ||
		    strstr(err, bad[i].says) == NULL)
			fail_msg("case %zu: got \"%s\", wanted \"%s\"", i, err,
			    bad[i].says);
		assert_string_equal(p.client_id, "");
	}
}

static void
test_bounds(void **state)
{
	struct provider p;
	char	 text[8192], big[PROVIDER_CLIENT_ID_MAX + 2];

	(void)state;
	memset(big, 'c', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	str_printf(text, sizeof(text), "issuer https://a.example\n"
	    "client_id %s\n", big);
	assert_int_equal(parse(text, &p), -1);
	assert_non_null(strstr(err, "longer than"));
	big[sizeof(big) - 2] = '\0';
	str_printf(text, sizeof(text), "issuer https://a.example\n"
	    "client_id %s\n", big);
	assert_int_equal(parse(text, &p), 0);
	assert_int_equal(provider_parse("Corp", "client_id c", 11, &p, err,
	    sizeof(err)), -1);
	assert_int_equal(provider_parse("", "client_id c", 11, &p, err,
	    sizeof(err)), -1);
	assert_int_equal(provider_parse("corp", "client_id\0c", 11, &p, err,
	    sizeof(err)), -1);
}

static void
write_file(const char *dir, const char *name, const char *text)
{
	char	 path[512];
	FILE	*f;

	str_printf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

static void
test_load_a_directory(void **state)
{
	struct providers ps;
	char	 dir[256], secret[300], text[600], missing[300];

	(void)state;
	str_copy(dir, "/tmp/test_providers.XXXXXX", sizeof(dir));
	assert_non_null(mkdtemp(dir));
	str_printf(missing, sizeof(missing), "%s/nothing-here", dir);
	assert_int_equal(providers_load(missing, &ps, err, sizeof(err)), 0);
	assert_int_equal(ps.n, 0);
	str_printf(secret, sizeof(secret), "%s/google.secret", dir);
	write_file(dir, "google.secret", "s3cr3t\n");
	str_printf(text, sizeof(text), "preset google\nclient_id g\n"
	    "client_secret_file %s\n", secret);
	write_file(dir, "zeta.conf", text);
	write_file(dir, "alpha.conf", "issuer https://a.example\n"
	    "client_id a\n");
	write_file(dir, "README", "not a provider\n");
	write_file(dir, "Bad_Name.conf", "client_id x\n");
	assert_int_equal(providers_load(dir, &ps, err, sizeof(err)), 0);
	assert_int_equal(ps.n, 2);
	assert_string_equal(ps.v[0].name, "alpha");
	assert_string_equal(ps.v[1].name, "zeta");
	assert_string_equal(ps.v[1].client_secret, "s3cr3t");
	assert_ptr_equal(providers_find(&ps, "zeta"), &ps.v[1]);
	assert_null(providers_find(&ps, "beta"));
	providers_free(&ps);
	assert_int_equal(ps.n, 0);
	/* an empty secret file is an error naming the file */
	write_file(dir, "google.secret", "\n");
	assert_int_equal(providers_load(dir, &ps, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "zeta.conf"));
	assert_non_null(strstr(err, "empty"));
	assert_int_equal(ps.n, 0);
	/* so is a file that breaks a rule */
	write_file(dir, "google.secret", "x\n");
	write_file(dir, "alpha.conf", "client_id a\n");
	assert_int_equal(providers_load(dir, &ps, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "alpha.conf: issuer is required"));
	rm_tree(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_google_preset_with_a_secret_file),
		cmocka_unit_test(
		    test_github_preset_is_plain_oauth2_with_its_mapping),
		cmocka_unit_test(test_microsoft_needs_its_tenant),
		cmocka_unit_test(test_generic_oidc_with_private_key_jwt),
		cmocka_unit_test(test_oauth2_needs_its_endpoints),
		cmocka_unit_test(test_every_rule_refuses_with_its_line),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_load_a_directory),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
