/*
 * Client assertions for upstream identity providers (RFC 7523 2.2): a
 * JWT whose iss and sub are our client id there and whose aud is its
 * token endpoint, valid for a minute, signed like the ID tokens.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "assertion.h"
#include "fields.h"
#include "jwt_sign.h"
#include "util.h"

/* A NUL within max + 1 bytes, and 1 to max bytes of 0x21..0x7e before it. */
static bool
printable(const char *s, size_t max)
{
	size_t i, n;

	if (memchr(s, '\0', max + 1) == NULL)
		return false;
	n = strlen(s);
	if (n == 0)
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

/* The provider's token endpoint: http:// or https:// and a host. */
static bool
url_ok(const char *s)
{
	size_t n;

	if (strncmp(s, "https://", 8) == 0)
		n = 8;
	else if (strncmp(s, "http://", 7) == 0)
		n = 7;
	else
		return false;
	return s[n] != '\0' && s[n] != '/';
}

static int
req_check(const struct proto_sign_assertion_req *req, char *err,
    size_t errlen)
{
	if (req->alg != PROTO_ALG_EDDSA && req->alg != PROTO_ALG_RS256) {
		str_printf(err, errlen, "alg is neither EdDSA nor RS256");
		return -1;
	}
	if (!printable(req->client_id, PROTO_ASSERTION_CLIENT_MAX)) {
		str_printf(err, errlen, "client_id is not printable ASCII");
		return -1;
	}
	if (!printable(req->aud, PROTO_ASSERTION_AUD_MAX) ||
	    !url_ok(req->aud)) {
		str_printf(err, errlen, "aud is not an http(s) URL");
		return -1;
	}
	return 0;
}

static cJSON *
header_build(const char *alg, const char *kid)
{
	cJSON *h = cJSON_CreateObject();

	if (h == NULL ||
	    cJSON_AddStringToObject(h, "alg", alg) == NULL ||
	    cJSON_AddStringToObject(h, "typ", "JWT") == NULL ||
	    cJSON_AddStringToObject(h, "kid", kid) == NULL) {
		cJSON_Delete(h);
		return NULL;
	}
	return h;
}

/* cJSON escapes the strings ('"', '\\'): client_id may hold either. */
static cJSON *
claims_build(const struct proto_sign_assertion_req *req, const char *jti,
    int64_t iat)
{
	cJSON *c = cJSON_CreateObject();

	/* Whole seconds below 2^53 print exactly from cJSON's doubles. */
	if (c == NULL ||
	    cJSON_AddStringToObject(c, "iss", req->client_id) == NULL ||
	    cJSON_AddStringToObject(c, "sub", req->client_id) == NULL ||
	    cJSON_AddStringToObject(c, "aud", req->aud) == NULL ||
	    cJSON_AddStringToObject(c, "jti", jti) == NULL ||
	    cJSON_AddNumberToObject(c, "iat", (double)iat) == NULL ||
	    cJSON_AddNumberToObject(c, "exp",
	    (double)(iat + ASSERTION_TTL)) == NULL) {
		cJSON_Delete(c);
		return NULL;
	}
	return c;
}

int
assertion_sign(const struct keyset *ks,
    const struct proto_sign_assertion_req *req, time_t now,
    struct proto_sign_assertion_ans *ans, const char **kid, char *err,
    size_t errlen)
{
	const struct sign_key	*ek = NULL;
	const struct rsa_key	*rk = NULL;
	cJSON			*hdr = NULL, *claims = NULL;
	char			 jti[FIELD_UUID_LEN + 1];
	int			 rc = -1;

	if (errlen > 0)
		err[0] = '\0';
	if (kid != NULL)
		*kid = "";
	if (ans == NULL)
		return -1;
	sodium_memzero(ans, sizeof(*ans));
	if (ks == NULL || req == NULL) {
		str_printf(err, errlen, "missing argument");
		return -1;
	}
	if (req_check(req, err, errlen) == -1)
		return -1;
	if (jwt_key_current(ks, req->alg, now, &ek, &rk, err, errlen) == -1)
		return -1;
	if (now < 0 || (int64_t)now > (int64_t)UINT32_MAX - ASSERTION_TTL) {
		str_printf(err, errlen, "clock out of range");
		return -1;
	}
	uuid_random(jti);
	if ((hdr = header_build(rk != NULL ? "RS256" : "EdDSA",
	    rk != NULL ? rk->kid : ek->kid)) == NULL ||
	    (claims = claims_build(req, jti, (int64_t)now)) == NULL) {
		str_printf(err, errlen, "out of memory");
		goto out;
	}
	if (jwt_jws_compact(hdr, claims, ek, rk, ans->jwt, err, errlen) == -1)
		goto out;
	if (kid != NULL)
		*kid = rk != NULL ? rk->kid : ek->kid;
	rc = 0;
out:
	cJSON_Delete(hdr);
	cJSON_Delete(claims);
	if (rc == -1)
		sodium_memzero(ans, sizeof(*ans));
	return rc;
}
