/*
 * The client id of an HTTP Basic credential: see basic_auth.h.
 */
#include <string.h>

#include <sodium.h>

#include "basic_auth.h"
#include "http/form.h"

int
basic_client_id(const char *b64, char id[FIELD_PLAIN_NAME_MAX + 1])
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
out:
	sodium_memzero(raw, sizeof(raw));
	sodium_memzero(pair, sizeof(pair));
	return rc;
}

