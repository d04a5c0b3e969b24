/*
 * The purge statements (purge.h).
 */
#include <stdio.h>

#include "log.h"
#include "purge.h"
#include "row.h"
#include "util.h"

#define BATCH	STRINGIFY(PURGE_BATCH)

/*
 * One statement per kind: pick the batch (SKIP LOCKED), delete it, count.
 * A refresh token is kept a day past its expiry so that the log of a
 * stolen token's replay stays readable a while; nothing accepts it.
 */
static const struct {
	const char	*table;
	const char	*sql;
} kinds[PURGE_NKINDS] = {
	[PURGE_REFRESH_TOKENS] = { "refresh_tokens",
	    "WITH d AS (DELETE FROM refresh_tokens WHERE id IN"
	    " (SELECT id FROM refresh_tokens"
	    " WHERE expires_at < now() - interval '1 day'"
	    " LIMIT " BATCH " FOR UPDATE SKIP LOCKED) RETURNING 1)"
	    " SELECT count(*) FROM d" },
	[PURGE_BROWSER_SESSIONS] = { "browser_sessions",
	    "WITH d AS (DELETE FROM browser_sessions WHERE id IN"
	    " (SELECT id FROM browser_sessions WHERE expires_at <= now()"
	    " OR idle_expires_at <= now()"
	    " LIMIT " BATCH " FOR UPDATE SKIP LOCKED) RETURNING 1)"
	    " SELECT count(*) FROM d" },
	[PURGE_ONE_TIME_TOKENS] = { "one_time_tokens",
	    "WITH d AS (DELETE FROM one_time_tokens WHERE token_hash IN"
	    " (SELECT token_hash FROM one_time_tokens WHERE expires_at <= now()"
	    " LIMIT " BATCH " FOR UPDATE SKIP LOCKED) RETURNING 1)"
	    " SELECT count(*) FROM d" },
	[PURGE_UPSTREAM_LOGINS] = { "upstream_logins",
	    "WITH d AS (DELETE FROM upstream_logins WHERE state_hash IN"
	    " (SELECT state_hash FROM upstream_logins WHERE expires_at <= now()"
	    " LIMIT " BATCH " FOR UPDATE SKIP LOCKED) RETURNING 1)"
	    " SELECT count(*) FROM d" },
	[PURGE_AUDIT_EVENTS] = { "audit_events",
	    "WITH d AS (DELETE FROM audit_events WHERE id IN"
	    " (SELECT id FROM audit_events"
	    " WHERE at < now() - $1::bigint * interval '1 second'"
	    " LIMIT " BATCH " FOR UPDATE SKIP LOCKED) RETURNING 1)"
	    " SELECT count(*) FROM d" },
};

const char *
purge_table(enum purge_kind k)
{
	return k < PURGE_NKINDS ? kinds[k].table : "?";
}

struct db_req *
purge_send(struct db_pool *pool, enum purge_kind k, int64_t audit_keep,
    db_result_cb cb, void *arg)
{
	char		 keep[24];
	const char	*params[] = { keep };

	if (k >= PURGE_NKINDS)
		return NULL;
	if (k != PURGE_AUDIT_EVENTS)
		return db_query(pool, kinds[k].sql, 0, NULL, cb, arg);
	if (audit_keep <= 0)
		return NULL;
	str_printf(keep, sizeof(keep), "%lld", (long long)audit_keep);
	return db_query(pool, kinds[k].sql, 1, params, cb, arg);
}

int64_t
purge_deleted(const PGresult *res, enum purge_kind k)
{
	long long n;

	if (row_status(res, k == PURGE_AUDIT_EVENTS ? "purge_audit" :
	    "purge") != STORE_OK || PQntuples(res) != 1 ||
	    row_int(res, 0, 0, 0, PURGE_BATCH, &n) == -1)
		return -1;
	return n;
}
