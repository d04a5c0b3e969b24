/*
 * daemon/api/oidc_token.c's PKCE checks (RFC 7636): the verifier's shape
 * (4.1) and S256 against the challenge (4.6), with the RFC's own example.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "api/oidc_token.h"

/* RFC 7636 appendix B. */
#define RFC_VERIFIER	"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
#define RFC_CHALLENGE	"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

static void
test_the_rfc_example_matches(void **state)
{
	(void)state;
	assert_true(oidc_verifier_ok(RFC_VERIFIER));
	assert_true(oidc_pkce_ok(RFC_VERIFIER, RFC_CHALLENGE));
}

static void
test_another_verifier_or_challenge_does_not_match(void **state)
{
	(void)state;
	/* One character off, either side. */
	assert_false(oidc_pkce_ok("eBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
	    RFC_CHALLENGE));
	assert_false(oidc_pkce_ok(RFC_VERIFIER,
	    "F9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
	/* plain: the verifier as its own challenge. */
	assert_false(oidc_pkce_ok(RFC_VERIFIER, RFC_VERIFIER));
	/* A challenge of the wrong length, or none. */
	assert_false(oidc_pkce_ok(RFC_VERIFIER,
	    "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c"));
	assert_false(oidc_pkce_ok(RFC_VERIFIER, ""));
}

static void
test_the_verifier_has_its_shape(void **state)
{
	char	 v[130];

	(void)state;
	memset(v, 'a', sizeof(v));
	v[43] = '\0';
	assert_true(oidc_verifier_ok(v));		/* 43: the shortest */
	v[42] = '\0';
	assert_false(oidc_verifier_ok(v));		/* 42 */
	memset(v, 'a', sizeof(v));
	v[128] = '\0';
	assert_true(oidc_verifier_ok(v));		/* 128: the longest */
	v[128] = 'a';
	v[129] = '\0';
	assert_false(oidc_verifier_ok(v));		/* 129 */
	assert_true(oidc_verifier_ok(
	    "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"));
	/* Outside the unreserved set. */
	assert_false(oidc_verifier_ok(
	    "dBjftJeZ4CVP+mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
	assert_false(oidc_verifier_ok(
	    "dBjftJeZ4CVP mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
	assert_false(oidc_verifier_ok(
	    "dBjftJeZ4CVP=mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
	assert_false(oidc_verifier_ok(""));
	assert_false(oidc_verifier_ok(NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_rfc_example_matches),
		cmocka_unit_test(test_another_verifier_or_challenge_does_not_match),
		cmocka_unit_test(test_the_verifier_has_its_shape),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
