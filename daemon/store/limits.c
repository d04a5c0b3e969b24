/*
 * The address_limits table's statements (limits.h).
 */
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "limits.h"
#include "row.h"
#include "util.h"

#define LIMITS_LIMIT_MAX	1000000
#define LIMITS_WINDOW_MAX	(366LL * 86400)

struct charge {
	limits_charged_cb	*cb;
	void			*arg;
};

static void
charged(const PGresult *res, void *arg)
{
	struct charge	 c = *(struct charge *)arg;
	enum store_status st;
	long long	 retry = 0;
	bool		 passed = false;

	free(arg);
	if ((st = row_status(res, "limits_charge")) == STORE_OK) {
		if (PQntuples(res) != 1 ||
		    row_int(res, 0, 1, INT64_MIN, INT64_MAX, &retry) == -1)
			st = STORE_ERROR;
		else
			passed = row_bool(res, 0, 0);
	}
	if (retry < 1)
		retry = 1;
	c.cb(st, passed, retry, c.arg);
}

/*
 * One statement: the purge of a few expired rows (oldest first, through
 * the index; rows another charge holds are skipped, and its own row is
 * left to the upsert), then the upsert.  Every SET expression reads the
 * row as it was: an expired window starts again at 1; a live one counts
 * up to limit + 1, limit + 1 meaning "refused at least once".  A window
 * never ends later than one started now would (window shortened by a
 * reload).
 */
int
limits_charge(struct db_pool *pool, const char *scope, const char *key,
    unsigned int limit, int64_t window, limits_charged_cb *cb, void *arg)
{
	char		 lim[16], win[24];
	struct charge	*c;

	if (strlen(key) == 0 || strlen(key) > LIMITS_KEY_MAX || limit == 0 ||
	    limit > LIMITS_LIMIT_MAX || window < 1 ||
	    window > LIMITS_WINDOW_MAX)
		return -1;
	str_printf(lim, sizeof(lim), "%u", limit);
	str_printf(win, sizeof(win), "%lld", (long long)window);
	const char *params[] = { scope, key, lim, win };
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -1;
	c->cb = cb;
	c->arg = arg;
	return row_send(pool,
	    "WITH p AS (DELETE FROM address_limits WHERE (scope, addr) IN"
	    " (SELECT scope, addr FROM address_limits WHERE expires_at <="
	    " now() AND NOT (scope = $1 AND addr = $2) ORDER BY expires_at"
	    " LIMIT " STRINGIFY(LIMITS_PURGE_BATCH) " FOR UPDATE SKIP LOCKED))"
	    " INSERT INTO address_limits AS l (scope, addr, expires_at, count)"
	    " VALUES ($1, $2, now() + $4::bigint * interval '1 second', 1)"
	    " ON CONFLICT (scope, addr) DO UPDATE SET"
	    " count = CASE WHEN l.expires_at <= now() THEN 1"
	    " ELSE least(l.count + 1, $3::int + 1) END,"
	    " expires_at = CASE WHEN l.expires_at <= now()"
	    " THEN excluded.expires_at"
	    " ELSE least(l.expires_at, excluded.expires_at) END"
	    " RETURNING count <= $3::int,"
	    " ceil(extract(epoch FROM expires_at - now()))::bigint",
	    4, params, charged, c);
}

int
limits_forgive(struct db_pool *pool, const char *scope, const char *key,
    unsigned int limit, store_done_cb *cb, void *arg)
{
	char	 lim[16];

	if (strlen(key) == 0 || strlen(key) > LIMITS_KEY_MAX || limit == 0 ||
	    limit > LIMITS_LIMIT_MAX)
		return -1;
	str_printf(lim, sizeof(lim), "%u", limit);
	const char *params[] = { scope, key, lim };
	return row_exec(pool, "limits_forgive",
	    "UPDATE address_limits SET count = least(count, $3::int) - 1"
	    " WHERE scope = $1 AND addr = $2 AND expires_at > now()"
	    " AND count > 0 RETURNING count", 3, params, true, cb, arg);
}
