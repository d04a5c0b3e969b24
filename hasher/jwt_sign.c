/*
 * Access-token signing: RFC 9068 claims, EdDSA (Ed25519) per RFC 8037.
 * Everything but sub, username, roles, ver, email_verified and a client's
 * aud and scope is the hasher's own.  ID-token signing: OpenID Connect
 * Core 1.0 claims, RS256 (RFC 7518 3.3, OpenSSL) or EdDSA.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <sodium.h>

#include "b64url.h"
#include "fields.h"
#include "jwt_sign.h"
#include "util.h"

#define SIG_B64_LEN	B64URL_ENCODED_LEN(crypto_sign_BYTES)	/* 86 */
#define RSA_SIG_LEN	PROTO_RSA_N_LEN				/* 384 */
#define RSA_SIG_B64_LEN	B64URL_ENCODED_LEN(RSA_SIG_LEN)		/* 512 */

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
	if (!FIELD_TERMINATED(req->aud) ||
	    (req->aud[0] != '\0' && !field_is_client_id(req->aud))) {
		str_printf(err, errlen, "aud is not a client id");
		return -1;
	}
	if (!FIELD_TERMINATED(req->scope) ||
	    (req->scope[0] != '\0' && !field_is_scope(req->scope))) {
		str_printf(err, errlen, "scope breaks its rule");
		return -1;
	}
	return 0;
}

static cJSON *
header_build(const char *alg, const char *typ, const char *kid)
{
	cJSON *h = cJSON_CreateObject();

	if (h == NULL ||
	    cJSON_AddStringToObject(h, "alg", alg) == NULL ||
	    cJSON_AddStringToObject(h, "typ", typ) == NULL ||
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
	cJSON		*c = cJSON_CreateObject(), *roles;
	const char	*aud = p->audience, *client_id = p->client_id;
	size_t		 i;

	/* A client's token: aud and client_id are the client (RFC 9068 3). */
	if (req->aud[0] != '\0')
		aud = client_id = req->aud;
	/* Whole seconds below 2^53 print exactly from cJSON's doubles. */
	if (c == NULL ||
	    cJSON_AddStringToObject(c, "iss", p->issuer) == NULL ||
	    cJSON_AddStringToObject(c, "aud", aud) == NULL ||
	    cJSON_AddStringToObject(c, "sub", req->sub) == NULL ||
	    (client_id != NULL && client_id[0] != '\0' &&
	    cJSON_AddStringToObject(c, "client_id", client_id) == NULL) ||
	    (req->scope[0] != '\0' &&
	    cJSON_AddStringToObject(c, "scope", req->scope) == NULL) ||
	    cJSON_AddNumberToObject(c, "iat", (double)iat) == NULL ||
	    cJSON_AddNumberToObject(c, "exp", (double)exp) == NULL ||
	    cJSON_AddStringToObject(c, "jti", jti) == NULL)
		goto fail;
	/* A client reads its token: what the user let it see comes from
	 * userinfo by the scopes granted, never from here. */
	if (req->aud[0] != '\0') {
		if (cJSON_AddNumberToObject(c, "ver", (double)req->ver) == NULL)
			goto fail;
		return c;
	}
	if (cJSON_AddStringToObject(c, "username", req->username) == NULL ||
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

/* Frees a printed JSON text after wiping it. */
static void
text_free(char *t)
{
	if (t != NULL) {
		sodium_memzero(t, strlen(t));
		cJSON_free(t);
	}
}

int
jwt_key_current(const struct keyset *ks, uint8_t alg, time_t now,
    const struct sign_key **ek, const struct rsa_key **rk, char *err,
    size_t errlen)
{
	*ek = NULL;
	*rk = NULL;
	if (alg == PROTO_ALG_RS256) {
		if ((*rk = keys_rsa_current_at(ks, now)) == NULL ||
		    (*rk)->pkey == NULL) {
			str_printf(err, errlen, "no current RSA key: the key "
			    "set predates RS256; run wardenctl keygen");
			return -1;
		}
	} else if ((*ek = keys_sign_current_at(ks, now)) == NULL ||
	    (*ek)->sk == NULL) {
		str_printf(err, errlen, "no current signing key");
		return -1;
	}
	return 0;
}

int
jwt_jws_compact(cJSON *hdr, cJSON *claims, const struct sign_key *ek,
    const struct rsa_key *rk, char jwt[PROTO_JWT_MAX + 1], char *err,
    size_t errlen)
{
	uint8_t		 sig[RSA_SIG_LEN];
	size_t		 siglen, len;
	char		*htext = NULL, *ctext = NULL;
	EVP_MD_CTX	*ctx = NULL;
	int		 rc = -1;

	if ((htext = cJSON_PrintUnformatted(hdr)) == NULL ||
	    (ctext = cJSON_PrintUnformatted(claims)) == NULL) {
		str_printf(err, errlen, "out of memory");
		goto out;
	}
	jwt[0] = '\0';
	if (append_b64(jwt, PROTO_JWT_MAX + 1, htext, strlen(htext)) == -1 ||
	    str_copy(jwt + strlen(jwt), ".", PROTO_JWT_MAX + 1 -
	    strlen(jwt)) == -1 ||
	    append_b64(jwt, PROTO_JWT_MAX + 1, ctext, strlen(ctext)) == -1) {
		str_printf(err, errlen, "token longer than %d bytes",
		    PROTO_JWT_MAX);
		goto out;
	}
	len = strlen(jwt);
	if (len + 1 + (rk != NULL ? RSA_SIG_B64_LEN : SIG_B64_LEN) >
	    PROTO_JWT_MAX) {
		str_printf(err, errlen, "token longer than %d bytes",
		    PROTO_JWT_MAX);
		goto out;
	}
	if (rk != NULL) {
		siglen = sizeof(sig);
		if ((ctx = EVP_MD_CTX_new()) == NULL ||
		    EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL,
		    rk->pkey) != 1 ||
		    EVP_DigestSign(ctx, sig, &siglen, (const uint8_t *)jwt,
		    len) != 1 || siglen != RSA_SIG_LEN) {
			str_printf(err, errlen, "signing failed");
			goto out;
		}
	} else {
		siglen = crypto_sign_BYTES;
		if (crypto_sign_detached(sig, NULL, (const uint8_t *)jwt, len,
		    ek->sk) != 0) {
			str_printf(err, errlen, "signing failed");
			goto out;
		}
	}
	jwt[len] = '.';
	jwt[len + 1] = '\0';
	if (append_b64(jwt, PROTO_JWT_MAX + 1, sig, siglen) == -1) {
		str_printf(err, errlen, "token longer than %d bytes",
		    PROTO_JWT_MAX);
		goto out;
	}
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	text_free(htext);
	text_free(ctext);
	sodium_memzero(sig, sizeof(sig));
	if (rc == -1)
		sodium_memzero(jwt, PROTO_JWT_MAX + 1);
	return rc;
}

/* exp for a token asked for ttl seconds at now, ttl clamped to max_ttl;
 * -1 when it would not fit a u32. */
static int64_t
exp_of(time_t now, uint32_t ttl, uint32_t max_ttl)
{
	if (ttl == 0 || ttl > max_ttl)
		ttl = max_ttl;
	if (now < 0 || (int64_t)now > (int64_t)UINT32_MAX - ttl)
		return -1;
	return (int64_t)now + ttl;
}

int
jwt_sign(const struct keyset *ks, const struct jwt_sign_params *p,
    const struct proto_sign_req *req, time_t now,
    struct proto_sign_ans *ans, char *err, size_t errlen)
{
	const struct sign_key	*k;
	cJSON			*hdr = NULL, *claims = NULL;
	int64_t			 exp;
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
	if ((k = keys_sign_current_at(ks, now)) == NULL || k->sk == NULL) {
		str_printf(err, errlen, "no current signing key");
		return -1;
	}
	if (req_check(req, err, errlen) == -1)
		return -1;

	if ((exp = exp_of(now, req->ttl, p->max_ttl)) == -1) {
		str_printf(err, errlen, "clock out of range");
		return -1;
	}
	uuid_random(ans->jti);
	ans->exp = (uint32_t)exp;

	if ((hdr = header_build("EdDSA", "at+jwt", k->kid)) == NULL ||
	    (claims = claims_build(p, req, (int64_t)now, exp,
	    ans->jti)) == NULL) {
		str_printf(err, errlen, "out of memory");
		goto out;
	}
	if (jwt_jws_compact(hdr, claims, k, NULL, ans->jwt, err, errlen) == -1)
		goto out;
	rc = 0;
out:
	cJSON_Delete(hdr);
	cJSON_Delete(claims);
	if (rc == -1)
		sodium_memzero(ans, sizeof(*ans));
	return rc;
}

/* ---- ID tokens ---- */

/* The amr values (RFC 8176) an ID token may carry. */
static const char *const amr_known[] = { "pwd", "otp", "mfa", "hwk", "swk" };

static bool
amr_ok(const char *v)
{
	size_t i;

	for (i = 0; i < sizeof(amr_known) / sizeof(amr_known[0]); i++)
		if (strcmp(v, amr_known[i]) == 0)
			return true;
	return false;
}

/* An access token as at_hash takes it: base64url and dots only. */
static bool
jwt_chars_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' ||
		    *s == '.'))
			return false;
	return true;
}

/* "" or a string that keeps rule; the field NUL-terminated either way. */
#define OPTIONAL_OK(f, rule) \
	(FIELD_TERMINATED(f) && ((f)[0] == '\0' || (rule)))

static int
id_req_check(const struct proto_sign_id_req *req, char *err, size_t errlen)
{
	size_t i, j;

	if (req->alg != PROTO_ALG_EDDSA && req->alg != PROTO_ALG_RS256) {
		str_printf(err, errlen, "alg is neither EdDSA nor RS256");
		return -1;
	}
	if (!FIELD_TERMINATED(req->sub) || !field_is_uuid(req->sub)) {
		str_printf(err, errlen, "sub is not a lower-case UUID");
		return -1;
	}
	if (!FIELD_TERMINATED(req->aud) || !field_is_client_id(req->aud)) {
		str_printf(err, errlen, "aud is not a client id");
		return -1;
	}
	if (!OPTIONAL_OK(req->nonce, field_is_nonce(req->nonce))) {
		str_printf(err, errlen, "nonce breaks its rule");
		return -1;
	}
	if (req->namr > PROTO_AMR_MAX) {
		str_printf(err, errlen, "more than %d amr values", PROTO_AMR_MAX);
		return -1;
	}
	for (i = 0; i < req->namr; i++) {
		if (!FIELD_TERMINATED(req->amr[i]) || !amr_ok(req->amr[i])) {
			str_printf(err, errlen, "amr %zu is not a known method",
			    i);
			return -1;
		}
		for (j = 0; j < i; j++)
			if (strcmp(req->amr[i], req->amr[j]) == 0) {
				str_printf(err, errlen, "amr %zu repeats amr %zu",
				    i, j);
				return -1;
			}
	}
	if (!OPTIONAL_OK(req->acr, field_is_vstoken(req->acr, PROTO_ACR_MAX))) {
		str_printf(err, errlen, "acr breaks its rule");
		return -1;
	}
	if (!OPTIONAL_OK(req->sid, field_is_vstoken(req->sid, PROTO_SID_MAX))) {
		str_printf(err, errlen, "sid breaks its rule");
		return -1;
	}
	if (!OPTIONAL_OK(req->preferred_username,
	    field_is_username(req->preferred_username))) {
		str_printf(err, errlen, "preferred_username breaks its rule");
		return -1;
	}
	if (!OPTIONAL_OK(req->name, field_is_full_name(req->name))) {
		str_printf(err, errlen, "name breaks its rule");
		return -1;
	}
	if (!OPTIONAL_OK(req->email, field_is_email(req->email))) {
		str_printf(err, errlen, "email breaks its rule");
		return -1;
	}
	if (req->nroles > PROTO_ROLES_MAX) {
		str_printf(err, errlen, "more than %d roles", PROTO_ROLES_MAX);
		return -1;
	}
	if (req->nroles > 0 && !req->roles_claim) {
		str_printf(err, errlen, "roles without the roles claim");
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
	if (!OPTIONAL_OK(req->access_token, jwt_chars_ok(req->access_token))) {
		str_printf(err, errlen, "access_token is not a JWT");
		return -1;
	}
	return 0;
}

/*
 * at_hash (OpenID Connect Core 3.1.3.6): base64url of the left half of the
 * hash of the access token's ASCII, with the hash of the JWS algorithm:
 * SHA-256 for RS256, SHA-512 for EdDSA (Ed25519 signs with SHA-512).
 */
static int
at_hash(uint8_t alg, const char *token, char *out, size_t outlen)
{
	uint8_t	 d[crypto_hash_sha512_BYTES];
	size_t	 half;

	if (alg == PROTO_ALG_RS256) {
		crypto_hash_sha256(d, (const uint8_t *)token, strlen(token));
		half = crypto_hash_sha256_BYTES / 2;
	} else {
		crypto_hash_sha512(d, (const uint8_t *)token, strlen(token));
		half = crypto_hash_sha512_BYTES / 2;
	}
	return b64url_encode(out, outlen, d, half) == -1 ? -1 : 0;
}

static bool
add_str(cJSON *c, const char *name, const char *v)
{
	return v[0] == '\0' || cJSON_AddStringToObject(c, name, v) != NULL;
}

static bool
add_list(cJSON *c, const char *name, const char *v, size_t stride, size_t n)
{
	cJSON	*a;
	size_t	 i;

	if ((a = cJSON_AddArrayToObject(c, name)) == NULL)
		return false;
	for (i = 0; i < n; i++) {
		cJSON *s = cJSON_CreateString(v + i * stride);

		if (s == NULL || !cJSON_AddItemToArray(a, s)) {
			cJSON_Delete(s);
			return false;
		}
	}
	return true;
}

static cJSON *
id_claims_build(const struct jwt_sign_params *p,
    const struct proto_sign_id_req *req, int64_t iat, int64_t exp)
{
	char	 ath[B64URL_ENCODED_LEN(crypto_hash_sha512_BYTES / 2) + 1];
	cJSON	*c = cJSON_CreateObject();

	ath[0] = '\0';
	if (req->access_token[0] != '\0' &&
	    at_hash(req->alg, req->access_token, ath, sizeof(ath)) == -1)
		goto fail;
	if (c == NULL ||
	    cJSON_AddStringToObject(c, "iss", p->issuer) == NULL ||
	    cJSON_AddStringToObject(c, "sub", req->sub) == NULL ||
	    cJSON_AddStringToObject(c, "aud", req->aud) == NULL ||
	    cJSON_AddNumberToObject(c, "exp", (double)exp) == NULL ||
	    cJSON_AddNumberToObject(c, "iat", (double)iat) == NULL ||
	    (req->auth_time != 0 && cJSON_AddNumberToObject(c, "auth_time",
	    (double)req->auth_time) == NULL) ||
	    !add_str(c, "nonce", req->nonce) ||
	    !add_str(c, "acr", req->acr) ||
	    (req->namr > 0 && !add_list(c, "amr", req->amr[0],
	    sizeof(req->amr[0]), req->namr)) ||
	    !add_str(c, "sid", req->sid) ||
	    !add_str(c, "at_hash", ath) ||
	    !add_str(c, "preferred_username", req->preferred_username) ||
	    !add_str(c, "name", req->name) ||
	    !add_str(c, "email", req->email) ||
	    (req->email[0] != '\0' && cJSON_AddBoolToObject(c,
	    "email_verified", req->email_verified) == NULL) ||
	    (req->roles_claim && !add_list(c, "roles", req->roles[0],
	    sizeof(req->roles[0]), req->nroles)))
		goto fail;
	return c;
fail:
	cJSON_Delete(c);
	return NULL;
}

int
jwt_sign_id(const struct keyset *ks, const struct jwt_sign_params *p,
    const struct proto_sign_id_req *req, time_t now,
    struct proto_sign_id_ans *ans, const char **kid, char *err,
    size_t errlen)
{
	const struct sign_key	*ek = NULL;
	const struct rsa_key	*rk = NULL;
	cJSON			*hdr = NULL, *claims = NULL;
	int64_t			 exp;
	int			 rc = -1;

	if (errlen > 0)
		err[0] = '\0';
	if (kid != NULL)
		*kid = "";
	if (ans == NULL)
		return -1;
	sodium_memzero(ans, sizeof(*ans));
	if (ks == NULL || p == NULL || req == NULL) {
		str_printf(err, errlen, "missing argument");
		return -1;
	}
	if (p->issuer == NULL || p->issuer[0] == '\0' || p->max_ttl == 0) {
		str_printf(err, errlen, "issuer and a ttl are needed");
		return -1;
	}
	if (id_req_check(req, err, errlen) == -1)
		return -1;
	if (jwt_key_current(ks, req->alg, now, &ek, &rk, err, errlen) == -1)
		return -1;
	if ((exp = exp_of(now, req->ttl, p->max_ttl)) == -1) {
		str_printf(err, errlen, "clock out of range");
		return -1;
	}
	ans->exp = (uint32_t)exp;
	if ((hdr = header_build(rk != NULL ? "RS256" : "EdDSA", "JWT",
	    rk != NULL ? rk->kid : ek->kid)) == NULL ||
	    (claims = id_claims_build(p, req, (int64_t)now, exp)) == NULL) {
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
