/*
 * Client authentication of the OpenID Connect provider's registered
 * clients (RFC 6749 2.3, OpenID Connect Core 9) at the token,
 * introspection and revocation endpoints: client_secret_basic (an
 * Authorization: Basic header of the form-encoded id and secret, RFC 6749
 * 2.3.1), client_secret_post (client_id and client_secret in the body),
 * and none for a public client (client_id alone; PKCE proves it).  The
 * first-party client of warden.conf(5) stays client_auth.h's.
 */
#ifndef WARDEN_API_OIDC_AUTH_H
#define WARDEN_API_OIDC_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "basic_auth.h"
#include "oidc_client.h"

struct cfg;
struct front;
struct http_req;
struct oauth_client;

/* The client that a request names, and what it presented. */
struct oidc_client_claim {
	bool	 basic;		/* through Authorization: Basic */
	char	 id[OIDC_CLIENT_ID_MAX + 1];
	bool	 has_secret;
	size_t	 secretlen;
	char	 secret[BASIC_MAX + 1];		/* secret */
};

/*
 * Reads the client of r from its Authorization: Basic header and the
 * body's client_id and client_secret (NULL when absent).  Returns 1 with
 * *cc filled when a registered client's id is named; 0 when the request
 * names the first-party client or none (client_auth.h decides); -1 after
 * replying: 401 invalid_client for a header that does not decode or an
 * id of no client's shape, or a client that authenticates two ways at
 * once (RFC 6749 2.3); 400 invalid_request when the body names another
 * client than the header.  The caller wipes cc (sodium_memzero).
 */
int	oidc_auth_claim(struct http_req *r, const struct cfg *cfg,
	    const char *body_id, const char *body_secret,
	    struct oidc_client_claim *cc);

/* c: the authenticated client, the callee's to free(); NULL when the
 * request was answered already (401 invalid_client, or a failure). */
typedef void	oidc_auth_cb(struct oauth_client *c, void *arg);

/*
 * Looks the client of cc up and authenticates it: a confidential client
 * must present its secret (compared in constant time), a public client
 * none.  Calls cb once, with the client or, after replying 401
 * invalid_client (unknown client, a wrong or missing secret) or 503, with
 * NULL.  Wipes cc.  Returns 0, or -1 (after wiping cc, without calling
 * cb and without replying) when nothing could be sent.
 */
int	oidc_auth_client(struct front *f, struct http_req *r,
	    struct oidc_client_claim *cc, oidc_auth_cb *cb, void *arg);

#endif
