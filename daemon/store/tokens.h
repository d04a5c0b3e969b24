/*
 * Refresh tokens and their families (table refresh_tokens).  The database
 * keeps only a token's hash, passed as the bytea literal of its SHA-256
 * ("\x" and 64 hex digits).  A login starts a family; each refresh spends
 * its token and issues the next of the family.  Revocation always takes a
 * whole family, and every check treats a family with any revoked member
 * as revoked: a token that a concurrent rotation inserted after the
 * revoking statement took its snapshot dies with the rest.  See store.h
 * for the statuses and the calling rules.
 */
#ifndef WARDEN_STORE_TOKENS_H
#define WARDEN_STORE_TOKENS_H

#include <stdbool.h>
#include <stdint.h>

#include "oidc_client.h"
#include "proto.h"
#include "store.h"
#include "user_row.h"

struct db_pool;

/* A successful password login, and the family it starts. */
struct tokens_login {
	const char	*user_id;
	const char	*stored;	/* the hash that was verified */
	const char	*rehash;	/* a new hash to write back, or NULL */
	const char	*token_id;	/* the new token's id */
	const char	*family;	/* the new family's id */
	const char	*hash;		/* the new token's hash */
	int64_t		 ttl;		/* seconds the token lives */
	const char	*remote;	/* for the audit */
};

/*
 * Issues the first token of a new family for a login, only while the user
 * row still holds the verified hash and is active (a password change or a
 * disabling that commits meanwhile must not be outlived by a token issued
 * after it); clears the failed logins, writes back the rehash and records
 * 'login_ok'.  NOT_FOUND when the row is gone, changed or disabled.
 */
int	tokens_issue(struct db_pool *pool, const struct tokens_login *l,
	    store_done_cb *cb, void *arg);

/* A presented token and its user. */
struct tokens_presented {
	char		 id[PROTO_UUID_LEN + 1];
	char		 family[PROTO_UUID_LEN + 1];
	bool		 used;		/* spent by a rotation */
	bool		 in_grace;	/* spent within the grace window */
	bool		 revoked;	/* its family is revoked */
	bool		 expired;
	struct user	 user;
	/* An OpenID Connect client's family (migration 0010): its client
	 * ("" for a first-party family), the scopes granted, the login's
	 * time (Unix seconds) and whether it had a second factor. */
	char		 client_id[OIDC_CLIENT_ID_MAX + 1];
	unsigned	 scopes;
	int64_t		 auth_time;
	bool		 second_factor;
	int64_t		 expires_at;	/* Unix seconds */
	int64_t		 issued_at;	/* Unix seconds */
};

/* t: when st is STORE_OK, valid during the call. */
typedef void	tokens_found_cb(enum store_status st,
		    const struct tokens_presented *t, void *arg);

/*
 * Finds the token with hash, and its user; a spend at most grace seconds
 * old is in_grace.  NOT_FOUND when no token has that hash.
 */
int	tokens_find(struct db_pool *pool, const char *hash, int64_t grace,
	    tokens_found_cb *cb, void *arg);

/* The tokens an OpenID Connect client got for a user, at the token
 * endpoint's authorization_code grant. */
struct tokens_oidc {
	const char	*user_id;
	uint32_t	 token_version;	/* the code's, as redeemed */
	const char	*client_id;
	unsigned	 scopes;	/* OIDC_SCOPE_* bits granted */
	int64_t		 auth_time;	/* Unix seconds */
	bool		 second_factor;
	/* the first token of a new family, or all NULL: none (no
	 * offline_access) */
	const char	*token_id;
	const char	*family;
	const char	*hash;
	int64_t		 ttl;		/* seconds the token lives */
	const char	*remote;	/* for the audit */
};

/*
 * Records 'oidc_login' (the detail names the client and the scopes) and,
 * when o->family is set, issues the first token of that family for the
 * client, only while the user is active and at o->token_version.
 * NOT_FOUND when the user is gone, disabled or changed.
 */
int	tokens_oidc_login(struct db_pool *pool, const struct tokens_oidc *o,
	    store_done_cb *cb, void *arg);

/*
 * Revokes the family of the token with hash only when it belongs to
 * client_id (RFC 7009 2.1: a client revokes its own tokens), recording
 * 'revoked'; OK also when no such token exists.
 */
int	tokens_revoke_client(struct db_pool *pool, const char *hash,
	    const char *client_id, const char *remote, store_done_cb *cb,
	    void *arg);

/*
 * Spends token old_id and issues new_id (with new_hash, living ttl
 * seconds) in its family, in one UPDATE that only one of several
 * concurrent rotations can win: old_id must be unspent, unexpired, and of
 * an unrevoked family.  The new token keeps the family's client, scopes,
 * auth_time and amr.  NOT_FOUND when it no longer is.
 */
int	tokens_rotate(struct db_pool *pool, const char *old_id,
	    const char *new_id, const char *new_hash, int64_t ttl,
	    store_done_cb *cb, void *arg);

/*
 * Revokes family (of user_id) after the reuse of a spent token, and
 * records 'refresh_reuse' with how many tokens it revoked.
 */
int	tokens_revoke_reused(struct db_pool *pool, const char *family,
	    const char *user_id, const char *remote, store_done_cb *cb,
	    void *arg);

/*
 * Revokes the family of the token with hash (RFC 7009), recording
 * 'revoked' with how many tokens; OK also when no token has that hash.
 */
int	tokens_revoke(struct db_pool *pool, const char *hash,
	    const char *remote, store_done_cb *cb, void *arg);

#endif
