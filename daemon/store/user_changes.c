/*
 * The statements of user_changes.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "fields.h"
#include "log.h"
#include "row.h"
#include "user_changes.h"

/* id, exists, is_active, token_version, roles, changed_at. */
#define STATE_COLUMNS(id, at)						\
	id "::text, u.id IS NOT NULL, coalesce(u.is_active, false),"	\
	" coalesce(u.token_version, 0),"				\
	" coalesce(array_to_string(u.roles, ','), ''), " at

struct call {
	user_changes_cb	*cb;
	void		*arg;
	const char	*what;
};

static int
read_row(const PGresult *res, int i, struct user_state *s)
{
	long long v, at;

	memset(s, 0, sizeof(*s));
	if (row_copy(s->id, sizeof(s->id), res, i, 0) == -1 ||
	    !field_is_uuid(s->id) ||
	    row_int(res, i, 3, 0, UINT32_MAX, &v) == -1 ||
	    row_copy(s->roles, sizeof(s->roles), res, i, 4) == -1 ||
	    row_int(res, i, 5, 0, INT64_MAX, &at) == -1)
		return -1;
	s->exists = row_bool(res, i, 1);
	s->is_active = row_bool(res, i, 2);
	s->token_version = (uint32_t)v;
	s->changed_at = at;
	return 0;
}

static void
answered(const PGresult *res, void *arg)
{
	struct call c = *(struct call *)arg;
	struct user_state *rows = NULL;
	enum store_status st;
	int n = 0;

	free(arg);
	if ((st = row_status(res, c.what)) == STORE_OK &&
	    (n = PQntuples(res)) > 0) {
		if ((rows = calloc((size_t)n, sizeof(*rows))) == NULL)
			st = STORE_ERROR;
		for (int i = 0; st == STORE_OK && i < n; i++) {
			if (read_row(res, i, &rows[i]) == -1) {
				log_error("%s: a row does not fit",
				    c.what);
				st = STORE_ERROR;
			}
		}
	}
	c.cb(st, st == STORE_OK ? rows : NULL, st == STORE_OK ? (size_t)n : 0,
	    c.arg);
	free(rows);
}

static int
submit(struct db_pool *pool, const char *what, const char *sql,
    const char *param, user_changes_cb *cb, void *arg)
{
	struct call *c;
	const char *params[] = { param };

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -1;
	c->cb = cb;
	c->arg = arg;
	c->what = what;
	if (db_query(pool, sql, 1, params, answered, c) == NULL) {
		free(c);
		return -1;
	}
	return 0;
}

int
user_changes_get(struct db_pool *pool, const char *id, user_changes_cb *cb,
    void *arg)
{
	if (!field_is_uuid(id))
		return -1;
	return submit(pool, "user_changes_get",
	    "SELECT " STATE_COLUMNS("c.id", "0")
	    " FROM (SELECT $1::uuid AS id) c LEFT JOIN users u ON u.id = c.id",
	    id, cb, arg);
}

int
user_changes_since(struct db_pool *pool, int64_t seconds,
    user_changes_cb *cb, void *arg)
{
	char	 s[24];

	if (seconds < 0)
		return -1;
	(void)snprintf(s, sizeof(s), "%lld", (long long)seconds);
	return submit(pool, "user_changes_since",
	    "SELECT " STATE_COLUMNS("c.user_id",
	    "floor(extract(epoch FROM c.changed_at))::bigint")
	    " FROM user_changes c LEFT JOIN users u ON u.id = c.user_id"
	    " WHERE c.changed_at > now() - make_interval(secs => $1::bigint)",
	    s, cb, arg);
}
