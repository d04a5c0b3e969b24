/*
 * The oauth_consents table's statements (consents.h).
 */
#include <stdlib.h>

#include "consents.h"
#include "db.h"
#include "row.h"
#include "sql.h"

struct check {
	consents_found_cb	*cb;
	void			*arg;
};

static void
checked(const PGresult *res, void *arg)
{
	struct check	 c = *(struct check *)arg;
	enum store_status st;

	free(arg);
	if ((st = row_status(res, "consents_check")) == STORE_OK &&
	    PQntuples(res) != 1)
		st = STORE_ERROR;
	c.cb(st, st == STORE_OK && row_bool(res, 0, 0), c.arg);
}

int
consents_check(struct db_pool *pool, const char *user_id,
    const char *client_id, unsigned scopes, consents_found_cb *cb, void *arg)
{
	char		 want[OIDC_SCOPES_TEXT_MAX];
	struct check	*c;

	oidc_scopes_literal(scopes, want);
	const char *params[] = { user_id, client_id, want };
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -1;
	c->cb = cb;
	c->arg = arg;
	if (db_query(pool,
	    "SELECT coalesce((SELECT $3::text[] <@ scopes FROM oauth_consents"
	    " WHERE user_id = $1::uuid AND client_id = $2), false)", 3, params,
	    checked, c) == NULL) {
		free(c);
		return -1;
	}
	return 0;
}

int
consents_grant(struct db_pool *pool, const char *user_id,
    const char *client_id, unsigned scopes, const char *remote,
    store_done_cb *cb, void *arg)
{
	char	 add[OIDC_SCOPES_TEXT_MAX];

	oidc_scopes_literal(scopes, add);
	const char *params[] = { user_id, client_id, add, remote };
	return row_exec(pool, "consents_grant",
	    "WITH g AS (INSERT INTO oauth_consents (user_id, client_id, scopes)"
	    " SELECT u.id, k.client_id, $3::text[] FROM users u, oauth_clients k"
	    " WHERE u.id = $1::uuid AND k.client_id = $2"
	    " ON CONFLICT (user_id, client_id) DO UPDATE SET scopes ="
	    " (SELECT array_agg(DISTINCT s ORDER BY s) FROM unnest("
	    "oauth_consents.scopes || excluded.scopes) s), granted_at = now()"
	    " RETURNING user_id, client_id),"
	    " a AS (" AUDIT_INSERT " SELECT user_id, 'consent_granted', $4,"
	    " jsonb_build_object('client', client_id, 'scopes', $3::text[])"
	    " FROM g)"
	    " SELECT 1 FROM g", 4, params, true, cb, arg);
}
