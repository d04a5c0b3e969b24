/*
 * Access-token verification in the front (RFC 7519, RFC 9068 profile,
 * RFC 8725 practices), with the public keys from the hasher's PUBKEYS.
 *
 * Accepted: a compact JWS of exactly three base64url parts (no padding, no
 * whitespace), at most JWT_VERIFY_MAX_LEN bytes, whose header has exactly
 * the members alg ("EdDSA" or "Ed25519"), typ ("at+jwt" or
 * "application/at+jwt", case-insensitive) and kid (one of the known keys),
 * with a valid Ed25519 signature by that key.  Only then are the claims
 * read: iss == issuer; aud == audience, or an array of strings holding it;
 * exp > now - leeway; iat <= now + leeway; nbf, when present, <= now +
 * leeway; sub a uuid; username, roles (an array of role names) and ver (a
 * 32-bit non-negative integer) valid by the field rules; jti a string.
 * Members other than these claims are ignored; a duplicate of any member
 * the verifier reads, in the header or the claims, is refused.
 *
 * Nothing is allocated beyond cJSON's parse trees, which are freed before
 * returning.  The caller trusts only struct jwt_claims.
 */
#ifndef WARDEN_JWT_VERIFY_H
#define WARDEN_JWT_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "fields.h"
#include "proto.h"

#define JWT_VERIFY_MAX_LEN	8192	/* bytes of the whole token */
#define JWT_LEEWAY_MAX		60	/* seconds of clock skew, at most */
#define JWT_JTI_MAX		64

enum jwt_result {
	JWT_OK = 0,
	JWT_MALFORMED,		/* length, parts, base64url, JSON */
	JWT_BAD_HEADER,		/* alg, typ, crit or any other member */
	JWT_UNKNOWN_KID,
	JWT_BAD_SIGNATURE,
	JWT_EXPIRED,		/* exp passed (beyond the leeway) */
	JWT_NOT_YET_VALID,	/* iat or nbf in the future (beyond leeway) */
	JWT_BAD_ISSUER,
	JWT_BAD_AUDIENCE,
	JWT_BAD_CLAIMS,		/* a claim missing, of the wrong type or value */
};

/*
 * The audience: a first-party token (client false) has aud == audience
 * (its client_id claim, if any, is not read); an OpenID Connect
 * client's token (client true, userinfo and introspection alone take
 * them) has a single aud that is a
 * client id, other than audience, a client_id claim equal to it, and a
 * scope claim (RFC 9068 2.2).  Neither kind passes for the other.
 */
struct jwt_verify_params {
	const char	*issuer;	/* cfg.issuer */
	const char	*audience;	/* cfg.audience */
	unsigned int	 leeway;	/* seconds; clamped to JWT_LEEWAY_MAX */
	bool		 client;	/* an OpenID Connect client's token */
};

struct jwt_claims {
	char		sub[PROTO_UUID_LEN + 1];
	char		username[FIELD_USERNAME_MAX + 1];
	size_t		nroles;
	char		roles[PROTO_ROLES_MAX][PROTO_ROLE_MAX + 1];
	uint32_t	ver;
	int64_t		exp;
	int64_t		iat;
	char		jti[JWT_JTI_MAX + 1];
	char		kid[PROTO_KID_MAX + 1];
	/* a client's token only: its client and scope, else "" */
	char		client_id[PROTO_CLIENT_ID_MAX + 1];
	char		scope[PROTO_SCOPE_MAX + 1];
};

/*
 * Verifies the len bytes of token (need not be NUL-terminated) against keys
 * (NULL or empty: every kid is unknown) at time now.  Returns JWT_OK with
 * *out filled, or another jwt_result with *out zeroed.
 */
enum jwt_result	jwt_verify(const struct proto_pubkeys_ans *keys,
		    const struct jwt_verify_params *p, const char *token,
		    size_t len, time_t now, struct jwt_claims *out);

/* A short reason for logs and error_description ("expired", ...). */
const char	*jwt_result_str(enum jwt_result r);

#endif
