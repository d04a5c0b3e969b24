/*
 * The JWK Set document, written with cJSON so that every string is
 * escaped, whatever a kid holds.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "b64url.h"
#include "jwks.h"

static cJSON *
jwk_build(const struct proto_pubkey *k)
{
	char	 x[B64URL_ENCODED_LEN(PROTO_PUBKEY_LEN) + 1];
	cJSON	*o;

	if (b64url_encode(x, sizeof(x), k->pk, sizeof(k->pk)) == -1)
		return NULL;
	if ((o = cJSON_CreateObject()) == NULL)
		return NULL;
	if (cJSON_AddStringToObject(o, "kty", "OKP") == NULL ||
	    cJSON_AddStringToObject(o, "crv", "Ed25519") == NULL ||
	    cJSON_AddStringToObject(o, "x", x) == NULL ||
	    cJSON_AddStringToObject(o, "kid", k->kid) == NULL ||
	    cJSON_AddStringToObject(o, "use", "sig") == NULL ||
	    cJSON_AddStringToObject(o, "alg", "EdDSA") == NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* An RSA key (RFC 7518 6.3.1): n and e base64url, no leading zeros. */
static cJSON *
jwk_rsa_build(const struct proto_rsa_pubkey *k)
{
	char	 n[B64URL_ENCODED_LEN(PROTO_RSA_N_LEN) + 1];
	char	 e[B64URL_ENCODED_LEN(PROTO_RSA_E_MAX) + 1];
	cJSON	*o;

	if (k->e_len == 0 || k->e_len > PROTO_RSA_E_MAX ||
	    b64url_encode(n, sizeof(n), k->n, sizeof(k->n)) == -1 ||
	    b64url_encode(e, sizeof(e), k->e, k->e_len) == -1)
		return NULL;
	if ((o = cJSON_CreateObject()) == NULL)
		return NULL;
	if (cJSON_AddStringToObject(o, "kty", "RSA") == NULL ||
	    cJSON_AddStringToObject(o, "n", n) == NULL ||
	    cJSON_AddStringToObject(o, "e", e) == NULL ||
	    cJSON_AddStringToObject(o, "kid", k->kid) == NULL ||
	    cJSON_AddStringToObject(o, "use", "sig") == NULL ||
	    cJSON_AddStringToObject(o, "alg", "RS256") == NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

char *
jwks_build(const struct proto_pubkeys_ans *keys, size_t *len)
{
	cJSON	*doc, *arr, *k;
	char	*text, *out = NULL;
	size_t	 i, n;

	if ((doc = cJSON_CreateObject()) == NULL)
		return NULL;
	if ((arr = cJSON_AddArrayToObject(doc, "keys")) == NULL)
		goto out;
	for (i = 0; keys != NULL && i < keys->nkeys && i < PROTO_KEYS_MAX;
	    i++) {
		if ((k = jwk_build(&keys->keys[i])) == NULL)
			goto out;
		if (!cJSON_AddItemToArray(arr, k)) {
			cJSON_Delete(k);
			goto out;
		}
	}
	for (i = 0; keys != NULL && i < keys->nrsa && i < PROTO_KEYS_MAX;
	    i++) {
		if ((k = jwk_rsa_build(&keys->rsa[i])) == NULL)
			goto out;
		if (!cJSON_AddItemToArray(arr, k)) {
			cJSON_Delete(k);
			goto out;
		}
	}
	if ((text = cJSON_PrintUnformatted(doc)) == NULL)
		goto out;
	/* cJSON may have its own allocator: hand back plain malloc memory. */
	n = strlen(text);
	if ((out = malloc(n + 1)) != NULL) {
		memcpy(out, text, n + 1);
		if (len != NULL)
			*len = n;
	}
	cJSON_free(text);
out:
	cJSON_Delete(doc);
	return out;
}
