/*
 * Access-token signing (RFC 9068 profile, EdDSA per RFC 8037).  The hasher
 * sets iss, aud, iat, exp (ttl clamped to max_ttl), jti and the header's
 * kid itself; it takes only sub, username, roles and ver (and, for an
 * OAuth client's token, its client id and scope) from the request and
 * validates each.  ID tokens (OpenID Connect Core 1.0) are signed RS256
 * or EdDSA, their claims typed fields checked the same way.
 */
#ifndef WARDEN_HASHER_JWT_SIGN_H
#define WARDEN_HASHER_JWT_SIGN_H

#include <stdint.h>
#include <time.h>

#include "keys.h"
#include "proto.h"

struct cJSON;

struct jwt_sign_params {
	const char	*issuer;
	const char	*audience;
	const char	*client_id;	/* RFC 9068 2.2; NULL or "" = none */
	uint32_t	max_ttl;	/* access_token_ttl, seconds */
};

/*
 * Builds and signs the JWT for req with the current signing key at time
 * now: header exactly {"alg":"EdDSA","typ":"at+jwt","kid":"<kid>"}, claims
 * iss, aud, sub, client_id (when set), scope (when set), iat, exp, jti
 * (random UUID), username, roles, ver, email_verified.  req->aud, when
 * set, is the aud and the client_id; else aud is p->audience and
 * client_id p->client_id, as before clients existed.  exp is
 * now + ttl, a ttl of 0 or above max_ttl meaning max_ttl.  Fills ans (jwt,
 * jti, exp).  Returns 0, or -1 with the reason in err and ans zeroed when a
 * request field breaks its rule (sub not a UUID, bad username, a bad or
 * repeated role, more than PROTO_ROLES_MAX, aud not a client id, a bad
 * scope), exp would pass 2106, the
 * token would exceed PROTO_JWT_MAX, or signing fails.  Does not log: the
 * caller logs each signature (sub, jti).
 */
int	jwt_sign(const struct keyset *ks, const struct jwt_sign_params *p,
	    const struct proto_sign_req *req, time_t now,
	    struct proto_sign_ans *ans, char *err, size_t errlen);

/*
 * Signs the ID token of req at time now with the current key of req->alg:
 * header exactly {"alg":"RS256"|"EdDSA","typ":"JWT","kid":"<kid>"}, claims
 * in this order: iss (p->issuer), sub, aud, exp (now + ttl clamped to
 * p->max_ttl, the access-token lifetime), iat, then only when set:
 * auth_time, nonce, acr, amr, sid, at_hash, preferred_username, name,
 * email and email_verified, roles.  Fills ans and points *kid (may be
 * NULL) at the kid used.  Returns 0, or -1 with the reason in err and ans
 * zeroed when a field breaks its rule (struct proto_sign_id_req), RS256 is
 * asked of a key set without a current RSA key, the token would exceed
 * PROTO_JWT_MAX, or signing fails.  Does not log.
 */
int	jwt_sign_id(const struct keyset *ks, const struct jwt_sign_params *p,
	    const struct proto_sign_id_req *req, time_t now,
	    struct proto_sign_id_ans *ans, const char **kid, char *err,
	    size_t errlen);

/*
 * The current key of alg (enum proto_alg) at now: *rk for RS256, else *ek
 * (the other NULL).  0, or -1 with the reason in err when the key set has
 * none.  Shared by the ID tokens and the client assertions.
 */
int	jwt_key_current(const struct keyset *ks, uint8_t alg, time_t now,
	    const struct sign_key **ek, const struct rsa_key **rk, char *err,
	    size_t errlen);

/*
 * Writes base64url(hdr) "." base64url(claims) "." base64url(signature)
 * into jwt (PROTO_JWT_MAX + 1 bytes), signed with the Ed25519 key ek or,
 * when rk is set, the RSA key rk (RS256: PKCS#1 v1.5 with SHA-256); the
 * JSON is printed unformatted, in the objects' order.  Returns 0, or -1
 * with the reason in err and jwt wiped (too long, no memory, signing
 * failed).  For the hasher's other signers (assertion.c).
 */
int	jwt_jws_compact(struct cJSON *hdr, struct cJSON *claims,
	    const struct sign_key *ek, const struct rsa_key *rk,
	    char jwt[PROTO_JWT_MAX + 1], char *err, size_t errlen);

#endif
