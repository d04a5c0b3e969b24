/*
 * Checks an ID token this hasher signed, for RP-initiated logout's
 * id_token_hint: the front learns whether the hint is ours, and whose,
 * without holding a key or linking a signature check of its own.
 */
#ifndef WARDEN_HASHER_JWT_CHECK_H
#define WARDEN_HASHER_JWT_CHECK_H

#include "keys.h"
#include "proto.h"

/*
 * Fills ans for token: valid, with sub, aud and sid, when token is a
 * compact JWS whose header is {"alg":"RS256"|"EdDSA","typ":"JWT","kid"}
 * naming a key of that algorithm in ks (current or retired), whose
 * signature verifies, and whose claims hold iss equal to issuer, sub a
 * UUID, aud a client id and sid, when present, a visible-ASCII token of
 * at most PROTO_SID_MAX.  Access tokens (typ at+jwt) are not valid here.
 * exp is NOT checked, on purpose: OpenID Connect RP-Initiated Logout 1.0,
 * 2 lets a relying party send an expired ID token as the hint.  Anything
 * else, garbage included, gives valid false and empty fields; this never
 * fails otherwise and never logs.
 */
void	jwt_check(const struct keyset *ks, const char *issuer,
	    const char *token, struct proto_jwt_check_ans *ans);

#endif
