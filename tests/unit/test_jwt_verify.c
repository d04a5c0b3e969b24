/*
 * Unit tests of daemon/api/jwt_verify.c: tokens are built here by a tiny
 * test-local signer (cJSON + crypto_sign_detached), one by the hasher's
 * own jwt_sign(); every rule of jwt_verify.h is broken once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <sodium.h>

#include "b64url.h"
#include "jwt_sign.h"
#include "api/jwt_verify.h"

#define NOW	((time_t)1800000000)
#define ISS	"https://auth.example.test"
#define AUD	"warden-test"
#define SUB	"0b6c1c55-7c1e-4e4e-9a57-1f1d8f3e2a10"
#define TOKMAX	(JWT_VERIFY_MAX_LEN * 2)

static uint8_t pk1[crypto_sign_PUBLICKEYBYTES], sk1[crypto_sign_SECRETKEYBYTES];
static uint8_t pk2[crypto_sign_PUBLICKEYBYTES], sk2[crypto_sign_SECRETKEYBYTES];
static uint8_t pkx[crypto_sign_PUBLICKEYBYTES], skx[crypto_sign_SECRETKEYBYTES];
static struct proto_pubkeys_ans keys;
static const struct jwt_verify_params params = { ISS, AUD, 60, false };
static char tok[TOKMAX];

/* ---- the test-local signer ---- */

static void
b64_append(char *dst, size_t dstlen, const void *src, size_t srclen)
{
	size_t used = strlen(dst);

	assert_true(b64url_encode(dst + used, dstlen - used, src, srclen) >= 0);
}

/* tok = b64(htext).b64(ctext).b64(Ed25519 signature by sk) */
static const char *
sign_raw(const char *htext, const char *ctext, const uint8_t *sk)
{
	uint8_t sig[crypto_sign_BYTES];

	tok[0] = '\0';
	b64_append(tok, sizeof(tok), htext, strlen(htext));
	strlcat(tok, ".", sizeof(tok));
	b64_append(tok, sizeof(tok), ctext, strlen(ctext));
	crypto_sign_detached(sig, NULL, (const uint8_t *)tok, strlen(tok), sk);
	strlcat(tok, ".", sizeof(tok));
	b64_append(tok, sizeof(tok), sig, sizeof(sig));
	return tok;
}

/* Signs and frees h and c. */
static const char *
sign_json(cJSON *h, cJSON *c, const uint8_t *sk)
{
	char *ht = cJSON_PrintUnformatted(h), *ct = cJSON_PrintUnformatted(c);

	assert_non_null(ht);
	assert_non_null(ct);
	sign_raw(ht, ct, sk);
	cJSON_free(ht);
	cJSON_free(ct);
	cJSON_Delete(h);
	cJSON_Delete(c);
	return tok;
}

static cJSON *
header(const char *alg, const char *typ, const char *kid)
{
	cJSON *h = cJSON_CreateObject();

	if (alg != NULL)
		cJSON_AddStringToObject(h, "alg", alg);
	if (typ != NULL)
		cJSON_AddStringToObject(h, "typ", typ);
	if (kid != NULL)
		cJSON_AddStringToObject(h, "kid", kid);
	return h;
}

static cJSON *
good_header(void)
{
	return header("EdDSA", "at+jwt", "k1");
}

static cJSON *
good_claims(void)
{
	cJSON *c = cJSON_CreateObject(), *roles;

	cJSON_AddStringToObject(c, "iss", ISS);
	cJSON_AddStringToObject(c, "aud", AUD);
	cJSON_AddStringToObject(c, "sub", SUB);
	cJSON_AddNumberToObject(c, "iat", (double)NOW - 10);
	cJSON_AddNumberToObject(c, "exp", (double)NOW + 890);
	cJSON_AddStringToObject(c, "jti", "6f1f2a9e-3d43-4c1b-8a55-0a3c7e1d2b44");
	cJSON_AddStringToObject(c, "username", "alice");
	roles = cJSON_AddArrayToObject(c, "roles");
	cJSON_AddItemToArray(roles, cJSON_CreateString("user"));
	cJSON_AddItemToArray(roles, cJSON_CreateString("admin"));
	cJSON_AddNumberToObject(c, "ver", 3);
	return c;
}

static enum jwt_result
verify_at(const char *t, time_t now, struct jwt_claims *out)
{
	return jwt_verify(&keys, &params, t, strlen(t), now, out);
}

static enum jwt_result
verify(const char *t)
{
	struct jwt_claims out;

	return verify_at(t, NOW, &out);
}

/* good claims with member name replaced by item (NULL: removed) */
static enum jwt_result
verify_claim(const char *name, cJSON *item)
{
	cJSON *c = good_claims();

	if (item == NULL)
		cJSON_DeleteItemFromObjectCaseSensitive(c, name);
	else
		cJSON_ReplaceItemInObjectCaseSensitive(c, name, item);
	return verify(sign_json(good_header(), c, sk1));
}

static enum jwt_result
verify_header(cJSON *h)
{
	return verify(sign_json(h, good_claims(), sk1));
}

static int
setup(void **state)
{
	crypto_sign_keypair(pk1, sk1);
	crypto_sign_keypair(pk2, sk2);
	crypto_sign_keypair(pkx, skx);
	memset(&keys, 0, sizeof(keys));
	keys.nkeys = 2;
	strlcpy(keys.keys[0].kid, "k1", sizeof(keys.keys[0].kid));
	memcpy(keys.keys[0].pk, pk1, sizeof(pk1));
	keys.keys[0].current = true;
	strlcpy(keys.keys[1].kid, "k2", sizeof(keys.keys[1].kid));
	memcpy(keys.keys[1].pk, pk2, sizeof(pk2));
	return 0;
}

/* ---- accepted ---- */

static void
test_good(void **state)
{
	struct jwt_claims out;

	sign_json(good_header(), good_claims(), sk1);
	assert_int_equal(verify_at(tok, NOW, &out), JWT_OK);
	assert_string_equal(out.sub, SUB);
	assert_string_equal(out.username, "alice");
	assert_int_equal(out.nroles, 2);
	assert_string_equal(out.roles[0], "user");
	assert_string_equal(out.roles[1], "admin");
	assert_int_equal(out.ver, 3);
	assert_int_equal(out.exp, (int64_t)NOW + 890);
	assert_int_equal(out.iat, (int64_t)NOW - 10);
	assert_string_equal(out.jti, "6f1f2a9e-3d43-4c1b-8a55-0a3c7e1d2b44");
	assert_string_equal(out.kid, "k1");

	/* Not NUL-terminated: only len bytes are read. */
	strlcat(tok, "garbage", sizeof(tok));
	assert_int_equal(jwt_verify(&keys, &params, tok, strlen(tok) - 7,
	    NOW, &out), JWT_OK);
}

static void
test_good_variants(void **state)
{
	cJSON *c, *aud;

	/* The second (older) key still verifies. */
	assert_int_equal(verify(sign_json(header("EdDSA", "at+jwt", "k2"),
	    good_claims(), sk2)), JWT_OK);
	/* RFC 9864's name for the algorithm, and the long typ. */
	assert_int_equal(verify(sign_json(header("Ed25519", "at+jwt", "k1"),
	    good_claims(), sk1)), JWT_OK);
	assert_int_equal(verify(sign_json(header("EdDSA",
	    "application/AT+JWT", "k1"), good_claims(), sk1)), JWT_OK);
	/* aud as an array that holds ours. */
	c = good_claims();
	aud = cJSON_CreateArray();
	cJSON_AddItemToArray(aud, cJSON_CreateString("other"));
	cJSON_AddItemToArray(aud, cJSON_CreateString(AUD));
	cJSON_ReplaceItemInObjectCaseSensitive(c, "aud", aud);
	assert_int_equal(verify(sign_json(good_header(), c, sk1)), JWT_OK);
	/* No roles at all, ver 0, unknown extra claims are fine. */
	c = good_claims();
	cJSON_ReplaceItemInObjectCaseSensitive(c, "roles", cJSON_CreateArray());
	cJSON_ReplaceItemInObjectCaseSensitive(c, "ver", cJSON_CreateNumber(0));
	cJSON_AddStringToObject(c, "client_id", "x");
	assert_int_equal(verify(sign_json(good_header(), c, sk1)), JWT_OK);
	/* Header members in another order. */
	assert_int_equal(verify(sign_raw(
	    "{\"kid\":\"k1\",\"typ\":\"at+jwt\",\"alg\":\"EdDSA\"}",
	    "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"" SUB "\","
	    "\"iat\":1800000000,\"exp\":1800000900,\"jti\":\"j\","
	    "\"username\":\"bob\",\"roles\":[],\"ver\":4294967295}", sk1)),
	    JWT_OK);
}

/* ---- time ---- */

static void
test_time(void **state)
{
	struct jwt_claims out;
	struct jwt_verify_params wide = { ISS, AUD, 100000, false };

	sign_json(good_header(), good_claims(), sk1);	/* exp NOW + 890 */
	assert_int_equal(verify_at(tok, NOW + 889, &out), JWT_OK);
	assert_int_equal(verify_at(tok, NOW + 949, &out), JWT_OK);  /* leeway */
	assert_int_equal(verify_at(tok, NOW + 950, &out), JWT_EXPIRED);
	assert_int_equal(verify_at(tok, NOW + 100000, &out), JWT_EXPIRED);
	/* The leeway is clamped to JWT_LEEWAY_MAX. */
	assert_int_equal(jwt_verify(&keys, &wide, tok, strlen(tok), NOW + 1000,
	    &out), JWT_EXPIRED);
	assert_int_equal(out.ver, 0);	/* zeroed on failure */
	assert_string_equal(out.sub, "");

	/* iat NOW - 10: fine until it is beyond the leeway in the future */
	assert_int_equal(verify_at(tok, NOW - 70, &out), JWT_OK);
	assert_int_equal(verify_at(tok, NOW - 71, &out), JWT_NOT_YET_VALID);

	assert_int_equal(verify_claim("exp", cJSON_CreateNumber((double)NOW -
	    61)), JWT_EXPIRED);
	assert_int_equal(verify_claim("exp", cJSON_CreateNumber((double)NOW -
	    59)), JWT_OK);
	assert_int_equal(verify_claim("iat", cJSON_CreateNumber((double)NOW +
	    61)), JWT_NOT_YET_VALID);
	assert_int_equal(verify_claim("iat", cJSON_CreateNumber((double)NOW +
	    60)), JWT_OK);
}

static void
test_nbf(void **state)
{
	cJSON *c = good_claims();

	cJSON_AddNumberToObject(c, "nbf", (double)NOW + 61);
	assert_int_equal(verify(sign_json(good_header(), c, sk1)),
	    JWT_NOT_YET_VALID);
	c = good_claims();
	cJSON_AddNumberToObject(c, "nbf", (double)NOW);
	assert_int_equal(verify(sign_json(good_header(), c, sk1)), JWT_OK);
	c = good_claims();
	cJSON_AddStringToObject(c, "nbf", "now");
	assert_int_equal(verify(sign_json(good_header(), c, sk1)),
	    JWT_BAD_CLAIMS);
}

/* ---- issuer and audience ---- */

static void
test_iss_aud(void **state)
{
	cJSON *aud;

	assert_int_equal(verify_claim("iss",
	    cJSON_CreateString("https://evil.example")), JWT_BAD_ISSUER);
	assert_int_equal(verify_claim("iss", cJSON_CreateString(ISS "/")),
	    JWT_BAD_ISSUER);
	assert_int_equal(verify_claim("aud", cJSON_CreateString("other")),
	    JWT_BAD_AUDIENCE);
	assert_int_equal(verify_claim("aud", cJSON_CreateString("WARDEN-TEST")),
	    JWT_BAD_AUDIENCE);
	aud = cJSON_CreateArray();
	cJSON_AddItemToArray(aud, cJSON_CreateString("other"));
	assert_int_equal(verify_claim("aud", aud), JWT_BAD_AUDIENCE);
	assert_int_equal(verify_claim("aud", cJSON_CreateArray()),
	    JWT_BAD_AUDIENCE);
	aud = cJSON_CreateArray();
	cJSON_AddItemToArray(aud, cJSON_CreateString(AUD));
	cJSON_AddItemToArray(aud, cJSON_CreateNumber(1));
	assert_int_equal(verify_claim("aud", aud), JWT_BAD_CLAIMS);
	assert_int_equal(verify_claim("aud", cJSON_CreateNumber(1)),
	    JWT_BAD_CLAIMS);
	assert_int_equal(verify_claim("iss", cJSON_CreateNumber(1)),
	    JWT_BAD_CLAIMS);
	/* A NUL smuggled in by an escape must not cut the comparison. */
	assert_int_equal(verify(sign_raw(
	    "{\"alg\":\"EdDSA\",\"typ\":\"at+jwt\",\"kid\":\"k1\"}",
	    "{\"iss\":\"" ISS "\\u0000evil\",\"aud\":\"" AUD "\",\"sub\":\""
	    SUB "\",\"iat\":1800000000,\"exp\":1800000900,\"jti\":\"j\","
	    "\"username\":\"bob\",\"roles\":[],\"ver\":1}", sk1)),
	    JWT_MALFORMED);
}

/* ---- the header ---- */

static void
test_alg(void **state)
{
	uint8_t		 mac[crypto_auth_hmacsha512_BYTES];
	char		 h[128];
	const char	*ct = "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\","
	    "\"sub\":\"" SUB "\",\"iat\":1800000000,\"exp\":1800000900,"
	    "\"jti\":\"j\",\"username\":\"bob\",\"roles\":[],\"ver\":1}";
	char		 x[64];

	assert_int_equal(verify_header(header("none", "at+jwt", "k1")),
	    JWT_BAD_HEADER);
	assert_int_equal(verify_header(header("RS256", "at+jwt", "k1")),
	    JWT_BAD_HEADER);
	assert_int_equal(verify_header(header("ES256", "at+jwt", "k1")),
	    JWT_BAD_HEADER);
	assert_int_equal(verify_header(header("eddsa", "at+jwt", "k1")),
	    JWT_BAD_HEADER);
	assert_int_equal(verify_header(header(NULL, "at+jwt", "k1")),
	    JWT_BAD_HEADER);

	/* alg none with an empty signature. */
	tok[0] = '\0';
	strlcpy(h, "{\"alg\":\"none\",\"typ\":\"at+jwt\",\"kid\":\"k1\"}", sizeof(h));
	b64_append(tok, sizeof(tok), h, strlen(h));
	strlcat(tok, ".", sizeof(tok));
	b64_append(tok, sizeof(tok), ct, strlen(ct));
	strlcat(tok, ".", sizeof(tok));
	assert_int_not_equal(verify(tok), JWT_OK);

	/* HS256 and HS512 keyed with the public key, raw and as its JWK x. */
	b64url_encode(x, sizeof(x), pk1, sizeof(pk1));
	for (int i = 0; i < 4; i++) {
		const uint8_t	*key = i % 2 ? (const uint8_t *)x : pk1;
		size_t		 klen = i % 2 ? strlen(x) : sizeof(pk1);

		tok[0] = '\0';
		snprintf(h, sizeof(h), "{\"alg\":\"%s\",\"typ\":\"at+jwt\","
		    "\"kid\":\"k1\"}", i < 2 ? "HS256" : "HS512");
		b64_append(tok, sizeof(tok), h, strlen(h));
		strlcat(tok, ".", sizeof(tok));
		b64_append(tok, sizeof(tok), ct, strlen(ct));
		if (i < 2) {
			crypto_auth_hmacsha256_state st;

			crypto_auth_hmacsha256_init(&st, key, klen);
			crypto_auth_hmacsha256_update(&st, (uint8_t *)tok,
			    strlen(tok));
			crypto_auth_hmacsha256_final(&st, mac);
		} else {
			crypto_auth_hmacsha512_state st;

			crypto_auth_hmacsha512_init(&st, key, klen);
			crypto_auth_hmacsha512_update(&st, (uint8_t *)tok,
			    strlen(tok));
			crypto_auth_hmacsha512_final(&st, mac);
		}
		strlcat(tok, ".", sizeof(tok));
		b64_append(tok, sizeof(tok), mac, i < 2 ? 32 : 64);
		assert_int_not_equal(verify(tok), JWT_OK);
		if (i >= 2)	/* right length: refused by its alg */
			assert_int_equal(verify(tok), JWT_BAD_HEADER);
	}
}

static void
test_typ_kid_crit(void **state)
{
	cJSON *h;

	assert_int_equal(verify_header(header("EdDSA", NULL, "k1")),
	    JWT_BAD_HEADER);
	assert_int_equal(verify_header(header("EdDSA", "JWT", "k1")),
	    JWT_BAD_HEADER);
	assert_int_equal(verify_header(header("EdDSA", "at+jwtx", "k1")),
	    JWT_BAD_HEADER);
	assert_int_equal(verify_header(header("EdDSA", "at+jwt", NULL)),
	    JWT_BAD_HEADER);
	assert_int_equal(verify_header(header("EdDSA", "at+jwt", "k3")),
	    JWT_UNKNOWN_KID);
	assert_int_equal(verify_header(header("EdDSA", "at+jwt", "")),
	    JWT_UNKNOWN_KID);
	h = good_header();
	cJSON_ReplaceItemInObjectCaseSensitive(h, "kid", cJSON_CreateNumber(1));
	assert_int_equal(verify_header(h), JWT_BAD_HEADER);

	h = good_header();
	cJSON_AddItemToObject(h, "crit", cJSON_CreateStringArray(
	    (const char *[]){ "exp" }, 1));
	assert_int_equal(verify_header(h), JWT_BAD_HEADER);
	h = good_header();
	cJSON_AddStringToObject(h, "jku", "https://evil.example/jwks");
	assert_int_equal(verify_header(h), JWT_BAD_HEADER);
	/* A duplicate member: the last one would win in some parsers. */
	assert_int_equal(verify(sign_raw("{\"alg\":\"EdDSA\",\"typ\":\"at+jwt\","
	    "\"kid\":\"k1\",\"alg\":\"none\"}", "{}", sk1)), JWT_BAD_HEADER);
	/* Header is not an object, or not JSON. */
	assert_int_equal(verify(sign_raw("[1]", "{}", sk1)), JWT_MALFORMED);
	assert_int_equal(verify(sign_raw("{\"alg\":", "{}", sk1)),
	    JWT_MALFORMED);

	/* No keys at all. */
	{
		struct jwt_claims out;

		sign_json(good_header(), good_claims(), sk1);
		assert_int_equal(jwt_verify(NULL, &params, tok, strlen(tok),
		    NOW, &out), JWT_UNKNOWN_KID);
	}
}

/* ---- the signature ---- */

/* Replaces the character at off by another base64url one that keeps the
 * part decodable (the same 2 high bits: no trailing-bit error). */
static void
flip_char(char *t, size_t off)
{
	t[off] = t[off] == 'A' ? 'B' : 'A';
}

static void
test_signature(void **state)
{
	char	*d1, *d2;
	char	 copy[TOKMAX];

	sign_json(good_header(), good_claims(), sk1);
	strlcpy(copy, tok, sizeof(copy));
	d1 = strchr(tok, '.');
	d2 = strchr(d1 + 1, '.');

	/* a flipped signature byte (in the middle of the part) */
	flip_char(tok, (size_t)(d2 + 10 - tok));
	assert_int_equal(verify(tok), JWT_BAD_SIGNATURE);
	strlcpy(tok, copy, sizeof(tok));
	/* a flipped payload byte */
	flip_char(tok, (size_t)(d1 + 5 - tok));
	assert_int_equal(verify(tok), JWT_BAD_SIGNATURE);
	strlcpy(tok, copy, sizeof(tok));
	/* a flipped header byte: the header is no longer JSON, or the
	 * signature fails */
	flip_char(tok, 2);
	assert_int_not_equal(verify(tok), JWT_OK);
	strlcpy(tok, copy, sizeof(tok));
	assert_int_equal(verify(tok), JWT_OK);

	/* Signed by a key we do not know, under a kid we do. */
	assert_int_equal(verify(sign_json(good_header(), good_claims(), skx)),
	    JWT_BAD_SIGNATURE);
	/* Signed by k2's key but naming k1. */
	assert_int_equal(verify(sign_json(good_header(), good_claims(), sk2)),
	    JWT_BAD_SIGNATURE);
	/* Signature of the wrong length. */
	sign_json(good_header(), good_claims(), sk1);
	tok[strlen(tok) - 4] = '\0';
	assert_int_equal(verify(tok), JWT_MALFORMED);
	/* Trailing bits set in the last signature character. */
	strlcpy(tok, copy, sizeof(tok));
	tok[strlen(tok) - 1] = 'B';	/* 86 chars: last holds 2 bits */
	if (strcmp(tok, copy) == 0)
		tok[strlen(tok) - 1] = 'C';
	assert_int_not_equal(verify(tok), JWT_OK);
}

/* ---- the shape ---- */

static void
test_parts(void **state)
{
	char	 copy[TOKMAX], t[TOKMAX + 64];
	char	*d1, *d2;

	sign_json(good_header(), good_claims(), sk1);
	strlcpy(copy, tok, sizeof(copy));
	d1 = strchr(copy, '.');
	d2 = strchr(d1 + 1, '.');

	/* two parts */
	snprintf(t, sizeof(t), "%.*s", (int)(d2 - copy), copy);
	assert_int_equal(verify(t), JWT_MALFORMED);
	/* four parts */
	snprintf(t, sizeof(t), "%s.%s", copy, "AAAA");
	assert_int_equal(verify(t), JWT_MALFORMED);
	snprintf(t, sizeof(t), "%s.", copy);
	assert_int_equal(verify(t), JWT_MALFORMED);
	/* empty parts */
	snprintf(t, sizeof(t), ".%s", d1 + 1);
	assert_int_equal(verify(t), JWT_MALFORMED);
	snprintf(t, sizeof(t), "%.*s.%s", (int)(d1 - copy), copy, d2);
	assert_int_equal(verify(t), JWT_MALFORMED);
	assert_int_equal(verify(""), JWT_MALFORMED);
	assert_int_equal(verify(".."), JWT_MALFORMED);
	assert_int_equal(verify("a.b.c"), JWT_MALFORMED);

	/* padding '=' in a part */
	snprintf(t, sizeof(t), "%.*s=%s", (int)(d1 - copy), copy, d1);
	assert_int_equal(verify(t), JWT_MALFORMED);
	snprintf(t, sizeof(t), "%.*s=%s", (int)(d2 - copy), copy, d2);
	assert_int_equal(verify(t), JWT_MALFORMED);
	snprintf(t, sizeof(t), "%s==", copy);
	assert_int_equal(verify(t), JWT_MALFORMED);
	/* standard base64's '+' and '/', whitespace */
	strlcpy(t, copy, sizeof(t));
	t[3] = '+';
	assert_int_equal(verify(t), JWT_MALFORMED);
	strlcpy(t, copy, sizeof(t));
	t[(size_t)(d1 - copy) + 3] = '/';
	assert_int_equal(verify(t), JWT_MALFORMED);
	snprintf(t, sizeof(t), " %s", copy);
	assert_int_equal(verify(t), JWT_MALFORMED);
	snprintf(t, sizeof(t), "%s\n", copy);
	assert_int_equal(verify(t), JWT_MALFORMED);
	/* a NUL inside the length */
	strlcpy(t, copy, sizeof(t));
	t[5] = '\0';
	assert_int_equal(jwt_verify(&keys, &params, t, strlen(copy), NOW,
	    &(struct jwt_claims){ 0 }), JWT_MALFORMED);
}

static void
test_length(void **state)
{
	cJSON	*c;
	char	*pad;
	size_t	 n;

	/* A signed token just under the bound passes, one over it not. */
	for (n = 5000; n < 7000; n += 500) {
		c = good_claims();
		pad = malloc(n + 1);
		memset(pad, 'x', n);
		pad[n] = '\0';
		cJSON_AddStringToObject(c, "pad", pad);
		free(pad);
		sign_json(good_header(), c, sk1);
		if (strlen(tok) <= JWT_VERIFY_MAX_LEN)
			assert_int_equal(verify(tok), JWT_OK);
		else
			assert_int_equal(verify(tok), JWT_MALFORMED);
	}
	assert_true(strlen(tok) > JWT_VERIFY_MAX_LEN);
	/* and the length given, not the string's, is what counts */
	assert_int_equal(jwt_verify(&keys, &params, tok, JWT_VERIFY_MAX_LEN + 1,
	    NOW, &(struct jwt_claims){ 0 }), JWT_MALFORMED);
}

/* ---- the claims ---- */

static void
test_sub_username(void **state)
{
	assert_int_equal(verify_claim("sub", cJSON_CreateString("alice")),
	    JWT_BAD_CLAIMS);
	assert_int_equal(verify_claim("sub", cJSON_CreateString(
	    "0B6C1C55-7C1E-4E4E-9A57-1F1D8F3E2A10")), JWT_BAD_CLAIMS);
	assert_int_equal(verify_claim("sub", cJSON_CreateString(
	    "0b6c1c557c1e4e4e9a571f1d8f3e2a10")), JWT_BAD_CLAIMS);
	assert_int_equal(verify_claim("sub", cJSON_CreateString(SUB "0")),
	    JWT_BAD_CLAIMS);
	assert_int_equal(verify_claim("sub", cJSON_CreateNumber(1)),
	    JWT_BAD_CLAIMS);
	assert_int_equal(verify_claim("username", cJSON_CreateString("a")),
	    JWT_BAD_CLAIMS);
	assert_int_equal(verify_claim("username", cJSON_CreateString(
	    "al ice")), JWT_BAD_CLAIMS);
	assert_int_equal(verify_claim("username", cJSON_CreateString(
	    "a123456789012345678901234567890123")), JWT_BAD_CLAIMS);
	assert_int_equal(verify_claim("username", cJSON_CreateArray()),
	    JWT_BAD_CLAIMS);
	assert_int_equal(verify_claim("jti", cJSON_CreateString("")),
	    JWT_BAD_CLAIMS);
	assert_int_equal(verify_claim("jti", cJSON_CreateString("a b")),
	    JWT_BAD_CLAIMS);
	assert_int_equal(verify_claim("jti", cJSON_CreateNumber(7)),
	    JWT_BAD_CLAIMS);
}

static void
test_roles(void **state)
{
	cJSON	*r;
	char	 name[16];
	unsigned int i;

	assert_int_equal(verify_claim("roles", cJSON_CreateString("admin")),
	    JWT_BAD_CLAIMS);
	assert_int_equal(verify_claim("roles", cJSON_CreateStringArray(
	    (const char *[]){ "Admin" }, 1)), JWT_BAD_CLAIMS);
	assert_int_equal(verify_claim("roles", cJSON_CreateStringArray(
	    (const char *[]){ "a b" }, 1)), JWT_BAD_CLAIMS);
	assert_int_equal(verify_claim("roles", cJSON_CreateStringArray(
	    (const char *[]){ "" }, 1)), JWT_BAD_CLAIMS);
	assert_int_equal(verify_claim("roles", cJSON_CreateStringArray(
	    (const char *[]){ "abcdefghijabcdefghijabcdefghijabc" }, 1)),
	    JWT_BAD_CLAIMS);
	assert_int_equal(verify_claim("roles", cJSON_CreateStringArray(
	    (const char *[]){ "user", "user" }, 2)), JWT_BAD_CLAIMS);
	r = cJSON_CreateArray();
	cJSON_AddItemToArray(r, cJSON_CreateNumber(1));
	assert_int_equal(verify_claim("roles", r), JWT_BAD_CLAIMS);
	r = cJSON_CreateArray();
	cJSON_AddItemToArray(r, cJSON_CreateArray());
	assert_int_equal(verify_claim("roles", r), JWT_BAD_CLAIMS);

	/* PROTO_ROLES_MAX roles fit, one more does not. */
	r = cJSON_CreateArray();
	for (i = 0; i < PROTO_ROLES_MAX; i++) {
		snprintf(name, sizeof(name), "r%u", i);
		cJSON_AddItemToArray(r, cJSON_CreateString(name));
	}
	assert_int_equal(verify_claim("roles", cJSON_Duplicate(r, true)),
	    JWT_OK);
	cJSON_AddItemToArray(r, cJSON_CreateString("one-more"));
	assert_int_equal(verify_claim("roles", r), JWT_BAD_CLAIMS);
}

static void
test_claim_types(void **state)
{
	assert_int_equal(verify_claim("exp", cJSON_CreateString("1800000900")),
	    JWT_BAD_CLAIMS);
	assert_int_equal(verify_claim("exp", cJSON_CreateNumber(1e300)),
	    JWT_BAD_CLAIMS);
	assert_int_equal(verify_claim("exp", cJSON_CreateNumber(
	    (double)NOW + 0.5)), JWT_BAD_CLAIMS);
	assert_int_equal(verify_claim("exp", cJSON_CreateTrue()),
	    JWT_BAD_CLAIMS);
	assert_int_equal(verify_claim("iat", cJSON_CreateString("now")),
	    JWT_BAD_CLAIMS);
	assert_int_equal(verify_claim("iat", cJSON_CreateNull()),
	    JWT_BAD_CLAIMS);
	assert_int_equal(verify_claim("iat", cJSON_CreateNumber(-1)),
	    JWT_BAD_CLAIMS);
	assert_int_equal(verify_claim("ver", cJSON_CreateNumber(-1)),
	    JWT_BAD_CLAIMS);
	assert_int_equal(verify_claim("ver", cJSON_CreateNumber(1.5)),
	    JWT_BAD_CLAIMS);
	assert_int_equal(verify_claim("ver", cJSON_CreateNumber(4294967296.0)),
	    JWT_BAD_CLAIMS);
	assert_int_equal(verify_claim("ver", cJSON_CreateString("3")),
	    JWT_BAD_CLAIMS);
	assert_int_equal(verify_claim("ver", cJSON_CreateNumber(4294967295.0)),
	    JWT_OK);
}

static void
test_missing_claims(void **state)
{
	static const char *const names[] = {
		"iss", "aud", "sub", "iat", "exp", "jti", "username", "roles",
		"ver",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		enum jwt_result r = verify_claim(names[i], NULL);

		assert_int_not_equal(r, JWT_OK);
		if (strcmp(names[i], "iss") != 0 && strcmp(names[i], "aud") != 0)
			assert_int_equal(r, JWT_BAD_CLAIMS);
	}
}

static void
test_payload_json(void **state)
{
	const char *h = "{\"alg\":\"EdDSA\",\"typ\":\"at+jwt\",\"kid\":\"k1\"}";

	assert_int_equal(verify(sign_raw(h, "[]", sk1)), JWT_MALFORMED);
	assert_int_equal(verify(sign_raw(h, "\"x\"", sk1)), JWT_MALFORMED);
	assert_int_equal(verify(sign_raw(h, "{\"iss\":", sk1)), JWT_MALFORMED);
	assert_int_equal(verify(sign_raw(h, "{}", sk1)), JWT_BAD_CLAIMS);
	assert_int_equal(verify(sign_raw(h, "{} ", sk1)), JWT_MALFORMED);
	assert_int_equal(verify(sign_raw(h, "{}{}", sk1)), JWT_MALFORMED);
	assert_int_equal(verify(sign_raw(h, "{\"a\":\"\xff\"}", sk1)),
	    JWT_MALFORMED);
	/* A duplicate claim. */
	assert_int_equal(verify(sign_raw(h,
	    "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"" SUB "\","
	    "\"iat\":1800000000,\"exp\":1800000900,\"jti\":\"j\","
	    "\"username\":\"bob\",\"roles\":[],\"ver\":1,"
	    "\"sub\":\"11111111-1111-4111-8111-111111111111\"}", sk1)),
	    JWT_BAD_CLAIMS);
	/* The same without the duplicate is fine. */
	assert_int_equal(verify(sign_raw(h,
	    "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"" SUB "\","
	    "\"iat\":1800000000,\"exp\":1800000900,\"jti\":\"j\","
	    "\"username\":\"bob\",\"roles\":[],\"ver\":1}", sk1)), JWT_OK);
}

/* ---- interoperation with the hasher's signer ---- */

static void
test_jwt_sign_interop(void **state)
{
	struct keyset		 ks;
	struct jwt_sign_params	 sp = { .issuer = ISS, .audience = AUD,
	    .max_ttl = 900 };
	struct proto_sign_req	 req;
	struct proto_sign_ans	 ans;
	struct jwt_claims	 out;
	char			 err[128];

	memset(&ks, 0, sizeof(ks));
	ks.nsign = 1;
	ks.sign_current = 0;
	strlcpy(ks.sign[0].kid, "k1", sizeof(ks.sign[0].kid));
	memcpy(ks.sign[0].pk, pk1, sizeof(pk1));
	ks.sign[0].sk = sodium_malloc(crypto_sign_SECRETKEYBYTES);
	assert_non_null(ks.sign[0].sk);
	memcpy(ks.sign[0].sk, sk1, sizeof(sk1));

	memset(&req, 0, sizeof(req));
	strlcpy(req.sub, SUB, sizeof(req.sub));
	strlcpy(req.username, "carol", sizeof(req.username));
	req.nroles = 2;
	strlcpy(req.roles[0], "user", sizeof(req.roles[0]));
	strlcpy(req.roles[1], "ops", sizeof(req.roles[1]));
	req.ver = 7;
	req.ttl = 3600;		/* clamped to 900 */
	assert_int_equal(jwt_sign(&ks, &sp, &req, NOW, &ans, err, sizeof(err)),
	    0);
	assert_int_equal(jwt_verify(&keys, &params, ans.jwt, strlen(ans.jwt),
	    NOW, &out), JWT_OK);
	assert_string_equal(out.sub, SUB);
	assert_string_equal(out.username, "carol");
	assert_int_equal(out.nroles, 2);
	assert_string_equal(out.roles[1], "ops");
	assert_int_equal(out.ver, 7);
	assert_int_equal(out.exp, (int64_t)NOW + 900);
	assert_int_equal(out.exp, ans.exp);
	assert_string_equal(out.jti, ans.jti);
	assert_int_equal(jwt_verify(&keys, &params, ans.jwt, strlen(ans.jwt),
	    NOW + 961, &out), JWT_EXPIRED);
	ks.nsign = 1;
	sodium_free(ks.sign[0].sk);
}

static void
test_result_str(void **state)
{
	assert_string_equal(jwt_result_str(JWT_OK), "ok");
	assert_string_equal(jwt_result_str(JWT_EXPIRED), "token expired");
	assert_string_equal(jwt_result_str((enum jwt_result)99),
	    "invalid token");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_good_variants),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_nbf),
		cmocka_unit_test(test_iss_aud),
		cmocka_unit_test(test_alg),
		cmocka_unit_test(test_typ_kid_crit),
		cmocka_unit_test(test_signature),
		cmocka_unit_test(test_parts),
		cmocka_unit_test(test_length),
		cmocka_unit_test(test_sub_username),
		cmocka_unit_test(test_roles),
		cmocka_unit_test(test_claim_types),
		cmocka_unit_test(test_missing_claims),
		cmocka_unit_test(test_payload_json),
		cmocka_unit_test(test_jwt_sign_interop),
		cmocka_unit_test(test_result_str),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, setup, NULL);
}
