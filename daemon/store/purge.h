/*
 * Purging what has expired, in batches: rows that no request can use any
 * more (refresh tokens a day past their expiry, browser sessions past
 * either of their expiries, e-mail links past theirs) and, when
 * audit_retention is set, audit events older than it.
 *
 * A batch deletes at most PURGE_BATCH rows, picked with FOR UPDATE SKIP
 * LOCKED: hosts that purge at the same moment share the rows instead of
 * waiting for one another, and no statement holds many locks for long.
 * Each table's expiry column is indexed (migrations 0001, 0008, 0012).
 */
#ifndef WARDEN_STORE_PURGE_H
#define WARDEN_STORE_PURGE_H

#include <stdint.h>

#include <libpq-fe.h>

#include "db.h"

#define PURGE_BATCH	1000	/* rows a statement deletes at most */

enum purge_kind {
	PURGE_REFRESH_TOKENS = 0,
	PURGE_BROWSER_SESSIONS,
	PURGE_ONE_TIME_TOKENS,
	PURGE_UPSTREAM_LOGINS,		/* sign-ins never back */
	PURGE_AUDIT_EVENTS,		/* only with a retention */
	PURGE_NKINDS
};

/* The table a kind purges: "refresh_tokens", ... */
const char	*purge_table(enum purge_kind k);

/*
 * Sends the batch of kind k on pool; audit_keep (seconds, > 0) is the
 * retention of PURGE_AUDIT_EVENTS and ignored by the others.  cb gets the
 * result, which purge_deleted() reads.  NULL when nothing was sent.
 */
struct db_req	*purge_send(struct db_pool *pool, enum purge_kind k,
		    int64_t audit_keep, db_result_cb cb, void *arg);

/* The rows a batch deleted, or -1 (logged) when it failed or res is NULL. */
int64_t		 purge_deleted(const PGresult *res, enum purge_kind k);

#endif
