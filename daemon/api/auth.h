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
 * Finds the token of "Authorization: Bearer <token>" (scheme ASCII
 * case-insensitive, one space or more).  Returns the token (pointing into
 * header) and its length in *len, or NULL when header is NULL or not a
 * Bearer credential.
 */
const char *auth_bearer_token(const char *header, size_t *len);

/*
 * Verifies the bearer token of r with the front's public keys at time now.
 * Returns JWT_OK with *claims filled; JWT_ERR_... otherwise, and *sent says
 * whether a token was present at all (401 Bearer vs invalid_token).
 */
enum jwt_result auth_verify_request(struct front *f, struct http_req *r,
	    time_t now, struct jwt_claims *claims, bool *sent);

#endif
