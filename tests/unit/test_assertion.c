/*
 * hasher/assertion.c: the client assertion's exact header and claims
 * (compared as text), exp = iat + 60, a fresh jti each time, JSON
 * escaping of a client_id with a quote and a backslash, the signature
 * (EdDSA checked with libsodium, RS256 with OpenSSL from the published n
 * and e alone), the largest request fitting a token, and the refusal of
 * every bad field with the answer wiped.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <sodium.h>

#include "assertion.h"
#include "b64url.h"
#include "fields.h"

#define CLIENT	"warden-at-idp"
#define TOKEN_URL "https://idp.example.com/oauth2/token"
#define NOW	((time_t)1795000000)	/* 2026-11 */

static char		keydir[64];
static struct keyset	ks;

static int
group_setup(void **state)
{
	char err[512];

	snprintf(keydir, sizeof(keydir), "/tmp/warden-asrt-XXXXXX");
	if (mkdtemp(keydir) == NULL ||
	    keys_generate(keydir, err, sizeof(err)) == -1 ||
	    keys_load(&ks, keydir, err, sizeof(err)) == -1) {
		fprintf(stderr, "key set-up: %s\n", err);
		return -1;
	}
	return 0;
}

static int
group_teardown(void **state)
{
	DIR		*d;
	struct dirent	*de;
	char		 path[PATH_MAX];

	keys_free(&ks);
	if ((d = opendir(keydir)) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (de->d_name[0] != '.' && (size_t)snprintf(path,
			    sizeof(path), "%s/%s", keydir, de->d_name) <
			    sizeof(path))
				unlink(path);
		closedir(d);
	}
	rmdir(keydir);
	return 0;
}

static void
req_init(struct proto_sign_assertion_req *r, uint8_t alg, const char *cid)
{
	memset(r, 0, sizeof(*r));
	r->alg = alg;
	snprintf(r->client_id, sizeof(r->client_id), "%s", cid);
	snprintf(r->aud, sizeof(r->aud), "%s", TOKEN_URL);
}

/* The three dot-separated parts of a JWT. */
struct parts {
	const char	*p[3];
	size_t		 len[3];
};

static void
split(const char *jwt, struct parts *out)
{
	const char	*d1 = strchr(jwt, '.'), *d2;

	assert_non_null(d1);
	d2 = strchr(d1 + 1, '.');
	assert_non_null(d2);
	assert_null(strchr(d2 + 1, '.'));
	out->p[0] = jwt;
	out->len[0] = (size_t)(d1 - jwt);
	out->p[1] = d1 + 1;
	out->len[1] = (size_t)(d2 - d1 - 1);
	out->p[2] = d2 + 1;
	out->len[2] = strlen(d2 + 1);
}

static void
decode_part(const char *jwt, int i, char *out, size_t outlen)
{
	struct parts	pt;
	ssize_t		n;

	split(jwt, &pt);
	n = b64url_decode((uint8_t *)out, outlen - 1, pt.p[i], pt.len[i]);
	assert_true(n >= 0);
	out[n] = '\0';
}

static void
sign_ok(const struct proto_sign_assertion_req *r, time_t now,
    struct proto_sign_assertion_ans *a, const char **kid)
{
	char err[256] = "";

	memset(a, 0x5a, sizeof(*a));
	if (assertion_sign(&ks, r, now, a, kid, err, sizeof(err)) != 0)
		fail_msg("assertion_sign: %s", err);
	assert_true(strlen(a->jwt) <= PROTO_JWT_MAX);
}

/* The jti claim of a token, checked to be a lower-case UUID. */
static void
jti_of(const char *jwt, char out[FIELD_UUID_LEN + 1])
{
	char		 text[PROTO_JWT_MAX];
	cJSON		*c, *j;

	decode_part(jwt, 1, text, sizeof(text));
	assert_non_null(c = cJSON_Parse(text));
	j = cJSON_GetObjectItemCaseSensitive(c, "jti");
	assert_true(cJSON_IsString(j));
	assert_true(field_is_uuid(j->valuestring));
	snprintf(out, FIELD_UUID_LEN + 1, "%s", j->valuestring);
	cJSON_Delete(c);
}

static bool
eddsa_verifies(const uint8_t pk[crypto_sign_PUBLICKEYBYTES], const char *jwt)
{
	struct parts	pt;
	uint8_t		sig[crypto_sign_BYTES + 2];
	ssize_t		n;

	split(jwt, &pt);
	n = b64url_decode(sig, sizeof(sig), pt.p[2], pt.len[2]);
	return n == crypto_sign_BYTES && crypto_sign_verify_detached(sig,
	    (const uint8_t *)jwt, (size_t)(pt.p[2] - 1 - jwt), pk) == 0;
}

/* An OpenSSL public key from the published modulus and exponent. */
static EVP_PKEY *
rsa_from_public(const struct rsa_key *k)
{
	OSSL_PARAM_BLD	*bld;
	OSSL_PARAM	*prm;
	EVP_PKEY_CTX	*ctx;
	EVP_PKEY	*pk = NULL;
	BIGNUM		*n, *e;

	assert_non_null(n = BN_bin2bn(k->n, PROTO_RSA_N_LEN, NULL));
	assert_non_null(e = BN_bin2bn(k->e, (int)k->e_len, NULL));
	assert_non_null(bld = OSSL_PARAM_BLD_new());
	assert_true(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n));
	assert_true(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e));
	assert_non_null(prm = OSSL_PARAM_BLD_to_param(bld));
	assert_non_null(ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL));
	assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
	assert_int_equal(EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, prm),
	    1);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(prm);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	return pk;
}

static bool
rs256_verifies(const struct rsa_key *k, const char *jwt)
{
	struct parts	 pt;
	uint8_t		 sig[PROTO_RSA_N_LEN + 2];
	ssize_t		 n;
	EVP_PKEY	*pk = rsa_from_public(k);
	EVP_MD_CTX	*ctx = EVP_MD_CTX_new();
	bool		 ok;

	split(jwt, &pt);
	n = b64url_decode(sig, sizeof(sig), pt.p[2], pt.len[2]);
	ok = n == PROTO_RSA_N_LEN &&
	    EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pk) == 1 &&
	    EVP_DigestVerify(ctx, sig, (size_t)n, (const uint8_t *)jwt,
	    (size_t)(pt.p[2] - 1 - jwt)) == 1;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pk);
	return ok;
}

/* The header and the claims, byte for byte, for client id (as JSON). */
static void
check_text(const char *jwt, const char *alg, const char *kid,
    const char *cid_json)
{
	char text[PROTO_JWT_MAX], want[PROTO_JWT_MAX], jti[FIELD_UUID_LEN + 1];

	decode_part(jwt, 0, text, sizeof(text));
	snprintf(want, sizeof(want), "{\"alg\":\"%s\",\"typ\":\"JWT\","
	    "\"kid\":\"%s\"}", alg, kid);
	assert_string_equal(text, want);
	jti_of(jwt, jti);
	decode_part(jwt, 1, text, sizeof(text));
	snprintf(want, sizeof(want), "{\"iss\":\"%s\",\"sub\":\"%s\","
	    "\"aud\":\"%s\",\"jti\":\"%s\",\"iat\":%lld,\"exp\":%lld}",
	    cid_json, cid_json, TOKEN_URL, jti, (long long)NOW,
	    (long long)NOW + 60);
	assert_string_equal(text, want);
}

static void
test_eddsa_assertion_verifies_with_exact_claims(void **state)
{
	struct proto_sign_assertion_req	r;
	struct proto_sign_assertion_ans	a;
	const struct sign_key		*k = keys_sign_current_at(&ks, NOW);
	const char			*kid = NULL;

	assert_non_null(k);
	req_init(&r, PROTO_ALG_EDDSA, CLIENT);
	sign_ok(&r, NOW, &a, &kid);
	assert_string_equal(kid, k->kid);
	check_text(a.jwt, "EdDSA", k->kid, CLIENT);
	assert_true(eddsa_verifies(k->pk, a.jwt));
	/* one byte changed: no longer verifies */
	a.jwt[5] = a.jwt[5] == 'A' ? 'B' : 'A';
	assert_false(eddsa_verifies(k->pk, a.jwt));
}

static void
test_rs256_assertion_verifies_with_exact_claims(void **state)
{
	struct proto_sign_assertion_req	r;
	struct proto_sign_assertion_ans	a;
	const struct rsa_key		*k = keys_rsa_current_at(&ks, NOW);
	const char			*kid = NULL;

	assert_non_null(k);
	req_init(&r, PROTO_ALG_RS256, CLIENT);
	sign_ok(&r, NOW, &a, &kid);
	assert_string_equal(kid, k->kid);
	check_text(a.jwt, "RS256", k->kid, CLIENT);
	assert_true(rs256_verifies(k, a.jwt));
	a.jwt[strlen(a.jwt) - 3] ^= 1;
	assert_false(rs256_verifies(k, a.jwt));
}

static void
test_exp_is_iat_plus_60_and_jti_is_fresh(void **state)
{
	struct proto_sign_assertion_req	r;
	struct proto_sign_assertion_ans	a1, a2;
	char				j1[FIELD_UUID_LEN + 1];
	char				j2[FIELD_UUID_LEN + 1];
	char				text[PROTO_JWT_MAX];
	cJSON				*c;

	req_init(&r, PROTO_ALG_EDDSA, CLIENT);
	sign_ok(&r, NOW + 1234, &a1, NULL);
	sign_ok(&r, NOW + 1234, &a2, NULL);
	decode_part(a1.jwt, 1, text, sizeof(text));
	assert_non_null(c = cJSON_Parse(text));
	assert_int_equal((long long)cJSON_GetNumberValue(
	    cJSON_GetObjectItemCaseSensitive(c, "iat")), NOW + 1234);
	assert_int_equal((long long)cJSON_GetNumberValue(
	    cJSON_GetObjectItemCaseSensitive(c, "exp")), NOW + 1234 + 60);
	cJSON_Delete(c);
	jti_of(a1.jwt, j1);
	jti_of(a2.jwt, j2);
	assert_string_not_equal(j1, j2);
	assert_string_not_equal(a1.jwt, a2.jwt);
}

/* A client_id with a quote and a backslash is escaped in the JSON, and
 * parses back to itself. */
static void
test_client_id_is_json_escaped(void **state)
{
	struct proto_sign_assertion_req	r;
	struct proto_sign_assertion_ans	a;
	const struct rsa_key		*k = keys_rsa_current_at(&ks, NOW);
	char				text[PROTO_JWT_MAX];
	cJSON				*c;

	req_init(&r, PROTO_ALG_RS256, "we\"ird\\id</x>");
	sign_ok(&r, NOW, &a, NULL);
	check_text(a.jwt, "RS256", k->kid, "we\\\"ird\\\\id</x>");
	decode_part(a.jwt, 1, text, sizeof(text));
	assert_non_null(c = cJSON_Parse(text));
	assert_string_equal(cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(c, "iss")), "we\"ird\\id</x>");
	assert_string_equal(cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(c, "sub")), "we\"ird\\id</x>");
	cJSON_Delete(c);
	assert_true(rs256_verifies(k, a.jwt));
}

/* Both strings at their bounds, with RS256's long signature: it fits. */
static void
test_largest_request_fits(void **state)
{
	struct proto_sign_assertion_req	r;
	struct proto_sign_assertion_ans	a;
	const struct rsa_key		*k = keys_rsa_current_at(&ks, NOW);
	size_t				n;

	req_init(&r, PROTO_ALG_RS256, CLIENT);
	memset(r.client_id, '"', PROTO_ASSERTION_CLIENT_MAX);
	r.client_id[PROTO_ASSERTION_CLIENT_MAX] = '\0';
	n = strlen(TOKEN_URL);
	memset(r.aud + n, 'p', PROTO_ASSERTION_AUD_MAX - n);
	r.aud[PROTO_ASSERTION_AUD_MAX] = '\0';
	sign_ok(&r, NOW, &a, NULL);
	assert_true(rs256_verifies(k, a.jwt));
}

static void
refused(const struct proto_sign_assertion_req *r, const struct keyset *k,
    const char *why)
{
	struct proto_sign_assertion_ans	a;
	static const struct proto_sign_assertion_ans zero;
	const char			*kid = "x";
	char				err[256] = "";

	memset(&a, 0x5a, sizeof(a));
	assert_int_equal(assertion_sign(k, r, NOW, &a, &kid, err,
	    sizeof(err)), -1);
	if (strstr(err, why) == NULL)
		fail_msg("error \"%s\" does not mention \"%s\"", err, why);
	assert_memory_equal(&a, &zero, sizeof(a));
	assert_string_equal(kid, "");
}

static void
test_bad_requests_refused(void **state)
{
	static const char *const bad_aud[] = {
		"ftp://idp.example.com/token", "idp.example.com/token",
		"https://", "http://", "https:///token", "HTTPS//x",
	};
	static const char bad_byte[] = { ' ', '\t', '\n', 0x7f, (char)0x80 };
	struct proto_sign_assertion_req	r;
	struct keyset			old = ks;	/* shallow, not freed */
	size_t				i;

	req_init(&r, 0, CLIENT);
	refused(&r, &ks, "alg");
	req_init(&r, 3, CLIENT);
	refused(&r, &ks, "alg");
	req_init(&r, PROTO_ALG_EDDSA, "");
	refused(&r, &ks, "client_id");
	for (i = 0; i < sizeof(bad_byte); i++) {
		req_init(&r, PROTO_ALG_EDDSA, CLIENT);
		r.client_id[3] = bad_byte[i];
		refused(&r, &ks, "client_id");
		req_init(&r, PROTO_ALG_EDDSA, CLIENT);
		r.aud[10] = bad_byte[i];
		refused(&r, &ks, "aud");
	}
	/* not NUL-terminated within the field */
	req_init(&r, PROTO_ALG_EDDSA, CLIENT);
	memset(r.client_id, 'c', sizeof(r.client_id));
	refused(&r, &ks, "client_id");
	req_init(&r, PROTO_ALG_EDDSA, CLIENT);
	memset(r.aud + strlen(TOKEN_URL), 'p',
	    sizeof(r.aud) - strlen(TOKEN_URL));
	refused(&r, &ks, "aud");
	req_init(&r, PROTO_ALG_EDDSA, CLIENT);
	r.aud[0] = '\0';
	refused(&r, &ks, "aud");
	for (i = 0; i < sizeof(bad_aud) / sizeof(bad_aud[0]); i++) {
		req_init(&r, PROTO_ALG_RS256, CLIENT);
		snprintf(r.aud, sizeof(r.aud), "%s", bad_aud[i]);
		refused(&r, &ks, "aud");
	}
	/* http:// is allowed (a provider on a private network) */
	{
		struct proto_sign_assertion_ans a;

		req_init(&r, PROTO_ALG_EDDSA, CLIENT);
		snprintf(r.aud, sizeof(r.aud), "%s", "http://idp.lan/token");
		sign_ok(&r, NOW, &a, NULL);
	}

	/* RS256 of a key set without a current RSA key; EdDSA still fine */
	old.rsa_current = old.nrsa;
	req_init(&r, PROTO_ALG_RS256, CLIENT);
	refused(&r, &old, "wardenctl keygen");

	/* a clock past what a u32 exp holds */
	{
		struct proto_sign_assertion_ans a;
		char err[256] = "";

		req_init(&r, PROTO_ALG_EDDSA, CLIENT);
		assert_int_equal(assertion_sign(&ks, &r,
		    (time_t)UINT32_MAX - 59, &a, NULL, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "clock"));
	}
	assert_int_equal(assertion_sign(&ks, NULL, NOW, NULL, NULL, NULL, 0),
	    -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eddsa_assertion_verifies_with_exact_claims),
		cmocka_unit_test(test_rs256_assertion_verifies_with_exact_claims),
		cmocka_unit_test(test_exp_is_iat_plus_60_and_jti_is_fresh),
		cmocka_unit_test(test_client_id_is_json_escaped),
		cmocka_unit_test(test_largest_request_fits),
		cmocka_unit_test(test_bad_requests_refused),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
