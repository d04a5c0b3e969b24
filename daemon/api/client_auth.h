/*
 * Who the client is, at the token and revocation endpoints (RFC 6749 2.3).
 *
 * Until clients are registered, there is one: the first-party public
 * client of client_id in warden.conf(5).  A request may name it in the
 * body (client_id, with or without a client_secret: client_secret_post)
 * or in an Authorization: Basic header (client_secret_basic); a secret is
 * accepted and not checked, since a public client has none (RFC 6749
 * 2.1), so that libraries configured with one work.  A request that names
 * another client is refused: invalid_client.
 */
#ifndef WARDEN_API_CLIENT_AUTH_H
#define WARDEN_API_CLIENT_AUTH_H

#include <stdbool.h>

struct cfg;
struct http_req;

/* What the body said of the client: NULL or the decoded values. */
struct client_claim {
	const char	*client_id;
	bool		 has_secret;
};

/*
 * Checks the client that r names (its Authorization: Basic header, when it
 * has one, and *body) against cfg.  Returns 0, or -1 after replying:
 *   - 401 invalid_client for a client other than cfg->client_id, or a
 *     Basic header that does not decode (RFC 6749 2.3.1: base64 of the
 *     form-encoded id, ':', the form-encoded secret);
 *   - 400 invalid_request when both a Basic header and a client_secret
 *     in the body are used (RFC 6749 2.3: one method per request), or
 *     the body names a different client than the header.
 * An Authorization header of another scheme is not client
 * authentication, and is left alone.
 */
int	client_auth_check(struct http_req *r, const struct cfg *cfg,
	    const struct client_claim *body);

#endif
