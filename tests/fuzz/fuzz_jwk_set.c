/*
 * libFuzzer target of daemon/upstream/id_token.c's key-set reader: an
 * upstream provider's JWKS, of any bytes.  A set that parses holds
 * between 1 and JWK_SET_MAX_KEYS keys.
 */
#include <stdint.h>
#include <stdlib.h>

#include "upstream/id_token.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jwk_set	*ks;
	char		 err[160];

	if ((ks = jwk_set_parse((const char *)data, size, err,
	    sizeof(err))) != NULL) {
		if (jwk_set_count(ks) < 1 ||
		    jwk_set_count(ks) > JWK_SET_MAX_KEYS)
			abort();
		jwk_set_free(ks);
	}
	return 0;
}
