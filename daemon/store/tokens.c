/*
 * The refresh_tokens table's statements.
 */
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "row.h"
#include "sql.h"
#include "tokens.h"
#include "util.h"

/* True when the family of token alias has a revoked member: the family is
 * then revoked, whatever the state of alias itself. */
#define FAMILY_REVOKED(alias)						\
	"EXISTS (SELECT 1 FROM refresh_tokens f"			\
	" WHERE f.family = " alias ".family"				\
	" AND f.revoked_at IS NOT NULL)"

/* tokens_find on its way. */
struct find {
	tokens_found_cb	*cb;
	void		*arg;
};

int
tokens_issue(struct db_pool *pool, const struct tokens_login *l,
    store_done_cb *cb, void *arg)
{
	char	 ttl[24];

	str_printf(ttl, sizeof(ttl), "%lld", (long long)l->ttl);
	const char *params[] = { l->user_id, l->token_id, l->family, l->hash,
	    ttl, l->rehash, l->stored, l->remote };
	return row_exec(pool, "tokens_issue",
	    "WITH u AS (UPDATE users SET failed_logins = 0, locked_until = NULL,"
	    " password_hash = coalesce($6, password_hash)"
	    " WHERE id = $1 AND password_hash = $7 AND is_active RETURNING id),"
	    " t AS (INSERT INTO refresh_tokens (id, user_id, family, token_hash,"
	    " expires_at) SELECT $2, id, $3, $4::bytea,"
	    " now() + $5::bigint * interval '1 second' FROM u RETURNING id),"
	    " a AS (" AUDIT_INSERT " SELECT id, 'login_ok', $8,"
	    " jsonb_build_object('rehashed', $6::text IS NOT NULL) FROM u),"
	    " p AS (" AUDIT_UPGRADE("$6", "$7", "$8") ")"
	    " SELECT id FROM t", 8, params, true, cb, arg);
}

/*
 * Row: id, family, used, used within the grace window, family revoked,
 * expired, then the user's USER_COLUMNS, then client_id, scopes
 * (comma-separated), auth_time, otp in amr, expires_at, created_at.
 */
static void
found(const PGresult *res, void *arg)
{
	struct find f = *(struct find *)arg;
	struct tokens_presented t;
	enum store_status st;
	long long secs = 0, exp = 0, iat = 0;

	free(arg);
	memset(&t, 0, sizeof(t));
	if ((st = row_status(res, "tokens_find")) == STORE_OK) {
		if (PQntuples(res) == 0)
			st = STORE_NOT_FOUND;
		else if (row_copy(t.id, sizeof(t.id), res, 0, 0) == -1 ||
		    row_copy(t.family, sizeof(t.family), res, 0, 1) == -1 ||
		    row_user(res, 0, 6, &t.user, "tokens_find") == -1)
			st = STORE_ERROR;
		else if (!PQgetisnull(res, 0, 6 + USER_NCOLUMNS) &&
		    (row_copy(t.client_id, sizeof(t.client_id), res, 0,
		    6 + USER_NCOLUMNS) == -1 ||
		    oidc_scopes_parse(PQgetvalue(res, 0, 7 + USER_NCOLUMNS),
		    ',', &t.scopes) == -1 ||
		    row_int(res, 0, 8 + USER_NCOLUMNS, 0, INT64_MAX,
		    &secs) == -1))
			st = STORE_ERROR;
		else if (row_int(res, 0, 10 + USER_NCOLUMNS, 0, INT64_MAX,
		    &exp) == -1 || row_int(res, 0, 11 + USER_NCOLUMNS, 0,
		    INT64_MAX, &iat) == -1)
			st = STORE_ERROR;
		else {
			if (t.client_id[0] != '\0') {
				t.auth_time = secs;
				t.second_factor = row_bool(res, 0,
				    9 + USER_NCOLUMNS);
			}
			t.expires_at = exp;
			t.issued_at = iat;
			t.used = row_bool(res, 0, 2);
			t.in_grace = row_bool(res, 0, 3);
			t.revoked = row_bool(res, 0, 4);
			t.expired = row_bool(res, 0, 5);
		}
	}
	f.cb(st, st == STORE_OK ? &t : NULL, f.arg);
}

int
tokens_find(struct db_pool *pool, const char *hash, int64_t grace,
    tokens_found_cb *cb, void *arg)
{
	char	 secs[24];
	struct find *f;

	str_printf(secs, sizeof(secs), "%lld", (long long)grace);
	const char *params[] = { hash, secs };
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return -1;
	f->cb = cb;
	f->arg = arg;
	if (db_query(pool,
	    "SELECT t.id, t.family, t.used_at IS NOT NULL,"
	    " coalesce(t.used_at > now() - $2::bigint * interval '1 second',"
	    " false), " FAMILY_REVOKED("t") ","
	    " t.expires_at <= now(), u.*, t.client_id,"
	    " array_to_string(t.scopes, ','),"
	    " floor(extract(epoch FROM t.auth_time))::bigint,"
	    " coalesce('otp' = ANY (t.amr), false),"
	    " floor(extract(epoch FROM t.expires_at))::bigint,"
	    " floor(extract(epoch FROM t.created_at))::bigint"
	    " FROM refresh_tokens t, LATERAL (SELECT " USER_COLUMNS
	    " FROM users WHERE users.id = t.user_id) u"
	    " WHERE t.token_hash = $1::bytea",
	    2, params, found, f) == NULL) {
		free(f);
		return -1;
	}
	return 0;
}

int
tokens_rotate(struct db_pool *pool, const char *old_id, const char *new_id,
    const char *new_hash, int64_t ttl, store_done_cb *cb, void *arg)
{
	char	 secs[24];

	str_printf(secs, sizeof(secs), "%lld", (long long)ttl);
	const char *params[] = { old_id, new_id, new_hash, secs };
	return row_exec(pool, "tokens_rotate",
	    "WITH spent AS (UPDATE refresh_tokens SET used_at = now(),"
	    " replaced_by = $2 WHERE id = $1 AND used_at IS NULL"
	    " AND revoked_at IS NULL AND expires_at > now()"
	    " AND NOT " FAMILY_REVOKED("refresh_tokens")
	    " RETURNING user_id, family, client_id, scopes, auth_time, amr)"
	    " INSERT INTO refresh_tokens (id, user_id, family, token_hash,"
	    " expires_at, client_id, scopes, auth_time, amr)"
	    " SELECT $2, user_id, family, $3::bytea,"
	    " now() + $4::bigint * interval '1 second', client_id, scopes,"
	    " auth_time, amr FROM spent"
	    " RETURNING id", 4, params, true, cb, arg);
}

int
tokens_revoke_reused(struct db_pool *pool, const char *family,
    const char *user_id, const char *remote, store_done_cb *cb, void *arg)
{
	const char *params[] = { family, user_id, remote };

	return row_exec(pool, "tokens_revoke_reused",
	    "WITH rv AS (" TOKENS_REVOKE("family = $1") " RETURNING id) "
	    AUDIT_INSERT " SELECT $2, 'refresh_reuse', $3,"
	    " jsonb_build_object('family', $1::text,"
	    " 'revoked', (SELECT count(*) FROM rv))"
	    " RETURNING id", 3, params, false, cb, arg);
}

int
tokens_revoke(struct db_pool *pool, const char *hash, const char *remote,
    store_done_cb *cb, void *arg)
{
	const char *params[] = { hash, remote };

	return row_exec(pool, "tokens_revoke",
	    "WITH rv AS (" TOKENS_REVOKE("family = (SELECT family"
	    " FROM refresh_tokens WHERE token_hash = $1::bytea"
	    " AND client_id IS NULL)")
	    " RETURNING user_id) "
	    AUDIT_INSERT " SELECT user_id, 'revoked', $2,"
	    " jsonb_build_object('tokens', count(*)) FROM rv GROUP BY user_id"
	    " RETURNING id", 2, params, false, cb, arg);
}

int
tokens_oidc_login(struct db_pool *pool, const struct tokens_oidc *o,
    store_done_cb *cb, void *arg)
{
	char	 ttl[24], ver[16], auth[24], scopes[OIDC_SCOPES_TEXT_MAX];

	str_printf(ttl, sizeof(ttl), "%lld", (long long)o->ttl);
	str_printf(ver, sizeof(ver), "%u", o->token_version);
	str_printf(auth, sizeof(auth), "%lld", (long long)o->auth_time);
	oidc_scopes_literal(o->scopes, scopes);
	const char *params[] = { o->user_id, ver, o->token_id, o->family,
	    o->hash, ttl, o->client_id, scopes, auth,
	    o->second_factor ? "{pwd,otp}" : "{pwd}", o->remote };
	return row_exec(pool, "tokens_oidc_login",
	    "WITH u AS (SELECT id FROM users WHERE id = $1::uuid"
	    " AND is_active AND token_version = $2::int),"
	    " t AS (INSERT INTO refresh_tokens (id, user_id, family,"
	    " token_hash, expires_at, client_id, scopes, auth_time, amr)"
	    " SELECT $3::uuid, id, $4::uuid, $5::bytea,"
	    " now() + $6::bigint * interval '1 second', $7, $8::text[],"
	    " to_timestamp($9::bigint), $10::text[] FROM u"
	    " WHERE $4::uuid IS NOT NULL),"
	    " a AS (" AUDIT_INSERT " SELECT id, 'oidc_login', $11,"
	    " jsonb_build_object('client', $7::text, 'scopes', $8::text[],"
	    " 'refresh', $4::uuid IS NOT NULL) FROM u)"
	    " SELECT id FROM u", 11, params, true, cb, arg);
}

int
tokens_revoke_client(struct db_pool *pool, const char *hash,
    const char *client_id, const char *remote, store_done_cb *cb, void *arg)
{
	const char *params[] = { hash, client_id, remote };

	return row_exec(pool, "tokens_revoke_client",
	    "WITH rv AS (" TOKENS_REVOKE("family = (SELECT family"
	    " FROM refresh_tokens WHERE token_hash = $1::bytea"
	    " AND client_id = $2)") " RETURNING user_id) "
	    AUDIT_INSERT " SELECT user_id, 'revoked', $3,"
	    " jsonb_build_object('tokens', count(*), 'client', $2::text)"
	    " FROM rv GROUP BY user_id RETURNING id", 3, params, false, cb,
	    arg);
}
