/*
 * Client assertions (RFC 7523 2.2; private_key_jwt of OpenID Connect Core
 * 1.0, 9) with which warden authenticates at an upstream identity
 * provider's token endpoint, signed by the hasher so that no client
 * secret lives in the front.  The provider checks them against warden's
 * own JWKS.
 */
#ifndef WARDEN_HASHER_ASSERTION_H
#define WARDEN_HASHER_ASSERTION_H

#include <time.h>

#include "keys.h"
#include "proto.h"

#define ASSERTION_TTL	60	/* seconds from iat to exp */

/*
 * Signs the assertion of req at time now with the current key of req->alg:
 * header exactly {"alg":"EdDSA"|"RS256","typ":"JWT","kid":"<kid>"},
 * claims in this order: iss and sub (req->client_id), aud (req->aud), jti
 * (a random UUID), iat (now), exp (now + ASSERTION_TTL).  Fills ans and
 * points *kid (may be NULL) at the kid used.  Returns 0, or -1 with the
 * reason in err and ans zeroed when alg is unknown, client_id or aud is
 * empty, unterminated or not printable ASCII, aud is not an http:// or
 * https:// URL, RS256 is asked of a key set without a current RSA key,
 * the clock is out of range, the token would exceed PROTO_JWT_MAX or
 * signing fails.  Does not log.
 */
int	assertion_sign(const struct keyset *ks,
	    const struct proto_sign_assertion_req *req, time_t now,
	    struct proto_sign_assertion_ans *ans, const char **kid, char *err,
	    size_t errlen);

#endif
