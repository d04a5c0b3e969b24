/*
 * Authorization codes (table oauth_codes, migration 0009): issued by the
 * authorize endpoint, exchanged once at the token endpoint.  The caller
 * makes the code (secret_token_new) and gives only the literal of its
 * hash.  A code lives OIDC_CODE_TTL seconds and is spent by its first
 * exchange; a second exchange revokes the refresh-token family that the
 * first one issued (RFC 6749 4.1.2, 10.5).  See store.h for the statuses
 * and the calling rules.
 *
 * The token endpoint's order: codes_redeem, sign, issue the refresh
 * token, codes_issued, answer.  Whichever of a replay and codes_issued
 * comes second revokes the family, so a replay racing the first exchange
 * still ends what it got.
 */
#ifndef WARDEN_STORE_CODES_H
#define WARDEN_STORE_CODES_H

#include <stdbool.h>
#include <stdint.h>

#include "oidc_client.h"
#include "proto.h"
#include "store.h"
#include "user_row.h"

struct db_pool;

/* An authorization that the user gave, and the code that carries it. */
struct codes_new {
	const char	*hash;		/* the code's hash literal */
	const char	*client_id;
	const char	*user_id;
	uint32_t	 token_version;	/* the user's, as the session read it */
	const char	*redirect_uri;	/* as the request gave it */
	unsigned	 scopes;	/* OIDC_SCOPE_* bits granted */
	const char	*nonce;		/* or NULL; <= OIDC_NONCE_MAX bytes */
	const char	*code_challenge; /* PKCE S256, OIDC_CHALLENGE_LEN */
	int64_t		 auth_time;	/* the login, Unix seconds */
	bool		 second_factor;	/* amr: pwd, and otp */
	const char	*session_id;	/* the portal's session, or NULL */
	const char	*remote;	/* for the audit */
};

/*
 * Stores the code n->hash, living OIDC_CODE_TTL seconds, for a client
 * that exists and a user that is active and still at n->token_version;
 * records 'code_issued'; prunes codes an hour past their expiry.
 * NOT_FOUND when the client or the user is gone, disabled or changed;
 * CONFLICT for a hash already stored.
 */
int	codes_insert(struct db_pool *pool, const struct codes_new *n,
	    store_done_cb *cb, void *arg);

/* A code as an exchange found it. */
struct oauth_code {
	/*
	 * A second exchange of a spent code: only the four fields below
	 * are set.  The refresh tokens of refresh_family that the
	 * statement could see are revoked (revoked: how many were live)
	 * and 'code_reused' recorded; the caller then runs
	 * codes_revoke_issued() for those its snapshot could not see, and
	 * refuses the access token access_jti.  "" for what the first
	 * exchange has not recorded yet (codes_issued).
	 */
	bool		 reused;
	char		 refresh_family[PROTO_UUID_LEN + 1];
	char		 access_jti[PROTO_UUID_LEN + 1];
	long long	 revoked;

	char		 client_id[OIDC_CLIENT_ID_MAX + 1];
	char		 redirect_uri[OIDC_URI_MAX + 1];
	unsigned	 scopes;	/* OIDC_SCOPE_* bits granted */
	bool		 has_nonce;
	char		 nonce[OIDC_NONCE_MAX + 1];
	char		 code_challenge[OIDC_CHALLENGE_LEN + 1];
	int64_t		 auth_time;	/* Unix seconds */
	bool		 second_factor;	/* amr: pwd, and otp */
	char		 session_id[PROTO_UUID_LEN + 1];	/* "" none */
	struct user	 user;		/* as it is now */
};

/* c: when st is STORE_OK, valid during the call. */
typedef void	codes_redeemed_cb(enum store_status st,
		    const struct oauth_code *c, void *arg);

/*
 * Exchanges the code of hash presented by client_id, in one statement
 * that only one of several concurrent exchanges can win: an unspent,
 * unexpired code of client_id whose user is active and at the code's
 * token version is marked spent and given with its user (c->reused
 * false); the caller then checks the redirect URI and the PKCE verifier.
 * A spent code (within the hour it is kept) is marked reused, the
 * refresh-token family it issued is revoked, 'code_reused' recorded with
 * remote, and it is given with c->reused true.  NOT_FOUND for anything
 * else: unknown, of another client, expired unspent, its user changed.
 */
int	codes_redeem(struct db_pool *pool, const char *hash,
	    const char *client_id, const char *remote, codes_redeemed_cb *cb,
	    void *arg);

/*
 * Records what the exchange of the spent code hash issued: the refresh
 * family (or NULL: none, without offline_access) and the access token's
 * jti.  OK; REFUSED when the code was replayed meanwhile, in which case
 * family is revoked by the same statement and the caller answers
 * invalid_grant; NOT_FOUND when no spent code has that hash.
 */
int	codes_issued(struct db_pool *pool, const char *hash,
	    const char *family, const char *jti, store_done_cb *cb,
	    void *arg);

/*
 * Revokes the refresh family a spent code issued, in a statement of its
 * own: codes_redeem()'s reuse branch runs on the snapshot its statement
 * began with, and misses a family whose tokens committed while it
 * waited for the code's row lock.  OK also when there is none.
 */
int	codes_revoke_issued(struct db_pool *pool, const char *hash,
	    store_done_cb *cb, void *arg);

/*
 * Whether the access token jti (a uuid) was issued by the first exchange
 * of a code that came back: OK when it was (the token is revoked),
 * NOT_FOUND when not.
 */
int	codes_access_revoked(struct db_pool *pool, const char *jti,
	    store_done_cb *cb, void *arg);

#endif
