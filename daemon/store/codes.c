/*
 * The oauth_codes table's statements (codes.h).
 */
#include <stdlib.h>
#include <string.h>

#include "codes.h"
#include "db.h"
#include "row.h"
#include "sql.h"
#include "util.h"

/* How long a code is kept past its expiry, for a late replay to revoke
 * what the first exchange issued; and how many old codes one insert
 * prunes at most. */
#define CODES_KEEP	"interval '1 hour'"
#define CODES_PRUNE	"100"

struct pending {
	codes_redeemed_cb	*redeemed;
	store_done_cb		*done;
	void			*arg;
};

static struct pending *
pending_new(void *arg)
{
	struct pending *p = calloc(1, sizeof(*p));

	if (p != NULL)
		p->arg = arg;
	return p;
}

int
codes_insert(struct db_pool *pool, const struct codes_new *n,
    store_done_cb *cb, void *arg)
{
	char	 ver[16], auth[24], ttl[16], scopes[OIDC_SCOPES_TEXT_MAX];

	if (n->nonce != NULL && strlen(n->nonce) > OIDC_NONCE_MAX)
		return -1;
	str_printf(ver, sizeof(ver), "%u", n->token_version);
	str_printf(auth, sizeof(auth), "%lld", (long long)n->auth_time);
	str_printf(ttl, sizeof(ttl), "%d", OIDC_CODE_TTL);
	oidc_scopes_literal(n->scopes, scopes);
	const char *params[] = { n->user_id, ver, n->client_id, n->hash,
	    n->redirect_uri, scopes, n->nonce, n->code_challenge, auth,
	    n->second_factor ? "{pwd,otp}" : "{pwd}", n->session_id, ttl,
	    n->remote };
	return row_exec(pool, "codes_insert",
	    "WITH u AS (SELECT id FROM users WHERE id = $1::uuid"
	    " AND is_active AND token_version = $2::int),"
	    " k AS (SELECT client_id FROM oauth_clients WHERE client_id = $3),"
	    " x AS (DELETE FROM oauth_codes WHERE code_hash IN (SELECT"
	    " code_hash FROM oauth_codes WHERE expires_at < now() - "
	    CODES_KEEP " LIMIT " CODES_PRUNE ")),"
	    " c AS (INSERT INTO oauth_codes (code_hash, client_id, user_id,"
	    " token_version, redirect_uri, scopes, nonce, code_challenge,"
	    " auth_time, amr, session_id, expires_at)"
	    " SELECT $4::bytea, k.client_id, u.id, $2::int, $5, $6::text[],"
	    " $7, $8, to_timestamp($9::bigint), $10::text[],"
	    " (SELECT id FROM browser_sessions WHERE id = $11::uuid),"
	    " now() + $12::bigint * interval '1 second' FROM u, k"
	    " RETURNING user_id, client_id),"
	    " a AS (" AUDIT_INSERT " SELECT user_id, 'code_issued', $13,"
	    " jsonb_build_object('client', client_id) FROM c)"
	    " SELECT 1 FROM c", 13, params, true, cb, arg);
}

/*
 * Row: reused, refresh family, access jti, tokens revoked, client_id,
 * redirect_uri, scopes (comma-separated), nonce, code_challenge,
 * auth_time (Unix seconds), otp in amr, session_id, then the user's
 * USER_COLUMNS.
 */
static void
redeemed(const PGresult *res, void *arg)
{
	struct pending	 p = *(struct pending *)arg;
	struct oauth_code *c = NULL;
	enum store_status st;
	long long	 t;

	free(arg);
	if ((st = row_status(res, "codes_redeem")) == STORE_OK) {
		if (PQntuples(res) == 0)
			st = STORE_NOT_FOUND;
		else if ((c = calloc(1, sizeof(*c))) == NULL)
			st = STORE_ERROR;
	}
	if (c != NULL) {
		c->reused = row_bool(res, 0, 0);
		/* NULL: nothing recorded yet. */
		(void)row_copy(c->refresh_family, sizeof(c->refresh_family),
		    res, 0, 1);
		(void)row_copy(c->access_jti, sizeof(c->access_jti), res, 0,
		    2);
		(void)row_copy(c->session_id, sizeof(c->session_id), res, 0,
		    11);
		c->has_nonce = !PQgetisnull(res, 0, 7);
		if (row_int(res, 0, 3, 0, INT64_MAX, &c->revoked) == -1 ||
		    row_copy(c->client_id, sizeof(c->client_id), res, 0, 4) ==
		    -1 || row_copy(c->redirect_uri, sizeof(c->redirect_uri),
		    res, 0, 5) == -1 ||
		    oidc_scopes_parse(PQgetvalue(res, 0, 6), ',',
		    &c->scopes) == -1 || (c->has_nonce && row_copy(c->nonce,
		    sizeof(c->nonce), res, 0, 7) == -1) ||
		    row_copy(c->code_challenge, sizeof(c->code_challenge),
		    res, 0, 8) == -1 ||
		    row_int(res, 0, 9, 0, INT64_MAX, &t) == -1 ||
		    row_user(res, 0, 12, &c->user, "codes_redeem") == -1)
			st = STORE_ERROR;
		else {
			c->auth_time = t;
			c->second_factor = row_bool(res, 0, 10);
		}
	}
	p.redeemed(st, st == STORE_OK ? c : NULL, p.arg);
	if (c != NULL)
		explicit_bzero(c, sizeof(*c));
	free(c);
}

int
codes_redeem(struct db_pool *pool, const char *hash, const char *client_id,
    const char *remote, codes_redeemed_cb *cb, void *arg)
{
	const char	*params[] = { hash, client_id, remote };
	struct pending	*p;

	if ((p = pending_new(arg)) == NULL)
		return -1;
	p->redeemed = cb;
	/*
	 * c locks the row: a concurrent exchange waits, then sees the
	 * spend and takes the reuse branch.  r and x exclude each other.
	 */
	return row_send(pool,
	    "WITH c AS (SELECT code_hash, used_at IS NOT NULL AS spent,"
	    " expires_at > now() AS live FROM oauth_codes"
	    " WHERE code_hash = $1::bytea AND client_id = $2 FOR UPDATE),"
	    " r AS (UPDATE oauth_codes o SET used_at = now() FROM c"
	    " WHERE o.code_hash = c.code_hash AND NOT c.spent AND c.live"
	    " AND o.used_at IS NULL AND EXISTS (SELECT 1 FROM users"
	    " WHERE users.id = o.user_id AND users.is_active"
	    " AND users.token_version = o.token_version)"
	    " RETURNING o.*, false AS reused),"
	    " x AS (UPDATE oauth_codes o SET reused_at = coalesce(o.reused_at,"
	    " now()) FROM c WHERE o.code_hash = c.code_hash AND c.spent"
	    " RETURNING o.*, true AS reused),"
	    " rv AS (" TOKENS_REVOKE("family IN (SELECT refresh_family FROM x)")
	    " RETURNING id),"
	    " a AS (" AUDIT_INSERT " SELECT user_id, 'code_reused', $3,"
	    " jsonb_build_object('client', client_id, 'family',"
	    " refresh_family, 'jti', access_jti, 'revoked',"
	    " (SELECT count(*) FROM rv)) FROM x),"
	    " k AS (SELECT * FROM r UNION ALL SELECT * FROM x)"
	    " SELECT k.reused, k.refresh_family, k.access_jti,"
	    " CASE WHEN k.reused THEN (SELECT count(*) FROM rv) ELSE 0 END,"
	    " k.client_id, k.redirect_uri, array_to_string(k.scopes, ','),"
	    " k.nonce, k.code_challenge,"
	    " floor(extract(epoch FROM k.auth_time))::bigint, 'otp' = ANY (k.amr),"
	    " k.session_id, u.* FROM k, LATERAL (SELECT " USER_COLUMNS
	    " FROM users WHERE users.id = k.user_id) u", 3, params, redeemed,
	    p);
}

static void
issued(const PGresult *res, void *arg)
{
	struct pending	 p = *(struct pending *)arg;
	enum store_status st;

	free(arg);
	if ((st = row_status(res, "codes_issued")) == STORE_OK) {
		if (PQntuples(res) == 0)
			st = STORE_NOT_FOUND;
		else if (row_bool(res, 0, 0))
			st = STORE_REFUSED;
	}
	p.done(st, p.arg);
}

int
codes_issued(struct db_pool *pool, const char *hash, const char *family,
    const char *jti, store_done_cb *cb, void *arg)
{
	const char	*params[] = { hash, family, jti };
	struct pending	*p;

	if ((p = pending_new(arg)) == NULL)
		return -1;
	p->done = cb;
	return row_send(pool,
	    "WITH o AS (UPDATE oauth_codes SET refresh_family = $2::uuid,"
	    " access_jti = $3::uuid WHERE code_hash = $1::bytea"
	    " AND used_at IS NOT NULL RETURNING reused_at IS NOT NULL AS"
	    " reused),"
	    " rv AS (" TOKENS_REVOKE("family = $2::uuid"
	    " AND (SELECT reused FROM o)") " RETURNING id)"
	    " SELECT reused FROM o", 3, params, issued, p);
}

int
codes_revoke_issued(struct db_pool *pool, const char *hash, store_done_cb *cb,
    void *arg)
{
	const char	*params[] = { hash };

	return row_exec(pool, "codes_revoke_issued",
	    "WITH rv AS (" TOKENS_REVOKE("family = (SELECT refresh_family"
	    " FROM oauth_codes WHERE code_hash = $1::bytea"
	    " AND reused_at IS NOT NULL)") " RETURNING id)"
	    " SELECT count(*) FROM rv", 1, params, false, cb, arg);
}

int
codes_access_revoked(struct db_pool *pool, const char *jti,
    store_done_cb *cb, void *arg)
{
	const char	*params[] = { jti };

	return row_exec(pool, "codes_access_revoked",
	    "SELECT 1 FROM oauth_codes WHERE access_jti = $1::uuid"
	    " AND reused_at IS NOT NULL", 1, params, true, cb, arg);
}
