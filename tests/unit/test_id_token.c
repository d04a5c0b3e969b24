/*
 * daemon/upstream/id_token.c: an upstream provider's key set and its ID
 * tokens.  The keys are made here with libcrypto and the tokens signed
 * here, so that each check is proved against a token that is right but
 * for one thing: RS256, ES256 and EdDSA verify; none, HS256 (with the
 * public key as the secret) and an algorithm on a key of another type
 * never reach a key; every claim rule refuses its own defect.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <sodium.h>

#include "b64url.h"
#include "upstream/id_token.h"
#include "util.h"

#define ISS	"https://sso.example.com"
#define CLIENT	"warden"
#define NONCE	"n-0S6_WzA2Mj"
#define NOW	1800000000

static EVP_PKEY	*rsa, *ec, *ed, *rsa_small;
static char	 jwks[8192];
static struct jwk_set *keys;

static void
b64(const uint8_t *p, size_t n, char *out, size_t outlen)
{
	assert_true(b64url_encode(out, outlen, p, n) >= 0);
}

static void
bn_b64(const EVP_PKEY *k, const char *name, char *out, size_t outlen)
{
	BIGNUM	*bn = NULL;
	uint8_t	 buf[1024];
	int	 n;

	assert_int_equal(EVP_PKEY_get_bn_param(k, name, &bn), 1);
	n = BN_bn2bin(bn, buf);
	BN_free(bn);
	b64(buf, (size_t)n, out, outlen);
}

/* The JWK of k's public half, with kid (NULL: none) and extra members. */
static void
jwk_of(EVP_PKEY *k, const char *kid, const char *extra, char *out,
    size_t outlen)
{
	char	 a[1400], b[100], kidm[64] = "";
	uint8_t	 pub[65];
	size_t	 n = sizeof(pub);

	if (kid != NULL)
		str_printf(kidm, sizeof(kidm), "\"kid\":\"%s\",", kid);
	if (EVP_PKEY_is_a(k, "RSA")) {
		bn_b64(k, OSSL_PKEY_PARAM_RSA_N, a, sizeof(a));
		bn_b64(k, OSSL_PKEY_PARAM_RSA_E, b, sizeof(b));
		str_printf(out, outlen, "{%s\"kty\":\"RSA\",\"n\":\"%s\","
		    "\"e\":\"%s\"%s}", kidm, a, b, extra);
	} else if (EVP_PKEY_is_a(k, "EC")) {
		assert_int_equal(EVP_PKEY_get_octet_string_param(k,
		    OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub), &n), 1);
		assert_int_equal(n, 65);
		b64(pub + 1, 32, a, sizeof(a));
		b64(pub + 33, 32, b, sizeof(b));
		str_printf(out, outlen, "{%s\"kty\":\"EC\",\"crv\":\"P-256\","
		    "\"x\":\"%s\",\"y\":\"%s\"%s}", kidm, a, b, extra);
	} else {
		n = 32;
		assert_int_equal(EVP_PKEY_get_raw_public_key(k, pub, &n), 1);
		b64(pub, 32, a, sizeof(a));
		str_printf(out, outlen, "{%s\"kty\":\"OKP\",\"crv\":\"Ed25519\","
		    "\"x\":\"%s\"%s}", kidm, a, extra);
	}
}

/* The compact JWS of header and claims (JSON) signed by k for alg. */
static void
sign(EVP_PKEY *k, const char *header, const char *claims, char *out,
    size_t outlen)
{
	char	 h[1024], c[2048], input[3200], s[1024];
	uint8_t	 sig[1024], raw[64];
	size_t	 n = sizeof(sig);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	const EVP_MD *md = EVP_PKEY_is_a(k, "ED25519") ? NULL : EVP_sha256();

	b64((const uint8_t *)header, strlen(header), h, sizeof(h));
	b64((const uint8_t *)claims, strlen(claims), c, sizeof(c));
	str_printf(input, sizeof(input), "%s.%s", h, c);
	assert_int_equal(EVP_DigestSignInit(ctx, NULL, md, NULL, k), 1);
	assert_int_equal(EVP_DigestSign(ctx, sig, &n, (uint8_t *)input,
	    strlen(input)), 1);
	EVP_MD_CTX_free(ctx);
	if (EVP_PKEY_is_a(k, "EC")) {
		const uint8_t *p = sig;
		ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)n);

		assert_non_null(es);
		BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, 32);
		BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + 32, 32);
		ECDSA_SIG_free(es);
		memcpy(sig, raw, 64);
		n = 64;
	}
	b64(sig, n, s, sizeof(s));
	str_printf(out, outlen, "%s.%s", input, s);
}

/* Good claims with one member replaced or added: extra is a JSON tail
 * (",\"x\":1") appended after the claims of the default set, and skip
 * names a member to leave out. */
static void
claims(char *out, size_t outlen, const char *skip, const char *extra)
{
	char	 m[6][96];
	size_t	 i, n = 0;

	str_printf(m[0], sizeof(m[0]), "\"iss\":\"" ISS "\"");
	str_printf(m[1], sizeof(m[1]), "\"aud\":\"" CLIENT "\"");
	str_printf(m[2], sizeof(m[2]), "\"sub\":\"user-1\"");
	str_printf(m[3], sizeof(m[3]), "\"iat\":%d", NOW - 5);
	str_printf(m[4], sizeof(m[4]), "\"exp\":%d", NOW + 300);
	str_printf(m[5], sizeof(m[5]), "\"nonce\":\"" NONCE "\"");
	out[0] = '{';
	out[1] = '\0';
	for (i = 0; i < 6; i++) {
		if (skip != NULL && strncmp(m[i] + 1, skip, strlen(skip)) == 0 &&
		    m[i][strlen(skip) + 1] == '"')
			continue;
		str_printf(out + strlen(out), outlen - strlen(out), "%s%s",
		    n++ > 0 ? "," : "", m[i]);
	}
	str_printf(out + strlen(out), outlen - strlen(out), "%s}",
	    extra != NULL ? extra : "");
}

static enum id_token_result
verify(const char *token, struct id_token_claims *c)
{
	struct id_token_expect e = { ISS, CLIENT, NONCE, NOW };
	char	 why[160];

	return id_token_verify(token, strlen(token), keys, &e, c, why,
	    sizeof(why));
}

static enum id_token_result
verify_claims(EVP_PKEY *k, const char *hdr, const char *skip,
    const char *extra, struct id_token_claims *c)
{
	char	 cl[1024], tok[4096];

	claims(cl, sizeof(cl), skip, extra);
	sign(k, hdr, cl, tok, sizeof(tok));
	return verify(tok, c);
}

#define RS	"{\"alg\":\"RS256\",\"kid\":\"r1\"}"
#define ES	"{\"alg\":\"ES256\",\"kid\":\"e1\"}"
#define ED	"{\"alg\":\"EdDSA\",\"kid\":\"o1\"}"

static int
group_setup(void **state)
{
	char	 r[2048], e[512], o[256], small[1024], enc[2048], err[160];

	(void)state;
	rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	rsa_small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (rsa == NULL || ec == NULL || ed == NULL || rsa_small == NULL)
		return -1;
	jwk_of(rsa, "r1", ",\"use\":\"sig\",\"alg\":\"RS256\"", r, sizeof(r));
	jwk_of(ec, "e1", "", e, sizeof(e));
	jwk_of(ed, "o1", "", o, sizeof(o));
	jwk_of(rsa_small, "small", "", small, sizeof(small));
	jwk_of(rsa, "enc", ",\"use\":\"enc\"", enc, sizeof(enc));
	str_printf(jwks, sizeof(jwks), "{\"keys\":[%s,%s,%s,%s,%s,"
	    "{\"kty\":\"oct\",\"k\":\"c2VjcmV0\",\"kid\":\"h1\"}]}", r, e, o,
	    small, enc);
	keys = jwk_set_parse(jwks, strlen(jwks), err, sizeof(err));
	return keys != NULL ? 0 : -1;
}

static int
group_teardown(void **state)
{
	(void)state;
	jwk_set_free(keys);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(rsa_small);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(ed);
	return 0;
}

static void
test_the_set_keeps_the_signing_keys_it_can_use(void **state)
{
	(void)state;
	/* RS256, ES256, EdDSA; not the 1024-bit RSA, the "enc" key or the
	 * symmetric one. */
	assert_int_equal(jwk_set_count(keys), 3);
}

static void
test_each_algorithm_verifies(void **state)
{
	struct id_token_claims c;

	(void)state;
	assert_int_equal(verify_claims(rsa, RS, NULL, ",\"email\":"
	    "\"a@b.example\",\"email_verified\":true,\"name\":\"A B\","
	    "\"preferred_username\":\"ab\"", &c), ID_TOKEN_OK);
	assert_string_equal(c.sub, "user-1");
	assert_string_equal(c.email, "a@b.example");
	assert_true(c.email_verified);
	assert_string_equal(c.preferred_username, "ab");
	assert_string_equal(c.name, "A B");
	assert_int_equal(c.exp, NOW + 300);
	assert_int_equal(verify_claims(ec, ES, NULL, NULL, &c), ID_TOKEN_OK);
	assert_int_equal(verify_claims(ed, ED, NULL, NULL, &c), ID_TOKEN_OK);
	/* without a kid: the one key of the alg */
	assert_int_equal(verify_claims(ed, "{\"alg\":\"EdDSA\"}", NULL, NULL,
	    &c), ID_TOKEN_OK);
}

static void
test_none_and_hmac_never_reach_a_key(void **state)
{
	struct id_token_claims c;
	char	 cl[1024], h[256], p[1024], tok[4096], mac[64];
	uint8_t	 d[crypto_auth_hmacsha256_BYTES];

	(void)state;
	claims(cl, sizeof(cl), NULL, NULL);
	b64((const uint8_t *)"{\"alg\":\"none\"}", 14, h, sizeof(h));
	b64((const uint8_t *)cl, strlen(cl), p, sizeof(p));
	str_printf(tok, sizeof(tok), "%s.%s.", h, p);
	assert_int_equal(verify(tok, &c), ID_TOKEN_BAD_ALG);
	assert_string_equal(c.sub, "");
	/* HS256 keyed with the RSA key's own JWK set text: the classic
	 * confusion of a public key as a secret. */
	b64((const uint8_t *)"{\"alg\":\"HS256\",\"kid\":\"r1\"}", 26, h,
	    sizeof(h));
	str_printf(tok, sizeof(tok), "%s.%s", h, p);
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, (const uint8_t *)jwks, strlen(jwks));
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)tok, strlen(tok));
	crypto_auth_hmacsha256_final(&st, d);
	b64(d, sizeof(d), mac, sizeof(mac));
	str_printf(tok + strlen(tok), sizeof(tok) - strlen(tok), ".%s", mac);
	assert_int_equal(verify(tok, &c), ID_TOKEN_BAD_ALG);
	assert_int_equal(verify_claims(rsa, "{\"alg\":\"PS256\",\"kid\":\"r1\"}",
	    NULL, NULL, &c), ID_TOKEN_BAD_ALG);
	assert_int_equal(verify_claims(rsa, "{\"alg\":\"rs256\",\"kid\":\"r1\"}",
	    NULL, NULL, &c), ID_TOKEN_BAD_ALG);
}

static void
test_a_key_serves_only_its_own_algorithm(void **state)
{
	struct id_token_claims c;

	(void)state;
	/* an RS256 header naming the EC key's kid */
	assert_int_equal(verify_claims(rsa, "{\"alg\":\"RS256\","
	    "\"kid\":\"e1\"}", NULL, NULL, &c), ID_TOKEN_UNKNOWN_KEY);
	assert_int_equal(verify_claims(rsa, "{\"alg\":\"RS256\","
	    "\"kid\":\"nope\"}", NULL, NULL, &c), ID_TOKEN_UNKNOWN_KEY);
	/* the 1024-bit key was never taken */
	assert_int_equal(verify_claims(rsa_small, "{\"alg\":\"RS256\","
	    "\"kid\":\"small\"}", NULL, NULL, &c), ID_TOKEN_UNKNOWN_KEY);
	/* signed by another key under a known kid */
	assert_int_equal(verify_claims(rsa_small, RS, NULL, NULL, &c),
	    ID_TOKEN_BAD_SIGNATURE);
	assert_int_equal(verify_claims(rsa, "{\"alg\":\"RS256\","
	    "\"kid\":\"r1\",\"crit\":[\"x\"],\"x\":1}", NULL, NULL, &c),
	    ID_TOKEN_MALFORMED);
}

static void
test_a_changed_byte_breaks_the_signature(void **state)
{
	struct id_token_claims c;
	char	 cl[1024], tok[4096], *dot;

	(void)state;
	claims(cl, sizeof(cl), NULL, NULL);
	sign(ec, ES, cl, tok, sizeof(tok));
	dot = strchr(tok, '.');
	dot[3] = dot[3] == 'A' ? 'B' : 'A';
	assert_int_not_equal(verify(tok, &c), ID_TOKEN_OK);
	sign(ed, ED, cl, tok, sizeof(tok));
	tok[strlen(tok) - 2] = tok[strlen(tok) - 2] == 'A' ? 'B' : 'A';
	assert_int_equal(verify(tok, &c), ID_TOKEN_BAD_SIGNATURE);
}

static void
test_every_claim_rule(void **state)
{
	static const struct {
		const char	*skip, *extra;
		enum id_token_result want;
	} cases[] = {
		{ "iss", ",\"iss\":\"https://evil.example\"", ID_TOKEN_BAD_CLAIMS },
		{ "iss", NULL, ID_TOKEN_BAD_CLAIMS },
		{ "aud", ",\"aud\":\"someone-else\"", ID_TOKEN_BAD_CLAIMS },
		{ "aud", ",\"aud\":[\"x\",\"y\"]", ID_TOKEN_BAD_CLAIMS },
		/* with others beside us, azp must say us */
		{ "aud", ",\"aud\":[\"" CLIENT "\",\"y\"]", ID_TOKEN_BAD_CLAIMS },
		{ "aud", ",\"aud\":[\"" CLIENT "\",\"y\"],\"azp\":\"" CLIENT
		  "\"", ID_TOKEN_OK },
		{ "aud", ",\"aud\":[\"" CLIENT "\"]", ID_TOKEN_OK },
		{ NULL, ",\"azp\":\"y\"", ID_TOKEN_BAD_CLAIMS },
		{ "exp", ",\"exp\":1799999900", ID_TOKEN_BAD_CLAIMS },
		/* within the leeway */
		{ "exp", ",\"exp\":1799999970", ID_TOKEN_OK },
		{ "exp", NULL, ID_TOKEN_BAD_CLAIMS },
		{ "exp", ",\"exp\":\"1800000300\"", ID_TOKEN_BAD_CLAIMS },
		{ "iat", ",\"iat\":1800000100", ID_TOKEN_BAD_CLAIMS },
		{ "iat", ",\"iat\":1799990000", ID_TOKEN_BAD_CLAIMS },
		{ "iat", NULL, ID_TOKEN_BAD_CLAIMS },
		{ "nonce", ",\"nonce\":\"n-0S6_WzA2Mk\"", ID_TOKEN_BAD_CLAIMS },
		{ "nonce", ",\"nonce\":\"n-0S6_WzA2Mj-and-more\"",
		  ID_TOKEN_BAD_CLAIMS },
		{ "nonce", NULL, ID_TOKEN_BAD_CLAIMS },
		{ "sub", ",\"sub\":\"\"", ID_TOKEN_BAD_CLAIMS },
		{ "sub", ",\"sub\":42", ID_TOKEN_BAD_CLAIMS },
		{ "sub", NULL, ID_TOKEN_BAD_CLAIMS },
		{ NULL, ",\"email\":\"a@b.example\",\"email_verified\":\"true\"",
		  ID_TOKEN_OK },
	};
	struct id_token_claims c;
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (verify_claims(rsa, RS, cases[i].skip, cases[i].extra, &c) !=
		    cases[i].want)
			fail_msg("case %zu (%s%s) did not give %d", i,
			    cases[i].skip != NULL ? cases[i].skip : "",
			    cases[i].extra != NULL ? cases[i].extra : "",
			    cases[i].want);
	/* a string "true" is not JSON true */
	assert_false(c.email_verified);
}

static void
test_a_sub_over_the_bound_is_refused(void **state)
{
	struct id_token_claims c;
	char	 extra[400];

	(void)state;
	str_copy(extra, ",\"sub\":\"", sizeof(extra));
	memset(extra + strlen(extra), 's', ID_TOKEN_SUB_MAX + 1);
	extra[8 + ID_TOKEN_SUB_MAX + 1] = '\0';
	str_printf(extra + strlen(extra), sizeof(extra) - strlen(extra), "\"");
	assert_int_equal(verify_claims(ed, ED, "sub", extra, &c),
	    ID_TOKEN_BAD_CLAIMS);
}

static void
test_malformed_tokens(void **state)
{
	static const char *bad[] = {
		"", "a", "a.b", "a.b.c.d", "!!.e30.sig", "e30.e30.",
		"eyJhbGciOiJSUzI1NiJ9.e30", "bm90IGpzb24.e30.c2ln",
	};
	struct id_token_claims c;
	char	*big;
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_not_equal(verify(bad[i], &c), ID_TOKEN_OK);
	assert_int_equal(verify("a.b", &c), ID_TOKEN_MALFORMED);
	big = malloc(ID_TOKEN_MAX + 2);
	memset(big, 'a', ID_TOKEN_MAX + 1);
	big[ID_TOKEN_MAX + 1] = '\0';
	assert_int_equal(verify(big, &c), ID_TOKEN_MALFORMED);
	free(big);
}

static void
test_key_sets_that_are_not(void **state)
{
	char	 err[160];
	static char many[64 * 1024];
	char	 o[256];
	size_t	 i;

	(void)state;
	assert_null(jwk_set_parse("{\"keys\":[]}", 11, err, sizeof(err)));
	assert_null(jwk_set_parse("{\"keys\":[{\"kty\":\"oct\",\"k\":\"AA\"}]}",
	    33, err, sizeof(err)));
	assert_null(jwk_set_parse("[]", 2, err, sizeof(err)));
	assert_null(jwk_set_parse("{", 1, err, sizeof(err)));
	assert_null(jwk_set_parse("", 0, err, sizeof(err)));
	/* a private key in the set is never taken */
	jwk_of(ed, "p", ",\"d\":\"AAAA\"", o, sizeof(o));
	str_printf(many, sizeof(many), "{\"keys\":[%s]}", o);
	assert_null(jwk_set_parse(many, strlen(many), err, sizeof(err)));
	/* more usable keys than the bound */
	jwk_of(ed, "k", "", o, sizeof(o));
	str_copy(many, "{\"keys\":[", sizeof(many));
	for (i = 0; i <= JWK_SET_MAX_KEYS; i++)
		str_printf(many + strlen(many), sizeof(many) - strlen(many),
		    "%s%s", i > 0 ? "," : "", o);
	str_printf(many + strlen(many), sizeof(many) - strlen(many), "]}");
	assert_null(jwk_set_parse(many, strlen(many), err, sizeof(err)));
	assert_non_null(strstr(err, "more than"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_set_keeps_the_signing_keys_it_can_use),
		cmocka_unit_test(test_each_algorithm_verifies),
		cmocka_unit_test(test_none_and_hmac_never_reach_a_key),
		cmocka_unit_test(test_a_key_serves_only_its_own_algorithm),
		cmocka_unit_test(test_a_changed_byte_breaks_the_signature),
		cmocka_unit_test(test_every_claim_rule),
		cmocka_unit_test(test_a_sub_over_the_bound_is_refused),
		cmocka_unit_test(test_malformed_tokens),
		cmocka_unit_test(test_key_sets_that_are_not),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
