/*
 * Access-token verification: header first (alg, typ, kid), then the
 * Ed25519 signature over "header.payload", and only then the claims.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "b64url.h"
#include "fields.h"
#include "jwt_verify.h"
#include "util.h"

#define HEADER_B64_MAX	1024	/* ours is ~90 characters */
#define SIG_B64_LEN	B64URL_ENCODED_LEN(crypto_sign_BYTES)	/* 86 */
#define INT_MAX_EXACT	9007199254740992.0	/* 2^53 */

const char *
jwt_result_str(enum jwt_result r)
{
	switch (r) {
	case JWT_OK:		return "ok";
	case JWT_MALFORMED:	return "malformed token";
	case JWT_BAD_HEADER:	return "unacceptable header";
	case JWT_UNKNOWN_KID:	return "unknown key id";
	case JWT_BAD_SIGNATURE:	return "bad signature";
	case JWT_EXPIRED:	return "token expired";
	case JWT_NOT_YET_VALID:	return "token not yet valid";
	case JWT_BAD_ISSUER:	return "wrong issuer";
	case JWT_BAD_AUDIENCE:	return "wrong audience";
	case JWT_BAD_CLAIMS:	return "invalid claims";
	}
	return "invalid token";
}

/*
 * Parses n bytes of JSON that must be one object and nothing else: valid
 * UTF-8, no NUL byte and no \u0000 escape (cJSON would cut its C strings
 * there, so "a\u0000b" would compare equal to "a").  NULL when not.
 */
static cJSON *
json_object_parse(const uint8_t *buf, size_t n)
{
	const char	*s = (const char *)buf, *end = NULL;
	cJSON		*j;
	size_t		 i;

	if (n == 0 || !field_utf8_valid(s, n))
		return NULL;
	for (i = 0; i + 6 <= n; i++)
		if (s[i] == '\\' && s[i + 1] == 'u' && s[i + 2] == '0' &&
		    s[i + 3] == '0' && s[i + 4] == '0' && s[i + 5] == '0')
			return NULL;
	j = cJSON_ParseWithLengthOpts(s, n, &end, false);
	if (j == NULL)
		return NULL;
	if (end != s + n || !cJSON_IsObject(j)) {
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

/*
 * Sorts the members of obj into slot[] by names[] in one pass.  Returns
 * -1 on a duplicate of a listed name, or, when strict, on any name not
 * listed; else 0.
 */
static int
members(const cJSON *obj, const char *const names[], size_t n,
    const cJSON *slot[], bool strict)
{
	const cJSON	*it;
	size_t		 i;

	for (i = 0; i < n; i++)
		slot[i] = NULL;
	cJSON_ArrayForEach(it, obj) {
		if (it->string == NULL)
			return -1;
		for (i = 0; i < n; i++)
			if (strcmp(it->string, names[i]) == 0)
				break;
		if (i == n) {
			if (strict)
				return -1;
			continue;
		}
		if (slot[i] != NULL)
			return -1;
		slot[i] = it;
	}
	return 0;
}

static const char *
str_of(const cJSON *it)
{
	return cJSON_IsString(it) ? it->valuestring : NULL;
}

/* A JSON number that is a whole number in [min, max]. */
static bool
int_of(const cJSON *it, double min, double max, int64_t *out)
{
	double d;

	if (!cJSON_IsNumber(it))
		return false;
	d = it->valuedouble;
	if (!isfinite(d) || d < min || d > max || d != (double)(int64_t)d)
		return false;
	*out = (int64_t)d;
	return true;
}

enum { H_ALG, H_TYP, H_KID, H_N };
static const char *const header_names[H_N] = { "alg", "typ", "kid" };

/* Checks the header and finds the key.  Copies the kid into out. */
static enum jwt_result
check_header(const uint8_t *buf, size_t n,
    const struct proto_pubkeys_ans *keys, const uint8_t **pk,
    struct jwt_claims *out)
{
	const cJSON	*h[H_N];
	const char	*alg, *typ, *kid;
	cJSON		*j;
	enum jwt_result	 rc = JWT_BAD_HEADER;
	size_t		 i;

	if ((j = json_object_parse(buf, n)) == NULL)
		return JWT_MALFORMED;
	/* strict: crit, jku, jwk, x5u, x5c, ... are all refused */
	if (members(j, header_names, H_N, h, true) == -1)
		goto out;
	if ((alg = str_of(h[H_ALG])) == NULL || (typ = str_of(h[H_TYP])) ==
	    NULL || (kid = str_of(h[H_KID])) == NULL)
		goto out;
	if (strcmp(alg, "EdDSA") != 0 && strcmp(alg, "Ed25519") != 0)
		goto out;
	if (!str_ieq(typ, "at+jwt") && !str_ieq(typ, "application/at+jwt"))
		goto out;
	rc = JWT_UNKNOWN_KID;
	if (keys == NULL)
		goto out;
	for (i = 0; i < keys->nkeys && i < PROTO_KEYS_MAX; i++) {
		if (strcmp(keys->keys[i].kid, kid) == 0) {
			*pk = keys->keys[i].pk;
			str_copy(out->kid, kid, sizeof(out->kid));
			rc = JWT_OK;
			break;
		}
	}
out:
	cJSON_Delete(j);
	return rc;
}

enum {
	C_ISS, C_AUD, C_SUB, C_IAT, C_EXP, C_NBF, C_JTI, C_USERNAME, C_ROLES,
	C_VER, C_CLIENT_ID, C_SCOPE, C_N
};
static const char *const claim_names[C_N] = {
	"iss", "aud", "sub", "iat", "exp", "nbf", "jti", "username", "roles",
	"ver", "client_id", "scope",
};

static enum jwt_result
check_aud(const cJSON *aud, const char *want)
{
	const cJSON	*it;
	bool		 found = false;

	if (cJSON_IsString(aud))
		return strcmp(aud->valuestring, want) == 0 ? JWT_OK :
		    JWT_BAD_AUDIENCE;
	if (!cJSON_IsArray(aud))
		return JWT_BAD_CLAIMS;
	cJSON_ArrayForEach(it, aud) {
		if (!cJSON_IsString(it))
			return JWT_BAD_CLAIMS;
		if (strcmp(it->valuestring, want) == 0)
			found = true;
	}
	return found ? JWT_OK : JWT_BAD_AUDIENCE;
}

static bool
jti_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (i >= JWT_JTI_MAX || s[i] <= ' ' || s[i] > '~')
			return false;
	return i > 0;
}

static enum jwt_result
check_claims(const uint8_t *buf, size_t n, const struct jwt_verify_params *p,
    time_t now, struct jwt_claims *out)
{
	const cJSON	*c[C_N], *it;
	const char	*s;
	cJSON		*j;
	enum jwt_result	 rc = JWT_BAD_CLAIMS;
	int64_t		 leeway, v, t = (int64_t)now;
	size_t		 i, k;

	leeway = p->leeway > JWT_LEEWAY_MAX ? JWT_LEEWAY_MAX : p->leeway;
	if ((j = json_object_parse(buf, n)) == NULL)
		return JWT_MALFORMED;
	if (members(j, claim_names, C_N, c, false) == -1)
		goto out;

	/* Time first: an expired token is "expired", whatever else. */
	if (!int_of(c[C_EXP], 0, INT_MAX_EXACT, &out->exp) ||
	    !int_of(c[C_IAT], 0, INT_MAX_EXACT, &out->iat))
		goto out;
	if (out->exp <= t - leeway) {
		rc = JWT_EXPIRED;
		goto out;
	}
	if (out->iat > t + leeway) {
		rc = JWT_NOT_YET_VALID;
		goto out;
	}
	if (c[C_NBF] != NULL) {
		if (!int_of(c[C_NBF], 0, INT_MAX_EXACT, &v))
			goto out;
		if (v > t + leeway) {
			rc = JWT_NOT_YET_VALID;
			goto out;
		}
	}

	if ((s = str_of(c[C_ISS])) == NULL)
		goto out;
	if (p->issuer == NULL || strcmp(s, p->issuer) != 0) {
		rc = JWT_BAD_ISSUER;
		goto out;
	}
	if (c[C_AUD] == NULL)
		goto out;
	if (p->audience == NULL) {
		rc = JWT_BAD_AUDIENCE;
		goto out;
	}
	if (!p->client) {
		if ((rc = check_aud(c[C_AUD], p->audience)) != JWT_OK)
			goto out;
	} else {
		if ((s = str_of(c[C_AUD])) == NULL ||
		    strcmp(s, p->audience) == 0 || !field_is_client_id(s) ||
		    str_of(c[C_CLIENT_ID]) == NULL ||
		    strcmp(str_of(c[C_CLIENT_ID]), s) != 0) {
			rc = JWT_BAD_AUDIENCE;
			goto out;
		}
		rc = JWT_BAD_CLAIMS;
		if (str_copy(out->client_id, s, sizeof(out->client_id)) ==
		    -1 || (s = str_of(c[C_SCOPE])) == NULL ||
		    !field_is_scope(s) ||
		    str_copy(out->scope, s, sizeof(out->scope)) == -1)
			goto out;
	}
	rc = JWT_BAD_CLAIMS;

	if ((s = str_of(c[C_SUB])) == NULL || !field_is_uuid(s) ||
	    str_copy(out->sub, s, sizeof(out->sub)) == -1)
		goto out;
	if ((s = str_of(c[C_JTI])) == NULL || !jti_ok(s) ||
	    str_copy(out->jti, s, sizeof(out->jti)) == -1)
		goto out;
	if (!int_of(c[C_VER], 0, UINT32_MAX, &v))
		goto out;
	out->ver = (uint32_t)v;
	/* A client's token names no user but by sub (jwt_sign.c). */
	if (p->client) {
		out->username[0] = '\0';
		out->nroles = 0;
		for (i = 0; i < PROTO_ROLES_MAX; i++)
			out->roles[i][0] = '\0';
		rc = JWT_OK;
		goto out;
	}
	if ((s = str_of(c[C_USERNAME])) == NULL || !field_is_username(s) ||
	    str_copy(out->username, s, sizeof(out->username)) == -1)
		goto out;
	if (!cJSON_IsArray(c[C_ROLES]))
		goto out;
	cJSON_ArrayForEach(it, c[C_ROLES]) {
		if (out->nroles == PROTO_ROLES_MAX || (s = str_of(it)) == NULL ||
		    !field_is_role(s) ||
		    str_copy(out->roles[out->nroles], s, PROTO_ROLE_MAX + 1))
			goto out;
		for (k = 0; k < out->nroles; k++)
			if (strcmp(out->roles[k], s) == 0)
				goto out;
		out->nroles++;
	}
	for (i = out->nroles; i < PROTO_ROLES_MAX; i++)
		out->roles[i][0] = '\0';
	rc = JWT_OK;
out:
	cJSON_Delete(j);
	return rc;
}

enum jwt_result
jwt_verify(const struct proto_pubkeys_ans *keys,
    const struct jwt_verify_params *p, const char *token, size_t len,
    time_t now, struct jwt_claims *out)
{
	uint8_t		 hbuf[B64URL_DECODED_MAX(HEADER_B64_MAX)];
	uint8_t		 pbuf[B64URL_DECODED_MAX(JWT_VERIFY_MAX_LEN)];
	uint8_t		 sig[crypto_sign_BYTES + 2];
	const uint8_t	*pk = NULL;
	const char	*d1, *d2;
	size_t		 hlen, plen, slen;
	ssize_t		 n;
	enum jwt_result	 rc;

	memset(out, 0, sizeof(*out));
	if (token == NULL || p == NULL || len == 0 || len > JWT_VERIFY_MAX_LEN)
		return JWT_MALFORMED;
	if ((d1 = memchr(token, '.', len)) == NULL ||
	    (d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token))) ==
	    NULL || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)) != NULL)
		return JWT_MALFORMED;
	hlen = (size_t)(d1 - token);
	plen = (size_t)(d2 - d1 - 1);
	slen = len - (size_t)(d2 + 1 - token);
	if (hlen == 0 || hlen > HEADER_B64_MAX || plen == 0 ||
	    slen != SIG_B64_LEN)
		return JWT_MALFORMED;

	if ((n = b64url_decode(hbuf, sizeof(hbuf), token, hlen)) <= 0)
		return JWT_MALFORMED;
	if ((rc = check_header(hbuf, (size_t)n, keys, &pk, out)) != JWT_OK)
		goto fail;

	if (b64url_decode(sig, sizeof(sig), d2 + 1, slen) != crypto_sign_BYTES) {
		rc = JWT_MALFORMED;
		goto fail;
	}
	/* The payload's base64url must be sound before it counts as signed. */
	if ((n = b64url_decode(pbuf, sizeof(pbuf), d1 + 1, plen)) <= 0) {
		rc = JWT_MALFORMED;
		goto fail;
	}
	if (crypto_sign_verify_detached(sig, (const uint8_t *)token,
	    (size_t)(d2 - token), pk) != 0) {
		rc = JWT_BAD_SIGNATURE;
		goto fail;
	}
	if ((rc = check_claims(pbuf, (size_t)n, p, now, out)) != JWT_OK)
		goto fail;
	return JWT_OK;
fail:
	memset(out, 0, sizeof(*out));
	return rc;
}
