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
