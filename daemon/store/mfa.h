/*
 * Second factors (ACCOUNTS.md): a user's TOTP factor (the secret sealed
 * by the hasher, which alone opens it; users.totp_*), its recovery codes
 * (keyed hashes the hasher computes: table recovery_codes) and the
 * mfa_tokens of password grants waiting for their second factor.  A time
 * step of TOTP is accepted once: every use records it, and only a later
 * one is accepted next.  See store.h for the statuses and the calling
 * rules.
 */
#ifndef WARDEN_STORE_MFA_H
#define WARDEN_STORE_MFA_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"
#include "user_row.h"

struct db_pool;

#define MFA_SEALED_MAX		512	/* users_totp_sealed_check */
#define MFA_CODES		10	/* recovery codes in a set */
#define MFA_CODE_HASH_MAX	128	/* recovery_codes_code_hash_check */
#define MFA_TOKEN_TTL		300	/* seconds an mfa_token lives */
#define MFA_TOKEN_FAILURES	5	/* wrong codes that kill one */
/* The bytea literal of a SHA-256: "\x" and 64 hex digits. */
#define MFA_HASH_LITERAL	(2 + 64 + 1)

/* A user's TOTP factor. */
struct mfa_totp {
	char		 sealed[MFA_SEALED_MAX + 1];
	bool		 confirmed;	/* active; else enrolment pending */
	uint32_t	 last_step;	/* of the last code accepted */
};

typedef void	mfa_totp_cb(enum store_status st, const struct mfa_totp *t,
		    void *arg);

/* Reads user id's TOTP factor; NOT_FOUND when it has none. */
int	mfa_totp_get(struct db_pool *pool, const char *id, mfa_totp_cb *cb,
	    void *arg);

/*
 * Starts an enrolment: stores the sealed secret as pending (replacing a
 * pending one).  NOT_FOUND when the user is gone or has an active factor.
 */
int	mfa_totp_begin(struct db_pool *pool, const char *id,
	    const char *sealed, store_done_cb *cb, void *arg);

/*
 * Confirms the pending factor sealed (with the step of the code that
 * proved it) and stores the n hashes of its recovery codes, recording
 * mfa_enrolled.  NOT_FOUND when that enrolment is no longer pending or
 * the step was used.
 */
int	mfa_totp_confirm(struct db_pool *pool, const char *id,
	    const char *sealed, uint32_t step, const char *const *hashes,
	    size_t n, const char *remote, store_done_cb *cb, void *arg);

/*
 * Removes user id's factor and recovery codes, recording mfa_removed by
 * (the actor's id, or "self").  When a code proved the removal: with
 * step > 0 only while that step is unused, with code_hash only while that
 * recovery code is unused.  NOT_FOUND when there was none (or the code
 * was used).
 */
int	mfa_remove(struct db_pool *pool, const char *id, uint32_t step,
	    const char *code_hash, const char *remote, const char *by,
	    store_done_cb *cb, void *arg);

/* Replaces user id's recovery codes by the n hashes; NOT_FOUND without an
 * active factor. */
int	mfa_recovery_replace(struct db_pool *pool, const char *id,
	    const char *const *hashes, size_t n, const char *remote,
	    store_done_cb *cb, void *arg);

/* --- the second step of a password grant --- */

struct mfa_token_new {
	const char	*hash;		/* bytea literal of the token's SHA-256 */
	const char	*user_id;
	uint32_t	 token_version;	/* the user's, when the password was
					 * right */
	const char	*device;	/* the trusted device's hash, or NULL */
	const char	*stored;	/* the verified hash, and */
	const char	*rehash;	/* its replacement, or NULL */
};

/* Stores a new mfa_token (MFA_TOKEN_TTL), writing back the rehash. */
int	mfa_token_create(struct db_pool *pool, const struct mfa_token_new *n,
	    store_done_cb *cb, void *arg);

/*
 * Stores a new mfa_token (MFA_TOKEN_TTL) for user_id at token_version
 * after a sign-in through an upstream provider (store/identities.h):
 * the provider stood for the first factor, so no password hash is
 * compared; the user must be active with a confirmed factor.  NOT_FOUND
 * otherwise.
 */
int	mfa_token_create_upstream(struct db_pool *pool, const char *hash,
	    const char *user_id, uint32_t token_version, store_done_cb *cb,
	    void *arg);

/* A live mfa_token, with what the second step decides on. */
struct mfa_pending {
	struct user	 user;
	char		 stored[PROTO_STORED_MAX + 1];	/* secret */
	char		 sealed[MFA_SEALED_MAX + 1];
	uint32_t	 last_step;
	char		 device[MFA_HASH_LITERAL];	/* or "" */
	bool		 locked;	/* the lock of the login's record */
};

typedef void	mfa_pending_cb(enum store_status st,
		    const struct mfa_pending *p, void *arg);

/*
 * Finds the live mfa_token hash: unexpired, under MFA_TOKEN_FAILURES
 * wrong codes, its user active with the same token version and an active
 * factor.  NOT_FOUND otherwise.
 */
int	mfa_token_find(struct db_pool *pool, const char *hash,
	    mfa_pending_cb *cb, void *arg);

/* A wrong code: one more failure of the token (dead at
 * MFA_TOKEN_FAILURES), recording mfa_failed. */
int	mfa_token_failed(struct db_pool *pool, const char *hash,
	    const char *remote, store_done_cb *cb, void *arg);

/*
 * A right code: spends the token with the TOTP step (only when later than
 * the last one used) or the recovery code's hash (only when unused;
 * recording recovery_code_used).  Exactly one of step > 0 and code_hash.
 * NOT_FOUND when the token is gone or the step or code was used already.
 */
int	mfa_token_spend(struct db_pool *pool, const char *hash,
	    uint32_t step, const char *code_hash, const char *remote,
	    store_done_cb *cb, void *arg);

#endif
