/*
 * libFuzzer target of daemon/upstream/answers.c: what an upstream
 * identity provider answers (its discovery document, its token
 * endpoint's answer, its userinfo through a claim mapping).  The first
 * byte picks the parser; the rest is the answer.  Whatever is accepted
 * must hold NUL-terminated values within their bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "upstream/answers.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
bounded(const char *s, size_t size)
{
	if (memchr(s, '\0', size) == NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct upstream_discovery d;
	static struct upstream_tokens t;
	static struct id_token_claims c;
	static struct provider p;
	char		 err[160];
	const char	*body = (const char *)data + 1;

	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		if (upstream_discovery_parse(body, size - 1,
		    "https://issuer.example", &d, err, sizeof(err)) == 0) {
			if (strcmp(d.issuer, "https://issuer.example") != 0 ||
			    d.token_endpoint[0] == '\0' ||
			    d.jwks_uri[0] == '\0')
				abort();
			bounded(d.userinfo_endpoint,
			    sizeof(d.userinfo_endpoint));
		}
		break;
	case 1:
		if (upstream_tokens_parse(body, size - 1, &t, err,
		    sizeof(err)) == 0) {
			if (t.error[0] == '\0' && t.access_token[0] == '\0')
				abort();
			bounded(t.id_token, sizeof(t.id_token));
		}
		break;
	default:
		memset(&p, 0, sizeof(p));
		str_copy(p.claim_subject, data[0] & 4 ? "id" : "sub",
		    sizeof(p.claim_subject));
		str_copy(p.claim_email, "email", sizeof(p.claim_email));
		str_copy(p.claim_email_verified, data[0] & 8 ? "-" :
		    "email_verified", sizeof(p.claim_email_verified));
		str_copy(p.claim_username, data[0] & 4 ? "login" :
		    "preferred_username", sizeof(p.claim_username));
		str_copy(p.claim_name, "name", sizeof(p.claim_name));
		if (upstream_userinfo_map(body, size - 1, &p, &c, err,
		    sizeof(err)) == 0) {
			if (c.sub[0] == '\0')
				abort();
			bounded(c.email, sizeof(c.email));
			bounded(c.name, sizeof(c.name));
		}
		break;
	}
	return 0;
}
