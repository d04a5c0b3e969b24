/*
 * Browser sessions (table browser_sessions, migration 0008): the cookie of
 * the login portal.  The database keeps only the bytea literal of the
 * cookie's SHA-256 (secret_token.h).  A session carries the user's
 * token_version of its login: anything that bumps the version (logout-all,
 * a password change or reset, disabling) ends it, as it ends refresh
 * tokens.  See store.h for the statuses and the calling rules.
 */
#ifndef WARDEN_STORE_SESSIONS_H
#define WARDEN_STORE_SESSIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "proto.h"
#include "store.h"
#include "user_row.h"

struct db_pool;

#define SESSIONS_AGENT_MAX	256	/* bytes of User-Agent kept */
#define SESSIONS_ADDR_MAX	64
#define SESSIONS_TIME_LEN	20	/* "2026-12-04T12:00:00Z" */

/* A login through the portal. */
struct sessions_new {
	const char	*user_id;
	const char	*hash;		/* the cookie's hash */
	uint32_t	 token_version;	/* the user's, as the login read it */
	int64_t		 idle;		/* session_idle, seconds */
	int64_t		 max;		/* session_max, seconds */
	bool		 second_factor;	/* amr: pwd, and otp */
	const char	*remote;
	const char	*agent;		/* truncated to SESSIONS_AGENT_MAX */
};

/* id: the new session's id when st is STORE_OK. */
typedef store_id_cb	sessions_made_cb;

/*
 * Starts a session for n->user_id while the user is active and still at
 * n->token_version (a password change that commits meanwhile wins), drops
 * the user's sessions that have expired, and records 'session_started'.
 * NOT_FOUND when the user is gone, disabled or changed.
 */
int	sessions_create(struct db_pool *pool, const struct sessions_new *n,
	    sessions_made_cb *cb, void *arg);

/* A live session and its user, as a check found them. */
struct sessions_found {
	char		 id[PROTO_UUID_LEN + 1];
	int64_t		 auth_time;	/* the login, Unix seconds */
	bool		 second_factor;
	struct user	 user;
};

/* s: when st is STORE_OK, valid during the call. */
typedef void	sessions_found_cb(enum store_status st,
		    const struct sessions_found *s, void *arg);

/*
 * Finds the live session of cookie hash (not revoked, within both
 * expiries, its user active and at the session's token version) and
 * pushes its idle expiry to idle seconds from now (never past its
 * absolute one).  NOT_FOUND for any other cookie.
 */
int	sessions_touch(struct db_pool *pool, const char *hash, int64_t idle,
	    sessions_found_cb *cb, void *arg);

/*
 * Ends the session of cookie hash (logout) and records 'session_ended'.
 * NOT_FOUND when there was no live one (logging out twice is no error
 * to the caller, which may ignore it).
 */
int	sessions_end(struct db_pool *pool, const char *hash,
	    const char *remote, store_done_cb *cb, void *arg);

/*
 * Ends one of user_id's sessions by id: a browser session, or a
 * refresh-token family (every token of it), and records 'session_ended'.
 * NOT_FOUND when user_id has no live session or family of that id.
 */
int	sessions_end_one(struct db_pool *pool, const char *user_id,
	    const char *id, const char *remote, store_done_cb *cb, void *arg);

/* A session as GET /users/me/sessions lists it. */
struct sessions_item {
	char		 id[PROTO_UUID_LEN + 1];
	bool		 browser;	/* else a refresh-token family */
	char		 created[SESSIONS_TIME_LEN + 1];
	char		 last_seen[SESSIONS_TIME_LEN + 1];
	char		 remote[SESSIONS_ADDR_MAX + 1];	/* "" unknown */
	char		 agent[SESSIONS_AGENT_MAX + 1];	/* "" unknown */
	bool		 current;	/* the caller's own */
};

#define SESSIONS_LIST_MAX	64	/* items in one answer, newest first */

/* items: n of them when st is STORE_OK, valid during the call. */
typedef void	sessions_listed_cb(enum store_status st,
		    const struct sessions_item *items, size_t n, void *arg);

/*
 * Lists user_id's live browser sessions and refresh-token families, most
 * recently used first, at most SESSIONS_LIST_MAX.  current_hash (or
 * NULL) is the caller's cookie, whose session is marked current.
 */
int	sessions_list(struct db_pool *pool, const char *user_id,
	    const char *current_hash, sessions_listed_cb *cb, void *arg);

#endif
