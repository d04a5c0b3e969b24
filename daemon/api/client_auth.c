/*
 * The client of a token or revocation request: see client_auth.h.
 */
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "client_auth.h"
#include "config.h"
#include "fields.h"
#include "http/form.h"
#include "http/http.h"
#include "problem_reply.h"

#define BASIC_MAX	1024	/* bytes of a decoded Basic credential */

/*
 * Decodes the client id of a Basic credential (base64 of id ':' secret)
 * into id.  Returns 0, or -1 when it does not decode or the id is not a
 * plain name (no client id of ours is anything else).
 */
static int
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

int
client_auth_check(struct http_req *r, const struct cfg *cfg,
    const struct client_claim *body)
{
	char		 id[FIELD_PLAIN_NAME_MAX + 1];
	const char	*h = http_req_header(r, "Authorization");
	bool		 basic = h != NULL && strncasecmp(h, "Basic ", 6) == 0;

	if (basic) {
		for (h += 6; *h == ' '; h++)
			;
		if (basic_client_id(h, id) == -1 ||
		    strcmp(id, cfg->client_id) != 0) {
			problem_oauth(r, OAUTH_INVALID_CLIENT,
			    "unknown client", 0);
			return -1;
		}
		if (body->has_secret) {
			problem_oauth(r, OAUTH_INVALID_REQUEST, "a client "
			    "authenticates one way: Basic or client_secret", 0);
			return -1;
		}
		if (body->client_id != NULL &&
		    strcmp(body->client_id, id) != 0) {
			problem_oauth(r, OAUTH_INVALID_REQUEST,
			    "client_id is not the client of the header", 0);
			return -1;
		}
		return 0;
	}
	if (body->client_id != NULL &&
	    strcmp(body->client_id, cfg->client_id) != 0) {
		problem_oauth(r, OAUTH_INVALID_CLIENT, "unknown client", 0);
		return -1;
	}
	return 0;
}
