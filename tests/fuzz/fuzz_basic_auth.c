/*
 * libFuzzer target of daemon/api/basic_auth.c, the decoders of the client
 * id, and of the id with its secret, in an Authorization: Basic header at
 * the token endpoints.  An accepted input yields a plain name (and a
 * secret of the length said, without a NUL inside); nothing is read past
 * the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/basic_auth.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	 id[FIELD_PLAIN_NAME_MAX + 1], secret[BASIC_MAX + 1], *s;
	size_t	 secretlen;

	/* The header value is a C string: libevent has cut it at a NUL. */
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (basic_client_id(s, id) == 0 && !field_is_plain_name(id))
		abort();
	if (basic_client_credentials(s, id, secret, &secretlen) == 0 &&
	    (!field_is_plain_name(id) || secretlen > BASIC_MAX ||
	    secret[secretlen] != '\0' || strlen(secret) != secretlen))
		abort();
	free(s);
	return 0;
}
