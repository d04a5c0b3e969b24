/*
 * Authentication: the dispatch hook of wardend's HTTP server.  Every
 * request gets a struct caller (front.h).  For ROUTE_AUTH_BEARER and
 * ROUTE_AUTH_ADMIN routes it verifies the access token (jwt_verify), then
 * reads the caller's user row: a deleted or disabled user, or a token whose
 * ver differs from the row's token_version, is 401; an admin route without
 * the admin role (in the row, not just the token) is 403.  Only then does
 * the route's handler run, with caller->user filled.
 */
#ifndef WARDEN_AUTH_H
#define WARDEN_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "jwt_verify.h"

struct front;
struct http_req;

/* The http_dispatch_fn; arg is the struct front. */
void	auth_dispatch(struct http_req *r, void *arg);

/*
 * r has changed user id, which it found by neither its caller nor its
 * route's {id} (a reset or verification token): the user cache forgets
 * that row now, before r answers, and again when r completes.
 */
void	auth_user_written(struct http_req *r, const char *id);

/* What the Authorization header of a request holds (RFC 6750 2.1). */
enum auth_presented {
	AUTH_NO_TOKEN = 0,	/* no header, or another scheme (Basic, ...) */
	AUTH_BAD_HEADER,	/* "Bearer" without exactly one token */
	AUTH_TOKEN,		/* "Bearer <token>" */
	AUTH_KEYS_PENDING,	/* a token, but the hasher has not yet sent
				 * the keys to check it (just started) */
};

/*
 * Reads "Authorization: Bearer <token>" (scheme ASCII case-insensitive,
 * one space or more).  For AUTH_TOKEN sets *token (pointing into header)
 * and its length in *len.
 */
enum auth_presented auth_bearer_token(const char *header, const char **token,
	    size_t *len);

/*
 * Verifies the bearer token of r with the front's public keys at time now.
 * Returns JWT_OK with *claims filled; JWT_ERR_... otherwise, and *how
 * says what the request held (AUTH_KEYS_PENDING: a token that cannot be
 * judged yet, which auth_refuse() answers 503, never 401).
 */
enum jwt_result auth_verify_request(struct front *f, struct http_req *r,
	    time_t now, struct jwt_claims *claims, enum auth_presented *how);

/*
 * As auth_verify_request() for an OpenID Connect client's access token
 * (jwt_verify.h, client true): the userinfo endpoint's.
 */
enum jwt_result auth_verify_client_request(struct front *f,
	    struct http_req *r, time_t now, struct jwt_claims *claims,
	    enum auth_presented *how);

/* Whether the hasher has sent its public keys since the front started. */
bool	auth_keys_known(const struct front *f);

/*
 * Verifies token (len bytes) as auth_verify_request() does a header's,
 * as a client's access token when client is true (introspection).
 */
enum jwt_result auth_verify_token(struct front *f, const char *token,
	    size_t len, bool client, time_t now, struct jwt_claims *claims);

/* The answer to a request whose token did not verify (RFC 6750 3.1):
 * 401 without an error code when none was presented, 400 invalid_request
 * for a malformed header, 401 invalid_token for a bad token. */
void	auth_refuse(struct http_req *r, enum auth_presented how);

#endif
