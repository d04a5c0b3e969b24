/*
 * daemon/upstream/answers.c: an upstream provider's discovery document,
 * token answer and userinfo, parsed into bounded structs; what does not
 * fit, or is not what the protocol says, is refused, never cut.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "upstream/answers.h"
#include "util.h"

#define ISS	"https://sso.example.com/realms/staff"

static char	 err[160];

static int
discover(const char *json, struct upstream_discovery *d)
{
	return upstream_discovery_parse(json, strlen(json), ISS, d, err,
	    sizeof(err));
}

static void
test_discovery_takes_the_endpoints(void **state)
{
	struct upstream_discovery d;

	(void)state;
	assert_int_equal(discover("{\"issuer\":\"" ISS "\","
	    "\"authorization_endpoint\":\"" ISS "/auth\","
	    "\"token_endpoint\":\"" ISS "/token\","
	    "\"jwks_uri\":\"" ISS "/certs\","
	    "\"userinfo_endpoint\":\"" ISS "/userinfo\","
	    "\"scopes_supported\":[\"openid\"]}", &d), 0);
	assert_string_equal(d.token_endpoint, ISS "/token");
	assert_string_equal(d.jwks_uri, ISS "/certs");
	assert_string_equal(d.userinfo_endpoint, ISS "/userinfo");
	/* userinfo is optional */
	assert_int_equal(discover("{\"issuer\":\"" ISS "\","
	    "\"authorization_endpoint\":\"a\",\"token_endpoint\":\"t\","
	    "\"jwks_uri\":\"j\"}", &d), 0);
	assert_string_equal(d.userinfo_endpoint, "");
}

static void
test_discovery_refuses_another_issuer_and_missing_endpoints(void **state)
{
	struct upstream_discovery d;

	(void)state;
	/* Discovery 4.3: the document's issuer is the one configured */
	assert_int_equal(discover("{\"issuer\":\"https://evil.example\","
	    "\"authorization_endpoint\":\"a\",\"token_endpoint\":\"t\","
	    "\"jwks_uri\":\"j\"}", &d), -1);
	assert_string_equal(d.token_endpoint, "");
	assert_int_equal(discover("{\"issuer\":\"" ISS "/\","
	    "\"authorization_endpoint\":\"a\",\"token_endpoint\":\"t\","
	    "\"jwks_uri\":\"j\"}", &d), -1);
	assert_int_equal(discover("{\"issuer\":\"" ISS "\","
	    "\"authorization_endpoint\":\"a\",\"jwks_uri\":\"j\"}", &d), -1);
	assert_non_null(strstr(err, "token_endpoint"));
	assert_int_equal(discover("{\"issuer\":\"" ISS "\","
	    "\"authorization_endpoint\":\"a\",\"token_endpoint\":7,"
	    "\"jwks_uri\":\"j\"}", &d), -1);
	assert_int_equal(discover("[]", &d), -1);
	assert_int_equal(discover("{", &d), -1);
	assert_int_equal(upstream_discovery_parse("", 0, ISS, &d, err,
	    sizeof(err)), -1);
}

static void
test_discovery_refuses_a_url_that_does_not_fit(void **state)
{
	struct upstream_discovery d;
	char	 json[2048], longurl[PROVIDER_URL_MAX + 2];

	(void)state;
	memset(longurl, 'a', sizeof(longurl) - 1);
	longurl[sizeof(longurl) - 1] = '\0';
	str_printf(json, sizeof(json), "{\"issuer\":\"" ISS "\","
	    "\"authorization_endpoint\":\"a\",\"token_endpoint\":\"%s\","
	    "\"jwks_uri\":\"j\"}", longurl);
	assert_int_equal(discover(json, &d), -1);
}

static int
tokens(const char *json, struct upstream_tokens *t)
{
	return upstream_tokens_parse(json, strlen(json), t, err,
	    sizeof(err));
}

static void
test_tokens_answer(void **state)
{
	struct upstream_tokens t;

	(void)state;
	assert_int_equal(tokens("{\"access_token\":\"at\",\"token_type\":"
	    "\"Bearer\",\"id_token\":\"h.p.s\",\"expires_in\":300}", &t), 0);
	assert_string_equal(t.access_token, "at");
	assert_string_equal(t.id_token, "h.p.s");
	assert_string_equal(t.error, "");
	/* GitHub's: lower-case bearer, no id_token, a scope */
	assert_int_equal(tokens("{\"access_token\":\"gho_x\",\"token_type\":"
	    "\"bearer\",\"scope\":\"read:user\"}", &t), 0);
	assert_string_equal(t.id_token, "");
	/* a refusal is an answer, with its code */
	assert_int_equal(tokens("{\"error\":\"invalid_grant\","
	    "\"error_description\":\"code used\"}", &t), 0);
	assert_string_equal(t.error, "invalid_grant");
	assert_string_equal(t.access_token, "");
}

static void
test_tokens_refuses_what_is_not_an_answer(void **state)
{
	struct upstream_tokens t;
	static char json[UPSTREAM_TOKEN_MAX + 64];
	char	 big[UPSTREAM_TOKEN_MAX + 2];

	(void)state;
	assert_int_equal(tokens("{\"token_type\":\"Bearer\"}", &t), -1);
	assert_int_equal(tokens("{\"access_token\":\"\"}", &t), -1);
	assert_int_equal(tokens("{\"access_token\":\"at\",\"token_type\":"
	    "\"mac\"}", &t), -1);
	assert_int_equal(tokens("{\"access_token\":1}", &t), -1);
	assert_int_equal(tokens("{\"error\":\"bad\\u0001\"}", &t), -1);
	assert_int_equal(tokens("access_token=x&token_type=bearer", &t), -1);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	str_printf(json, sizeof(json), "{\"access_token\":\"%s\"}", big);
	assert_int_equal(tokens(json, &t), -1);
	assert_string_equal(t.access_token, "");
}

static void
mapping(struct provider *p, bool github)
{
	memset(p, 0, sizeof(*p));
	str_copy(p->claim_subject, github ? "id" : "sub",
	    sizeof(p->claim_subject));
	str_copy(p->claim_email, "email", sizeof(p->claim_email));
	str_copy(p->claim_email_verified, github ? "-" : "email_verified",
	    sizeof(p->claim_email_verified));
	str_copy(p->claim_username, github ? "login" : "preferred_username",
	    sizeof(p->claim_username));
	str_copy(p->claim_name, "name", sizeof(p->claim_name));
}

static int
userinfo(const char *json, const struct provider *p,
    struct id_token_claims *c)
{
	return upstream_userinfo_map(json, strlen(json), p, c, err,
	    sizeof(err));
}

static void
test_userinfo_maps_githubs_user(void **state)
{
	struct provider p;
	struct id_token_claims c;

	(void)state;
	mapping(&p, true);
	assert_int_equal(userinfo("{\"login\":\"octocat\",\"id\":583231,"
	    "\"name\":\"The Octocat\",\"email\":\"octo@github.example\","
	    "\"email_verified\":true}", &p, &c), 0);
	assert_string_equal(c.sub, "583231");
	assert_string_equal(c.preferred_username, "octocat");
	assert_string_equal(c.name, "The Octocat");
	assert_string_equal(c.email, "octo@github.example");
	/* "-": never verified, whatever the answer says */
	assert_false(c.email_verified);
	/* a private address is null: no e-mail */
	assert_int_equal(userinfo("{\"login\":\"octocat\",\"id\":1,"
	    "\"email\":null}", &p, &c), 0);
	assert_string_equal(c.email, "");
}

static void
test_userinfo_refuses_a_subject_that_is_not_one(void **state)
{
	struct provider p;
	struct id_token_claims c;

	(void)state;
	mapping(&p, true);
	assert_int_equal(userinfo("{\"login\":\"x\"}", &p, &c), -1);
	assert_int_equal(userinfo("{\"id\":1.5}", &p, &c), -1);
	assert_int_equal(userinfo("{\"id\":-3}", &p, &c), -1);
	assert_int_equal(userinfo("{\"id\":1e300}", &p, &c), -1);
	assert_int_equal(userinfo("{\"id\":\"\"}", &p, &c), -1);
	assert_int_equal(userinfo("{\"id\":true}", &p, &c), -1);
	assert_int_equal(userinfo("[1]", &p, &c), -1);
}

static void
test_userinfo_verified_only_for_true(void **state)
{
	struct provider p;
	struct id_token_claims c;

	(void)state;
	mapping(&p, false);
	assert_int_equal(userinfo("{\"sub\":\"s\",\"email\":\"a@b.example\","
	    "\"email_verified\":\"true\"}", &p, &c), 0);
	assert_false(c.email_verified);
	assert_int_equal(userinfo("{\"sub\":\"s\",\"email_verified\":true}",
	    &p, &c), 0);
	assert_true(c.email_verified);
	/* a claim of the wrong type is left out, not an error */
	assert_int_equal(userinfo("{\"sub\":\"s\",\"email\":5,"
	    "\"name\":[\"x\"]}", &p, &c), 0);
	assert_string_equal(c.email, "");
	assert_string_equal(c.name, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_discovery_takes_the_endpoints),
		cmocka_unit_test(
		    test_discovery_refuses_another_issuer_and_missing_endpoints),
		cmocka_unit_test(test_discovery_refuses_a_url_that_does_not_fit),
		cmocka_unit_test(test_tokens_answer),
		cmocka_unit_test(test_tokens_refuses_what_is_not_an_answer),
		cmocka_unit_test(test_userinfo_maps_githubs_user),
		cmocka_unit_test(test_userinfo_refuses_a_subject_that_is_not_one),
		cmocka_unit_test(test_userinfo_verified_only_for_true),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
