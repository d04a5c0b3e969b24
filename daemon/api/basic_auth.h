/*
 * The client id of an HTTP Basic credential (RFC 7617), as OAuth client
 * authentication sends it (RFC 6749 2.3.1): base64 of the form-encoded
 * client id, ':', and the form-encoded secret.  The secret is not
 * returned: a public client has none to check.
 */
#ifndef WARDEN_API_BASIC_AUTH_H
#define WARDEN_API_BASIC_AUTH_H

#include "fields.h"

#define BASIC_MAX	1024	/* bytes of a decoded credential */

/*
 * Decodes the client id of b64 (the header's value after "Basic ") into
 * id.  Returns 0, or -1 when it is not base64 of at most BASIC_MAX bytes
 * holding a ':', the id holds a NUL or '&' or does not form-decode, or the
 * decoded id is not a plain name (no client id of ours is anything else).
 * Wipes its copies of the credential.
 */
int	basic_client_id(const char *b64, char id[FIELD_PLAIN_NAME_MAX + 1]);

/*
 * As basic_client_id(), and also decodes the form-encoded secret after
 * the ':' into secret (NUL-terminated, its length in *secretlen), for a
 * registered OpenID Connect client whose secret is checked.  Returns -1
 * as basic_client_id() does, or when the secret does not form-decode.
 * The caller wipes secret.
 */
int	basic_client_credentials(const char *b64,
	    char id[FIELD_PLAIN_NAME_MAX + 1], char secret[BASIC_MAX + 1],
	    size_t *secretlen);

#endif
