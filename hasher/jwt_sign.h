/*
 * Access-token signing (RFC 9068 profile, EdDSA per RFC 8037).  The hasher
 * sets iss, aud, iat, exp (ttl clamped to max_ttl), jti and the header's
 * kid itself; it takes only sub, username, roles and ver from the request
 * and validates each.
 */
#ifndef WARDEN_HASHER_JWT_SIGN_H
#define WARDEN_HASHER_JWT_SIGN_H

#include <stdint.h>
#include <time.h>

#include "keys.h"
#include "proto.h"

struct jwt_sign_params {
	const char	*issuer;
	const char	*audience;
	const char	*client_id;	/* RFC 9068 2.2; NULL or "" = none */
	uint32_t	max_ttl;	/* access_token_ttl, seconds */
};

/*
 * Builds and signs the JWT for req with the current signing key at time
 * now: header exactly {"alg":"EdDSA","typ":"at+jwt","kid":"<kid>"}, claims
 * iss, aud, sub, client_id (when set), iat, exp, jti (random UUID),
 * username, roles, ver; exp is
 * now + ttl, a ttl of 0 or above max_ttl meaning max_ttl.  Fills ans (jwt,
 * jti, exp).  Returns 0, or -1 with the reason in err and ans zeroed when a
 * request field breaks its rule (sub not a UUID, bad username, a bad or
 * repeated role, more than PROTO_ROLES_MAX), exp would pass 2106, the
 * token would exceed PROTO_JWT_MAX, or signing fails.  Does not log: the
 * caller logs each signature (sub, jti).
 */
int	jwt_sign(const struct keyset *ks, const struct jwt_sign_params *p,
	    const struct proto_sign_req *req, time_t now,
	    struct proto_sign_ans *ans, char *err, size_t errlen);

#endif
