/*
 * An upstream provider's key set and ID tokens (id_token.h), verified with
 * OpenSSL's libcrypto: public keys only, EVP_DigestVerify only.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <sodium.h>

#include "b64url.h"
#include "id_token.h"
#include "util.h"

#define JWKS_MAX	(256 * 1024)	/* bytes of a key set's JSON */
#define KID_MAX		128
#define RSA_BITS_MIN	2048
#define RSA_N_MAX	1024		/* bytes: 8192-bit keys */
#define PART_MAX	ID_TOKEN_MAX

enum key_alg { KEY_RS256, KEY_ES256, KEY_EDDSA };

struct jwk {
	enum key_alg	 alg;
	char		 kid[KID_MAX + 1];	/* "" none */
	EVP_PKEY	*pkey;
};

struct jwk_set {
	struct jwk	 v[JWK_SET_MAX_KEYS];
	size_t		 n;
};

/* The base64url member name of o, decoded into out (at most outlen
 * bytes); its length, or -1. */
static ssize_t
member_b64(const cJSON *o, const char *name, uint8_t *out, size_t outlen)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o,
	    name));

	if (s == NULL || s[0] == '\0')
		return -1;
	return b64url_decode(out, outlen, s, strlen(s));
}

static EVP_PKEY *
rsa_key(const cJSON *o)
{
	uint8_t		 n[RSA_N_MAX], e[16];
	ssize_t		 nlen, elen;
	OSSL_PARAM_BLD	*bld = NULL;
	OSSL_PARAM	*params = NULL;
	EVP_PKEY_CTX	*ctx = NULL;
	EVP_PKEY	*pkey = NULL;
	BIGNUM		*bn = NULL, *be = NULL;

	if ((nlen = member_b64(o, "n", n, sizeof(n))) <= 0 ||
	    (elen = member_b64(o, "e", e, sizeof(e))) <= 0)
		return NULL;
	if ((bn = BN_bin2bn(n, (int)nlen, NULL)) == NULL ||
	    (be = BN_bin2bn(e, (int)elen, NULL)) == NULL ||
	    BN_num_bits(bn) < RSA_BITS_MIN ||
	    (bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		pkey = NULL;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	return pkey;
}

static EVP_PKEY *
ec_key(const cJSON *o)
{
	uint8_t		 pt[65];
	OSSL_PARAM_BLD	*bld = NULL;
	OSSL_PARAM	*params = NULL;
	EVP_PKEY_CTX	*ctx = NULL;
	EVP_PKEY	*pkey = NULL;
	const char	*crv = cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(o, "crv"));

	if (crv == NULL || strcmp(crv, "P-256") != 0 ||
	    member_b64(o, "x", pt + 1, 32) != 32 ||
	    member_b64(o, "y", pt + 33, 32) != 32)
		return NULL;
	pt[0] = 0x04;		/* uncompressed */
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
	    "prime256v1", 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
	    pt, sizeof(pt)) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		pkey = NULL;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return pkey;
}

static EVP_PKEY *
okp_key(const cJSON *o)
{
	uint8_t		 x[32];
	const char	*crv = cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(o, "crv"));

	if (crv == NULL || strcmp(crv, "Ed25519") != 0 ||
	    member_b64(o, "x", x, sizeof(x)) != 32)
		return NULL;
	return EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x,
	    sizeof(x));
}

/* One key of the set into *k; -1 when it is not one we use. */
static int
jwk_read(const cJSON *o, struct jwk *k)
{
	const char	*kty, *use, *alg, *kid;

	memset(k, 0, sizeof(*k));
	if (!cJSON_IsObject(o) || (kty = cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(o, "kty"))) == NULL)
		return -1;
	use = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "use"));
	alg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "alg"));
	kid = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "kid"));
	if ((use != NULL && strcmp(use, "sig") != 0) ||
	    cJSON_GetObjectItemCaseSensitive(o, "d") != NULL)
		return -1;	/* an encryption key, or a private one */
	if (strcmp(kty, "RSA") == 0)
		k->alg = KEY_RS256;
	else if (strcmp(kty, "EC") == 0)
		k->alg = KEY_ES256;
	else if (strcmp(kty, "OKP") == 0)
		k->alg = KEY_EDDSA;
	else
		return -1;
	/* A key that names its algorithm serves that one only. */
	if (alg != NULL && strcmp(alg, k->alg == KEY_RS256 ? "RS256" :
	    k->alg == KEY_ES256 ? "ES256" : "EdDSA") != 0)
		return -1;
	if (kid != NULL && str_copy(k->kid, kid, sizeof(k->kid)) == -1)
		return -1;
	k->pkey = k->alg == KEY_RS256 ? rsa_key(o) : k->alg == KEY_ES256 ?
	    ec_key(o) : okp_key(o);
	ERR_clear_error();
	return k->pkey != NULL ? 0 : -1;
}

struct jwk_set *
jwk_set_parse(const char *json, size_t len, char *err, size_t errlen)
{
	struct jwk_set	*ks;
	struct jwk	 k;
	cJSON		*o, *keys, *e;

	if (json == NULL || len == 0 || len > JWKS_MAX) {
		str_copy(err, "a key set of no or too many bytes", errlen);
		return NULL;
	}
	if ((o = cJSON_ParseWithLength(json, len)) == NULL ||
	    !cJSON_IsArray(keys = cJSON_GetObjectItemCaseSensitive(o,
	    "keys"))) {
		cJSON_Delete(o);
		str_copy(err, "not a JWK set (an object with a keys array)",
		    errlen);
		return NULL;
	}
	if ((ks = calloc(1, sizeof(*ks))) == NULL) {
		cJSON_Delete(o);
		str_copy(err, "out of memory", errlen);
		return NULL;
	}
	cJSON_ArrayForEach(e, keys) {
		if (jwk_read(e, &k) == -1)
			continue;
		if (ks->n == JWK_SET_MAX_KEYS) {
			EVP_PKEY_free(k.pkey);
			jwk_set_free(ks);
			cJSON_Delete(o);
			str_printf(err, errlen, "more than %d usable keys",
			    JWK_SET_MAX_KEYS);
			return NULL;
		}
		ks->v[ks->n++] = k;
	}
	cJSON_Delete(o);
	if (ks->n == 0) {
		jwk_set_free(ks);
		str_copy(err, "no usable signing key (RS256, ES256 or EdDSA)",
		    errlen);
		return NULL;
	}
	return ks;
}

void
jwk_set_free(struct jwk_set *ks)
{
	size_t	 i;

	if (ks == NULL)
		return;
	for (i = 0; i < ks->n; i++)
		EVP_PKEY_free(ks->v[i].pkey);
	free(ks);
}

size_t
jwk_set_count(const struct jwk_set *ks)
{
	return ks != NULL ? ks->n : 0;
}

/* ---- the token ---- */

/* The key of ks for kid (or, without one, the only key of alg). */
static const struct jwk *
key_for(const struct jwk_set *ks, enum key_alg alg, const char *kid)
{
	const struct jwk *found = NULL;
	size_t	 i, n = 0;

	for (i = 0; ks != NULL && i < ks->n; i++) {
		if (ks->v[i].alg != alg)
			continue;
		if (kid != NULL) {
			if (strcmp(ks->v[i].kid, kid) == 0)
				return &ks->v[i];
			continue;
		}
		found = &ks->v[i];
		n++;
	}
	return n == 1 ? found : NULL;
}

/* The raw r||s of ES256 as the DER libcrypto verifies; its length, or
 * -1. */
static int
es256_der(const uint8_t *sig, size_t len, uint8_t **der)
{
	ECDSA_SIG	*es;
	BIGNUM		*r, *s;
	int		 n;

	if (len != 64 || (es = ECDSA_SIG_new()) == NULL)
		return -1;
	r = BN_bin2bn(sig, 32, NULL);
	s = BN_bin2bn(sig + 32, 32, NULL);
	if (r == NULL || s == NULL || !ECDSA_SIG_set0(es, r, s)) {
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(es);
		return -1;
	}
	*der = NULL;
	n = i2d_ECDSA_SIG(es, der);
	ECDSA_SIG_free(es);
	return n > 0 ? n : -1;
}

static bool
signature_ok(const struct jwk *k, const char *input, size_t inlen,
    const uint8_t *sig, size_t siglen)
{
	EVP_MD_CTX	*ctx;
	uint8_t		*der = NULL;
	const uint8_t	*s = sig;
	size_t		 slen = siglen;
	int		 n, rc = 0;

	if (k->alg == KEY_ES256) {
		if ((n = es256_der(sig, siglen, &der)) == -1)
			return false;
		s = der;
		slen = (size_t)n;
	}
	if ((ctx = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestVerifyInit(ctx, NULL, k->alg == KEY_EDDSA ? NULL :
	    EVP_sha256(), NULL, k->pkey) == 1)
		rc = EVP_DigestVerify(ctx, s, slen, (const uint8_t *)input,
		    inlen);
	EVP_MD_CTX_free(ctx);
	OPENSSL_free(der);
	ERR_clear_error();
	return rc == 1;
}

/* Decodes one base64url part of the token as JSON (an object). */
static cJSON *
part_json(const char *s, size_t len)
{
	uint8_t	*buf;
	ssize_t	 n;
	cJSON	*o = NULL;

	if (len == 0 || (buf = malloc(len)) == NULL)
		return NULL;
	if ((n = b64url_decode(buf, len, s, len)) > 0)
		o = cJSON_ParseWithLength((const char *)buf, (size_t)n);
	sodium_memzero(buf, len);
	free(buf);
	if (o != NULL && !cJSON_IsObject(o)) {
		cJSON_Delete(o);
		o = NULL;
	}
	return o;
}

/* A NumericDate member: a number that fits; -1 when absent or not one. */
static int
numeric_date(const cJSON *o, const char *name, time_t *out)
{
	const cJSON	*m = cJSON_GetObjectItemCaseSensitive(o, name);

	if (!cJSON_IsNumber(m) || m->valuedouble < 0 ||
	    m->valuedouble > 4102444800.0)	/* 2100 */
		return -1;
	*out = (time_t)m->valuedouble;
	return 0;
}

static bool
aud_ok(const cJSON *claims, const char *client_id)
{
	const cJSON	*aud = cJSON_GetObjectItemCaseSensitive(claims, "aud");
	const cJSON	*azp = cJSON_GetObjectItemCaseSensitive(claims, "azp");
	const cJSON	*e;
	const char	*v;
	bool		 found = false;
	int		 n = 0;

	if (cJSON_IsString(aud)) {
		found = strcmp(aud->valuestring, client_id) == 0;
		n = 1;
	} else if (cJSON_IsArray(aud))
		cJSON_ArrayForEach(e, aud) {
			if (!cJSON_IsString(e))
				return false;
			n++;
			if (strcmp(e->valuestring, client_id) == 0)
				found = true;
		}
	if (!found)
		return false;
	if (azp != NULL) {
		if ((v = cJSON_GetStringValue(azp)) == NULL ||
		    strcmp(v, client_id) != 0)
			return false;
	} else if (n > 1)
		return false;	/* Core 3.1.3.7 item 4 */
	return true;
}

static bool
nonce_ok(const cJSON *claims, const char *want)
{
	const char *v = cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(claims, "nonce"));
	size_t	 len;

	if (v == NULL || want == NULL || (len = strlen(want)) == 0 ||
	    strlen(v) != len)
		return false;
	return sodium_memcmp(v, want, len) == 0;
}

/* Copies a string claim that fits; else leaves "". */
static void
claim(const cJSON *o, const char *name, char *dst, size_t dstlen)
{
	const char *v = cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(o, name));

	dst[0] = '\0';
	if (v != NULL && strlen(v) < dstlen)
		memcpy(dst, v, strlen(v) + 1);
}

static enum id_token_result
claims_check(const cJSON *c, const struct id_token_expect *e,
    struct id_token_claims *out, char *why, size_t whylen)
{
	const char	*iss, *sub;
	time_t		 exp, iat;

	iss = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "iss"));
	sub = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "sub"));
	if (iss == NULL || strcmp(iss, e->issuer) != 0) {
		str_copy(why, "iss is not the provider's issuer", whylen);
		return ID_TOKEN_BAD_CLAIMS;
	}
	if (!aud_ok(c, e->client_id)) {
		str_copy(why, "aud or azp is not our client id", whylen);
		return ID_TOKEN_BAD_CLAIMS;
	}
	if (numeric_date(c, "exp", &exp) == -1 ||
	    exp <= e->now - ID_TOKEN_LEEWAY) {
		str_copy(why, "expired, or no exp", whylen);
		return ID_TOKEN_BAD_CLAIMS;
	}
	if (numeric_date(c, "iat", &iat) == -1 ||
	    iat > e->now + ID_TOKEN_LEEWAY ||
	    iat < e->now - ID_TOKEN_IAT_MAX_AGE) {
		str_copy(why, "iat missing, in the future or too old", whylen);
		return ID_TOKEN_BAD_CLAIMS;
	}
	if (!nonce_ok(c, e->nonce)) {
		str_copy(why, "nonce is not the one sent", whylen);
		return ID_TOKEN_BAD_CLAIMS;
	}
	if (sub == NULL || sub[0] == '\0' || strlen(sub) > ID_TOKEN_SUB_MAX) {
		str_copy(why, "sub missing, empty or too long", whylen);
		return ID_TOKEN_BAD_CLAIMS;
	}
	memcpy(out->sub, sub, strlen(sub) + 1);
	claim(c, "email", out->email, sizeof(out->email));
	out->email_verified = cJSON_IsTrue(
	    cJSON_GetObjectItemCaseSensitive(c, "email_verified"));
	claim(c, "preferred_username", out->preferred_username,
	    sizeof(out->preferred_username));
	claim(c, "name", out->name, sizeof(out->name));
	out->exp = exp;
	out->iat = iat;
	return ID_TOKEN_OK;
}

enum id_token_result
id_token_verify(const char *token, size_t len, const struct jwk_set *keys,
    const struct id_token_expect *e, struct id_token_claims *out, char *why,
    size_t whylen)
{
	const char	*dot1, *dot2, *alg, *kid;
	cJSON		*h = NULL, *c = NULL;
	const struct jwk *k;
	enum key_alg	 ka;
	enum id_token_result res;
	uint8_t		*sig = NULL;
	ssize_t		 siglen;

	memset(out, 0, sizeof(*out));
	why[0] = '\0';
	if (token == NULL || len == 0 || len > ID_TOKEN_MAX ||
	    memchr(token, '\0', len) != NULL ||
	    (dot1 = memchr(token, '.', len)) == NULL ||
	    (dot2 = memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token))) ==
	    NULL || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)) !=
	    NULL || (h = part_json(token, (size_t)(dot1 - token))) == NULL) {
		str_copy(why, "not a compact JWS of three parts", whylen);
		return ID_TOKEN_MALFORMED;
	}
	alg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(h, "alg"));
	kid = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(h, "kid"));
	if (alg == NULL) {
		res = ID_TOKEN_MALFORMED;
		str_copy(why, "no alg", whylen);
		goto out;
	}
	/* Before any key: none, HS* and anything else never get one. */
	if (strcmp(alg, "RS256") == 0)
		ka = KEY_RS256;
	else if (strcmp(alg, "ES256") == 0)
		ka = KEY_ES256;
	else if (strcmp(alg, "EdDSA") == 0)
		ka = KEY_EDDSA;
	else {
		res = ID_TOKEN_BAD_ALG;
		str_copy(why, "alg is not RS256, ES256 or EdDSA", whylen);
		goto out;
	}
	if (cJSON_GetObjectItemCaseSensitive(h, "crit") != NULL) {
		res = ID_TOKEN_MALFORMED;
		str_copy(why, "a crit header", whylen);
		goto out;
	}
	if ((kid != NULL && strlen(kid) > KID_MAX) ||
	    (k = key_for(keys, ka, kid)) == NULL) {
		res = ID_TOKEN_UNKNOWN_KEY;
		str_copy(why, "no key of the set for its kid and alg", whylen);
		goto out;
	}
	if ((sig = malloc(len)) == NULL ||
	    (siglen = b64url_decode(sig, len, dot2 + 1,
	    len - (size_t)(dot2 + 1 - token))) <= 0) {
		res = ID_TOKEN_MALFORMED;
		str_copy(why, "the signature is not base64url", whylen);
		goto out;
	}
	if (!signature_ok(k, token, (size_t)(dot2 - token), sig,
	    (size_t)siglen)) {
		res = ID_TOKEN_BAD_SIGNATURE;
		str_copy(why, "the signature does not verify", whylen);
		goto out;
	}
	if ((c = part_json(dot1 + 1, (size_t)(dot2 - dot1 - 1))) == NULL) {
		res = ID_TOKEN_MALFORMED;
		str_copy(why, "the claims are not a JSON object", whylen);
		goto out;
	}
	res = claims_check(c, e, out, why, whylen);
out:
	free(sig);
	cJSON_Delete(h);
	cJSON_Delete(c);
	if (res != ID_TOKEN_OK)
		memset(out, 0, sizeof(*out));
	return res;
}
