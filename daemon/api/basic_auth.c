/*
 * The client id of an HTTP Basic credential: see basic_auth.h.
 */
#include <string.h>

#include <sodium.h>

#include "basic_auth.h"
#include "http/form.h"

static int
basic_decode(const char *b64, char id[FIELD_PLAIN_NAME_MAX + 1],
    char *secret, size_t *secretlen)
{
	unsigned char	 raw[BASIC_MAX + 1];
	char		 pair[BASIC_MAX + 16], why[FORM_WHY_MAX];
	const char	*v;
	struct form	 f;
	size_t		 len, idlen;
	int		 rc = -1;

	if (sodium_base642bin(raw, BASIC_MAX, b64, strlen(b64), NULL, &len,
	    NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
		goto out;
	raw[len] = '\0';
	if (memchr(raw, '\0', len) != NULL ||
	    (idlen = strcspn((char *)raw, ":")) == len ||
	    memchr(raw, '&', idlen) != NULL)
		goto out;
	/* The id is form-encoded (RFC 6749 2.3.1): the form decoder's rules. */
	memcpy(pair, "client_id=", 10);
	memcpy(pair + 10, raw, idlen);
	if (form_parse(&f, pair, 10 + idlen, why, sizeof(why)) == 0 &&
	    (v = form_get(&f, "client_id")) != NULL &&
	    field_is_plain_name(v)) {
		memcpy(id, v, strlen(v) + 1);
		rc = 0;
	}
	form_free(&f);
	if (rc == 0 && secret != NULL) {
		/* The secret is form-encoded too (RFC 6749 2.3.1). */
		rc = -1;
		len -= idlen + 1;
		memcpy(pair, "s=", 2);
		memcpy(pair + 2, raw + idlen + 1, len);
		if (memchr(pair + 2, '&', len) == NULL &&
		    form_parse(&f, pair, 2 + len, why, sizeof(why)) == 0 &&
		    (v = form_get(&f, "s")) != NULL &&
		    (*secretlen = strlen(v)) <= BASIC_MAX) {
			memcpy(secret, v, *secretlen + 1);
			rc = 0;
		} else if (len == 0) {
			secret[0] = '\0';
			*secretlen = 0;
			rc = 0;
		}
		form_free(&f);
	}
out:
	sodium_memzero(raw, sizeof(raw));
	sodium_memzero(pair, sizeof(pair));
	return rc;
}


int
basic_client_id(const char *b64, char id[FIELD_PLAIN_NAME_MAX + 1])
{
	return basic_decode(b64, id, NULL, NULL);
}

int
basic_client_credentials(const char *b64, char id[FIELD_PLAIN_NAME_MAX + 1],
    char secret[BASIC_MAX + 1], size_t *secretlen)
{
	if (basic_decode(b64, id, secret, secretlen) == -1) {
		if (secret != NULL)
			sodium_memzero(secret, BASIC_MAX + 1);
		return -1;
	}
	return 0;
}
