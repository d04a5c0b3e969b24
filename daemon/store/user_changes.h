/*
 * What forward-auth's revocations (api/revocations.h) read: a user's
 * current state as far as access tokens are concerned, and the users that
 * changed lately (user_changes, kept by the trigger of
 * migrations/0002_user_changes.sql).  See store.h for the statuses and
 * the calling rules.
 */
#ifndef WARDEN_STORE_USER_CHANGES_H
#define WARDEN_STORE_USER_CHANGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"
#include "store.h"

struct db_pool;

/* "a,b,c": every role of a user, comma-separated. */
#define USER_STATE_ROLES_MAX	(PROTO_ROLES_MAX * (PROTO_ROLE_MAX + 1))

struct user_state {
	char		id[PROTO_UUID_LEN + 1];
	bool		exists;		/* false: deleted (or never was) */
	bool		is_active;
	uint32_t	token_version;
	char		roles[USER_STATE_ROLES_MAX];
	int64_t		changed_at;	/* Unix seconds of the last change
					 * (user_changes_since() only) */
};

/* rows: n of them when st is STORE_OK; valid during the call. */
typedef void	user_changes_cb(enum store_status st,
		    const struct user_state *rows, size_t n, void *arg);

/* The state of user id (a uuid): one row, exists false when there is no
 * such user. */
int	user_changes_get(struct db_pool *pool, const char *id,
	    user_changes_cb *cb, void *arg);

/* The state of every user that changed (or was deleted) in the last
 * seconds, by the database's clock. */
int	user_changes_since(struct db_pool *pool, int64_t seconds,
	    user_changes_cb *cb, void *arg);

#endif
