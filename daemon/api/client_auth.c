/*
 * The client of a token or revocation request: see client_auth.h.
 */
#include <string.h>
#include <strings.h>

#include "basic_auth.h"
#include "client_auth.h"
#include "config.h"
#include "fields.h"
#include "http/http.h"
#include "problem_reply.h"

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
