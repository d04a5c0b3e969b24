/*
 * ID-token checks: split, verify with the named key, then read the claims.
 * The signature is checked before the claims are parsed.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <sodium.h>

#include "b64url.h"
#include "fields.h"
#include "jwt_check.h"
#include "util.h"

#define HDR_MAX		512	/* decoded header bytes we read */

/* A string member of o, or NULL. */
static const char *
member_str(const cJSON *o, const char *name)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(m) ? m->valuestring : NULL;
}

/* Decodes n base64url characters of s into a new NUL-terminated block of
 * at most max bytes; NULL on any error. */
static char *
b64_text(const char *s, size_t n, size_t max)
{
	char	*out;
	ssize_t	 len;

	if (n == 0 || B64URL_DECODED_MAX(n) > max + 2 ||
	    (out = malloc(B64URL_DECODED_MAX(n) + 1)) == NULL)
		return NULL;
	len = b64url_decode((uint8_t *)out, B64URL_DECODED_MAX(n), s, n);
	if (len <= 0 || (size_t)len > max ||
	    memchr(out, '\0', (size_t)len) != NULL) {
		free(out);
		return NULL;
	}
	out[len] = '\0';
	return out;
}

static bool
rsa_verify(const struct rsa_key *k, const uint8_t *msg, size_t len,
    const uint8_t *sig, size_t siglen)
{
	EVP_MD_CTX	*ctx;
	bool		 ok;

	if (k->pkey == NULL || (ctx = EVP_MD_CTX_new()) == NULL)
		return false;
	ok = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL,
	    k->pkey) == 1 &&
	    EVP_DigestVerify(ctx, sig, siglen, msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok;
}

/* The header's alg, typ and kid checked and the signature over
 * token[0..dot2) verified. */
static bool
signature_ok(const struct keyset *ks, const char *token, size_t dot1,
    size_t dot2, size_t end)
{
	uint8_t			 sig[PROTO_RSA_N_LEN + 3];
	const char		*alg, *typ, *kid;
	const struct sign_key	*ek;
	const struct rsa_key	*rk;
	char			*htext;
	cJSON			*hdr = NULL;
	ssize_t			 siglen;
	bool			 ok = false;

	if ((htext = b64_text(token, dot1, HDR_MAX)) == NULL)
		return false;
	if ((hdr = cJSON_Parse(htext)) == NULL || !cJSON_IsObject(hdr))
		goto out;
	alg = member_str(hdr, "alg");
	typ = member_str(hdr, "typ");
	kid = member_str(hdr, "kid");
	if (alg == NULL || typ == NULL || kid == NULL ||
	    strcmp(typ, "JWT") != 0 || !field_is_kid(kid))
		goto out;
	siglen = b64url_decode(sig, sizeof(sig), token + dot2 + 1,
	    end - dot2 - 1);
	if (strcmp(alg, "RS256") == 0) {
		ok = (rk = keys_rsa_find(ks, kid)) != NULL &&
		    siglen == PROTO_RSA_N_LEN &&
		    rsa_verify(rk, (const uint8_t *)token, dot2, sig,
		    (size_t)siglen);
	} else if (strcmp(alg, "EdDSA") == 0) {
		ok = (ek = keys_sign_find(ks, kid)) != NULL &&
		    siglen == crypto_sign_BYTES &&
		    crypto_sign_verify_detached(sig, (const uint8_t *)token,
		    dot2, ek->pk) == 0;
	}
out:
	cJSON_Delete(hdr);
	free(htext);
	return ok;
}

/* The claims: iss, sub, aud and the optional sid, copied into ans. */
static bool
claims_ok(const char *issuer, const char *token, size_t dot1, size_t dot2,
    struct proto_jwt_check_ans *ans)
{
	const char	*iss, *sub, *aud, *sid;
	const cJSON	*m;
	char		*ctext;
	cJSON		*c = NULL;
	bool		 ok = false;

	if ((ctext = b64_text(token + dot1 + 1, dot2 - dot1 - 1,
	    PROTO_JWT_MAX)) == NULL)
		return false;
	if ((c = cJSON_Parse(ctext)) == NULL || !cJSON_IsObject(c))
		goto out;
	iss = member_str(c, "iss");
	sub = member_str(c, "sub");
	aud = member_str(c, "aud");
	sid = member_str(c, "sid");
	m = cJSON_GetObjectItemCaseSensitive(c, "sid");
	if (iss == NULL || strcmp(iss, issuer) != 0 ||
	    sub == NULL || !field_is_uuid(sub) ||
	    aud == NULL || !field_is_client_id(aud) ||
	    (m != NULL && (sid == NULL ||
	    !field_is_vstoken(sid, PROTO_SID_MAX))))
		goto out;
	if (str_copy(ans->sub, sub, sizeof(ans->sub)) == -1 ||
	    str_copy(ans->aud, aud, sizeof(ans->aud)) == -1 ||
	    (sid != NULL && str_copy(ans->sid, sid, sizeof(ans->sid)) == -1))
		goto out;
	ok = true;
out:
	cJSON_Delete(c);
	sodium_memzero(ctext, strlen(ctext));
	free(ctext);
	return ok;
}

void
jwt_check(const struct keyset *ks, const char *issuer, const char *token,
    struct proto_jwt_check_ans *ans)
{
	const char	*d1, *d2;
	size_t		 end, dot1, dot2;

	memset(ans, 0, sizeof(*ans));
	if (ks == NULL || issuer == NULL || issuer[0] == '\0' ||
	    token == NULL)
		return;
	end = strnlen(token, PROTO_JWT_MAX + 1);
	if (end > PROTO_JWT_MAX ||
	    (d1 = strchr(token, '.')) == NULL ||
	    (d2 = strchr(d1 + 1, '.')) == NULL || strchr(d2 + 1, '.') != NULL)
		return;
	dot1 = (size_t)(d1 - token);
	dot2 = (size_t)(d2 - token);
	if (dot1 == 0 || dot2 == dot1 + 1 || dot2 + 1 == end)
		return;
	if (!signature_ok(ks, token, dot1, dot2, end) ||
	    !claims_ok(issuer, token, dot1, dot2, ans)) {
		memset(ans, 0, sizeof(*ans));
		return;
	}
	ans->valid = true;
}
