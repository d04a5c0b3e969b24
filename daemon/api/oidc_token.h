/*
 * The token endpoint for the OpenID Connect provider's registered
 * clients (OpenID Connect Core 3.1.3, RFC 6749 4.1.3 and 6, RFC 7636):
 * the authorization_code grant and the refresh_token grant of a client's
 * family.  h_token hands a request here once oidc_auth_claim() found a
 * registered client in it.
 */
#ifndef WARDEN_API_OIDC_TOKEN_H
#define WARDEN_API_OIDC_TOKEN_H

#include <stdbool.h>

#include "oidc_auth.h"

struct form;
struct http_req;
struct proto_sign_id_req;
struct user;

#define OIDC_VERIFIER_MIN	43	/* RFC 7636 4.1 */
#define OIDC_VERIFIER_MAX	128

/*
 * Answers the token request r of the client cc (its form f): the
 * authorization_code or refresh_token grant, or unauthorized_client for
 * another grant.  Wipes cc; f stays the caller's.
 */
void	oidc_token(struct http_req *r, const struct form *f,
	    struct oidc_client_claim *cc);

/* True when v is a PKCE code verifier: 43..128 of
 * [A-Za-z0-9-._~] (RFC 7636 4.1). */
bool	oidc_verifier_ok(const char *v);

/*
 * True when BASE64URL(SHA-256(verifier)) is challenge, compared in
 * constant time (RFC 7636 4.6).
 */
bool	oidc_pkce_ok(const char *verifier, const char *challenge);

/* The user claims of scopes (OIDC_SCOPE_* bits) into an ID token
 * request: profile: preferred_username and name; email: email and
 * email_verified; roles: roles (OpenID Connect Core 5.4). */
void	oidc_user_claims(struct proto_sign_id_req *q, const struct user *u,
	    unsigned scopes);

#endif
