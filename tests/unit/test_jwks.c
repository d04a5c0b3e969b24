/* Unit tests of daemon/api/jwks.c: the exact JWK Set document. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>

#include <cmocka.h>
#include <sodium.h>

#include "api/jwks.h"

static void
test_empty(void **state)
{
	struct proto_pubkeys_ans	 k;
	char				*s;
	size_t				 len = 0;

	memset(&k, 0, sizeof(k));
	s = jwks_build(&k, &len);
	assert_non_null(s);
	assert_string_equal(s, "{\"keys\":[]}");
	assert_int_equal(len, strlen(s));
	free(s);
	s = jwks_build(NULL, NULL);
	assert_string_equal(s, "{\"keys\":[]}");
	free(s);
}

static void
test_two_keys(void **state)
{
	struct proto_pubkeys_ans	 k;
	char				*s;
	size_t				 len, i;

	memset(&k, 0, sizeof(k));
	k.nkeys = 2;
	strlcpy(k.keys[0].kid, "old-1", sizeof(k.keys[0].kid));
	for (i = 0; i < PROTO_PUBKEY_LEN; i++)
		k.keys[0].pk[i] = (uint8_t)i;
	strlcpy(k.keys[1].kid, "New_2", sizeof(k.keys[1].kid));
	memset(k.keys[1].pk, 0xff, PROTO_PUBKEY_LEN);
	k.keys[1].current = true;
	s = jwks_build(&k, &len);
	assert_non_null(s);
	assert_string_equal(s,
	    "{\"keys\":["
	    "{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
	    "\"x\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\","
	    "\"kid\":\"old-1\",\"use\":\"sig\",\"alg\":\"EdDSA\"},"
	    "{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
	    "\"x\":\"__________________________________________8\","
	    "\"kid\":\"New_2\",\"use\":\"sig\",\"alg\":\"EdDSA\"}"
	    "]}");
	assert_int_equal(len, strlen(s));
	free(s);
}

/* RFC 8037 appendix A.2: the public key of its example, and its x. */
static void
test_rfc8037_vector(void **state)
{
	static const uint8_t pk[32] = {
		0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7,
		0xd5, 0x4b, 0xfe, 0xd3, 0xc9, 0x64, 0x07, 0x3a,
		0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25,
		0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a,
	};
	struct proto_pubkeys_ans	 k;
	char				*s;

	memset(&k, 0, sizeof(k));
	k.nkeys = 1;
	strlcpy(k.keys[0].kid, "k", sizeof(k.keys[0].kid));
	memcpy(k.keys[0].pk, pk, sizeof(pk));
	s = jwks_build(&k, NULL);
	assert_non_null(s);
	assert_string_equal(s, "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
	    "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\","
	    "\"kid\":\"k\",\"use\":\"sig\",\"alg\":\"EdDSA\"}]}");
	free(s);
}

/* Whatever a kid holds, the document stays JSON. */
static void
test_escaping(void **state)
{
	struct proto_pubkeys_ans	 k;
	char				*s;

	memset(&k, 0, sizeof(k));
	k.nkeys = 1;
	strlcpy(k.keys[0].kid, "a\"b\\c", sizeof(k.keys[0].kid));
	s = jwks_build(&k, NULL);
	assert_non_null(s);
	assert_non_null(strstr(s, "\"kid\":\"a\\\"b\\\\c\""));
	free(s);
}

/* RSA keys follow the OKP ones: n of 384 bytes, e 65537 as "AQAB"
 * (RFC 7518 6.3.1.2's example), each base64url without padding. */
static void
test_rsa_keys(void **state)
{
	static struct proto_pubkeys_ans k;
	char	 n_b64[513], want[2048];
	char	*s;
	size_t	 len, i;

	memset(&k, 0, sizeof(k));
	k.nkeys = 1;
	snprintf(k.keys[0].kid, sizeof(k.keys[0].kid), "ed1");
	k.keys[0].current = true;
	k.nrsa = 2;
	for (i = 0; i < 2; i++) {
		snprintf(k.rsa[i].kid, sizeof(k.rsa[i].kid), "rsa%zu", i + 1);
		memset(k.rsa[i].n, 0xff, PROTO_RSA_N_LEN);
		k.rsa[i].e[0] = 1;
		k.rsa[i].e[1] = 0;
		k.rsa[i].e[2] = 1;
		k.rsa[i].e_len = 3;
	}
	k.rsa[1].current = true;
	assert_non_null(s = jwks_build(&k, &len));
	/* 384 bytes of 0xff: 128 groups of "____" */
	memset(n_b64, '_', 512);
	n_b64[512] = '\0';
	snprintf(want, sizeof(want), "{\"keys\":[{\"kty\":\"OKP\","
	    "\"crv\":\"Ed25519\",\"x\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
	    "\"kid\":\"ed1\",\"use\":\"sig\",\"alg\":\"EdDSA\"},"
	    "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\",\"kid\":\"rsa1\","
	    "\"use\":\"sig\",\"alg\":\"RS256\"},"
	    "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\",\"kid\":\"rsa2\","
	    "\"use\":\"sig\",\"alg\":\"RS256\"}]}", n_b64, n_b64);
	assert_string_equal(s, want);
	assert_int_equal(len, strlen(want));
	free(s);

	/* an exponent the hasher never sends: no document rather than a
	 * wrong one */
	k.rsa[0].e_len = 0;
	assert_null(jwks_build(&k, NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_two_keys),
		cmocka_unit_test(test_rfc8037_vector),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_rsa_keys),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
