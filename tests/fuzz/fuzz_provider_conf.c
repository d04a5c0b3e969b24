/*
 * libFuzzer target of daemon/upstream/providers.c: a provider's file, of
 * any bytes.  An accepted one names its client, has the scopes and
 * endpoints its kind needs, and reads no secret (provider_parse never
 * opens client_secret_file).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "upstream/providers.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct provider p;
	char	 err[384];

	if (provider_parse("fuzz", (const char *)data, size, &p, err,
	    sizeof(err)) == 0) {
		if (p.client_id[0] == '\0' || p.client_secret != NULL ||
		    p.display_name[0] == '\0' || p.timeout < 1 ||
		    p.timeout > 300)
			abort();
		if (p.kind == PROVIDER_OIDC && (p.issuer[0] == '\0' ||
		    strstr(p.scopes, "openid") == NULL))
			abort();
		if (p.kind == PROVIDER_OAUTH2 && (p.token_endpoint[0] == '\0' ||
		    p.userinfo_endpoint[0] == '\0'))
			abort();
	} else if (memchr(err, '\0', sizeof(err)) == NULL)
		abort();
	return 0;
}
