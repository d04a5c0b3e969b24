/*
 * Access-token signing: RFC 9068 claims, EdDSA (Ed25519) per RFC 8037.
 * Everything but sub, username, roles, ver and email_verified is the
 * hasher's own.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "b64url.h"
#include "fields.h"
#include "jwt_sign.h"
#include "util.h"

#define SIG_B64_LEN	B64URL_ENCODED_LEN(crypto_sign_BYTES)	/* 86 */

/* True when the fixed-size field holds a NUL, so it is a C string. */
#define FIELD_TERMINATED(f)	(memchr((f), '\0', sizeof(f)) != NULL)

static int
req_check(const struct proto_sign_req *req, char *err, size_t errlen)
{
	size_t i, j;

	if (!FIELD_TERMINATED(req->sub) || !field_is_uuid(req->sub)) {
		str_printf(err, errlen, "sub is not a lower-case UUID");
		return -1;
	}
	if (!FIELD_TERMINATED(req->username) ||
	    !field_is_username(req->username)) {
		str_printf(err, errlen, "username breaks its rule");
		return -1;
	}
	if (req->nroles > PROTO_ROLES_MAX) {
		str_printf(err, errlen, "more than %d roles", PROTO_ROLES_MAX);
		return -1;
	}
	for (i = 0; i < req->nroles; i++) {
		if (!FIELD_TERMINATED(req->roles[i]) ||
		    !field_is_role(req->roles[i])) {
			str_printf(err, errlen, "role %zu breaks its rule", i);
			return -1;
		}
		for (j = 0; j < i; j++)
			if (strcmp(req->roles[i], req->roles[j]) == 0) {
				str_printf(err, errlen, "role %zu repeats role %zu",
				    i, j);
				return -1;
			}
	}
	return 0;
}

static cJSON *
header_build(const char *kid)
{
	cJSON *h = cJSON_CreateObject();

	if (h == NULL ||
	    cJSON_AddStringToObject(h, "alg", "EdDSA") == NULL ||
	    cJSON_AddStringToObject(h, "typ", "at+jwt") == NULL ||
	    cJSON_AddStringToObject(h, "kid", kid) == NULL) {
		cJSON_Delete(h);
		return NULL;
	}
	return h;
}

static cJSON *
claims_build(const struct jwt_sign_params *p, const struct proto_sign_req *req,
    int64_t iat, int64_t exp, const char *jti)
{
	cJSON	*c = cJSON_CreateObject(), *roles;
	size_t	 i;

	/* Whole seconds below 2^53 print exactly from cJSON's doubles. */
	if (c == NULL ||
	    cJSON_AddStringToObject(c, "iss", p->issuer) == NULL ||
	    cJSON_AddStringToObject(c, "aud", p->audience) == NULL ||
	    cJSON_AddStringToObject(c, "sub", req->sub) == NULL ||
	    (p->client_id != NULL && p->client_id[0] != '\0' &&
	    cJSON_AddStringToObject(c, "client_id", p->client_id) == NULL) ||
	    cJSON_AddNumberToObject(c, "iat", (double)iat) == NULL ||
	    cJSON_AddNumberToObject(c, "exp", (double)exp) == NULL ||
	    cJSON_AddStringToObject(c, "jti", jti) == NULL ||
	    cJSON_AddStringToObject(c, "username", req->username) == NULL ||
	    (roles = cJSON_AddArrayToObject(c, "roles")) == NULL)
		goto fail;
	for (i = 0; i < req->nroles; i++) {
		cJSON *r = cJSON_CreateString(req->roles[i]);

		if (r == NULL || !cJSON_AddItemToArray(roles, r)) {
			cJSON_Delete(r);
			goto fail;
		}
	}
	if (cJSON_AddNumberToObject(c, "ver", (double)req->ver) == NULL ||
	    cJSON_AddBoolToObject(c, "email_verified", req->email_verified) ==
	    NULL)
		goto fail;
	return c;
fail:
	cJSON_Delete(c);
	return NULL;
}

/* Appends base64url(s) to the NUL-terminated dst of size dstlen. */
static int
append_b64(char *dst, size_t dstlen, const void *s, size_t slen)
{
	size_t	 used = strlen(dst);

	return b64url_encode(dst + used, dstlen - used, s, slen) == -1 ? -1 : 0;
}

int
jwt_sign(const struct keyset *ks, const struct jwt_sign_params *p,
    const struct proto_sign_req *req, time_t now,
    struct proto_sign_ans *ans, char *err, size_t errlen)
{
	const struct sign_key	*k;
	uint8_t			 sig[crypto_sign_BYTES];
	cJSON			*hdr = NULL, *claims = NULL;
	char			*htext = NULL, *ctext = NULL;
	uint32_t		 ttl;
	int64_t			 exp;
	size_t			 len;
	int			 rc = -1;

	if (errlen > 0)
		err[0] = '\0';
	if (ans == NULL)
		return -1;
	sodium_memzero(ans, sizeof(*ans));
	if (ks == NULL || p == NULL || req == NULL) {
		str_printf(err, errlen, "missing argument");
		return -1;
	}
	if (p->issuer == NULL || p->issuer[0] == '\0' || p->audience == NULL ||
	    p->audience[0] == '\0' || p->max_ttl == 0) {
		str_printf(err, errlen, "issuer, audience and a ttl are needed");
		return -1;
	}
	if ((k = keys_sign_current(ks)) == NULL || k->sk == NULL) {
		str_printf(err, errlen, "no current signing key");
		return -1;
	}
	if (req_check(req, err, errlen) == -1)
		return -1;

	ttl = req->ttl == 0 || req->ttl > p->max_ttl ? p->max_ttl : req->ttl;
	if (now < 0 || (int64_t)now > (int64_t)UINT32_MAX - ttl) {
		str_printf(err, errlen, "clock out of range");
		return -1;
	}
	exp = (int64_t)now + ttl;
	uuid_random(ans->jti);
	ans->exp = (uint32_t)exp;

	if ((hdr = header_build(k->kid)) == NULL ||
	    (claims = claims_build(p, req, (int64_t)now, exp, ans->jti)) == NULL ||
	    (htext = cJSON_PrintUnformatted(hdr)) == NULL ||
	    (ctext = cJSON_PrintUnformatted(claims)) == NULL) {
		str_printf(err, errlen, "out of memory");
		goto out;
	}

	/* header.payload, then sign it in place and append .signature */
	ans->jwt[0] = '\0';
	if (append_b64(ans->jwt, sizeof(ans->jwt), htext, strlen(htext)) == -1 ||
	    str_copy(ans->jwt + strlen(ans->jwt), ".",
	    sizeof(ans->jwt) - strlen(ans->jwt)) == -1 ||
	    append_b64(ans->jwt, sizeof(ans->jwt), ctext, strlen(ctext)) == -1) {
		str_printf(err, errlen, "token longer than %d bytes",
		    PROTO_JWT_MAX);
		goto out;
	}
	len = strlen(ans->jwt);
	if (len + 1 + SIG_B64_LEN > PROTO_JWT_MAX) {
		str_printf(err, errlen, "token longer than %d bytes",
		    PROTO_JWT_MAX);
		goto out;
	}
	if (crypto_sign_detached(sig, NULL, (const uint8_t *)ans->jwt, len,
	    k->sk) != 0) {
		str_printf(err, errlen, "signing failed");
		goto out;
	}
	ans->jwt[len] = '.';
	ans->jwt[len + 1] = '\0';
	if (append_b64(ans->jwt, sizeof(ans->jwt), sig, sizeof(sig)) == -1) {
		str_printf(err, errlen, "token longer than %d bytes",
		    PROTO_JWT_MAX);
		goto out;
	}
	rc = 0;
out:
	if (htext != NULL) {
		sodium_memzero(htext, strlen(htext));
		cJSON_free(htext);
	}
	if (ctext != NULL) {
		sodium_memzero(ctext, strlen(ctext));
		cJSON_free(ctext);
	}
	cJSON_Delete(hdr);
	cJSON_Delete(claims);
	sodium_memzero(sig, sizeof(sig));
	if (rc == -1)
		sodium_memzero(ans, sizeof(*ans));
	return rc;
}
